"""Consultations (咨询): a call or a visit that asked something and was answered on the spot, recorded
with time, caller, house, phone, question and answer by the member of staff who received it (首问责任人),
as the service center's 《来电、来访咨询记录》. And the desk's day: every call and visit registered that
day, consultations and the work orders registered at the desk together (the `calls` log)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, or_, select

from ..accounts.models import House, Staff
from ..auth import access
from ..errors import ValidationFailed
from ..extensions import db
from ..timeutil import day_bounds, utcnow
from ..workorders.models import WorkOrder
from .houses import escape_like
from .models import Consultation

CHANNELS = ("phone", "visit")  # labels: workorders.rules.CHANNELS
DESK_CHANNELS = ("phone", "visit", "written")  # how a work order registered at the desk came in


def record(staff: Staff, data: dict) -> Consultation:
    """Register a consultation received now by `staff`."""
    access.require(staff, "desk")
    house = None
    if data.get("house_id") is not None:
        house = db.session.get(House, data["house_id"]) if access.valid_id(data["house_id"]) else None
        if house is None or house.community_id != staff.community_id:
            raise ValidationFailed("房屋不存在", fields={"house_id": ["房屋不存在"]})
    consultation = Consultation(
        community_id=staff.community_id, house=house, channel=data["channel"],
        contact_name=data["contact_name"], contact_phone=data["contact_phone"], question=data["question"],
        answer=data["answer"], received_by=staff, received_at=utcnow())
    db.session.add(consultation)
    db.session.flush()
    return consultation


def staff_consultation(staff: Staff, consultation_id: int) -> Consultation:
    access.require(staff, "desk")
    return access.scoped(Consultation, consultation_id, staff, "未找到该咨询记录")


def query(staff: Staff, args: dict) -> Select:
    """The community's consultations, newest first; filters: date_from / date_to (local days, inclusive),
    house_id, q (words in the question, answer, caller's name or phone)."""
    access.require(staff, "desk")
    zone = staff.community.timezone
    stmt = (select(Consultation).where(Consultation.community_id == staff.community_id)
            .order_by(Consultation.received_at.desc(), Consultation.id.desc()))
    if args.get("date_from"):
        stmt = stmt.where(Consultation.received_at >= day_bounds(args["date_from"], zone)[0])
    if args.get("date_to"):
        stmt = stmt.where(Consultation.received_at < day_bounds(args["date_to"], zone)[1])
    if args.get("house_id"):
        stmt = stmt.where(Consultation.house_id == args["house_id"])
    text = (args.get("q") or "").strip()
    if text:
        pattern = f"%{escape_like(text)}%"
        stmt = stmt.where(or_(*(column.ilike(pattern, escape="\\") for column in (
            Consultation.question, Consultation.answer, Consultation.contact_name, Consultation.contact_phone))))
    return stmt


@dataclass(frozen=True)
class Call:
    """One entry of the desk's day: a consultation, or a work order registered at the desk."""
    at: datetime
    channel: str
    house: House | None
    contact_name: str
    contact_phone: str
    summary: str
    received_by: Staff | None
    consultation: Consultation | None = None
    order: WorkOrder | None = None

    @property
    def kind(self) -> str:
        return "consultation" if self.consultation is not None else self.order.kind  # type: ignore[union-attr]


def calls(staff: Staff, day: date, limit: int = 200) -> list[Call]:
    """The calls and visits registered in the community on `day` (local), newest first: consultations
    and work orders taken at the desk (not those owners sent from the mini-program)."""
    access.require(staff, "desk")
    start, end = day_bounds(day, staff.community.timezone)
    consultations = db.session.scalars(query(staff, {"date_from": day, "date_to": day}).limit(limit))
    orders = db.session.scalars(
        select(WorkOrder).where(WorkOrder.community_id == staff.community_id,
                                WorkOrder.channel.in_(DESK_CHANNELS), WorkOrder.created_at >= start,
                                WorkOrder.created_at < end)
        .order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc()).limit(limit))
    out = [Call(c.received_at, c.channel, c.house, c.contact_name, c.contact_phone, c.question, c.received_by,
                consultation=c) for c in consultations]
    out += [Call(o.created_at, o.channel, o.house, o.contact_name, o.contact_phone, o.description or o.title,
                 o.received_by, order=o) for o in orders]
    out.sort(key=lambda c: c.at, reverse=True)
    return out[:limit]
