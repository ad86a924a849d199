"""Refunds: apply, query, and their completion (a moment later, in the background, then notified)."""

from __future__ import annotations

import re
import secrets
import threading
import time
from datetime import datetime
from typing import Any

from .notify import Notifier
from .records import PayState, Refund
from .settings import PaySettings
from .wire import CST, PayError, is_int, param_error, rfc3339

OUT_REFUND_NO = re.compile(r"[A-Za-z0-9_\-|*@]{1,64}")


class Refunds:
    """The refund endpoints; a refund succeeds ``SANDBOX_PAY_REFUND_DELAY`` seconds after it is applied."""

    def __init__(self, state: PayState, settings: PaySettings, notifier: Notifier):
        self.state = state
        self.settings = settings
        self.notifier = notifier

    def create(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
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
        if not is_int(refund) or refund < 1 or not is_int(total) or total < 1:
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
            target=self._complete, args=(out_refund_no, generation), daemon=True, name="sandbox-refund"
        ).start()
        return 200, answer

    def query(self, out_refund_no: str) -> tuple[int, dict[str, Any]]:
        with self.state.lock:
            return 200, self.find(out_refund_no).resource()

    def find(self, out_refund_no: str) -> Refund:
        """The refund named `out_refund_no` (hold the state's lock)."""
        refund = self.state.refunds.get(out_refund_no)
        if refund is None:
            raise PayError(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
        return refund

    def _complete(self, out_refund_no: str, generation: int) -> None:
        """The refund succeeds, then the merchant is notified (this thread retries until acknowledged)."""
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
                "success_time": rfc3339(now),
                "user_received_account": "支付用户零钱",
                "amount": {
                    "total": refund.total,
                    "refund": refund.refund,
                    "payer_total": refund.total,
                    "payer_refund": refund.refund,
                },
            }
            refund.notification = self.notifier.create(
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
        if not self.notifier.attempt(notification, None, "first")["acknowledged"]:
            self.notifier.retry(notification, None, generation)
