"""What WeChat Pay keeps: orders, refunds, notification deliveries and bill download tokens.

`PayState` holds them all behind one lock (the sandbox is served by a threaded server); outbound
HTTP and sleeping happen outside it.  Background threads (notification retries, refund
completion) carry the state's generation and stop doing anything once ``/sandbox/reset`` has
moved it on.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .wire import rfc3339

if TYPE_CHECKING:  # only named in annotations; notify.py needs PayState at run time
    from .notify import Notification

TRADE_STATE_DESC = {
    "NOTPAY": "订单未支付",
    "SUCCESS": "支付成功",
    "CLOSED": "订单已关闭",
    "REFUND": "订单发生过退款",
}


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
            data["success_time"] = rfc3339(self.paid_at)
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
            data["success_time"] = rfc3339(self.succeeded_at)
        data.update(
            create_time=rfc3339(self.created_at),
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
