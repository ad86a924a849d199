"""A work order from acceptance to closing: the owner's actions (cancel, urge, confirm, reject, rate), the
worker's (accept, decline, arrive, pause, resume, complete with materials) and the desk's callback; free
rework when the owner is not satisfied."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import outbox, ratelimit
from ..accounts.models import Owner, Staff
from ..auth import access
from ..errors import AppError, Conflict, ValidationFailed
from ..extensions import db
from ..timeutil import as_utc, to_local, utcnow
from ..uploads import services as uploads
from . import rules, sla, states
from .access import PHOTO_RECORD
from .calendar import calendar_for
from .events import SYSTEM, Actor, add_event, check, move
from .models import Callback, Material, MaterialUsage, WorkOrder, WorkOrderEvent
from .notify import alert, supervisors, tell_owner


def cancel(order: WorkOrder, actor: Actor, reason: str) -> WorkOrder:
    assignee = order.assignee
    event = move(order, "cancel", actor, note=reason)
    order.cancel_reason, order.cancelled_at = reason, utcnow()
    if assignee:
        alert([assignee], order, "工单已取消，无需上门", f"cancel:{order.id}")
    if actor.kind != "owner":
        tell_owner(order, "已取消", reason, event)
    return order


def urge(owner: Owner, order: WorkOrder) -> WorkOrder:
    if order.status not in states.OPEN:
        raise Conflict("工单已完工或已取消，无需催单", code="not_open")
    ratelimit.hit("urge", str(order.id), current_app.config["RATE_URGE"])
    event = add_event(order, Actor.of_owner(owner), "urge", note="业主催单")
    db.session.flush()
    targets = supervisors(order) + ([order.assignee] if order.assignee else [])
    alert(targets, order, "业主催单，请尽快处理", f"urge:{event.id}")
    return order


def confirm(order: WorkOrder, actor: Actor, accept_final_fen: int | None = None, note: str = "") -> WorkOrder:
    if order.status == "completed" and order.final_fen is not None and order.quote_fen is not None \
            and order.final_fen > order.quote_fen and accept_final_fen != order.final_fen and actor.kind == "owner":
        raise Conflict(f"最终费用 {order.final_fen / 100:.2f} 元超出报价 {order.quote_fen / 100:.2f} 元，请确认费用后再确认完工",
                       code="amount_not_confirmed")
    move(order, "confirm", actor, note=note or "确认完工")
    order.confirmed_at = utcnow()
    return order


def rework(order: WorkOrder, event: str, actor: Actor, note: str) -> WorkOrderEvent:
    """Free rework for the same department: back to dispatch with a fresh same-day clock."""
    row = move(order, event, actor, note=note)
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


def not_satisfied(order: WorkOrder, actor: Actor, why: str) -> WorkOrderEvent:
    """The owner is not satisfied (a low rating, an unsatisfied callback): free rework, or for a complaint,
    reopened with the manager; the owner is told which."""
    if order.kind == "complaint":
        event = rework(order, "rework", actor, f"{why}，重新打开，由经理处理")
        tell_owner(order, "重新处理", "服务中心经理将亲自跟进", event)
    else:
        event = rework(order, "rework", actor, f"{why}，免费返工")
        tell_owner(order, "返工中", "已安排免费返工，服务中心将回访", event)
    return event


def reject_completion(owner: Owner, order: WorkOrder, reason: str) -> WorkOrder:
    rework(order, "reject_completion", Actor.of_owner(owner), f"业主不认可完工：{reason}")
    return order


def rate(owner: Owner, order: WorkOrder, score: int, comment: str) -> WorkOrder:
    if order.kind == "complaint" and order.status == "completed":
        confirm(order, Actor.of_owner(owner), note="业主评价投诉处理结果")
    if order.status != "confirmed":
        raise Conflict("确认完工后才能评价", code="illegal_transition")
    order.rating, order.rating_comment = score, comment
    add_event(order, Actor.of_owner(owner), "rating", note=comment, data={"score": score})
    if score <= rules.RATING_REWORK_AT_OR_BELOW:
        not_satisfied(order, SYSTEM, f"业主评价 {score} 分")
    else:
        move(order, "close", Actor.of_owner(owner), note="业主评价后结单")
        order.closed_at = utcnow()
    return order


def accept(staff: Staff, order: WorkOrder, appointment_at: datetime | None) -> WorkOrder:
    check(order, "accept")
    now = utcnow()
    if order.kind == "complaint":  # the handler acknowledges: the 10-minute clock is met
        event = move(order, "accept", Actor.of_staff(staff), note="已受理")
        order.accepted_at, order.offer_expires_at = now, None
        tell_owner(order, "已受理", f"处理人：{staff.name}", event)
        return order
    appointment = appointment_at or order.preferred_time or now
    if as_utc(appointment) < now - timedelta(minutes=5):
        raise ValidationFailed("预约时间不能早于现在", fields={"appointment_at": ["预约时间不能早于现在"]})
    event = move(order, "accept", Actor.of_staff(staff), data={"appointment_at": appointment.isoformat()})
    order.accepted_at, order.appointment_at, order.offer_expires_at = now, appointment, None
    order.appointment_confirmed_at = order.appointment_confirmed_at or now
    tell_owner(order, "已接单", f"{staff.name}预约{to_local(appointment, order.community.timezone):%m-%d %H:%M}上门",
                event)
    return order


def decline(staff: Staff, order: WorkOrder, reason: str) -> WorkOrder:
    move(order, "decline", Actor.of_staff(staff), note=reason, data={"round": order.rework_count})
    order.assignee_id, order.offer_expires_at = None, None
    outbox.add("jobs.workorders.dispatch", queue="high", order_id=order.id)
    return order


def arrive(staff: Staff, order: WorkOrder) -> WorkOrder:
    event = move(order, "arrive", Actor.of_staff(staff))
    order.arrived_at = utcnow()
    tell_owner(order, "处理中", f"{staff.name}已到场", event)
    return order


def pause(staff: Staff, order: WorkOrder, reason: str) -> WorkOrder:
    move(order, "pause", Actor.of_staff(staff), note=reason)
    return order


def resume(staff: Staff, order: WorkOrder) -> WorkOrder:
    move(order, "resume", Actor.of_staff(staff))
    return order


def complete(staff: Staff, order: WorkOrder, *, notes: str, photos: list[int], materials: list[dict],
             owner_signed: bool) -> WorkOrder:
    usages = _material_usages(order, materials)
    if photos:
        uploads.attach(photos, record=(PHOTO_RECORD, order.id), community_id=order.community_id,
                       staff_id=staff.id, house_id=order.house_id)
    event = move(order, "complete", Actor.of_staff(staff), note=notes,
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
        tell_owner(order, "待确认", note, event)
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


def callback_refusal(staff: Staff, order: WorkOrder) -> AppError | None:
    """Why `staff` may not record a callback of `order` now (None: they may)."""
    if refusal := access.refused(staff, "desk", order):
        return refusal
    if order.status not in states.DONE:
        return Conflict("工单完工后才能回访", code="not_completed")
    return None


def record_callback(staff: Staff, order: WorkOrder, result: str, note: str) -> Callback:
    """The desk's callback of done work (repairs, paid services; complaints' follow-up): unsatisfied means
    free rework, or a complaint reopened with the manager."""
    if refusal := callback_refusal(staff, order):
        raise refusal
    callback = Callback(order_id=order.id, staff_id=staff.id, result=result, note=note, at=utcnow())
    db.session.add(callback)
    order.callback_at = order.callback_at or callback.at
    order.needs_callback = False
    add_event(order, Actor.of_staff(staff), "callback", note=note,
           data={"result": result, "label": rules.CALLBACK_RESULTS[result]})
    if result == "unsatisfied":
        not_satisfied(order, Actor.of_staff(staff), f"回访不满意（{note}）" if note else "回访不满意")
    return callback


def callbacks_of(order: WorkOrder) -> list[Callback]:
    """The order's callbacks, oldest first, with who made them."""
    return list(db.session.scalars(select(Callback).where(Callback.order_id == order.id)
                                   .options(selectinload(Callback.staff)).order_by(Callback.at, Callback.id)))
