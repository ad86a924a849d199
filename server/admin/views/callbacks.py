"""回访: the callback queue (due, overdue, done) of repairs, paid services and complaints, and recording a
callback's outcome (unsatisfied: free rework, or a complaint reopened with the manager)."""
from __future__ import annotations

from flask import g, redirect, render_template, request, url_for

from ...errors import ValidationFailed
from ...extensions import db
from ...workorders import lifecycle, reports, rules, sla
from ...workorders.access import staff_order
from ...workorders.schemas import CallbackArgs, CallbackIn
from .. import forms
from ..blueprint import bp, page

TABS = {"due": "待回访", "overdue": "已超时", "done": "已回访"}


@bp.get("/callbacks")
@page("desk")
def callbacks():
    return _queue()


@bp.post("/callbacks/<int:order_id>")
@page("desk")
def record_callback(order_id: int):
    order = staff_order(g.staff, order_id)
    try:
        data = forms.load(CallbackIn(), request.form)
    except ValidationFailed as exc:
        db.session.rollback()
        return _queue(error=exc, failed_id=order_id), exc.status
    lifecycle.record_callback(g.staff, order, data["result"], data["note"])
    db.session.commit()
    return redirect(url_for("admin.callbacks", **forms.plain_args(request.args), done=data["result"],
                            number=order.number, kind_done=order.kind))


def _queue(error: ValidationFailed | None = None, failed_id: int | None = None):
    args = forms.query_args(CallbackArgs(), request.args)
    data = reports.callback_queue(g.staff, args["status"], args["page"], args["per_page"], args["kind"])
    counts = reports.callback_counts(g.staff, args["kind"])
    return render_template("admin/callbacks.html", data=data, counts=counts, tabs=TABS, status=args["status"],
                           kind=args["kind"], kinds=rules.KINDS, results=rules.CALLBACK_RESULTS,
                           args=forms.plain_args(request.args, "page", "done", "number", "kind_done"),
                           error=error, failed_id=failed_id, form=request.form,
                           followup_days=sla.COMPLAINT_FOLLOWUP_DAYS)
