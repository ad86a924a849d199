"""Sign-in, sign-out and changing one's own password."""
from __future__ import annotations

from flask import g, make_response, redirect, render_template, request, url_for

from ...auth.schemas import PasswordChangeIn, StaffLoginIn
from ...auth.services import change_password
from ...errors import AppError, ValidationFailed
from ...extensions import db
from .. import forms, session
from ..blueprint import bp, page


def _safe_next(target: str | None) -> str:
    """Only a path of this admin page (no scheme, no other host)."""
    if target and target.startswith("/admin/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("admin.board")


@bp.route("/login", methods=["GET", "POST"])
def login():
    error, fields, status, phone = None, {}, 200, ""
    if request.method == "POST":
        phone = request.form.get("phone", "")
        try:
            data = forms.load(StaffLoginIn(), request.form)
            cookie, current = session.sign_in(data["phone"], data["password"])
            db.session.commit()
        except AppError as exc:
            db.session.rollback()
            error, fields, status = exc.message, exc.fields, exc.status
        else:
            response = redirect(_safe_next(request.args.get("next")))
            session.set_cookie(response, cookie)
            return response
    elif session.current() is not None:
        return redirect(_safe_next(request.args.get("next")))
    response = make_response(render_template("admin/login.html", error=error, fields=fields, phone=phone),
                             status)
    session.remember_login_csrf(response)
    return response


@bp.post("/logout")
def logout():
    session.sign_out(session.current())
    db.session.commit()
    response = redirect(url_for("admin.login"))
    session.clear_cookie(response)
    return response


@bp.route("/password", methods=["GET", "POST"])
@page()
def password():
    done, error, status = False, None, 200
    if request.method == "POST":
        try:
            data = forms.load(PasswordChangeIn(), request.form)
            change_password(g.staff, data["current_password"], data["new_password"], keep=session.current().row)
            db.session.commit()
            done = True
        except ValidationFailed as exc:
            db.session.rollback()
            error, status = exc, exc.status
    return render_template("admin/password.html", done=done, error=error), status
