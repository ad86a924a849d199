"""Server-side sessions behind API tokens (so tokens can be revoked and session_key stays here)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import Owner, Staff
from ..db_types import UTCDateTime
from ..extensions import db
from ..timeutil import utcnow


class AuthSession(db.Model):
    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, carried inside the signed token
    # mp (mini-program login) | password (API token from a staff password) | admin (the admin page's cookie)
    kind: Mapped[str] = mapped_column(String(10))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    # WeChat session_key from code2Session: needed only server-side, never returned to clients.
    session_key: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # admin sessions expire when idle

    owner: Mapped[Owner | None] = relationship()
    staff: Mapped[Staff | None] = relationship()
