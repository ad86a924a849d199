"""Money received for paid-service orders: on site (cash, POS, transfer) or online (billing settles a
WeChat Pay payment through `settle()` with method "wechat" and its out_trade_no as external_ref). What is
taken in person is handed to finance daily: server/billing/handover.py."""
from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

from sqlalchemy import select

from .. import rendering
from ..accounts.models import Staff
from ..auth import access
from ..errors import AppError, Conflict, NotFound, ValidationFailed
from ..extensions import db, locked
from ..money import PAYMENT_METHODS, yuan
from ..timeutil import local_text, utcnow
from .events import Actor, add_event
from .models import OrderPayment, WorkOrder

# Whether an online payment (WeChat Pay) for an order is under way. Online payments are billing's, a layer
# above work orders (which never import it): billing's check is registered when the app starts
# (server/app.py). Without one the desk is refused outright: taking money blind could take it twice.
_online_payment_pending: Callable[[int], bool] | None = None


def register_online_payment_check(check: Callable[[int], bool]) -> None:
    global _online_payment_pending
    _online_payment_pending = check


def online_payment_refusal(order: WorkOrder) -> AppError | None:
    """Refused while the owner is paying the order online (see record_on_site)."""
    if _online_payment_pending is None or _online_payment_pending(order.id):
        return Conflict("业主正在线上支付该工单，请业主完成或取消支付后再收款（未完成的支付会自动超时关闭）",
                        code="order_in_payment")
    return None

def payable_refusal(order: WorkOrder) -> AppError | None:
    """Why no money can be taken for `order` now (None: it can)."""
    if order.kind != "service":
        return Conflict("只有有偿服务工单需要收费", code="not_payable")
    if order.final_fen is None:
        return Conflict("完工后才能收费（费用以完工时的金额为准）", code="not_completed")
    if order.status == "cancelled":
        return Conflict("工单已取消", code="illegal_transition")
    if order.paid_fen >= order.final_fen:
        return Conflict(f"费用已收齐（应收 {order.final_fen / 100:.2f} 元）", code="overpaid")
    return None


def on_site_refusal(staff: Staff, order: WorkOrder) -> AppError | None:
    """Why `staff` may not take money for `order` on site now: the worker who did the job may, and those
    holding collect_payments."""
    if order.assignee_id != staff.id and not access.can(staff, "collect_payments", order):
        return access.refusal(staff, "collect_payments")
    return payable_refusal(order) or online_payment_refusal(order)


def settle(order: WorkOrder, *, method: str, amount_fen: int, receipt_no: str, collector: Staff | None,
           external_ref: str | None = None, actor: Actor) -> OrderPayment:
    """Record money received for a paid-service order. The one entry point for every payment method."""
    if refusal := payable_refusal(order):
        raise refusal
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
    """Money taken at the desk or on site. Refused (409 order_in_payment) while the owner is paying the order
    online, as a bill held by a live online payment is (bill_in_payment).

    Why refuse rather than close the online attempt at WeChat Pay first: the owner may be confirming on the
    phone at that very moment, so closing needs a query, the close, and applying a success that slipped in,
    all calls to WeChat Pay made while holding the order's lock, and WeChat Pay being slow or down would
    stall the desk. The owner is usually right there and can cancel in the mini-program (which closes it
    at WeChat Pay), and an abandoned attempt expires after PAY_EXPIRE_MINUTES; an expired one no longer
    blocks the desk (WeChat Pay refuses to take it after its time_expire). One rule for bills and orders."""
    if refusal := on_site_refusal(staff, order):
        raise refusal
    # The order's lock: billing locks it too while it places an online payment, so one of the two waits
    # and then sees the other (paid_fen, or the pending payment).
    order = locked(WorkOrder, order.id)
    if refusal := online_payment_refusal(order):
        raise refusal
    return settle(order, method=data["method"], amount_fen=data["amount_fen"], receipt_no=data["receipt_no"],
                  collector=staff, actor=Actor.of_staff(staff))


def order_payment(order: WorkOrder, payment_id: int) -> OrderPayment:
    """A payment of `order` (404 when it is another order's)."""
    payment = next((p for p in order.payments if p.id == payment_id), None)
    if payment is None:
        raise NotFound("未找到该收款记录")
    return payment


def receipt_html(order: WorkOrder, payment_id: int) -> str:
    """The printable receipt of money taken for a paid service: the fee receipt's own layout (one look for
    every receipt the service center hands out), one line for the order."""
    payment = order_payment(order, payment_id)
    zone = order.community.timezone
    receipt = SimpleNamespace(receipt_no=payment.receipt_no, amount_fen=payment.amount_fen, refunded_fen=0,
                              transaction_id=None, reference=None, collector=payment.collector)
    lines = [{"what": f"有偿服务 {order.number} {order.title}", "house": order.house.label,
              "amount": yuan(payment.amount_fen)}]
    return rendering.render("server.billing", "receipt.html", payment=receipt, community=order.community,
                            lines=lines, paid_at=local_text(payment.collected_at, zone),
                            payer=order.contact_name or "业主", method=PAYMENT_METHODS[payment.method])
