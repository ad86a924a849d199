"""满意度调查 and 常见问题: monthly surveys (20 households a month) and answers to every opinion; common
problems answered by a notice."""
from __future__ import annotations

from flask import current_app, g, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from ...accounts.queries import buildings_of
from ...errors import AppError, ValidationFailed
from ...extensions import db
from ...feedback import metrics, services
from ...feedback.schemas import ProblemArgs, ProblemNoticeIn, ResponseIn, SurveyArgs, SurveyIn
from ...notices import services as notices
from ...pagination import paginate
from ...reporting import month_of
from ...timeutil import utcnow
from ...workorders import states
from .. import forms
from ..blueprint import bp, page
from .notices import notice_form_context


# -- surveys ---------------------------------------------------------------------------------------------


@bp.get("/surveys")
@page("surveys")
def surveys():
    return _surveys()


@bp.post("/surveys")
@page("surveys")
def record_survey():
    try:
        survey = services.record_survey(g.staff, forms.load(SurveyIn(), request.form))
        db.session.commit()
    except AppError as exc:  # invalid, or this house was already surveyed this month: keep what was typed
        db.session.rollback()
        return _surveys(error=exc, form=request.form), exc.status
    return redirect(url_for("admin.surveys", month=survey.month, done="recorded", house=survey.house.label))


@bp.post("/surveys/<int:survey_id>/response")
@page("surveys")
def respond_survey(survey_id: int):
    try:
        data = forms.load(ResponseIn(), request.form)
    except ValidationFailed as exc:
        db.session.rollback()
        return _surveys(respond_error=exc, respond_id=survey_id), exc.status
    survey = services.respond(g.staff, survey_id, data["response"])
    db.session.commit()
    return redirect(url_for("admin.surveys", **forms.plain_args(request.args), done="responded",
                            house=survey.house.label))


def _surveys(error: AppError | None = None, form: MultiDict | None = None,
             respond_error: ValidationFailed | None = None, respond_id: int | None = None):
    args = forms.query_args(SurveyArgs(), request.args)
    this_month = month_of(utcnow(), g.staff.community.timezone)
    month = args["month"] if "month" in request.args else this_month  # "": every month
    data = paginate(services.surveys_query(g.staff, month, args["unanswered"], args["answer"]),
                    args["page"], args["per_page"])
    summary = services.survey_summary(g.staff, month or this_month)
    return render_template(
        "admin/surveys.html", data=data, summary=summary, month=month, this_month=this_month,
        unanswered=args["unanswered"], answer=args["answer"], answers=metrics.SURVEY_ANSWERS,
        methods=metrics.SURVEY_METHODS, scores=metrics.SURVEY_SCORES, definitions=metrics.DEFINITIONS,
        args={**forms.plain_args(request.args, "page", "done", "house"), "month": month or ""},
        error=error, form=form or MultiDict(),
        respond_error=respond_error, respond_id=respond_id)


# -- common problems -----------------------------------------------------------------------------------------


@bp.get("/problems")
@page("common_problems")
def problems():
    args = forms.query_args(ProblemArgs(), request.args)
    data = paginate(services.problems_query(g.staff, args["status"]), args["page"], args["per_page"])
    return render_template("admin/problems.html", data=data, status=args["status"],
                           statuses=services.PROBLEM_STATUSES, category_label=metrics.category_label,
                           now=utcnow(), args=forms.plain_args(request.args, "page"),
                           threshold=current_app.config["COMMON_PROBLEM_THRESHOLD"],
                           window_days=current_app.config["COMMON_PROBLEM_WINDOW_DAYS"],
                           answer_days=services.ANSWER_DAYS)


@bp.get("/problems/<int:problem_id>")
@page("common_problems")
def problems_detail(problem_id: int):
    return _problem(services.staff_problem(g.staff, problem_id))


@bp.post("/problems/<int:problem_id>/notice")
@page("publish_notices")
def answer_problem(problem_id: int):
    problem = services.staff_problem(g.staff, problem_id)
    try:
        services.answer_with_notice(g.staff, problem_id, forms.load(ProblemNoticeIn(), request.form))
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        return _problem(problem, error=exc, form=request.form), exc.status
    return redirect(url_for("admin.problems_detail", problem_id=problem_id, done="answered"))


def _problem(problem, error: ValidationFailed | None = None, form: MultiDict | None = None):
    draft = services.notice_draft(problem)
    if form is None and draft is not None:
        form = MultiDict([("kind", draft["kind"]), ("title", draft["title"]), ("content", draft["content"]),
                          ("scope", "buildings"), *(("scope.buildings", b) for b in draft["scope"]["buildings"])])
    linkable = [n for n in notices.staff_notices_page(g.staff, 1, 20)["items"] if n.common_problem_id is None]
    return render_template(
        "admin/problem.html", problem=problem, category_label=metrics.category_label,
        statuses=services.PROBLEM_STATUSES, order_statuses=states.STATUSES, now=utcnow(), linkable=linkable,
        **notice_form_context(form, error, buildings_of(g.staff.community_id)))
