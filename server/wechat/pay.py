"""WeChat Pay APIv3 through the wechatpayv3 package: JSAPI orders, query, close, refunds, trade bills and
notification verification. In public-key mode (platform public key + its id), with the gateway from
config so development and tests talk to the sandbox over HTTP."""
from __future__ import annotations

import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime

import requests
from flask import current_app
from wechatpayv3 import WeChatPay, WeChatPayType

from ..config import read_pem

log = logging.getLogger(__name__)

TRANSIENT_CODES = {"SYSTEM_ERROR", "FREQUENCY_LIMITED", "BANK_ERROR"}


class PayError(Exception):
    def __init__(self, status: int | None, code: str, message: str, *, transient: bool) -> None:
        super().__init__(f"WeChat Pay {status} {code}: {message}")
        self.status, self.code, self.message, self.transient = status, code, message, transient


@dataclass
class PayClient:
    pay: WeChatPay
    appid: str
    mchid: str
    notify_url: str
    public_key_id: str

    def _call(self, fn, *args, **kwargs) -> tuple[int, object]:
        try:
            status, body = fn(*args, **kwargs)
        except requests.RequestException as exc:
            raise PayError(None, "NETWORK", type(exc).__name__, transient=True) from exc
        except Exception as exc:  # wechatpayv3 raises a bare Exception when an answer's signature fails
            raise PayError(None, "BAD_SIGNATURE", str(exc), transient=True) from exc
        if 200 <= status < 300:
            return status, (json.loads(body) if isinstance(body, str) and body else body)
        try:
            error = json.loads(body) if body else {}
        except (TypeError, ValueError):
            error = {}
        code = error.get("code") or f"HTTP_{status}"
        raise PayError(status, code, error.get("message", ""), transient=status >= 500 or code in TRANSIENT_CODES)

    def jsapi(self, *, out_trade_no: str, description: str, total_fen: int, openid: str,
              expires_at: datetime) -> str:
        _, data = self._call(self.pay.pay, description=description[:127], out_trade_no=out_trade_no,
                             amount={"total": total_fen, "currency": "CNY"}, payer={"openid": openid},
                             time_expire=expires_at.isoformat(timespec="seconds"), notify_url=self.notify_url,
                             pay_type=WeChatPayType.MINIPROG)
        return data["prepay_id"]

    def pay_params(self, prepay_id: str) -> dict:
        """What wx.requestPayment needs: signed with the merchant key over appid, time, nonce, package."""
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        package = f"prepay_id={prepay_id}"
        signature = self.pay.sign([self.appid, timestamp, nonce, package])
        return {"timeStamp": timestamp, "nonceStr": nonce, "package": package, "signType": "RSA",
                "paySign": signature}

    def query(self, out_trade_no: str) -> dict:
        return self._call(self.pay.query, out_trade_no=out_trade_no)[1]

    def close(self, out_trade_no: str) -> None:
        self._call(self.pay.close, out_trade_no=out_trade_no)

    def refund(self, *, out_trade_no: str, out_refund_no: str, refund_fen: int, total_fen: int, reason: str,
               notify_url: str) -> dict:
        return self._call(self.pay.refund, out_refund_no=out_refund_no, out_trade_no=out_trade_no, reason=reason,
                          amount={"refund": refund_fen, "total": total_fen, "currency": "CNY"},
                          notify_url=notify_url)[1]

    def query_refund(self, out_refund_no: str) -> dict:
        return self._call(self.pay.query_refund, out_refund_no=out_refund_no)[1]

    def trade_bill(self, day: str) -> dict:
        return self._call(self.pay.trade_bill, bill_date=day)[1]

    def download(self, url: str) -> bytes:
        return self._call(self.pay.download_bill, url)[1]

    def verify_notification(self, headers, body: bytes) -> dict | None:
        """The decrypted notification, or None when its signature does not verify.

        Public-key mode: WeChat Pay signs with the key PAY_PUBLIC_KEY_ID names, so a notification naming
        any other serial is refused here, before wechatpayv3 sees it (it would download the platform
        certificates from WeChat Pay for every unknown serial: anyone could make us call out at will)."""
        serial = headers.get("Wechatpay-Serial", "")
        if serial != self.public_key_id:
            log.warning("payment notification names key %r, not our public key id: refused", serial[:80])
            return None
        try:
            return self.pay.callback(headers, body)
        except Exception:  # noqa: BLE001 - any verification or decryption failure means: not from WeChat
            log.warning("payment notification failed verification", exc_info=True)
            return None


def _key(value: str, fallback) -> str:
    return read_pem(value) if value else fallback()


def pay_client() -> PayClient:
    """One client per app (keys parsed once)."""
    cache = current_app.extensions.setdefault("wechat", {})
    if "pay" not in cache:
        from ..sandbox import pay_defaults  # development defaults only; production config refuses them

        cfg = current_app.config
        pay = WeChatPay(
            wechatpay_type=WeChatPayType.MINIPROG, mchid=cfg["PAY_MCHID"],
            private_key=_key(cfg["PAY_PRIVATE_KEY"], lambda: pay_defaults.read_key(
                pay_defaults.MERCHANT_PRIVATE_KEY_PATH)),
            cert_serial_no=cfg["PAY_CERT_SERIAL_NO"], appid=cfg["MP_APPID"], apiv3_key=cfg["PAY_APIV3_KEY"],
            notify_url=cfg["PAY_NOTIFY_URL"], timeout=(cfg["WECHAT_TIMEOUT"], cfg["WECHAT_TIMEOUT"] * 2),
            public_key=_key(cfg["PAY_PUBLIC_KEY"], lambda: pay_defaults.read_key(
                pay_defaults.PLATFORM_PUBLIC_KEY_PATH)),
            public_key_id=cfg["PAY_PUBLIC_KEY_ID"],
        )
        pay._core._gate_way = cfg["PAY_API_BASE"]  # no public setter in wechatpayv3
        # Public-key mode has no platform certificates: never download them (wechatpayv3 does whenever an
        # answer names a serial other than the public key id; such an answer now simply fails to verify).
        pay._core._update_certificates = lambda: None
        cache["pay"] = PayClient(pay=pay, appid=cfg["MP_APPID"], mchid=cfg["PAY_MCHID"],
                                 notify_url=cfg["PAY_NOTIFY_URL"], public_key_id=cfg["PAY_PUBLIC_KEY_ID"])
    return cache["pay"]
