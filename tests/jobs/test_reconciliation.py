"""The daily WeChat Pay reconciliation: the bill file (pure: parsing, gzip, hash, matching), then against the
sandbox: payments made through it match; then every kind of difference (a payment pending here though paid
at WeChat, a paid payment WeChat does not know, an amount edited here, a trade we never made, a refund we
never asked for), who sees which difference, resolving, re-running (idempotent, resolutions kept), a hash
mismatch (failed, nothing matched), days without a bill, the periodic job and the CLI."""
import gzip
import hashlib
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from jobs import billing as billing_jobs
from server.accounts.models import Community
from server.billing import reconciliation
from server.timeutil import day_bounds
from server.billing.models import Payment, ReconciliationDiff, ReconciliationRun
from server.billing.reconciliation_compare import (
    BillError,
    LocalPayment,
    LocalRefund,
    Trade,
    compare,
    describe,
    diff_key,
    fen,
    parse_bill,
    read_bill,
    unpack,
    verify_hash,
)
from server.extensions import db
from server.timeutil import utcnow
from server.wechat.pay import PayClient, pay_client
from tests.api.test_billing import live, pay, succeed, unpaid  # noqa: F401 - live is a fixture
from tests.api.test_office import add_finance_clerk

SHANGHAI = ZoneInfo("Asia/Shanghai")
RUNS = "/api/v1/staff/reconciliation/runs"
HEADER = ("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,"
          "应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,"
          "手续费,费率,订单金额,申请退款金额,费率备注")
SUMMARY = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"


def line(time, state, tx, out_trade_no, amount="0.00", refund_id="0", out_refund_no="0", refund="0.00",
         refund_status=""):
    order = amount if state == "SUCCESS" else "0.00"
    values = [time, "wx-demo-appid", "1900000001", "0", "", tx, out_trade_no, "openid", "JSAPI", state, "OTHERS",
              "CNY", order, "0.00", refund_id, out_refund_no, refund, "0.00", "ORIGINAL" if refund_id != "0" else "",
              refund_status, "物业管理费", "", "0.01", "0.60%", order, refund, ""]
    return ",".join("`" + v for v in values)


def bill_text(lines, count=None, paid="310.33", refunded="5.00"):
    summary = ",".join("`" + v for v in [str(len(lines) if count is None else count), paid, refunded, "0.00", "1.86",
                                         paid, refunded])
    return "\r\n".join([HEADER, *lines, SUMMARY, summary]) + "\r\n"


LINES = [line("2026-11-23 10:00:00", "SUCCESS", "4200001", "WYA", "210.33"),
         line("2026-11-23 11:00:00", "SUCCESS", "4200002", "WYB", "100.00"),
         line("2026-11-23 12:00:00", "REFUND", "4200002", "WYB", refund_id="5000001", out_refund_no="RF1",
              refund="5.00", refund_status="SUCCESS")]


# -- pure ------------------------------------------------------------------------------------------------

def test_parse_the_bill_strips_backquotes_and_reads_yuan_as_fen():
    bill = parse_bill("\ufeff" + bill_text(LINES))
    assert [(t.state, t.out_trade_no, t.amount_fen, t.out_refund_no, t.refund_fen) for t in bill.trades] == [
        ("SUCCESS", "WYA", 21033, None, 0), ("SUCCESS", "WYB", 10000, None, 0), ("REFUND", "WYB", 0, "RF1", 500)]
    assert bill.trades[0].transaction_id == "4200001" and bill.trades[2].refund_status == "SUCCESS"
    assert bill.summary["总交易单数"] == "3" and bill.summary["订单总金额"] == "310.33"


@pytest.mark.parametrize(("text", "error"), [
    ("", "为空"),
    ("a,b,c\r\n`1,`2,`3\r\n", "表头"),
    (HEADER + "\r\n" + LINES[0] + "\r\n", "汇总"),
    (bill_text(LINES, count=4), "交易单数"),
    (bill_text(LINES, paid="310.34"), "订单总金额"),
    (bill_text(LINES, refunded="5.01"), "退款总金额"),
    (bill_text([LINES[0] + ",`extra"], paid="210.33", refunded="0.00"), "列"),
    (bill_text([line("t", "SUCCESS", "1", "WYA", "1.234")], paid="1.23", refunded="0.00"), "整分"),
])
def test_a_bill_that_does_not_add_up_is_refused(text, error):
    with pytest.raises(BillError, match=error):
        parse_bill(text)


def test_amounts_gzip_and_hash():
    assert fen("210.33") == 21033 and fen("0.1") == 10 and fen("-1.50") == -150
    with pytest.raises(BillError):
        fen("abc")
    raw = bill_text(LINES).encode()
    assert unpack(gzip.compress(raw)) == raw and unpack(raw) == raw
    with pytest.raises(BillError, match="解压"):
        unpack(gzip.compress(raw)[:40])
    verify_hash(raw, "SHA1", hashlib.sha1(raw).hexdigest().upper())
    with pytest.raises(BillError, match="校验失败"):
        verify_hash(raw + b" ", "SHA1", hashlib.sha1(raw).hexdigest())
    with pytest.raises(BillError):
        verify_hash(raw, "MD5", "x")


def test_compare_finds_every_kind():
    paid_at = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    trades = [Trade("t", "SUCCESS", "WYA", "4200001", 21033),  # matched
              Trade("t", "SUCCESS", "WYB", "4200002", 10000),  # amount differs
              Trade("t", "SUCCESS", "WYC", "4200003", 500),  # pending here
              Trade("t", "SUCCESS", "WYD", "4200004", 700),  # unknown here
              Trade("t", "REFUND", "WYA", "4200001", 0, "RF1", "5001", 500, "SUCCESS"),  # matched refund
              Trade("t", "REFUND", "WYA", "4200001", 0, "RF2", "5002", 300, "SUCCESS"),  # still processing here
              Trade("t", "REFUND", "WYA", "4200001", 0, "RF3", "5003", 100, "PROCESSING")]  # unknown here
    payments = {
        "WYA": LocalPayment(1, 7, "WYA", "wechat", "partially_refunded", 21033, paid_at, "4200001"),
        "WYB": LocalPayment(2, 7, "WYB", "wechat", "paid", 10001, paid_at, "4200002"),
        "WYC": LocalPayment(3, 8, "WYC", "wechat", "pending", 500),
    }
    refunds = {"RF1": LocalRefund(1, 7, "RF1", "WYA", "success", 500),
               "RF2": LocalRefund(2, 7, "RF2", "WYA", "processing", 300)}
    only_here = LocalPayment(4, 7, "WYE", "wechat", "paid", 900, paid_at)
    matched, diffs = compare(trades, payments, refunds, [payments["WYA"], payments["WYB"], only_here])
    assert matched == 2
    assert [(d.kind, d.out_trade_no, d.community_id) for d in diffs] == [
        ("amount", "WYB", 7), ("status", "WYC", 8), ("missing_here", "WYD", None), ("refund", "WYA", 7),
        ("refund", "WYA", 7), ("missing_there", "WYE", 7)]
    amount = diffs[0]
    assert amount.remote["amount_fen"] == 10000 and amount.local["amount_fen"] == 10001
    assert amount.local["paid_at"] == "2026-11-23T10:00:00+08:00"
    assert describe(amount.kind, amount.remote, amount.local) == "金额不符：微信 100.00 元，本系统 100.01 元"
    assert "待" not in describe("status", diffs[1].remote, diffs[1].local)
    assert describe("refund", diffs[4].remote, diffs[4].local).startswith("微信有退款 RF3")
    assert describe("missing_there", {}, diffs[5].local) == "本系统记录已支付（9.00 元），微信当日账单中没有"
    # Another transaction id for the same order is a status difference too.
    other = LocalPayment(1, 7, "WYA", "wechat", "paid", 21033, paid_at, "4299999")
    assert [d.kind for d in compare(trades[:1], {"WYA": other}, {}, [])[1]] == ["status"]


def test_read_bill_unpacks_checks_the_hash_and_parses():
    raw = bill_text(LINES).encode()
    bill = read_bill(gzip.compress(raw), "SHA1", hashlib.sha1(raw).hexdigest())
    assert [t.out_trade_no for t in bill.trades] == ["WYA", "WYB", "WYB"]
    with pytest.raises(BillError, match="校验失败"):
        read_bill(gzip.compress(raw), "SHA1", hashlib.sha1(raw + b" ").hexdigest())
    latin = "\xff".encode("latin-1")
    with pytest.raises(UnicodeDecodeError):
        read_bill(latin, None, hashlib.sha1(latin).hexdigest())


def test_bill_days_are_beijing_days_and_a_difference_is_known_again():
    start, end = day_bounds(date(2026, 11, 23), "Asia/Shanghai")
    assert start.astimezone(UTC) == datetime(2026, 11, 22, 16, 0, tzinfo=UTC) and end - start == timedelta(days=1)
    assert diff_key("refund", "WYA", {"out_refund_no": "RF1"}, {}) == ("refund", "WYA", "RF1")
    assert diff_key("refund", "WYA", {}, {"out_refund_no": "RF2"}) == ("refund", "WYA", "RF2")
    assert diff_key("amount", "WYB", {"amount_fen": 1}, {"amount_fen": 2}) == ("amount", "WYB", None)


# -- against the sandbox --------------------------------------------------------------------------------

def today() -> date:
    return datetime.now(SHANGHAI).date()


@pytest.fixture
def paid_three(app, client, zhangsan, sandbox, live):  # noqa: F811 - live is the fixture
    """Three of 张三's bills paid online, one payment each."""
    payments = []
    for bill in unpaid(client, zhangsan.headers)[:3]:
        payment = pay(client, zhangsan.headers, [bill["id"]])
        assert succeed(sandbox, payment).json()["delivered"]
        payments.append(payment)
    return payments


def diffs_of(app, day):
    with app.app_context():
        run = db.session.scalar(select(ReconciliationRun).where(ReconciliationRun.day == day))
        return run, [(d.kind, d.out_trade_no) for d in db.session.scalars(
            select(ReconciliationDiff).where(ReconciliationDiff.run_id == run.id).order_by(ReconciliationDiff.id))]


def run_day(app, day):
    with app.app_context():
        record = reconciliation.run(day)
        return record.status, record.trades, record.matched, record.differences


def test_payments_made_through_the_sandbox_match(app, paid_three, sandbox):
    assert run_day(app, today()) == ("matched", 3, 3, 0)
    run, diffs = diffs_of(app, today())
    assert diffs == [] and run.hash_value and run.error is None
    calls = [c["path"] for c in sandbox.calls()]
    assert "/v3/bill/tradebill" in calls and "/v3/billdownload/file" in calls


def make_differences(app, sandbox, live_url, payments):
    """p1 pending here (paid at WeChat), p2's amount edited here, a paid payment WeChat never saw, a trade
    at WeChat we never made, a refund at WeChat we never asked for; p3 untouched."""
    p1, p2, _p3 = payments
    with app.app_context():
        row = db.session.get(Payment, p1["id"])
        row.status, row.paid_at = "pending", None
        db.session.get(Payment, p2["id"]).amount_fen += 1
        db.session.add(Payment(community_id=row.community_id, method="wechat", status="paid", amount_fen=900,
                               out_trade_no="WYLOCALONLY0000000000000001", paid_at=utcnow(), created_at=utcnow()))
        db.session.commit()
        client = pay_client()
        client.jsapi(out_trade_no="WYFOREIGN00000000000000001", description="别的系统的订单", total_fen=1234,
                     openid="owner-x", expires_at=datetime.now(SHANGHAI) + timedelta(minutes=15))
        client.refund(out_trade_no=p2["out_trade_no"], out_refund_no="RFNOTOURS0001", refund_fen=100,
                      total_fen=p2["amount_fen"], reason="测试", notify_url=live_url + "/api/v1/pay/notify")
    assert sandbox.post("/sandbox/pay/succeed", json={"out_trade_no": "WYFOREIGN00000000000000001"}).ok


EXPECTED_KINDS = ["status", "amount", "missing_here", "refund", "missing_there"]


def test_every_kind_of_difference_is_recorded(app, paid_three, sandbox, live):  # noqa: F811
    make_differences(app, sandbox, live, paid_three)
    assert run_day(app, today()) == ("differences", 5, 1, 5)
    _run, diffs = diffs_of(app, today())
    p1, p2, _ = paid_three
    # In the bill's order (the refund was accepted before the foreign order was paid), then ours.
    assert diffs == [("status", p1["out_trade_no"]), ("amount", p2["out_trade_no"]), ("refund", p2["out_trade_no"]),
                     ("missing_here", "WYFOREIGN00000000000000001"), ("missing_there", "WYLOCALONLY0000000000000001")]
    with app.app_context():
        rows = {d.kind: d for d in db.session.scalars(select(ReconciliationDiff))}
        assert rows["missing_here"].community_id is None and rows["missing_here"].remote["amount_fen"] == 1234
        assert rows["amount"].remote["amount_fen"] == p2["amount_fen"]
        assert rows["amount"].local["amount_fen"] == p2["amount_fen"] + 1
        assert rows["status"].local["status"] == "pending" and rows["status"].remote["trade_state"] == "SUCCESS"
        assert rows["refund"].remote["out_refund_no"] == "RFNOTOURS0001" and rows["refund"].local == {}
        assert rows["missing_there"].local["amount_fen"] == 900 and rows["missing_there"].remote == {}


def test_staff_see_resolve_and_a_rerun_keeps_resolutions(app, client, login, paid_three, sandbox, live):  # noqa: F811
    make_differences(app, sandbox, live, paid_three)
    with app.app_context():
        reconciliation.run(today())
    add_finance_clerk(app)
    manager, finance, other = login("demo-manager"), login("demo-finance"), login("other-manager")
    assert client.get(RUNS, headers=login("demo-reception")).status_code == 403
    assert client.get(RUNS, headers=login("demo-cashier")).status_code == 403
    assert client.get(RUNS, headers=login("owner-zhangsan")).status_code == 403

    page = client.get(RUNS, headers=manager).get_json()
    assert page["total"] == 1
    run = page["items"][0]
    assert (run["day"], run["status"], run["status_label"], run["trades"], run["matched"], run["differences"]) == \
        (today().isoformat(), "differences", "有差异", 5, 1, 5)
    assert (run["visible_differences"], run["open_differences"]) == (4, 4)  # not the unplaceable trade
    assert client.get(RUNS + "?status=matched", headers=manager).get_json()["total"] == 0
    assert client.get(RUNS + "?status=bogus", headers=manager).status_code == 422

    mine = client.get(f"{RUNS}/{run['id']}", headers=manager).get_json()
    assert sorted(d["kind"] for d in mine["diffs"]) == ["amount", "missing_there", "refund", "status"]
    amount = next(d for d in mine["diffs"] if d["kind"] == "amount")
    assert amount["kind_label"] == "金额不符" and amount["description"].startswith("金额不符：微信")
    assert amount["resolved"] is False
    theirs = client.get(f"{RUNS}/{run['id']}", headers=finance).get_json()
    assert sorted(d["kind"] for d in theirs["diffs"]) == sorted(EXPECTED_KINDS)
    foreign = next(d for d in theirs["diffs"] if d["kind"] == "missing_here")
    assert foreign["community_id"] is None and "本系统没有" in foreign["description"]
    assert client.get(f"{RUNS}/{run['id']}", headers=other).get_json()["diffs"] == []
    assert client.get(f"{RUNS}/999", headers=manager).status_code == 404

    resolve = "/api/v1/staff/reconciliation/diffs/{}/resolve"
    assert client.post(resolve.format(foreign["id"]), headers=manager, json={"note": "x"}).status_code == 404
    assert client.post(resolve.format(amount["id"]), headers=other, json={"note": "x"}).status_code == 404
    assert client.post(resolve.format(amount["id"]), headers=manager, json={"note": ""}).status_code == 422
    assert client.post(resolve.format(amount["id"]), headers=login("demo-reception"), json={}).status_code == 403
    done = client.post(resolve.format(amount["id"]), headers=manager, json={"note": "已与微信核实，本系统金额有误"})
    assert done.status_code == 200
    body = done.get_json()
    assert body["resolved"] is True and body["resolved_by"] == "王建国" and body["note"].startswith("已与微信核实")
    assert client.post(resolve.format(amount["id"]), headers=manager, json={"note": "again"}).status_code == 409
    assert client.post(resolve.format(foreign["id"]), headers=finance, json={"note": "别的系统的订单"}).status_code == 200

    # Re-running the day replaces its differences; the ones found again keep their resolution.
    assert run_day(app, today()) == ("differences", 5, 1, 5)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ReconciliationRun)) == 1
        assert db.session.scalar(select(func.count()).select_from(ReconciliationDiff)) == 5
        notes = {d.kind: d.note for d in db.session.scalars(select(ReconciliationDiff))}
    assert notes == {"status": None, "amount": "已与微信核实，本系统金额有误", "missing_here": "别的系统的订单",
                     "refund": None, "missing_there": None}
    again = client.get(RUNS, headers=manager).get_json()["items"][0]
    assert (again["visible_differences"], again["open_differences"]) == (4, 3)


def test_hash_mismatch_fails_the_run_and_matches_nothing(app, paid_three, monkeypatch):
    assert run_day(app, today()) == ("matched", 3, 3, 0)
    real = PayClient.download

    def tampered(self, url):
        raw = gzip.decompress(real(self, url))
        return gzip.compress(raw.replace(b"`SUCCESS", b"`SUCCESS ", 1))

    monkeypatch.setattr(PayClient, "download", tampered)
    assert run_day(app, today()) == ("failed", 0, 0, 0)
    run, diffs = diffs_of(app, today())
    assert "校验失败" in run.error and diffs == [] and run.hash_value
    monkeypatch.setattr(PayClient, "download", real)
    assert run_day(app, today()) == ("matched", 3, 3, 0)  # the next run of the day replaces the failed one


def test_wechat_errors_fail_the_run(app, paid_three, sandbox):
    sandbox.fault(kind="http_500", count=1, path="/v3/bill/tradebill")
    assert run_day(app, today())[0] == "failed"
    run, _ = diffs_of(app, today())
    assert "SYSTEM_ERROR" in run.error


def test_days_without_a_bill(app, demo, sandbox):
    assert run_day(app, date(2020, 1, 1)) == ("no_bill", 0, 0, 0)
    with app.app_context():
        community_id = db.session.scalar(select(Community.id).where(Community.code == "demo"))
        paid_at = datetime(2020, 1, 2, 12, 0, tzinfo=SHANGHAI)
        db.session.add(Payment(community_id=community_id, method="wechat", status="paid", amount_fen=500,
                               out_trade_no="WYLOST0000000000000000001", paid_at=paid_at, created_at=paid_at))
        db.session.add(Payment(community_id=community_id, method="cash", status="paid", amount_fen=700,
                               paid_at=paid_at, created_at=paid_at))  # desk money is not in WeChat's bill
        db.session.commit()
    assert run_day(app, date(2020, 1, 2)) == ("no_bill", 0, 0, 1)
    assert diffs_of(app, date(2020, 1, 2))[1] == [("missing_there", "WYLOST0000000000000000001")]
    assert run_day(app, date(2020, 1, 3)) == ("no_bill", 0, 0, 0)  # 00:00 Beijing starts the next day


def test_the_periodic_job_runs_yesterday_and_retries_failed_days(app, paid_three, clock):
    with app.app_context():
        db.session.add(ReconciliationRun(day=today() - timedelta(days=3), status="failed", error="网络错误"))
        db.session.commit()
    clock.shift(days=1)  # tomorrow morning: yesterday is the day the payments were made
    summary = billing_jobs.reconcile_previous_day()
    assert f"{today()}: matched (0 differences)" in summary
    assert f"{today() - timedelta(days=3)}: no_bill" in summary
    with app.app_context():
        statuses = dict(db.session.execute(select(ReconciliationRun.day, ReconciliationRun.status)).all())
    assert statuses == {today(): "matched", today() - timedelta(days=3): "no_bill"}


def test_the_cron_entry_and_the_cli(app, paid_three):
    from jobs import cron

    entry = next(p for p in cron.PERIODIC if p.func == "jobs.billing.reconcile_previous_day")
    assert entry.cron == "30 10 * * *" and entry.interval is None
    result = app.test_cli_runner().invoke(args=["bills", "reconcile", "--day", today().isoformat()])
    assert result.exit_code == 0, result.output
    assert f"{today()}：一致，交易 3 笔，一致 3 笔，差异 0 条" in result.output
    bad = app.test_cli_runner().invoke(args=["bills", "reconcile", "--day", "2026-13-01"])
    assert bad.exit_code != 0 and "YYYY-MM-DD" in bad.output
