"""HTML forms parsed with the JSON API's own marshmallow schemas, so a form and the API accept exactly the
same input and refuse it with the same Chinese messages."""
from __future__ import annotations

import re
from typing import Any

import marshmallow as ma
from werkzeug.datastructures import MultiDict

from ..errors import ValidationFailed, flatten_messages
from ..money import parse_yuan

_INT = re.compile(r"^-?\d+$")


def _value(field: ma.fields.Field, raw: str) -> Any:
    if isinstance(field, ma.fields.Integer) and _INT.match(raw):
        return int(raw)
    if isinstance(field, ma.fields.Boolean):
        return raw.lower() in ("1", "true", "on", "yes")
    return raw


def load(schema: ma.Schema, form: MultiDict) -> dict:
    """The schema's result for a submitted form. Empty inputs count as not given (defaults apply); a list
    field takes every value of its name; a checkbox sends "false" from a hidden input before it, and the
    last value wins; a nested object's fields are named "object.field" (an empty "object" input means
    null, e.g. a radio button for "none"). Refusals raise the API's ValidationFailed with per-field
    messages."""
    try:
        return schema.load(_data(schema, form))
    except ma.ValidationError as exc:
        raise ValidationFailed(fields=flatten_messages(exc.messages)) from exc


def _data(schema: ma.Schema, form: MultiDict) -> dict:
    data: dict[str, Any] = {}
    for name, field in schema.fields.items():
        if field.dump_only:
            continue
        key = field.data_key or name
        if isinstance(field, ma.fields.Nested):
            prefix = key + "."
            inner = MultiDict([(k[len(prefix):], v) for k, v in form.items(multi=True) if k.startswith(prefix)])
            if key in form and form.getlist(key)[-1].strip() == "" and field.allow_none:
                data[key] = None
            elif key in form or inner:
                data[key] = _data(field.schema, inner)
            continue
        if isinstance(field, ma.fields.List):
            values = [v for v in form.getlist(key) if v.strip() != ""]
            if values or key in form:
                data[key] = [_value(field.inner, v.strip()) for v in values]
            continue
        if key not in form:
            continue
        raw = form.getlist(key)[-1]
        if raw.strip() == "":
            if field.allow_none:
                data[key] = None
            continue
        data[key] = _value(field, raw if "password" in key else raw.strip())
    return data


def query_args(schema: ma.Schema, args: MultiDict) -> dict:
    """A list page's filters (the API's query schema); invalid filters are refused like the API's."""
    return load(schema, args)


def plain_args(args: MultiDict, *drop: str) -> dict:
    """The page's query string as a dict without empty values (for links that keep the filters)."""
    return {k: v for k, v in args.items() if v != "" and k not in drop}


def with_fen(form: MultiDict, *names: str) -> MultiDict:
    """People type money in yuan: each `<name>_yuan` input ("123.45") becomes the schema's `<name>_fen`
    (12345). An amount that is not one is refused on the `<name>_fen` field."""
    out = form.copy()
    for name in names:
        raw = form.get(f"{name}_yuan", "")
        if raw.strip() == "":
            continue
        fen = parse_yuan(raw)
        if fen is None:
            raise ValidationFailed(fields={f"{name}_fen": ["金额格式有误：以元为单位，最多两位小数，如 50 或 12.50"]})
        out[f"{name}_fen"] = str(fen)
    return out
