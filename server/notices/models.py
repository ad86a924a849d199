"""Notices (通知) to owners: water or power cuts, reminders, replies to common problems; who read them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import Staff
from ..db_types import UTCDateTime
from ..extensions import db
from ..timeutil import utcnow


class Notice(db.Model):
    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_community_published", "community_id", "published_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20), default="general")  # rules.KINDS
    title: Mapped[str] = mapped_column(String(50))
    content: Mapped[str] = mapped_column(Text)
    # None: the whole community; {"buildings": ["1", "2"]}: those buildings (codes, as the staff gave them).
    # Queries use notice_buildings (ids); this is the record of what was asked.
    scope: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # water/power cuts: from ... to ...
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The common problem this notice answers; a foreign key comes with the common-problems module.
    common_problem_id: Mapped[int | None] = mapped_column(Integer, index=True)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Push bookkeeping, written by the jobs: set once when the recipients were split into batch jobs.
    fanned_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    push_recipients: Mapped[int] = mapped_column(Integer, default=0)
    push_sent: Mapped[int] = mapped_column(Integer, default=0)
    push_skipped: Mapped[int] = mapped_column(Integer, default=0)
    push_failed: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    published_by: Mapped[Staff | None] = relationship()
    buildings: Mapped[list[NoticeBuilding]] = relationship(cascade="all, delete-orphan")


class NoticeBuilding(db.Model):
    """The buildings a scoped notice is for (none: the whole community)."""
    __tablename__ = "notice_buildings"

    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id", ondelete="CASCADE"), primary_key=True,
                                             index=True)


class NoticeRead(db.Model):
    __tablename__ = "notice_reads"
    __table_args__ = (UniqueConstraint("notice_id", "owner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id", ondelete="CASCADE"), index=True)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
