"""Time helpers: stored in UTC, shown in the configured zone (Asia/Shanghai). Pure, no Flask."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

DEFAULT_ZONE = "Asia/Shanghai"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime) -> datetime:
    """Aware UTC; naive values are taken to be UTC already (that is how they are stored)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def to_local(value: datetime, zone: str = DEFAULT_ZONE) -> datetime:
    return as_utc(value).astimezone(ZoneInfo(zone))


def local_text(value: datetime, zone: str = DEFAULT_ZONE, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return to_local(value, zone).strftime(fmt)
