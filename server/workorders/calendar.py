"""A community's business calendar (hours, holidays, make-up working days) as the pure clock rules in
sla.py take it, and its upkeep by the manager: the opening hours of each weekday, the exceptional days,
and each year's pre-fill from the State Council's published schedule (放假调休安排).

The schedule comes from the maintained `chinesecalendar` package (a new release each November, when the
next year's schedule is published): its holidays (each day of a holiday period, weekends included) become
`holiday` rows, its make-up working days `workday` rows, named in Chinese (春节, 国庆节...). A pre-fill
never touches a day the community already has a row for, so the manager's own decisions stand: add a
day (a holiday of the community's own, a make-up working day) or keep ordinary hours on a day of the
schedule (`normal`); removing a pre-filled day and pre-filling again brings it back."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import chinese_calendar
from sqlalchemy import extract, select

from ..accounts.models import CalendarDay, Community, Staff
from ..accounts.rules import default_business_hours
from ..auth import access
from ..errors import Conflict, ValidationFailed
from ..extensions import db
from . import sla

KINDS = {"holiday": "休息（节假日）", "workday": "调休上班", "normal": "照常营业"}
SOURCES = {"state": "国务院安排", "manual": "本小区设置"}
WEEKDAYS = {1: "星期一", 2: "星期二", 3: "星期三", 4: "星期四", 5: "星期五", 6: "星期六", 7: "星期日"}
STATE_SCHEDULE = "chinesecalendar " + getattr(chinese_calendar, "__version__", "")


def calendar_for(community: Community) -> sla.Calendar:
    days = db.session.execute(
        select(CalendarDay.day, CalendarDay.kind).where(CalendarDay.community_id == community.id)
    ).all()
    return sla.Calendar.build(community.timezone, community.business_hours, [tuple(d) for d in days])


# -- opening hours -------------------------------------------------------------------------------------------

def hours(staff: Staff) -> dict[str, list[str] | None]:
    """{"1": ["08:30", "18:00"], ..., "7": None}: each ISO weekday's opening hours, None when closed."""
    stored = staff.community.business_hours
    if stored is None:
        stored = default_business_hours()
    return {str(d): (list(stored[str(d)]) if stored.get(str(d)) else None) for d in range(1, 8)}


def set_hours(staff: Staff, data: dict) -> dict[str, list[str] | None]:
    """Replace the weekly opening hours (every weekday given: {"open", "close"} or None for closed)."""
    access.require(staff, "manage_calendar")
    week = {}
    for day in range(1, 8):
        spec = data.get(str(day))
        week[str(day)] = [spec["open"], spec["close"]] if spec else None
    if not any(week.values()):
        raise ValidationFailed("每周至少要有一天营业", fields={"1": ["每周至少要有一天营业"]})
    staff.community.business_hours = week
    return hours(staff)


# -- exceptional days ------------------------------------------------------------------------------------------

def days(staff: Staff, year: int | None = None) -> list[CalendarDay]:
    stmt = select(CalendarDay).where(CalendarDay.community_id == staff.community_id).order_by(CalendarDay.day)
    if year is not None:
        stmt = stmt.where(extract("year", CalendarDay.day) == year)
    return list(db.session.scalars(stmt))


def set_day(staff: Staff, data: dict) -> CalendarDay:
    """Set one day (replacing what that day had, pre-filled or not): a holiday, a make-up working day, or
    ordinary hours on a day of the State Council's schedule."""
    access.require(staff, "manage_calendar")
    row = db.session.scalar(select(CalendarDay).where(CalendarDay.community_id == staff.community_id,
                                                      CalendarDay.day == data["day"]))
    if row is None:
        row = CalendarDay(community_id=staff.community_id, day=data["day"])
        db.session.add(row)
    row.kind, row.name, row.source = data["kind"], data.get("name") or "", "manual"
    db.session.flush()
    return row


def remove_day(staff: Staff, day_id: int) -> CalendarDay:
    access.require(staff, "manage_calendar")
    row = access.scoped(CalendarDay, day_id, staff, "未找到该日期")
    db.session.delete(row)
    return row


# -- the State Council's schedule ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ScheduledDay:
    day: date
    kind: str  # holiday | workday
    name: str  # 春节, 国庆节...


def schedule_years() -> range:
    """The years whose schedule the installed chinesecalendar knows."""
    years = sorted({d.year for d in chinese_calendar.holidays})
    return range(years[0], years[-1] + 1)


def state_schedule(year: int) -> list[ScheduledDay]:
    """The State Council's holidays and make-up working days of `year`; Conflict when not published in the
    installed package yet."""
    if year not in schedule_years():
        known = schedule_years()
        raise Conflict(f"尚无 {year} 年的国务院放假安排（{STATE_SCHEDULE} 收录 {known.start}–{known.stop - 1} 年；"
                       "次年安排通常在 11 月公布，升级后即可导入），可先手动添加", code="schedule_unavailable")
    out, day = [], date(year, 1, 1)
    while day.year == year:
        off, name = chinese_calendar.get_holiday_detail(day)
        if name is not None:
            out.append(ScheduledDay(day, "holiday" if off else "workday", _chinese(name)))
        day += timedelta(days=1)
    return out


def _chinese(name: str) -> str:
    try:
        return chinese_calendar.Holiday(name).chinese
    except ValueError:
        return name


@dataclass
class Prefill:
    year: int
    added: list[CalendarDay] = field(default_factory=list)
    kept: list[date] = field(default_factory=list)  # days the community had already set: left as they are
    source: str = STATE_SCHEDULE


def prefill(staff: Staff, year: int) -> Prefill:
    """Add the year's State Council schedule to the community's calendar (safe to repeat)."""
    access.require(staff, "manage_calendar")
    schedule = state_schedule(year)
    have = {row.day for row in days(staff, year)}
    report = Prefill(year)
    for entry in schedule:
        if entry.day in have:
            report.kept.append(entry.day)
            continue
        row = CalendarDay(community_id=staff.community_id, day=entry.day, kind=entry.kind, name=entry.name,
                          source="state")
        db.session.add(row)
        report.added.append(row)
    db.session.flush()
    return report
