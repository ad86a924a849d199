"""Input no part of the product can store or mean, refused before any view runs: NUL bytes and lone UTF-16
surrogates in a query, a form or a JSON body (PostgreSQL cannot store either), and JSON nested deeper than
any request of ours (Python's parser would hit its recursion limit). Each is a clear 400/422 in the one
error envelope, naming the field, instead of a 500 from the depths."""
from __future__ import annotations

import json
import re

from flask import Flask, request
from werkzeug.routing import IntegerConverter

from .errors import BadRequest, ValidationFailed

MAX_DEPTH = 32
BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
BAD_TEXT_MESSAGE = "不能包含空字符或无效的 Unicode 字符"
MAX_ID = 2**31 - 1


class BadJson(BadRequest):
    code = "bad_json"
    message = "请求体不是合法的 JSON"


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: a record id, so a positive PostgreSQL integer. A larger number names no
    record: the route does not match (404) instead of the database refusing it (500)."""

    def __init__(self, url_map, fixed_digits=0, min=None, max=None, signed=False):  # noqa: A002 - werkzeug's names
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=MAX_ID if max is None else max,
                         signed=signed)


def _bad_strings(value, path: str, depth: int = 0) -> list[str]:
    """Paths of the strings (and keys) in a parsed JSON value that hold NUL or lone surrogates."""
    if depth > MAX_DEPTH:
        raise BadJson(f"JSON 嵌套不能超过 {MAX_DEPTH} 层", code="json_too_deep")
    if isinstance(value, str):
        return [path or "_schema"] if BAD_TEXT.search(value) else []
    out: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            if BAD_TEXT.search(str(key)):
                out.append(name)
            out += _bad_strings(item, name, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _bad_strings(item, f"{path}.{index}" if path else str(index), depth + 1)
    return out


def check_request() -> None:
    bad = [f"query.{k}" for k, values in request.args.lists() for v in [k, *values] if BAD_TEXT.search(v)]
    if BAD_TEXT.search(request.path):
        bad.append("path")
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        # (a part whose name werkzeug cannot read comes with the name None)
        bad += [str(k) for k, values in request.form.lists() for v in [k or "", *values] if BAD_TEXT.search(v)]
    elif request.is_json and request.content_length != 0:
        raw = request.get_data(cache=True)
        if raw.strip():
            try:
                parsed = json.loads(raw)
            except RecursionError:
                raise BadJson(f"JSON 嵌套不能超过 {MAX_DEPTH} 层", code="json_too_deep") from None
            except ValueError:
                return  # malformed JSON: the view's own parsing answers 400 as before
            bad += _bad_strings(parsed, "")
    if bad:
        raise ValidationFailed(fields={name: [BAD_TEXT_MESSAGE] for name in dict.fromkeys(bad)})


def init_input_guard(app: Flask) -> None:
    app.url_map.converters["int"] = IdConverter  # before any route is added
    app.before_request(check_request)
