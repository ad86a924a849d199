"""Owner side of work orders: booking, reporting, reading, cancelling, urging, confirming, rating."""
import pytest

from server.extensions import db
from server.workorders.models import WorkOrder
from tests.workflow import book, first_house, item_id, report, task_action, work_through


def test_catalog_lists_bookable_items_in_fen(client, demo):
    res = client.get("/api/v1/catalog?community=demo")
    assert res.status_code == 200
    body = res.get_json()
    tap = next(i for i in body["items"] if i["name"] == "更换水龙头")
    assert {k: tap[k] for k in ("department", "price_fen", "unit")} == {
        "department": "engineering", "price_fen": 5000, "unit": "个"}
    assert set(tap) >= {"id", "name", "department", "price_fen", "unit"}
    assert "家用电器维修" in body["out_of_scope"]
    assert {c["key"] for c in body["repair_categories"]} >= {"water", "electricity", "public_cleaning"}
    assert client.get("/api/v1/catalog?community=nowhere").status_code == 404
    assert client.get("/api/v1/catalog").status_code == 422


def test_booking_is_priced_by_the_server(client, zhangsan):
    order = book(client, zhangsan.headers, quantity=3)
    assert order["number"].startswith("FW") and len(order["number"]) == len("FW20261122-0007")
    assert order["quote_fen"] == 15000 and order["status"] == "submitted" and order["status_label"] == "待派单"
    assert order["deadlines"]["confirm_due_at"] and order["deadlines"]["complete_due_at"] is None
    assert order["timeline"][0]["action"] == "created"
    res = client.post("/api/v1/work-orders", headers=zhangsan.headers, json={
        "kind": "service", "house_id": first_house(client, zhangsan.headers),
        "service_item_id": item_id(client), "price_fen": 1})
    assert res.status_code == 422 and res.get_json()["error"]["fields"] == {"price_fen": ["不支持的字段"]}


def test_numbers_count_up_per_kind_and_day(client, zhangsan):
    a, b = book(client, zhangsan.headers), book(client, zhangsan.headers)
    r = report(client, zhangsan.headers)
    assert int(b["number"][-4:]) == int(a["number"][-4:]) + 1
    assert r["number"].startswith("BX") and r["number"].endswith("-0001")


def test_repair_goes_to_the_department_of_its_category(client, zhangsan):
    water = report(client, zhangsan.headers, "water")
    cleaning = report(client, zhangsan.headers, "public_cleaning", "楼道有垃圾")
    assert water["department"] == "engineering" and water["deadlines"]["complete_due_at"]
    assert cleaning["department"] == "cleaning" and cleaning["title"] == "公共保洁报修"


def test_urgent_repair_alerts_the_supervisor(app, client, zhangsan):
    order = report(client, zhangsan.headers, "water", "水管爆裂", urgent=True)
    assert order["urgent"] is True
    with app.app_context():
        from server.wechat.models import Message

        alerts = db.session.query(Message).filter_by(template_key="order_alert").all()
        assert [m.touser for m in alerts] == ["oa-demo-eng-lead"]
        assert alerts[0].payload["thing2"]["value"] == "紧急报修，请关注"
    # Greening cannot be urgent: the flag is ignored rather than alarming anyone.
    assert report(client, zhangsan.headers, "greening", "草坪枯黄", urgent=True)["urgent"] is False


@pytest.mark.parametrize("body,fields", [
    ({"kind": "repair"}, {"house_id", "category", "description"}),
    ({"kind": "service", "house_id": 1}, {"service_item_id"}),
    ({"kind": "complaint", "house_id": 1}, {"category", "description"}),
    ({"kind": "complaint", "house_id": 1, "category": "water", "description": "x"}, {"category"}),
    ({"kind": "meeting", "house_id": 1}, {"kind"}),
    ({"kind": "service", "house_id": 1, "service_item_id": 1, "quantity": 0}, {"quantity"}),
    ({"kind": "service", "house_id": 1, "service_item_id": 1, "quantity": "2"}, {"quantity"}),
    ({"kind": "repair", "house_id": 1, "category": "roof", "description": "x"}, {"category"}),
    ({"kind": "repair", "house_id": 1, "category": "water", "description": "x" * 1001}, {"description"}),
    ({"kind": "repair", "house_id": 1, "category": "water", "description": "x", "photos": [1] * 10}, {"photos"}),
    ({"kind": "repair", "house_id": 1, "category": "water", "description": "x", "preferred_time": "明天"},
     {"preferred_time"}),
])
def test_bad_input(client, zhangsan, body, fields):
    res = client.post("/api/v1/work-orders", headers=zhangsan.headers, json=body)
    assert res.status_code == 422
    assert set(res.get_json()["error"]["fields"]) == fields


def test_unknown_or_foreign_house_and_item(app, client, zhangsan, login):
    res = client.post("/api/v1/work-orders", headers=zhangsan.headers, json={
        "kind": "repair", "house_id": 2, "category": "water", "description": "漏水"})  # 1-1-102: not his
    assert res.status_code == 422 and res.get_json()["error"]["fields"] == {"house_id": ["不是您已绑定的房屋"]}
    res = client.post("/api/v1/work-orders", headers=zhangsan.headers, json={
        "kind": "service", "house_id": first_house(client, zhangsan.headers), "service_item_id": 9999})
    assert res.get_json()["error"]["fields"] == {"service_item_id": ["服务项目不存在或已下架"]}
    with app.app_context():
        assert db.session.query(WorkOrder).count() == 0  # nothing half-written


def test_list_and_read_only_my_houses(client, zhangsan, login):
    order = book(client, zhangsan.headers)
    report(client, zhangsan.headers)
    page = client.get("/api/v1/work-orders?kind=service", headers=zhangsan.headers).get_json()
    assert page["total"] == 1 and page["items"][0]["number"] == order["number"]
    assert client.get("/api/v1/work-orders?per_page=1&page=2", headers=zhangsan.headers).get_json()["total"] == 2
    other = login("owner-other")
    assert client.get("/api/v1/work-orders", headers=other).get_json()["total"] == 0
    assert client.get(f"/api/v1/work-orders/{order['id']}", headers=other).status_code == 404
    for action, body in [("cancel", {}), ("urge", None), ("confirm", {}), ("reject-completion", {"reason": "x"}),
                         ("rating", {"score": 1})]:
        res = client.post(f"/api/v1/work-orders/{order['id']}/{action}", headers=other, json=body or {})
        assert res.status_code == 404, action
    assert client.get(f"/api/v1/work-orders/{order['id']}", headers=zhangsan.headers).get_json()["status"] == "submitted"
    assert client.get("/api/v1/work-orders").status_code == 401


def test_cancel_before_the_worker_arrives_only(client, zhangsan, login, run_jobs):
    first = book(client, zhangsan.headers)
    res = client.post(f"/api/v1/work-orders/{first['id']}/cancel", headers=zhangsan.headers, json={"reason": "不需要了"})
    assert res.status_code == 200 and res.get_json()["status"] == "cancelled"
    assert res.get_json()["cancel_reason"] == "不需要了"
    second = book(client, zhangsan.headers)
    run_jobs()
    worker = login("demo-eng-1")
    task_action(client, worker, second["id"], "accept")
    task_action(client, worker, second["id"], "arrive")
    res = client.post(f"/api/v1/work-orders/{second['id']}/cancel", headers=zhangsan.headers, json={})
    assert res.status_code == 409
    assert res.get_json()["error"] == {"code": "illegal_transition", "message": "工单处理中，不能取消",
                                       "request_id": res.headers["X-Request-ID"]}


def test_urge_pushes_the_supervisor_and_is_rate_limited(app, client, zhangsan, run_jobs, sandbox):
    order = report(client, zhangsan.headers)
    run_jobs()
    assert client.post(f"/api/v1/work-orders/{order['id']}/urge", headers=zhangsan.headers).status_code == 200
    assert client.post(f"/api/v1/work-orders/{order['id']}/urge", headers=zhangsan.headers).status_code == 429
    run_jobs()
    alerts = [m for m in sandbox.messages(kind="template") if m["data"]["thing2"]["value"] == "业主催单，请尽快处理"]
    assert {m["touser"] for m in alerts} == {"oa-demo-eng-lead", "oa-demo-eng-1"}


def test_confirm_needs_the_owner_to_accept_a_higher_amount(client, zhangsan, login, run_jobs):
    order = book(client, zhangsan.headers)
    run_jobs()
    worker = login("demo-eng-1")
    tap = next(m["id"] for m in client.get("/api/v1/staff/catalog/materials", headers=worker).get_json()
               if m["name"] == "水龙头")
    done = work_through(client, worker, order["id"], {"materials": [{"material_id": tap, "quantity": "1"}]})
    assert done["final_fen"] == 5000 + 3500 and done["amount_needs_confirmation"] is True
    res = client.post(f"/api/v1/work-orders/{order['id']}/confirm", headers=zhangsan.headers, json={})
    assert res.status_code == 409 and res.get_json()["error"]["code"] == "amount_not_confirmed"
    assert "85.00" in res.get_json()["error"]["message"]
    res = client.post(f"/api/v1/work-orders/{order['id']}/confirm", headers=zhangsan.headers,
                      json={"accept_final_fen": 8500})
    assert res.status_code == 200 and res.get_json()["status"] == "confirmed"


def test_rating_closes_or_opens_free_rework(app, client, zhangsan, login, run_jobs):
    good, bad = report(client, zhangsan.headers), report(client, zhangsan.headers, "electricity", "跳闸")
    run_jobs()
    for order in (good, bad):
        assignee = client.get(f"/api/v1/work-orders/{order['id']}", headers=zhangsan.headers).get_json()["assignee"]
        worker = login({"周师傅": "demo-eng-1", "吴师傅": "demo-eng-2"}[assignee["name"]])
        work_through(client, worker, order["id"])
        client.post(f"/api/v1/work-orders/{order['id']}/confirm", headers=zhangsan.headers, json={})
    early = client.post(f"/api/v1/work-orders/{good['id']}/rating", headers=zhangsan.headers, json={"score": 6})
    assert early.status_code == 422
    closed = client.post(f"/api/v1/work-orders/{good['id']}/rating", headers=zhangsan.headers,
                         json={"score": 5, "comment": "很好"}).get_json()
    assert closed["status"] == "closed" and closed["rating"] == 5
    rework = client.post(f"/api/v1/work-orders/{bad['id']}/rating", headers=zhangsan.headers,
                         json={"score": 2, "comment": "还是跳闸"}).get_json()
    assert rework["status"] == "submitted" and rework["rework_count"] == 1 and rework["rating"] == 2
    with app.app_context():
        assert db.session.get(WorkOrder, bad["id"]).needs_callback is True
    run_jobs()
    assert client.get(f"/api/v1/work-orders/{bad['id']}", headers=zhangsan.headers).get_json()["status"] == "dispatched"
    again = client.post(f"/api/v1/work-orders/{good['id']}/rating", headers=zhangsan.headers, json={"score": 4})
    assert again.status_code == 409


def test_reject_completion_sends_it_back(client, zhangsan, login, run_jobs):
    order = report(client, zhangsan.headers)
    run_jobs()
    work_through(client, login("demo-eng-1"), order["id"])
    res = client.post(f"/api/v1/work-orders/{order['id']}/reject-completion", headers=zhangsan.headers,
                      json={"reason": "还在漏"})
    body = res.get_json()
    assert body["status"] == "submitted" and body["rework_count"] == 1 and body["assignee"] is None
    assert body["timeline"][-1]["note"] == "业主不认可完工：还在漏"
    assert client.post(f"/api/v1/work-orders/{order['id']}/reject-completion", headers=zhangsan.headers,
                       json={}).status_code == 422


def test_owner_timeline_hides_internal_bookkeeping(app, client, zhangsan, login, run_jobs):
    order = report(client, zhangsan.headers)
    run_jobs()
    task_action(client, login("demo-eng-1"), order["id"], "decline", {"reason": "在忙"})
    run_jobs()
    owner_view = client.get(f"/api/v1/work-orders/{order['id']}", headers=zhangsan.headers).get_json()
    assert "decline" not in [e["action"] for e in owner_view["timeline"]]
    staff_view = client.get(f"/api/v1/staff/work-orders/{order['id']}", headers=login("demo-reception")).get_json()
    assert "decline" in [e["action"] for e in staff_view["timeline"]]


def test_preferred_time_in_the_past_is_refused(client, zhangsan):
    res = client.post("/api/v1/work-orders", headers=zhangsan.headers, json={
        "kind": "repair", "house_id": first_house(client, zhangsan.headers), "category": "water",
        "description": "漏水", "preferred_time": "2001-01-01T09:00:00+08:00"})
    assert res.status_code == 422 and "preferred_time" in res.get_json()["error"]["fields"]
