"""绑定审核: house bindings waiting for review, beside what the roster says about that house; approve, or
reject with a reason (the owner is pushed either way)."""
from __future__ import annotations

from flask import g, redirect, render_template, request, url_for

from ...accounts import rules, services
from ...accounts.queries import roster_of
from ...accounts.schemas import BindingArgs, RejectIn
from ...extensions import db
from ...pagination import paginate
from .. import forms
from ..blueprint import bp, page


@bp.get("/bindings")
@page("review_bindings")
def bindings():
    args = forms.query_args(BindingArgs(), request.args)
    status = args.get("status", "pending") if "status" in request.args else "pending"
    data = paginate(services.list_bindings(g.staff, status or None), args["page"], args["per_page"])
    roster = roster_of({m.house_id for m in data["items"]})
    return render_template("admin/bindings.html", data=data, roster=roster, status=status,
                           statuses=rules.MEMBERSHIP_STATUSES, member_roles=rules.MEMBER_ROLES,
                           args=forms.plain_args(request.args, "page"))


@bp.post("/bindings/<int:membership_id>/approve")
@page("review_bindings")
def approve_binding(membership_id: int):
    services.approve_binding(g.staff, membership_id)
    db.session.commit()
    return redirect(url_for("admin.bindings", done="approved"))


@bp.post("/bindings/<int:membership_id>/reject")
@page("review_bindings")
def reject_binding(membership_id: int):
    data = forms.load(RejectIn(), request.form)
    services.reject_binding(g.staff, membership_id, data["reason"])
    db.session.commit()
    return redirect(url_for("admin.bindings", done="rejected"))
