"""Reads about who lives where that several domains need (one home each): an owner's approved houses, a
house's approved owners; and a community's staff."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, func, select

from ..extensions import db
from .models import Building, HouseMembership, Owner, RosterEntry, Staff

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


def community_staff(community_id: int, department: str | None = None, on_duty: bool | None = None) -> Select:
    """A community's staff by department (the staff list, the desk's "about whom" of a complaint)."""
    stmt = select(Staff).where(Staff.community_id == community_id).order_by(Staff.department, Staff.id)
    if department is not None:
        stmt = stmt.where(Staff.department == department)
    if on_duty is not None:
        stmt = stmt.where(Staff.on_duty.is_(on_duty))
    return stmt
