"""Which clocks of a work order are still running, as SQL: one definition for the escalation job (missed
ones) and the desk's board (due soon or missed). The deadlines themselves are computed by sla.py and
stored on the order; a clock stops running when the moment that meets it is recorded."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.sql import ColumnElement

from ..extensions import db
from . import states
from .models import WorkOrder

DONE = ("completed", "confirmed", "closed")


def running() -> dict[str, tuple]:
    """clock -> (the due column, the condition under which the clock still runs)."""
    complaint = WorkOrder.kind == "complaint"
    return {
        "confirm": (WorkOrder.confirm_due_at, and_(
            WorkOrder.kind == "service", WorkOrder.appointment_confirmed_at.is_(None),
            WorkOrder.status.in_(("submitted", "dispatched")))),
        "complete": (WorkOrder.complete_due_at, and_(WorkOrder.kind == "repair", WorkOrder.status.in_(states.OPEN))),
        "callback": (WorkOrder.callback_due_at, and_(WorkOrder.callback_at.is_(None), WorkOrder.status.in_(DONE))),
        "handler": (WorkOrder.handler_due_at, and_(complaint, WorkOrder.status.in_(("submitted", "dispatched")))),
        "onsite": (WorkOrder.onsite_due_at, and_(complaint, WorkOrder.emergency.is_(True),
                                                 WorkOrder.arrived_at.is_(None), WorkOrder.status != "cancelled")),
        "reply": (WorkOrder.reply_due_at, and_(complaint, WorkOrder.status.in_(states.OPEN),
                                               WorkOrder.replied_at.is_(None))),
    }


def due_before(moment: datetime, *where: ColumnElement, limit: int | None = None) -> list[tuple[WorkOrder, str, datetime]]:
    """Every (order, clock, due) still running whose deadline is before `moment`, soonest first."""
    out: list[tuple[WorkOrder, str, datetime]] = []
    for clock, (due, condition) in running().items():
        stmt = select(WorkOrder).where(condition, due < moment, *where).order_by(due)
        if limit:
            stmt = stmt.limit(limit)
        out += [(order, clock, getattr(order, due.key)) for order in db.session.scalars(stmt)]
    out.sort(key=lambda item: item[2])
    return out[:limit] if limit else out
