"""Shared marshmallow pieces: times shown in Asia/Shanghai, pagination, phone fields."""
from __future__ import annotations

from datetime import datetime

import marshmallow as ma
from flask import current_app
from marshmallow import validate

from .accounts.rules import PHONE_RE
from .timeutil import DEFAULT_ZONE, as_utc, to_local


class LocalDateTime(ma.fields.DateTime):
    """Dumps stored UTC as ISO 8601 in the configured zone (2026-11-23T18:00:00+08:00); loads any
    ISO 8601 with an offset (naive input is taken as local time)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        zone = current_app.config["TIMEZONE"] if current_app else DEFAULT_ZONE
        return to_local(value, zone).isoformat()

    def _deserialize(self, value, attr, data, **kwargs):
        parsed: datetime = super()._deserialize(value, attr, data, **kwargs)
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
    page = ma.fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = ma.fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


def page_of(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """{"items": [...], "total": n, "page": p, "per_page": k} around an item schema."""
    return ma.Schema.from_dict({
        "items": ma.fields.List(ma.fields.Nested(item_schema)),
        "total": ma.fields.Integer(),
        "page": ma.fields.Integer(),
        "per_page": ma.fields.Integer(),
    }, name=name)


class PersonOut(ma.Schema):
    """A member of staff as other records show them (who received, handled, collected...)."""
    id = ma.fields.Integer()
    name = ma.fields.String()
    phone = ma.fields.String()
