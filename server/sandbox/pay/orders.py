"""JSAPI orders: prepay, query, close, and (sandbox side) the owner paying."""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Any

from flask import request

from ..state import SandboxState
from .notify import Notifier
from .records import Order, PayState
from .settings import PaySettings
from .wire import CST, PayError, is_int, param_error, rfc3339

OUT_TRADE_NO = re.compile(r"[A-Za-z0-9_\-|*]{6,32}")


class Orders:
    """The order endpoints, and the owner paying (which starts the payment notification)."""

    def __init__(self, sandbox: SandboxState, state: PayState, settings: PaySettings, notifier: Notifier):
        self.sandbox = sandbox  # the apps an order's appid must name
        self.state = state
        self.settings = settings
        self.notifier = notifier

    def check_mchid(self, mchid: Any) -> None:
        if not isinstance(mchid, str) or not mchid:
            raise param_error("mchid 为必填参数")
        if mchid != self.settings.mchid:
            raise PayError(400, "MCH_NOT_EXISTS", "商户号不存在")

    # -- WeChat Pay endpoints --------------------------------------------------

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
        if not isinstance(amount, dict) or not is_int(amount.get("total")) or amount["total"] < 1:
            raise param_error("amount.total 须为不小于 1 的整数（单位：分）")
        currency = amount.get("currency", "CNY")
        if currency != "CNY":
            raise param_error("amount.currency 只支持 CNY")
        payer = body.get("payer")
        if not isinstance(payer, dict) or not isinstance(payer.get("openid"), str) or not payer["openid"]:
            raise param_error("payer.openid 为必填参数")
        time_expire, expire_at = body.get("time_expire"), None
        if time_expire is not None:
            expire_at = _parse_rfc3339(time_expire, "time_expire")
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
            return 200, self._get(key).resource()

    def close(self, out_trade_no: str, body: dict[str, Any]) -> tuple[int, None]:
        self.check_mchid(body.get("mchid"))
        with self.state.lock:
            order = self._get(out_trade_no)
            if order.paid:
                raise PayError(400, "ORDERPAID", "订单已支付，不能关闭")
            if order.state != "CLOSED":
                order.state, order.closed_at = "CLOSED", self.state.clock()
            return 204, None

    # -- the sandbox side ------------------------------------------------------

    def succeed(self, prepay_id: str | None, out_trade_no: str | None, tamper: str | None) -> dict[str, Any]:
        """The owner pays: mark the order paid, then notify the merchant."""
        with self.state.lock:
            order = self.find(prepay_id, out_trade_no)
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
            notification = self.notifier.create(
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
        first = self.notifier.attempt(notification, tamper, "first")
        if not first["acknowledged"]:
            self.notifier.retry_in_background(notification, tamper, generation)
        return {
            **answer,
            "delivered": first["acknowledged"],
            "status": first["status"],
            "error": first["error"],
            "notification_id": notification.id,
        }

    def find(self, prepay_id: Any, out_trade_no: Any) -> Order:
        """The order a control request names by prepay_id or out_trade_no (hold the state's lock)."""
        if isinstance(prepay_id, str) and prepay_id:
            out_trade_no = self.state.by_prepay_id.get(prepay_id)
        elif not (isinstance(out_trade_no, str) and out_trade_no):
            raise param_error("prepay_id 或 out_trade_no 为必填参数")
        return self._get(out_trade_no)

    def _get(self, out_trade_no: str | None) -> Order:
        order = self.state.orders.get(out_trade_no or "")
        if order is None:
            raise PayError(404, "ORDER_NOT_EXIST", "订单不存在")
        return order

    def view(self, out_trade_no: str | None) -> list[dict[str, Any]]:
        """Every order (or the one named) with its transaction, refunds and notification deliveries."""
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
                        "created_at": rfc3339(order.created_at),
                        "transaction": order.resource(),
                        "refunds": [self.state.refunds[number].resource() for number in order.refunds],
                        "notification_id": order.notification.id if order.notification else None,
                        "deliveries": [
                            item for item in deliveries if item["out_trade_no"] == order.out_trade_no
                        ],
                    }
                )
            return views


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
