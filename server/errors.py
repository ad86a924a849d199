"""One JSON error envelope for every failure.

    {"error": {"code": "validation_error", "message": "中文说明", "fields": {"phone": ["..."]}}}

Services raise AppError subclasses; flask-smorest/webargs validation errors, werkzeug HTTP errors,
database conflicts and unexpected exceptions are turned into the same shape by the handlers below.
Messages are Chinese because owners and staff read them; `code` is a stable English key for clients.
"""
from __future__ import annotations

import csv
import logging
import re
from typing import Any

import marshmallow as ma
from flask import Flask, current_app, g, has_request_context, jsonify, request
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class AppError(Exception):
    status = 400
    code = "bad_request"
    message = "请求有误"

    def __init__(self, message: str | None = None, *, fields: dict | None = None, code: str | None = None,
                 headers: dict | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.fields = fields or {}
        if code:
            self.code = code
        self.headers = headers or {}


class BadRequest(AppError):
    status = 400
    code = "bad_request"
    message = "请求格式有误"


class ValidationFailed(AppError):
    status = 422
    code = "validation_error"
    message = "提交的内容有误，请检查后重试"


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"
    message = "请先登录"


class Forbidden(AppError):
    status = 403
    code = "forbidden"
    message = "没有权限进行此操作"


class NotFound(AppError):
    status = 404
    code = "not_found"
    message = "记录不存在"


class Conflict(AppError):
    status = 409
    code = "conflict"
    message = "当前状态不允许此操作"


class TooManyRequests(AppError):
    status = 429
    code = "rate_limited"
    message = "操作太频繁，请稍后再试"


class UpstreamError(AppError):
    """WeChat (or another outside service) failed while the caller waits."""
    status = 502
    code = "upstream_error"
    message = "微信服务暂时不可用，请稍后再试"


HTTP_MESSAGES = {
    400: ("bad_request", "请求格式有误"),
    401: ("unauthorized", "请先登录"),
    403: ("forbidden", "没有权限进行此操作"),
    404: ("not_found", "请求的地址或记录不存在"),
    405: ("method_not_allowed", "不支持此请求方法"),
    409: ("conflict", "当前状态不允许此操作"),
    413: ("payload_too_large", "上传内容太大"),
    415: ("unsupported_media_type", "不支持的内容类型"),
    422: ("validation_error", "提交的内容有误，请检查后重试"),
    429: ("rate_limited", "操作太频繁，请稍后再试"),
    500: ("internal_error", "服务器出错了，请稍后再试"),
    503: ("unavailable", "服务暂时不可用，请稍后再试"),
}

# marshmallow / webargs messages -> Chinese. Exact texts first, then patterns with numbers.
_EXACT = {
    "Missing data for required field.": "必填",
    "Field may not be null.": "不能为空",
    "Unknown field.": "不支持的字段",
    "Not a valid string.": "应为文本",
    "Not a valid integer.": "应为整数",
    "Not a valid number.": "应为数字",
    "Not a valid boolean.": "应为 true 或 false",
    "Not a valid list.": "应为列表",
    "Not a valid mapping type.": "应为对象",
    "Not a valid datetime.": "时间格式有误",
    "Not a valid date.": "日期格式有误",
    "Not a valid email address.": "邮箱格式有误",
    "Invalid input type.": "类型有误",
    "Invalid value.": "取值有误",
    "Shorter than minimum length 1.": "不能为空",
    "Invalid JSON body.": "请求体不是合法的 JSON",
}
_PATTERNS = [
    (re.compile(r"^Longer than maximum length (\d+)\.$"), "长度不能超过 {0}"),
    (re.compile(r"^Shorter than minimum length (\d+)\.$"), "长度不能少于 {0}"),
    (re.compile(r"^Length must be between (\d+) and (\d+)\.$"), "长度应在 {0} 到 {1} 之间"),
    (re.compile(r"^Length must be (\d+)\.$"), "长度应为 {0}"),
    (re.compile(r"^Must be greater than or equal to (\S+) and less than or equal to (\S+)\.$"), "应在 {0} 到 {1} 之间"),
    (re.compile(r"^Must be greater than or equal to (\S+)\.$"), "不能小于 {0}"),
    (re.compile(r"^Must be less than or equal to (\S+)\.$"), "不能大于 {0}"),
    (re.compile(r"^Must be one of: (.+)\.$"), "应为以下之一：{0}"),
    (re.compile(r"^String does not match expected pattern\.$"), "格式有误"),
]


def translate(message: str) -> str:
    if message in _EXACT:
        return _EXACT[message]
    for pattern, template in _PATTERNS:
        m = pattern.match(message)
        if m:
            return template.format(*m.groups())
    return message


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """webargs/marshmallow nested messages -> {"field.sub": ["中文", ...]}."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "_schema":
                name = prefix or "_schema"
            for k, v in flatten_messages(value, name).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(messages, (list, tuple)):
        if all(isinstance(m, str) for m in messages):
            out[prefix or "_schema"] = [translate(m) for m in messages]
        else:
            for item in messages:
                for k, v in flatten_messages(item, prefix).items():
                    out.setdefault(k, []).extend(v)
    elif isinstance(messages, str):
        out[prefix or "_schema"] = [translate(messages)]
    return out


def envelope(status: int, code: str, message: str, fields: dict | None = None, headers: dict | None = None):
    # Pages for people (the admin page) show the same error as a page instead of JSON.
    for prefix, render in (current_app.extensions.get("html_errors", {}).items() if current_app else ()):
        if has_request_context() and request.path.startswith(prefix):
            return render(status, code, message, fields or {}, headers or {})
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    request_id = g.get("request_id") if g else None
    if request_id:
        body["request_id"] = request_id
    response = jsonify({"error": body})
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def handle_http_exception(error: HTTPException):
    status = error.code or 500
    code, message = HTTP_MESSAGES.get(status, ("error", error.name or "请求失败"))
    data = getattr(error, "data", None) or {}
    fields = None
    # webargs puts validation errors under data["messages"] keyed by location (json, query, ...).
    messages = data.get("errors") or data.get("messages")
    if messages:
        by_location = messages if isinstance(messages, dict) else {"_schema": messages}
        fields = {}
        for location_messages in by_location.values():
            fields.update(flatten_messages(location_messages))
    if status == 400 and fields is None:
        message = "请求格式有误（需要 JSON）"
    headers = dict(data.get("headers") or {})
    if status == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)
    return envelope(status, code, message, fields, headers)


def handle_app_error(error: AppError):
    return envelope(error.status, error.code, error.message, error.fields, error.headers)


def handle_integrity_error(error: IntegrityError):
    from .extensions import db

    db.session.rollback()
    # Not the driver's message: it quotes the conflicting values ("Key (phone)=(138...) already exists").
    from .logs import describe

    log.warning("integrity error: %s", describe(error.orig if error.orig is not None else error))
    return envelope(409, "conflict", "数据已被修改或重复提交，请刷新后重试")


# SQLSTATEs of a value too large for its column: numeric_value_out_of_range, datetime_field_overflow.
OUT_OF_RANGE = {"22003", "22008"}


def handle_bad_file(error: Exception):
    """An uploaded file the csv module cannot read (a NUL byte, a broken quote...): the file's fault."""
    from .extensions import db

    db.session.rollback()
    return envelope(422, "bad_file", "文件格式有误：请上传 UTF-8 或 GBK 编码的 CSV 文件",
                    {"file": ["不是有效的 CSV 文件"]})


def handle_data_error(error: Exception):
    """A number or date the database cannot hold that validation let through is the caller's input: a 422,
    not a 500. Any other data error (a bad cast in our own SQL...) is ours: a 500."""
    from .extensions import db

    sqlstate = getattr(getattr(error, "orig", None), "sqlstate", None)
    if not (isinstance(error, OverflowError) or sqlstate in OUT_OF_RANGE):
        return handle_unexpected(error)
    db.session.rollback()
    log.warning("value refused by the database: %s %s", type(error).__name__, sqlstate or "")
    return envelope(422, "value_out_of_range", "提交的数值超出范围")


def handle_unexpected(error: Exception):
    from .extensions import db

    db.session.rollback()
    # The traceback without what the exceptions say (names, phone numbers, SQL values): server/logs.py.
    from .logs import safe_traceback

    if isinstance(error, OperationalError):
        log.error("database unavailable\n%s", safe_traceback(error))
        return envelope(503, "unavailable", "服务暂时不可用，请稍后再试")
    log.error("unhandled error\n%s", safe_traceback(error))
    return envelope(500, *HTTP_MESSAGES[500])


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(AppError, handle_app_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(DataError, handle_data_error)
    app.register_error_handler(csv.Error, handle_bad_file)
    app.register_error_handler(OverflowError, handle_data_error)
    app.register_error_handler(Exception, handle_unexpected)


class ErrorBodySchema(ma.Schema):
    code = ma.fields.String(metadata={"description": "Stable machine-readable code, e.g. validation_error"})
    message = ma.fields.String(metadata={"description": "Chinese message for people"})
    fields = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()),
                            metadata={"description": "Per-field messages (validation errors)"})
    request_id = ma.fields.String()


class ErrorSchema(ma.Schema):
    """Documentation of the envelope (responses are built by `envelope`)."""
    error = ma.fields.Nested(ErrorBodySchema)
