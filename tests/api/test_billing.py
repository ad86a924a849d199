"""Bills and paying them with WeChat Pay through the sandbox: access rules, pay params, the notification
(bad signature, stale timestamp, wrong amount, unknown order, replay, 50 concurrent duplicates), expiry,
paid-service orders, receipts and refunds."""
import threading
import time

import pytest
import requests
from werkzeug.serving import make_server

from server.billing.models import Bill, Payment, Refund
from server.billing.services import check_pending
from server.extensions import db
from tests.conftest import free_port
from tests.workflow import book, work_through


@pytest.fixture
def live(app, monkeypatch):
    """The app over real HTTP on a free port, as WeChat Pay's notify_url."""
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setitem(app.config, "PAY_NOTIFY_URL", f"http://127.0.0.1:{port}/api/v1/pay/notify")
    app.extensions.get("wechat", {}).pop("pay", None)  # rebuild the client with the new notify URL
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    app.extensions.get("wechat", {}).pop("pay", None)


@pytest.fixture
def notify_lost(app, monkeypatch):
    """WeChat Pay's notifications go nowhere (as if our endpoint were unreachable)."""
    monkeypatch.setitem(app.config, "PAY_NOTIFY_URL", "http://127.0.0.1:1/api/v1/pay/notify")
    app.extensions.get("wechat", {}).pop("pay", None)
    yield
    app.extensions.get("wechat", {}).pop("pay", None)


def unpaid(client, headers):
    bills = client.get("/api/v1/bills?status=unpaid", headers=headers).get_json()
    assert bills, "the demo owner has bills for this month"
    return bills


def pay(client, headers, bill_ids, status=201):
    res = client.post("/api/v1/payments", headers=headers, json={"bill_ids": bill_ids})
    assert res.status_code == status, res.get_json()
    return res.get_json()


def succeed(sandbox, payment, **extra):
    prepay = payment["pay_params"]["package"].removeprefix("prepay_id=")
    return sandbox.post("/sandbox/pay/succeed", json={"prepay_id": prepay, **extra})


def wait_for(predicate, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def payment_status(app, payment_id):
    with app.app_context():
        return db.session.get(Payment, payment_id).status


def test_owner_sees_own_bills_with_their_basis(client, zhangsan, login):
    bills = unpaid(client, zhangsan.headers)
    names = {b["item"] for b in bills}
    assert {"物业管理费", "车位租金"} <= names
    fee = next(b for b in bills if b["item"] == "物业管理费")
    assert fee["amount_fen"] == 21033 and fee["details"] == {"area_m2": "89.50", "price_fen": 235}
    assert set(fee) >= {"id", "item", "period", "amount_fen", "status"} and fee["status"] == "unpaid"
    assert client.get("/api/v1/bills", headers=login("owner-nobody")).get_json() == []
    assert client.get("/api/v1/bills?house_id=9999", headers=zhangsan.headers).status_code == 404
    assert client.get("/api/v1/bills").status_code == 401


def test_payment_gives_wx_request_payment_params(app, client, zhangsan, sandbox):
    bills = unpaid(client, zhangsan.headers)
    payment = pay(client, zhangsan.headers, [b["id"] for b in bills])
    assert payment["status"] == "pending" and payment["amount_fen"] == sum(b["amount_fen"] for b in bills)
    params = payment["pay_params"]
    assert set(params) == {"timeStamp", "nonceStr", "package", "signType", "paySign"}
    assert params["signType"] == "RSA" and params["package"].startswith("prepay_id=wx")
    assert 6 <= len(payment["out_trade_no"]) <= 32
    orders = sandbox.http.get(sandbox.base + "sandbox/pay/orders").json()
    assert orders[0]["out_trade_no"] == payment["out_trade_no"]
    # The same bills cannot go into a second live payment; another owner cannot pay them at all.
    again = pay(client, zhangsan.headers, [bills[0]["id"]], status=409)
    assert again["error"]["code"] == "bill_in_payment"


def test_others_cannot_pay_or_see_my_payment(client, zhangsan, login):
    bill = unpaid(client, zhangsan.headers)[0]
    other = login("owner-other")
    assert client.post("/api/v1/payments", headers=other, json={"bill_ids": [bill["id"]]}).status_code == 404
    payment = pay(client, zhangsan.headers, [bill["id"]])
    assert client.get(f"/api/v1/payments/{payment['id']}", headers=other).status_code == 404
    assert client.get(f"/api/v1/payments/{payment['id']}/receipt", headers=other).status_code == 404


def test_bad_payment_input(client, zhangsan):
    for body in ({}, {"bill_ids": []}, {"bill_ids": ["1"]}, {"bill_ids": [1], "work_order_id": 1}):
        assert client.post("/api/v1/payments", headers=zhangsan.headers, json=body).status_code == 422, body


def test_notify_pays_once_and_the_receipt_follows(app, client, zhangsan, sandbox, live, run_jobs):
    client.post("/api/v1/me/subscriptions", headers=zhangsan.headers, json={"accepted": ["tpl-payment-result"]})
    bills = unpaid(client, zhangsan.headers)
    payment = pay(client, zhangsan.headers, [b["id"] for b in bills])
    res = succeed(sandbox, payment).json()
    assert res["delivered"] and res["status"] == 204
    body = client.get(f"/api/v1/payments/{payment['id']}", headers=zhangsan.headers).get_json()
    assert body["status"] == "paid" and body["receipt_no"].startswith("SJ") and body["pay_params"] is None
    assert client.get("/api/v1/bills?status=unpaid", headers=zhangsan.headers).get_json() == []
    receipt = client.get(f"/api/v1/payments/{payment['id']}/receipt", headers=zhangsan.headers)
    html = receipt.get_data(as_text=True)
    assert receipt.status_code == 200 and body["receipt_no"] in html and "物业管理费" in html and "元" in html
    run_jobs()
    pushed = sandbox.messages(template_id="tpl-payment-result")
    assert pushed[0]["data"]["character_string1"]["value"] == body["receipt_no"]


def test_replays_and_50_concurrent_duplicates_credit_once(app, client, zhangsan, sandbox, live):
    payment = pay(client, zhangsan.headers, [unpaid(client, zhangsan.headers)[0]["id"]])
    succeed(sandbox, payment)
    prepay = payment["pay_params"]["package"].removeprefix("prepay_id=")
    res = sandbox.post("/sandbox/pay/notify-again", json={"prepay_id": prepay, "times": 50}).json()
    assert res["statuses"] == [204] * 50
    with app.app_context():
        row = db.session.get(Payment, payment["id"])
        assert row.status == "paid"
        assert db.session.query(Bill).filter_by(paid_payment_id=row.id).count() == 1
        receipts = {p.receipt_no for p in db.session.query(Payment).filter(Payment.receipt_no.is_not(None))}
        assert len(receipts) == 1  # one receipt number taken, not 51


def test_concurrent_duplicates_on_an_unpaid_payment(app, client, zhangsan, sandbox, live, monkeypatch):
    """Nothing applied yet, then 50 deliveries at once (plus WeChat's own retries): exactly one applies."""
    payment = pay(client, zhangsan.headers, [unpaid(client, zhangsan.headers)[0]["id"]])
    monkeypatch.setitem(app.config, "PAY_NOTIFY_MAX_SKEW", -1)  # we refuse the first delivery (as stale)
    assert succeed(sandbox, payment).json()["status"] == 400
    monkeypatch.setitem(app.config, "PAY_NOTIFY_MAX_SKEW", 300)
    prepay = payment["pay_params"]["package"].removeprefix("prepay_id=")
    statuses = sandbox.post("/sandbox/pay/notify-again", json={"prepay_id": prepay, "times": 50}).json()["statuses"]
    assert statuses == [204] * 50
    with app.app_context():
        assert db.session.query(Payment).filter_by(status="paid").count() == 1
        assert db.session.query(Refund).count() == 0


@pytest.mark.parametrize("tamper", ["signature", "amount", "timestamp"])
def test_tampered_notifications_change_nothing(app, client, zhangsan, sandbox, live, tamper):
    payment = pay(client, zhangsan.headers, [unpaid(client, zhangsan.headers)[0]["id"]])
    res = succeed(sandbox, payment, tamper=tamper).json()
    assert res["status"] == 400
    assert payment_status(app, payment["id"]) == "pending"


def test_notifications_that_are_not_from_wechat(client, demo, live):
    bare = requests.post(live + "/api/v1/pay/notify", data=b"{}", timeout=5)
    assert bare.status_code == 400 and bare.json() == {"code": "FAIL", "message": "通知校验失败"}
    forged = requests.post(live + "/api/v1/pay/notify", data=b'{"event_type": "TRANSACTION.SUCCESS"}', timeout=5,
                           headers={"Wechatpay-Timestamp": str(int(time.time())), "Wechatpay-Nonce": "n",
                                    "Wechatpay-Serial": "x", "Wechatpay-Signature": "AAAA",
                                    "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048"})
    assert forged.status_code == 400


@pytest.mark.parametrize("serial", ["x", "5AFE0000000000000000000000000002", "PUB_KEY_ID_0000OTHER", ""])
def test_a_notification_under_another_key_id_is_refused_without_calling_wechat_pay(client, demo, sandbox, serial):
    """In public-key mode only our PAY_PUBLIC_KEY_ID verifies; any other serial is refused at once: no
    certificate download per forged request (10 of them would otherwise be 10 calls to WeChat Pay)."""
    sandbox.http.delete(sandbox.base + "sandbox/calls")
    headers = {"Wechatpay-Timestamp": str(int(time.time())), "Wechatpay-Nonce": "n", "Wechatpay-Serial": serial,
               "Wechatpay-Signature": "AAAA", "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048"}
    for _ in range(10):
        res = client.post("/api/v1/pay/notify", data=b'{"event_type": "TRANSACTION.SUCCESS"}', headers=headers)
        assert res.status_code == 400 and res.get_json() == {"code": "FAIL", "message": "通知校验失败"}
    assert sandbox.calls() == []


def test_unknown_order_is_rejected(app, client, zhangsan, sandbox, live):
    """A genuine WeChat notification for an order we never made (e.g. another system's) changes nothing."""
    payment = pay(client, zhangsan.headers, [unpaid(client, zhangsan.headers)[0]["id"]])
    with app.app_context():  # forget it on our side: the notification now names an unknown out_trade_no
        row = db.session.get(Payment, payment["id"])
        row.out_trade_no = "WYFORGOTTEN0000000000000000"
        db.session.commit()
    assert succeed(sandbox, payment).json()["status"] == 400
    assert payment_status(app, payment["id"]) == "pending"


def test_lost_notification_is_found_by_the_query_job(app, client, zhangsan, sandbox, notify_lost, clock):
    payment = pay(client, zhangsan.headers, [unpaid(client, zhangsan.headers)[0]["id"]])
    assert succeed(sandbox, payment).json()["delivered"] is False
    assert payment_status(app, payment["id"]) == "pending"
    clock.shift(minutes=4)
    with app.app_context():
        assert check_pending()["applied"] == 1
    assert payment_status(app, payment["id"]) == "paid"


def test_expired_payment_is_closed_and_the_bills_released(app, client, zhangsan, sandbox, live, clock):
    bill = unpaid(client, zhangsan.headers)[0]
    payment = pay(client, zhangsan.headers, [bill["id"]])
    clock.shift(minutes=16)
    with app.app_context():
        assert check_pending()["closed"] == 1
    assert payment_status(app, payment["id"]) == "closed"
    orders = sandbox.http.get(sandbox.base + "sandbox/pay/orders").json()
    assert orders[0]["state"] == "CLOSED"
    assert succeed(sandbox, payment).status_code == 400  # the owner can no longer pay the closed order
    clock.shift(minutes=-16)
    again = pay(client, zhangsan.headers, [bill["id"]])  # a fresh attempt, a fresh out_trade_no
    assert again["out_trade_no"] != payment["out_trade_no"]


def test_wechat_pay_down_closes_the_attempt(app, client, zhangsan, sandbox):
    sandbox.fault(kind="http_500", count=1, path="/v3/pay/transactions/jsapi")
    bill = unpaid(client, zhangsan.headers)[0]
    res = client.post("/api/v1/payments", headers=zhangsan.headers, json={"bill_ids": [bill["id"]]})
    assert res.status_code == 502
    with app.app_context():
        assert db.session.query(Payment).one().status == "closed"  # written, then closed: nothing dangling
    pay(client, zhangsan.headers, [bill["id"]])  # and the bill can be paid now


def test_paid_service_order_is_payable_online(app, client, zhangsan, login, sandbox, live, run_jobs):
    order = book(client, zhangsan.headers)
    run_jobs()
    res = client.post("/api/v1/payments", headers=zhangsan.headers, json={"work_order_id": order["id"]})
    assert res.status_code == 409 and res.get_json()["error"]["code"] == "not_payable"  # not completed yet
    work_through(client, login("demo-eng-1"), order["id"])
    payment = client.post("/api/v1/payments", headers=zhangsan.headers, json={"work_order_id": order["id"]}).get_json()
    assert payment["amount_fen"] == 5000
    succeed(sandbox, payment)
    detail = client.get(f"/api/v1/work-orders/{order['id']}", headers=zhangsan.headers).get_json()
    assert detail["paid_fen"] == 5000
    assert client.post("/api/v1/payments", headers=zhangsan.headers,
                       json={"work_order_id": order["id"]}).get_json()["error"]["code"] == "already_paid"


def desk_takes(client, headers, order_id, receipt_no, amount_fen=5000):
    return client.post(f"/api/v1/staff/work-orders/{order_id}/payments", headers=headers,
                       json={"method": "cash", "amount_fen": amount_fen, "receipt_no": receipt_no})


def test_an_order_being_paid_online_is_not_taken_at_the_desk(app, client, zhangsan, login, sandbox, live,
                                                              run_jobs):
    """The owner starts paying on the phone, the desk is asked for cash, then WeChat Pay succeeds: paid once."""
    order = book(client, zhangsan.headers)
    run_jobs()
    work_through(client, login("demo-eng-1"), order["id"])
    payment = client.post("/api/v1/payments", headers=zhangsan.headers, json={"work_order_id": order["id"]}).get_json()
    assert payment["status"] == "pending"
    cashier = login("demo-cashier")
    refused = desk_takes(client, cashier, order["id"], "R-DESK-1")
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "order_in_payment"
    assert succeed(sandbox, payment).json()["status"] == 204
    detail = client.get(f"/api/v1/work-orders/{order['id']}", headers=zhangsan.headers).get_json()
    assert detail["paid_fen"] == 5000
    with app.app_context():
        assert db.session.query(Refund).count() == 0  # nothing paid twice, nothing to give back
    assert desk_takes(client, cashier, order["id"], "R-DESK-2").get_json()["error"]["code"] == "overpaid"


def test_the_desk_takes_an_order_once_the_online_attempt_is_cancelled_or_expired(app, client, zhangsan, login,
                                                                                 sandbox, run_jobs, clock):
    order = book(client, zhangsan.headers)
    run_jobs()
    work_through(client, login("demo-eng-1"), order["id"])
    start = lambda: client.post("/api/v1/payments", headers=zhangsan.headers,
                                json={"work_order_id": order["id"]}).get_json()
    first = start()
    cancelled = client.post(f"/api/v1/payments/{first['id']}/cancel", headers=zhangsan.headers).get_json()
    assert cancelled["status"] == "closed"
    second = start()
    assert second["status"] == "pending"
    clock.shift(minutes=16)  # the owner walked away: the attempt has expired (WeChat Pay no longer takes it)
    res = desk_takes(client, login("demo-cashier"), order["id"], "R-DESK-3")
    assert res.status_code == 201, res.get_json()


def test_refund_requested_approved_and_sent(app, client, zhangsan, login, sandbox, live, run_jobs):
    bills = unpaid(client, zhangsan.headers)
    parking = next(b for b in bills if b["item"] == "车位租金")
    payment = pay(client, zhangsan.headers, [parking["id"]])
    succeed(sandbox, payment)
    cashier, manager = login("demo-cashier"), login("demo-manager")
    bad = client.post(f"/api/v1/staff/payments/{payment['id']}/refunds", headers=cashier,
                      json={"amount_fen": 999999, "reason": "退租"})
    assert bad.status_code == 409
    refund = client.post(f"/api/v1/staff/payments/{payment['id']}/refunds", headers=cashier,
                         json={"amount_fen": parking["amount_fen"], "reason": "车位退租",
                               "bill_ids": [parking["id"]]}).get_json()
    assert refund["status"] == "requested" and refund["out_refund_no"]
    assert client.post(f"/api/v1/staff/refunds/{refund['id']}/review", headers=cashier,
                       json={"approve": True}).status_code == 403
    assert client.post(f"/api/v1/staff/refunds/{refund['id']}/review", headers=login("other-manager"),
                       json={"approve": True}).status_code == 404
    approved = client.post(f"/api/v1/staff/refunds/{refund['id']}/review", headers=manager,
                           json={"approve": True}).get_json()
    assert approved["status"] == "approved"
    run_jobs()  # sends it; the sandbox answers REFUND.SUCCESS a moment later
    assert wait_for(lambda: payment_status(app, payment["id"]) == "refunded")
    with app.app_context():
        assert db.session.get(Bill, parking["id"]).status == "refunded"
        assert db.session.get(Refund, refund["id"]).status == "success"
    listed = client.get("/api/v1/staff/refunds?status=success", headers=manager).get_json()
    assert [r["id"] for r in listed] == [refund["id"]]


def test_owner_cancels_a_pending_payment_to_pay_another_selection(app, client, zhangsan, sandbox):
    bills = unpaid(client, zhangsan.headers)
    first = pay(client, zhangsan.headers, [b["id"] for b in bills])
    assert [line["amount_fen"] for line in first["items"]] == [b["amount_fen"] for b in sorted(bills, key=lambda b: b["id"])]
    cancelled = client.post(f"/api/v1/payments/{first['id']}/cancel", headers=zhangsan.headers).get_json()
    assert cancelled["status"] == "closed"
    orders = sandbox.http.get(sandbox.base + "sandbox/pay/orders").json()
    assert orders[0]["state"] == "CLOSED"  # it can no longer be paid at WeChat
    assert all(not b["in_payment"] for b in unpaid(client, zhangsan.headers))
    second = pay(client, zhangsan.headers, [bills[0]["id"]])
    assert client.get("/api/v1/payments", headers=zhangsan.headers).get_json()[0]["id"] == second["id"]
    assert client.post(f"/api/v1/payments/{first['id']}/cancel", headers=zhangsan.headers).status_code == 409
