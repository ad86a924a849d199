"""Getting an order to someone: the job that offers it to the best on-duty worker (complaints: a handler),
the 10-minute offer timeout that moves it on, and the desk's manual assignment. Jobs run inside the
outbox runner, which commits at the job's end."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from .. import outbox
from ..accounts.models import Staff
from ..auth import access
from ..errors import AppError, Conflict, ValidationFailed
from ..extensions import db
from ..timeutil import utcnow
from ..wechat import messages
from ..wechat.services import notify_staff
from . import rules, states
from .breaches import record_breach
from .events import SYSTEM, Actor, add_event, move
from .models import WorkOrder, WorkOrderEvent
from .notify import alert, managers, receptionists_on_duty, supervisors, tell_owner


ASSIGNABLE_ROLES = ("worker", "supervisor")


def assignable(worker: Staff | None, order: WorkOrder) -> bool:
    """A worker or supervisor of the order's department and community, still employed."""
    return worker is not None and worker.community_id == order.community_id and worker.active \
        and worker.department == order.department and worker.role in ASSIGNABLE_ROLES


def assign_refusal(staff: Staff, order: WorkOrder) -> AppError | None:
    """Why `staff` may not assign or reassign `order` now (None: they may)."""
    if refusal := access.refused(staff, "assign", order):
        return refusal
    try:
        states.apply(order.status, _assign_event(order))
    except states.IllegalTransition as exc:
        return Conflict(exc.message, code="illegal_transition")
    return None


def _assign_event(order: WorkOrder) -> str:
    return "dispatch" if order.status == "submitted" else "reassign"


def assign(staff: Staff, order: WorkOrder, assignee_id: int, appointment_at: datetime | None) -> WorkOrder:
    access.require(staff, "assign", order)
    worker = db.session.get(Staff, assignee_id)
    if not assignable(worker, order):
        raise ValidationFailed("只能派给本部门在职员工", fields={"assignee_id": ["只能派给本部门在职员工"]})
    if worker.id == order.assignee_id and order.status == "dispatched":
        raise Conflict("该工单已派给此员工", code="already_assigned")
    if appointment_at:
        order.appointment_at = appointment_at
        order.appointment_confirmed_at = order.appointment_confirmed_at or utcnow()
    offer(order, worker, Actor.of_staff(staff), _assign_event(order))
    return order


@dataclass(frozen=True)
class WorkerLoad:
    """A member of staff an order may be given to, with what they carry now."""
    staff: Staff
    open_orders: int  # orders dispatched to them or in hand (states.WORKER_LOAD)
    has_skill: bool  # the order needs no particular skill, or they have it


def open_orders(community_id: int) -> dict[int, int]:
    """staff id -> orders dispatched to them or in hand, for the whole community in one query."""
    return dict(db.session.execute(
        select(WorkOrder.assignee_id, func.count()).where(WorkOrder.status.in_(states.WORKER_LOAD),
                                                         WorkOrder.community_id == community_id)
        .group_by(WorkOrder.assignee_id)).all())


def eligible_workers(staff: Staff, order: WorkOrder) -> list[WorkerLoad]:
    """Whom `staff` may assign `order` to: on duty first, then those with the skill, then the least loaded."""
    access.require(staff, "assign", order)
    load = open_orders(order.community_id)
    people = db.session.scalars(select(Staff).where(
        Staff.community_id == order.community_id, Staff.department == order.department,
        Staff.role.in_(ASSIGNABLE_ROLES), Staff.active.is_(True)))
    out = [WorkerLoad(w, load.get(w.id, 0), order.skill is None or order.skill in (w.skills or ()))
           for w in people if assignable(w, order)]
    out.sort(key=lambda x: (not x.staff.on_duty, not x.has_skill, x.staff.role != "worker", x.open_orders,
                            x.staff.id))
    return out


def offer(order: WorkOrder, worker: Staff, actor: Actor, event_name: str) -> None:
    cfg = current_app.config
    event = move(order, event_name, actor, note=f"派给{worker.name}",
                  data={"assignee_id": worker.id, "round": order.rework_count})
    order.assignee = worker
    order.offer_no += 1
    order.offer_expires_at = utcnow() + timedelta(minutes=cfg["DISPATCH_ACCEPT_MINUTES"])
    db.session.flush()
    when = order.appointment_at or order.preferred_time or order.created_at
    content = messages.order_assigned(number=order.number, work=("【紧急】" if order.urgent else "") + order.title,
                                      address=order.house.label, at=when)
    notify_staff(worker, content, page=f"pages/staff/tasks/detail?id={order.id}", dedupe_key=f"assigned:{order.id}:{order.offer_no}",
        queue="high")
    if order.kind == "complaint":
        # The 10-minute handler clock escalates an unacknowledged complaint; no per-offer timeout.
        order.offer_expires_at = None
        tell_owner(order, "处理中", f"处理人：{worker.name}", event)
        return
    tell_owner(order, "已派单", f"{worker.name} {worker.phone}", event)
    # Re-offering is housekeeping: due together, hundreds of them must not delay new orders (high).
    outbox.add("jobs.workorders.offer_timeout", at=order.offer_expires_at, queue="default", order_id=order.id,
               offer_no=order.offer_no)


def _declined_this_round(order: WorkOrder) -> set[int]:
    events = db.session.scalars(select(WorkOrderEvent).where(
        WorkOrderEvent.order_id == order.id, WorkOrderEvent.action.in_(("decline", "offer_timeout"))))
    out = set()
    for e in events:
        if e.data.get("round", 0) == order.rework_count:
            out.add(e.staff_id or e.data.get("assignee_id"))
    return out


def _candidates(order: WorkOrder) -> list[rules.Candidate]:
    load = open_orders(order.community_id)
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
        alert(supervisors(order), order, "无在岗员工可派，请手动派单", f"no-worker:{event.id}")
        return "no_worker"
    offer(order, db.session.get(Staff, chosen), SYSTEM, "dispatch")
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
        record_breach(order, "accept", 1, order.offer_expires_at, supervisors(order), "超时无人接单，请手动派单")
        order.offer_expires_at = None
        return "escalated"
    late = order.assignee
    move(order, "offer_timeout", SYSTEM, note=f"{late.name if late else ''}超时未接单",
          data={"assignee_id": order.assignee_id, "round": order.rework_count})
    order.assignee_id, order.offer_expires_at = None, None
    db.session.flush()
    if late:
        alert([late], order, "超时未接单，已改派他人", f"timeout:{order.id}:{offer_no}")
    return dispatch(order_id)
