"""Money for paid services: on-site collection now; online payment (the fees issue) settles through
`settle()` with method "wechat" and the payment's out_trade_no as external_ref. Daily cash handover."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..accounts.models import Staff
from ..accounts.rules import can
from ..billing.models import Payment as FeePayment
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed
from ..extensions import db
from ..timeutil import utcnow
from . import rules
from .models import CashHandover, OrderPayment, WorkOrder
from .services import Actor, add_event



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
    add_event(order, actor, "payment", note=f"{rules.PAYMENT_METHODS[method]}收款 {amount_fen / 100:.2f} 元，收据 {receipt_no}",
           data={"method": method, "amount_fen": amount_fen, "receipt_no": receipt_no})
    return payment


def record_on_site(staff: Staff, order: WorkOrder, data: dict) -> OrderPayment:
    if not can(staff.role, staff.department, "collect_payments") and order.assignee_id != staff.id:
        raise Forbidden("只有收费员、接待员、经理或上门员工可以登记收款", code="role_forbidden")
    return settle(order, method=data["method"], amount_fen=data["amount_fen"], receipt_no=data["receipt_no"],
                  collector=staff, actor=Actor.of_staff(staff))


def _day_bounds(day: date, zone: str) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=ZoneInfo(zone))
    return start, start + timedelta(days=1)


@dataclass(frozen=True)
class Taking:
    """Money a collector took in person, from either source: a paid-service OrderPayment ("service") or a
    fee Payment taken at the desk ("fee", billing). Finance receives both in the same daily handover."""
    kind: str
    row: Any

    @property
    def id(self) -> int:
        return self.row.id

    @property
    def method(self) -> str:
        return self.row.method

    @property
    def amount_fen(self) -> int:
        return self.row.amount_fen

    @property
    def receipt_no(self) -> str:
        return self.row.receipt_no

    @property
    def collector(self) -> Staff | None:
        return self.row.collector

    @property
    def collector_id(self) -> int | None:
        return self.row.collector_id

    @property
    def collected_at(self) -> datetime:
        return self.row.collected_at if self.kind == "service" else self.row.paid_at

    @property
    def handover_id(self) -> int | None:
        return self.row.handover_id

    @property
    def order(self) -> WorkOrder | None:
        return self.row.order if self.kind == "service" else None

    @property
    def description(self) -> str:
        return f"有偿服务 {self.row.order.number}" if self.kind == "service" else self.row.description


def takings(community_id: int, start: datetime, end: datetime) -> list[Taking]:
    """Everything taken in person (cash, POS, transfer) in [start, end): paid-service payments and fee
    payments at the desk, oldest first."""
    orders = db.session.scalars(select(OrderPayment).where(
        OrderPayment.community_id == community_id, OrderPayment.collected_at >= start,
        OrderPayment.collected_at < end, OrderPayment.method.in_(rules.OFFLINE_METHODS)).order_by(OrderPayment.id))
    fees = db.session.scalars(select(FeePayment).where(
        FeePayment.community_id == community_id, FeePayment.paid_at >= start, FeePayment.paid_at < end,
        FeePayment.method.in_(rules.OFFLINE_METHODS), FeePayment.collector_id.is_not(None)).order_by(FeePayment.id))
    rows = [Taking("service", p) for p in orders] + [Taking("fee", p) for p in fees]
    return sorted(rows, key=lambda t: (t.collected_at, t.kind != "service", t.id))


def handover_sheet(staff: Staff, day: date, zone: str) -> list[dict]:
    """Per collector: what they took that day (paid services and fees), by method, what finance has
    received (one or more handovers: money taken after a handover is handed over later the same day) and
    what is still due."""
    if not can(staff.role, staff.department, "view_takings"):
        raise Forbidden("只有财务、收费员和经理可以查看交款", code="role_forbidden")
    start, end = _day_bounds(day, zone)
    sheets: dict[int, dict] = {}
    for p in takings(staff.community_id, start, end):
        sheet = sheets.setdefault(p.collector_id, {
            "collector": p.collector, "day": day, "payments": [], "total_fen": 0, "pending_fen": 0,
            "by_method": {m: 0 for m in rules.OFFLINE_METHODS}, "handovers": []})
        sheet["payments"].append(p)
        sheet["total_fen"] += p.amount_fen
        sheet["by_method"][p.method] += p.amount_fen
        if p.handover_id is None:
            sheet["pending_fen"] += p.amount_fen
    for collector_id, sheet in sheets.items():
        sheet["handovers"] = list(db.session.scalars(select(CashHandover).where(
            CashHandover.collector_id == collector_id, CashHandover.day == day).order_by(CashHandover.id)))
    return list(sheets.values())


def receive_handover(staff: Staff, collector_id: int, day: date, zone: str, note: str) -> CashHandover:
    """Finance (or the manager) confirms receipt of a collector's takings of that day not yet handed over."""
    if not can(staff.role, staff.department, "receive_takings"):
        raise Forbidden("只有财务或经理可以确认收到交款", code="role_forbidden")
    sheet = next((s for s in handover_sheet(staff, day, zone) if s["collector"] and s["collector"].id == collector_id),
                 None)
    if sheet is None:
        raise NotFound("该员工当天没有收款记录")
    pending = [p for p in sheet["payments"] if p.handover_id is None]
    if not pending:
        raise Conflict("当天的收款已全部交款", code="already_handed_over")
    handover = CashHandover(community_id=staff.community_id, collector_id=collector_id, day=day,
                            total_fen=sum(p.amount_fen for p in pending),
                            cash_fen=sum(p.amount_fen for p in pending if p.method == "cash"),
                            received_by_id=staff.id, received_at=utcnow(), note=note)
    db.session.add(handover)
    db.session.flush()
    for taking in pending:
        taking.row.handover_id = handover.id
    return handover
