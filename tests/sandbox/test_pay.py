"""WeChat Pay APIv3 in the sandbox, driven by the real wechatpayv3 SDK over HTTP (public-key mode)."""

from __future__ import annotations

import base64
import copy
import dataclasses
import functools
import gzip
import hashlib
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, request
from wechatpayv3 import WeChatPay, WeChatPayType
from werkzeug.serving import make_server

from server.sandbox import create_sandbox_app, pay_defaults
from server.sandbox.pay.service import PayService
from server.sandbox.pay_defaults import (
    APIV3_KEY,
    MCHID,
    MERCHANT_PRIVATE_KEY_PATH,
    MERCHANT_PUBLIC_KEY_PATH,
    MERCHANT_SERIAL_NO,
    PLATFORM_PRIVATE_KEY_PATH,
    PLATFORM_PUBLIC_KEY_PATH,
    PUBLIC_KEY_ID,
    read_key,
)

APPID = "wx-demo-mp"
SCHEDULE = (0.05, 0.1, 0.2)
CONFIG = {
    "SANDBOX_APPS": f"{APPID}:demo-mp-secret",
    "SANDBOX_OA_CALLBACK_URL": "http://127.0.0.1:9/unused",
    "SANDBOX_PAY_NOTIFY_SCHEDULE": ",".join(map(str, SCHEDULE)),
    "SANDBOX_PAY_REFUND_DELAY": 0.1,
    "SANDBOX_PAY_NOTIFY_TIMEOUT": 2,
}
CST = timezone(timedelta(hours=8))
JSAPI_PATH = "/v3/pay/transactions/jsapi"
REPO_ROOT = Path(__file__).resolve().parents[2]


def serve(app: Flask) -> tuple[str, Callable[[], None]]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        thread.join()

    return f"http://127.0.0.1:{server.server_port}", stop


@functools.cache
def _pay_template(overrides: tuple[tuple[str, Any], ...]) -> WeChatPay:
    # Loading (and checking) an RSA private key takes ~50 ms: build each configuration once per run.
    params: dict[str, Any] = {
        "wechatpay_type": WeChatPayType.MINIPROG,
        "mchid": MCHID,
        "private_key": read_key(MERCHANT_PRIVATE_KEY_PATH),
        "cert_serial_no": MERCHANT_SERIAL_NO,
        "appid": APPID,
        "apiv3_key": APIV3_KEY,
        "public_key": read_key(PLATFORM_PUBLIC_KEY_PATH),
        "public_key_id": PUBLIC_KEY_ID,
        "timeout": (5, 10),
        **dict(overrides),
    }
    return WeChatPay(**params)


def make_pay(base: str | None, notify_url: str | None = None, **overrides: Any) -> WeChatPay:
    """A wechatpayv3 client in public-key mode, pointed at the sandbox at `base`."""
    pay = copy.copy(_pay_template(tuple(sorted(overrides.items()))))
    pay._core = copy.copy(pay._core)
    pay._notify_url = notify_url
    if base is not None:
        pay._core._gate_way = base
    return pay


def wait_for(predicate: Callable[[], Any], timeout: float = 3.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def cst_in(seconds: float) -> str:
    return (datetime.now(CST) + timedelta(seconds=seconds)).isoformat(timespec="seconds")


class Sandbox:
    def __init__(self, app: Flask, base: str):
        self.app = app
        self.base = base
        self.http = requests.Session()
        self.http.trust_env = False

    @property
    def service(self) -> PayService:
        return self.app.extensions["sandbox_pay"]

    def post(self, path: str, body: dict[str, Any]) -> requests.Response:
        return self.http.post(self.base + path, json=body, timeout=10)

    def get(self, url_path: str, **params: Any) -> Any:
        response = self.http.get(self.base + url_path, params=params, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def succeed(self, prepay_id: str, **extra: Any) -> dict[str, Any]:
        response = self.post("/sandbox/pay/succeed", {"prepay_id": prepay_id, **extra})
        assert response.status_code == 200, response.text
        return response.json()

    def attempts(self, **filters: Any) -> list[dict[str, Any]]:
        return self.get("/sandbox/pay/notifications", **filters)


class Receiver:
    """A stand-in for the product's notify endpoint: verifies and decrypts with the SDK, like the product."""

    def __init__(self) -> None:
        self.verifier = make_pay(None)
        self.received: list[dict[str, Any]] = []
        self.replies: list[int] = []  # scripted statuses, then 200 (or 401 when verification fails)
        self.delay = 0.0
        self.lock = threading.Lock()
        self.in_flight = self.max_in_flight = 0
        app = Flask("pay-receiver")

        @app.post("/pay/notify")
        def notify() -> tuple[str, int]:
            with self.lock:
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                time.sleep(self.delay)
                body = request.get_data()
                data = self.verifier.callback(request.headers, body)
                with self.lock:
                    status = self.replies.pop(0) if self.replies else (200 if data else 401)
                    self.received.append(
                        {
                            "headers": dict(request.headers),
                            "body": body.decode(),
                            "data": data,
                            "status": status,
                        }
                    )
                return "", status
            finally:
                with self.lock:
                    self.in_flight -= 1

        self.app = app
        self.url = ""

    def count(self) -> int:
        with self.lock:
            return len(self.received)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    app = create_sandbox_app(CONFIG)
    base, stop = serve(app)
    try:
        yield Sandbox(app, base)
    finally:
        app.extensions["sandbox_pay"].reset()  # stops pending retries and refunds
        stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    base, stop = serve(receiver.app)
    receiver.url = f"{base}/pay/notify"
    try:
        yield receiver
    finally:
        stop()


@pytest.fixture
def pay(sandbox: Sandbox, receiver: Receiver) -> WeChatPay:
    return make_pay(sandbox.base, receiver.url)


def prepay(pay: WeChatPay, out_trade_no: str, total: int = 100, **extra: Any) -> str:
    params = {
        "description": "物业费 2024 年 5 月",
        "out_trade_no": out_trade_no,
        "amount": {"total": total},
        "payer": {"openid": "o-owner-1"},
        "time_expire": cst_in(900),
        **extra,
    }
    code, message = pay.pay(**params)
    assert code == 200, message
    return json.loads(message)["prepay_id"]


def query(pay: WeChatPay, out_trade_no: str) -> dict[str, Any]:
    code, message = pay.query(out_trade_no=out_trade_no)
    assert code == 200, message
    return json.loads(message)


def error_of(answer: tuple[int, str]) -> tuple[int, str]:
    code, message = answer
    return code, json.loads(message)["code"]


# -- keys and constants -------------------------------------------------------------------------------


def test_constants_and_keys() -> None:
    assert len(APIV3_KEY.encode()) == 32
    for private_path, public_path in (
        (MERCHANT_PRIVATE_KEY_PATH, MERCHANT_PUBLIC_KEY_PATH),
        (PLATFORM_PRIVATE_KEY_PATH, PLATFORM_PUBLIC_KEY_PATH),
    ):
        assert private_path.read_text().startswith("-----BEGIN PRIVATE KEY-----")  # PKCS#8
        private = serialization.load_pem_private_key(private_path.read_bytes(), None)
        assert isinstance(private, rsa.RSAPrivateKey) and private.key_size == 2048
        derived = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        assert derived == public_path.read_bytes()
    assert pay_defaults.is_sandbox_key(read_key(MERCHANT_PRIVATE_KEY_PATH))
    body_only = "".join(read_key(PLATFORM_PUBLIC_KEY_PATH).strip().splitlines()[1:-1])
    assert pay_defaults.is_sandbox_key(body_only)  # wechatpayv3 also accepts keys without PEM lines
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other_pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    assert not pay_defaults.is_sandbox_key(other_pem)
    assert (pay_defaults.KEY_DIR / "README.md").is_file()


def test_pay_defaults_import_without_flask() -> None:
    code = "import sys, server.sandbox.pay_defaults as d; assert d.MCHID; assert 'flask' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=True)


def test_pay_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        create_sandbox_app({**CONFIG, "SANDBOX_PAY_APIV3_KEY": "short"})
    with pytest.raises(ValueError):
        create_sandbox_app({**CONFIG, "SANDBOX_PAY_NOTIFY_SCHEDULE": "1,-1"})


def test_environment_configures_pay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOX_PAY_MCHID", "1900000099")
    monkeypatch.setenv("SANDBOX_PAY_NOTIFY_SCHEDULE", "1,2")
    settings = create_sandbox_app({"SANDBOX_APPS": CONFIG["SANDBOX_APPS"]}).extensions["sandbox_pay"].settings
    assert settings.mchid == "1900000099" and settings.notify_schedule == (1.0, 2.0)
    assert settings.apiv3_key == APIV3_KEY and settings.refund_delay == 0.5


# -- orders -------------------------------------------------------------------------------------------


def test_prepay_query_and_close(pay: WeChatPay, sandbox: Sandbox) -> None:
    time_expire = cst_in(900)
    prepay_id = prepay(pay, "ORDER-0001", time_expire=time_expire, attach="room=3-402")
    assert prepay_id.startswith("wx") and len(prepay_id) == 36
    # The same request again is a retry: same prepay_id. Different parameters are a conflict.
    assert prepay(pay, "ORDER-0001", time_expire=time_expire, attach="room=3-402") == prepay_id
    assert error_of(
        pay.pay(
            description="x", out_trade_no="ORDER-0001", amount={"total": 200}, payer={"openid": "o-owner-1"}
        )
    ) == (400, "INVALID_REQUEST")

    assert query(pay, "ORDER-0001") == {
        "appid": APPID,
        "mchid": MCHID,
        "out_trade_no": "ORDER-0001",
        "trade_state": "NOTPAY",
        "trade_state_desc": "订单未支付",
        "attach": "room=3-402",
        "payer": {"openid": "o-owner-1"},
        "amount": {"total": 100, "currency": "CNY"},
    }
    # Close answers 204 with an empty body, signed over the empty body (the SDK verifies it).
    assert pay.close(out_trade_no="ORDER-0001") == (204, "")
    assert pay.close(out_trade_no="ORDER-0001") == (204, "")
    closed = query(pay, "ORDER-0001")
    assert closed["trade_state"] == "CLOSED" and "transaction_id" not in closed
    assert error_of(
        pay.pay(
            description="物业费 2024 年 5 月",
            out_trade_no="ORDER-0001",
            amount={"total": 100},
            payer={"openid": "o-owner-1"},
            time_expire=time_expire,
            attach="room=3-402",
        )
    ) == (400, "ORDER_CLOSED")
    paying_closed = sandbox.post("/sandbox/pay/succeed", {"prepay_id": prepay_id})
    assert paying_closed.status_code == 400 and paying_closed.json()["code"] == "ORDER_CLOSED"

    assert error_of(pay.query(out_trade_no="NO-SUCH-ORDER")) == (404, "ORDER_NOT_EXIST")
    assert error_of(pay.close(out_trade_no="NO-SUCH-ORDER")) == (404, "ORDER_NOT_EXIST")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"out_trade_no": "12345"}, (400, "PARAM_ERROR")),  # too short
        ({"out_trade_no": "A" * 33}, (400, "PARAM_ERROR")),
        ({"out_trade_no": "ORDER#0001"}, (400, "PARAM_ERROR")),
        ({"amount": {"total": 0}}, (400, "PARAM_ERROR")),
        ({"amount": {"total": "100"}}, (400, "PARAM_ERROR")),
        ({"amount": {"total": 100, "currency": "USD"}}, (400, "PARAM_ERROR")),
        ({"time_expire": "tomorrow"}, (400, "PARAM_ERROR")),
        ({"time_expire": "2030-01-01T00:00:00"}, (400, "PARAM_ERROR")),  # no offset
        ({"appid": "wx-unknown"}, (400, "APPID_MCHID_NOT_MATCH")),
        ({"mchid": "1900000002"}, (400, "MCH_NOT_EXISTS")),  # body mchid differs from Authorization's
    ],
)
def test_prepay_validation(pay: WeChatPay, params: dict[str, Any], expected: tuple[int, str]) -> None:
    base = {
        "description": "物业费",
        "out_trade_no": "ORDER_ok-1|*",
        "amount": {"total": 100},
        "payer": {"openid": "o-1"},
    }
    assert error_of(pay.pay(**{**base, **params})) == expected


def test_out_trade_no_with_all_allowed_characters(pay: WeChatPay) -> None:
    prepay(pay, "Ab_0-9|x*")
    assert query(pay, "Ab_0-9|x*")["out_trade_no"] == "Ab_0-9|x*"  # signed before percent-encoding


def test_requests_need_a_valid_merchant_signature(sandbox: Sandbox, receiver: Receiver) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    stranger_pem = stranger.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    body = {
        "description": "x",
        "out_trade_no": "ORDER-0002",
        "amount": {"total": 1},
        "payer": {"openid": "o"},
    }
    forged = make_pay(sandbox.base, receiver.url, private_key=stranger_pem)
    assert error_of(forged.pay(**body)) == (401, "SIGN_ERROR")
    wrong_serial = make_pay(sandbox.base, receiver.url, cert_serial_no="5AFE0000000000000000000000000002")
    assert error_of(wrong_serial.pay(**body)) == (401, "SIGN_ERROR")
    other_merchant = make_pay(sandbox.base, receiver.url, mchid="1900000002")
    assert error_of(other_merchant.pay(**body)) == (400, "MCH_NOT_EXISTS")
    missing = sandbox.http.post(sandbox.base + JSAPI_PATH, json=body, timeout=10)
    assert missing.status_code == 401 and missing.json()["code"] == "SIGN_ERROR"
    # A signature over one body does not cover another.
    pay = make_pay(sandbox.base, receiver.url)
    from wechatpayv3.utils import build_authorization

    auth = build_authorization(
        JSAPI_PATH,
        "POST",
        MCHID,
        MERCHANT_SERIAL_NO,
        pay._core._private_key,
        data=json.dumps({**body, "appid": APPID, "mchid": MCHID}),
    )
    swapped = sandbox.http.post(
        sandbox.base + JSAPI_PATH,
        headers={"Authorization": auth},
        timeout=10,
        json={**body, "appid": APPID, "mchid": MCHID, "amount": {"total": 2}},
    )
    assert swapped.status_code == 401
    # Nothing was created by any of these.
    assert sandbox.get("/sandbox/pay/orders") == []
    assert [call["status"] for call in sandbox.get("/sandbox/calls", path=JSAPI_PATH)] == [
        401,
        401,
        400,
        401,
        401,
    ]


def test_answers_are_signed_with_the_platform_key(sandbox: Sandbox, receiver: Receiver) -> None:
    # A client that trusts another platform key rejects the sandbox's answers: the SDK really verifies them.
    wrong_trust = make_pay(sandbox.base, receiver.url, public_key=read_key(MERCHANT_PUBLIC_KEY_PATH))
    with pytest.raises(Exception, match="failed to verify the signature"):
        wrong_trust.pay(
            description="x", out_trade_no="ORDER-0003", amount={"total": 1}, payer={"openid": "o"}
        )
    pay = make_pay(sandbox.base, receiver.url)
    response = requests.get(
        sandbox.base + "/v3/pay/transactions/out-trade-no/ORDER-0003?mchid=" + MCHID,
        headers={"Authorization": "x"},
        timeout=10,
    )
    assert response.headers["Wechatpay-Serial"] == PUBLIC_KEY_ID
    assert response.headers["Wechatpay-Signature-Type"] == "WECHATPAY2-SHA256-RSA2048"
    assert response.headers["Content-Type"] == "application/json"
    assert abs(int(response.headers["Wechatpay-Timestamp"]) - time.time()) < 5
    assert pay._core._verify_signature(response.headers, response.text)  # error answers are signed too


# -- payment notifications ----------------------------------------------------------------------------


def test_succeed_sends_a_signed_encrypted_transaction_success(
    pay: WeChatPay, sandbox: Sandbox, receiver: Receiver
) -> None:
    prepay_id = prepay(pay, "ORDER-0100", total=12345, attach="bill=42")
    answer = sandbox.succeed(prepay_id)
    assert answer["delivered"] is True and answer["status"] == 200 and answer["out_trade_no"] == "ORDER-0100"
    [got] = receiver.received
    data = got["data"]
    assert data is not None, "the SDK could not verify or decrypt the notification"
    assert data["event_type"] == "TRANSACTION.SUCCESS" and data["summary"] == "支付成功"
    assert data["resource_type"] == "encrypt-resource"
    transaction = data["resource"]
    assert transaction["out_trade_no"] == "ORDER-0100"
    assert transaction["transaction_id"] == answer["transaction_id"]
    assert transaction["trade_state"] == "SUCCESS" and transaction["trade_type"] == "JSAPI"
    assert transaction["amount"] == {
        "total": 12345,
        "currency": "CNY",
        "payer_total": 12345,
        "payer_currency": "CNY",
    }
    assert transaction["attach"] == "bill=42" and transaction["bank_type"] == "OTHERS"
    assert transaction["success_time"].endswith("+08:00")
    # The notification carries exactly what the query answers.
    assert query(pay, "ORDER-0100") == transaction

    raw = json.loads(got["body"])
    assert raw["id"] == answer["notification_id"]
    assert raw["resource"]["original_type"] == "transaction"
    assert raw["resource"]["algorithm"] == "AEAD_AES_256_GCM"
    assert raw["resource"]["associated_data"] == "transaction" and len(raw["resource"]["nonce"]) == 12
    assert raw["create_time"].endswith("+08:00")
    headers = got["headers"]
    assert headers["Wechatpay-Serial"] == PUBLIC_KEY_ID
    assert headers["Wechatpay-Signature-Type"] == "WECHATPAY2-SHA256-RSA2048"
    assert abs(int(headers["Wechatpay-Timestamp"]) - time.time()) < 5
    assert headers["Content-Type"] == "application/json"

    again = sandbox.post("/sandbox/pay/succeed", {"prepay_id": prepay_id})
    assert again.status_code == 400 and again.json()["code"] == "ORDERPAID"
    assert error_of(pay.close(out_trade_no="ORDER-0100")) == (400, "ORDERPAID")
    assert error_of(
        pay.pay(
            description="物业费 2024 年 5 月",
            out_trade_no="ORDER-0100",
            amount={"total": 12345},
            payer={"openid": "o-owner-1"},
        )
    ) == (400, "ORDERPAID")
    by_id = pay.query(transaction_id=answer["transaction_id"])
    assert json.loads(by_id[1])["out_trade_no"] == "ORDER-0100"


def test_notifications_are_retried_until_acknowledged(
    pay: WeChatPay, sandbox: Sandbox, receiver: Receiver
) -> None:
    receiver.replies = [500, 503, 204]
    prepay_id = prepay(pay, "ORDER-0200")
    answer = sandbox.succeed(prepay_id)
    assert answer["delivered"] is False and answer["status"] == 500
    wait_for(lambda: receiver.count() == 3)
    time.sleep(sum(SCHEDULE))  # no more after the 204
    assert receiver.count() == 3
    bodies = {item["body"] for item in receiver.received}
    assert len(bodies) == 1  # same id, same body...
    assert (
        len({item["headers"]["Wechatpay-Signature"] for item in receiver.received}) == 3
    )  # ...freshly signed
    attempts = sandbox.attempts(out_trade_no="ORDER-0200")
    assert [(a["trigger"], a["status"], a["acknowledged"]) for a in attempts] == [
        ("first", 500, False),
        ("retry", 503, False),
        ("retry", 204, True),
    ]
    assert all(a["event_type"] == "TRANSACTION.SUCCESS" and a["url"] == receiver.url for a in attempts)
    [order] = sandbox.get("/sandbox/pay/orders", out_trade_no="ORDER-0200")
    assert order["state"] == "SUCCESS" and len(order["deliveries"]) == 3


def test_retries_follow_the_schedule_then_give_up(sandbox: Sandbox) -> None:
    dead_url = "http://127.0.0.1:9/pay/notify"  # nothing listens there
    pay = make_pay(sandbox.base, dead_url)
    started = time.monotonic()
    answer = sandbox.succeed(prepay(pay, "ORDER-0300"))
    assert answer["delivered"] is False and answer["status"] is None and answer["error"]
    wait_for(lambda: len(sandbox.attempts()) == 1 + len(SCHEDULE))
    assert time.monotonic() - started >= sum(SCHEDULE)
    time.sleep(0.3)
    attempts = sandbox.attempts()
    assert len(attempts) == 1 + len(SCHEDULE)
    assert all(a["status"] is None and "ConnectionError" in a["error"] for a in attempts)


def test_notify_again_delivers_the_same_notification_concurrently(
    pay: WeChatPay, sandbox: Sandbox, receiver: Receiver
) -> None:
    prepay_id = prepay(pay, "ORDER-0400")
    first = sandbox.succeed(prepay_id)
    assert first["delivered"] is True
    receiver.delay = 0.3
    started = time.monotonic()
    answer = sandbox.post("/sandbox/pay/notify-again", {"prepay_id": prepay_id, "times": 5})
    elapsed = time.monotonic() - started
    assert answer.status_code == 200, answer.text
    assert answer.json()["statuses"] == [200] * 5
    assert receiver.count() == 6
    assert len({item["body"] for item in receiver.received}) == 1
    assert {item["data"]["id"] for item in receiver.received} == {first["notification_id"]}
    assert receiver.max_in_flight == 5  # all five were in the receiver at the same time
    assert elapsed < 5 * receiver.delay
    triggers = [a["trigger"] for a in sandbox.attempts(out_trade_no="ORDER-0400")]
    assert triggers == ["first"] + ["again"] * 5


def test_tampered_signature_fails_the_sdk_verification(
    pay: WeChatPay, sandbox: Sandbox, receiver: Receiver
) -> None:
    prepay_id = prepay(pay, "ORDER-0500")
    answer = sandbox.succeed(prepay_id, tamper="signature")
    assert answer["delivered"] is False and answer["status"] == 401
    assert receiver.received[0]["data"] is None  # wechatpayv3's callback rejected it
    wait_for(lambda: receiver.count() == 1 + len(SCHEDULE))  # retries stay tampered
    assert all(item["data"] is None for item in receiver.received)
    # The genuine notification still gets through.
    again = sandbox.post("/sandbox/pay/notify-again", {"prepay_id": prepay_id, "times": 1}).json()
    assert again["statuses"] == [200]
    assert receiver.received[-1]["data"]["resource"]["out_trade_no"] == "ORDER-0500"


def test_tampered_amount_is_validly_signed_but_differs(
    pay: WeChatPay, sandbox: Sandbox, receiver: Receiver
) -> None:
    answer = sandbox.succeed(prepay(pay, "ORDER-0600", total=100), tamper="amount")
    assert answer["status"] == 200
    [got] = receiver.received
    assert got["data"]["resource"]["amount"]["total"] == 101
    assert got["data"]["resource"]["amount"]["payer_total"] == 101
    assert query(pay, "ORDER-0600")["amount"]["total"] == 100  # the truth, for the product's cross-check


def test_tampered_timestamp_is_old_but_validly_signed(
    pay: WeChatPay, sandbox: Sandbox, receiver: Receiver
) -> None:
    answer = sandbox.succeed(prepay(pay, "ORDER-0700"), tamper="timestamp")
    assert answer["status"] == 200  # the SDK does not check freshness: the product must
    [got] = receiver.received
    assert got["data"] is not None
    age = time.time() - int(got["headers"]["Wechatpay-Timestamp"])
    assert 590 <= age <= 610
    assert [a["tamper"] for a in sandbox.attempts()] == ["timestamp"]


def test_expired_orders_cannot_be_paid(pay: WeChatPay, sandbox: Sandbox, receiver: Receiver) -> None:
    prepay_id = prepay(pay, "ORDER-0800", time_expire=cst_in(60))
    sandbox.app.extensions["sandbox"].clock = lambda: time.time() + 120
    answer = sandbox.post("/sandbox/pay/succeed", {"prepay_id": prepay_id})
    assert answer.status_code == 400 and answer.json()["code"] == "ORDER_EXPIRED"
    assert receiver.received == [] and sandbox.attempts() == []
    assert query(pay, "ORDER-0800")["trade_state"] == "NOTPAY"  # until closed, like WeChat
    [order] = sandbox.get("/sandbox/pay/orders")
    assert order["expired"] is True and order["state"] == "NOTPAY"


def test_pay_control_errors(pay: WeChatPay, sandbox: Sandbox) -> None:
    def code_of(path: str, body: dict[str, Any]) -> tuple[int, str]:
        response = sandbox.post(path, body)
        return response.status_code, response.json()["code"]

    prepay_id = prepay(pay, "ORDER-0900")
    assert code_of("/sandbox/pay/succeed", {"prepay_id": "wx-unknown"}) == (404, "ORDER_NOT_EXIST")
    assert code_of("/sandbox/pay/succeed", {}) == (400, "PARAM_ERROR")
    assert code_of("/sandbox/pay/succeed", {"prepay_id": prepay_id, "tamper": "everything"}) == (
        400,
        "PARAM_ERROR",
    )
    assert code_of("/sandbox/pay/notify-again", {"prepay_id": prepay_id}) == (400, "NO_NOTIFICATION")
    assert code_of("/sandbox/pay/notify-again", {"prepay_id": prepay_id, "times": 0}) == (400, "PARAM_ERROR")
    assert code_of("/sandbox/pay/notify-again", {"out_refund_no": "nope"}) == (404, "RESOURCE_NOT_EXISTS")
    # By out_trade_no works as well as by prepay_id.
    assert sandbox.succeed(prepay_id="", out_trade_no="ORDER-0900")["out_trade_no"] == "ORDER-0900"


# -- refunds ------------------------------------------------------------------------------------------


def test_refunds(pay: WeChatPay, sandbox: Sandbox, receiver: Receiver) -> None:
    prepay_id = prepay(pay, "ORDER-1000")
    unpaid = pay.refund(
        out_refund_no="R-0", amount={"refund": 1, "total": 100, "currency": "CNY"}, out_trade_no="ORDER-1000"
    )
    assert error_of(unpaid) == (404, "RESOURCE_NOT_EXISTS")  # unpaid orders cannot be refunded
    paid = sandbox.succeed(prepay_id)

    code, message = pay.refund(
        out_refund_no="R-1",
        amount={"refund": 30, "total": 100, "currency": "CNY"},
        out_trade_no="ORDER-1000",
        reason="多收了",
    )
    assert code == 200, message
    created = json.loads(message)
    assert created["status"] == "PROCESSING" and created["channel"] == "ORIGINAL"
    assert created["transaction_id"] == paid["transaction_id"] and created["refund_id"].startswith("50")
    assert created["amount"]["refund"] == 30 and created["amount"]["total"] == 100
    # Idempotent per out_refund_no; a conflicting reuse, a wrong total or too much are refused.
    same = json.loads(
        pay.refund(
            out_refund_no="R-1",
            amount={"refund": 30, "total": 100, "currency": "CNY"},
            transaction_id=paid["transaction_id"],
        )[1]
    )
    assert same["refund_id"] == created["refund_id"]
    assert error_of(
        pay.refund(
            out_refund_no="R-1",
            amount={"refund": 31, "total": 100, "currency": "CNY"},
            out_trade_no="ORDER-1000",
        )
    ) == (400, "INVALID_REQUEST")
    assert error_of(
        pay.refund(
            out_refund_no="R-2",
            amount={"refund": 10, "total": 99, "currency": "CNY"},
            out_trade_no="ORDER-1000",
        )
    ) == (400, "INVALID_REQUEST")
    assert error_of(
        pay.refund(
            out_refund_no="R-2",
            amount={"refund": 71, "total": 100, "currency": "CNY"},
            out_trade_no="ORDER-1000",
        )
    ) == (400, "NOT_ENOUGH")
    assert error_of(
        pay.refund(out_refund_no="R-2", amount={"refund": 10, "total": 100}, out_trade_no="ORDER-1000")
    ) == (400, "PARAM_ERROR")  # currency is required
    assert query(pay, "ORDER-1000")["trade_state"] == "REFUND"

    def refund_status() -> str:
        code, message = pay.query_refund("R-1")
        assert code == 200, message
        return json.loads(message)["status"]

    wait_for(lambda: refund_status() == "SUCCESS")
    notified = wait_for(lambda: [r for r in receiver.received if r["data"]["event_type"] == "REFUND.SUCCESS"])
    [got] = notified
    assert got["data"]["summary"] == "退款成功"
    assert json.loads(got["body"])["resource"]["original_type"] == "refund"
    resource = got["data"]["resource"]
    assert resource["out_trade_no"] == "ORDER-1000" and resource["out_refund_no"] == "R-1"
    assert resource["refund_id"] == created["refund_id"] and resource["refund_status"] == "SUCCESS"
    assert resource["success_time"].endswith("+08:00")
    assert resource["amount"] == {"total": 100, "refund": 30, "payer_total": 100, "payer_refund": 30}
    assert error_of(pay.query_refund("R-404")) == (404, "RESOURCE_NOT_EXISTS")

    # The rest can still be refunded; a refund without notify_url sends nothing.
    no_notify = make_pay(sandbox.base, None)
    assert (
        no_notify.refund(
            out_refund_no="R-3",
            amount={"refund": 70, "total": 100, "currency": "CNY"},
            out_trade_no="ORDER-1000",
        )[0]
        == 200
    )
    wait_for(lambda: json.loads(pay.query_refund("R-3")[1])["status"] == "SUCCESS")
    time.sleep(0.05)
    assert len(sandbox.attempts(event_type="REFUND.SUCCESS")) == 1
    again = sandbox.post("/sandbox/pay/notify-again", {"out_refund_no": "R-1", "times": 2}).json()
    assert again["statuses"] == [200, 200]


# -- trade bills --------------------------------------------------------------------------------------


def test_trade_bill(pay: WeChatPay, sandbox: Sandbox, receiver: Receiver) -> None:
    # 2024-05-01 16:30 UTC is already 2024-05-02 in Asia/Shanghai: the bill day follows Beijing time.
    moment = datetime(2024, 5, 1, 16, 30, tzinfo=UTC).timestamp()
    clock = {"now": moment}
    sandbox.app.extensions["sandbox"].clock = lambda: clock["now"]
    sandbox.succeed(prepay(pay, "ORDER-1100", total=100, time_expire=None, attach="a1"))
    clock["now"] += 60
    sandbox.succeed(prepay(pay, "ORDER-1101", total=25050, time_expire=None))
    clock["now"] += 60
    assert (
        pay.refund(
            out_refund_no="R-1100",
            amount={"refund": 40, "total": 100, "currency": "CNY"},
            out_trade_no="ORDER-1100",
        )[0]
        == 200
    )

    code, message = pay.trade_bill(bill_date="2024-05-02")  # wechatpayv3 asks for tar_type=GZIP
    assert code == 200, message
    bill = json.loads(message)
    assert bill["hash_type"] == "SHA1" and bill["download_url"].startswith(
        sandbox.base + "/v3/billdownload/file?"
    )
    code, content = pay.download_bill(bill["download_url"])
    assert code == 200 and isinstance(content, bytes)
    csv = gzip.decompress(content)
    assert hashlib.sha1(csv).hexdigest() == bill["hash_value"]
    lines = csv.decode("utf-8").split("\r\n")
    assert lines[-1] == ""
    header, payment1, payment2, refund, summary_header, summary = lines[:-1]
    assert header.split(",")[:3] == ["交易时间", "公众账号ID", "商户号"] and header.endswith(
        "申请退款金额,费率备注"
    )
    columns = header.split(",")

    def row(line: str) -> dict[str, str]:
        fields = line.split(",")
        assert all(value.startswith("`") for value in fields)
        return dict(zip(columns, (value[1:] for value in fields), strict=True))

    first, second, refunded = row(payment1), row(payment2), row(refund)
    assert first["交易时间"] == "2024-05-02 00:30:00" and first["商户订单号"] == "ORDER-1100"
    assert first["交易状态"] == "SUCCESS" and first["应结订单金额"] == "1.00" and first["订单金额"] == "1.00"
    assert (
        first["商户数据包"] == "a1"
        and first["商品名称"] == "物业费 2024 年 5 月"
        and first["用户标识"] == "o-owner-1"
    )
    assert first["公众账号ID"] == APPID and first["商户号"] == MCHID and first["特约商户号"] == "0"
    assert first["手续费"] == "0.01" and first["费率"] == "0.60%"
    assert second["订单金额"] == "250.50" and second["手续费"] == "1.50"
    assert refunded["交易状态"] == "REFUND" and refunded["商户退款单号"] == "R-1100"
    assert refunded["退款金额"] == "0.40" and refunded["申请退款金额"] == "0.40"
    assert refunded["退款状态"] in ("PROCESSING", "SUCCESS")  # as of when the bill was made
    assert refunded["交易时间"] == "2024-05-02 00:32:00"
    assert (
        summary_header
        == "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
    )
    assert summary == "`3,`251.50,`0.40,`0.00,`1.51,`251.50,`0.40"

    # Without tar_type the file is plain CSV; bill types select rows.
    code, message = pay._core.request("/v3/bill/tradebill?bill_date=2024-05-02&bill_type=SUCCESS")
    plain = json.loads(message)
    code, content = pay.download_bill(plain["download_url"])
    assert hashlib.sha1(content).hexdigest() == plain["hash_value"]
    text = content.decode()
    assert text.count("`SUCCESS") == 2 and "REFUND" not in text
    assert text.split("\r\n")[-3] == "总交易单数,应结订单总金额,手续费总金额,订单总金额"

    assert error_of(pay.trade_bill(bill_date="2024-05-01")) == (400, "NO_STATEMENT_EXIST")
    assert error_of(pay.trade_bill(bill_date="2024-02-30")) == (400, "PARAM_ERROR")
    assert error_of(pay.trade_bill(bill_date="2024-05-02", bill_type="EVERYTHING")) == (400, "PARAM_ERROR")
    # The download needs an Authorization like any call, and the URL expires.
    unsigned = sandbox.http.get(bill["download_url"], timeout=10)
    assert unsigned.status_code == 401
    clock["now"] += 301
    assert pay.download_bill(bill["download_url"])[0] == 400


# -- faults, call log, reset --------------------------------------------------------------------------


def test_faults_on_pay_paths(pay: WeChatPay, sandbox: Sandbox) -> None:
    def fault(**spec: Any) -> None:
        response = sandbox.post("/sandbox/faults", spec)
        assert response.status_code == 201, response.text

    fault(kind="http_500", path=JSAPI_PATH)
    code, message = pay.pay(
        description="x", out_trade_no="ORDER-1200", amount={"total": 1}, payer={"openid": "o"}
    )
    assert (code, json.loads(message)["code"]) == (500, "SYSTEM_ERROR")
    prepay(pay, "ORDER-1200")  # the fault is used up

    fault(kind="delay", seconds=0.3, path="/v3/pay/transactions/out-trade-no/{out_trade_no}")
    started = time.monotonic()
    assert query(pay, "ORDER-1200")["trade_state"] == "NOTPAY"
    assert time.monotonic() - started >= 0.3

    fault(
        kind="errcode", errcode="FREQUENCY_LIMITED", path="/v3/pay/transactions/out-trade-no/ORDER-1200/close"
    )
    assert error_of(pay.close(out_trade_no="ORDER-1200")) == (429, "FREQUENCY_LIMITED")
    assert pay.close(out_trade_no="ORDER-1200") == (204, "")

    bad = sandbox.post("/sandbox/faults", {"kind": "http_500", "path": "/v3/pay/transactions/jsapii"})
    assert bad.status_code == 400
    string_on_wechat = sandbox.post(
        "/sandbox/faults", {"kind": "errcode", "errcode": "X", "path": "/cgi-bin/message/subscribe/send"}
    )
    assert string_on_wechat.status_code == 400

    calls = sandbox.get("/sandbox/calls")
    assert [(c["path"], c["status"], c["errcode"]) for c in calls] == [
        (JSAPI_PATH, 500, "SYSTEM_ERROR"),
        (JSAPI_PATH, 200, 0),
        ("/v3/pay/transactions/out-trade-no/{out_trade_no}", 200, 0),
        ("/v3/pay/transactions/out-trade-no/{out_trade_no}/close", 429, "FREQUENCY_LIMITED"),
        ("/v3/pay/transactions/out-trade-no/{out_trade_no}/close", 204, 0),
    ]
    assert calls[1]["appid"] == APPID


def test_reset_forgets_pay_state(pay: WeChatPay, sandbox: Sandbox, receiver: Receiver) -> None:
    sandbox.service.settings = dataclasses.replace(sandbox.service.settings, notify_schedule=(0.3,))
    receiver.replies = [500] * 10
    sandbox.succeed(prepay(pay, "ORDER-1300"))
    assert sandbox.http.post(sandbox.base + "/sandbox/reset", timeout=10).status_code == 204
    assert sandbox.get("/sandbox/pay/orders") == [] and sandbox.get("/sandbox/pay/notifications") == []
    assert error_of(pay.query(out_trade_no="ORDER-1300")) == (404, "ORDER_NOT_EXIST")
    time.sleep(0.4)
    assert receiver.count() == 1  # the pending retry was dropped
    assert sandbox.get("/sandbox/pay/notifications") == []


def test_unknown_v3_paths_answer_in_pay_format(sandbox: Sandbox) -> None:
    sandbox.http.delete(sandbox.base + "/sandbox/calls", timeout=10)
    response = sandbox.http.get(sandbox.base + "/v3/pay/nothing", timeout=10)
    assert response.status_code == 404 and set(response.json()) == {"code", "message"}
    assert [(c["path"], c["errcode"], c["status"]) for c in sandbox.get("/sandbox/calls")] == [
        ("/v3/pay/nothing", "RESOURCE_NOT_EXISTS", 404)]  # seen, like every call


def test_signature_helpers_match_the_sdk() -> None:
    # The sandbox signs exactly what wechatpayv3 verifies, for non-ASCII bodies too.
    from wechatpayv3.utils import load_public_key, rsa_verify

    from server.sandbox.pay.crypto import Signer

    signer = Signer.from_key_dir()
    body = json.dumps({"message": "订单已支付"}, ensure_ascii=False)
    headers = signer.headers(body)
    public_key = load_public_key(read_key(PLATFORM_PUBLIC_KEY_PATH))
    assert rsa_verify(
        headers["Wechatpay-Timestamp"],
        headers["Wechatpay-Nonce"],
        body,
        headers["Wechatpay-Signature"],
        public_key,
    )
    assert base64.b64decode(headers["Wechatpay-Signature"])
