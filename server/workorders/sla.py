"""The service center's clocks, pure: deadlines from a community calendar (business hours, holidays,
make-up working days 调休, time zone). No Flask, no database; all datetimes in and out are aware UTC.

Definitions (server/README.md, "The clocks"):
- business day: the service center is open (its hours for that weekday, not a holiday; a make-up working
  day opens with the default hours even if that weekday is normally closed);
- working day (工作日): Monday-Friday unless a holiday, plus make-up working days; used for "N working days";
- "same day": if the clock starts while the center is open, by its closing time that day; outside
  business hours, by the closing time of the next business day (a job reported at 20:00 is due the next
  evening; one reported at 07:00 on a business day is due that evening).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

DEFAULT_HOURS = (time(8, 30), time(18, 0))

# The service center's clocks: the one place their numbers live.
SERVICE_CONFIRM_MINUTES = 10  # a paid-service booking gets an appointment (business time)
COMPLAINT_HANDLER_MINUTES = 10  # every complaint has a handler (business time; emergencies: wall clock)
EMERGENCY_ONSITE_MINUTES = 5  # someone on site at an emergency (wall clock)
IMPORTANT_REPLY_WORKING_DAYS = 2  # an important complaint is answered (others: the same day)
COMPLAINT_FOLLOWUP_DAYS = 3  # the follow-up contact after a complaint is handled
WEEKLY_UPDATE_DAYS = 7  # an open complaint's owner hears of its progress this often
MAX_SCAN_DAYS = 400  # a calendar closed for more than a year is a configuration error


def _parse(t: str) -> time:
    hour, minute = t.split(":")
    return time(int(hour), int(minute))


@dataclass(frozen=True)
class Calendar:
    zone: ZoneInfo
    hours: dict[int, tuple[time, time] | None]  # ISO weekday -> (open, close) or None (closed)
    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def build(cls, zone: str = "Asia/Shanghai", business_hours: dict | None = None,
              days: list[tuple[date, str]] | None = None) -> Calendar:
        """From the stored shape: {"1": ["08:30", "18:00"], ..., "7": None} and [(date, "holiday"|"workday")]."""
        hours: dict[int, tuple[time, time] | None] = {}
        for day in range(1, 8):
            spec = (business_hours or {}).get(str(day), ["08:30", "18:00"] if business_hours is None else None)
            hours[day] = (_parse(spec[0]), _parse(spec[1])) if spec else None
        days = days or []
        return cls(
            zone=ZoneInfo(zone), hours=hours,
            holidays=frozenset(d for d, kind in days if kind == "holiday"),
            workdays=frozenset(d for d, kind in days if kind == "workday"),
        )

    # -- days ---------------------------------------------------------------------------------------
    def hours_on(self, day: date) -> tuple[time, time] | None:
        if day in self.holidays:
            return None
        spec = self.hours.get(day.isoweekday())
        if spec is None and day in self.workdays:
            return DEFAULT_HOURS
        return spec

    def is_business_day(self, day: date) -> bool:
        return self.hours_on(day) is not None

    def is_working_day(self, day: date) -> bool:
        if day in self.holidays:
            return False
        return day in self.workdays or day.isoweekday() <= 5

    # -- moments ------------------------------------------------------------------------------------
    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def at(self, day: date, clock: time) -> datetime:
        return datetime.combine(day, clock, tzinfo=self.zone).astimezone(timezone.utc)

    def is_open(self, moment: datetime) -> bool:
        local = self.local(moment)
        spec = self.hours_on(local.date())
        return spec is not None and spec[0] <= local.time() < spec[1]

    def next_open(self, moment: datetime) -> datetime:
        """`moment` itself when open, else the next opening time."""
        if self.is_open(moment):
            return moment
        local = self.local(moment)
        day = local.date()
        spec = self.hours_on(day)
        if spec is not None and local.time() < spec[0]:
            return self.at(day, spec[0])
        nxt = self._next_business_day(day)
        return self.at(nxt, self.hours_on(nxt)[0])  # type: ignore[index]

    def closing(self, moment: datetime) -> datetime:
        """Closing time of the business day `moment` falls in (moment must be within business hours)."""
        day = self.local(moment).date()
        return self.at(day, self.hours_on(day)[1])  # type: ignore[index]

    def _next_business_day(self, day: date) -> date:
        for offset in range(1, MAX_SCAN_DAYS):
            candidate = day + timedelta(days=offset)
            if self.is_business_day(candidate):
                return candidate
        raise ValueError("no business day within a year: check the community's business hours")

    def end_of_working_day(self, day: date) -> datetime:
        close = (self.hours_on(day) or DEFAULT_HOURS)[1]
        return self.at(day, close)


# -- the clocks ---------------------------------------------------------------------------------------

def same_day(start: datetime, cal: Calendar) -> datetime:
    """'The same day' as the service center means it (see module docstring)."""
    return cal.closing(cal.next_open(start))


def within_minutes(start: datetime, cal: Calendar, minutes: int) -> datetime:
    """N minutes of business time: from `start` if open, else from the next opening."""
    return cal.next_open(start) + timedelta(minutes=minutes)


def working_days(start: datetime, cal: Calendar, n: int) -> datetime:
    """End of the n-th working day, counting the day of `start` if it is a working day and `start` is before
    that day's close (received Monday 10:00, 2 working days -> Tuesday's close)."""
    day = cal.local(start).date()
    counted = 0
    for _ in range(MAX_SCAN_DAYS):
        if cal.is_working_day(day) and (counted or start < cal.end_of_working_day(day)):
            counted += 1
            if counted == n:
                return cal.end_of_working_day(day)
        day += timedelta(days=1)
    raise ValueError("no working day within a year")


def service_confirm_due(created_at: datetime, cal: Calendar) -> datetime:
    """Paid-service booking: confirmed with an appointment within 10 minutes."""
    return within_minutes(created_at, cal, SERVICE_CONFIRM_MINUTES)


def repair_complete_due(created_at: datetime, cal: Calendar) -> datetime:
    """Repairs are completed the same day (after hours: by the end of the next business day)."""
    return same_day(created_at, cal)


def callback_due(completed_at: datetime, cal: Calendar) -> datetime:
    """Repairs and paid services are called back the same day they are completed."""
    return same_day(completed_at, cal)


# -- complaints --------------------------------------------------------------------------------------------
# Emergencies run on the wall clock (someone is on duty around the clock); other complaints on business time.

def complaint_handler_due(created_at: datetime, cal: Calendar, *, emergency: bool) -> datetime:
    """A handler acknowledges every complaint within 10 minutes."""
    if emergency:
        return created_at + timedelta(minutes=COMPLAINT_HANDLER_MINUTES)
    return within_minutes(created_at, cal, COMPLAINT_HANDLER_MINUTES)


def emergency_onsite_due(created_at: datetime) -> datetime:
    """Emergencies: someone on site within 5 minutes."""
    return created_at + timedelta(minutes=EMERGENCY_ONSITE_MINUTES)


def complaint_reply_due(created_at: datetime, cal: Calendar, *, important: bool) -> datetime:
    """General, written and service-attitude complaints are answered the same day; important ones, handled
    by the manager, within 2 working days."""
    if important:
        return working_days(created_at, cal, IMPORTANT_REPLY_WORKING_DAYS)
    return same_day(created_at, cal)


def complaint_followup_due(handled_at: datetime) -> datetime:
    """A follow-up contact within 3 days after a complaint is handled."""
    return handled_at + timedelta(days=COMPLAINT_FOLLOWUP_DAYS)
