"""Work-order operations: create, move through the state machine, dispatch, escalate.

Every status change goes through `_move` (the pure table in states.py) and leaves an event in the
timeline. Follow-up work (dispatching, offer timeouts, pushes) is written to the outbox in the same
transaction. Routes and jobs call these functions; neither edits an order's fields directly.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import func, select

from .. import counters, outbox, ratelimit
from ..accounts import rules as account_rules
from ..accounts.models import CalendarDay, Community, House, HouseMembership, Owner, Staff
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed
from ..extensions import db
from ..timeutil import as_utc, to_local, utcnow
from ..uploads import services as uploads
from ..wechat.services import notify_owner, notify_staff
from . import rules, sla, states
from .models import (
    Callback, Material, MaterialUsage, OrderCounter, ServiceItem, SlaBreach, WorkOrder, WorkOrderEvent,
)

log = logging.getLogger(__name__)

DESK_ROLES = account_rules.DESK_ROLES


@dataclass(frozen=True)
class Actor:
    kind: str  # owner | staff | system
    owner: Owner | None = None
    staff: Staff | None = None

    @classmethod
    def of_owner(cls, owner: Owner) -> Actor:
        return cls("owner", owner=owner)

    @classmethod
    def of_staff(cls, staff: Staff) -> Actor:
        return cls("staff", staff=staff)


SYSTEM = Actor("system")


# -- shared helpers ----------------------------------------------------------------------------------

def calendar_for(community: Community) -> sla.Calendar:
    days = db.session.execute(
        select(CalendarDay.day, CalendarDay.kind).where(CalendarDay.community_id == community.id)
    ).all()
    return sla.Calendar.build(community.timezone, community.business_hours, [tuple(d) for d in days])


def next_number(kind: str, community: Community) -> str:
    """BX20261122-0007: a daily sequence per kind."""
    day = to_local(utcnow(), community.timezone).date()
    return rules.format_number(kind, day, counters.bump(OrderCounter, prefix=rules.NUMBER_PREFIX[kind], day=day))


def add_event(order: WorkOrder, actor: Actor, action: str, *, note: str = "", data: dict | None = None,
           from_status: str | None = None, to_status: str | None = None) -> WorkOrderEvent:
    event = WorkOrderEvent(order=order, actor=actor.kind, owner_id=actor.owner.id if actor.owner else None,
                           staff_id=actor.staff.id if actor.staff else None, action=action, note=note,
                           data=data or {}, from_status=from_status, to_status=to_status, at=utcnow())
    db.session.add(event)
    return event


def _check(order: WorkOrder, event: str) -> str:
    """The status `event` leads to, or 409 when the state machine forbids it."""
    try:
        return states.apply(order.status, event)
    except states.IllegalTransition as exc:
        raise Conflict(exc.message, code="illegal_transition") from exc


def _move(order: WorkOrder, event: str, actor: Actor, *, note: str = "", data: dict | None = None) -> WorkOrderEvent:
    target = _check(order, event)
    row = add_event(order, actor, event, note=note, data=data, from_status=order.status, to_status=target)
    order.status = target
    order.updated_at = utcnow()
    return row


def _house_address(order: WorkOrder) -> str:
    return order.house.label


def _tell_owner(order: WorkOrder, status_label: str, note: str, event: WorkOrderEvent) -> None:
    if order.owner is None:
        return
    db.session.flush()
    notify_owner(order.owner, "order_status", {
        "character_string1": order.number, "thing2": order.title, "phrase3": status_label,
        "thing4": note or "-", "time5": event.at,
    }, community_id=order.community_id, page=f"pages/orders/detail?id={order.id}",
        # One queue for all of them, so an owner's credits go to updates in the order they happened.
        dedupe_key=f"order-status:{event.id}", queue="high")


def _alert(staff_list, order: WorkOrder, what: str, dedupe: str) -> None:
    """Official-account alert to supervisors / managers, opening the order in the mini-program."""
    for staff in staff_list:
        notify_staff(staff, "order_alert", {
            "character_string1": order.number, "thing2": what, "thing3": _house_address(order),
            "time4": utcnow(),
        }, page=f"pages/staff/orders/detail?id={order.id}", dedupe_key=f"{dedupe}:{staff.id}", queue="high")


def supervisors(order: WorkOrder) -> list[Staff]:
    return list(db.session.scalars(select(Staff).where(
        Staff.community_id == order.community_id, Staff.active.is_(True), Staff.role == "supervisor",
        Staff.department == order.department)))


def managers(community_id: int) -> list[Staff]:
    return list(db.session.scalars(select(Staff).where(
        Staff.community_id == community_id, Staff.active.is_(True), Staff.role == "manager")))


def receptionists_on_duty(community_id: int) -> list[Staff]:
    return list(db.session.scalars(select(Staff).where(
        Staff.community_id == community_id, Staff.active.is_(True), Staff.on_duty.is_(True),
        Staff.role == "receptionist").order_by(Staff.id)))


# -- creating -----------------------------------------------------------------------------------------

def approved_house_ids(owner: Owner) -> set[int]:
    return set(db.session.scalars(select(HouseMembership.house_id).where(
        HouseMembership.owner_id == owner.id, HouseMembership.status == "approved")))


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
        item = db.session.get(ServiceItem, data["service_item_id"])
        if item is None or item.community_id != community.id or not item.active:
            raise ValidationFailed("该服务不在本小区的服务范围内", fields={"service_item_id": ["服务项目不存在或已下架"]})
        order.service_item, order.quantity = item, data.get("quantity", 1)
        order.department, order.skill, order.category = item.department, item.skill, f"item:{item.id}"
        order.title = item.name
        order.quote_fen = rules.quote(item.price_fen, order.quantity)
        order.confirm_due_at = sla.service_confirm_due(now, cal, current_app.config["SERVICE_CONFIRM_MINUTES"])
    else:
        category = rules.REPAIR_CATEGORIES[data["category"]]
        order.category, order.department, order.skill = data["category"], category.department, category.skill
        order.title = f"{category.label}报修"
        order.urgent = bool(data.get("urgent")) and category.urgent_allowed
        order.complete_due_at = sla.repair_complete_due(now, cal)
    photos = data.get("photos") or []
    if photos:
        uploads.attach(photos, community_id=community.id, owner_id=owner.id if actor.owner else None,
                       staff_id=actor.staff.id if actor.staff else None, house_id=house.id)
    order.photos = photos
    order.number = next_number(kind, community)
    db.session.add(order)
    db.session.flush()
    add_event(order, actor, "created", to_status="submitted",
           note=f"{rules.CHANNELS[channel]}受理" + ("（紧急）" if order.urgent else ""),
           data={"received_by": received_by.name if received_by else None})
    outbox.add("jobs.workorders.dispatch", queue="high" if order.urgent else "default", order_id=order.id)
    if order.emergency:
        _alert(emergency_responders(order.community_id), order, "紧急事件，请立即赶赴现场", f"emergency:{order.id}")
    elif order.urgent:
        _alert(supervisors(order), order, "紧急报修，请关注", f"urgent:{order.id}")
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
        if about is None or about.community_id != order.community_id:
            raise ValidationFailed("员工不存在", fields={"about_staff_id": ["员工不存在"]})
        order.about_staff_id, order.about_staff_name = about.id, about.name
    order.handler_due_at = sla.complaint_handler_due(now, cal, emergency=order.emergency,
                                                     minutes=rules.COMPLAINT_HANDLER_MINUTES)
    if order.emergency:
        order.onsite_due_at = sla.emergency_onsite_due(now, rules.EMERGENCY_ONSITE_MINUTES)
    order.reply_due_at = sla.complaint_reply_due(now, cal, important=False)


def emergency_responders(community_id: int) -> list[Staff]:
    """The manager and every on-duty member of every department."""
    return list(db.session.scalars(select(Staff).where(
        Staff.community_id == community_id, Staff.active.is_(True),
        (Staff.role == "manager") | Staff.on_duty.is_(True)).order_by(Staff.id)))


# -- who may see what --------------------------------------------------------------------------------

def owner_order(owner: Owner, order_id: int) -> WorkOrder:
    order = db.session.get(WorkOrder, order_id)
    if order is None or order.house_id not in approved_house_ids(owner):
        raise NotFound("未找到该工单")
    return order


def owner_orders_query(owner: Owner, kind: str | None, status: str | None):
    stmt = (select(WorkOrder).where(WorkOrder.house_id.in_(approved_house_ids(owner)))
            .order_by(WorkOrder.id.desc()))
    if kind:
        stmt = stmt.where(WorkOrder.kind == kind)
    if status:
        stmt = stmt.where(WorkOrder.status == status)
    return stmt


def staff_sees(staff: Staff, order: WorkOrder) -> bool:
    if order.community_id != staff.community_id:
        return False
    if staff.role in DESK_ROLES:
        return True
    if order.emergency and order.status not in states.FINAL:
        return True  # every on-duty member may be the first responder
    if staff.role == "supervisor":
        return order.department == staff.department
    if staff.role == "cashier":
        return order.kind == "service"
    return order.assignee_id == staff.id


def staff_order(staff: Staff, order_id: int) -> WorkOrder:
    order = db.session.get(WorkOrder, order_id)
    if order is None or not staff_sees(staff, order):
        raise NotFound("未找到该工单")
    return order


def staff_orders_query(staff: Staff, args: dict):
    stmt = select(WorkOrder).where(WorkOrder.community_id == staff.community_id).order_by(WorkOrder.id.desc())
    if staff.role == "supervisor":
        stmt = stmt.where(WorkOrder.department == staff.department)
    elif staff.role == "cashier":
        stmt = stmt.where(WorkOrder.kind == "service")
    elif staff.role not in DESK_ROLES:
        stmt = stmt.where(WorkOrder.assignee_id == staff.id)
    for key in ("kind", "status", "department"):
        if args.get(key):
            stmt = stmt.where(getattr(WorkOrder, key) == args[key])
    if args.get("overdue"):
        now = utcnow()
        stmt = stmt.where(WorkOrder.status.in_(states.OPEN), WorkOrder.complete_due_at < now)
    return stmt


def worker_task(staff: Staff, order_id: int) -> WorkOrder:
    order = db.session.get(WorkOrder, order_id)
    if order is None or order.assignee_id != staff.id:
        raise NotFound("未找到该任务")
    return order


def tasks_query(staff: Staff, status: str | None):
    stmt = select(WorkOrder).where(WorkOrder.assignee_id == staff.id)
    if status:
        stmt = stmt.where(WorkOrder.status == status)
    else:
        stmt = stmt.where(WorkOrder.status.in_(states.WORKER_LOAD))
    return stmt.order_by(WorkOrder.urgent.desc(), WorkOrder.id)


# -- owner actions ---------------------------------------------------------------------------------------

def cancel(order: WorkOrder, actor: Actor, reason: str) -> WorkOrder:
    assignee = order.assignee
    event = _move(order, "cancel", actor, note=reason)
    order.cancel_reason, order.cancelled_at = reason, utcnow()
    if assignee:
        _alert([assignee], order, "工单已取消，无需上门", f"cancel:{order.id}")
    if actor.kind != "owner":
        _tell_owner(order, "已取消", reason, event)
    return order


def urge(owner: Owner, order: WorkOrder) -> WorkOrder:
    if order.status not in states.OPEN:
        raise Conflict("工单已完工或已取消，无需催单", code="not_open")
    ratelimit.hit("urge", str(order.id), current_app.config["RATE_URGE"])
    event = add_event(order, Actor.of_owner(owner), "urge", note="业主催单")
    db.session.flush()
    targets = supervisors(order) + ([order.assignee] if order.assignee else [])
    _alert(targets, order, "业主催单，请尽快处理", f"urge:{event.id}")
    return order


def confirm(order: WorkOrder, actor: Actor, accept_final_fen: int | None = None, note: str = "") -> WorkOrder:
    if order.status == "completed" and order.final_fen is not None and order.quote_fen is not None \
            and order.final_fen > order.quote_fen and accept_final_fen != order.final_fen and actor.kind == "owner":
        raise Conflict(f"最终费用 {order.final_fen / 100:.2f} 元超出报价 {order.quote_fen / 100:.2f} 元，请确认费用后再确认完工",
                       code="amount_not_confirmed")
    _move(order, "confirm", actor, note=note or "确认完工")
    order.confirmed_at = utcnow()
    return order


def _rework(order: WorkOrder, event: str, actor: Actor, note: str) -> WorkOrderEvent:
    """Free rework for the same department: back to dispatch with a fresh same-day clock."""
    row = _move(order, event, actor, note=note)
    order.rework_count += 1
    order.needs_callback = True
    order.assignee_id = None
    order.completed_at = order.confirmed_at = order.closed_at = None
    order.callback_due_at = order.callback_at = None  # the redone work gets its own callback
    cal = calendar_for(order.community)
    if order.kind == "complaint":  # reopened: a fresh reply clock, handled by the manager
        order.important = True
        order.reply_due_at = sla.complaint_reply_due(utcnow(), cal, important=True)
    else:
        order.complete_due_at = sla.repair_complete_due(utcnow(), cal)
    outbox.add("jobs.workorders.dispatch", queue="high", order_id=order.id)
    return row


def reject_completion(owner: Owner, order: WorkOrder, reason: str) -> WorkOrder:
    _rework(order, "reject_completion", Actor.of_owner(owner), f"业主不认可完工：{reason}")
    return order


def rate(owner: Owner, order: WorkOrder, score: int, comment: str) -> WorkOrder:
    if order.kind == "complaint" and order.status == "completed":
        confirm(order, Actor.of_owner(owner), note="业主评价投诉处理结果")
    if order.status != "confirmed":
        raise Conflict("确认完工后才能评价", code="illegal_transition")
    order.rating, order.rating_comment = score, comment
    add_event(order, Actor.of_owner(owner), "rating", note=comment, data={"score": score})
    if score <= rules.RATING_REWORK_AT_OR_BELOW and order.kind == "complaint":
        event = _rework(order, "rework", SYSTEM, f"业主评价 {score} 分，重新打开，由经理处理")
        _tell_owner(order, "重新处理", "服务中心经理将亲自跟进", event)
    elif score <= rules.RATING_REWORK_AT_OR_BELOW:
        event = _rework(order, "rework", SYSTEM, f"业主评价 {score} 分，免费返工")
        _tell_owner(order, "返工中", "已安排免费返工，服务中心将回访", event)
    else:
        _move(order, "close", Actor.of_owner(owner), note="业主评价后结单")
        order.closed_at = utcnow()
    return order


# -- worker actions ---------------------------------------------------------------------------------------

def accept(staff: Staff, order: WorkOrder, appointment_at: datetime | None) -> WorkOrder:
    _check(order, "accept")
    now = utcnow()
    if order.kind == "complaint":  # the handler acknowledges: the 10-minute clock is met
        event = _move(order, "accept", Actor.of_staff(staff), note="已受理")
        order.accepted_at, order.offer_expires_at = now, None
        _tell_owner(order, "已受理", f"处理人：{staff.name}", event)
        return order
    appointment = appointment_at or order.preferred_time or now
    if as_utc(appointment) < now - timedelta(minutes=5):
        raise ValidationFailed("预约时间不能早于现在", fields={"appointment_at": ["预约时间不能早于现在"]})
    event = _move(order, "accept", Actor.of_staff(staff), data={"appointment_at": appointment.isoformat()})
    order.accepted_at, order.appointment_at, order.offer_expires_at = now, appointment, None
    order.appointment_confirmed_at = order.appointment_confirmed_at or now
    _tell_owner(order, "已接单", f"{staff.name}预约{to_local(appointment, order.community.timezone):%m-%d %H:%M}上门",
                event)
    return order


def decline(staff: Staff, order: WorkOrder, reason: str) -> WorkOrder:
    _move(order, "decline", Actor.of_staff(staff), note=reason, data={"round": order.rework_count})
    order.assignee_id, order.offer_expires_at = None, None
    outbox.add("jobs.workorders.dispatch", queue="high", order_id=order.id)
    return order


def arrive(staff: Staff, order: WorkOrder) -> WorkOrder:
    event = _move(order, "arrive", Actor.of_staff(staff))
    order.arrived_at = utcnow()
    _tell_owner(order, "处理中", f"{staff.name}已到场", event)
    return order


def pause(staff: Staff, order: WorkOrder, reason: str) -> WorkOrder:
    _move(order, "pause", Actor.of_staff(staff), note=reason)
    return order


def resume(staff: Staff, order: WorkOrder) -> WorkOrder:
    _move(order, "resume", Actor.of_staff(staff))
    return order


def complete(staff: Staff, order: WorkOrder, *, notes: str, photos: list[int], materials: list[dict],
             owner_signed: bool) -> WorkOrder:
    usages = _material_usages(order, materials)
    if photos:
        uploads.attach(photos, community_id=order.community_id, staff_id=staff.id, house_id=order.house_id)
    event = _move(order, "complete", Actor.of_staff(staff), note=notes,
                  data={"materials_fen": sum(u.amount_fen for u in usages)})
    now = utcnow()
    order.completion_notes, order.completion_photos, order.completed_at = notes, photos, now
    for usage in order.materials:  # a rework replaces what the previous round recorded
        db.session.delete(usage)
    db.session.flush()
    order.materials = usages
    order.materials_fen = sum(u.amount_fen for u in usages)
    if order.kind == "service":
        order.final_fen = rules.final_amount(order.quote_fen, order.materials_fen)
    order.callback_due_at = sla.callback_due(now, calendar_for(order.community))
    order.needs_callback = True
    if owner_signed:
        confirm(order, Actor.of_staff(staff), note="业主现场签字确认")
    else:
        note = "请在小程序中确认完工"
        if order.final_fen:
            note = f"应付{order.final_fen / 100:.2f}元，请确认完工"
        _tell_owner(order, "待确认", note, event)
    return order


def _material_usages(order: WorkOrder, materials: list[dict]) -> list[MaterialUsage]:
    usages = []
    for index, line in enumerate(materials):
        material = db.session.get(Material, line["material_id"])
        if material is None or material.community_id != order.community_id or not material.active:
            raise ValidationFailed("材料不存在", fields={f"materials.{index}.material_id": ["材料不存在或已停用"]})
        quantity = Decimal(str(line["quantity"]))
        usages.append(MaterialUsage(material_id=material.id, name=material.name, unit=material.unit,
                                    unit_price_fen=material.price_fen, quantity=quantity,
                                    amount_fen=rules.material_amount(material.price_fen, quantity)))
    return usages


# -- desk actions ---------------------------------------------------------------------------------------------

def may_assign(staff: Staff, order: WorkOrder) -> bool:
    if not account_rules.can(staff.role, staff.department, "assign"):
        return False
    return staff.role != "supervisor" or staff.department == order.department


def assign(staff: Staff, order: WorkOrder, assignee_id: int, appointment_at: datetime | None) -> WorkOrder:
    if not may_assign(staff, order):
        raise Forbidden("只有接待员、经理和本部门主管可以派单", code="role_forbidden")
    worker = db.session.get(Staff, assignee_id)
    if worker is None or worker.community_id != order.community_id or not worker.active \
            or worker.department != order.department or worker.role not in ("worker", "supervisor"):
        raise ValidationFailed("只能派给本部门在职员工", fields={"assignee_id": ["只能派给本部门在职员工"]})
    if worker.id == order.assignee_id and order.status == "dispatched":
        raise Conflict("该工单已派给此员工", code="already_assigned")
    if appointment_at:
        order.appointment_at = appointment_at
        order.appointment_confirmed_at = order.appointment_confirmed_at or utcnow()
    _offer(order, worker, Actor.of_staff(staff), "dispatch" if order.status == "submitted" else "reassign")
    return order


def _offer(order: WorkOrder, worker: Staff, actor: Actor, event_name: str) -> None:
    cfg = current_app.config
    event = _move(order, event_name, actor, note=f"派给{worker.name}",
                  data={"assignee_id": worker.id, "round": order.rework_count})
    order.assignee = worker
    order.offer_no += 1
    order.offer_expires_at = utcnow() + timedelta(minutes=cfg["DISPATCH_ACCEPT_MINUTES"])
    db.session.flush()
    when = order.appointment_at or order.preferred_time or order.created_at
    notify_staff(worker, "order_assigned", {
        "character_string1": order.number, "thing2": ("【紧急】" if order.urgent else "") + order.title,
        "thing3": order.house.label, "time4": when,
    }, page=f"pages/staff/tasks/detail?id={order.id}", dedupe_key=f"assigned:{order.id}:{order.offer_no}",
        queue="high")
    if order.kind == "complaint":
        # The 10-minute handler clock escalates an unacknowledged complaint; no per-offer timeout.
        order.offer_expires_at = None
        _tell_owner(order, "处理中", f"处理人：{worker.name}", event)
        return
    _tell_owner(order, "已派单", f"{worker.name} {worker.phone}", event)
    outbox.add("jobs.workorders.offer_timeout", at=order.offer_expires_at, queue="high", order_id=order.id,
               offer_no=order.offer_no)


def record_callback(staff: Staff, order: WorkOrder, result: str, note: str) -> Callback:
    if staff.role not in DESK_ROLES:
        raise Forbidden("回访由服务中心接待员或经理记录", code="role_forbidden")
    if order.status not in ("completed", "confirmed", "closed"):
        raise Conflict("工单完工后才能回访", code="not_completed")
    callback = Callback(order_id=order.id, staff_id=staff.id, result=result, note=note, at=utcnow())
    db.session.add(callback)
    order.callback_at = order.callback_at or callback.at
    order.needs_callback = False
    add_event(order, Actor.of_staff(staff), "callback", note=note,
           data={"result": result, "label": rules.CALLBACK_RESULTS[result]})
    if result == "unsatisfied":
        event = _rework(order, "rework", Actor.of_staff(staff), f"回访不满意，免费返工：{note}")
        _tell_owner(order, "返工中", "回访不满意，已安排免费返工", event)
    return callback


# -- jobs ---------------------------------------------------------------------------------------------------------

def _declined_this_round(order: WorkOrder) -> set[int]:
    events = db.session.scalars(select(WorkOrderEvent).where(
        WorkOrderEvent.order_id == order.id, WorkOrderEvent.action.in_(("decline", "offer_timeout"))))
    out = set()
    for e in events:
        if e.data.get("round", 0) == order.rework_count:
            out.add(e.staff_id or e.data.get("assignee_id"))
    return out


def _candidates(order: WorkOrder) -> list[rules.Candidate]:
    load = dict(db.session.execute(
        select(WorkOrder.assignee_id, func.count()).where(WorkOrder.status.in_(states.WORKER_LOAD),
                                                         WorkOrder.community_id == order.community_id)
        .group_by(WorkOrder.assignee_id)).all())
    workers = db.session.scalars(select(Staff).where(
        Staff.community_id == order.community_id, Staff.department == order.department, Staff.role == "worker",
        Staff.active.is_(True), Staff.on_duty.is_(True)))
    return [rules.Candidate(w.id, tuple(w.skills or ()), load.get(w.id, 0)) for w in workers]


def dispatch(order_id: int) -> str:
    """Job: offer a submitted order to the best on-duty worker. Safe to run twice (guard: still submitted)."""
    order = db.session.get(WorkOrder, order_id, with_for_update=True)
    if order is None or order.status != "submitted":
        return "skipped"
    if order.kind == "complaint":
        chosen = _pick_handler(order)
    else:
        chosen = rules.pick_worker(_candidates(order), order.skill, _declined_this_round(order))
    if chosen is None:
        event = add_event(order, SYSTEM, "no_worker", note="暂无可派的在岗员工，已通知主管",
                       data={"round": order.rework_count})
        db.session.flush()
        _alert(supervisors(order), order, "无在岗员工可派，请手动派单", f"no-worker:{event.id}")
        db.session.commit()
        return "no_worker"
    _offer(order, db.session.get(Staff, chosen), SYSTEM, "dispatch")
    db.session.commit()
    return "dispatched"


def _pick_handler(order: WorkOrder) -> int | None:
    """Complaints: the on-duty receptionist with the fewest open complaints; the manager for emergencies,
    service attitude, important complaints and reopened ones (or when no receptionist is on duty)."""
    category = rules.COMPLAINT_CATEGORIES[order.category]
    declined = _declined_this_round(order)
    if not (category.manager_handles or order.important or order.rework_count):
        load = dict(db.session.execute(
            select(WorkOrder.assignee_id, func.count()).where(
                WorkOrder.kind == "complaint", WorkOrder.status.in_(states.WORKER_LOAD),
                WorkOrder.community_id == order.community_id).group_by(WorkOrder.assignee_id)).all())
        desk = [rules.Candidate(s.id, (), load.get(s.id, 0)) for s in receptionists_on_duty(order.community_id)]
        chosen = rules.pick_worker(desk, None, declined)
        if chosen:
            return chosen
    for manager in sorted(managers(order.community_id), key=lambda m: (not m.on_duty, m.id)):
        if manager.id not in declined:
            return manager.id
    return None


def offer_timeout(order_id: int, offer_no: int) -> str:
    """Job: the offer `offer_no` was not accepted in time: next worker, or the supervisor after the last offer."""
    order = db.session.get(WorkOrder, order_id, with_for_update=True)
    if order is None or order.status != "dispatched" or order.offer_no != offer_no:
        return "skipped"
    timeouts = len([1 for e in order.events if e.action == "offer_timeout"
                    and e.data.get("round", 0) == order.rework_count])
    if timeouts + 1 >= current_app.config["DISPATCH_MAX_OFFERS"]:
        # Last offer: the worker may still accept; the supervisor now owns getting it done.
        _record_breach(order, "accept", 1, order.offer_expires_at, supervisors(order), "超时无人接单，请手动派单")
        order.offer_expires_at = None
        db.session.commit()
        return "escalated"
    late = order.assignee
    _move(order, "offer_timeout", SYSTEM, note=f"{late.name if late else ''}超时未接单",
          data={"assignee_id": order.assignee_id, "round": order.rework_count})
    order.assignee_id, order.offer_expires_at = None, None
    db.session.flush()
    if late:
        _alert([late], order, "超时未接单，已改派他人", f"timeout:{order.id}:{offer_no}")
    db.session.commit()
    return dispatch(order_id)


def _record_breach(order: WorkOrder, clock: str, level: int, due_at: datetime | None, notify: list[Staff],
                   what: str) -> bool:
    """Record one missed deadline at one level (idempotent) and tell who must act."""
    exists = db.session.scalar(select(SlaBreach.id).where(
        SlaBreach.order_id == order.id, SlaBreach.clock == clock, SlaBreach.round == order.rework_count,
        SlaBreach.level == level))
    if exists:
        return False
    breach = SlaBreach(order_id=order.id, clock=clock, round=order.rework_count, level=level,
                       due_at=due_at or utcnow(), detected_at=utcnow(),
                       responsible_id=order.assignee_id or order.received_by_id)
    db.session.add(breach)
    add_event(order, SYSTEM, "breach", note=f"{rules.CLOCKS[clock]}超时，已通知{'经理' if level == 2 else '主管'}",
           data={"clock": clock, "level": level, "due_at": (due_at or utcnow()).isoformat()})
    db.session.flush()
    _alert(notify, order, what, f"breach:{breach.id}")
    return True


def overdue_clocks(now: datetime) -> list[tuple[WorkOrder, str, datetime]]:
    """Every (order, clock, due) missed as of `now`."""
    out: list[tuple[WorkOrder, str, datetime]] = []
    confirm_late = db.session.scalars(select(WorkOrder).where(
        WorkOrder.kind == "service", WorkOrder.appointment_confirmed_at.is_(None),
        WorkOrder.status.in_(("submitted", "dispatched")), WorkOrder.confirm_due_at < now))
    out += [(o, "confirm", o.confirm_due_at) for o in confirm_late]
    complete_late = db.session.scalars(select(WorkOrder).where(
        WorkOrder.kind == "repair", WorkOrder.status.in_(states.OPEN), WorkOrder.complete_due_at < now))
    out += [(o, "complete", o.complete_due_at) for o in complete_late]
    callback_late = db.session.scalars(select(WorkOrder).where(
        WorkOrder.callback_at.is_(None),
        WorkOrder.status.in_(("completed", "confirmed", "closed")), WorkOrder.callback_due_at < now))
    out += [(o, "callback", o.callback_due_at) for o in callback_late]
    complaints = select(WorkOrder).where(WorkOrder.kind == "complaint")
    handler_late = db.session.scalars(complaints.where(
        WorkOrder.status.in_(("submitted", "dispatched")), WorkOrder.handler_due_at < now))
    out += [(o, "handler", o.handler_due_at) for o in handler_late]
    onsite_late = db.session.scalars(complaints.where(
        WorkOrder.emergency.is_(True), WorkOrder.arrived_at.is_(None), WorkOrder.status != "cancelled",
        WorkOrder.onsite_due_at < now))
    out += [(o, "onsite", o.onsite_due_at) for o in onsite_late]
    reply_late = db.session.scalars(complaints.where(
        WorkOrder.status.in_(states.OPEN), WorkOrder.replied_at.is_(None), WorkOrder.reply_due_at < now))
    out += [(o, "reply", o.reply_due_at) for o in reply_late]
    return out


def escalate_overdue() -> int:
    """Periodic job: a missed deadline goes to the supervisor (callbacks: the receptionists), then the manager."""
    now = utcnow()
    later = timedelta(minutes=current_app.config["ESCALATE_MANAGER_MINUTES"])
    recorded = 0
    for order, clock, due in overdue_clocks(now):
        first, second = _escalation_chain(order, clock)
        if _record_breach(order, clock, 1, due, first, f"{rules.CLOCKS[clock]}已超时"):
            recorded += 1
            if clock == "handler":  # nobody acknowledged: the manager takes it over
                _hand_to_manager(order)
        if second is not None and as_utc(due) + later < now:
            recorded += _record_breach(order, clock, 2, due, second, f"{rules.CLOCKS[clock]}超时未处理，请督办")
    db.session.commit()
    return recorded


def _escalation_chain(order: WorkOrder, clock: str) -> tuple[list[Staff], list[Staff] | None]:
    """Who hears of a missed deadline first, and who 30 minutes later (None: nobody above)."""
    if clock == "callback":
        return receptionists_on_duty(order.community_id), managers(order.community_id)
    if order.kind == "complaint":
        company = list(db.session.scalars(select(Staff).where(
            Staff.community_id == order.community_id, Staff.active.is_(True), Staff.department == "management")))
        return managers(order.community_id), company or None
    return supervisors(order), managers(order.community_id)


def _hand_to_manager(order: WorkOrder) -> None:
    chosen = next((m for m in managers(order.community_id) if m.id != order.assignee_id), None)
    if chosen is None:
        return
    _offer(order, chosen, SYSTEM, "dispatch" if order.status == "submitted" else "reassign")


def auto_finish() -> dict:
    """Periodic job: completed work the owner ignores is confirmed after AUTO_CONFIRM_HOURS; confirmed work
    left unrated is closed after AUTO_CLOSE_DAYS."""
    cfg = current_app.config
    now = utcnow()
    confirmed = closed = 0
    for order in db.session.scalars(select(WorkOrder).where(
            WorkOrder.status == "completed", WorkOrder.completed_at < now - timedelta(hours=cfg["AUTO_CONFIRM_HOURS"]))):
        if order.final_fen and order.quote_fen is not None and order.final_fen > order.quote_fen:
            continue  # an amount above the quote needs the owner's own yes; staff follow it up
        confirm(order, SYSTEM, note=f"业主 {cfg['AUTO_CONFIRM_HOURS']} 小时内未确认，系统自动确认")
        confirmed += 1
    for order in db.session.scalars(select(WorkOrder).where(
            WorkOrder.status == "confirmed", WorkOrder.confirmed_at < now - timedelta(days=cfg["AUTO_CLOSE_DAYS"]))):
        _move(order, "close", SYSTEM, note="未评价，系统自动结单")
        order.closed_at = now
        closed += 1
    db.session.commit()
    return {"confirmed": confirmed, "closed": closed}
