"""The fee collection report on a hand-built period, September 2025 of the demo community:

- bills generated on 2025-09-01 (clock frozen): property fee for the 72 houses (89.50 m2: 210.33 yuan,
  120.00 m2: 282.00 yuan), parking for 1-1-101 (300.00), water paid in advance (代收) for 1-1-101 (35.00),
  1-1-102 (70.00) and 2-1-201 (17.50); 3-2-602's property fee waived (counts nowhere);
- 张三 pays 1-1-101's three bills online through the sandbox (now: after the period, so its water is
  collected but not recovered in the period);
- marked paid in the database: building 2 unit 1's property fees on 2025-09-10 without a recorded payment
  ("other"), 1-1-102's water in cash on 2025-09-20, 3-1-101's property fee in cash now;
- due dates moved so unpaid bills fall in every aging bucket (the rest are due 2025-09-16: over a year).

Checked: the JSON figures, as_of, the weekly reports, the xlsx cells, roles, validation, communities."""
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import quote
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import delete, select

from server import timeutil
from server.accounts.models import Community
from server.billing import generation
from server.billing.models import Bill, FeeItem, Meter, MeterReading, Payment, PaymentItem
from server.extensions import db
from server.timeutil import to_local, utcnow
from tests.api.test_billing import live, pay, succeed, unpaid  # noqa: F401 - live is a fixture
from tests.api.test_office import add_finance_clerk
from tests.api.test_surveys import houses

SHANGHAI = ZoneInfo("Asia/Shanghai")
REPORT = "/api/v1/staff/reports/collection"
WEEKLY = "/api/v1/staff/reports/collection/weekly"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PERIOD = "2025-09"
SMALL, LARGE = 21033, 28200  # property fee of an 89.50 / 120.00 m2 house


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def get(client, path, headers, status=200, **params):
    res = client.get(path, headers=headers, query_string=params)
    assert res.status_code == status, res.get_json()
    return res.get_json()


def _mark_paid(bill: Bill, at: datetime, method: str | None) -> None:
    payment_id = None
    if method:
        payment = Payment(community_id=bill.community_id, method=method, status="paid", amount_fen=bill.amount_fen,
                          paid_at=at, receipt_no=f"SJT-{bill.id}", created_at=at)
        payment.items = [PaymentItem(bill_id=bill.id, amount_fen=bill.amount_fen)]
        db.session.add(payment)
        db.session.flush()
        payment_id = payment.id
    bill.status, bill.paid_at, bill.paid_payment_id = "paid", at, payment_id


@pytest.fixture
def september(app, client, zhangsan, sandbox, live):  # noqa: F811 - live is the fixture
    ids = houses(app)
    today = to_local(utcnow()).date()
    with app.app_context():
        demo = db.session.scalar(select(Community).where(Community.code == "demo"))
        db.session.execute(delete(Bill).where(Bill.community_id == demo.id))  # the demo's current month
        for label, used in (("1栋1单元101", "10"), ("1栋1单元102", "20"), ("2栋1单元201", "5")):
            meter = db.session.scalar(select(Meter).where(Meter.house_id == ids[label]))
            if meter is None:
                meter = Meter(community_id=demo.id, number=f"WM-{label}", kind="water", house_id=ids[label])
                db.session.add(meter)
                db.session.flush()
            db.session.add(MeterReading(meter_id=meter.id, period=PERIOD, reading=Decimal(500) + Decimal(used),
                                        consumption=Decimal(used)))
        db.session.commit()
        timeutil.set_clock(lambda: local(2025, 9, 1, 9, 0).astimezone(UTC))
        report = generation.generate(PERIOD, ["demo"])
        timeutil.set_clock(None)
        assert report.created == 76

        def bill(label, code):
            return db.session.scalar(select(Bill).join(FeeItem).where(Bill.house_id == ids[label],
                                                                      FeeItem.code == code, Bill.period == PERIOD))

        bill("3栋2单元602", "property").status = "waived"
        for room in ("101", "102", "201", "202", "301", "302", "401", "402", "501", "502", "601", "602"):
            _mark_paid(bill(f"2栋1单元{room}", "property"), local(2025, 9, 10, 10, 0), None)
        _mark_paid(bill("1栋1单元102", "water"), local(2025, 9, 20, 15, 0), "cash")
        _mark_paid(bill("3栋1单元101", "property"), utcnow() - timedelta(seconds=1), "cash")
        for label, days in (("1栋1单元102", 5), ("1栋1单元201", 40), ("1栋1单元202", 120), ("1栋1单元301", 200),
                            ("1栋1单元302", 0), ("1栋1单元401", -10)):
            bill(label, "property").due_date = today - timedelta(days=days)
        db.session.commit()

    bills = unpaid(client, zhangsan.headers)
    assert sorted(b["amount_fen"] for b in bills) == [3500, SMALL, 30000]
    payment = pay(client, zhangsan.headers, [b["id"] for b in bills])
    assert succeed(sandbox, payment).json()["delivered"]
    return {"ids": ids, "today": today, "payment": payment}


BILLED = 36 * SMALL + 36 * LARGE + 30000 + 3500 + 7000 + 1750 - LARGE  # 3-2-602's fee waived
COLLECTED = (SMALL + 30000 + 3500) + (6 * SMALL + 6 * LARGE) + 7000 + SMALL


def test_period_figures_by_building_and_item(client, login, september):
    report = get(client, REPORT, login("demo-manager"), period=PERIOD)
    assert report["period"] == PERIOD and report["community"] == {"code": "demo", "name": "示例小区"}
    assert (report["period_start"], report["period_end"]) == ("2025-09-01", "2025-09-30")
    assert report["total"] == {"bills": 75, "billed_fen": BILLED, "paid_bills": 17, "collected_fen": COLLECTED,
                               "outstanding_fen": BILLED - COLLECTED, "collection_rate": 0.212, "houses": 71,
                               "houses_paid": 13, "household_rate": 0.183}
    assert BILLED == 1786438 and COLLECTED == 377964
    b1, b2, b3 = report["by_building"]
    assert (b1["building"], b1["bills"], b1["billed_fen"], b1["collected_fen"], b1["houses"], b1["houses_paid"]) == \
        ("1", 27, 12 * SMALL + 12 * LARGE + 40500, SMALL + 30000 + 3500 + 7000, 24, 1)
    # Building 2: unit 1 all paid except 2-1-201's water, so 11 of its 24 houses are paid up.
    assert (b2["billed_fen"], b2["collected_fen"], b2["houses"], b2["houses_paid"], b2["household_rate"]) == \
        (12 * SMALL + 12 * LARGE + 1750, 6 * SMALL + 6 * LARGE, 24, 11, 0.458)
    assert (b3["bills"], b3["billed_fen"], b3["collected_fen"], b3["houses"], b3["houses_paid"]) == \
        (23, 12 * SMALL + 11 * LARGE, SMALL, 23, 1)
    items = {i["code"]: i for i in report["by_item"]}
    assert set(items) == {"property", "parking", "water"}
    assert (items["property"]["bills"], items["property"]["collected_fen"], items["property"]["paid_bills"]) == \
        (71, 8 * SMALL + 6 * LARGE, 14)
    assert items["parking"]["collection_rate"] == 1.0 and items["parking"]["household_rate"] == 1.0
    assert (items["water"]["advance"], items["water"]["billed_fen"], items["water"]["collected_fen"]) == \
        (True, 12250, 10500)
    assert set(report["definitions"]) >= {"billed", "collected", "collection_rate", "household_rate", "arrears",
                                          "advances"}


def test_advances_recovered_in_the_period(client, login, september):
    advances = get(client, REPORT, login("demo-manager"), period=PERIOD)["advances"]
    # 1-1-101's water was paid online now, after the period: collected, but not recovered in the period.
    assert advances["period_over"] is True
    assert advances["total"] == {"bills": 3, "billed_fen": 12250, "recovered_fen": 7000, "outstanding_fen": 5250,
                                 "recovery_rate": 0.571, "fully_recovered": False}
    water = advances["items"][0]
    assert water["name"] == "水费（代收）"
    assert [(b["building"], b["billed_fen"], b["recovered_fen"]) for b in water["by_building"]] == [
        ("1", 10500, 7000), ("2", 1750, 0)]


def test_arrears_aging(client, login, september):
    arrears = get(client, REPORT, login("demo-manager"), period=PERIOD, arrears_limit=3)["arrears"]
    assert arrears["date"] == september["today"].isoformat()
    unpaid_total = BILLED - COLLECTED - LARGE - SMALL  # 1-1-302 due today, 1-1-401 in 10 days: not overdue
    assert arrears["total"] == {"houses": 56, "bills": 56, "amount_fen": unpaid_total, "buckets": {
        "d1_30": LARGE, "d31_90": SMALL, "d91_180": LARGE, "d181_365": SMALL,
        "d365_plus": unpaid_total - 2 * LARGE - 2 * SMALL}}
    b1, b2, b3 = arrears["by_building"]
    assert (b1["houses"], b1["amount_fen"], b1["buckets"]["d1_30"], b1["buckets"]["d365_plus"]) == \
        (21, 10 * SMALL + 11 * LARGE - 0, LARGE, 8 * SMALL + 9 * LARGE)
    assert (b2["houses"], b2["amount_fen"], b3["houses"], b3["amount_fen"]) == \
        (13, 6 * SMALL + 6 * LARGE + 1750, 22, 11 * SMALL + 11 * LARGE)
    assert arrears["house_count"] == 56 and arrears["houses_truncated"] is True
    first = arrears["houses"][0]  # the largest arrears first, then by house
    assert (first["house"], first["amount_fen"], first["days_overdue"], first["periods"]) == \
        ("1栋1单元102", LARGE, 5, PERIOD)
    assert len(arrears["houses"]) == 3
    assert [b["label"] for b in arrears["buckets"]] == ["1-30 天", "31-90 天", "91-180 天", "181-365 天", "365 天以上"]


def test_month_collection(client, login, september):
    month = get(client, REPORT, login("demo-manager"), period=PERIOD)["month_collection"]
    assert month["total"] == {"payments": 1, "bills": 13, "amount_fen": 6 * SMALL + 6 * LARGE + 7000}
    methods = {m["method"]: (m["payments"], m["bills"], m["amount_fen"]) for m in month["by_method"]}
    assert methods == {"cash": (1, 1, 7000), "pos": (0, 0, 0), "transfer": (0, 0, 0), "wechat": (0, 0, 0),
                       "other": (0, 12, 6 * SMALL + 6 * LARGE)}
    assert [(p["kind"], p["bills"]) for p in month["by_period"]] == [("current", 13), ("arrears", 0), ("advance", 0)]


def test_as_of_replays_the_past(client, login, september):
    report = get(client, REPORT, login("demo-manager"), period=PERIOD, as_of="2025-09-15T00:00:00+08:00")
    assert report["as_of"] == "2025-09-15T00:00:00+08:00"
    assert (report["total"]["collected_fen"], report["total"]["houses_paid"], report["total"]["collection_rate"]) == \
        (6 * SMALL + 6 * LARGE, 11, 0.165)
    assert report["arrears"]["total"]["amount_fen"] == 0  # nothing was due before 2025-09-16
    assert report["advances"]["period_over"] is False
    before = get(client, REPORT, login("demo-manager"), period=PERIOD, as_of="2025-08-31T12:00:00")
    assert before["total"]["bills"] == 0  # generated on 2025-09-01
    future = (utcnow() + timedelta(days=1)).isoformat()
    assert get(client, REPORT, login("demo-manager"), 422, period=PERIOD, as_of=future)["error"]["fields"]["as_of"]


def test_weekly_report(client, login, september):
    manager = login("demo-manager")
    year, week, _ = to_local(utcnow()).isocalendar()
    now = get(client, WEEKLY, manager, week=f"{year}-W{week:02d}")
    assert now["complete"] is False
    c = now["collection"]
    assert c["total"] == {"payments": 2, "bills": 4, "amount_fen": SMALL + 30000 + 3500 + SMALL}
    methods = {m["method"]: (m["payments"], m["bills"], m["amount_fen"]) for m in c["by_method"]}
    assert methods["wechat"] == (1, 3, SMALL + 30000 + 3500) and methods["cash"] == (1, 1, SMALL)
    assert {i["code"]: i["amount_fen"] for i in c["by_item"]} == {"property": 2 * SMALL, "parking": 30000,
                                                                  "water": 3500}
    assert [(p["kind"], p["bills"]) for p in c["by_period"]] == [("current", 0), ("arrears", 4), ("advance", 0)]
    assert now["period_to_date"]["billed_fen"] == 0 and now["period_to_date"]["collection_rate"] is None

    past = get(client, WEEKLY, manager, week="2025-W37")  # Monday 8 to Sunday 14 September 2025
    assert (past["start"], past["end"], past["complete"]) == ("2025-09-08", "2025-09-14", True)
    assert past["collection"]["total"] == {"payments": 0, "bills": 12, "amount_fen": 6 * SMALL + 6 * LARGE}
    assert past["collection"]["by_period"][0] == {"kind": "current", "label": "本期", "bills": 12,
                                                  "amount_fen": 6 * SMALL + 6 * LARGE}
    ptd = past["period_to_date"]
    assert ptd["period"] == PERIOD and ptd["as_of"].startswith("2025-09-14T23:59:59")
    assert (ptd["billed_fen"], ptd["collected_fen"], ptd["collection_rate"], ptd["houses_paid"],
            ptd["household_rate"]) == (BILLED, 6 * SMALL + 6 * LARGE, 0.165, 11, 0.155)

    sheet = openpyxl.load_workbook(io.BytesIO(client.get(WEEKLY, headers=manager, query_string={
        "week": "2025-W37", "format": "xlsx"}).data))["周报"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == "示例小区 收费周报 2025-W37（2025-09-08 至 2025-09-14）"
    assert ["合计", 12, (6 * SMALL + 6 * LARGE) / 100] in [v[:3] for v in values]


def test_xlsx_export(client, login, september):
    res = client.get(REPORT, headers=login("demo-manager"), query_string={"period": PERIOD, "format": "xlsx"})
    assert res.status_code == 200 and res.mimetype == XLSX
    assert quote("收费月报-2025-09.xlsx") in res.headers["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(res.data))
    assert wb.sheetnames == ["汇总", "按楼栋", "按项目", "欠费明细", "代收回收"]
    s = wb["汇总"]
    assert s["A1"].value == "示例小区 收费月报 2025年9月"
    assert [c.value for c in s[5]] == ["本期合计", 75, BILLED / 100, 17, COLLECTED / 100, (BILLED - COLLECTED) / 100,
                                       0.212, 71, 13, 0.183]
    assert s["C5"].number_format == "0.00" and s["E5"].number_format == "0.00" and s["G5"].number_format == "0.0%"
    b = wb["按楼栋"]
    assert [c.value for c in b[3]] == ["2栋", 25, 5925.46, 12, 2953.98, 2971.48, 0.499, 24, 11, 0.458]
    assert b["C3"].number_format == "0.00"
    items = {row[0].value: [c.value for c in row] for row in wb["按项目"].iter_rows(min_row=2)}
    assert items["水费（代收）"][:6] == ["水费（代收）", "是", 3, 122.5, 2, 105.0]
    detail = [[c.value for c in row] for row in wb["欠费明细"].iter_rows()]
    assert detail[1][:9] == ["楼栋", "户数", "笔数", "欠费合计", "1-30 天", "31-90 天", "91-180 天", "181-365 天",
                             "365 天以上"]
    assert detail[2][:5] == ["1栋", 21, 21, (10 * SMALL + 11 * LARGE) / 100, 282.0]
    houses_rows = detail[detail.index(next(r for r in detail if r[0] == "房屋")) + 1:]
    assert len(houses_rows) == 56  # the xlsx lists every house in arrears
    assert houses_rows[0][:4] == ["1栋1单元102", PERIOD, 1, 282.0] and houses_rows[0][-1] == 5
    assert wb["欠费明细"].cell(9, 4).number_format == "0.00"  # the first house's arrears
    adv = [[c.value for c in row] for row in wb["代收回收"].iter_rows(min_row=3)]
    assert adv[0] == ["水费（代收）", "全部", 3, 122.5, 70.0, 52.5, 0.571, "否"]
    assert adv[1][:2] == ["水费（代收）", "1栋"] and adv[-1][0] == "合计"


def test_who_may_see_it(app, client, login, september):
    for openid in ("demo-reception", "demo-cashier", "demo-eng-lead", "demo-eng-1"):
        res = client.get(REPORT, headers=login(openid), query_string={"period": "bad"})
        assert res.status_code == 403, openid  # the role check comes before the arguments
        assert client.get(WEEKLY, headers=login(openid), query_string={"week": "2025-W37"}).status_code == 403
    assert client.get(REPORT, headers=login("owner-zhangsan"), query_string={"period": PERIOD}).status_code == 403
    assert client.get(REPORT, query_string={"period": PERIOD}).status_code == 401
    add_finance_clerk(app)
    assert get(client, REPORT, login("demo-finance"), period=PERIOD)["total"]["billed_fen"] == BILLED
    other = get(client, REPORT, login("other-manager"), period=PERIOD)  # its own community: nothing billed
    assert other["community"]["code"] == "other"
    assert other["total"]["bills"] == 0 and other["by_building"] == [] and other["arrears"]["house_count"] == 0
    assert get(client, WEEKLY, login("other-manager"), week="2025-W37")["collection"]["total"]["bills"] == 0


@pytest.mark.parametrize("params", [{}, {"period": "2025-13"}, {"period": "202509"}, {"period": "2025-9"},
                                    {"period": PERIOD, "format": "pdf"}, {"period": PERIOD, "arrears_limit": -1},
                                    {"period": PERIOD, "as_of": "yesterday"}])
def test_bad_period_arguments(client, login, demo, params):
    res = client.get(REPORT, headers=login("demo-manager"), query_string=params)
    assert res.status_code == 422, params
    assert res.get_json()["error"]["code"] == "validation_error"


@pytest.mark.parametrize("week", ["", "2025-37", "2025-W00", "2025-W54", "2025-W53", "2025W37"])
def test_bad_weeks(client, login, demo, week):
    res = client.get(WEEKLY, headers=login("demo-manager"), query_string={"week": week})
    assert res.status_code == 422, week
