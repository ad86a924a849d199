"""Reads about who lives where that several domains need (one home each): an owner's approved houses, a
house's approved owners."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, func, select

from ..extensions import db
from . import rules
from .models import Building, House, HouseMembership, Owner, RosterEntry

HOUSE_SUGGESTIONS = 10  # houses offered for what was typed

APPROVED = HouseMembership.status == "approved"


def approved_house_ids_query(owner_id: int) -> Select:
    """The ids of the houses an owner is approved for (as a subquery)."""
    return select(HouseMembership.house_id).where(HouseMembership.owner_id == owner_id, APPROVED)


def approved_house_ids(owner: Owner) -> set[int]:
    return set(db.session.scalars(approved_house_ids_query(owner.id)))


def house_owners(house_ids: Iterable[int]) -> Select:
    """Approved memberships with the owner role of these houses, oldest first."""
    return select(HouseMembership).where(HouseMembership.house_id.in_(list(house_ids)), APPROVED,
                                         HouseMembership.role == "owner").order_by(HouseMembership.id)


def roster_of(house_ids: Iterable[int]) -> dict[int, list[RosterEntry]]:
    """What the roster (业主档案) says about each house: its registered people, owners first."""
    out: dict[int, list[RosterEntry]] = {h: [] for h in house_ids}
    if out:
        order = {"owner": 0, "family": 1, "tenant": 2}
        rows = db.session.scalars(select(RosterEntry).where(RosterEntry.house_id.in_(list(out))))
        for entry in sorted(rows, key=lambda e: (order.get(e.role, 3), e.id)):
            out[entry.house_id].append(entry)
    return out


def buildings_of(community_id: int) -> list[Building]:
    """A community's buildings in their natural order (2 before 10)."""
    return list(db.session.scalars(select(Building).where(Building.community_id == community_id)
                                   .order_by(func.length(Building.code), Building.code)))


def find_houses(community_id: int, text: str, limit: int = HOUSE_SUGGESTIONS) -> list[dict]:
    """Houses of a community matching what was typed (rules.parse_house_query: a house number, a room, part
    of a registered phone or name), each with its registered residents, in building-unit-room order."""
    query = rules.parse_house_query(text)
    if query is None:
        return []
    stmt = (select(House).join(Building, Building.id == House.building_id)
            .where(House.community_id == community_id))
    if query.building:
        stmt = stmt.where(Building.code == query.building)
    if query.unit:
        stmt = stmt.where(House.unit == query.unit)
    if query.room:
        stmt = stmt.where(House.room.startswith(query.room, autoescape=True))
    if query.phone:
        stmt = stmt.where(House.id.in_(select(RosterEntry.house_id).where(
            RosterEntry.phone.contains(query.phone, autoescape=True))))
    if query.name:
        stmt = stmt.where(House.id.in_(select(RosterEntry.house_id).where(
            func.replace(RosterEntry.name, " ", "").contains(query.name, autoescape=True))))
    houses = db.session.scalars(stmt.order_by(func.length(Building.code), Building.code, House.unit,
                                              func.length(House.room), House.room).limit(limit)).all()
    residents = roster_of(h.id for h in houses)
    return [{"house": h, "residents": residents[h.id]} for h in houses]
