"""The staff's order list (GET /api/v1/staff/work-orders): every filter of the admin page's 工单 list, the
sort orders, the xlsx export with its cap, the eligible workers with their load, the receipt of an on-site
payment, and 首问责任制 (a desk member answering an unhandled complaint takes it)."""
import io
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from jobs import workorders as workorder_jobs
from server.accounts.models import Building, House, Staff
from server.extensions import db
from server.timeutil import to_local, utcnow
from server.workorders import export
from server.workorders.models import WorkOrder
from tests.workflow import book, first_house, report, work_through

LIST = "/api/v1/staff/work-orders"


def house(app, building, unit, room) -> int:
    with app.app_context():
        return db.session.query(House.id).join(Building, House.building_id == Building.id).filter(
            Building.code == building, House.unit == unit, House.room == room).scalar()


def register(client, headers, house_id, kind="repair", contact=("李四", "13800000002"), **body):
    data = {"kind": kind, "house_id": house_id, "channel": "phone", "contact_name": contact[0],
            "contact_phone": contact[1], **body}
    if kind == "repair":
        data.setdefault("category", "water")
        data.setdefault("description", "卫生间漏水")
    if kind == "complaint":
        data.setdefault("category", "noise")
        data.setdefault("description", "楼上装修太吵")
    res = client.post(LIST, headers=headers, json=data)
    assert res.status_code == 201, res.get_json()
    return res.get_json()


def numbers(client, headers, query=""):
    res = client.get(f"{LIST}?per_page=100&{query}", headers=headers)
    assert res.status_code == 200, res.get_json()
    return {item["number"] for item in res.get_json()["items"]}


def staff_id(app, openid):
    with app.app_context():
        return db.session.query(Staff).filter_by(mp_openid=openid).one().id


def test_filters(app, client, zhangsan, login):
    desk = login("demo-reception")
    leak = report(client, zhangsan.headers, "water", "厨房水管漏水")
    power = report(client, zhangsan.headers, "electricity", "整层停电", urgent=True)
    tap = book(client, zhangsan.headers)
    noise = register(client, desk, house(app, "2", "1", "201"), "complaint", contact=("王五", "13800000003"))
    fire = register(client, desk, house(app, "2", "2", "302"), "complaint", category="emergency",
                    description="楼道冒烟", contact=("钱七", "13800000009"))
    hall = register(client, desk, house(app, "3", "1", "101"), category="public_cleaning", description="楼道有垃圾")
    every = {o["number"] for o in (leak, power, tap, noise, fire, hall)}
    assert numbers(client, desk) == every

    assert numbers(client, desk, "kind=complaint") == {noise["number"], fire["number"]}
    assert numbers(client, desk, "department=cleaning") == {hall["number"]}
    assert numbers(client, desk, "category=electricity") == {power["number"]}
    assert numbers(client, desk, "emergency=true") == {power["number"], fire["number"]}
    assert client.post(f"{LIST}/{hall['id']}/cancel", headers=desk, json={"reason": "已打扫"}).status_code == 200
    assert numbers(client, desk, "status=cancelled") == {hall["number"]}
    assert numbers(client, desk, "open=true") == every - {hall["number"]}
    # building, building-unit, a house (either spelling); a house with nothing is an empty list
    assert numbers(client, desk, "house=2") == {noise["number"], fire["number"]}
    assert numbers(client, desk, "house=2-2") == {fire["number"]}
    assert numbers(client, desk, "house=1-1-101") == {leak["number"], power["number"], tap["number"]}
    assert numbers(client, desk, "house=1栋1单元101") == {leak["number"], power["number"], tap["number"]}
    assert numbers(client, desk, "house=9-9-909") == set()
    # the number, or text in the title, description, contact name or phone
    assert numbers(client, desk, f"q={tap['number']}") == {tap['number']}
    assert numbers(client, desk, f"q={tap['number'][:6].lower()}") == {tap['number']}  # FW2026…
    assert numbers(client, desk, "q=停电") == {power["number"]}
    assert numbers(client, desk, "q=钱七") == {fire["number"]}
    assert numbers(client, desk, "q=00003") == {noise["number"]}
    assert numbers(client, desk, "q=保洁") == {hall["number"]}  # title 公共保洁报修
    assert numbers(client, desk, "q=100%25") == set()  # % is a character, not a wildcard
    # filters combine; another community sees none of it
    assert numbers(client, desk, "kind=repair&house=1-1-101&emergency=true") == {power["number"]}
    assert numbers(client, login("other-manager")) == set()
    # supervisors keep to their department whatever they ask for
    assert numbers(client, login("demo-clean-lead"), "department=engineering") == set()


def test_created_dates_are_local_days(app, client, zhangsan, login, clock):
    desk = login("demo-reception")
    clock.shift(days=-3)
    old = report(client, zhangsan.headers)
    clock.shift(days=3)
    new = report(client, zhangsan.headers)
    today = to_local(utcnow()).date()
    three_ago = today - timedelta(days=3)
    assert numbers(client, desk, f"created_from={today}") == {new["number"]}
    assert numbers(client, desk, f"created_to={three_ago}") == {old["number"]}
    assert numbers(client, desk, f"created_from={three_ago}&created_to={today}") == {old["number"], new["number"]}
    bad = client.get(f"{LIST}?created_from={today}&created_to={three_ago}", headers=desk)
    assert bad.status_code == 422
    assert bad.get_json()["error"]["fields"] == {"created_to": ["结束日期不能早于开始日期"]}
    assert client.get(f"{LIST}?clock=late", headers=desk).status_code == 422
    assert client.get(f"{LIST}?sort=random", headers=desk).status_code == 422


def ten_tomorrow():
    """10:00 (Shanghai) tomorrow: the service center is open, the same day's clocks are hours away."""
    day = to_local(utcnow()).date() + timedelta(days=1)
    return datetime.combine(day, time(10), tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)


def test_clock_filters_and_due_sort(app, client, zhangsan, login, clock):
    start = ten_tomorrow()
    clock.freeze(start)
    desk = login("demo-reception")
    first = report(client, zhangsan.headers)
    clock.freeze(start + timedelta(minutes=1))
    second = report(client, zhangsan.headers, "electricity", "插座没电")
    booked = book(client, zhangsan.headers)  # its clock: an appointment within 10 business minutes
    with app.app_context():
        rows = {o.id: o for o in db.session.query(WorkOrder)}
        confirm_due = rows[booked["id"]].confirm_due_at
        complete_due = rows[first["id"]].complete_due_at
        db.session.get(WorkOrder, second["id"]).complete_due_at = complete_due + timedelta(hours=1)
        db.session.commit()
    # newest first by default; by the soonest running deadline on request
    assert [o["number"] for o in client.get(LIST, headers=desk).get_json()["items"]] == [
        booked["number"], second["number"], first["number"]]
    by_due = client.get(f"{LIST}?sort=due", headers=desk).get_json()["items"]
    assert [o["number"] for o in by_due] == [booked["number"], first["number"], second["number"]]

    clock.freeze(confirm_due - timedelta(minutes=5))
    assert numbers(client, desk, "clock=soon") == {booked["number"]}
    assert numbers(client, desk, "clock=missed") == set()
    clock.freeze(confirm_due + timedelta(minutes=1))
    assert numbers(client, desk, "clock=missed") == {booked["number"]}
    clock.freeze(complete_due + timedelta(minutes=1))
    assert numbers(client, desk, "clock=missed") == {booked["number"], first["number"]}
    assert numbers(client, desk, "clock=soon") == set()
    assert numbers(client, desk, "clock=breached") == set()
    with app.app_context():
        workorder_jobs.escalate_overdue()
    assert numbers(client, desk, "clock=breached") == {booked["number"], first["number"]}
    # what the board counts is what the list shows behind its cards
    with app.app_context():
        from server.desk.board import board

        reception = db.session.query(Staff).filter_by(mp_openid="demo-reception").one()
        assert board(reception).clocks_missed == 2


def test_export_xlsx(app, client, zhangsan, login, monkeypatch):
    desk = login("demo-reception")
    leak = report(client, zhangsan.headers)
    tap = book(client, zhangsan.headers)
    res = client.get(f"{LIST}/export?kind=service", headers=desk)
    assert res.status_code == 200 and res.mimetype.endswith("spreadsheetml.sheet")
    assert "filename*=UTF-8''%E5%B7%A5%E5%8D%95" in res.headers["Content-Disposition"]
    assert res.headers["X-Export-Total"] == "1" and res.headers["X-Export-Rows"] == "1"
    book_ = openpyxl.load_workbook(io.BytesIO(res.data))
    sheet = book_["工单"]
    rows = list(sheet.values)
    assert rows[0][:5] == ("工单号", "类型", "类别", "标题", "状态")
    assert [r[0] for r in rows[1:]] == [tap["number"]]
    assert rows[1][1] == "有偿服务" and rows[1][4] == "待派单" and rows[1][19] == 50.0  # quote in yuan
    assert book_.sheetnames == ["工单"]

    monkeypatch.setattr(export, "EXPORT_CAP", 1)
    res = client.get(f"{LIST}/export", headers=desk)
    assert res.headers["X-Export-Total"] == "2" and res.headers["X-Export-Rows"] == "1"
    book_ = openpyxl.load_workbook(io.BytesIO(res.data))
    assert [r[0] for r in list(book_["工单"].values)[1:]] == [tap["number"]]  # the newest, as listed
    assert "筛选结果共 2 条" in book_["说明"]["A1"].value and leak["number"]
    assert client.get(f"{LIST}/export", headers=zhangsan.headers).status_code == 403


def test_eligible_workers_with_their_load(app, client, zhangsan, login, run_jobs):
    first = report(client, zhangsan.headers)  # water: 周师傅 has the skill, 吴师傅 does not
    run_jobs()  # dispatched to 周师傅
    second = report(client, zhangsan.headers)
    with app.app_context():
        db.session.query(Staff).filter_by(mp_openid="demo-eng-2").one().on_duty = False
        db.session.commit()
    res = client.get(f"{LIST}/{second['id']}/workers", headers=login("demo-reception"))
    assert res.status_code == 200
    workers = [(w["name"], w["on_duty"], w["has_skill"], w["open_orders"], w["role"]) for w in res.get_json()]
    assert workers == [("周师傅", True, True, 1, "worker"), ("孙工", True, True, 0, "supervisor"),
                       ("吴师傅", False, False, 0, "worker")]
    # the worker holding the first order sees it, but handing orders out is not theirs
    assert client.get(f"{LIST}/{first['id']}/workers", headers=login("demo-eng-1")).status_code == 403
    assert client.get(f"{LIST}/{second['id']}/workers", headers=login("demo-eng-1")).status_code == 404
    assert client.get(f"{LIST}/{second['id']}/workers", headers=login("demo-clean-lead")).status_code == 404
    assert client.get(f"{LIST}/{second['id']}/workers", headers=login("other-manager")).status_code == 404


def test_receipt_of_an_on_site_payment(app, client, zhangsan, login, run_jobs):
    order = book(client, zhangsan.headers)
    run_jobs()
    cashier = login("demo-cashier")
    worker = client.get(f"{LIST}/{order['id']}", headers=cashier).get_json()["assignee"]["name"]
    work_through(client, login({"周师傅": "demo-eng-1", "吴师傅": "demo-eng-2"}[worker]), order["id"])
    paid = client.post(f"{LIST}/{order['id']}/payments", headers=cashier,
                       json={"method": "cash", "amount_fen": 5000, "receipt_no": "SJ-0042"})
    assert paid.status_code == 201
    res = client.get(f"{LIST}/{order['id']}/payments/{paid.get_json()['id']}/receipt", headers=cashier)
    assert res.status_code == 200 and res.mimetype == "text/html"
    page = res.get_data(as_text=True)
    assert "SJ-0042" in page and "50.00" in page and "伍拾元整" in page and order["number"] in page
    assert "陈静" in page and "现金" in page
    other = report(client, zhangsan.headers)
    assert client.get(f"{LIST}/{other['id']}/payments/{paid.get_json()['id']}/receipt",
                      headers=cashier).status_code == 404
    fully = client.post(f"{LIST}/{order['id']}/payments", headers=cashier,
                        json={"method": "cash", "amount_fen": 1, "receipt_no": "SJ-0043"})
    assert fully.status_code == 409 and fully.get_json()["error"]["code"] == "overpaid"


@pytest.mark.parametrize("final", [False, True])
def test_first_responsibility_the_desk_takes_an_unhandled_complaint_by_answering(app, client, zhangsan, login,
                                                                                 run_jobs, sandbox, final):
    client.post("/api/v1/me/subscriptions", headers=zhangsan.headers, json={"accepted": ["tpl-complaint-reply"]})
    res = client.post("/api/v1/work-orders", headers=zhangsan.headers, json={
        "kind": "complaint", "house_id": first_house(client, zhangsan.headers), "category": "noise",
        "description": "楼上每晚装修到十一点"})
    body = res.get_json()
    assert body["status"] == "submitted"  # the dispatch job has not run: nobody handles it yet
    manager = login("demo-manager")
    done = client.post(f"{LIST}/{body['id']}/replies", headers=manager,
                       json={"content": "已联系楼上住户，今晚起十点后停工", "final": final})
    assert done.status_code == 200, done.get_json()
    out = done.get_json()
    assert out["assignee"]["name"] == "王建国" and out["accepted_at"] and out["replied_at"]
    assert out["status"] == ("completed" if final else "accepted")
    actions = [(e["action"], e["actor_name"]) for e in out["timeline"]]
    assert actions[1:4] == [("dispatch", "王建国"), ("accept", "王建国"), ("resolve" if final else "reply", "王建国")]
    assert "首问责任" in out["timeline"][1]["note"]
    run_jobs()  # the pending dispatch finds it handled and leaves it
    again = client.get(f"{LIST}/{body['id']}", headers=manager).get_json()
    assert again["assignee"]["name"] == "王建国"
    assert [m["touser"] for m in sandbox.messages(template_id="tpl-order-assigned")] == []
    replies = sandbox.messages(template_id="tpl-complaint-reply")
    assert [m["data"]["thing2"]["value"] for m in replies] == ["已联系楼上住户，今晚起十点后停工"]


def test_first_responsibility_is_the_desks_only(app, client, zhangsan, login):
    res = client.post("/api/v1/work-orders", headers=zhangsan.headers, json={
        "kind": "complaint", "house_id": first_house(client, zhangsan.headers), "category": "emergency",
        "description": "地下车库进水"})
    body = res.get_json()
    worker = login("demo-eng-1")  # sees an open emergency (first responder), but answering is the desk's
    refused = client.post(f"{LIST}/{body['id']}/replies", headers=worker, json={"content": "已到场"})
    assert refused.status_code == 403
    assert client.get(f"{LIST}/{body['id']}", headers=worker).get_json()["status"] == "submitted"


@pytest.mark.parametrize("sort", ["due", "open"])
def test_sorts_that_list_some_orders_first_page_across_both_parts(app, client, zhangsan, login, sort):
    desk = login("demo-reception")
    first = report(client, zhangsan.headers)
    gone = report(client, zhangsan.headers, "electricity", "插座没电")
    third = report(client, zhangsan.headers, "doors_windows", "门锁坏了")
    assert client.post(f"{LIST}/{gone['id']}/cancel", headers=desk, json={"reason": "业主自行修好"}).status_code == 200
    pages = [client.get(f"{LIST}?sort={sort}&per_page=1&page={page}", headers=desk).get_json() for page in (1, 2, 3, 4)]
    assert [p["total"] for p in pages] == [3, 3, 3, 3]
    # running (or open) orders first, newest first among equal deadlines; then the cancelled one; then nothing
    assert [[o["number"] for o in p["items"]] for p in pages] == [
        [third["number"]], [first["number"]], [gone["number"]], []]
    two = client.get(f"{LIST}?sort={sort}&per_page=2&page=2", headers=desk).get_json()
    assert [o["number"] for o in two["items"]] == [gone["number"]]


def test_a_progress_reply_acknowledges_the_complaint(app, client, zhangsan, login, run_jobs):
    res = client.post("/api/v1/work-orders", headers=zhangsan.headers, json={
        "kind": "complaint", "house_id": first_house(client, zhangsan.headers), "category": "parking",
        "description": "车位被占"})
    run_jobs()  # offered to the receptionist on duty
    reception = login("demo-reception")
    out = client.post(f"{LIST}/{res.get_json()['id']}/replies", headers=reception,
                      json={"content": "已联系车主挪车"}).get_json()
    assert out["status"] == "accepted" and out["accepted_at"] and out["replied_at"]
    assert [e["action"] for e in out["timeline"]][-2:] == ["accept", "reply"]
