"""Complaint-only operations on the shared work order: replies, important complaints, corrective
action for service-attitude complaints, emergencies (arrival, incident report) and weekly updates.

The clocks (server/README.md, "Complaints" and "The clocks"): a handler within 10 minutes, on site within 5 for emergencies,
a reply the same day (important: 2 working days, by the manager), progress every week while open, a
follow-up within 3 days after it is handled.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import or_, select

from ..accounts.models import Staff
from ..auth import access
from ..errors import AppError, Conflict, Forbidden, NotFound
from ..extensions import db
from ..timeutil import utcnow
from ..wechat import messages
from ..wechat.services import notify_owner
from . import sla, states
from .models import IncidentReport, WorkOrder
from .access import staff_order
from .calendar import calendar_for
from .dispatch import offer
from .events import SYSTEM, Actor, add_event, move
from .notify import alert, managers, tell_owner


def complaint_for(staff: Staff, order_id: int) -> WorkOrder:
    order = staff_order(staff, order_id)
    if order.kind != "complaint":
        raise NotFound("未找到该投诉")
    return order


def _tell_owner_reply(order: WorkOrder, content: str, event) -> None:
    if order.owner is None:
        return
    db.session.flush()
    notify_owner(order.owner, messages.complaint_reply(number=order.number, content=content, at=event.at),
                 community_id=order.community_id, page=f"pages/orders/detail?id={order.id}",
        dedupe_key=f"complaint-reply:{event.id}", queue="high")


# -- what may be done now: one check for the services below and for the pages that offer the buttons ------

def reply_refusal(staff: Staff, order: WorkOrder, final: bool = False) -> AppError | None:
    if order.assignee_id != staff.id and not access.can(staff, "desk", order):
        return Forbidden("只有处理人、接待员或经理可以答复投诉", code="role_forbidden")
    if order.status not in states.OPEN:
        return Conflict("投诉已处理完毕或已取消，不能再答复", code="illegal_transition")
    if order.status == "submitted" and not access.can(staff, "desk", order):
        return Conflict("投诉尚未分配处理人", code="illegal_transition")
    if final and order.emergency and (order.incident_report is None or order.incident_report.status != "approved"):
        return Conflict("紧急事件须先提交《突发事件处理表》并经经理审批，才能结案", code="incident_report_required")
    return None


def important_refusal(staff: Staff, order: WorkOrder) -> AppError | None:
    if refusal := access.refused(staff, "manage_complaints", order):
        return refusal
    if order.status not in states.OPEN:
        return Conflict("投诉已处理完毕或已取消", code="illegal_transition")
    if order.important:
        return Conflict("已是重要投诉", code="already_important")
    return None


def corrective_refusal(staff: Staff, order: WorkOrder) -> AppError | None:
    if refusal := access.refused(staff, "manage_complaints", order):
        return refusal
    if order.category != "service_attitude":
        return Conflict("只有服务态度投诉需要记录整改措施", code="not_service_attitude")
    return None


def arrival_refusal(order: WorkOrder) -> AppError | None:
    if not order.emergency:
        return Conflict("只有紧急事件需要记录到场", code="not_emergency")
    if order.arrived_at is not None:
        return Conflict("已有人员到场", code="already_arrived")
    if order.status in states.FINAL:
        return Conflict("事件已结案", code="illegal_transition")
    return None


def report_refusal(order: WorkOrder) -> AppError | None:
    if not order.emergency:
        return Conflict("只有紧急事件需要《突发事件处理表》", code="not_emergency")
    if order.incident_report is not None and order.incident_report.status == "approved":
        return Conflict("处理表已审批", code="already_approved")
    return None


def review_refusal(staff: Staff, order: WorkOrder) -> AppError | None:
    if refusal := access.refused(staff, "manage_complaints", order):
        return refusal
    if order.incident_report is None or order.incident_report.status != "submitted":
        return Conflict("没有待审批的处理表", code="nothing_to_review")
    return None


def _check(refusal: AppError | None) -> None:
    if refusal is not None:
        raise refusal


# -- the actions -----------------------------------------------------------------------------------------

def take(staff: Staff, order: WorkOrder) -> None:
    """首问责任制: a receptionist or manager who answers a complaint nobody handles yet becomes its handler
    (assigned and acknowledged, both on the timeline) instead of being refused."""
    actor = Actor.of_staff(staff)
    move(order, "dispatch", actor, note=f"首问责任：{staff.name}答复业主，接手处理",
         data={"assignee_id": staff.id, "round": order.rework_count, "first_responsibility": True})
    order.assignee, order.offer_expires_at = staff, None
    move(order, "accept", actor, note="已受理")
    order.accepted_at = utcnow()


def reply(staff: Staff, order: WorkOrder, content: str, final: bool) -> WorkOrder:
    """A progress or final reply to the owner; answering acknowledges the complaint (受理). The final reply
    closes the handling (the follow-up clock starts); an emergency cannot be closed before its incident
    report is approved. A desk member answering a complaint that has no handler yet takes it first
    (首问责任制)."""
    _check(reply_refusal(staff, order, final))
    now = utcnow()
    if order.status == "submitted":
        take(staff, order)
    elif order.status == "dispatched":  # answering is acknowledging: the 10-minute clock is met
        move(order, "accept", Actor.of_staff(staff), note="已受理")
        order.accepted_at = now
    if final:
        event = move(order, "resolve", Actor.of_staff(staff), note=content, data={"final": True})
        order.completed_at = now
        order.callback_due_at = sla.complaint_followup_due(now)
        order.needs_callback = True
    else:
        event = add_event(order, Actor.of_staff(staff), "reply", note=content, data={"final": False})
    order.replied_at = order.replied_at or now
    order.last_progress_at = now
    _tell_owner_reply(order, content, event)
    return order


def mark_important(staff: Staff, order: WorkOrder) -> WorkOrder:
    """The manager takes it personally: reply within 2 working days of receipt."""
    _check(important_refusal(staff, order))
    order.important = True
    order.reply_due_at = sla.complaint_reply_due(order.created_at, calendar_for(order.community), important=True)
    add_event(order, Actor.of_staff(staff), "important", note="标记为重要投诉，经理亲自处理")
    if order.assignee_id != staff.id:
        if order.status == "submitted":
            offer(order, staff, Actor.of_staff(staff), "dispatch")
        elif order.status in ("dispatched", "accepted"):
            offer(order, staff, Actor.of_staff(staff), "reassign")
    return order


def corrective_action(staff: Staff, order: WorkOrder, action: str, deadline: date | None,
                      penalty: str) -> WorkOrder:
    """Service-attitude complaints: what is done about the staff member, by when (the manager decides)."""
    _check(corrective_refusal(staff, order))
    order.corrective_action, order.corrective_deadline, order.penalty = action, deadline, penalty or None
    add_event(order, Actor.of_staff(staff), "corrective_action", note=action,
              data={"deadline": deadline.isoformat() if deadline else None, "penalty": penalty,
                    "about": order.about_staff_name})
    return order


def record_arrival(staff: Staff, order: WorkOrder) -> WorkOrder:
    """Emergencies: the first responder on site (5-minute clock). Any staff member of the community."""
    _check(arrival_refusal(order))
    order.arrived_at = utcnow()
    add_event(order, Actor.of_staff(staff), "responder_arrived", note=f"{staff.name}已到场",
              data={"responder_id": staff.id})
    return order


def submit_incident_report(staff: Staff, order: WorkOrder, data: dict) -> IncidentReport:
    _check(report_refusal(order))
    report = order.incident_report
    if report is None:
        report = IncidentReport(order=order)
        db.session.add(report)
    report.cause, report.actions = data["cause"], data["actions"]
    report.losses, report.people_involved = data["losses"], data["people_involved"]
    report.status, report.submitted_by_id, report.submitted_at = "submitted", staff.id, utcnow()
    report.reviewed_by_id = report.reviewed_at = report.review_note = None
    add_event(order, Actor.of_staff(staff), "incident_report", note="提交《突发事件处理表》")
    db.session.flush()
    alert(managers(order.community_id), order, "突发事件处理表待审批", f"incident:{report.id}:{report.submitted_at}")
    return report


def review_incident_report(staff: Staff, order: WorkOrder, approve: bool, note: str) -> IncidentReport:
    _check(review_refusal(staff, order))
    report = order.incident_report
    report.status = "approved" if approve else "rejected"
    report.reviewed_by_id, report.reviewed_at, report.review_note = staff.id, utcnow(), note or None
    add_event(order, Actor.of_staff(staff), "incident_review", note=note,
              data={"approved": approve})
    return report


def weekly_updates() -> int:
    """Periodic job: a complaint open for over a week reminds its handler and tells the owner it is being
    followed, once a week until handled."""
    now = utcnow()
    week = timedelta(days=sla.WEEKLY_UPDATE_DAYS)
    due = db.session.scalars(select(WorkOrder).where(
        WorkOrder.kind == "complaint", WorkOrder.status.in_(states.OPEN), WorkOrder.created_at < now - week,
        or_(WorkOrder.last_weekly_at.is_(None), WorkOrder.last_weekly_at < now - week)))
    count = 0
    for order in due:
        order.last_weekly_at = now
        event = add_event(order, SYSTEM, "weekly_update", note="投诉已超过一周，已提醒处理人并告知业主进展")
        db.session.flush()
        targets = [order.assignee] if order.assignee else managers(order.community_id)
        alert(targets, order, "投诉超过一周未结，请向业主通报进展", f"weekly:{event.id}")
        tell_owner(order, "处理中", "您的投诉仍在处理中，我们每周向您通报进展", event)
        count += 1
    return count
