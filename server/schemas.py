"""Shared marshmallow pieces: times shown in Asia/Shanghai, pagination, phone fields."""
from __future__ import annotations

from datetime import date, datetime

import marshmallow as ma
from flask import current_app
from marshmallow import validate

from .accounts.rules import PHONE_RE
from .timeutil import DEFAULT_ZONE, as_utc, to_local


INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # PostgreSQL integer: ids, fen, counts
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)  # dates the product can mean


class Int(ma.fields.Integer):
    """An integer the database can hold: without a range of its own, it is limited to PostgreSQL's integer
    (a larger id names nothing: 422 with the field named, never a 500 from the database)."""

    def __init__(self, *args, **kwargs):
        validators = kwargs.get("validate") or []
        validators = list(validators) if isinstance(validators, (list, tuple)) else [validators]
        if not any(isinstance(v, validate.Range) for v in validators):
            validators.append(validate.Range(min=INT_MIN, max=INT_MAX, error="超出范围"))
        kwargs["validate"] = validators
        super().__init__(*args, **kwargs)


class Day(ma.fields.Date):
    """A calendar date between 2000 and 2099 (year 1 or 368 is a typo, not a date to store)."""

    def _deserialize(self, value, attr, data, **kwargs):
        day = super()._deserialize(value, attr, data, **kwargs)
        if not EARLIEST <= day <= LATEST:
            raise ma.ValidationError("日期超出范围（2000-2099 年）")
        return day


class DecimalText(ma.fields.Decimal):
    """An exact decimal (areas, readings, quantities) sent as a string, so no float rounds it ("89.50");
    documented as such."""

    def __init__(self, *args, **kwargs):
        metadata = {"type": "string", "format": "decimal", "pattern": r"^-?\d+(\.\d+)?$", **kwargs.pop("metadata", {})}
        super().__init__(*args, as_string=True, metadata=metadata, **kwargs)


class LocalDateTime(ma.fields.DateTime):
    """Dumps stored UTC as ISO 8601 in the configured zone (2026-11-23T18:00:00+08:00); loads any
    ISO 8601 with an offset (naive input is taken as local time), between 2000 and 2099."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        zone = current_app.config["TIMEZONE"] if current_app else DEFAULT_ZONE
        return to_local(value, zone).isoformat()

    def _deserialize(self, value, attr, data, **kwargs):
        parsed: datetime = super()._deserialize(value, attr, data, **kwargs)
        if not EARLIEST.year <= parsed.year <= LATEST.year:
            raise ma.ValidationError("时间超出范围（2000-2099 年）")
        if parsed.tzinfo is None:
            from zoneinfo import ZoneInfo

            parsed = parsed.replace(tzinfo=ZoneInfo(current_app.config["TIMEZONE"]))
        return as_utc(parsed)


def Phone(**kwargs) -> ma.fields.String:  # noqa: N802 - reads like a field class
    return ma.fields.String(validate=validate.Regexp(PHONE_RE, error="手机号格式有误（11 位手机号）"), **kwargs)


def Text(max_length: int, *, required: bool = False, min_length: int = 0, **kwargs) -> ma.fields.String:  # noqa: N802
    """A string of at most max_length; min_length 1 means it may not be blank (message: 必填)."""
    validators = [validate.Length(max=max_length)]
    if min_length == 1:
        validators.insert(0, validate.Length(min=1, error="必填"))
    elif min_length > 1:
        validators = [validate.Length(min=min_length, max=max_length)]
    return ma.fields.String(required=required, validate=validators, **kwargs)


def mask_phone(phone: str | None) -> str | None:
    if not phone or len(phone) < 7:
        return phone
    return phone[:3] + "****" + phone[-4:]


class PageArgs(ma.Schema):
    page = Int(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = Int(load_default=20, validate=validate.Range(min=1, max=100))


def page_of(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """{"items": [...], "total": n, "page": p, "per_page": k} around an item schema."""
    return ma.Schema.from_dict({
        "items": ma.fields.List(ma.fields.Nested(item_schema)),
        "total": Int(),
        "page": Int(),
        "per_page": Int(),
    }, name=name)


class PersonOut(ma.Schema):
    """A member of staff as other records show them (who received, handled, collected...)."""
    id = Int()
    name = ma.fields.String()
    phone = ma.fields.String()
