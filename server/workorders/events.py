"""The timeline of a work order: who acted (owner, staff or the system), and the one way a status changes:
`move`, through the pure table in states.py, leaving an event. No order field changes status otherwise."""
from __future__ import annotations

from dataclasses import dataclass

from ..accounts.models import Owner, Staff
from ..errors import Conflict
from ..extensions import db
from ..timeutil import utcnow
from . import states
from .models import WorkOrder, WorkOrderEvent


@dataclass(frozen=True)
class Actor:
    kind: str  # owner | staff | system
    owner: Owner | None = None
    staff: Staff | None = None

    @classmethod
    def of_owner(cls, owner: Owner) -> Actor:
        return cls("owner", owner=owner)

    @classmethod
    def of_staff(cls, staff: Staff) -> Actor:
        return cls("staff", staff=staff)


SYSTEM = Actor("system")


def add_event(order: WorkOrder, actor: Actor, action: str, *, note: str = "", data: dict | None = None,
           from_status: str | None = None, to_status: str | None = None) -> WorkOrderEvent:
    event = WorkOrderEvent(order=order, actor=actor.kind, owner_id=actor.owner.id if actor.owner else None,
                           staff_id=actor.staff.id if actor.staff else None, action=action, note=note,
                           data=data or {}, from_status=from_status, to_status=to_status, at=utcnow())
    db.session.add(event)
    return event


def check(order: WorkOrder, event: str) -> str:
    """The status `event` leads to, or 409 when the state machine forbids it."""
    try:
        return states.apply(order.status, event)
    except states.IllegalTransition as exc:
        raise Conflict(exc.message, code="illegal_transition") from exc


def move(order: WorkOrder, event: str, actor: Actor, *, note: str = "", data: dict | None = None) -> WorkOrderEvent:
    target = check(order, event)
    row = add_event(order, actor, event, note=note, data=data, from_status=order.status, to_status=target)
    order.status = target
    order.updated_at = utcnow()
    return row
