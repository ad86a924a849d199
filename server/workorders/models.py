"""Work orders (repairs, paid services, complaints), their timeline, deadlines breached, the paid-service
catalog, materials used, payments collected and cash handed over."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON, Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint, text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import Community, House, Owner, Staff
from ..db_types import UTCDateTime
from ..extensions import db
from ..timeutil import utcnow


class ServiceCategory(db.Model):
    __tablename__ = "service_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    sort: Mapped[int] = mapped_column(Integer, default=0)


class ServiceItem(db.Model):
    """A bookable paid service (便民有偿服务) at a fixed price per unit."""
    __tablename__ = "service_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("service_categories.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(50))
    department: Mapped[str] = mapped_column(String(20))  # engineering | cleaning
    skill: Mapped[str | None] = mapped_column(String(20))  # matched against Staff.skills when dispatching
    price_fen: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(10))  # 次, 小时, 平方米, 个 ...
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort: Mapped[int] = mapped_column(Integer, default=0)

    category: Mapped[ServiceCategory] = relationship()


class Material(db.Model):
    __tablename__ = "materials"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    unit: Mapped[str] = mapped_column(String(10))
    price_fen: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class OrderCounter(db.Model):
    """Daily sequence behind human-readable numbers (BX20261122-0007)."""
    __tablename__ = "order_counters"

    prefix: Mapped[str] = mapped_column(String(4), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


# The staff's order list (workorders/filters.py) over hundreds of thousands of orders: each filter is served
# by an index. Running clocks (clocks.py) are found through the status index, except the two that run in
# final states: callbacks not yet made and emergencies nobody reached, each with a small partial index.
TEXT_SEARCH = ("number", "title", "description", "contact_name", "contact_phone")


class WorkOrder(db.Model):
    __tablename__ = "work_orders"
    __table_args__ = (
        Index("ix_work_orders_community_status", "community_id", "status"),
        Index("ix_work_orders_assignee_status", "assignee_id", "status"),
        Index("ix_work_orders_house", "house_id"),
        Index("ix_work_orders_community_created", "community_id", "created_at"),
        Index("ix_work_orders_community_kind_category", "community_id", "kind", "category"),
        Index("ix_work_orders_community_department", "community_id", "department", "status"),
        Index("ix_work_orders_flagged", "community_id", "id",
              postgresql_where=text("urgent IS true OR important IS true")),
        Index("ix_work_orders_callback_running", "community_id", "callback_due_at",
              postgresql_where=text("callback_at IS NULL")),
        Index("ix_work_orders_onsite_running", "community_id", "onsite_due_at",
              postgresql_where=text("emergency IS true AND arrived_at IS NULL")),
        # the callback queue: due (needs a call) by deadline, done by when it was called back
        Index("ix_work_orders_callback_due", "community_id", "callback_due_at",
              postgresql_where=text("needs_callback IS true")),
        Index("ix_work_orders_callback_done", "community_id", "callback_at",
              postgresql_where=text("callback_at IS NOT NULL")),
        # text search (filters._text): trigrams, PostgreSQL only (the migration skips it elsewhere)
        Index("ix_work_orders_text", *TEXT_SEARCH, postgresql_using="gin",
              postgresql_ops={column: "gin_trgm_ops" for column in TEXT_SEARCH}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # repair | service | complaint
    channel: Mapped[str] = mapped_column(String(12))  # miniprogram | phone | visit | written
    house_id: Mapped[int] = mapped_column(ForeignKey("houses.id", ondelete="RESTRICT"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id", ondelete="SET NULL"), index=True)
    contact_name: Mapped[str] = mapped_column(String(50), default="")
    contact_phone: Mapped[str] = mapped_column(String(20), default="")
    # 首问责任人: who first received it (desk registrations) or the receptionist on duty (mini-program).
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    department: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(30))
    skill: Mapped[str | None] = mapped_column(String(20))
    service_item_id: Mapped[int | None] = mapped_column(ForeignKey("service_items.id", ondelete="RESTRICT"))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[str] = mapped_column(String(50))  # short summary for lists and pushes
    description: Mapped[str] = mapped_column(Text, default="")
    photos: Mapped[list] = mapped_column(JSON, default=list)  # upload ids
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    preferred_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    appointment_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    status: Mapped[str] = mapped_column(String(12), default="submitted")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    offer_no: Mapped[int] = mapped_column(Integer, default=0)  # bumps on every (re)dispatch: guards timeouts
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rework_count: Mapped[int] = mapped_column(Integer, default=0)

    quote_fen: Mapped[int | None] = mapped_column(Integer)  # price x quantity, computed by the server
    materials_fen: Mapped[int] = mapped_column(Integer, default=0)
    final_fen: Mapped[int | None] = mapped_column(Integer)  # set at completion: quote + materials
    paid_fen: Mapped[int] = mapped_column(Integer, default=0)

    completion_notes: Mapped[str] = mapped_column(Text, default="")
    completion_photos: Mapped[list] = mapped_column(JSON, default=list)
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    needs_callback: Mapped[bool] = mapped_column(Boolean, default=False)
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(String(500))

    # Stored deadlines (sla.py) and the moments that meet them.
    confirm_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # paid service: appointment given
    complete_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # repair: same day
    callback_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # set at completion
    appointment_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    callback_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Complaints (投诉): their clocks (server/README.md), who it is about, and what was done about it.
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    important: Mapped[bool] = mapped_column(Boolean, default=False)  # the manager handles it, 2 working days
    written: Mapped[bool] = mapped_column(Boolean, default=False)
    about_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    about_staff_name: Mapped[str | None] = mapped_column(String(50))
    handler_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # acknowledged within 10 minutes
    onsite_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # emergencies: on site within 5
    reply_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # same day, or 2 working days
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # first reply to the owner
    last_progress_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_weekly_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    corrective_action: Mapped[str | None] = mapped_column(Text)  # service attitude: what is done about the staff
    corrective_deadline: Mapped[date | None] = mapped_column(Date)
    penalty: Mapped[str | None] = mapped_column(String(200))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    community: Mapped[Community] = relationship()
    # Every list shows the house and who handles it: loaded with the orders (one query per list, selectin).
    house: Mapped[House] = relationship(lazy="selectin")
    owner: Mapped[Owner | None] = relationship()
    assignee: Mapped[Staff | None] = relationship(foreign_keys=[assignee_id], lazy="selectin")
    received_by: Mapped[Staff | None] = relationship(foreign_keys=[received_by_id])
    service_item: Mapped[ServiceItem | None] = relationship()
    events: Mapped[list[WorkOrderEvent]] = relationship(back_populates="order", order_by="WorkOrderEvent.id")
    materials: Mapped[list[MaterialUsage]] = relationship(back_populates="order", order_by="MaterialUsage.id")
    payments: Mapped[list[OrderPayment]] = relationship(back_populates="order", order_by="OrderPayment.id")
    breaches: Mapped[list[SlaBreach]] = relationship(back_populates="order", order_by="SlaBreach.id")
    about_staff: Mapped[Staff | None] = relationship(foreign_keys=[about_staff_id])
    incident_report: Mapped[IncidentReport | None] = relationship(back_populates="order", uselist=False)


class WorkOrderEvent(db.Model):
    """Append-only timeline: who did what when (status changes, notes, urges, breaches, payments)."""
    __tablename__ = "work_order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(10))  # owner | staff | system
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id", ondelete="SET NULL"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str | None] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)

    order: Mapped[WorkOrder] = relationship(back_populates="events")
    staff: Mapped[Staff | None] = relationship()


class SlaBreach(db.Model):
    """A deadline missed; one row per clock, round (rework) and escalation level, so escalating is idempotent."""
    __tablename__ = "sla_breaches"
    __table_args__ = (UniqueConstraint("order_id", "clock", "round", "level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"))
    clock: Mapped[str] = mapped_column(String(12))  # a key of rules.CLOCKS
    round: Mapped[int] = mapped_column(Integer, default=0)
    level: Mapped[int] = mapped_column(Integer)  # 1: supervisor told, 2: manager told
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))

    order: Mapped[WorkOrder] = relationship(back_populates="breaches")


class MaterialUsage(db.Model):
    __tablename__ = "material_usages"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), index=True)
    material_id: Mapped[int | None] = mapped_column(ForeignKey("materials.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(50))  # copied: the catalog may change later
    unit: Mapped[str] = mapped_column(String(10))
    unit_price_fen: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    amount_fen: Mapped[int] = mapped_column(Integer)

    order: Mapped[WorkOrder] = relationship(back_populates="materials")


class OrderPayment(db.Model):
    """Money collected for a paid service: on site (cash / POS / transfer) now, WeChat Pay later."""
    __tablename__ = "order_payments"
    __table_args__ = (Index("ix_order_payments_collector_day", "collector_id", "collected_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    method: Mapped[str] = mapped_column(String(10))  # cash | pos | transfer | wechat
    amount_fen: Mapped[int] = mapped_column(Integer)
    receipt_no: Mapped[str] = mapped_column(String(40))
    collector_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    handover_id: Mapped[int | None] = mapped_column(ForeignKey("cash_handovers.id", ondelete="SET NULL"))
    # For online payments (the fees issue): the payment record that settled this order.
    external_ref: Mapped[str | None] = mapped_column(String(64), unique=True)

    order: Mapped[WorkOrder] = relationship(back_populates="payments")
    collector: Mapped[Staff | None] = relationship(foreign_keys=[collector_id])


class Callback(db.Model):
    """A follow-up call (回访) after the work is done."""
    __tablename__ = "callbacks"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    result: Mapped[str] = mapped_column(String(12))  # satisfied | unsatisfied
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    staff: Mapped[Staff | None] = relationship()


class IncidentReport(db.Model):
    """突发事件处理表: an emergency complaint cannot be closed without one, approved by the manager."""
    __tablename__ = "incident_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), unique=True)
    cause: Mapped[str] = mapped_column(Text)
    actions: Mapped[str] = mapped_column(Text)
    losses: Mapped[str] = mapped_column(Text, default="")
    people_involved: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="submitted")  # submitted | approved | rejected
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_note: Mapped[str | None] = mapped_column(String(200))

    order: Mapped[WorkOrder] = relationship(back_populates="incident_report")
    submitted_by: Mapped[Staff | None] = relationship(foreign_keys=[submitted_by_id])
    reviewed_by: Mapped[Staff | None] = relationship(foreign_keys=[reviewed_by_id])
