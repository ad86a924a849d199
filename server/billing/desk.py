"""Fees at the service-center desk: offline payments (cash, POS, transfer) with a receipt, and staff views of
bills and payments. Everything is scoped to the staff member's community; other communities' records are 404.

Who may take fee payments: cashiers and managers, receptionists only where the community allows it
(`Community.reception_collects_fees`; rules.can_collect_fees). Desk payments join the collector's daily cash
handover (server/workorders/payments.takings).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..accounts.models import Building, House, Staff
from ..accounts.rules import can, can_collect_fees
from ..errors import Conflict, Forbidden, NotFound
from ..extensions import db
from ..pagination import paginate
from ..timeutil import to_local, utcnow
from . import services
from .models import Bill, Payment, PaymentItem


# -- who may ---------------------------------------------------------------------------------------------------

def may_collect(staff: Staff) -> bool:
    return can_collect_fees(staff.role, staff.department, staff.community.reception_collects_fees)


def require_collector(staff: Staff) -> Staff:
    if not may_collect(staff):
        if staff.role == "receptionist":
            raise Forbidden("本小区未开放接待员收取物业费，请由收费员办理", code="reception_not_allowed")
        raise Forbidden("只有收费员或经理可以收取物业费", code="role_forbidden")
    return staff


def may_view_payments(staff: Staff) -> bool:
    return may_collect(staff) or can(staff.role, staff.department, "view_takings")


def require_payment_viewer(staff: Staff) -> Staff:
    if not may_view_payments(staff):
        raise Forbidden("只有收费员、财务或经理可以查看缴费记录", code="role_forbidden")
    return staff


def may_view_bills(staff: Staff) -> bool:
    """The desk (dunning roles), finance and whoever takes payments."""
    return can(staff.role, staff.department, "dunning") or may_view_payments(staff)


def require_bill_viewer(staff: Staff) -> Staff:
    if not may_view_bills(staff):
        raise Forbidden("只有服务中心和财务可以查看账单", code="role_forbidden")
    return staff


# -- taking a payment at the desk ------------------------------------------------------------------------------

def collect(staff: Staff, bill_ids: list[int], method: str, reference: str | None = None,
            payer_name: str | None = None) -> Payment:
    """A paid Payment for the bills (of this community, unpaid, not in a live online payment), settled at
    once through the same `services.settle()` as WeChat Pay: bills paid, a receipt number taken."""
    require_collector(staff)
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
    require_payment_viewer(staff)
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.community_id != staff.community_id:
        raise NotFound("未找到该缴费记录")
    return payment


def receipt_payment(staff: Staff, payment_id: int) -> Payment:
    payment = staff_payment(staff, payment_id)
    if payment.receipt_no is None:
        raise Conflict("支付完成后才有收据", code="not_paid")
    return payment


def day_bounds(day: date, zone: str) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=ZoneInfo(zone))
    return start, start + timedelta(days=1)


def payments_page(staff: Staff, args: dict) -> dict:
    """Settled payments of the community (online and at the desk), newest first."""
    require_payment_viewer(staff)
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
    require_bill_viewer(staff)
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
        stmt = stmt.where(Bill.status == "unpaid", Bill.due_date < today(staff))
    return paginate(stmt, args["page"], args["per_page"])


def today(staff: Staff) -> date:
    return to_local(utcnow(), staff.community.timezone).date()

