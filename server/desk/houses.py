"""Finding a house at the desk while the caller talks: by its number (`1-1-101`, `1-1`, `1`, also
`1栋1单元101`), by a resident's name (its first characters) or phone (the whole number or its first
digits), over the roster (业主档案) and the approved memberships of the caller's community.

Every lookup has an index, so it stays instant in a community of 100,000 houses: building by its code
(unique per community), houses by (building, unit, room), people by a prefix of name or phone
(`*_pattern_ops` indexes on PostgreSQL), each with a LIMIT. (For a very common prefix, a surname, the
planner may rather read the table until it has its few matches, which come early.) Nothing searches
inside free text. Measured by tests/bench/bench_desk.py.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import contains_eager

from ..accounts import rules as account_rules
from ..accounts.models import Building, House, HouseMembership, RosterEntry, Staff
from ..accounts.queries import APPROVED, house_owners, roster_of
from ..auth import access
from ..extensions import db

LIMIT = 8
MAX_LIMIT = 20
PHONE_PREFIX_MIN = 5  # fewer digits than this are a building or room number, not a phone
# "1-1-101", "1 1 101", "1/1/101", "1栋1单元101室", "1号楼1单元101": building, unit, room (each optional
# after the first).
_SEPARATORS = re.compile(r"[\s\-－—_/／.·,，]+|栋|幢|号楼|单元|室|号")
_CODE = re.compile(r"^[0-9A-Za-z]{1,10}$")
_DIGITS = re.compile(r"^\d+$")


@dataclass(frozen=True)
class HouseHit:
    """A house and the person to fill in as the caller: the one whose name or phone matched, or for a
    house found by its number, the first person of its roster (owners first), else its bound owner."""
    house: House
    name: str
    phone: str
    role: str | None
    source: str  # roster | member | "" (nobody known)

    @property
    def role_label(self) -> str:
        return account_rules.MEMBER_ROLES.get(self.role or "", "")


def parse_number(q: str) -> list[str] | None:
    """["1", "1", "101"] for "1-1-101" (one to three parts), or None when q is not a house number."""
    parts = [p for p in _SEPARATORS.split(q.strip()) if p]
    if not 1 <= len(parts) <= 3 or not all(_CODE.match(p) for p in parts):
        return None
    return parts


def search(staff: Staff, q: str, limit: int = LIMIT) -> list[HouseHit]:
    """Houses of the staff member's community matching q, best first, at most `limit`."""
    access.require(staff, "find_houses")
    q, limit = (q or "").strip(), max(1, min(limit, MAX_LIMIT))
    if not q:
        return []
    phone = re.sub(r"[\s\-]", "", q)
    if _DIGITS.match(phone) and (len(phone) == 11 or (phone == q and len(q) >= PHONE_PREFIX_MIN)):
        return _unique(_people(staff, limit, phone=phone))[:limit]
    parts = parse_number(q)
    hits = _by_number(staff, parts, limit) if parts else []
    if not any(ch.isdigit() for ch in q):
        hits += _people(staff, limit, name=account_rules.normalize_name(q))
    return _unique(hits)[:limit]


def _by_number(staff: Staff, parts: list[str], limit: int) -> list[HouseHit]:
    building = db.session.scalar(select(Building).where(Building.community_id == staff.community_id,
                                                        Building.code == parts[0]))
    if building is None:
        return []
    stmt = select(House).where(House.building_id == building.id)
    order = [House.unit, House.room]  # the (building_id, unit, room) index
    if len(parts) > 1:
        stmt = stmt.where(House.unit == parts[1])
    if len(parts) > 2:
        stmt = stmt.where(_prefix(House.room, parts[2]))
        order.insert(0, (House.room == parts[2]).desc())  # the exact room first
    houses = list(db.session.scalars(stmt.order_by(*order).limit(limit)))
    contacts = _contacts([h.id for h in houses])
    return [HouseHit(h, *contacts.get(h.id, ("", "", None, ""))) for h in houses]


def escape_like(text: str) -> str:
    """text for a LIKE pattern with ESCAPE '\\': its % and _ are plain characters."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _prefix(column, value: str):
    """column LIKE 'value%' with the pattern bound as one parameter (PostgreSQL plans an index range for
    it; an expression such as :p || '%' would hide the prefix from the planner)."""
    return column.like(escape_like(value) + "%", escape="\\")


def _natural(text: str) -> tuple:
    """Rooms and units are text: 101 < 1001 as people count."""
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


def _contacts(house_ids: list[int]) -> dict[int, tuple[str, str, str | None, str]]:
    """For each house, who answers for it: its first roster entry, else its first approved owner."""
    out = {house_id: (e[0].name, e[0].phone, e[0].role, "roster")
           for house_id, e in roster_of(house_ids).items() if e}
    missing = [h for h in house_ids if h not in out]
    if missing:
        for m in db.session.scalars(house_owners(missing)):
            out.setdefault(m.house_id, (m.name, m.phone, m.role, "member"))
    return out


def _people(staff: Staff, limit: int, *, phone: str | None = None, name: str | None = None) -> list[HouseHit]:
    """Roster entries and approved memberships whose phone (exact, or these first digits) or name (these
    first characters) matches, in the staff member's community."""
    if name is not None and not name:
        return []
    hits: list[HouseHit] = []
    for model, source in ((RosterEntry, "roster"), (HouseMembership, "member")):
        column = model.phone if phone is not None else model.name
        value = phone if phone is not None else name
        match = column == value if phone is not None and len(phone) == 11 else _prefix(column, value)
        stmt: Select = (select(model).join(House, model.house_id == House.id).join(Building)
                        .options(contains_eager(model.house).contains_eager(House.building))
                        .where(House.community_id == staff.community_id, match).limit(limit))
        if model is HouseMembership:
            stmt = stmt.where(APPROVED)
        hits += [HouseHit(row.house, row.name, row.phone, row.role, source) for row in db.session.scalars(stmt)]
    exact = phone or name
    # Exact matches first, then by house; the roster's entry before a binding with the same phone.
    hits.sort(key=lambda h: ((h.phone if phone is not None else h.name) != exact, _natural(h.house.building.code),
                             _natural(h.house.unit), _natural(h.house.room), h.source != "roster", h.name))
    return hits


def _unique(hits: list[HouseHit]) -> list[HouseHit]:
    """One hit per house and person (a roster entry and its own binding are the same person)."""
    seen, out = set(), []
    for hit in hits:
        key = (hit.house.id, hit.phone)
        if key not in seen:
            seen.add(key)
            out.append(hit)
    return out
