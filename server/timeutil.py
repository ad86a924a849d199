"""Time helpers: stored in UTC, shown in the configured zone (Asia/Shanghai). Pure, no Flask."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

DEFAULT_ZONE = "Asia/Shanghai"

# The product's notion of "now". Tests set it to freeze or move time (forked job processes inherit it);
# nothing else does.
_clock: Callable[[], datetime] | None = None


def utcnow() -> datetime:
    return _clock() if _clock is not None else datetime.now(timezone.utc)


def set_clock(clock: Callable[[], datetime] | None) -> None:
    global _clock
    _clock = clock


def as_utc(value: datetime) -> datetime:
    """Aware UTC; naive values are taken to be UTC already (that is how they are stored)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def to_local(value: datetime, zone: str = DEFAULT_ZONE) -> datetime:
    return as_utc(value).astimezone(ZoneInfo(zone))


def local_text(value: datetime, zone: str = DEFAULT_ZONE, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return to_local(value, zone).strftime(fmt)


def day_bounds(day: date, zone: str = DEFAULT_ZONE) -> tuple[datetime, datetime]:
    """[start, end) of a local calendar day, as aware datetimes (compare with stored UTC values)."""
    start = datetime.combine(day, time(0), tzinfo=ZoneInfo(zone))
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(zone))


def local_today(zone: str = DEFAULT_ZONE) -> date:
    return to_local(utcnow(), zone).date()
