"""Who may see which work orders: owners those of their approved houses; workers what is assigned to them;
the desk its community; supervisors their department; cashiers paid services; every on-duty member an
open emergency. Another community's order, or one the caller may not see, is "not found"."""
from __future__ import annotations

from sqlalchemy import select

from ..accounts import rules as account_rules
from ..accounts.models import Owner, Staff
from ..accounts.queries import approved_house_ids, approved_house_ids_query
from ..errors import NotFound
from ..extensions import db
from . import filters, states
from .models import WorkOrder


def owner_order(owner: Owner, order_id: int) -> WorkOrder:
    order = db.session.get(WorkOrder, order_id)
    if order is None or order.house_id not in approved_house_ids(owner):
        raise NotFound("未找到该工单")
    return order


def owner_orders_query(owner: Owner, kind: str | None, status: str | None):
    stmt = (select(WorkOrder).where(WorkOrder.house_id.in_(approved_house_ids_query(owner.id)))
            .order_by(WorkOrder.id.desc()))
    if kind:
        stmt = stmt.where(WorkOrder.kind == kind)
    if status:
        stmt = stmt.where(WorkOrder.status == status)
    return stmt


def staff_sees(staff: Staff, order: WorkOrder) -> bool:
    if order.community_id != staff.community_id:
        return False
    if staff.role in account_rules.DESK_ROLES:
        return True
    if order.emergency and order.status not in states.FINAL:
        return True  # every on-duty member may be the first responder
    if staff.role == "supervisor":
        return order.department == staff.department
    if staff.role == "cashier":
        return order.kind == "service"
    return order.assignee_id == staff.id


# The kind under which an order's photos are attached (uploads.attach): those who see the order see them.
PHOTO_RECORD = "work_order"


def staff_sees_order(staff: Staff, order_id: int) -> bool:
    """For uploads: may this member of staff see the photos of order `order_id` (registered in server/app.py)."""
    order = db.session.get(WorkOrder, order_id)
    return order is not None and staff_sees(staff, order)


def staff_order(staff: Staff, order_id: int) -> WorkOrder:
    order = db.session.get(WorkOrder, order_id)
    if order is None or not staff_sees(staff, order):
        raise NotFound("未找到该工单")
    return order


def staff_orders_query(staff: Staff, args: dict):
    """The orders `staff` may list (the desk: their community; supervisors: their department; cashiers: paid
    services; workers: theirs), narrowed and sorted by the filters of StaffOrderFilters (filters.py)."""
    stmt = select(WorkOrder).where(WorkOrder.community_id == staff.community_id)
    if staff.role == "supervisor":
        stmt = stmt.where(WorkOrder.department == staff.department)
    elif staff.role == "cashier":
        stmt = stmt.where(WorkOrder.kind == "service")
    elif staff.role not in account_rules.DESK_ROLES:
        stmt = stmt.where(WorkOrder.assignee_id == staff.id)
    return filters.with_rows_loaded(filters.apply(stmt, args, staff.community))


def worker_task(staff: Staff, order_id: int) -> WorkOrder:
    order = db.session.get(WorkOrder, order_id)
    if order is None or order.assignee_id != staff.id:
        raise NotFound("未找到该任务")
    return order


def tasks_query(staff: Staff, status: str | None):
    stmt = select(WorkOrder).where(WorkOrder.assignee_id == staff.id)
    if status:
        stmt = stmt.where(WorkOrder.status == status)
    else:
        stmt = stmt.where(WorkOrder.status.in_(states.WORKER_LOAD))
    return stmt.order_by(WorkOrder.urgent.desc(), WorkOrder.id)
