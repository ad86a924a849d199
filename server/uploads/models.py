"""Uploaded photos: one row per stored object."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db_types import UTCDateTime
from ..extensions import db
from ..timeutil import utcnow


class Upload(db.Model):
    """A photo uploaded by an owner (owner_id) or a staff member (staff_id).

    community_id is the community it belongs to: set at once for staff uploads (their community), and for
    owner uploads when they are attached to a record of a community (services.attach); null until then.
    Which staff may read it is decided by the records it is attached to (UploadAttachment).
    """
    __tablename__ = "uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Storage key, e.g. 2026/11/<32 hex>.jpg: random, never derived from the client's file name.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    content_type: Mapped[str] = mapped_column(String(50))  # sniffed from the bytes
    size: Mapped[int] = mapped_column(Integer)  # bytes
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id", ondelete="SET NULL"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id", ondelete="SET NULL"), index=True)
    # The house of the record it is attached to: the people of that house may see it (the worker's photos
    # of the finished job, a family member's photo of the leak).
    house_id: Mapped[int | None] = mapped_column(ForeignKey("houses.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UploadAttachment(db.Model):
    """An upload attached to another module's record (kind "work_order": a repair report's, complaint's or
    completed job's photo). Staff may read an upload when they may see one of its records: the check per
    kind is registered by the module that owns the record (services.register_visibility)."""
    __tablename__ = "upload_attachments"
    __table_args__ = (UniqueConstraint("upload_id", "kind", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    upload_id: Mapped[int] = mapped_column(ForeignKey("uploads.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
