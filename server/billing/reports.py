"""Fee collection reports (收费报表) of the caller's community, for managers and finance: the period report
(月报: collection and household rates by building and by fee item, arrears with aging, the recovery of
advances, the money collected in the month) and the weekly collection report (周报).

Every figure and its definition: report_figures.py (pure). The rows come from report_queries.py, the xlsx
from report_xlsx.py. This module checks who may see them and puts a report together: the moment it
describes (`as_of`), the period's or the week's bounds, the figures.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from ..accounts.models import Community, Staff
from ..auth import access
from ..errors import ValidationFailed
from ..extensions import db
from ..reporting import month_bounds, month_text, parse_month
from ..timeutil import as_utc, to_local, utcnow
from .report_figures import (
    DEFAULT_ARREARS_LIMIT,
    DEFINITIONS,
    WEEKLY_DEFINITIONS,
    aging,
    collection,
    figures,
    parse_week,
    summarize,
    week_bounds,
)
from .report_queries import fetch_arrears, fetch_cells, fetch_collected, fetch_households




def _as_of(as_of: datetime | None, now: datetime) -> datetime:
    if as_of is None:
        return now
    as_of = as_utc(as_of)
    if as_of > now:
        raise ValidationFailed("统计时点不能晚于当前时间", fields={"as_of": ["统计时点不能晚于当前时间"]})
    return as_of


def _heading(community: Community, now: datetime) -> dict:
    """What both reports start with: whose they are, their time zone, when they were made."""
    return {"community": {"code": community.code, "name": community.name}, "timezone": community.timezone,
            "generated_at": now}


def _period_figures(community: Community, period: str, as_of: datetime) -> dict:
    """The period's figures (total, by building, by item, advances) as of `as_of`."""
    _start, end = month_bounds(*parse_month(period), community.timezone)
    cells = fetch_cells(community.id, period, as_of, end)
    households = fetch_households(community.id, period, as_of)
    return summarize(cells, households, period_over=as_of >= end)


def period_report(staff: Staff, period: str, as_of: datetime | None = None,
                  arrears_limit: int | None = DEFAULT_ARREARS_LIMIT) -> dict:
    """收费月报 of the caller's community (managers and finance)."""
    access.require(staff, "reports")
    community = db.session.get(Community, staff.community_id)
    now = utcnow()
    as_of = _as_of(as_of, now)
    zone = community.timezone
    start, end = month_bounds(*parse_month(period), zone)
    summary = _period_figures(community, period, as_of)
    day = to_local(as_of, zone).date()
    rows, payments = fetch_collected(community.id, start, min(end, as_of + timedelta(microseconds=1)))
    return {
        "period": period,
        **_heading(community, now),
        "as_of": as_of,
        "period_start": start.date(),
        "period_end": (end - timedelta(days=1)).date(),
        **summary,
        "arrears": aging(fetch_arrears(community.id, as_of, day), day, arrears_limit),
        "month_collection": collection(rows, payments, period),
        "definitions": DEFINITIONS,
    }


def weekly_report(staff: Staff, week: str) -> dict:
    """收费周报 of the caller's community: collected in the ISO week, and the period's rate at week end."""
    access.require(staff, "reports")
    community = db.session.get(Community, staff.community_id)
    zone = community.timezone
    year, number = parse_week(week)
    start, end = week_bounds(year, number, zone)
    now = utcnow()
    last_day = (end - timedelta(days=1)).date()
    period = month_text(last_day.year, last_day.month)
    as_of = min(as_utc(end) - timedelta(microseconds=1), now)
    rows, payments = fetch_collected(community.id, start, end)
    summary = _period_figures(community, period, as_of) if as_utc(start) <= now else None
    total = summary["total"] if summary else figures(0, 0, 0, 0, 0, 0)
    return {
        "week": f"{year}-W{number:02d}",
        **_heading(community, now),
        "start": start.date(),
        "end": last_day,
        "complete": as_utc(end) <= now,
        "collection": collection(rows, payments, period),
        "period_to_date": {"period": period, "as_of": as_of, **total},
        "definitions": WEEKLY_DEFINITIONS,
    }
