"""Fees at the service-center desk: offline payments (cash, POS, transfer) with a receipt, and staff views of
bills and payments. Everything is scoped to the staff member's community; other communities' records are 404.

Who may take fee payments: cashiers and managers, receptionists only where the community allows it
(`Community.reception_collects_fees`; rules.can_collect_fees). Desk payments join the collector's daily cash
handover (server/workorders/payments.takings).
"""
from __future__ import annotations


from sqlalchemy import select

from ..accounts.models import Building, House, Staff
from ..auth import access
from ..errors import Conflict
from ..extensions import db
from ..pagination import paginate
from ..timeutil import day_bounds, local_today, utcnow
from . import services
from .models import Bill, Payment, PaymentItem


# -- taking a payment at the desk ------------------------------------------------------------------------------

def collect(staff: Staff, bill_ids: list[int], method: str, reference: str | None = None,
            payer_name: str | None = None) -> Payment:
    """A paid Payment for the bills (of this community, unpaid, not in a live online payment), settled at
    once through the same `services.settle()` as WeChat Pay: bills paid, a receipt number taken."""
    access.require(staff, "collect_fees")
    bills = services.lock_payable_bills(bill_ids, lambda b: b.community_id == staff.community_id)
    now = utcnow()
    payment = Payment(community_id=staff.community_id, owner_id=None, method=method, status="pending",
                      amount_fen=sum(b.amount_fen for b in bills), description=services.bills_description(bills),
                      collector_id=staff.id, reference=reference or None, payer_name=payer_name or None,
                      created_at=now)
    payment.items = [PaymentItem(bill_id=b.id, amount_fen=b.amount_fen) for b in bills]
    db.session.add(payment)
    db.session.flush()
    for bill in bills:
        if bill.locked_payment_id is not None:  # an expired online attempt not yet closed: it no longer holds it
            bill.locked_payment_id = None
    services.settle(payment, paid_at=now)
    return payment


# -- reading ---------------------------------------------------------------------------------------------------

def staff_payment(staff: Staff, payment_id: int) -> Payment:
    access.require(staff, "view_payments")
    return access.scoped(Payment, payment_id, staff, "未找到该缴费记录")


def receipt_payment(staff: Staff, payment_id: int) -> Payment:
    payment = staff_payment(staff, payment_id)
    if payment.receipt_no is None:
        raise Conflict("支付完成后才有收据", code="not_paid")
    return payment


def payments_page(staff: Staff, args: dict) -> dict:
    """Settled payments of the community (online and at the desk), newest first."""
    access.require(staff, "view_payments")
    stmt = select(Payment).where(Payment.community_id == staff.community_id, Payment.paid_at.is_not(None)) \
        .order_by(Payment.paid_at.desc(), Payment.id.desc())
    if args.get("date"):
        start, end = day_bounds(args["date"], staff.community.timezone)
        stmt = stmt.where(Payment.paid_at >= start, Payment.paid_at < end)
    if args.get("collector_id"):
        stmt = stmt.where(Payment.collector_id == args["collector_id"])
    if args.get("method"):
        stmt = stmt.where(Payment.method == args["method"])
    return paginate(stmt, args["page"], args["per_page"])


def bills_page(staff: Staff, args: dict) -> dict:
    access.require(staff, "view_bills")
    stmt = select(Bill).join(House, House.id == Bill.house_id).join(Building, Building.id == House.building_id) \
        .where(Bill.community_id == staff.community_id) \
        .order_by(Bill.period.desc(), Building.code, House.unit, House.room, Bill.id)
    if args.get("house_id"):
        stmt = stmt.where(Bill.house_id == args["house_id"])
    if args.get("building"):
        stmt = stmt.where(Building.code == args["building"])
    if args.get("period"):
        stmt = stmt.where(Bill.period == args["period"])
    if args.get("status"):
        stmt = stmt.where(Bill.status == args["status"])
    if args.get("overdue"):
        stmt = stmt.where(Bill.status == "unpaid", Bill.due_date < local_today(staff.community.timezone))
    return paginate(stmt, args["page"], args["per_page"])

