"""End to end: book, dispatch, push seen by the sandbox, accept, arrive, complete, confirm, rate low,
rework dispatched -- through the HTTP API, the outbox, a forking RQ worker and WeChat's wire format."""
from tests.workflow import book, task_action


def test_book_to_rework(client, zhangsan, login, run_jobs, sandbox):
    for _ in range(2):  # the owner accepted the progress notice twice: two pushes may reach them
        client.post("/api/v1/me/subscriptions", headers=zhangsan.headers, json={"accepted": ["tpl-order-status"]})
    order = book(client, zhangsan.headers, "更换灯具", quantity=2, description="客厅吸顶灯")
    assert order["quote_fen"] == 6000
    run_jobs()

    assigned = sandbox.messages(template_id="tpl-order-assigned")
    assert len(assigned) == 1
    worker_openid = assigned[0]["touser"]
    worker = login({"oa-demo-eng-1": "demo-eng-1", "oa-demo-eng-2": "demo-eng-2"}[worker_openid])
    assert assigned[0]["data"]["character_string1"]["value"] == order["number"]

    task_action(client, worker, order["id"], "accept", {"appointment_at": "2030-06-01T10:00:00+08:00"})
    task_action(client, worker, order["id"], "arrive")
    bulb = next(m["id"] for m in client.get("/api/v1/staff/catalog/materials", headers=worker).get_json()
                if m["name"] == "LED 灯泡")
    done = task_action(client, worker, order["id"], "complete",
                       {"notes": "换了两个灯", "materials": [{"material_id": bulb, "quantity": 2}]})
    assert done["final_fen"] == 6000 + 3000

    confirmed = client.post(f"/api/v1/work-orders/{order['id']}/confirm", headers=zhangsan.headers,
                            json={"accept_final_fen": 9000}).get_json()
    assert confirmed["status"] == "confirmed"
    rated = client.post(f"/api/v1/work-orders/{order['id']}/rating", headers=zhangsan.headers,
                        json={"score": 1, "comment": "灯还是闪"}).get_json()
    assert rated["status"] == "submitted" and rated["rework_count"] == 1
    run_jobs()

    after = client.get(f"/api/v1/work-orders/{order['id']}", headers=zhangsan.headers).get_json()
    assert after["status"] == "dispatched" and after["assignee"] is not None
    assert len(sandbox.messages(template_id="tpl-order-assigned")) == 2  # the rework went out too
    owner_updates = [m["data"]["phrase3"]["value"] for m in sandbox.messages(template_id="tpl-order-status")]
    assert owner_updates == ["已派单", "已接单"]  # later updates were recorded as skipped: no credit left
    audit = client.get("/api/v1/staff/messages?kind=subscribe&status=skipped", headers=login("demo-manager"))
    assert audit.get_json()["total"] >= 2
    statuses = [e["action"] for e in after["timeline"]]
    assert statuses[:7] == ["created", "dispatch", "accept", "arrive", "complete", "confirm", "rating"]
    assert "rework" in statuses and statuses[-1] == "dispatch"
