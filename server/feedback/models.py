"""Owner feedback beyond single work orders: the monthly satisfaction survey (满意度调查) and common problems
(同类投诉多发) that the manager answers with a notice within a week."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import Building, House, Staff
from ..db_types import UTCDateTime
from ..extensions import db
from ..notices.models import Notice
from ..timeutil import utcnow
from ..workorders.models import WorkOrder


class SatisfactionSurvey(db.Model):
    """One household's answer to the monthly survey (phone or visit); one per house per month. Its opinion
    (comments), if any, must get a recorded answer (response)."""
    __tablename__ = "satisfaction_surveys"
    __table_args__ = (
        UniqueConstraint("house_id", "month"),
        Index("ix_satisfaction_surveys_community_month", "community_id", "month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    house_id: Mapped[int] = mapped_column(ForeignKey("houses.id", ondelete="RESTRICT"))
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM of surveyed_at in the community's time zone
    method: Mapped[str] = mapped_column(String(10))  # phone | visit
    answer: Mapped[str] = mapped_column(String(24))  # satisfied | basically_satisfied | dissatisfied
    comments: Mapped[str] = mapped_column(Text, default="")  # the household's opinion ("" : none)
    respondent_name: Mapped[str] = mapped_column(String(50), default="")
    respondent_phone: Mapped[str] = mapped_column(String(20), default="")
    surveyed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    surveyed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    response: Mapped[str | None] = mapped_column(Text)  # the service center's answer to the opinion
    responded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    house: Mapped[House] = relationship()
    surveyed_by: Mapped[Staff | None] = relationship(foreign_keys=[surveyed_by_id])
    responded_by: Mapped[Staff | None] = relationship(foreign_keys=[responded_by_id])

    @property
    def has_opinion(self) -> bool:
        return bool((self.comments or "").strip())

    @property
    def awaiting_response(self) -> bool:
        return self.has_opinion and self.responded_at is None


class CommonProblem(db.Model):
    """Several complaints of one category in one building within a few days (COMMON_PROBLEM_THRESHOLD in
    COMMON_PROBLEM_WINDOW_DAYS): the manager answers with a notice within a week. At most one open problem
    per (building, category); later complaints join it."""
    __tablename__ = "common_problems"
    __table_args__ = (
        Index("ix_common_problems_community_status", "community_id", "status"),
        # One open problem per building and category (answered ones are history).
        Index("uq_common_problems_open", "building_id", "category", unique=True,
              postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(30))  # a complaint category (workorders.rules)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | answered
    complaint_count: Mapped[int] = mapped_column(Integer, default=0)
    first_complaint_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_complaint_at: Mapped[datetime] = mapped_column(UTCDateTime)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answer_due_at: Mapped[datetime] = mapped_column(UTCDateTime)  # detected + 7 days
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the one overdue reminder

    building: Mapped[Building] = relationship()
    answered_by: Mapped[Staff | None] = relationship()
    notice: Mapped[Notice | None] = relationship()
    complaints: Mapped[list[CommonProblemComplaint]] = relationship(
        back_populates="problem", cascade="all, delete-orphan", order_by="CommonProblemComplaint.order_id")


class CommonProblemComplaint(db.Model):
    """The complaints behind a common problem; a complaint belongs to at most one."""
    __tablename__ = "common_problem_complaints"

    problem_id: Mapped[int] = mapped_column(ForeignKey("common_problems.id", ondelete="CASCADE"), primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), primary_key=True,
                                          unique=True)

    problem: Mapped[CommonProblem] = relationship(back_populates="complaints")
    order: Mapped[WorkOrder] = relationship()
