"""The desk's board (工作台): what needs someone now, for one member of staff (what their permissions
let them act on). Counts are exact; lists are the first few, each count links to the full list."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from ..accounts.models import House, HouseMembership, Staff
from ..auth import access
from ..billing.models import Payment, Refund
from ..extensions import db
from ..timeutil import day_bounds, local_today, utcnow
from ..workorders import clocks, states
from ..workorders.models import WorkOrder

SOON = clocks.SOON  # a clock due within this is shown counting down
LIST_SIZE = 8


@dataclass
class Board:
    now: datetime
    emergencies: list[WorkOrder] = field(default_factory=list)  # open, nobody on site yet
    unassigned_count: int = 0
    unassigned: list[WorkOrder] = field(default_factory=list)  # no handler or worker yet
    clocks: list[tuple[WorkOrder, str, datetime]] = field(default_factory=list)  # due within 30 min or missed
    clocks_missed: int = 0  # orders with a running clock past its deadline
    clocks_soon: int = 0  # orders with a running clock due within SOON
    bindings_pending: int | None = None  # None: not theirs to review
    callbacks_due: int | None = None
    refunds_pending: int | None = None


def board(staff: Staff) -> Board:
    now = utcnow()
    mine = WorkOrder.community_id == staff.community_id
    out = Board(now=now)
    out.emergencies = list(db.session.scalars(select(WorkOrder).where(
        mine, WorkOrder.kind == "complaint", WorkOrder.emergency.is_(True), WorkOrder.arrived_at.is_(None),
        WorkOrder.status.not_in(states.FINAL)).order_by(WorkOrder.created_at)))
    waiting = select(WorkOrder).where(mine, WorkOrder.status == "submitted")
    out.unassigned_count = db.session.scalar(select(func.count()).select_from(waiting.subquery()))
    out.unassigned = list(db.session.scalars(waiting.order_by(WorkOrder.urgent.desc(), WorkOrder.created_at)
                                             .limit(LIST_SIZE)))
    out.clocks = clocks.due_before(now + SOON, mine, limit=LIST_SIZE)
    # Orders, as the order list filtered by clock=missed / clock=soon counts them (the cards link there).
    out.clocks_missed = db.session.scalar(select(func.count()).where(mine, clocks.missed(now)))
    out.clocks_soon = db.session.scalar(select(func.count()).where(mine, clocks.due_between(now, now + SOON)))
    if access.can(staff, "review_bindings"):
        out.bindings_pending = db.session.scalar(select(func.count()).select_from(HouseMembership).join(House).where(
            House.community_id == staff.community_id, HouseMembership.status == "pending"))
    if access.can(staff, "desk"):
        _, end_of_today = day_bounds(local_today(staff.community.timezone), staff.community.timezone)
        due, condition = clocks.running()["callback"]
        out.callbacks_due = db.session.scalar(select(func.count()).where(
            mine, condition, WorkOrder.needs_callback.is_(True), due < end_of_today))
    if access.can(staff, "approve_refunds"):
        out.refunds_pending = db.session.scalar(select(func.count()).select_from(Refund).join(Payment).where(
            Payment.community_id == staff.community_id, Refund.status == "requested"))
    return out
