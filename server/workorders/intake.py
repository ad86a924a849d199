"""Receiving a request: from the owner's mini-program or registered at the desk (phone, visit, written;
the receiver is the first responsible person, 首问责任人). The order gets its number, price and clocks,
and its dispatch goes to the outbox in the same transaction."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from .. import counters, outbox
from ..accounts.models import Community, House, HouseMembership, Owner, Staff
from ..accounts.queries import approved_house_ids
from ..errors import ValidationFailed
from ..extensions import db
from ..timeutil import as_utc, local_today, utcnow
from ..uploads import services as uploads
from . import catalog, rules, sla
from .access import PHOTO_RECORD
from .calendar import calendar_for
from .events import Actor, add_event
from .models import OrderCounter, WorkOrder
from .notify import alert, emergency_responders, receptionists_on_duty, supervisors


def next_number(kind: str, community: Community) -> str:
    """BX20261122-0007: a daily sequence per kind."""
    day = local_today(community.timezone)
    return rules.format_number(kind, day, counters.bump(OrderCounter, prefix=rules.NUMBER_PREFIX[kind], day=day))


def create_for_owner(owner: Owner, data: dict) -> WorkOrder:
    if data.get("preferred_time") and as_utc(data["preferred_time"]) < utcnow() - timedelta(minutes=5):
        raise ValidationFailed("期望时间不能早于现在", fields={"preferred_time": ["期望时间不能早于现在"]})
    house = db.session.get(House, data["house_id"])
    if house is None or house.id not in approved_house_ids(owner):
        raise ValidationFailed("只能为已绑定的房屋提交", fields={"house_id": ["不是您已绑定的房屋"]})
    receptionists = receptionists_on_duty(house.community_id)
    return _create(house, data, channel="miniprogram", owner=owner, received_by=receptionists[0] if receptionists
                   else None, contact_name=owner.name or "", contact_phone=owner.phone or "",
                   actor=Actor.of_owner(owner))


def create_at_desk(staff: Staff, data: dict) -> WorkOrder:
    """A phone call or a visit registered by the staff member who received it (首问责任人)."""
    house = db.session.get(House, data["house_id"])
    if house is None or house.community_id != staff.community_id:
        raise ValidationFailed("房屋不存在", fields={"house_id": ["房屋不存在"]})
    # The caller's mini-program account, if they have one on this house, gets the progress pushes.
    owner = db.session.scalar(select(Owner).join(HouseMembership).where(
        HouseMembership.house_id == house.id, HouseMembership.status == "approved",
        HouseMembership.phone == data["contact_phone"]))
    return _create(house, data, channel=data["channel"], owner=owner, received_by=staff,
                   contact_name=data["contact_name"], contact_phone=data["contact_phone"],
                   actor=Actor.of_staff(staff))


def _create(house: House, data: dict, *, channel: str, owner: Owner | None, received_by: Staff | None,
            contact_name: str, contact_phone: str, actor: Actor) -> WorkOrder:
    community = house.community
    kind = data["kind"]
    cal = calendar_for(community)
    now = utcnow()
    order = WorkOrder(
        community=community, house=house, owner=owner, kind=kind, channel=channel, received_by=received_by,
        contact_name=contact_name, contact_phone=contact_phone, description=data.get("description", ""),
        preferred_time=data.get("preferred_time"), status="submitted", created_at=now, updated_at=now,
    )
    if kind == "complaint":
        _setup_complaint(order, data, cal, now)
    elif kind == "service":
        item = catalog.bookable_item(community.id, data["service_item_id"])
        if item is None:
            raise ValidationFailed("该服务不在本小区的服务范围内", fields={"service_item_id": ["服务项目不存在或已下架"]})
        order.service_item, order.quantity = item, data.get("quantity", 1)
        order.department, order.skill, order.category = item.department, item.skill, f"item:{item.id}"
        order.title = item.name
        order.quote_fen = rules.quote(item.price_fen, order.quantity)
        order.confirm_due_at = sla.service_confirm_due(now, cal)
    else:
        category = rules.REPAIR_CATEGORIES[data["category"]]
        order.category, order.department, order.skill = data["category"], category.department, category.skill
        order.title = f"{category.label}报修"
        order.urgent = bool(data.get("urgent")) and category.urgent_allowed
        order.complete_due_at = sla.repair_complete_due(now, cal)
    photos = data.get("photos") or []
    order.photos = photos
    order.number = next_number(kind, community)
    db.session.add(order)
    db.session.flush()
    if photos:  # attached to the order (by id): whoever sees the order sees them
        uploads.attach(photos, record=(PHOTO_RECORD, order.id), community_id=community.id,
                       owner_id=owner.id if actor.owner else None,
                       staff_id=actor.staff.id if actor.staff else None, house_id=house.id)
    add_event(order, actor, "created", to_status="submitted",
           note=f"{rules.CHANNELS[channel]}受理" + ("（紧急）" if order.urgent else ""),
           data={"received_by": received_by.name if received_by else None})
    # The owner is waiting for someone to come: every new order is dispatched from the high queue.
    outbox.add("jobs.workorders.dispatch", queue="high", order_id=order.id)
    if order.emergency:
        alert(emergency_responders(order.community_id), order, "紧急事件，请立即赶赴现场", f"emergency:{order.id}", urgent=True)
    elif order.urgent:
        alert(supervisors(order), order, "紧急报修，请关注", f"urgent:{order.id}", urgent=True)
    return order


def _setup_complaint(order: WorkOrder, data: dict, cal: sla.Calendar, now: datetime) -> None:
    category = rules.COMPLAINT_CATEGORIES[data["category"]]
    order.category, order.department, order.skill = data["category"], "service_center", None
    order.title = f"{category.label.split('（')[0]}投诉"
    order.emergency = category.emergency
    order.urgent = category.emergency
    order.written = bool(data.get("written")) or order.channel == "written"
    order.about_staff_name = data.get("about_staff_name") or None
    if data.get("about_staff_id"):
        about = db.session.get(Staff, data["about_staff_id"])
        if about is None or about.community_id != order.community.id:  # not flushed yet: no community_id
            raise ValidationFailed("员工不存在", fields={"about_staff_id": ["员工不存在"]})
        order.about_staff_id, order.about_staff_name = about.id, about.name
    order.handler_due_at = sla.complaint_handler_due(now, cal, emergency=order.emergency)
    if order.emergency:
        order.onsite_due_at = sla.emergency_onsite_due(now)
    order.reply_due_at = sla.complaint_reply_due(now, cal, important=False)
