"""Money received for paid-service orders: on site (cash, POS, transfer) or online (billing settles a
WeChat Pay payment through `settle()` with method "wechat" and its out_trade_no as external_ref). What is
taken in person is handed to finance daily: server/billing/handover.py."""
from __future__ import annotations


from sqlalchemy import select

from ..accounts.models import Staff
from ..auth import access
from ..errors import Conflict, ValidationFailed
from ..extensions import db
from ..money import PAYMENT_METHODS
from ..timeutil import utcnow
from .models import OrderPayment, WorkOrder
from .events import Actor, add_event



def settle(order: WorkOrder, *, method: str, amount_fen: int, receipt_no: str, collector: Staff | None,
           external_ref: str | None = None, actor: Actor) -> OrderPayment:
    """Record money received for a paid-service order. The one entry point for every payment method."""
    if order.kind != "service":
        raise Conflict("只有有偿服务工单需要收费", code="not_payable")
    if order.final_fen is None:
        raise Conflict("完工后才能收费（费用以完工时的金额为准）", code="not_completed")
    if order.status == "cancelled":
        raise Conflict("工单已取消", code="illegal_transition")
    if amount_fen <= 0:
        raise ValidationFailed(fields={"amount_fen": ["金额必须大于 0"]})
    if order.paid_fen + amount_fen > order.final_fen:
        raise Conflict(f"收款超出应收金额（应收 {order.final_fen / 100:.2f} 元，已收 {order.paid_fen / 100:.2f} 元）",
                       code="overpaid")
    duplicate = db.session.scalar(select(OrderPayment.id).where(OrderPayment.community_id == order.community_id,
                                                               OrderPayment.receipt_no == receipt_no))
    if duplicate:
        raise Conflict("该收据号已使用", code="receipt_taken")
    payment = OrderPayment(order=order, community_id=order.community_id, method=method, amount_fen=amount_fen,
                           receipt_no=receipt_no, collector=collector, collected_at=utcnow(),
                           external_ref=external_ref)
    db.session.add(payment)
    order.paid_fen += amount_fen
    add_event(order, actor, "payment", note=f"{PAYMENT_METHODS[method]}收款 {amount_fen / 100:.2f} 元，收据 {receipt_no}",
           data={"method": method, "amount_fen": amount_fen, "receipt_no": receipt_no})
    return payment


def record_on_site(staff: Staff, order: WorkOrder, data: dict) -> OrderPayment:
    if order.assignee_id != staff.id:  # the worker who did the job takes the money on site
        access.require(staff, "collect_payments", order)
    return settle(order, method=data["method"], amount_fen=data["amount_fen"], receipt_no=data["receipt_no"],
                  collector=staff, actor=Actor.of_staff(staff))
