"""The desk's own records: calls and visits that were questions (咨询), answered on the spot
(《来电、来访咨询记录》). Requests that need work become work orders instead (server/workorders/)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import House, Staff
from ..db_types import UTCDateTime
from ..extensions import db
from ..timeutil import utcnow


class Consultation(db.Model):
    """One call or visit that asked something and was answered: who called about which house (if any),
    what they asked, what they were told, and who received it (首问责任人)."""
    __tablename__ = "consultations"
    __table_args__ = (
        Index("ix_consultations_community_received", "community_id", "received_at"),
        Index("ix_consultations_house", "house_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    house_id: Mapped[int | None] = mapped_column(ForeignKey("houses.id", ondelete="RESTRICT"))
    channel: Mapped[str] = mapped_column(String(12))  # phone | visit (workorders.rules.CHANNELS)
    contact_name: Mapped[str] = mapped_column(String(50))
    contact_phone: Mapped[str] = mapped_column(String(20))
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    house: Mapped[House | None] = relationship(lazy="selectin")
    received_by: Mapped[Staff | None] = relationship()
