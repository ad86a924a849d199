"""通知: writing a notice with a live preview of what owners will see (the mini-program page and the WeChat
message, cut as WeChat cuts it), publishing it, then its delivery figures and how many households read it."""
from __future__ import annotations

from flask import g, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from ...accounts.queries import buildings_of
from ...errors import ValidationFailed
from ...extensions import db
from ...notices import services
from ...notices.schemas import NoticeIn
from ...schemas import PageArgs
from ...timeutil import utcnow
from .. import forms
from ..blueprint import bp, page


def notice_form_context(form: MultiDict | None, error: ValidationFailed | None, buildings) -> dict:
    """What templates/admin/_notice_form.html needs (the notice page and a common problem's answer)."""
    return {"form": form or MultiDict([("kind", "general"), ("scope", "")]), "error": error,
            "buildings": buildings, "kinds": services.KINDS}


@bp.get("/notices")
@page()
def notices():
    args = forms.query_args(PageArgs(), request.args)
    data = services.staff_notices_page(g.staff, args["page"], args["per_page"])
    return render_template("admin/notices.html", data=data, args=forms.plain_args(request.args, "page"),
                           **_labels())


@bp.get("/notices/new")
@page("publish_notices")
def notice_new():
    return _form()


@bp.post("/notices")
@page("publish_notices")
def publish_notice():
    try:
        published = services.publish(g.staff, forms.load(NoticeIn(), request.form))
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        return _form(error=exc, form=request.form), exc.status
    return redirect(url_for("admin.notices_detail", notice_id=published.id, done="published"))


@bp.post("/notices/preview")
@page("publish_notices")
def notice_preview():
    """The preview beside the form (htmx): refreshed as the notice is typed; a notice that cannot be
    published yet says what is missing instead (a preview is not a refusal: 200)."""
    preview, error = None, None
    try:
        preview = services.preview(g.staff, forms.load(NoticeIn(), request.form))
    except ValidationFailed as exc:
        error = exc
    return render_template("admin/_notice_preview.html", preview=preview, error=error, **_labels())


@bp.get("/notices/<int:notice_id>")
@page()
def notices_detail(notice_id: int):
    return render_template("admin/notice.html", notice=services.staff_notice(g.staff, notice_id), now=utcnow(),
                           **_labels())


@bp.get("/notices/<int:notice_id>/figures")
@page()
def notice_figures(notice_id: int):
    return render_template("admin/_notice_figures.html", notice=services.staff_notice(g.staff, notice_id),
                           now=utcnow())


def _labels() -> dict:
    return {"kinds": services.KINDS, "scope_label": services.scope_label}


def _form(error: ValidationFailed | None = None, form: MultiDict | None = None):
    return render_template("admin/notice_form.html",
                           **notice_form_context(form, error, buildings_of(g.staff.community_id)))
