"""A house's file (房屋档案) as the service center reads it: the house, who the roster says lives there and
who has bound it in the mini-program (with their states), its latest work orders (those the caller may
see), and its account (bills by status, what is overdue). Behind GET /api/v1/staff/houses/{id} and the
admin page's house page."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import case, func, select

from ..accounts.models import House, HouseMembership, RosterEntry, Staff
from ..accounts.queries import roster_of
from ..auth import access
from ..billing.models import Bill
from ..extensions import db
from ..timeutil import local_today
from ..workorders import access as order_access
from ..workorders.filters import count
from ..workorders.models import WorkOrder

ORDERS_SHOWN = 10
BILLS_SHOWN = 6
MEMBERSHIP_ORDER = {"approved": 0, "pending": 1, "rejected": 2, "unbound": 3}


@dataclass
class Account:
    """The house's bills: unpaid (of which overdue) and paid, counts and fen; the latest few."""
    unpaid_count: int = 0
    unpaid_fen: int = 0
    overdue_count: int = 0
    overdue_fen: int = 0
    paid_count: int = 0
    paid_fen: int = 0
    latest: list[Bill] = field(default_factory=list)


@dataclass
class HouseFile:
    house: House
    roster: list[RosterEntry]
    memberships: list[HouseMembership]  # every binding request, approved first
    orders: list[WorkOrder]  # the latest ORDERS_SHOWN the caller may see
    orders_total: int
    account: Account | None  # None: the caller may not see bills

    @property
    def bound_phones(self) -> set[str]:
        return {m.phone for m in self.memberships if m.status == "approved"}


def house_file(staff: Staff, house_id: int) -> HouseFile:
    access.require(staff, "find_houses")
    house = access.scoped(House, house_id, staff, "未找到该房屋")
    memberships = sorted(db.session.scalars(select(HouseMembership).where(HouseMembership.house_id == house.id)),
                         key=lambda m: (MEMBERSHIP_ORDER.get(m.status, 9), m.id))
    orders = order_access.staff_orders_query(staff, {}).where(WorkOrder.house_id == house.id)
    return HouseFile(
        house=house, roster=roster_of([house.id])[house.id], memberships=memberships,
        orders=list(db.session.scalars(orders.order_by(WorkOrder.id.desc()).limit(ORDERS_SHOWN))),
        orders_total=count(orders),
        account=_account(staff, house) if access.can(staff, "view_bills") else None)


def _account(staff: Staff, house: House) -> Account:
    today = local_today(staff.community.timezone)
    unpaid, paid = Bill.status == "unpaid", Bill.status == "paid"
    overdue = unpaid & (Bill.due_date < today)

    def n(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    def fen(condition):
        return func.coalesce(func.sum(case((condition, Bill.amount_fen), else_=0)), 0)

    row = db.session.execute(select(n(unpaid), fen(unpaid), n(overdue), fen(overdue), n(paid), fen(paid))
                             .where(Bill.house_id == house.id)).one()
    latest = db.session.scalars(select(Bill).where(Bill.house_id == house.id)
                                .order_by(Bill.period.desc(), Bill.id.desc()).limit(BILLS_SHOWN))
    return Account(*(int(v) for v in row), latest=list(latest))
