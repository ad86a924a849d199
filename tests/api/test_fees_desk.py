"""Fees at the desk: offline payments (who may, bills held by a live online payment, receipts), the daily cash
handover covering fee payments, staff views of bills, the arrears list with the last contact, dunning
contacts, and community scoping."""
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from server.accounts.models import Building, Community, House
from server.billing.models import Bill, Payment
from server.billing.services import check_pending
from server.extensions import db
from tests.workflow import book, work_through

SHANGHAI = ZoneInfo("Asia/Shanghai")
PAYMENTS = "/api/v1/staff/payments"


def house_id(app, label: str, community: str = "demo") -> int:
    building, unit, room = label.split("-")
    with app.app_context():
        return db.session.scalar(
            select(House.id).join(Building, Building.id == House.building_id)
            .join(Community, Community.id == House.community_id)
            .where(Community.code == community, Building.code == building, House.unit == unit, House.room == room))


def bills_of(client, headers, label_id: int, status: str = "unpaid") -> dict[str, dict]:
    res = client.get(f"/api/v1/staff/bills?house_id={label_id}&status={status}&per_page=100", headers=headers)
    assert res.status_code == 200, res.get_json()
    return {b["item"]: b for b in res.get_json()["items"]}


def collect(client, headers, bill_ids, method="cash", status=201, **extra):
    res = client.post(PAYMENTS, headers=headers, json={"bill_ids": bill_ids, "method": method, **extra})
    assert res.status_code == status, res.get_json()
    return res.get_json()


def allow_reception(client, manager, allowed: bool = True):
    res = client.patch("/api/v1/staff/fee-settings", headers=manager, json={"reception_collects_fees": allowed})
    assert res.status_code == 200, res.get_json()
    assert res.get_json() == {"reception_collects_fees": allowed}


def set_due(app, due, label: str | None = None):
    """Move the due date of every demo bill (or one house's) to `due`."""
    with app.app_context():
        stmt = update(Bill).values(due_date=due)
        if label:
            stmt = stmt.where(Bill.house_id == house_id(app, label))
        db.session.execute(stmt)
        db.session.commit()


@pytest.fixture
def frozen(clock):
    """Time stands still (tokens stay valid, dates do not flip at midnight); returns local today."""
    now = datetime.now(UTC)
    clock.freeze(now)
    return now.astimezone(SHANGHAI).date()


# -- taking payments ------------------------------------------------------------------------------------------

def test_cashier_takes_cash_with_a_receipt(app, client, zhangsan, login):
    cashier = login("demo-cashier")
    h101 = house_id(app, "1-1-101")
    bills = bills_of(client, cashier, h101)
    fee, parking = bills["物业管理费"], bills["车位租金"]
    payment = collect(client, cashier, [parking["id"], fee["id"]], payer_name="张三", reference=None)
    assert payment["status"] == "paid" and payment["method"] == "cash" and payment["method_label"] == "现金"
    assert payment["amount_fen"] == fee["amount_fen"] + parking["amount_fen"] == 21033 + 30000
    assert payment["collector"]["name"] == "陈静" and payment["receipt_no"].startswith("SJ")
    assert payment["bill_ids"] == sorted([fee["id"], parking["id"]]) and payment["houses"] == ["1栋1单元101"]
    assert payment["paid_at"].endswith("+08:00") and payment["handed_over"] is False
    assert "pay_params" not in payment and payment["payer_name"] == "张三"

    # The owner sees them paid; paying again is a conflict.
    paid = {b["id"] for b in client.get("/api/v1/bills?status=paid", headers=zhangsan.headers).get_json()}
    assert paid == {fee["id"], parking["id"]}
    again = collect(client, cashier, [fee["id"]], status=409)
    assert again["error"]["code"] == "bill_not_payable"

    receipt = client.get(f"{PAYMENTS}/{payment['id']}/receipt", headers=cashier)
    html = receipt.get_data(as_text=True)
    assert receipt.status_code == 200 and receipt.mimetype == "text/html"
    for text in (payment["receipt_no"], "张三", "现金", "收款人：陈静", "物业管理费", "车位租金", "510.33",
                 "伍佰壹拾元叁角叁分", "1栋1单元101"):
        assert text in html, text

    detail = client.get(f"{PAYMENTS}/{payment['id']}", headers=login("demo-manager")).get_json()
    assert detail["id"] == payment["id"] and detail["receipt_url"].endswith("/receipt")
    # POS with its slip number, on a receipt of its own.
    water = next(b for name, b in bills.items() if name not in ("物业管理费", "车位租金"))
    pos = collect(client, cashier, [water["id"]], method="pos", reference="POS-778812")
    assert pos["reference"] == "POS-778812" and pos["receipt_no"] != payment["receipt_no"]
    assert "凭证号：POS-778812" in client.get(f"{PAYMENTS}/{pos['id']}/receipt", headers=cashier).get_data(True)


def test_desk_payment_input_is_checked(app, client, zhangsan, login):
    cashier = login("demo-cashier")
    bill = bills_of(client, cashier, house_id(app, "1-1-101"))["物业管理费"]
    for body in ({}, {"bill_ids": [bill["id"]]}, {"bill_ids": [], "method": "cash"},
                 {"bill_ids": [bill["id"]], "method": "wechat"}, {"bill_ids": ["x"], "method": "cash"}):
        assert client.post(PAYMENTS, headers=cashier, json=body).status_code == 422, body
    missing = collect(client, cashier, [bill["id"], 999999], status=404)
    assert "999999" in missing["error"]["message"]


def test_receptionists_collect_only_where_the_community_allows_it(app, client, zhangsan, login):
    desk, manager = login("demo-reception"), login("demo-manager")
    bill = bills_of(client, desk, house_id(app, "1-1-101"))["物业管理费"]
    refused = client.post(PAYMENTS, headers=desk, json={})  # refused before the body is even read
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "reception_not_allowed"
    assert client.patch("/api/v1/staff/fee-settings", headers=desk,
                        json={"reception_collects_fees": True}).status_code == 403
    allow_reception(client, manager)
    payment = collect(client, desk, [bill["id"]], method="transfer", reference="TR2026112300001")
    assert payment["collector"]["name"] == "刘芳" and payment["method"] == "transfer"
    allow_reception(client, manager, False)
    assert client.post(PAYMENTS, headers=desk, json={}).status_code == 403
    # Workers never; owners never reach /staff; anonymous is 401.
    assert client.post(PAYMENTS, headers=login("demo-eng-1"), json={}).status_code == 403
    assert client.post(PAYMENTS, headers=zhangsan.headers, json={}).status_code == 403
    assert client.post(PAYMENTS, json={}).status_code == 401
    assert client.get(PAYMENTS, headers=zhangsan.headers).status_code == 403
    assert client.get(PAYMENTS, headers=login("demo-eng-1")).status_code == 403


def test_a_bill_in_a_live_online_payment_cannot_be_taken_at_the_desk(app, client, zhangsan, login, clock):
    cashier = login("demo-cashier")
    bill = bills_of(client, cashier, house_id(app, "1-1-101"))["物业管理费"]
    online = client.post("/api/v1/payments", headers=zhangsan.headers, json={"bill_ids": [bill["id"]]}).get_json()
    assert online["status"] == "pending"
    held = collect(client, cashier, [bill["id"]], status=409)
    assert held["error"]["code"] == "bill_in_payment"
    # The owner walks away; once the attempt has expired the desk may take the bill.
    clock.shift(minutes=16)
    cashier = login("demo-cashier")
    payment = collect(client, cashier, [bill["id"]])
    with app.app_context():
        assert db.session.get(Bill, bill["id"]).locked_payment_id is None
        assert check_pending()["closed"] == 1  # the expired attempt is closed, the bill stays paid at the desk
        row = db.session.get(Bill, bill["id"])
        assert row.status == "paid" and row.paid_payment_id == payment["id"]


def test_payments_list_filters_and_scoping(app, client, zhangsan, login, frozen):
    cashier, manager, other = login("demo-cashier"), login("demo-manager"), login("other-manager")
    bills = bills_of(client, cashier, house_id(app, "1-1-101"))
    cash = collect(client, cashier, [bills["物业管理费"]["id"]])
    pos = collect(client, manager, [bills["车位租金"]["id"]], method="pos")
    listed = client.get(PAYMENTS, headers=manager).get_json()
    assert listed["total"] == 2 and [p["id"] for p in listed["items"]] == [pos["id"], cash["id"]]
    only_cash = client.get(f"{PAYMENTS}?method=cash", headers=manager).get_json()
    assert [p["id"] for p in only_cash["items"]] == [cash["id"]]
    mine = client.get(f"{PAYMENTS}?collector_id={cash['collector']['id']}", headers=manager).get_json()
    assert [p["id"] for p in mine["items"]] == [cash["id"]]
    assert client.get(f"{PAYMENTS}?date={frozen.isoformat()}", headers=cashier).get_json()["total"] == 2
    assert client.get(f"{PAYMENTS}?date={(frozen - timedelta(days=1)).isoformat()}",
                      headers=cashier).get_json()["total"] == 0
    assert client.get(f"{PAYMENTS}?date=2026-02-30", headers=cashier).status_code == 422
    # Another community's manager sees nothing of ours.
    assert client.get(PAYMENTS, headers=other).get_json()["total"] == 0
    assert client.get(f"{PAYMENTS}/{cash['id']}", headers=other).status_code == 404
    assert client.get(f"{PAYMENTS}/{cash['id']}/receipt", headers=other).status_code == 404
    assert client.post(PAYMENTS, headers=other, json={"bill_ids": [bills["物业管理费"]["id"]],
                                                      "method": "cash"}).status_code == 404
    # No receipt before a payment is paid (an online attempt still pending).
    water = next(b for name, b in bills.items() if name not in ("物业管理费", "车位租金"))
    online = client.post("/api/v1/payments", headers=zhangsan.headers, json={"bill_ids": [water["id"]]}).get_json()
    res = client.get(f"{PAYMENTS}/{online['id']}/receipt", headers=cashier)
    assert res.status_code == 409 and res.get_json()["error"]["code"] == "not_paid"


# -- the cash handover ------------------------------------------------------------------------------------------

def test_cash_handover_includes_fee_payments(app, client, zhangsan, login, run_jobs, frozen):
    cashier, manager = login("demo-cashier"), login("demo-manager")
    bills = bills_of(client, cashier, house_id(app, "1-1-101"))
    fee = collect(client, cashier, [bills["物业管理费"]["id"]])
    parking = collect(client, cashier, [bills["车位租金"]["id"]], method="pos", reference="POS-1")
    order = book(client, zhangsan.headers)  # and a paid service, taken the same day by the same cashier
    run_jobs()
    work_through(client, login("demo-eng-1"), order["id"])
    res = client.post(f"/api/v1/staff/work-orders/{order['id']}/payments", headers=cashier,
                      json={"method": "cash", "amount_fen": 5000, "receipt_no": "R-SVC-1"})
    assert res.status_code == 201, res.get_json()

    sheets = client.get("/api/v1/staff/cash-handover", headers=manager).get_json()
    assert [s["collector"]["name"] for s in sheets] == ["陈静"]
    sheet = sheets[0]
    assert sheet["total_fen"] == 21033 + 30000 + 5000 and sheet["pending_fen"] == sheet["total_fen"]
    assert {m["method"]: m["amount_fen"] for m in sheet["by_method"]} == {"cash": 26033, "pos": 30000,
                                                                           "transfer": 0}
    taken = {(p["kind"], p["receipt_no"]): p for p in sheet["payments"]}
    assert set(taken) == {("fee", fee["receipt_no"]), ("fee", parking["receipt_no"]), ("service", "R-SVC-1")}
    assert taken[("fee", fee["receipt_no"])]["description"] == "物业管理费（1 笔）"
    assert taken[("fee", fee["receipt_no"])]["order_number"] is None
    assert taken[("service", "R-SVC-1")]["order_number"] == order["number"]
    assert taken[("fee", parking["receipt_no"])]["kind_label"] == "物业收费"

    handover = client.post("/api/v1/staff/cash-handover", headers=manager,
                           json={"collector_id": sheet["collector"]["id"], "date": frozen.isoformat()})
    assert handover.status_code == 201, handover.get_json()
    assert handover.get_json()["total_fen"] == 56033 and handover.get_json()["cash_fen"] == 26033
    assert client.get(f"{PAYMENTS}/{fee['id']}", headers=cashier).get_json()["handed_over"] is True
    assert client.get("/api/v1/staff/cash-handover", headers=manager).get_json()[0]["handed_over"] is True
    # A fee taken after the handover is handed over later the same day.
    water = next(b for name, b in bills.items() if name not in ("物业管理费", "车位租金"))
    late = collect(client, cashier, [water["id"]])
    sheet = client.get("/api/v1/staff/cash-handover", headers=manager).get_json()[0]
    assert sheet["pending_fen"] == late["amount_fen"] and sheet["handed_over"] is False
    with app.app_context():
        assert db.session.scalar(select(Payment.handover_id).where(Payment.id == late["id"])) is None
        assert db.session.scalar(select(Payment.handover_id).where(Payment.id == fee["id"])) is not None


# -- staff views of bills -----------------------------------------------------------------------------------------

def test_staff_bill_list_filters_and_scoping(app, client, zhangsan, login):
    cashier = login("demo-cashier")
    everything = client.get("/api/v1/staff/bills?per_page=100", headers=cashier).get_json()
    assert everything["total"] >= 72 and everything["per_page"] == 100
    period = everything["items"][0]["period"]
    building_2 = client.get(f"/api/v1/staff/bills?building=2&period={period}&per_page=100", headers=cashier).get_json()
    assert building_2["total"] > 0 and all(b["house"]["label"].startswith("2栋") for b in building_2["items"])
    first = building_2["items"][0]
    assert set(first) >= {"id", "house", "item", "period", "amount_fen", "status", "due_date", "details",
                          "reminder_stage", "last_reminded_at", "in_payment"}
    assert client.get("/api/v1/staff/bills?status=paid", headers=cashier).get_json()["total"] == 0
    assert client.get("/api/v1/staff/bills?period=2026-13", headers=cashier).status_code == 422
    assert client.get("/api/v1/staff/bills?status=late", headers=cashier).status_code == 422
    paged = client.get("/api/v1/staff/bills?per_page=5&page=2", headers=cashier).get_json()
    assert len(paged["items"]) == 5 and paged["page"] == 2
    # The desk sees bills; workers and owners do not; another community sees none of ours.
    assert client.get("/api/v1/staff/bills", headers=login("demo-reception")).status_code == 200
    assert client.get("/api/v1/staff/bills", headers=login("demo-eng-1")).status_code == 403
    assert client.get("/api/v1/staff/bills", headers=zhangsan.headers).status_code == 403
    other = client.get(f"/api/v1/staff/bills?house_id={house_id(app, '1-1-101')}", headers=login("other-manager"))
    assert other.get_json()["total"] == 0


# -- arrears and dunning contacts ---------------------------------------------------------------------------------

def test_arrears_list_shows_the_last_contact(app, client, zhangsan, login, clock, frozen):
    desk, cashier = login("demo-reception"), login("demo-cashier")
    set_due(app, frozen + timedelta(days=20))  # nothing overdue...
    set_due(app, frozen - timedelta(days=10), "1-1-101")  # ...but 1-1-101 (10 days) and 1-1-102 (3 days)
    set_due(app, frozen - timedelta(days=3), "1-1-102")
    h101, h102 = house_id(app, "1-1-101"), house_id(app, "1-1-102")
    owed_101 = sum(b["amount_fen"] for b in bills_of(client, cashier, h101).values())

    page = client.get("/api/v1/staff/arrears", headers=desk).get_json()
    assert page["total"] == 2 and [a["house"]["id"] for a in page["items"]] == [h101, h102]
    first = page["items"][0]
    assert first["house"]["label"] == "1栋1单元101" and first["overdue_fen"] == owed_101
    assert first["days_overdue"] == 10 and first["oldest_due_date"] == (frozen - timedelta(days=10)).isoformat()
    assert first["bills"] == len(bills_of(client, cashier, h101)) and first["reminders_sent"] == 0
    assert first["owners"] == [{"name": "张三", "phone": "138****0001", "bound": True}]
    assert first["last_contact"] is None
    assert page["items"][1]["owners"] == [{"name": "李四", "phone": "138****0002", "bound": False}]
    assert page["items"][1]["days_overdue"] == 3

    assert [a["house"]["id"] for a in client.get("/api/v1/staff/arrears?min_days=5", headers=desk)
            .get_json()["items"]] == [h101]
    assert client.get("/api/v1/staff/arrears?building=2", headers=desk).get_json()["total"] == 0

    # Contacts: a phone call with a promise, then a visit; the list shows the latest.
    url = f"/api/v1/staff/houses/{h101}/dunning-contacts"
    promised = (frozen + timedelta(days=5)).isoformat()
    call = client.post(url, headers=desk, json={"method": "phone", "note": "业主出差，下周回来缴", "promised_date": promised})
    assert call.status_code == 201, call.get_json()
    assert call.get_json()["staff"]["name"] == "刘芳" and call.get_json()["method_label"] == "电话"
    first = client.get("/api/v1/staff/arrears", headers=desk).get_json()["items"][0]
    assert first["last_contact"]["method"] == "phone" and first["last_contact"]["promised_date"] == promised
    assert first["last_contact"]["note"] == "业主出差，下周回来缴" and first["last_contact"]["staff"]["name"] == "刘芳"
    clock.freeze(datetime.now(UTC) + timedelta(minutes=5))
    client.post(url, headers=cashier, json={"method": "visit", "note": "上门送达缴费通知"})
    last = client.get("/api/v1/staff/arrears", headers=desk).get_json()["items"][0]["last_contact"]
    assert last["method"] == "visit" and last["staff"]["name"] == "陈静" and last["promised_date"] is None
    history = client.get(url, headers=desk).get_json()
    assert history["total"] == 2 and [c["method"] for c in history["items"]] == ["visit", "phone"]

    # Paying clears the house from the list.
    bills = list(bills_of(client, cashier, h101).values())
    collect(client, cashier, [b["id"] for b in bills])
    assert [a["house"]["id"] for a in client.get("/api/v1/staff/arrears", headers=desk).get_json()["items"]] == [h102]


def test_dunning_contacts_are_checked_and_scoped(app, client, zhangsan, login):
    desk, worker, other = login("demo-reception"), login("demo-eng-1"), login("other-manager")
    url = f"/api/v1/staff/houses/{house_id(app, '1-1-101')}/dunning-contacts"
    for body in ({}, {"method": "message", "note": "x"}, {"method": "phone", "note": ""},
                 {"method": "phone", "note": "x", "promised_date": "2026-02-30"}):
        assert client.post(url, headers=desk, json=body).status_code == 422, body
    assert client.post(url, headers=worker, json={}).status_code == 403  # before the body is read
    assert client.post(url, headers=zhangsan.headers, json={}).status_code == 403
    assert client.post(url, headers=other, json={"method": "phone", "note": "x"}).status_code == 404
    assert client.get(url, headers=other).status_code == 404
    assert client.post("/api/v1/staff/houses/999999/dunning-contacts", headers=desk,
                       json={"method": "letter", "note": "催缴函"}).status_code == 404
    assert client.get("/api/v1/staff/arrears", headers=worker).status_code == 403
    assert client.get("/api/v1/staff/arrears", headers=zhangsan.headers).status_code == 403
    assert client.get("/api/v1/staff/arrears", headers=other).get_json()["total"] == 0
    assert client.get("/api/v1/staff/arrears?min_days=-1", headers=desk).status_code == 422
