"""Missed deadlines and forgotten work, as periodic jobs: each missed clock is recorded once per level and
goes to the supervisor, then (30 minutes on) the manager; completed work the owner ignores is confirmed,
then closed. The job boundary (jobs/workorders.py) commits."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from ..accounts.models import Staff
from ..extensions import db
from ..timeutil import as_utc, utcnow
from . import clocks, rules
from .dispatch import offer
from .events import SYSTEM, move
from .lifecycle import confirm
from .breaches import record_breach
from .models import WorkOrder
from .notify import managers, receptionists_on_duty, supervisors


def overdue_clocks(now: datetime) -> list[tuple[WorkOrder, str, datetime]]:
    """Every (order, clock, due) missed as of `now`."""
    return clocks.due_before(now)


def escalate_overdue() -> int:
    """Periodic job: a missed deadline goes to the supervisor (callbacks: the receptionists), then the manager."""
    now = utcnow()
    later = timedelta(minutes=current_app.config["ESCALATE_MANAGER_MINUTES"])
    recorded = 0
    for order, clock, due in overdue_clocks(now):
        first, second = _escalation_chain(order, clock)
        if record_breach(order, clock, 1, due, first, f"{rules.CLOCKS[clock]}已超时"):
            recorded += 1
            if clock == "handler":  # nobody acknowledged: the manager takes it over
                _hand_to_manager(order)
        if second is not None and as_utc(due) + later < now:
            recorded += record_breach(order, clock, 2, due, second, f"{rules.CLOCKS[clock]}超时未处理，请督办")
    return recorded


def _escalation_chain(order: WorkOrder, clock: str) -> tuple[list[Staff], list[Staff] | None]:
    """Who hears of a missed deadline first, and who 30 minutes later (None: nobody above)."""
    if clock == "callback":
        return receptionists_on_duty(order.community_id), managers(order.community_id)
    if order.kind == "complaint":
        company = list(db.session.scalars(select(Staff).where(
            Staff.community_id == order.community_id, Staff.active.is_(True), Staff.department == "management")))
        return managers(order.community_id), company or None
    return supervisors(order), managers(order.community_id)


def _hand_to_manager(order: WorkOrder) -> None:
    chosen = next((m for m in managers(order.community_id) if m.id != order.assignee_id), None)
    if chosen is None:
        return
    offer(order, chosen, SYSTEM, "dispatch" if order.status == "submitted" else "reassign")


def auto_finish() -> dict:
    """Periodic job: completed work the owner ignores is confirmed after AUTO_CONFIRM_HOURS; confirmed work
    left unrated is closed after AUTO_CLOSE_DAYS."""
    cfg = current_app.config
    now = utcnow()
    confirmed = closed = 0
    for order in db.session.scalars(select(WorkOrder).where(
            WorkOrder.status == "completed", WorkOrder.completed_at < now - timedelta(hours=cfg["AUTO_CONFIRM_HOURS"]))):
        if order.final_fen and order.quote_fen is not None and order.final_fen > order.quote_fen:
            continue  # an amount above the quote needs the owner's own yes; staff follow it up
        confirm(order, SYSTEM, note=f"业主 {cfg['AUTO_CONFIRM_HOURS']} 小时内未确认，系统自动确认")
        confirmed += 1
    for order in db.session.scalars(select(WorkOrder).where(
            WorkOrder.status == "confirmed", WorkOrder.confirmed_at < now - timedelta(days=cfg["AUTO_CLOSE_DAYS"]))):
        move(order, "close", SYSTEM, note="未评价，系统自动结单")
        order.closed_at = now
        closed += 1
    return {"confirmed": confirmed, "closed": closed}
