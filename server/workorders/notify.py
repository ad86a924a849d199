"""Who hears of a work order and what they are told: the owner's progress pushes (subscribe messages) and
staff alerts (official-account template messages that open the order), and the staff lookups behind them."""
from __future__ import annotations

from sqlalchemy import select

from ..accounts.models import Staff
from ..extensions import db
from ..timeutil import utcnow
from ..wechat import messages
from ..wechat.services import notify_owner, notify_staff
from .models import WorkOrder, WorkOrderEvent


def tell_owner(order: WorkOrder, status_label: str, note: str, event: WorkOrderEvent) -> None:
    if order.owner is None:
        return
    db.session.flush()
    content = messages.order_status(number=order.number, title=order.title, status=status_label, note=note,
                                    at=event.at)
    # One queue for all of them (the one dispatch runs on), so an owner's credits go to updates in the
    # order they happened.
    notify_owner(order.owner, content, community_id=order.community_id, page=f"pages/orders/detail?id={order.id}",
                 dedupe_key=f"order-status:{event.id}", queue="high")


def alert(staff_list, order: WorkOrder, what: str, dedupe: str, *, urgent: bool = False) -> None:
    """Official-account alert to staff, opening the order in the mini-program. `urgent` (emergencies,
    urgent repairs) jumps the queue; reminders and escalations wait their turn."""
    for staff in staff_list:
        content = messages.order_alert(number=order.number, what=what, address=order.house.label, at=utcnow())
        notify_staff(staff, content, page=f"pages/staff/orders/detail?id={order.id}",
                     dedupe_key=f"{dedupe}:{staff.id}", queue="high" if urgent else "default")


def supervisors(order: WorkOrder) -> list[Staff]:
    return list(db.session.scalars(select(Staff).where(
        Staff.community_id == order.community_id, Staff.active.is_(True), Staff.role == "supervisor",
        Staff.department == order.department)))


def managers(community_id: int) -> list[Staff]:
    return list(db.session.scalars(select(Staff).where(
        Staff.community_id == community_id, Staff.active.is_(True), Staff.role == "manager")))


def receptionists_on_duty(community_id: int) -> list[Staff]:
    return list(db.session.scalars(select(Staff).where(
        Staff.community_id == community_id, Staff.active.is_(True), Staff.on_duty.is_(True),
        Staff.role == "receptionist").order_by(Staff.id)))


def emergency_responders(community_id: int) -> list[Staff]:
    """The manager and every on-duty member of every department."""
    return list(db.session.scalars(select(Staff).where(
        Staff.community_id == community_id, Staff.active.is_(True),
        (Staff.role == "manager") | Staff.on_duty.is_(True)).order_by(Staff.id)))
