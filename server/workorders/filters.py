"""The staff's order list: filters and sort orders (StaffOrderFilters), as SQL over one community's orders.

Every filter is a condition on `work_orders` that an index serves (see migration 0011): community and
status, creation time, house, the running clocks; the text search is the one full scan, bounded by the
community. Lists load their rows' houses and people in a fixed number of queries, never one per row.
"""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import Select, case, or_, select
from sqlalchemy.orm import selectinload

from ..accounts.models import Building, Community, House
from ..timeutil import day_bounds, utcnow
from . import clocks, states
from .models import WorkOrder

SOON = timedelta(minutes=30)  # clock=soon: a running clock due within this (the board's "30 分钟内到期")
NUMBER_RE = re.compile(r"^[A-Za-z]{2}\d{8}-\d{4}$")  # BX20261122-0007
HOUSE_SPLIT = re.compile(r"[-\s/栋幢号单元室]+")


def house_parts(text: str) -> list[str]:
    """'1-1-101', '1栋1单元101', '1 1 101' -> ['1', '1', '101']; '2' or '2栋' -> ['2']."""
    return [part for part in HOUSE_SPLIT.split(text.strip()) if part]


def _houses(community_id: int, text: str) -> Select:
    """Ids of the houses `text` names: a building code, building-unit, or building-unit-room."""
    parts = house_parts(text)
    stmt = select(House.id).join(Building, House.building_id == Building.id).where(
        Building.community_id == community_id, Building.code == (parts[0] if parts else ""))
    if len(parts) >= 2:
        stmt = stmt.where(House.unit == parts[1])
    if len(parts) >= 3:
        stmt = stmt.where(House.room == "".join(parts[2:]))
    return stmt


def _text(q: str):
    q = q.strip()
    if NUMBER_RE.match(q):
        return WorkOrder.number == q.upper()
    like = "%" + q.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
    return or_(WorkOrder.number.ilike(like, escape="\\"), WorkOrder.title.ilike(like, escape="\\"),
               WorkOrder.description.ilike(like, escape="\\"), WorkOrder.contact_name.ilike(like, escape="\\"),
               WorkOrder.contact_phone.like(like, escape="\\"))


def apply(stmt: Select, args: dict, community: Community) -> Select:
    """`stmt` (orders of `community` the caller may see) narrowed by the filters in `args`, sorted."""
    for key in ("kind", "status", "department", "category"):
        if args.get(key):
            stmt = stmt.where(getattr(WorkOrder, key) == args[key])
    now = utcnow()
    if args.get("open"):
        stmt = stmt.where(WorkOrder.status.in_(sorted(states.OPEN)))
    if args.get("overdue"):
        stmt = stmt.where(WorkOrder.status.in_(sorted(states.OPEN)), WorkOrder.complete_due_at < now)
    if args.get("emergency"):
        stmt = stmt.where(WorkOrder.urgent.is_(True))  # urgent repairs and emergency complaints
    if args.get("important"):
        stmt = stmt.where(WorkOrder.important.is_(True))
    clock = args.get("clock")
    if clock == "missed":
        stmt = stmt.where(clocks.missed(now))
    elif clock == "soon":
        stmt = stmt.where(clocks.due_between(now, now + SOON))
    elif clock == "breached":
        stmt = stmt.where(clocks.breached())
    if args.get("created_from"):
        stmt = stmt.where(WorkOrder.created_at >= day_bounds(args["created_from"], community.timezone)[0])
    if args.get("created_to"):
        stmt = stmt.where(WorkOrder.created_at < day_bounds(args["created_to"], community.timezone)[1])
    if args.get("house"):
        stmt = stmt.where(WorkOrder.house_id.in_(_houses(community.id, args["house"])))
    if args.get("q") and args["q"].strip():
        stmt = stmt.where(_text(args["q"]))
    return sort(stmt, args.get("sort") or "newest")


def sort(stmt: Select, how: str) -> Select:
    if how == "due":
        return stmt.order_by(clocks.next_due(), WorkOrder.id.desc())
    if how == "open":
        return stmt.order_by(case((WorkOrder.status.in_(sorted(states.OPEN)), 0), else_=1), WorkOrder.id.desc())
    return stmt.order_by(WorkOrder.id.desc())


def with_rows_loaded(stmt: Select) -> Select:
    """What a list shows of each order (house, people) in a few queries for the whole page."""
    return stmt.options(selectinload(WorkOrder.house).selectinload(House.building),
                        selectinload(WorkOrder.assignee), selectinload(WorkOrder.received_by),
                        selectinload(WorkOrder.breaches))
