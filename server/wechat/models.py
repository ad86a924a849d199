"""Messages sent (or skipped, or failed) to owners and staff, and owners' subscribe-message credits."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db_types import UTCDateTime
from ..extensions import db
from ..timeutil import utcnow


class SubscribeCredit(db.Model):
    """One credit per 'accept' of a one-time subscribe template; one send spends one."""
    __tablename__ = "subscribe_credits"
    __table_args__ = (UniqueConstraint("owner_id", "template_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id", ondelete="CASCADE"))
    template_id: Mapped[str] = mapped_column(String(64))
    credits: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Message(db.Model):
    """Audit record of every push: to whom, which template, the exact payload, and what happened."""
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_created", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # subscribe (owner) | template (staff)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id", ondelete="SET NULL"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id", ondelete="SET NULL"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"), index=True)
    touser: Mapped[str | None] = mapped_column(String(64))
    template_key: Mapped[str] = mapped_column(String(40))
    template_id: Mapped[str] = mapped_column(String(64))
    page: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending sent skipped failed unknown
    error_code: Mapped[int | None] = mapped_column(Integer)
    error_message: Mapped[str | None] = mapped_column(Text)
    # A stable key per business event ("binding:12:approved") so the same event never makes two messages.
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    credit_spent: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set (and committed) just before a subscribe message goes to WeChat, cleared when the answer says it did
    # not arrive. Found still set by a later run: that run was killed mid-send, so it is not sent again.
    send_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    wx_msgid: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
