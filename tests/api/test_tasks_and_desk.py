"""Workers act only on their own orders; the desk registers, assigns, calls back and collects."""
from server.accounts.models import Staff
from server.extensions import db
from server.workorders.models import WorkOrder
from tests.workflow import book, material_id, report, task_action, work_through


def staff_id(app, openid):
    with app.app_context():
        return db.session.query(Staff).filter_by(mp_openid=openid).one().id


def test_worker_sees_and_acts_only_on_own_tasks(app, client, zhangsan, login, run_jobs):
    order = report(client, zhangsan.headers)
    run_jobs()
    mine, other = login("demo-eng-1"), login("demo-eng-2")
    tasks = client.get("/api/v1/staff/tasks", headers=mine).get_json()
    assert [t["id"] for t in tasks] == [order["id"]]
    assert client.get("/api/v1/staff/tasks", headers=other).get_json() == []
    detail = client.get(f"/api/v1/staff/tasks/{order['id']}", headers=mine).get_json()
    assert detail["contact_phone"] == "13800000001"  # the worker may call the owner
    assert client.get(f"/api/v1/staff/tasks/{order['id']}", headers=other).status_code == 404
    for action in ("accept", "arrive", "complete"):
        assert client.post(f"/api/v1/staff/tasks/{order['id']}/{action}", headers=other, json={}).status_code == 404
    assert client.post(f"/api/v1/staff/tasks/{order['id']}/accept", headers=zhangsan.headers, json={}).status_code == 403
    assert client.post(f"/api/v1/staff/tasks/{order['id']}/accept", headers=login("other-manager"),
                       json={}).status_code == 404


def test_worker_state_errors_are_409(client, zhangsan, login, run_jobs):
    order = report(client, zhangsan.headers)
    run_jobs()
    worker = login("demo-eng-1")
    task_action(client, worker, order["id"], "arrive", status=409)
    task_action(client, worker, order["id"], "complete", status=409)
    accepted = task_action(client, worker, order["id"], "accept", {"appointment_at": "2030-01-01T09:00:00+08:00"})
    assert accepted["appointment_at"] == "2030-01-01T09:00:00+08:00" and accepted["status_label"] == "已接单"
    task_action(client, worker, order["id"], "accept", status=409)
    task_action(client, worker, order["id"], "arrive")
    task_action(client, worker, order["id"], "pause", {}, status=422)  # a reason is required
    assert task_action(client, worker, order["id"], "pause", {"reason": "等材料"})["status"] == "paused"
    task_action(client, worker, order["id"], "complete", status=409)
    task_action(client, worker, order["id"], "resume")
    task_action(client, worker, order["id"], "accept", {"appointment_at": "2001-01-01T00:00:00+08:00"}, status=409)


def test_appointment_in_the_past_is_refused(client, zhangsan, login, run_jobs):
    order = report(client, zhangsan.headers)
    run_jobs()
    res = client.post(f"/api/v1/staff/tasks/{order['id']}/accept", headers=login("demo-eng-1"),
                      json={"appointment_at": "2001-01-01T09:00:00+08:00"})
    assert res.status_code == 422 and "appointment_at" in res.get_json()["error"]["fields"]


def test_materials_at_catalog_prices(app, client, zhangsan, login, run_jobs):
    order = book(client, zhangsan.headers, "疏通下水道")
    run_jobs()
    worker = login("demo-eng-1")
    pipe, tape = material_id(client, worker, "PPR 水管"), material_id(client, worker, "生料带")
    done = work_through(client, worker, order["id"], {"notes": "换管", "materials": [
        {"material_id": pipe, "quantity": "2.5"}, {"material_id": tape, "quantity": 1}]})
    assert [(m["name"], m["quantity"], m["amount_fen"]) for m in done["materials"]] == [
        ("PPR 水管", "2.50", 2125), ("生料带", "1.00", 200)]
    assert done["materials_fen"] == 2325 and done["final_fen"] == 8000 + 2325
    assert done["deadlines"]["callback_due_at"]
    bad = client.post(f"/api/v1/staff/tasks/{order['id']}/complete", headers=worker,
                      json={"materials": [{"material_id": 9999, "quantity": 1}]})
    assert bad.status_code in (409, 422)


def test_unknown_material_rejects_completion_without_changes(app, client, zhangsan, login, run_jobs):
    order = book(client, zhangsan.headers)
    run_jobs()
    worker = login("demo-eng-1")
    task_action(client, worker, order["id"], "accept")
    task_action(client, worker, order["id"], "arrive")
    res = client.post(f"/api/v1/staff/tasks/{order['id']}/complete", headers=worker,
                      json={"materials": [{"material_id": 9999, "quantity": 1}]})
    assert res.status_code == 422 and res.get_json()["error"]["fields"] == {"materials.0.material_id": ["材料不存在或已停用"]}
    with app.app_context():
        assert db.session.get(WorkOrder, order["id"]).status == "on_site"


def test_owner_signature_on_site_confirms(client, zhangsan, login, run_jobs):
    order = book(client, zhangsan.headers)
    run_jobs()
    done = work_through(client, login("demo-eng-1"), order["id"], {"owner_signed": True})
    assert done["status"] == "confirmed"


def test_desk_registers_a_phone_call_and_owner_sees_it(app, client, zhangsan, login, run_jobs):
    reception = login("demo-reception")
    with app.app_context():
        from server.accounts.models import House

        house_id = db.session.query(House).filter_by(unit="1", room="101").first().id
    res = client.post("/api/v1/staff/work-orders", headers=reception, json={
        "kind": "repair", "house_id": house_id, "category": "electricity", "description": "客厅没电",
        "channel": "phone", "contact_name": "张三", "contact_phone": "13800000001"})
    assert res.status_code == 201
    body = res.get_json()
    assert body["channel_label"] == "电话" and body["received_by"]["name"] == "刘芳"
    mine = client.get("/api/v1/work-orders", headers=zhangsan.headers).get_json()
    assert [o["id"] for o in mine["items"]] == [body["id"]]
    bad = client.post("/api/v1/staff/work-orders", headers=reception, json={
        "kind": "repair", "house_id": house_id, "category": "electricity", "description": "x", "channel": "fax",
        "contact_name": "", "contact_phone": "1"})
    assert set(bad.get_json()["error"]["fields"]) == {"channel", "contact_name", "contact_phone"}
    assert client.post("/api/v1/staff/work-orders", headers=login("demo-eng-1"), json={}).status_code == 403
    other = client.post("/api/v1/staff/work-orders", headers=login("other-manager"), json={
        "kind": "repair", "house_id": house_id, "category": "water", "description": "x", "channel": "visit",
        "contact_name": "某", "contact_phone": "13800000001"})
    assert other.status_code == 422 and other.get_json()["error"]["fields"] == {"house_id": ["房屋不存在"]}


def test_manual_assign_and_reassign(app, client, zhangsan, login, run_jobs, sandbox):
    order = report(client, zhangsan.headers)
    lead = login("demo-eng-lead")
    eng2 = staff_id(app, "demo-eng-2")
    res = client.post(f"/api/v1/staff/work-orders/{order['id']}/assign", headers=lead, json={"assignee_id": eng2})
    assert res.status_code == 200 and res.get_json()["assignee"]["name"] == "吴师傅"
    run_jobs()  # the automatic dispatch finds it already dispatched: does nothing
    assert client.get(f"/api/v1/staff/work-orders/{order['id']}", headers=lead).get_json()["assignee"]["name"] == "吴师傅"
    eng1 = staff_id(app, "demo-eng-1")
    res = client.post(f"/api/v1/staff/work-orders/{order['id']}/assign", headers=login("demo-reception"),
                      json={"assignee_id": eng1})
    assert res.get_json()["assignee"]["name"] == "周师傅"
    assert [e["action"] for e in res.get_json()["timeline"]][-2:] == ["dispatch", "reassign"]
    run_jobs()
    assigned = [m["touser"] for m in sandbox.messages(template_id="tpl-order-assigned")]
    assert assigned == ["oa-demo-eng-2", "oa-demo-eng-1"]
    cleaner = staff_id(app, "demo-clean-1")
    res = client.post(f"/api/v1/staff/work-orders/{order['id']}/assign", headers=lead, json={"assignee_id": cleaner})
    assert res.status_code == 422
    clean_lead = login("demo-clean-lead")
    assert client.post(f"/api/v1/staff/work-orders/{order['id']}/assign", headers=clean_lead,
                       json={"assignee_id": eng2}).status_code == 404  # not their department's order
    # The assigned worker sees the order but may not hand it on by themselves.
    assert client.post(f"/api/v1/staff/work-orders/{order['id']}/assign", headers=login("demo-eng-1"),
                       json={"assignee_id": eng2}).status_code == 403


def test_desk_lists_by_role(app, client, zhangsan, login):
    report(client, zhangsan.headers, "water")
    report(client, zhangsan.headers, "public_cleaning", "楼道脏")
    book(client, zhangsan.headers)
    assert client.get("/api/v1/staff/work-orders", headers=login("demo-reception")).get_json()["total"] == 3
    assert client.get("/api/v1/staff/work-orders", headers=login("demo-eng-lead")).get_json()["total"] == 2
    assert client.get("/api/v1/staff/work-orders", headers=login("demo-clean-lead")).get_json()["total"] == 1
    assert client.get("/api/v1/staff/work-orders", headers=login("demo-cashier")).get_json()["total"] == 1
    assert client.get("/api/v1/staff/work-orders", headers=login("other-manager")).get_json()["total"] == 0
    assert client.get("/api/v1/staff/work-orders?kind=repair&department=cleaning",
                      headers=login("demo-manager")).get_json()["total"] == 1
    assert client.get("/api/v1/staff/work-orders", headers=zhangsan.headers).status_code == 403


def test_callback_unsatisfied_means_rework(app, client, zhangsan, login, run_jobs):
    order = report(client, zhangsan.headers)
    run_jobs()
    reception = login("demo-reception")
    early = client.post(f"/api/v1/staff/work-orders/{order['id']}/callback", headers=reception,
                        json={"result": "satisfied"})
    assert early.status_code == 409
    work_through(client, login("demo-eng-1"), order["id"])
    res = client.post(f"/api/v1/staff/work-orders/{order['id']}/callback", headers=reception,
                      json={"result": "unsatisfied", "note": "仍有异味"})
    assert res.status_code == 201 and res.get_json()["result_label"] == "不满意"
    detail = client.get(f"/api/v1/staff/work-orders/{order['id']}", headers=reception).get_json()
    assert detail["status"] == "submitted" and detail["rework_count"] == 1
    assert client.post(f"/api/v1/staff/work-orders/{order['id']}/callback", headers=login("demo-eng-lead"),
                       json={"result": "satisfied"}).status_code == 403
    assert client.post(f"/api/v1/staff/work-orders/{order['id']}/callback", headers=reception,
                       json={"result": "meh"}).status_code == 422


def test_on_site_payment(app, client, zhangsan, login, run_jobs):
    order = book(client, zhangsan.headers)
    run_jobs()
    cashier = login("demo-cashier")
    pay = {"method": "cash", "amount_fen": 5000, "receipt_no": "SJ0001"}
    early = client.post(f"/api/v1/staff/work-orders/{order['id']}/payments", headers=cashier, json=pay)
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "not_completed"
    worker = login("demo-eng-1")
    work_through(client, worker, order["id"])
    res = client.post(f"/api/v1/staff/work-orders/{order['id']}/payments", headers=worker,
                      json={**pay, "amount_fen": 2000})
    assert res.status_code == 201 and res.get_json()["collector"]["name"] == "周师傅"
    over = client.post(f"/api/v1/staff/work-orders/{order['id']}/payments", headers=cashier,
                       json={**pay, "receipt_no": "SJ0002", "amount_fen": 3001})
    assert over.status_code == 409 and over.get_json()["error"]["code"] == "overpaid"
    dup = client.post(f"/api/v1/staff/work-orders/{order['id']}/payments", headers=cashier,
                      json={**pay, "amount_fen": 3000})
    assert dup.get_json()["error"]["code"] == "receipt_taken"
    ok = client.post(f"/api/v1/staff/work-orders/{order['id']}/payments", headers=cashier,
                     json={**pay, "receipt_no": "SJ0002", "amount_fen": 3000})
    assert ok.status_code == 201
    assert client.get(f"/api/v1/work-orders/{order['id']}", headers=zhangsan.headers).get_json()["paid_fen"] == 5000
    assert client.post(f"/api/v1/staff/work-orders/{order['id']}/payments", headers=cashier,
                       json={"method": "bitcoin", "amount_fen": -1, "receipt_no": ""}).status_code == 422
    repair = report(client, zhangsan.headers)
    assert client.post(f"/api/v1/staff/work-orders/{repair['id']}/payments", headers=login("demo-manager"),
                       json=pay).get_json()["error"]["code"] == "not_payable"


def test_catalog_upkeep_by_manager(client, login, demo):
    manager = login("demo-manager")
    res = client.post("/api/v1/staff/catalog/items", headers=manager, json={
        "category": "水电维修", "name": "更换马桶水箱配件", "department": "engineering", "skill": "water",
        "price_fen": 6000, "unit": "次"})
    assert res.status_code == 201
    item = res.get_json()
    assert client.patch(f"/api/v1/staff/catalog/items/{item['id']}", headers=manager,
                        json={"active": False}).get_json()["active"] is False
    names = [i["name"] for i in client.get("/api/v1/catalog?community=demo").get_json()["items"]]
    assert "更换马桶水箱配件" not in names
    refused = client.post("/api/v1/staff/catalog/items", headers=manager, json={
        "category": "家电", "name": "家电维修", "department": "engineering", "price_fen": 1, "unit": "次"})
    assert refused.status_code == 422
    assert client.post("/api/v1/staff/catalog/items", headers=login("demo-reception"), json={
        "category": "x", "name": "y", "department": "cleaning", "price_fen": 1, "unit": "次"}).status_code == 403
    assert client.patch(f"/api/v1/staff/catalog/items/{item['id']}", headers=login("other-manager"),
                        json={"price_fen": 1}).status_code == 404
    mat = client.post("/api/v1/staff/catalog/materials", headers=manager,
                      json={"name": "角阀", "unit": "个", "price_fen": 2500}).get_json()
    assert client.patch(f"/api/v1/staff/catalog/materials/{mat['id']}", headers=manager,
                        json={"price_fen": 2800}).get_json()["price_fen"] == 2800
