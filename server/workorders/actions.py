"""What a member of staff may do to one order right now: the role (the permissions table) and the state
machine, asked through the same refusal checks the services raise. A page offers exactly these buttons;
the services refuse anything else anyway."""
from __future__ import annotations

from ..accounts.models import Staff
from ..auth import access
from . import complaints, dispatch, lifecycle, payments, states
from .models import WorkOrder


def available(staff: Staff, order: WorkOrder) -> set[str]:
    out: set[str] = set()
    if dispatch.assign_refusal(staff, order) is None:
        out.add("assign")
    if access.can(staff, "desk", order) and "cancel" in states.allowed_events(order.status):
        out.add("cancel")
    if lifecycle.callback_refusal(staff, order) is None:
        out.add("callback")
    if payments.on_site_refusal(staff, order) is None:
        out.add("payment")
    if order.kind == "service":
        out.add("notice")
    if order.kind != "complaint":
        return out
    if complaints.reply_refusal(staff, order) is None:
        out.add("reply")
        if complaints.reply_refusal(staff, order, final=True) is None:
            out.add("final_reply")
    for name, refusal in (("important", complaints.important_refusal(staff, order)),
                          ("corrective_action", complaints.corrective_refusal(staff, order)),
                          ("arrival", complaints.arrival_refusal(order)),
                          ("incident_report", complaints.report_refusal(order)),
                          ("incident_review", complaints.review_refusal(staff, order))):
        if refusal is None:
            out.add(name)
    return out
