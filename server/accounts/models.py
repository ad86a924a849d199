"""Communities, houses, owners (WeChat users), the roster, memberships and staff."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db_types import UTCDateTime
from ..extensions import db
from ..timeutil import utcnow
from . import rules


class Community(db.Model):
    __tablename__ = "communities"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    # {"1": ["08:30", "18:00"], ..., "7": null}: ISO weekday -> service-center opening hours (null: closed).
    business_hours: Mapped[dict] = mapped_column(JSON, default=rules.default_business_hours)
    # Receptionists may take fee payments when the cashier is away (the community decides).
    reception_collects_fees: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    buildings: Mapped[list[Building]] = relationship(back_populates="community", order_by="Building.code")


class CalendarDay(db.Model):
    """Exceptions to the weekly pattern: public holidays and make-up working days (调休), and days the
    community keeps its ordinary hours although the State Council's schedule says otherwise."""
    __tablename__ = "calendar_days"
    __table_args__ = (UniqueConstraint("community_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))  # holiday | workday | normal (ordinary hours, an override)
    name: Mapped[str] = mapped_column(String(50), default="")
    # state: pre-filled from the State Council's schedule; manual: set by the community's manager
    source: Mapped[str] = mapped_column(String(10), default="manual", server_default="manual")


class Building(db.Model):
    __tablename__ = "buildings"
    __table_args__ = (UniqueConstraint("community_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(50))

    community: Mapped[Community] = relationship(back_populates="buildings")


class House(db.Model):
    __tablename__ = "houses"
    __table_args__ = (UniqueConstraint("building_id", "unit", "room"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Denormalised so every scoped query is one equality on community_id.
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id", ondelete="CASCADE"))
    unit: Mapped[str] = mapped_column(String(10))
    room: Mapped[str] = mapped_column(String(10))
    floor: Mapped[int | None] = mapped_column(Integer)
    area_m2: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))

    # A house is shown by its label (building code, unit, room): load its building with it, in one query for
    # a whole list of houses (selectin: never joined into a FOR UPDATE of the house).
    building: Mapped[Building] = relationship(lazy="selectin")
    community: Mapped[Community] = relationship()

    @property
    def label(self) -> str:
        return rules.house_label(self.building.code, self.unit, self.room)


class RosterEntry(db.Model):
    """Who the property company knows lives in a house (业主档案), from the roster import or added by
    an approved owner for family and tenants. A binding request that matches an entry is approved at once."""
    __tablename__ = "roster_entries"
    __table_args__ = (
        UniqueConstraint("house_id", "phone"),
        # The desk finds a caller by phone (exact or first digits) or by the first characters of a name:
        # prefix searches (LIKE 'x%'), which PostgreSQL serves from a *_pattern_ops index.
        Index("ix_roster_entries_phone", "phone", postgresql_ops={"phone": "varchar_pattern_ops"}),
        Index("ix_roster_entries_name", "name", postgresql_ops={"name": "varchar_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    house_id: Mapped[int] = mapped_column(ForeignKey("houses.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(10))  # owner | family | tenant
    source: Mapped[str] = mapped_column(String(16), default="roster")  # roster | owner | staff
    added_by_owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    house: Mapped[House] = relationship(lazy="selectin")


class Owner(db.Model):
    """A WeChat user of the mini-program (owner, family member or tenant; staff log in as one too)."""
    __tablename__ = "owners"

    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), unique=True)
    unionid: Mapped[str | None] = mapped_column(String(64), index=True)
    name: Mapped[str | None] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    phone_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    memberships: Mapped[list[HouseMembership]] = relationship(back_populates="owner")


class HouseMembership(db.Model):
    __tablename__ = "house_memberships"
    __table_args__ = (
        UniqueConstraint("house_id", "owner_id"),
        Index("ix_house_memberships_status_house", "status", "house_id"),
        # Caller search at the desk (see RosterEntry).
        Index("ix_house_memberships_phone", "phone", postgresql_ops={"phone": "varchar_pattern_ops"}),
        Index("ix_house_memberships_name", "name", postgresql_ops={"name": "varchar_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    house_id: Mapped[int] = mapped_column(ForeignKey("houses.id", ondelete="CASCADE"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(10))  # owner | family | tenant
    status: Mapped[str] = mapped_column(String(10))  # pending | approved | rejected | unbound
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20))
    # Why it waits for review (shown to staff): not on the roster, phone not verified, ...
    pending_reason: Mapped[str | None] = mapped_column(String(100))
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reject_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    house: Mapped[House] = relationship(lazy="selectin")
    owner: Mapped[Owner] = relationship(back_populates="memberships", lazy="selectin")
    reviewed_by: Mapped[Staff | None] = relationship()


class Staff(db.Model):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    department: Mapped[str] = mapped_column(String(20))  # rules.DEPARTMENTS
    role: Mapped[str] = mapped_column(String(20))  # rules.ROLES
    skills: Mapped[list] = mapped_column(JSON, default=list)
    on_duty: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    mp_openid: Mapped[str | None] = mapped_column(String(64), unique=True)
    oa_openid: Mapped[str | None] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # Wrong passwords in a row, and until when the account waits after too many (per account, not per IP).
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    community: Mapped[Community] = relationship()


class OaBindingToken(db.Model):
    """One-time token a worker consumes by scanning the official account's QR code (binds oa_openid)."""
    __tablename__ = "oa_binding_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_openid: Mapped[str | None] = mapped_column(String(64))
    qr_ticket: Mapped[str | None] = mapped_column(Text)

    staff: Mapped[Staff] = relationship(foreign_keys=[staff_id])
