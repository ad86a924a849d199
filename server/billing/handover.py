"""The daily cash handover (现金当日交财务): everything a collector took in person that day, from either
source (paid-service payments on site, fee payments at the desk), by method; finance (or the manager)
confirms receipt. Billing owns money; work orders only record what was taken for an order."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from ..accounts.models import Staff
from ..auth import access
from ..errors import Conflict, NotFound
from ..extensions import db
from ..money import OFFLINE_METHODS
from ..timeutil import day_bounds, utcnow
from ..workorders.models import OrderPayment, WorkOrder
from .models import CashHandover, Payment as FeePayment


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
        OrderPayment.collected_at < end, OrderPayment.method.in_(OFFLINE_METHODS)).order_by(OrderPayment.id))
    fees = db.session.scalars(select(FeePayment).where(
        FeePayment.community_id == community_id, FeePayment.paid_at >= start, FeePayment.paid_at < end,
        FeePayment.method.in_(OFFLINE_METHODS), FeePayment.collector_id.is_not(None)).order_by(FeePayment.id))
    rows = [Taking("service", p) for p in orders] + [Taking("fee", p) for p in fees]
    return sorted(rows, key=lambda t: (t.collected_at, t.kind != "service", t.id))


def handover_sheet(staff: Staff, day: date, zone: str) -> list[dict]:
    """Per collector: what they took that day (paid services and fees), by method, what finance has
    received (one or more handovers: money taken after a handover is handed over later the same day) and
    what is still due."""
    access.require(staff, "view_takings")
    start, end = day_bounds(day, zone)
    sheets: dict[int, dict] = {}
    for p in takings(staff.community_id, start, end):
        sheet = sheets.setdefault(p.collector_id, {
            "collector": p.collector, "day": day, "payments": [], "total_fen": 0, "pending_fen": 0,
            "by_method": {m: 0 for m in OFFLINE_METHODS}, "handovers": []})
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
    access.require(staff, "receive_takings")
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
