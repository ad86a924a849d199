"""WeChat message value rules, pure.

Subscribe messages are rejected whole (errcode 47003) when one value breaks its type's rule, so every
value is shaped here before a message is stored: long text is cut, times and amounts are formatted, and
a value that cannot be made valid raises InvalidValue (the message is then recorded as failed, not sent).
The type of a data key is its name without the trailing digits: thing1 -> thing.
"""
from __future__ import annotations

import re
from datetime import date, datetime

from ..money import yuan
from ..timeutil import DEFAULT_ZONE, to_local

ELLIPSIS = "…"
_CJK = re.compile(r"^[\u4e00-\u9fff]+$")
_ASCII_PRINTABLE = re.compile(r"[^\x20-\x7e]")
_DIGITS = re.compile(r"^-?\d+(\.\d+)?$")
_PHONE = re.compile(r"^[\d+\- ]+$")
_LETTERS = re.compile(r"^[A-Za-z]+$")

# Longest value WeChat accepts per type (characters).
LIMITS = {
    "thing": 20, "character_string": 32, "number": 32, "letter": 32, "symbol": 5, "phrase": 5,
    "name": 10, "phone_number": 17, "car_number": 8,
}
TEMPLATE_LIMIT = 20  # official-account template values since 2023-05


class InvalidValue(ValueError):
    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason


def value_type(key: str) -> str:
    return key.rstrip("0123456789")


def cut(text: str, limit: int) -> str:
    """Shorten to `limit` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS



def shape(key: str, value, zone: str = DEFAULT_ZONE) -> str:
    """One subscribe-message value, made valid for the type named by `key`, or InvalidValue."""
    kind = value_type(key)
    if value is None or value == "":
        raise InvalidValue(key, "empty")
    if kind == "time":
        if isinstance(value, datetime):
            return to_local(value, zone).strftime("%Y-%m-%d %H:%M")
        return _checked_time(key, str(value))
    if kind == "date":
        if isinstance(value, datetime):
            return to_local(value, zone).strftime("%Y-%m-%d")
        if isinstance(value, date):
            return value.strftime("%Y-%m-%d")
        return _checked_date(key, str(value))
    if kind == "amount":
        if isinstance(value, int):
            return yuan(value) + "元"
        text = str(value)
        if not re.match(r"^-?\d{1,11}(\.\d{1,2})?元?$", text):
            raise InvalidValue(key, "amount format")
        return text
    text = str(value).strip()
    if kind == "thing":
        return cut(text, LIMITS["thing"])
    if kind == "character_string":
        text = _ASCII_PRINTABLE.sub("", text)
        if not text:
            raise InvalidValue(key, "no ASCII characters")
        return text[: LIMITS[kind]]
    if kind == "phrase":
        if not _CJK.match(text):
            raise InvalidValue(key, "phrase must be Chinese characters only")
        return text[: LIMITS["phrase"]]
    if kind == "name":
        limit = 10 if re.search(r"[\u4e00-\u9fff]", text) else 20
        return text[:limit]
    if kind == "number":
        if not _DIGITS.match(text):
            raise InvalidValue(key, "not a number")
        return text[: LIMITS["number"]]
    if kind == "letter":
        if not _LETTERS.match(text):
            raise InvalidValue(key, "letters only")
        return text[: LIMITS["letter"]]
    if kind == "phone_number":
        if not _PHONE.match(text):
            raise InvalidValue(key, "not a phone number")
        return text[: LIMITS["phone_number"]]
    if kind in LIMITS:
        return text[: LIMITS[kind]]
    return cut(text, 20)


def _checked_time(key: str, text: str) -> str:
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y年%m月%d日 %H:%M", "%H:%M", "%Y-%m-%d"):
        try:
            datetime.strptime(text, fmt)
            return text
        except ValueError:
            continue
    raise InvalidValue(key, "time format")


def _checked_date(key: str, text: str) -> str:
    for fmt in ("%Y-%m-%d", "%Y年%m月%d日", "%Y-%m-%d %H:%M"):
        try:
            datetime.strptime(text, fmt)
            return text
        except ValueError:
            continue
    raise InvalidValue(key, "date format")


def subscribe_data(values: dict, zone: str = DEFAULT_ZONE) -> dict:
    """{"thing1": "..."} -> {"thing1": {"value": "..."}} with every value shaped."""
    return {key: {"value": shape(key, raw, zone)} for key, raw in values.items()}


def template_data(values: dict, zone: str = DEFAULT_ZONE) -> dict:
    """Official-account template data: times formatted, every value cut to 20 characters ourselves so
    staff read our ellipsis instead of WeChat's silent cut."""
    out = {}
    for key, raw in values.items():
        if isinstance(raw, datetime):
            text = to_local(raw, zone).strftime("%Y-%m-%d %H:%M")
        elif raw is None:
            text = "-"
        else:
            text = str(raw).strip() or "-"
        out[key] = {"value": cut(text, TEMPLATE_LIMIT)}
    return out
