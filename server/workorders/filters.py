"""The staff's order list: filters and sort orders (StaffOrderFilters), as SQL over one community's orders.

Every filter is a condition on `work_orders` that an index serves (migration 0011): community with status,
kind and category, department, creation time, the flags, house, the running clocks, and trigrams for text
(on PostgreSQL; a text of one or two characters is matched by scanning the community's orders). Lists load
their rows' houses and people in a fixed number of queries, never one per row. Figures at 500,000 orders:
tests/bench/bench_order_list.py.
"""
from __future__ import annotations

import re

from sqlalchemy import Select, func, not_, or_, select
from sqlalchemy.orm import selectinload

from ..accounts.models import Building, Community, House
from ..extensions import db
from ..timeutil import day_bounds, utcnow
from . import clocks, states
from .models import WorkOrder

NUMBER_RE = re.compile(r"^[A-Za-z]{2}\d{8}-\d{4,}$")  # BX20261122-0007
HOUSE_SPLIT = re.compile(r"[-\s/栋幢楼号单元室]+")


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
    """The order number, or `q` in the title, description, contact name or phone, case-insensitively
    (LIKE where the text has no letters with a case: cheaper than ILIKE, the same result)."""
    q = q.strip()
    if NUMBER_RE.match(q):
        return WorkOrder.number == q.upper()
    pattern = "%" + q.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
    cased = q.lower() != q.upper()

    def match(column):
        return column.ilike(pattern, escape="\\") if cased else column.like(pattern, escape="\\")

    return or_(WorkOrder.number.like(pattern.upper(), escape="\\"), match(WorkOrder.title),
               match(WorkOrder.description), match(WorkOrder.contact_name),
               WorkOrder.contact_phone.like(pattern, escape="\\"))


def apply(stmt: Select, args: dict, community: Community) -> Select:
    """`stmt` (orders of `community` the caller may see) narrowed by the filters in `args` (sort: `rows`)."""
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
        stmt = stmt.where(clocks.due_between(now, now + clocks.SOON))
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
    return stmt


# -- sort orders ---------------------------------------------------------------------------------------------
# newest: newest first. due: the orders with a running clock first, the soonest deadline (missed ones) first,
# then the others newest first. open: open orders first, each part newest first. A sort that lists some
# orders first is read as two index-friendly queries (those orders in their order, then the rest newest
# first) rather than one sort of every order by a computed key.

def _first(how: str):
    """(the condition of the orders listed first, their order) of a sort order, or None."""
    if how == "due":
        return clocks.any_running(), (clocks.next_due(), WorkOrder.id.desc())
    if how == "open":
        return WorkOrder.status.in_(sorted(states.OPEN)), (WorkOrder.id.desc(),)
    return None


def count(stmt: Select) -> int:
    return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))


def rows(stmt: Select, how: str, offset: int, limit: int) -> list[WorkOrder]:
    """Orders `offset` to `offset + limit` of the filtered `stmt` in the sort order `how`."""
    first = _first(how)
    if first is None:
        return list(db.session.scalars(stmt.order_by(WorkOrder.id.desc()).offset(offset).limit(limit)))
    condition, order = first
    head = stmt.where(condition)
    in_head = count(head)
    out: list[WorkOrder] = []
    if offset < in_head:
        out = list(db.session.scalars(head.order_by(*order, WorkOrder.id.desc()).offset(offset).limit(limit)))
    if len(out) < limit:
        out += db.session.scalars(stmt.where(not_(condition)).order_by(WorkOrder.id.desc())
                                  .offset(max(0, offset - in_head)).limit(limit - len(out)))
    return out


def paged(stmt: Select, args: dict) -> dict:
    """{"items", "total", "page", "per_page"} of the filtered `stmt`, sorted as args["sort"] asks."""
    page, per_page = args["page"], args["per_page"]
    return {"items": rows(stmt, args.get("sort") or "newest", (page - 1) * per_page, per_page),
            "total": count(stmt), "page": page, "per_page": per_page}


def with_rows_loaded(stmt: Select) -> Select:
    """What a list shows of each order (house, people) in a few queries for the whole page."""
    return stmt.options(selectinload(WorkOrder.house).selectinload(House.building),
                        selectinload(WorkOrder.assignee), selectinload(WorkOrder.received_by),
                        selectinload(WorkOrder.breaches))
