"""Office views: the printable service notice, the callback queue, the cash handover, the monthly report."""
import io
from datetime import UTC, datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import openpyxl

from server.accounts.models import Community, Staff
from server.extensions import db
from server.workorders.models import OrderPayment, WorkOrder

SHANGHAI = ZoneInfo("Asia/Shanghai")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# -- driving orders through the real API ------------------------------------------------------------------

def house_id(client, owner):
    return client.get("/api/v1/me/houses", headers=owner).get_json()[0]["house"]["id"]


def item_id(client, name):
    items = client.get("/api/v1/catalog?community=demo").get_json()["items"]
    return next(i["id"] for i in items if i["name"] == name)


def material_id(client, staff, name="水龙头"):
    return next(m["id"] for m in client.get("/api/v1/staff/catalog/materials", headers=staff).get_json()
                if m["name"] == name)


def book(client, owner, item="更换水龙头", quantity=1, **extra):
    res = client.post("/api/v1/work-orders", headers=owner, json={
        "kind": "service", "house_id": house_id(client, owner), "service_item_id": item_id(client, item),
        "quantity": quantity, **extra})
    assert res.status_code == 201, res.get_json()
    return res.get_json()


def report_repair(client, owner):
    res = client.post("/api/v1/work-orders", headers=owner, json={
        "kind": "repair", "house_id": house_id(client, owner), "category": "water", "description": "厨房水管漏水"})
    assert res.status_code == 201, res.get_json()
    return res.get_json()


def post(client, path, headers, body=None, status=200):
    res = client.post(path, headers=headers, json=body or {})
    assert res.status_code == status, res.get_json()
    return res.get_json()


def work_through(client, worker, order_id, materials=()):
    post(client, f"/api/v1/staff/tasks/{order_id}/accept", worker)
    post(client, f"/api/v1/staff/tasks/{order_id}/arrive", worker)
    return post(client, f"/api/v1/staff/tasks/{order_id}/complete", worker, {"notes": "已处理", "materials": [
        {"material_id": material_id(client, worker, name), "quantity": quantity} for name, quantity in materials]})


def confirm_and_rate(client, owner, order, score=5):
    post(client, f"/api/v1/work-orders/{order['id']}/confirm", owner, {"accept_final_fen": order["final_fen"]})
    return post(client, f"/api/v1/work-orders/{order['id']}/rating", owner, {"score": score})


def callback(client, desk, order_id, result="satisfied", note="业主满意"):
    return post(client, f"/api/v1/staff/work-orders/{order_id}/callback", desk, {"result": result, "note": note},
                status=201)


def pay(client, staff, order_id, amount_fen, receipt_no, method="cash"):
    return post(client, f"/api/v1/staff/work-orders/{order_id}/payments", staff,
                {"method": method, "amount_fen": amount_fen, "receipt_no": receipt_no}, status=201)


def staff_id(app, openid):
    with app.app_context():
        return db.session.query(Staff).filter_by(mp_openid=openid).one().id


def add_finance_clerk(app):
    with app.app_context():
        community = db.session.query(Community).filter_by(code="demo").one()
        db.session.add(Staff(community_id=community.id, name="财务小李", phone="13900000010", department="finance",
                             role="cashier", on_duty=True, mp_openid="demo-finance"))
        db.session.commit()


def local(*args):
    return datetime(*args, tzinfo=SHANGHAI)


# -- service notice ----------------------------------------------------------------------------------------

def test_notice_has_three_stubs_with_amounts_in_yuan(client, zhangsan, login, run_jobs):
    order = book(client, zhangsan.headers, quantity=2, description="<script>alert(1)</script>厨房龙头")
    desk = login("demo-reception")
    before = client.get(f"/api/v1/staff/work-orders/{order['id']}/notice", headers=desk)
    assert before.status_code == 200 and "待派工" in before.text and "完工后按报价" in before.text

    run_jobs()
    worker = login("demo-eng-1")
    done = work_through(client, worker, order["id"], [("水龙头", "1"), ("生料带", "1.5")])
    assert done["final_fen"] == 10000 + 3500 + 300

    res = client.get(f"/api/v1/staff/work-orders/{order['id']}/notice", headers=desk)
    assert res.status_code == 200
    assert res.headers["Content-Type"] == "text/html; charset=utf-8"
    html = res.text
    assert html.count('class="stub"') == 3 and html.count('class="cut"') == 2
    for copy in ("财务联", "部门联（工程部）", "存档联"):
        assert html.count(copy) == 1
    assert html.count(order["number"]) == 3 + 1  # each stub and the <title>
    for text in ("示例小区", "1栋1单元101", "张三", "13800000001", "更换水龙头", "2 个 × 50.00 元", "100.00 元",
                 "水龙头", "35.00", "1.5 卷", "2.00", "3.00", "138.00 元", "周师傅", "刘芳", "首问责任人",
                 "业主签字", "维修人员", "日期", "@media print"):
        assert text in html, text
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html  # autoescaped
    assert "http://" not in html and "https://" not in html  # no external assets

    # The assigned worker may print it too; another worker, an owner and another community may not.
    assert client.get(f"/api/v1/staff/work-orders/{order['id']}/notice", headers=worker).status_code == 200
    assert client.get(f"/api/v1/staff/work-orders/{order['id']}/notice",
                      headers=login("demo-eng-2")).status_code == 404
    assert client.get(f"/api/v1/staff/work-orders/{order['id']}/notice",
                      headers=login("other-manager")).status_code == 404
    assert client.get(f"/api/v1/staff/work-orders/{order['id']}/notice", headers=zhangsan.headers).status_code == 403


def test_notice_names_the_cleaning_department(client, zhangsan, login):
    order = book(client, zhangsan.headers, item="家庭保洁", quantity=3)
    html = client.get(f"/api/v1/staff/work-orders/{order['id']}/notice", headers=login("demo-manager")).text
    assert "部门联（保洁部）" in html and "3 小时 × 40.00 元" in html and "120.00 元" in html


def test_notice_only_for_paid_services(client, zhangsan, login):
    repair = report_repair(client, zhangsan.headers)
    res = client.get(f"/api/v1/staff/work-orders/{repair['id']}/notice", headers=login("demo-reception"))
    assert res.status_code == 409
    assert res.get_json()["error"]["code"] == "not_payable" and "有偿服务" in res.get_json()["error"]["message"]
    assert client.get("/api/v1/staff/work-orders/99999/notice", headers=login("demo-reception")).status_code == 404


# -- callback queue --------------------------------------------------------------------------------------------

def queue(client, headers, status=None):
    res = client.get("/api/v1/staff/callbacks" + (f"?status={status}" if status else ""), headers=headers)
    assert res.status_code == 200, res.get_json()
    return res.get_json()


def test_callback_queue(app, client, zhangsan, login, run_jobs):
    repair = report_repair(client, zhangsan.headers)
    service = book(client, zhangsan.headers)
    book(client, zhangsan.headers, item="疏通下水道")  # not done yet: never in the queue
    run_jobs()
    worker, desk = login("demo-eng-1"), login("demo-reception")
    work_through(client, worker, repair["id"])
    work_through(client, worker, service["id"])
    with app.app_context():  # the service order's callback deadline has passed
        order = db.session.get(WorkOrder, service["id"])
        order.callback_due_at = datetime.now(UTC) - timedelta(hours=1)
        db.session.commit()

    due = queue(client, desk)
    assert due["total"] == 2 and [i["id"] for i in due["items"]] == [service["id"], repair["id"]]  # by deadline
    first = due["items"][0]
    assert first["overdue"] is True and first["needs_callback"] is True and first["last_callback"] is None
    assert first["kind"] == "service" and first["number"] == service["number"]
    assert first["house"]["label"] == "1栋1单元101" and first["contact_name"] == "张三"
    assert first["contact_phone"] == "13800000001" and first["completed_at"].endswith("+08:00")
    assert first["callback_due_at"].endswith("+08:00") and first["rating"] is None
    assert due["items"][1]["overdue"] is False and due["items"][1]["kind"] == "repair"
    assert [i["id"] for i in queue(client, desk, "overdue")["items"]] == [service["id"]]
    assert queue(client, desk, "done")["total"] == 0

    callback(client, desk, repair["id"], note="水管不漏了")
    done = queue(client, login("demo-manager"), "done")
    assert [i["id"] for i in done["items"]] == [repair["id"]]
    assert done["items"][0]["needs_callback"] is False
    last = done["items"][0]["last_callback"]
    assert last["result"] == "satisfied" and last["result_label"] == "满意" and last["note"] == "水管不漏了"
    assert last["staff_name"] == "刘芳" and last["at"].endswith("+08:00")
    assert [i["id"] for i in queue(client, desk)["items"]] == [service["id"]]

    # Unsatisfied: free rework, out of the queue until the work is done again; then due again.
    callback(client, desk, service["id"], result="unsatisfied", note="还在滴水")
    assert queue(client, desk)["total"] == 0 and queue(client, desk, "done")["total"] == 1
    run_jobs()
    work_through(client, worker, service["id"])
    again = queue(client, desk)["items"]
    assert [i["id"] for i in again] == [service["id"]] and again[0]["last_callback"]["result"] == "unsatisfied"
    assert again[0]["overdue"] is False

    # Access: the desk only, scoped to the community.
    for openid in ("demo-eng-1", "demo-cashier", "demo-eng-lead"):
        assert client.get("/api/v1/staff/callbacks", headers=login(openid)).status_code == 403
    assert client.get("/api/v1/staff/callbacks", headers=zhangsan.headers).status_code == 403
    assert queue(client, login("other-manager"))["total"] == 0
    res = client.get("/api/v1/staff/callbacks?status=late", headers=desk)
    assert res.status_code == 422 and "status" in res.get_json()["error"]["fields"]


# -- cash handover ---------------------------------------------------------------------------------------------

def test_cash_handover(app, client, zhangsan, login, run_jobs):
    faucet, drain = book(client, zhangsan.headers), book(client, zhangsan.headers, item="疏通下水道")
    run_jobs()
    worker = login("demo-eng-1")
    work_through(client, worker, faucet["id"])
    work_through(client, worker, drain["id"])
    desk, cashier, manager = login("demo-reception"), login("demo-cashier"), login("demo-manager")
    pay(client, desk, faucet["id"], 5000, "R001")
    pay(client, desk, drain["id"], 3000, "R002", method="transfer")
    pay(client, cashier, drain["id"], 4000, "R003")
    pay(client, cashier, drain["id"], 1000, "R004", method="pos")
    today = datetime.now(SHANGHAI).date().isoformat()

    sheets = client.get("/api/v1/staff/cash-handover", headers=manager).get_json()
    assert client.get(f"/api/v1/staff/cash-handover?date={today}", headers=manager).get_json() == sheets
    by_name = {s["collector"]["name"]: s for s in sheets}
    assert set(by_name) == {"刘芳", "陈静"}
    liu, chen = by_name["刘芳"], by_name["陈静"]
    assert liu["day"] == today and liu["total_fen"] == 8000 and liu["pending_fen"] == 8000
    assert liu["handed_over"] is False and liu["handovers"] == []
    assert liu["by_method"] == [{"method": "cash", "method_label": "现金", "amount_fen": 5000},
                                {"method": "pos", "method_label": "POS 刷卡", "amount_fen": 0},
                                {"method": "transfer", "method_label": "转账", "amount_fen": 3000}]
    assert [p["receipt_no"] for p in liu["payments"]] == ["R001", "R002"]
    assert liu["payments"][0]["method_label"] == "现金" and liu["payments"][0]["order_number"] == faucet["number"]
    assert chen["total_fen"] == 5000 and [m["amount_fen"] for m in chen["by_method"]] == [4000, 1000, 0]

    tomorrow = (datetime.now(SHANGHAI) + timedelta(days=1)).date().isoformat()
    assert client.get(f"/api/v1/staff/cash-handover?date={tomorrow}", headers=manager).get_json() == []
    bad = client.get("/api/v1/staff/cash-handover?date=2026-02-30", headers=manager)
    assert bad.status_code == 422 and "date" in bad.get_json()["error"]["fields"]
    for openid in ("demo-reception", "demo-eng-1"):  # the desk and workers do not see the takings
        assert client.get("/api/v1/staff/cash-handover", headers=login(openid)).status_code == 403
    assert client.get("/api/v1/staff/cash-handover", headers=login("other-manager")).get_json() == []

    liu_id, chen_id = liu["collector"]["id"], chen["collector"]["id"]
    body = {"collector_id": liu_id, "date": today, "note": "已点清"}
    assert client.post("/api/v1/staff/cash-handover", headers=desk, json=body).status_code == 403
    assert client.post("/api/v1/staff/cash-handover", headers=cashier, json=body).status_code == 403
    confirmed = post(client, "/api/v1/staff/cash-handover", manager, body, status=201)
    assert confirmed["total_fen"] == 8000 and confirmed["cash_fen"] == 5000 and confirmed["day"] == today
    assert confirmed["collector"]["name"] == "刘芳" and confirmed["received_by"]["name"] == "王建国"
    assert confirmed["note"] == "已点清" and confirmed["received_at"].endswith("+08:00")
    again = client.post("/api/v1/staff/cash-handover", headers=manager, json=body)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_handed_over"

    # Finance department staff confirm too; nobody can confirm a day without takings.
    add_finance_clerk(app)
    finance = login("demo-finance")
    post(client, "/api/v1/staff/cash-handover", finance, {"collector_id": chen_id, "date": today}, status=201)
    none = client.post("/api/v1/staff/cash-handover", headers=finance,
                       json={"collector_id": staff_id(app, "demo-eng-1"), "date": today})
    assert none.status_code == 404
    sheets = {s["collector"]["name"]: s for s in client.get("/api/v1/staff/cash-handover", headers=finance).get_json()}
    assert sheets["刘芳"]["handed_over"] and sheets["刘芳"]["handovers"][0]["received_by"]["name"] == "王建国"
    assert sheets["陈静"]["handovers"][0]["received_by"]["name"] == "财务小李"
    with app.app_context():
        assert db.session.query(OrderPayment).filter(OrderPayment.handover_id.is_(None)).count() == 0

    # Money taken after the handover is handed over later the same day, in a second handover.
    late = book(client, zhangsan.headers)
    run_jobs()
    work_through(client, login("demo-eng-1"), late["id"])
    pay(client, desk, late["id"], 5000, "R005")
    liu_sheet = next(s for s in client.get("/api/v1/staff/cash-handover", headers=finance).get_json()
                     if s["collector"]["name"] == "刘芳")
    assert liu_sheet["pending_fen"] == 5000 and liu_sheet["handed_over"] is False
    second = post(client, "/api/v1/staff/cash-handover", finance, body, status=201)
    assert second["total_fen"] == 5000
    missing = client.post("/api/v1/staff/cash-handover", headers=manager, json={"collector_id": liu_id})
    assert missing.status_code == 422 and "date" in missing.get_json()["error"]["fields"]


# -- monthly report ------------------------------------------------------------------------------------------------

def march_orders(app, client, zhangsan, login, run_jobs):
    """March 2026: two engineering orders (one reworked), one cancelled, one cleaning; one order on 1 April."""
    owner = zhangsan.headers
    e1, e2, e3 = book(client, owner), book(client, owner, item="疏通下水道"), book(client, owner)
    c1, e4 = book(client, owner, item="家庭保洁", quantity=2), book(client, owner)
    post(client, f"/api/v1/work-orders/{e3['id']}/cancel", owner, {"reason": "不需要了"})
    run_jobs()
    eng, desk = login("demo-eng-1"), login("demo-reception")
    cleaner = next(login(o) for o in ("demo-clean-1", "demo-clean-2")
                   if client.get("/api/v1/staff/tasks", headers=login(o)).get_json())
    e1 = work_through(client, eng, e1["id"], [("水龙头", "1")])
    assert e1["final_fen"] == 8500
    confirm_and_rate(client, owner, e1, 5)
    callback(client, desk, e1["id"])
    pay(client, desk, e1["id"], 8500, "R101")
    c1 = work_through(client, cleaner, c1["id"])
    confirm_and_rate(client, owner, c1, 4)
    callback(client, desk, c1["id"])
    pay(client, desk, c1["id"], 8000, "R102", method="transfer")
    work_through(client, eng, e2["id"])
    post(client, f"/api/v1/work-orders/{e2['id']}/reject-completion", owner, {"reason": "还是堵"})
    run_jobs()
    work_through(client, eng, e2["id"])

    created = {e1["id"]: local(2026, 3, 15, 10, 0), e2["id"]: local(2026, 3, 1, 0, 0), e3["id"]: local(2026, 3, 20),
               c1["id"]: local(2026, 3, 31, 23, 59), e4["id"]: local(2026, 4, 1, 0, 0)}
    with app.app_context():
        for order_id, at in created.items():
            db.session.get(WorkOrder, order_id).created_at = at
        db.session.query(OrderPayment).filter_by(receipt_no="R101").one().collected_at = local(2026, 3, 20, 9, 0)
        db.session.query(OrderPayment).filter_by(receipt_no="R102").one().collected_at = local(2026, 4, 2, 9, 0)
        db.session.commit()
    return e1, e2, e3, c1, e4


def test_monthly_report(app, client, zhangsan, login, run_jobs):
    e1, e2, e3, c1, _e4 = march_orders(app, client, zhangsan, login, run_jobs)
    manager = login("demo-manager")
    res = client.get("/api/v1/staff/reports/services?month=2026-03", headers=manager)
    assert res.status_code == 200, res.get_json()
    report = res.get_json()
    assert report["month"] == "2026-03" and report["community"]["name"] == "示例小区"
    eng, clean = report["departments"]
    assert eng == {"department": "engineering", "department_label": "工程部", "count": 2, "completed": 2,
                   "amount_fen": 16500, "collected_fen": 8500, "rework_count": 1, "average_rating": 5.0,
                   "callback_rate": 0.5}
    assert clean == {"department": "cleaning", "department_label": "保洁部", "count": 1, "completed": 1,
                     "amount_fen": 8000, "collected_fen": 0, "rework_count": 0, "average_rating": 4.0,
                     "callback_rate": 1.0}
    assert report["total"] == {"department": "total", "department_label": "合计", "count": 3, "completed": 3,
                               "amount_fen": 24500, "collected_fen": 8500, "rework_count": 1, "average_rating": 4.5,
                               "callback_rate": 0.667}
    assert [(i["name"], i["count"], i["amount_fen"]) for i in report["items"]] == [
        ("更换水龙头", 1, 8500), ("疏通下水道", 1, 8000), ("家庭保洁", 1, 8000)]

    april = client.get("/api/v1/staff/reports/services?month=2026-04", headers=manager).get_json()
    assert april["total"]["count"] == 1 and april["total"]["completed"] == 0
    assert april["total"]["callback_rate"] is None and april["total"]["average_rating"] is None
    assert april["departments"][1]["count"] == 0  # cleaning listed even when empty
    other = client.get("/api/v1/staff/reports/services?month=2026-03", headers=login("other-manager")).get_json()
    assert other["total"]["count"] == 0

    res = client.get("/api/v1/staff/reports/services?month=2026-03&format=xlsx", headers=manager)
    assert res.status_code == 200 and res.mimetype == XLSX
    disposition = res.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="paid-services-2026-03.xlsx"')
    assert f"filename*=UTF-8''{quote('有偿服务月报-2026-03.xlsx')}" in disposition
    wb = openpyxl.load_workbook(io.BytesIO(res.data))
    assert wb.sheetnames == ["汇总", "明细"]
    summary = wb["汇总"]
    assert summary["A1"].value == "示例小区 有偿服务月报 2026年3月"
    assert [c.value for c in summary[4]] == ["部门", "服务单数", "完成单数", "完成金额（元）", "本月收款（元）", "返工次数",
                                            "平均评分", "回访率"]
    assert [c.value for c in summary[5]] == ["工程部", 2, 2, 165, 85, 1, 5, 0.5]
    assert [c.value for c in summary[6]] == ["保洁部", 1, 1, 80, 0, 0, 4, 1]
    assert [c.value for c in summary[7]] == ["合计", 3, 3, 245, 85, 1, 4.5, 0.667]
    assert summary["D5"].number_format == "0.00"
    detail = wb["明细"]
    rows = {r[0]: r for r in detail.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == {e1["number"], e2["number"], e3["number"], c1["number"]}
    assert rows[e1["number"]] == (e1["number"], "工程部", "更换水龙头", datetime(2026, 3, 15, 10, 0), "已完成", 85, 85, 85,
                                  0, 5, "满意")
    assert rows[e2["number"]][4:] == ("待确认", 80, 0, 0, 1, None, "待回访")
    assert rows[e3["number"]][4] == "已取消"
    assert rows[c1["number"]][1:3] == ("保洁部", "家庭保洁") and rows[c1["number"]][6:8] == (80, 0)
    assert detail["F2"].number_format == "0.00"

    # Finance department staff see it too; other roles do not.
    add_finance_clerk(app)
    assert client.get("/api/v1/staff/reports/services?month=2026-03", headers=login("demo-finance")).status_code == 200


def test_report_access_and_validation(client, demo, login):
    for openid in ("demo-eng-1", "demo-reception", "demo-cashier", "demo-eng-lead"):
        res = client.get("/api/v1/staff/reports/services?month=2026-03", headers=login(openid))
        assert res.status_code == 403, openid
    manager = login("demo-manager")
    for query in ("month=2026-13", "month=2026-3", "month=march", "", "month=2026-03&format=pdf"):
        res = client.get(f"/api/v1/staff/reports/services?{query}", headers=manager)
        assert res.status_code == 422, query
        assert set(res.get_json()["error"]["fields"]) & {"month", "format"}
    res = client.get("/api/v1/staff/reports/services?month=2026-13", headers=manager)
    assert res.get_json()["error"]["fields"]["month"] == ["月份格式应为 YYYY-MM（如 2026-11）"]
    assert client.get("/api/v1/staff/reports/services?month=2026-03", headers=login("owner-x")).status_code == 403
