"""员工: the community's staff (department, role, skills, on duty, account, official account bound or not);
the manager adds people, changes anything and resets passwords (which ends that person's sessions);
supervisors change the skills and on-duty state of their own department's workers. A worker's one-time
QR code binds their official account so pushes reach them (the services behind /api/v1/staff/members)."""
from __future__ import annotations

import segno
from flask import g, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from ...accounts import rules, services
from ...accounts.queries import community_staff
from ...accounts.schemas import StaffArgs, StaffCreateIn, StaffUpdateIn
from ...auth import access
from ...errors import ValidationFailed
from ...extensions import db
from .. import forms, session
from ..blueprint import bp, page


def _context(**extra) -> dict:
    return {"departments": rules.DEPARTMENTS, "roles": rules.ROLES, "skills": rules.SKILLS, **extra}


@bp.get("/staff")
@page("manage_staff")
def staff():
    args = forms.query_args(StaffArgs(), request.args)
    return _list(args)


def _list(args: dict, form: MultiDict | None = None, error: ValidationFailed | None = None):
    people = list(db.session.scalars(community_staff(g.staff.community_id, args.get("department"),
                                                     args.get("on_duty"))))
    return render_template("admin/staff.html", people=people, department=args.get("department", ""),
                           filters=forms.plain_args(request.args, "done", "name"), form=form or MultiDict(),
                           error=error, **_context())


@bp.post("/staff")
@page("create_staff")
def create_staff():
    try:
        person = services.create_staff(g.staff, forms.load(StaffCreateIn(), request.form))
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        return _list({}, request.form, exc), exc.status
    return redirect(url_for("admin.staff_detail", staff_id=person.id, done="created"))


@bp.post("/staff/<int:staff_id>/duty")
@page("manage_staff")
def staff_duty(staff_id: int):
    """The list's on-duty switch (back to the list as it was filtered)."""
    data = forms.load(StaffUpdateIn(only=("on_duty",)), request.form)
    person = services.update_staff(g.staff, staff_id, data, session.current().row)
    db.session.commit()
    return redirect(url_for("admin.staff", **forms.plain_args(request.args), done="duty", name=person.name))


@bp.get("/staff/<int:staff_id>")
@page("manage_staff")
def staff_detail(staff_id: int):
    return _detail(services.managed_staff(g.staff, staff_id))


def _detail(person, error: ValidationFailed | None = None, form: MultiDict | None = None,
            password_error: ValidationFailed | None = None):
    return render_template("admin/staff_member.html", person=person, error=error, form=form,
                           password_error=password_error, nav_endpoint="admin.staff", **_context())


@bp.post("/staff/<int:staff_id>")
@page("manage_staff")
def update_staff(staff_id: int):
    """Managers send every field; supervisors only skills and on duty (the form shows them no more)."""
    fields = None if access.can(g.staff, "create_staff") else ("skills", "on_duty")
    try:
        data = forms.load(StaffUpdateIn(only=fields, partial=True), request.form)
        data.pop("password", None)  # a reset has its own form
        services.update_staff(g.staff, staff_id, data, session.current().row)
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        return _detail(services.managed_staff(g.staff, staff_id), error=exc, form=request.form), exc.status
    return redirect(url_for("admin.staff_detail", staff_id=staff_id, done="saved"))


@bp.post("/staff/<int:staff_id>/password")
@page("create_staff")
def reset_password(staff_id: int):
    try:
        data = forms.load(StaffUpdateIn(only=("password",)), request.form)
        if not data.get("password"):
            raise ValidationFailed(fields={"password": ["请输入新密码（至少 8 位）"]})
        services.update_staff(g.staff, staff_id, data, session.current().row)
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        return _detail(services.managed_staff(g.staff, staff_id), password_error=exc), exc.status
    return redirect(url_for("admin.staff_detail", staff_id=staff_id, done="password"))


# -- the official account: one-time QR code, bound or not --------------------------------------------------------

@bp.get("/staff/<int:staff_id>/qr")
@page("manage_staff")
def staff_qr(staff_id: int):
    return render_template("admin/staff_qr.html", person=services.managed_staff(g.staff, staff_id), code=None,
                           qr=None, nav_endpoint="admin.staff")


@bp.post("/staff/<int:staff_id>/qr")
@page("manage_staff")
def staff_qr_create(staff_id: int):
    """A new one-time code, shown once (the token is stored only as its hash)."""
    code = services.create_oa_binding(g.staff, staff_id)
    db.session.commit()
    return render_template("admin/staff_qr.html", person=code.row.staff, code=code,
                           qr=qr_svg(code.qr_content) if code.qr_content else None, nav_endpoint="admin.staff")


def qr_svg(content: str) -> Markup:
    """The QR code WeChat's showqrcode image shows, drawn here from what it holds (the address WeChat returns
    with the ticket), as inline SVG: no outside image, nothing but our own origin under the page's policy."""
    code = segno.make(content, error="m")
    return Markup(code.svg_inline(scale=6, border=3, title="公众号绑定二维码"))


@bp.get("/staff/<int:staff_id>/oa-state")
@page("manage_staff")
def staff_oa_state(staff_id: int):
    """The bound-or-not line of the QR page, polled while the worker scans."""
    return render_template("admin/_oa_state.html", person=services.managed_staff(g.staff, staff_id), poll=True)


@bp.post("/staff/<int:staff_id>/oa-unbind")
@page("manage_staff")
def staff_oa_unbind(staff_id: int):
    services.unbind_oa(g.staff, staff_id)
    db.session.commit()
    return redirect(url_for("admin.staff_detail", staff_id=staff_id, done="unbound"))
