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
    notify_owner(order.owner, content, community_id=order.community_id, page=f"pages/orders/detail?id={order.id}",
        # One queue for all of them, so an owner's credits go to updates in the order they happened.
        dedupe_key=f"order-status:{event.id}", queue="high")


def alert(staff_list, order: WorkOrder, what: str, dedupe: str) -> None:
    """Official-account alert to supervisors / managers, opening the order in the mini-program."""
    for staff in staff_list:
        notify_staff(staff, messages.order_alert(number=order.number, what=what, address=order.house.label,
                                                 at=utcnow()), page=f"pages/staff/orders/detail?id={order.id}", dedupe_key=f"{dedupe}:{staff.id}", queue="high")


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
