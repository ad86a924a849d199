"""营业时间与节假日: the community's opening hours per weekday, its holidays and make-up working days, which
every clock counts on; each year pre-filled from the State Council's schedule, then adjusted by the manager
(the services behind /api/v1/staff/calendar)."""
from __future__ import annotations

from flask import g, redirect, render_template, request, url_for

from ...errors import ValidationFailed
from ...extensions import db
from ...timeutil import local_today
from ...workorders import calendar as services
from ...workorders.schemas import CalendarArgs, CalendarDayIn, HoursIn, PrefillArgs
from .. import forms
from ..blueprint import bp, page


@bp.get("/calendar")
@page("manage_calendar")
def calendar():
    return _page(forms.query_args(CalendarArgs(), request.args).get("year"))


def _page(year: int | None, hours_error: ValidationFailed | None = None, day_error: ValidationFailed | None = None):
    this_year = local_today(g.staff.community.timezone).year
    year = year or this_year
    known = services.schedule_years()
    return render_template(
        "admin/calendar.html", year=year, years=[this_year, this_year + 1], hours=services.hours(g.staff),
        days=services.days(g.staff, year), weekdays=services.WEEKDAYS, kinds=services.KINDS,
        sources=services.SOURCES, scheduled=year in known, known=known, schedule_source=services.STATE_SCHEDULE,
        hours_error=hours_error, day_error=day_error, form=request.form)


def _back(year: int | None, **done):
    return redirect(url_for("admin.calendar", year=year, **done))


@bp.post("/calendar/hours")
@page("manage_calendar")
def calendar_hours():
    year = forms.query_args(CalendarArgs(), request.args).get("year")
    try:
        services.set_hours(g.staff, forms.load(HoursIn(), request.form))
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        return _page(year, hours_error=exc), exc.status
    return _back(year, done="hours")


@bp.post("/calendar/days")
@page("manage_calendar")
def calendar_set_day():
    try:
        row = services.set_day(g.staff, forms.load(CalendarDayIn(), request.form))
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        return _page(forms.query_args(CalendarArgs(), request.args).get("year"), day_error=exc), exc.status
    return _back(row.day.year, done="day", day=row.day.isoformat())


@bp.post("/calendar/days/<int:day_id>/delete")
@page("manage_calendar")
def calendar_remove_day(day_id: int):
    row = services.remove_day(g.staff, day_id)
    db.session.commit()
    return _back(row.day.year, done="removed", day=row.day.isoformat())


@bp.post("/calendar/prefill")
@page("manage_calendar")
def calendar_prefill():
    year = forms.query_args(PrefillArgs(), request.args)["year"]
    report = services.prefill(g.staff, year)
    db.session.commit()
    return _back(year, done="prefilled", added=len(report.added), kept=len(report.kept))
