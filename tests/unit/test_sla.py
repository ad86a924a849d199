"""The service center's clocks over business hours, holidays, make-up working days and weekends."""
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from server.workorders import sla

SH = ZoneInfo("Asia/Shanghai")


def t(text: str) -> datetime:
    """Local Shanghai time -> aware UTC."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SH).astimezone(timezone.utc)


# Open 08:30-18:00 Monday-Saturday, closed Sunday; 2026-10-01 (Thu) a holiday; Sunday 2026-10-11 a make-up day.
CAL = sla.Calendar.build("Asia/Shanghai", {**{str(d): ["08:30", "18:00"] for d in range(1, 7)}, "7": None},
                         [(date(2026, 10, 1), "holiday"), (date(2026, 10, 11), "workday")])
EVERY_DAY = sla.Calendar.build()


def test_default_calendar_is_open_every_day():
    assert all(EVERY_DAY.is_business_day(date(2026, 11, d)) for d in range(16, 23))


def test_business_and_working_days():
    assert CAL.is_business_day(date(2026, 11, 21))  # Saturday: open
    assert not CAL.is_working_day(date(2026, 11, 21))  # but not a working day
    assert not CAL.is_business_day(date(2026, 11, 22))  # Sunday
    assert not CAL.is_business_day(date(2026, 10, 1)) and not CAL.is_working_day(date(2026, 10, 1))
    assert CAL.is_business_day(date(2026, 10, 11)) and CAL.is_working_day(date(2026, 10, 11))
    assert CAL.hours_on(date(2026, 10, 11)) == sla.DEFAULT_HOURS


@pytest.mark.parametrize("moment,is_open", [
    ("2026-11-23 08:29", False), ("2026-11-23 08:30", True), ("2026-11-23 17:59", True),
    ("2026-11-23 18:00", False), ("2026-11-22 12:00", False),
])
def test_is_open(moment, is_open):
    assert CAL.is_open(t(moment)) is is_open


@pytest.mark.parametrize("created,due", [
    ("2026-11-23 10:00", "2026-11-23 18:00"),  # during hours: that evening
    ("2026-11-23 07:00", "2026-11-23 18:00"),  # before opening: that evening
    ("2026-11-23 20:00", "2026-11-24 18:00"),  # after hours: next business day
    ("2026-11-21 19:00", "2026-11-23 18:00"),  # Saturday evening, Sunday closed: Monday
    ("2026-09-30 19:00", "2026-10-02 18:00"),  # the holiday is skipped
    ("2026-10-10 19:00", "2026-10-11 18:00"),  # a make-up Sunday counts
])
def test_repair_same_day(created, due):
    assert sla.repair_complete_due(t(created), CAL) == t(due)
    assert sla.callback_due(t(created), CAL) == t(due)


@pytest.mark.parametrize("created,due", [
    ("2026-11-23 10:00", "2026-11-23 10:10"),
    ("2026-11-23 17:55", "2026-11-23 18:05"),  # the clock started while open
    ("2026-11-23 22:00", "2026-11-24 08:40"),  # night: from the next opening
    ("2026-11-22 11:00", "2026-11-23 08:40"),  # closed Sunday
])
def test_service_confirmed_within_10_minutes(created, due):
    assert sla.service_confirm_due(t(created), CAL) == t(due)


@pytest.mark.parametrize("start,n,due", [
    ("2026-11-23 10:00", 2, "2026-11-24 18:00"),  # Monday counts: Monday, Tuesday
    ("2026-11-23 19:00", 2, "2026-11-25 18:00"),  # after Monday's close: Tuesday, Wednesday
    ("2026-11-20 10:00", 2, "2026-11-23 18:00"),  # Friday + the weekend: Friday, Monday
    ("2026-11-21 10:00", 1, "2026-11-23 18:00"),  # Saturday is open but not a working day
    ("2026-09-30 10:00", 2, "2026-10-02 18:00"),  # the holiday does not count
    ("2026-10-10 10:00", 1, "2026-10-11 18:00"),  # the make-up Sunday does
])
def test_working_days(start, n, due):
    assert sla.working_days(t(start), CAL, n) == t(due)


def test_a_calendar_that_never_opens_is_an_error():
    closed = sla.Calendar.build("Asia/Shanghai", {str(d): None for d in range(1, 8)})
    with pytest.raises(ValueError):
        sla.same_day(t("2026-11-23 10:00"), closed)


def test_local_time_round_trip():
    assert CAL.local(t("2026-11-23 10:00")).strftime("%H:%M") == "10:00"


# -- complaints ---------------------------------------------------------------------------------------

def test_complaint_handler_within_10_minutes_of_business_time_emergencies_around_the_clock():
    assert sla.complaint_handler_due(t("2026-11-23 10:00"), CAL, emergency=False) == t("2026-11-23 10:10")
    assert sla.complaint_handler_due(t("2026-11-23 23:00"), CAL, emergency=False) == t("2026-11-24 08:40")
    assert sla.complaint_handler_due(t("2026-11-23 23:00"), CAL, emergency=True) == t("2026-11-23 23:10")
    assert sla.emergency_onsite_due(t("2026-11-22 03:00")) == t("2026-11-22 03:05")  # Sunday night too


@pytest.mark.parametrize("created,important,due", [
    ("2026-11-23 10:00", False, "2026-11-23 18:00"),  # same day
    ("2026-11-23 19:00", False, "2026-11-24 18:00"),  # after hours: next business day
    ("2026-11-23 10:00", True, "2026-11-24 18:00"),  # 2 working days: Monday, Tuesday
    ("2026-11-20 16:00", True, "2026-11-23 18:00"),  # Friday, then Monday (the weekend does not count)
])
def test_complaint_reply(created, important, due):
    assert sla.complaint_reply_due(t(created), CAL, important=important) == t(due)


def test_followup_within_3_days():
    assert sla.complaint_followup_due(t("2026-11-23 10:00")) == t("2026-11-26 10:00")
