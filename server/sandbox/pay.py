"""WeChat Pay APIv3 in the sandbox: JSAPI orders, query, close, refunds, trade bills, notifications.

The wire formats are WeChat Pay's (see the "WeChat Pay" section of ``server.sandbox.app``'s
docstring for the conventions): every request must carry a valid ``Authorization`` header signed
with the merchant key, every answer is signed with the platform key, and payment and refund
results are pushed to the merchant's ``notify_url`` as signed, AES-256-GCM encrypted
notifications, retried until acknowledged.

State lives in `PayState` behind one lock; outbound HTTP and sleeping happen outside it.
Background threads (notification retries, refund completion) carry the state's generation and
stop doing anything once ``/sandbox/reset`` has moved it on.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import itertools
import json
import re
import secrets
import string
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key
from flask import Flask, Response, jsonify, request

from . import pay_defaults
from .state import SandboxState, utc_now_iso

CST = timezone(timedelta(hours=8), "Asia/Shanghai")  # China has no DST: a fixed offset is exact
SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
AUTH_TIMESTAMP_TOLERANCE = 300  # seconds; WeChat Pay rejects requests signed more than 5 minutes off
BILL_URL_TTL = 300  # seconds a download_url stays valid (WeChat Pay: 5 minutes)
STALE_TIMESTAMP_AGE = 600  # how old Wechatpay-Timestamp is with tamper="timestamp"
FEE_RATE_PER_MILLE = 6  # 0.60 %, the usual rate for mini-program payments
TAMPER_KINDS = ("signature", "amount", "timestamp")
MAX_NOTIFY_AGAIN = 50

OUT_TRADE_NO = re.compile(r"[A-Za-z0-9_\-|*]{6,32}")
OUT_REFUND_NO = re.compile(r"[A-Za-z0-9_\-|*@]{1,64}")
BILL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
AUTH_FIELD = re.compile(r'(\w+)="([^"]*)"')
NONCE_ALPHABET = string.ascii_letters + string.digits

TRADE_STATE_DESC = {
    "NOTPAY": "订单未支付",
    "SUCCESS": "支付成功",
    "CLOSED": "订单已关闭",
    "REFUND": "订单发生过退款",
}
# HTTP status WeChat Pay uses for an error code (for `errcode` faults on pay paths; default 400).
ERROR_STATUS = {
    "SYSTEM_ERROR": 500,
    "BANK_ERROR": 500,
    "FREQUENCY_LIMITED": 429,
    "NO_AUTH": 403,
    "RULE_LIMIT": 403,
    "TRADE_ERROR": 403,
    "SIGN_ERROR": 401,
    "ORDER_NOT_EXIST": 404,
    "RESOURCE_NOT_EXISTS": 404,
}

# The pay endpoints, as WeChat Pay documents their paths (also the names faults and the call log use).
JSAPI = "/v3/pay/transactions/jsapi"
QUERY_BY_OUT_TRADE_NO = "/v3/pay/transactions/out-trade-no/{out_trade_no}"
QUERY_BY_ID = "/v3/pay/transactions/id/{transaction_id}"
CLOSE = "/v3/pay/transactions/out-trade-no/{out_trade_no}/close"
REFUNDS = "/v3/refund/domestic/refunds"
REFUND_QUERY = "/v3/refund/domestic/refunds/{out_refund_no}"
TRADE_BILL = "/v3/bill/tradebill"
BILL_DOWNLOAD = "/v3/billdownload/file"
PAY_PATHS = (
    JSAPI,
    QUERY_BY_OUT_TRADE_NO,
    QUERY_BY_ID,
    CLOSE,
    REFUNDS,
    REFUND_QUERY,
    TRADE_BILL,
    BILL_DOWNLOAD,
)
_PATH_PATTERNS = {rule: re.compile(re.sub(r"\\\{\w+\\\}", r"[^/]+", re.escape(rule))) for rule in PAY_PATHS}

BILL_COLUMNS = {
    "ALL": "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,"
    "货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,"
    "商户数据包,手续费,费率,订单金额,申请退款金额,费率备注",
    "SUCCESS": "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,"
    "货币种类,应结订单金额,代金券金额,商品名称,商户数据包,手续费,费率,订单金额,费率备注",
    "REFUND": "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,"
    "货币种类,应结订单金额,代金券金额,退款申请时间,退款成功时间,微信退款单号,商户退款单号,退款金额,充值券退款金额,"
    "退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注",
}
BILL_SUMMARY_COLUMNS = {
    "ALL": "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额",
    "SUCCESS": "总交易单数,应结订单总金额,手续费总金额,订单总金额",
    "REFUND": "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额",
}


def is_pay_path(path: str) -> bool:
    """A fault may name a pay endpoint by its documented path or by one concrete request path."""
    return any(pattern.fullmatch(path) for pattern in _PATH_PATTERNS.values())


def parse_schedule(value: Any) -> tuple[float, ...]:
    """``"0.2,0.5,1"`` (or a list of numbers) -> retry delays in seconds."""
    parts = value.split(",") if isinstance(value, str) else list(value)
    delays = tuple(float(part) for part in parts if str(part).strip())
    if any(delay < 0 for delay in delays):
        raise ValueError("SANDBOX_PAY_NOTIFY_SCHEDULE must hold non-negative numbers of seconds")
    return delays


class PayError(Exception):
    """An error answer the way WeChat Pay gives it: HTTP status and ``{"code", "message"}``."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def param_error(message: str) -> PayError:
    return PayError(400, "PARAM_ERROR", message)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _dumps(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def _rfc3339(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, CST).isoformat(timespec="seconds")


def _bill_time(timestamp: float | None) -> str:
    return "" if timestamp is None else datetime.fromtimestamp(timestamp, CST).strftime("%Y-%m-%d %H:%M:%S")


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def _fee(fen: int) -> int:
    """WeChat Pay's handling fee in fen, rounded half up."""
    return (fen * FEE_RATE_PER_MILLE + 500) // 1000


# --------------------------------------------------------------------------
# Keys and signatures
# --------------------------------------------------------------------------


class Signer:
    """The sandbox's side of WeChat Pay's signatures."""

    def __init__(self, merchant_public: RSAPublicKey, platform_private: RSAPrivateKey, public_key_id: str):
        self.merchant_public = merchant_public
        self.platform_private = platform_private
        self.public_key_id = public_key_id

    @classmethod
    @functools.cache  # loading (and checking) an RSA private key takes tens of milliseconds
    def from_key_dir(cls) -> Signer:
        merchant_public = load_pem_public_key(pay_defaults.MERCHANT_PUBLIC_KEY_PATH.read_bytes())
        platform_private = load_pem_private_key(pay_defaults.PLATFORM_PRIVATE_KEY_PATH.read_bytes(), None)
        assert isinstance(merchant_public, RSAPublicKey) and isinstance(platform_private, RSAPrivateKey)
        return cls(merchant_public, platform_private, pay_defaults.PUBLIC_KEY_ID)

    def sign(self, message: str) -> str:
        signature = self.platform_private.sign(message.encode("utf-8"), PKCS1v15(), SHA256())
        return base64.b64encode(signature).decode("ascii")

    def headers(
        self, body: str, *, timestamp: int | None = None, break_signature: bool = False
    ) -> dict[str, str]:
        """The ``Wechatpay-*`` headers WeChat Pay puts on answers and notifications."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        nonce = secrets.token_hex(16).upper()
        signed = f"{stamp}\n{nonce}\n{body}\n"
        if break_signature:
            signed += "tampered"  # a well-formed signature, but over something else
        return {
            "Wechatpay-Timestamp": stamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Serial": self.public_key_id,
            "Wechatpay-Signature": self.sign(signed),
            "Wechatpay-Signature-Type": SIGNATURE_TYPE,
        }

    def verify_merchant(self, message: str, signature: str) -> bool:
        try:
            raw = base64.b64decode(signature, validate=True)
            self.merchant_public.verify(raw, message.encode("utf-8"), PKCS1v15(), SHA256())
        except (ValueError, InvalidSignature):
            return False
        return True


def encrypt_resource(apiv3_key: str, plaintext: str, associated_data: str) -> dict[str, str]:
    """AEAD_AES_256_GCM with the APIv3 key, as in WeChat Pay's notifications (12-character nonce)."""
    nonce = "".join(secrets.choice(NONCE_ALPHABET) for _ in range(12))
    ciphertext = AESGCM(apiv3_key.encode("utf-8")).encrypt(
        nonce.encode("utf-8"), plaintext.encode("utf-8"), associated_data.encode("utf-8")
    )
    return {
        "ciphertext": base64.b64encode(ciphertext).decode("ascii"),
        "associated_data": associated_data,
        "nonce": nonce,
    }


# --------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------


@dataclass
class Notification:
    """One notification as WeChat Pay sends it; every delivery of it carries the same id and body."""

    id: str
    event_type: str  # TRANSACTION.SUCCESS | REFUND.SUCCESS
    summary: str
    original_type: str  # transaction | refund
    url: str
    out_trade_no: str
    out_refund_no: str | None
    resource: dict[str, Any]  # the decrypted resource
    create_time: str
    body: str = ""
    tampered_bodies: dict[str, str] = field(default_factory=dict)

    def envelope(self, apiv3_key: str, resource: Mapping[str, Any]) -> str:
        encrypted = encrypt_resource(apiv3_key, _dumps(resource), self.original_type)
        return _dumps(
            {
                "id": self.id,
                "create_time": self.create_time,
                "resource_type": "encrypt-resource",
                "event_type": self.event_type,
                "summary": self.summary,
                "resource": {
                    "original_type": self.original_type,
                    "algorithm": "AEAD_AES_256_GCM",
                    **encrypted,
                },
            }
        )


@dataclass
class Order:
    out_trade_no: str
    prepay_id: str
    appid: str
    mchid: str
    description: str
    notify_url: str
    total: int
    currency: str
    openid: str
    attach: str | None
    time_expire: str | None
    expire_at: float | None
    request: dict[str, Any]  # the normalized prepay request, to tell a retry from a conflicting reuse
    created_at: float
    state: str = "NOTPAY"  # NOTPAY | SUCCESS | CLOSED | REFUND
    transaction_id: str | None = None
    paid_at: float | None = None
    bank_type: str | None = None
    closed_at: float | None = None
    refunds: list[str] = field(default_factory=list)  # out_refund_no values, oldest first
    notification: Notification | None = None

    @property
    def paid(self) -> bool:
        return self.transaction_id is not None

    def resource(self) -> dict[str, Any]:
        """The transaction as WeChat Pay's query answers (and payment notifications carry) it."""
        data: dict[str, Any] = {"appid": self.appid, "mchid": self.mchid, "out_trade_no": self.out_trade_no}
        if self.paid:
            data["transaction_id"] = self.transaction_id
            data["trade_type"] = "JSAPI"
        data["trade_state"] = self.state
        data["trade_state_desc"] = TRADE_STATE_DESC[self.state]
        if self.paid:
            data["bank_type"] = self.bank_type
        data["attach"] = self.attach or ""
        if self.paid:
            assert self.paid_at is not None
            data["success_time"] = _rfc3339(self.paid_at)
        data["payer"] = {"openid": self.openid}
        amount: dict[str, Any] = {"total": self.total, "currency": self.currency}
        if self.paid:
            amount.update(payer_total=self.total, payer_currency=self.currency)
        data["amount"] = amount
        return data


@dataclass
class Refund:
    out_refund_no: str
    refund_id: str
    out_trade_no: str
    transaction_id: str
    refund: int
    total: int
    currency: str
    reason: str | None
    notify_url: str | None
    created_at: float
    status: str = "PROCESSING"  # PROCESSING | SUCCESS
    succeeded_at: float | None = None
    notification: Notification | None = None

    def resource(self) -> dict[str, Any]:
        """The refund as WeChat Pay's refund APIs answer it."""
        data: dict[str, Any] = {
            "refund_id": self.refund_id,
            "out_refund_no": self.out_refund_no,
            "transaction_id": self.transaction_id,
            "out_trade_no": self.out_trade_no,
            "channel": "ORIGINAL",
            "user_received_account": "支付用户零钱",
        }
        if self.succeeded_at is not None:
            data["success_time"] = _rfc3339(self.succeeded_at)
        data.update(
            create_time=_rfc3339(self.created_at),
            status=self.status,
            funds_account="AVAILABLE",
            amount={
                "total": self.total,
                "refund": self.refund,
                "from": [],
                "payer_total": self.total,
                "payer_refund": self.refund,
                "settlement_refund": self.refund,
                "settlement_total": self.total,
                "discount_refund": 0,
                "currency": self.currency,
            },
            promotion_detail=[],
        )
        return data


class PayState:
    """Orders, refunds, notification deliveries and bill download tokens, behind one lock."""

    def __init__(self, clock: Callable[[], float]):
        self.clock = clock  # the sandbox's clock: order expiry, success/refund times, bill dates
        self.lock = threading.Lock()
        self.generation = 0
        self._numbers = itertools.count(1)
        self._clear()

    def _clear(self) -> None:
        self.orders: dict[str, Order] = {}
        self.by_prepay_id: dict[str, str] = {}
        self.by_transaction_id: dict[str, str] = {}
        self.refunds: dict[str, Refund] = {}
        self.deliveries: list[dict[str, Any]] = []
        self.bills: dict[str, tuple[bytes, float]] = {}

    def reset(self) -> None:
        with self.lock:
            self.generation += 1
            self._clear()

    def next_number(self) -> int:
        return next(self._numbers)


# --------------------------------------------------------------------------
# The service: WeChat Pay endpoints, notifications, control endpoints
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class PaySettings:
    mchid: str
    apiv3_key: str
    notify_schedule: tuple[float, ...]
    refund_delay: float
    notify_timeout: float


class PayService:
    def __init__(self, sandbox: SandboxState, settings: PaySettings, signer: Signer | None = None):
        self.sandbox = sandbox
        self.settings = settings
        self.signer = signer or Signer.from_key_dir()
        self.state = PayState(lambda: sandbox.clock())

    def reset(self) -> None:
        self.state.reset()

    # -- requests ----------------------------------------------------------

    def authenticate(self) -> None:
        """Check the merchant's ``Authorization`` header the way WeChat Pay does."""
        header = request.headers.get("Authorization", "")
        scheme, _, params = header.partition(" ")
        if scheme != SIGNATURE_TYPE:
            raise PayError(401, "SIGN_ERROR", f"Authorization 缺失或不是 {SIGNATURE_TYPE}")
        fields = dict(AUTH_FIELD.findall(params))
        missing = [
            name
            for name in ("mchid", "nonce_str", "signature", "timestamp", "serial_no")
            if not fields.get(name)
        ]
        if missing:
            raise PayError(401, "SIGN_ERROR", f"Authorization 缺少 {', '.join(missing)}")
        if fields["mchid"] != self.settings.mchid:
            raise PayError(400, "MCH_NOT_EXISTS", "商户号不存在")
        if fields["serial_no"] != pay_defaults.MERCHANT_SERIAL_NO:
            raise PayError(401, "SIGN_ERROR", "商户证书序列号有误")
        if (
            not fields["timestamp"].isdigit()
            or abs(time.time() - int(fields["timestamp"])) > AUTH_TIMESTAMP_TOLERANCE
        ):
            raise PayError(401, "SIGN_ERROR", "Authorization 的 timestamp 与当前时间相差超过 5 分钟")
        body = request.get_data().decode("utf-8", errors="replace")
        for url in self._signed_url_candidates():
            message = f"{request.method}\n{url}\n{fields['timestamp']}\n{fields['nonce_str']}\n{body}\n"
            if self.signer.verify_merchant(message, fields["signature"]):
                return
        raise PayError(401, "SIGN_ERROR", "签名错误")

    @staticmethod
    def _signed_url_candidates() -> list[str]:
        # WeChat Pay signs the URL as sent; SDKs sign it before percent-encoding, so accept both spellings.
        query = request.query_string.decode("latin-1")
        decoded = request.path + (f"?{query}" if query else "")
        raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or decoded
        return list(dict.fromkeys([raw, decoded]))

    def check_mchid(self, mchid: Any) -> None:
        if not isinstance(mchid, str) or not mchid:
            raise param_error("mchid 为必填参数")
        if mchid != self.settings.mchid:
            raise PayError(400, "MCH_NOT_EXISTS", "商户号不存在")

    # -- endpoints ---------------------------------------------------------

    def prepay(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        for name in ("appid", "mchid", "description", "out_trade_no", "notify_url"):
            if not isinstance(body.get(name), str) or not body[name]:
                raise param_error(f"{name} 为必填的字符串参数")
        self.check_mchid(body["mchid"])
        if body["appid"] not in self.sandbox.apps:
            raise PayError(400, "APPID_MCHID_NOT_MATCH", "appid 和 mchid 不匹配")
        out_trade_no = body["out_trade_no"]
        if not OUT_TRADE_NO.fullmatch(out_trade_no):
            raise param_error("out_trade_no 须为 6-32 位数字、大小写字母或 _-|*")
        if len(body["description"]) > 127:
            raise param_error("description 不能超过 127 个字符")
        if not body["notify_url"].startswith(("http://", "https://")):
            raise param_error("notify_url 须为 http(s) 地址")
        attach = body.get("attach")
        if attach is not None and (not isinstance(attach, str) or len(attach) > 128):
            raise param_error("attach 须为不超过 128 个字符的字符串")
        amount = body.get("amount")
        if not isinstance(amount, dict) or not _is_int(amount.get("total")) or amount["total"] < 1:
            raise param_error("amount.total 须为不小于 1 的整数（单位：分）")
        currency = amount.get("currency", "CNY")
        if currency != "CNY":
            raise param_error("amount.currency 只支持 CNY")
        payer = body.get("payer")
        if not isinstance(payer, dict) or not isinstance(payer.get("openid"), str) or not payer["openid"]:
            raise param_error("payer.openid 为必填参数")
        time_expire, expire_at = body.get("time_expire"), None
        if time_expire is not None:
            expire_at = self._parse_rfc3339(time_expire, "time_expire")
        normalized = {**body, "amount": {**amount, "currency": currency}}

        with self.state.lock:
            existing = self.state.orders.get(out_trade_no)
            if existing is not None:
                if existing.paid:
                    raise PayError(400, "ORDERPAID", "该订单已支付")
                if existing.state == "CLOSED":
                    raise PayError(400, "ORDER_CLOSED", "订单已关闭")
                if existing.request != normalized:
                    raise PayError(
                        400, "INVALID_REQUEST", "201 商户订单号重复（同一 out_trade_no 的参数须与原请求一致）"
                    )
                return 200, {"prepay_id": existing.prepay_id}
            now = self.state.clock()
            prepay_id = (
                "wx" + datetime.fromtimestamp(now, CST).strftime("%d%H%M%S%f")[:14] + secrets.token_hex(10)
            )
            self.state.orders[out_trade_no] = Order(
                out_trade_no=out_trade_no,
                prepay_id=prepay_id,
                appid=body["appid"],
                mchid=body["mchid"],
                description=body["description"],
                notify_url=body["notify_url"],
                total=amount["total"],
                currency=currency,
                openid=payer["openid"],
                attach=attach,
                time_expire=time_expire,
                expire_at=expire_at,
                request=normalized,
                created_at=now,
            )
            self.state.by_prepay_id[prepay_id] = out_trade_no
            return 200, {"prepay_id": prepay_id}

    @staticmethod
    def _parse_rfc3339(value: Any, name: str) -> float:
        if not isinstance(value, str) or "T" not in value:
            raise param_error(f"{name} 须为 RFC 3339 时间，如 2018-06-08T10:34:56+08:00")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise param_error(f"{name} 须为 RFC 3339 时间，如 2018-06-08T10:34:56+08:00") from None
        if parsed.tzinfo is None:
            raise param_error(f"{name} 须带时区，如 +08:00")
        return parsed.timestamp()

    def query(
        self, out_trade_no: str | None = None, transaction_id: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        self.check_mchid(request.args.get("mchid"))
        with self.state.lock:
            key = (
                out_trade_no
                if out_trade_no is not None
                else self.state.by_transaction_id.get(transaction_id or "")
            )
            order = self.state.orders.get(key or "")
            if order is None:
                raise PayError(404, "ORDER_NOT_EXIST", "订单不存在")
            return 200, order.resource()

    def close(self, out_trade_no: str, body: dict[str, Any]) -> tuple[int, None]:
        self.check_mchid(body.get("mchid"))
        with self.state.lock:
            order = self.state.orders.get(out_trade_no)
            if order is None:
                raise PayError(404, "ORDER_NOT_EXIST", "订单不存在")
            if order.paid:
                raise PayError(400, "ORDERPAID", "订单已支付，不能关闭")
            if order.state != "CLOSED":
                order.state, order.closed_at = "CLOSED", self.state.clock()
            return 204, None

    def create_refund(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        out_refund_no = body.get("out_refund_no")
        if not isinstance(out_refund_no, str) or not OUT_REFUND_NO.fullmatch(out_refund_no):
            raise param_error("out_refund_no 须为 1-64 位数字、大小写字母或 _-|*@")
        out_trade_no, transaction_id = body.get("out_trade_no"), body.get("transaction_id")
        if not (isinstance(out_trade_no, str) and out_trade_no) and not (
            isinstance(transaction_id, str) and transaction_id
        ):
            raise param_error("out_trade_no 和 transaction_id 须填其一")
        amount = body.get("amount")
        if not isinstance(amount, dict):
            raise param_error("amount 为必填参数")
        refund, total, currency = amount.get("refund"), amount.get("total"), amount.get("currency")
        if not _is_int(refund) or refund < 1 or not _is_int(total) or total < 1:
            raise param_error("amount.refund 和 amount.total 须为不小于 1 的整数（单位：分）")
        if currency != "CNY":
            raise param_error("amount.currency 为必填参数，只支持 CNY")
        notify_url, reason = body.get("notify_url"), body.get("reason")
        if notify_url is not None and (
            not isinstance(notify_url, str) or not notify_url.startswith(("http://", "https://"))
        ):
            raise param_error("notify_url 须为 http(s) 地址")
        if reason is not None and (not isinstance(reason, str) or len(reason) > 80):
            raise param_error("reason 须为不超过 80 个字符的字符串")

        with self.state.lock:
            if isinstance(out_trade_no, str) and out_trade_no:
                order = self.state.orders.get(out_trade_no)
            else:
                order = self.state.orders.get(self.state.by_transaction_id.get(transaction_id or "", ""))
            if order is None or not order.paid:
                raise PayError(404, "RESOURCE_NOT_EXISTS", "订单不存在（未支付的订单不能发起退款）")
            existing = self.state.refunds.get(out_refund_no)
            if existing is not None:
                if (existing.out_trade_no, existing.refund, existing.total) != (
                    order.out_trade_no,
                    refund,
                    total,
                ):
                    raise PayError(400, "INVALID_REQUEST", "同一 out_refund_no 的订单或金额须与原请求一致")
                return 200, existing.resource()
            if total != order.total:
                raise PayError(400, "INVALID_REQUEST", "amount.total 与原订单金额不一致")
            refunded = sum(self.state.refunds[number].refund for number in order.refunds)
            if refund > order.total - refunded:
                raise PayError(
                    400, "NOT_ENOUGH", f"申请退款金额超过订单可退金额（还可退 {order.total - refunded} 分）"
                )
            assert order.transaction_id is not None
            now = self.state.clock()
            day = datetime.fromtimestamp(now, CST).strftime("%Y%m%d")
            created = Refund(
                out_refund_no=out_refund_no,
                refund_id=f"50300{self.state.next_number():05d}{day}{secrets.randbelow(10**11):011d}",
                out_trade_no=order.out_trade_no,
                transaction_id=order.transaction_id,
                refund=refund,
                total=total,
                currency=currency,
                reason=reason,
                notify_url=notify_url,
                created_at=now,
            )
            self.state.refunds[out_refund_no] = created
            order.refunds.append(out_refund_no)
            order.state = "REFUND"
            generation = self.state.generation
            answer = created.resource()
        threading.Thread(
            target=self._complete_refund, args=(out_refund_no, generation), daemon=True, name="sandbox-refund"
        ).start()
        return 200, answer

    def query_refund(self, out_refund_no: str) -> tuple[int, dict[str, Any]]:
        with self.state.lock:
            refund = self.state.refunds.get(out_refund_no)
            if refund is None:
                raise PayError(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
            return 200, refund.resource()

    def trade_bill(self) -> tuple[int, dict[str, Any]]:
        args = request.args
        bill_date, bill_type, tar_type = (
            args.get("bill_date", ""),
            args.get("bill_type", "ALL"),
            args.get("tar_type"),
        )
        try:
            day = date.fromisoformat(bill_date) if BILL_DATE.fullmatch(bill_date) else None
        except ValueError:
            day = None
        if day is None:
            raise param_error("bill_date 须为 YYYY-MM-DD 格式的日期")
        if bill_type not in BILL_COLUMNS:
            raise param_error("bill_type 须为 ALL、SUCCESS 或 REFUND")
        if tar_type not in (None, "GZIP"):
            raise param_error("tar_type 只支持 GZIP")
        with self.state.lock:
            csv = self._bill_csv(day, bill_type)
            if csv is None:
                raise PayError(400, "NO_STATEMENT_EXIST", "账单文件不存在（该日没有交易）")
            raw = csv.encode("utf-8")
            token = secrets.token_urlsafe(24)
            payload = gzip.compress(raw, mtime=0) if tar_type == "GZIP" else raw
            self.state.bills[token] = (payload, self.state.clock() + BILL_URL_TTL)
        return 200, {
            "hash_type": "SHA1",
            "hash_value": hashlib.sha1(raw).hexdigest(),
            "download_url": f"{request.host_url}{BILL_DOWNLOAD.lstrip('/')}?token={token}",
        }

    def download_bill(self) -> Response:
        token = request.args.get("token", "")
        with self.state.lock:
            stored = self.state.bills.get(token)
            if stored is None or stored[1] <= self.state.clock():
                raise PayError(400, "INVALID_REQUEST", "账单下载地址无效或已过期")
            payload = stored[0]
        # WeChat Pay does not sign the bill file: the merchant checks hash_value instead.
        return Response(payload, status=200, mimetype="application/octet-stream")

    def _bill_csv(self, day: date, bill_type: str) -> str | None:
        """The trade bill of `day` (Asia/Shanghai) in WeChat Pay's format, or None when it has no rows."""

        def on_day(timestamp: float | None) -> bool:
            return timestamp is not None and datetime.fromtimestamp(timestamp, CST).date() == day

        rows: list[tuple[float, dict[str, str]]] = []
        paid_total = refund_total = fee_total = 0
        for order in self.state.orders.values():
            common = {
                "公众账号ID": order.appid,
                "商户号": order.mchid,
                "特约商户号": "0",
                "设备号": "",
                "微信订单号": order.transaction_id or "",
                "商户订单号": order.out_trade_no,
                "用户标识": order.openid,
                "交易类型": "JSAPI",
                "付款银行": order.bank_type or "",
                "货币种类": order.currency,
                "代金券金额": "0.00",
                "充值券退款金额": "0.00",
                "商品名称": order.description,
                "商户数据包": order.attach or "",
                "费率": "0.60%",
                "费率备注": "",
            }
            if bill_type in ("ALL", "SUCCESS") and order.paid and on_day(order.paid_at):
                assert order.paid_at is not None
                fee = _fee(order.total)
                paid_total, fee_total = paid_total + order.total, fee_total + fee
                rows.append(
                    (
                        order.paid_at,
                        {
                            **common,
                            "交易时间": _bill_time(order.paid_at),
                            "交易状态": "SUCCESS",
                            "应结订单金额": _yuan(order.total),
                            "微信退款单号": "0",
                            "商户退款单号": "0",
                            "退款金额": "0.00",
                            "退款类型": "",
                            "退款状态": "",
                            "手续费": _yuan(fee),
                            "订单金额": _yuan(order.total),
                            "申请退款金额": "0.00",
                        },
                    )
                )
            if bill_type not in ("ALL", "REFUND"):
                continue
            for out_refund_no in order.refunds:
                refund = self.state.refunds[out_refund_no]
                if not on_day(refund.created_at):  # refunds are billed on the day they were accepted
                    continue
                fee = -_fee(refund.refund)
                refund_total, fee_total = refund_total + refund.refund, fee_total + fee
                rows.append(
                    (
                        refund.created_at,
                        {
                            **common,
                            "交易时间": _bill_time(refund.created_at),
                            "交易状态": "REFUND",
                            "应结订单金额": "0.00",
                            "退款申请时间": _bill_time(refund.created_at),
                            "退款成功时间": _bill_time(refund.succeeded_at),
                            "微信退款单号": refund.refund_id,
                            "商户退款单号": refund.out_refund_no,
                            "退款金额": _yuan(refund.refund),
                            "退款类型": "ORIGINAL",
                            "退款状态": refund.status,
                            "手续费": _yuan(fee),
                            "订单金额": "0.00",
                            "申请退款金额": _yuan(refund.refund),
                        },
                    )
                )
        if not rows:
            return None
        rows.sort(key=lambda row: row[0])
        summary = {
            "总交易单数": str(len(rows)),
            "应结订单总金额": _yuan(paid_total),
            "退款总金额": _yuan(refund_total),
            "充值券退款总金额": "0.00",
            "手续费总金额": _yuan(fee_total),
            "订单总金额": _yuan(paid_total),
            "申请退款总金额": _yuan(refund_total),
        }
        columns, summary_columns = BILL_COLUMNS[bill_type], BILL_SUMMARY_COLUMNS[bill_type]
        lines = [columns]
        lines += [",".join("`" + row[name] for name in columns.split(",")) for _, row in rows]
        lines.append(summary_columns)
        lines.append(",".join("`" + summary[name] for name in summary_columns.split(",")))
        return "\r\n".join(lines) + "\r\n"

    # -- paying and refunding (sandbox side) --------------------------------

    def succeed(self, prepay_id: str | None, out_trade_no: str | None, tamper: str | None) -> dict[str, Any]:
        """The owner pays: mark the order paid, then notify the merchant."""
        with self.state.lock:
            order = self._find_order(prepay_id, out_trade_no)
            if order.paid:
                raise PayError(400, "ORDERPAID", "该订单已支付（重发通知请用 /sandbox/pay/notify-again）")
            if order.state == "CLOSED":
                raise PayError(400, "ORDER_CLOSED", "订单已关闭")
            now = self.state.clock()
            if order.expire_at is not None and order.expire_at <= now:
                raise PayError(400, "ORDER_EXPIRED", f"订单已过 time_expire（{order.time_expire}），不能支付")
            day = datetime.fromtimestamp(now, CST).strftime("%Y%m%d")
            order.transaction_id = f"42000{self.state.next_number():05d}{day}{secrets.randbelow(10**10):010d}"
            order.state, order.paid_at, order.bank_type = "SUCCESS", now, "OTHERS"
            self.state.by_transaction_id[order.transaction_id] = order.out_trade_no
            notification = self._notification(
                "TRANSACTION.SUCCESS",
                "支付成功",
                "transaction",
                order.notify_url,
                order.out_trade_no,
                None,
                order.resource(),
                now,
            )
            order.notification = notification
            generation = self.state.generation
            answer = {"out_trade_no": order.out_trade_no, "transaction_id": order.transaction_id}
        first = self._attempt(notification, tamper, "first")
        if not first["acknowledged"]:
            self._retry_in_background(notification, tamper, generation)
        return {
            **answer,
            "delivered": first["acknowledged"],
            "status": first["status"],
            "error": first["error"],
            "notification_id": notification.id,
        }

    def notify_again(self, key: Mapping[str, Any], times: int, tamper: str | None) -> dict[str, Any]:
        """Deliver the same notification `times` more times, all at once."""
        with self.state.lock:
            if isinstance(key.get("out_refund_no"), str):
                refund = self.state.refunds.get(key["out_refund_no"])
                if refund is None:
                    raise PayError(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
                notification = refund.notification
            else:
                notification = self._find_order(key.get("prepay_id"), key.get("out_trade_no")).notification
            if notification is None:
                raise PayError(400, "NO_NOTIFICATION", "还没有发过通知（订单未支付或退款未成功）")
        barrier = threading.Barrier(times)
        results: list[dict[str, Any] | None] = [None] * times

        def deliver(index: int) -> None:
            barrier.wait()
            results[index] = self._attempt(notification, tamper, "again")

        threads = [threading.Thread(target=deliver, args=(index,), daemon=True) for index in range(times)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return {
            "notification_id": notification.id,
            "statuses": [result["status"] if result else None for result in results],
            "errors": [result["error"] if result else "not attempted" for result in results],
        }

    def _find_order(self, prepay_id: Any, out_trade_no: Any) -> Order:
        if isinstance(prepay_id, str) and prepay_id:
            out_trade_no = self.state.by_prepay_id.get(prepay_id)
        elif not (isinstance(out_trade_no, str) and out_trade_no):
            raise param_error("prepay_id 或 out_trade_no 为必填参数")
        order = self.state.orders.get(out_trade_no or "")
        if order is None:
            raise PayError(404, "ORDER_NOT_EXIST", "订单不存在")
        return order

    def _complete_refund(self, out_refund_no: str, generation: int) -> None:
        time.sleep(self.settings.refund_delay)
        with self.state.lock:
            refund = self.state.refunds.get(out_refund_no)
            if self.state.generation != generation or refund is None or refund.status != "PROCESSING":
                return
            now = self.state.clock()
            refund.status, refund.succeeded_at = "SUCCESS", now
            if not refund.notify_url:
                return  # WeChat would use the URL configured on the merchant platform; the sandbox has none
            resource = {
                "mchid": self.settings.mchid,
                "transaction_id": refund.transaction_id,
                "out_trade_no": refund.out_trade_no,
                "refund_id": refund.refund_id,
                "out_refund_no": refund.out_refund_no,
                "refund_status": "SUCCESS",
                "success_time": _rfc3339(now),
                "user_received_account": "支付用户零钱",
                "amount": {
                    "total": refund.total,
                    "refund": refund.refund,
                    "payer_total": refund.total,
                    "payer_refund": refund.refund,
                },
            }
            refund.notification = self._notification(
                "REFUND.SUCCESS",
                "退款成功",
                "refund",
                refund.notify_url,
                refund.out_trade_no,
                out_refund_no,
                resource,
                now,
            )
            notification = refund.notification
        if not self._attempt(notification, None, "first")["acknowledged"]:
            self._retry(notification, None, generation)

    # -- notifications -----------------------------------------------------

    def _notification(
        self,
        event_type: str,
        summary: str,
        original_type: str,
        url: str,
        out_trade_no: str,
        out_refund_no: str | None,
        resource: dict[str, Any],
        now: float,
    ) -> Notification:
        notification = Notification(
            id=str(uuid.uuid4()),
            event_type=event_type,
            summary=summary,
            original_type=original_type,
            url=url,
            out_trade_no=out_trade_no,
            out_refund_no=out_refund_no,
            resource=resource,
            create_time=_rfc3339(now),
        )
        notification.body = notification.envelope(self.settings.apiv3_key, resource)
        return notification

    def _body_for(self, notification: Notification, tamper: str | None) -> str:
        if tamper != "amount":
            return notification.body
        if "amount" not in notification.tampered_bodies:  # built once, so retries repeat the same lie
            resource = json.loads(_dumps(notification.resource))
            amount = resource["amount"]
            for name in ("total", "payer_total", "refund", "payer_refund"):
                if name in amount:
                    amount[name] += 1
            notification.tampered_bodies["amount"] = notification.envelope(self.settings.apiv3_key, resource)
        return notification.tampered_bodies["amount"]

    def _attempt(self, notification: Notification, tamper: str | None, trigger: str) -> dict[str, Any]:
        """POST one freshly signed copy of `notification`; record and return the attempt."""
        body = self._body_for(notification, tamper)
        timestamp = int(time.time()) - (STALE_TIMESTAMP_AGE if tamper == "timestamp" else 0)
        headers = self.signer.headers(body, timestamp=timestamp, break_signature=tamper == "signature")
        headers.update({"Content-Type": "application/json", "Request-ID": str(uuid.uuid4())})
        status: int | None = None
        error: str | None = None
        try:
            with requests.Session() as session:
                session.trust_env = (
                    False  # the merchant is local: never route it through an environment proxy
                )
                reply = session.post(
                    notification.url,
                    data=body.encode("utf-8"),
                    headers=headers,
                    timeout=self.settings.notify_timeout,
                )
            status = reply.status_code
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"
        attempt = {
            "notification_id": notification.id,
            "event_type": notification.event_type,
            "url": notification.url,
            "out_trade_no": notification.out_trade_no,
            "out_refund_no": notification.out_refund_no,
            "trigger": trigger,  # first | retry | again
            "tamper": tamper,
            "status": status,
            "error": error,
            "acknowledged": status in (200, 204),
            "at": utc_now_iso(),
        }
        with self.state.lock:
            attempt["id"] = self.state.next_number()
            self.state.deliveries.append(attempt)
        return attempt

    def _retry_in_background(self, notification: Notification, tamper: str | None, generation: int) -> None:
        threading.Thread(
            target=self._retry, args=(notification, tamper, generation), daemon=True, name="sandbox-notify"
        ).start()

    def _retry(self, notification: Notification, tamper: str | None, generation: int) -> None:
        for delay in self.settings.notify_schedule:
            time.sleep(delay)
            if self.state.generation != generation:
                return
            if self._attempt(notification, tamper, "retry")["acknowledged"]:
                return

    # -- control views -----------------------------------------------------

    def orders_view(self, out_trade_no: str | None) -> list[dict[str, Any]]:
        with self.state.lock:
            deliveries = list(self.state.deliveries)
            views = []
            for order in self.state.orders.values():
                if out_trade_no is not None and order.out_trade_no != out_trade_no:
                    continue
                views.append(
                    {
                        "out_trade_no": order.out_trade_no,
                        "prepay_id": order.prepay_id,
                        "state": order.state,
                        "expired": order.expire_at is not None and order.expire_at <= self.state.clock(),
                        "appid": order.appid,
                        "description": order.description,
                        "total": order.total,
                        "openid": order.openid,
                        "attach": order.attach,
                        "notify_url": order.notify_url,
                        "time_expire": order.time_expire,
                        "created_at": _rfc3339(order.created_at),
                        "transaction": order.resource(),
                        "refunds": [self.state.refunds[number].resource() for number in order.refunds],
                        "notification_id": order.notification.id if order.notification else None,
                        "deliveries": [
                            item for item in deliveries if item["out_trade_no"] == order.out_trade_no
                        ],
                    }
                )
            return views

    def deliveries_view(self, out_trade_no: str | None, event_type: str | None) -> list[dict[str, Any]]:
        with self.state.lock:
            deliveries = list(self.state.deliveries)
        return [
            item
            for item in deliveries
            if (out_trade_no is None or item["out_trade_no"] == out_trade_no)
            and (event_type is None or item["event_type"] == event_type)
        ]


# --------------------------------------------------------------------------
# Flask wiring
# --------------------------------------------------------------------------


def pay_settings(config: Mapping[str, Any]) -> PaySettings:
    apiv3_key = str(config["SANDBOX_PAY_APIV3_KEY"])
    if len(apiv3_key.encode("utf-8")) != 32:
        raise ValueError("SANDBOX_PAY_APIV3_KEY must be exactly 32 bytes")
    refund_delay = float(config["SANDBOX_PAY_REFUND_DELAY"])
    notify_timeout = float(config["SANDBOX_PAY_NOTIFY_TIMEOUT"])
    if refund_delay < 0 or notify_timeout <= 0:
        raise ValueError("SANDBOX_PAY_REFUND_DELAY must be >= 0 and SANDBOX_PAY_NOTIFY_TIMEOUT > 0")
    return PaySettings(
        mchid=str(config["SANDBOX_PAY_MCHID"]),
        apiv3_key=apiv3_key,
        notify_schedule=parse_schedule(config["SANDBOX_PAY_NOTIFY_SCHEDULE"]),
        refund_delay=refund_delay,
        notify_timeout=notify_timeout,
    )


def signed_json(signer: Signer, status: int, payload: Any | None) -> Response:
    """A JSON answer (or an empty one, for 204) with WeChat Pay's signature headers."""
    body = "" if payload is None else _dumps(payload)
    response = Response(body.encode("utf-8"), status=status, headers=signer.headers(body))
    response.headers["Content-Type"] = "application/json"
    response.headers["Request-ID"] = str(uuid.uuid4())
    return response


PayHandler = Callable[..., "tuple[int, Any] | Response"]


def register_pay_api(app: Flask, sandbox: SandboxState, config: Mapping[str, Any]) -> PayService:
    service = PayService(sandbox, pay_settings(config))

    def serve(rule: str, handler: PayHandler, path_args: dict[str, str]) -> Response:
        body: dict[str, Any] | None = None
        if request.method == "POST":
            try:
                parsed = json.loads(request.get_data() or b"null")
            except ValueError:
                parsed = None
            body = parsed if isinstance(parsed, dict) else None
        payer = (body or {}).get("payer")
        openid = payer.get("openid") if isinstance(payer, dict) else None
        fault = sandbox.take_fault((rule, request.path), openid if isinstance(openid, str) else None)
        if fault is not None and fault.kind == "delay":
            time.sleep(fault.seconds or 0)
            fault = None
        errcode: int | str | None = 0
        if fault is not None and fault.kind == "http_500":
            errcode = "SYSTEM_ERROR"
            response = jsonify({"code": "SYSTEM_ERROR", "message": "系统错误"})  # the gateway's 500: unsigned
            response.status_code = 500
        elif fault is not None:
            errcode = fault.errcode if isinstance(fault.errcode, str) else "SYSTEM_ERROR"
            error = PayError(ERROR_STATUS.get(errcode, 400), errcode, fault.errmsg or "sandbox fault")
            response = signed_json(service.signer, error.status, error.body())
        else:
            try:
                service.authenticate()
                if request.method == "POST" and body is None:
                    raise param_error("请求体须为 JSON 对象")
                answer = handler(body, **path_args) if request.method == "POST" else handler(**path_args)
                response = answer if isinstance(answer, Response) else signed_json(service.signer, *answer)
            except PayError as error:
                errcode = error.code
                response = signed_json(service.signer, error.status, error.body())
        appid = (body or {}).get("appid")
        sandbox.log_call(
            rule, request.method, appid if isinstance(appid, str) else None, errcode, response.status_code
        )
        return response

    def route(rule: str, method: str, handler: PayHandler, name: str) -> None:
        flask_rule = re.sub(r"\{(\w+)\}", r"<\1>", rule)
        app.add_url_rule(
            flask_rule,
            endpoint=f"pay_{name}",
            methods=[method],
            view_func=lambda **path_args: serve(rule, handler, path_args),
        )

    route(JSAPI, "POST", service.prepay, "jsapi")
    route(
        QUERY_BY_OUT_TRADE_NO, "GET", lambda out_trade_no: service.query(out_trade_no=out_trade_no), "query"
    )
    route(
        QUERY_BY_ID, "GET", lambda transaction_id: service.query(transaction_id=transaction_id), "query_by_id"
    )
    route(CLOSE, "POST", lambda body, out_trade_no: service.close(out_trade_no, body), "close")
    route(REFUNDS, "POST", service.create_refund, "refund")
    route(REFUND_QUERY, "GET", service.query_refund, "query_refund")
    route(TRADE_BILL, "GET", service.trade_bill, "trade_bill")
    route(BILL_DOWNLOAD, "GET", service.download_bill, "download_bill")

    _register_pay_control(app, service)
    return service


def _register_pay_control(app: Flask, service: PayService) -> None:
    def failure(error: PayError) -> tuple[Response, int]:
        return jsonify(error.body()), error.status

    def json_object() -> dict[str, Any]:
        payload = request.get_json(force=True, silent=True)
        if not isinstance(payload, dict):
            raise param_error("body must be a JSON object")
        return payload

    def tamper_of(body: Mapping[str, Any]) -> str | None:
        tamper = body.get("tamper")
        if tamper is not None and tamper not in TAMPER_KINDS:
            raise param_error(f"tamper must be one of {', '.join(TAMPER_KINDS)}")
        return tamper

    @app.post("/sandbox/pay/succeed")
    def pay_succeed() -> Response | tuple[Response, int]:
        try:
            body = json_object()
            return jsonify(service.succeed(body.get("prepay_id"), body.get("out_trade_no"), tamper_of(body)))
        except PayError as error:
            return failure(error)

    @app.post("/sandbox/pay/notify-again")
    def pay_notify_again() -> Response | tuple[Response, int]:
        try:
            body = json_object()
            times = body.get("times", 1)
            if not _is_int(times) or not 1 <= times <= MAX_NOTIFY_AGAIN:
                raise param_error(f"times must be an integer from 1 to {MAX_NOTIFY_AGAIN}")
            return jsonify(service.notify_again(body, times, tamper_of(body)))
        except PayError as error:
            return failure(error)

    @app.get("/sandbox/pay/orders")
    def pay_orders() -> Response:
        return jsonify(service.orders_view(request.args.get("out_trade_no")))

    @app.get("/sandbox/pay/notifications")
    def pay_notifications() -> Response:
        args = request.args
        return jsonify(service.deliveries_view(args.get("out_trade_no"), args.get("event_type")))
