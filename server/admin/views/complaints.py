"""投诉: the complaints list (open first; emergencies and important ones marked) and, on the order's page,
the complaint's actions: progress and final replies (a desk member answering an unhandled complaint takes
it: 首问责任制), important (manager), the corrective action of a service-attitude complaint (manager), an
emergency's arrival on site and its incident report (submitted; the manager approves or returns it)."""
from __future__ import annotations

from flask import g

from ...workorders import complaints
from ...workorders.schemas import CorrectiveIn, IncidentReportIn, IncidentReviewIn, ReplyIn
from ..blueprint import bp, page
from .orders import act, order_list


@bp.get("/complaints", endpoint="complaints")
@page("desk", "manage_complaints")
def complaints_list():
    return order_list(complaint=True)


def _complaint(order_id: int):
    return complaints.complaint_for(g.staff, order_id)


@bp.post("/orders/<int:order_id>/replies")
@page()
def complaint_reply(order_id: int):
    return act(order_id, "reply", ReplyIn(), lambda d: complaints.reply(
        g.staff, _complaint(order_id), d["content"], d["final"]), "replied")


@bp.post("/orders/<int:order_id>/important")
@page("manage_complaints")
def complaint_important(order_id: int):
    return act(order_id, "important", None,
               lambda d: complaints.mark_important(g.staff, _complaint(order_id)), "important")


@bp.post("/orders/<int:order_id>/corrective-action")
@page("manage_complaints")
def complaint_corrective(order_id: int):
    return act(order_id, "corrective", CorrectiveIn(), lambda d: complaints.corrective_action(
        g.staff, _complaint(order_id), d["action"], d["deadline"], d["penalty"]), "corrective")


@bp.post("/orders/<int:order_id>/arrival")
@page()
def complaint_arrival(order_id: int):
    return act(order_id, "arrival", None, lambda d: complaints.record_arrival(g.staff, _complaint(order_id)),
               "arrived")


@bp.post("/orders/<int:order_id>/incident-report")
@page()
def complaint_incident_report(order_id: int):
    return act(order_id, "incident_report", IncidentReportIn(), lambda d: complaints.submit_incident_report(
        g.staff, _complaint(order_id), d), "reported")


@bp.post("/orders/<int:order_id>/incident-report/review")
@page("manage_complaints")
def complaint_incident_review(order_id: int):
    return act(order_id, "incident_review", IncidentReviewIn(), lambda d: complaints.review_incident_report(
        g.staff, _complaint(order_id), d["approve"], d["note"]),
        lambda report: {"done": "approved" if report.status == "approved" else "returned"})
