"""Fees: fee items, meters and readings, bills, payments (WeChat Pay and the desk), receipts, refunds,
dunning contacts and the daily reconciliation with WeChat Pay's trade bill. Money is integer fen."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import Building, House, Owner, Staff
from ..db_types import UTCDateTime
from ..extensions import db
from ..timeutil import utcnow


class FeeItem(db.Model):
    """A charge of a community. `kind` picks the formula (formulas.py):
    area: floor area x price per m2 per month (property management fee);
    shared: a building meter's consumption x price, split by floor area or per household (公摊);
    heating: floor area x price per m2, only in the heating-season months;
    fixed: a fixed monthly amount x quantity for the houses subscribed (parking space rent);
    metered: a house meter's consumption x price (water / electricity / gas advances, 代垫);
    one_off: an amount staff charge a house once."""
    __tablename__ = "fee_items"
    __table_args__ = (UniqueConstraint("community_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(50))
    kind: Mapped[str] = mapped_column(String(10))
    price_fen: Mapped[int] = mapped_column(Integer)  # per m2, per unit consumed, or per month (fixed)
    unit: Mapped[str] = mapped_column(String(20), default="")  # 元/㎡·月, 元/吨, 元/月 ...
    meter_kind: Mapped[str | None] = mapped_column(String(12))  # water | electricity | gas (metered, shared)
    split: Mapped[str | None] = mapped_column(String(10))  # area | household (shared)
    season_months: Mapped[list] = mapped_column(JSON, default=list)  # heating: e.g. [11, 12, 1, 2, 3]
    advance: Mapped[bool] = mapped_column(Boolean, default=False)  # paid in advance for owners: recover in period
    due_days: Mapped[int] = mapped_column(Integer, default=15)  # due this many days after the period starts
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class FeeSubscription(db.Model):
    """A house that pays a fixed item (e.g. rents 1 parking space)."""
    __tablename__ = "fee_subscriptions"
    __table_args__ = (UniqueConstraint("house_id", "fee_item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    house_id: Mapped[int] = mapped_column(ForeignKey("houses.id", ondelete="CASCADE"))
    fee_item_id: Mapped[int] = mapped_column(ForeignKey("fee_items.id", ondelete="CASCADE"), index=True)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    note: Mapped[str] = mapped_column(String(100), default="")  # e.g. the space number


class Meter(db.Model):
    """A house's own meter (metered items) or a building's common meter (shared costs)."""
    __tablename__ = "meters"
    __table_args__ = (UniqueConstraint("community_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(12))  # water | electricity | gas
    house_id: Mapped[int | None] = mapped_column(ForeignKey("houses.id", ondelete="CASCADE"), index=True)
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id", ondelete="CASCADE"), index=True)

    house: Mapped[House | None] = relationship()
    building: Mapped[Building | None] = relationship()


class MeterReading(db.Model):
    __tablename__ = "meter_readings"
    __table_args__ = (UniqueConstraint("meter_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meter_id: Mapped[int] = mapped_column(ForeignKey("meters.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM the reading closes
    reading: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    consumption: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    replaced: Mapped[bool] = mapped_column(Boolean, default=False)  # a new meter started this period
    old_final: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # last reading of the replaced meter
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    meter: Mapped[Meter] = relationship()


class Bill(db.Model):
    __tablename__ = "bills"
    __table_args__ = (
        UniqueConstraint("house_id", "fee_item_id", "period"),  # generation is idempotent
        Index("ix_bills_community_period", "community_id", "period"),
        Index("ix_bills_status_due", "status", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    house_id: Mapped[int] = mapped_column(ForeignKey("houses.id", ondelete="RESTRICT"), index=True)
    fee_item_id: Mapped[int] = mapped_column(ForeignKey("fee_items.id", ondelete="RESTRICT"))
    period: Mapped[str] = mapped_column(String(7))
    amount_fen: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="unpaid")  # unpaid paid refunded waived
    due_date: Mapped[date] = mapped_column(Date)
    details: Mapped[dict] = mapped_column(JSON, default=dict)  # the formula's inputs, shown to owners
    # A live (pending) payment holding this bill: at most one, so nothing is paid twice.
    locked_payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id", ondelete="SET NULL"))
    paid_payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id", ondelete="SET NULL"))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminder_stage: Mapped[int] = mapped_column(Integer, default=0)  # dunning: reminders sent so far
    last_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    house: Mapped[House] = relationship()
    fee_item: Mapped[FeeItem] = relationship()


class Payment(db.Model):
    """One attempt to collect money: online (WeChat Pay JSAPI, a fresh out_trade_no per attempt) or at the
    desk (cash / POS / transfer). Items say what it pays: bills or a paid-service work order."""
    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("community_id", "receipt_no"),
        Index("ix_payments_status_created", "status", "created_at"),
        Index("ix_payments_collector_paid", "collector_id", "paid_at"),
        # The last word on refunds, whatever the code above does: never more back than came in.
        CheckConstraint("refunded_fen >= 0 AND refunded_fen <= amount_fen", name="refunded_within_amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id", ondelete="SET NULL"), index=True)
    method: Mapped[str] = mapped_column(String(10))  # wechat | cash | pos | transfer
    # pending paid closed refunding partially_refunded refunded
    status: Mapped[str] = mapped_column(String(20), default="pending")
    amount_fen: Mapped[int] = mapped_column(Integer)
    refunded_fen: Mapped[int] = mapped_column(Integer, default=0)
    out_trade_no: Mapped[str | None] = mapped_column(String(32), unique=True)
    description: Mapped[str] = mapped_column(String(127), default="")
    prepay_id: Mapped[str | None] = mapped_column(String(64))
    payer_openid: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    transaction_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    receipt_no: Mapped[str | None] = mapped_column(String(30))
    collector_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    reference: Mapped[str | None] = mapped_column(String(64))  # POS slip / transfer reference
    payer_name: Mapped[str | None] = mapped_column(String(50))  # who paid at the desk (printed on the receipt)
    # Desk takings handed to finance (the daily cash handover, shared with paid-service payments).
    handover_id: Mapped[int | None] = mapped_column(ForeignKey("cash_handovers.id", ondelete="SET NULL"))
    last_queried_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    owner: Mapped[Owner | None] = relationship()
    collector: Mapped[Staff | None] = relationship()
    items: Mapped[list[PaymentItem]] = relationship(back_populates="payment", order_by="PaymentItem.id")
    refunds: Mapped[list[Refund]] = relationship(back_populates="payment", order_by="Refund.id")


class PaymentItem(db.Model):
    __tablename__ = "payment_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id", ondelete="CASCADE"), index=True)
    bill_id: Mapped[int | None] = mapped_column(ForeignKey("bills.id", ondelete="RESTRICT"), index=True)
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id", ondelete="RESTRICT"), index=True)
    amount_fen: Mapped[int] = mapped_column(Integer)

    payment: Mapped[Payment] = relationship(back_populates="items")
    bill: Mapped[Bill | None] = relationship()


class ReceiptCounter(db.Model):
    """Per-community, per-year receipt sequence (SJ2026-000123)."""
    __tablename__ = "receipt_counters"

    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Refund(db.Model):
    """Requested by staff, approved by the manager, sent with a stable out_refund_no (so a retry is the
    same refund); the result comes by REFUND notify or query."""
    __tablename__ = "refunds"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id", ondelete="CASCADE"), index=True)
    out_refund_no: Mapped[str] = mapped_column(String(64), unique=True)
    amount_fen: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(80))
    bill_ids: Mapped[list] = mapped_column(JSON, default=list)  # bills this refund gives back (full refunds)
    # requested approved rejected processing success failed
    status: Mapped[str] = mapped_column(String(12), default="requested")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_note: Mapped[str | None] = mapped_column(String(200))
    refund_id: Mapped[str | None] = mapped_column(String(64))
    succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)

    payment: Mapped[Payment] = relationship(back_populates="refunds")
    requested_by: Mapped[Staff | None] = relationship(foreign_keys=[requested_by_id])
    reviewed_by: Mapped[Staff | None] = relationship(foreign_keys=[reviewed_by_id])


class DunningContact(db.Model):
    """催收: a recorded contact about arrears (phone, visit, letter; reminders are messages)."""
    __tablename__ = "dunning_contacts"
    __table_args__ = (Index("ix_dunning_contacts_house_at", "house_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    house_id: Mapped[int] = mapped_column(ForeignKey("houses.id", ondelete="CASCADE"))
    method: Mapped[str] = mapped_column(String(10))  # phone visit letter message
    note: Mapped[str] = mapped_column(Text, default="")
    promised_date: Mapped[date | None] = mapped_column(Date)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    staff: Mapped[Staff | None] = relationship()


class ReconciliationRun(db.Model):
    """A day's WeChat Pay trade bill, downloaded, hash-checked and matched against our payments."""
    __tablename__ = "reconciliation_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    status: Mapped[str] = mapped_column(String(12))  # matched | differences | no_bill | failed
    trades: Mapped[int] = mapped_column(Integer, default=0)
    matched: Mapped[int] = mapped_column(Integer, default=0)
    differences: Mapped[int] = mapped_column(Integer, default=0)
    hash_value: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReconciliationDiff(db.Model):
    __tablename__ = "reconciliation_diffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("reconciliation_runs.id", ondelete="CASCADE"), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id", ondelete="SET NULL"), index=True)
    out_trade_no: Mapped[str | None] = mapped_column(String(32))
    # missing_here (WeChat has it, we don't) | missing_there | amount | status | refund
    kind: Mapped[str] = mapped_column(String(16))
    remote: Mapped[dict] = mapped_column(JSON, default=dict)
    local: Mapped[dict] = mapped_column(JSON, default=dict)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(String(200))


class CashHandover(db.Model):
    """Takings of a collector's day handed to finance (现金当日交财务); a later handover the same day covers
    what was collected after the first."""
    __tablename__ = "cash_handovers"
    __table_args__ = (Index("ix_cash_handovers_collector_day", "collector_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    collector_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    total_fen: Mapped[int] = mapped_column(Integer)
    cash_fen: Mapped[int] = mapped_column(Integer)
    received_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="RESTRICT"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(String(200), default="")

    collector: Mapped[Staff] = relationship(foreign_keys=[collector_id])
    received_by: Mapped[Staff] = relationship(foreign_keys=[received_by_id])
