"""A missed deadline, recorded once per clock, round and level (so a periodic job can run any number of
times), with an event on the timeline and an alert to whoever must act."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ..accounts.models import Staff
from ..extensions import db
from ..timeutil import utcnow
from . import rules
from .events import SYSTEM, add_event
from .models import SlaBreach, WorkOrder
from .notify import alert


def record_breach(order: WorkOrder, clock: str, level: int, due_at: datetime | None, notify: list[Staff],
                   what: str) -> bool:
    """Record one missed deadline at one level (idempotent) and tell who must act."""
    exists = db.session.scalar(select(SlaBreach.id).where(
        SlaBreach.order_id == order.id, SlaBreach.clock == clock, SlaBreach.round == order.rework_count,
        SlaBreach.level == level))
    if exists:
        return False
    breach = SlaBreach(order_id=order.id, clock=clock, round=order.rework_count, level=level,
                       due_at=due_at or utcnow(), detected_at=utcnow(),
                       responsible_id=order.assignee_id or order.received_by_id)
    db.session.add(breach)
    add_event(order, SYSTEM, "breach", note=f"{rules.CLOCKS[clock]}超时，已通知{'经理' if level == 2 else '主管'}",
           data={"clock": clock, "level": level, "due_at": (due_at or utcnow()).isoformat()})
    db.session.flush()
    alert(notify, order, what, f"breach:{breach.id}")
    return True
