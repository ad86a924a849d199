"""Logging with a request id that follows the work a request causes into the job logs.

Tracebacks are logged without what the exceptions say: a message may quote an owner's name or phone number
(an f-string in our code, a value in the database's error, a bound parameter in SQLAlchemy's), and logs are
kept and read far more widely than the database. Each exception in the chain is given by its type, where it
was raised (file, line, function, source line) and, for database errors, the SQL statement without its
values and the constraint, table and column involved (`safe_traceback`). The engine hides parameters too
(`hide_parameters`, server/app.py).
"""
from __future__ import annotations

import contextvars
import logging
import re
import sys
import time
import traceback
import uuid

from flask import Flask, g, request

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


def configure_logging(level: str = "INFO") -> None:
    """Install one stderr handler on the root logger (once per process)."""
    root = logging.getLogger()
    root.setLevel(level.upper())
    for handler in root.handlers:
        if getattr(handler, "_wuye", False):
            return
    handler = logging.StreamHandler(sys.stderr)
    handler._wuye = True  # type: ignore[attr-defined]
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(SafeFormatter(FORMAT))
    root.addHandler(handler)


class SafeFormatter(logging.Formatter):
    """Every traceback logged through our handler (log.exception anywhere) as `safe_traceback`."""

    def format(self, record: logging.LogRecord) -> str:
        record.exc_text = None  # another handler may have cached the full text on the record
        try:
            return super().format(record)
        finally:
            record.exc_text = None

    def formatException(self, ei) -> str:
        return safe_traceback(ei[1]) if ei and ei[1] is not None else ""


def describe(exc: BaseException) -> str:
    """An exception without its message: its type, and for database errors what carries no values (the SQL
    text with placeholders, SQLSTATE, constraint, table, column)."""
    kind = type(exc)
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    details = []
    statement = getattr(exc, "statement", None)  # sqlalchemy.exc.StatementError
    if isinstance(statement, str):
        details.append("SQL: " + " ".join(statement.split())[:500])
    diag = getattr(exc, "diag", None)  # psycopg errors
    for field in ("sqlstate", "constraint_name", "table_name", "column_name"):
        value = getattr(diag, field, None) if diag is not None else None
        if value:
            details.append(f"{field}={value}")
    return f"{name} (message withheld{'; ' + '; '.join(details) if details else ''})"


def safe_traceback(exc: BaseException) -> str:
    """Like traceback.format_exception, causes and contexts included, but every exception by `describe`."""
    chain: list[tuple[BaseException, str | None]] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    link = None
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, link))
        if current.__cause__ is not None:
            current, link = current.__cause__, "The above exception was the direct cause of the following exception:"
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = current.__context__, "During handling of the above exception, another exception occurred:"
        else:
            current = None
    lines: list[str] = []
    for error, link in reversed(chain):
        lines.append("Traceback (most recent call last):")
        for frame in traceback.extract_tb(error.__traceback__):
            lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
            if frame.line:
                lines.append(f"    {frame.line.strip()}")
        lines.append(describe(error))
        if link:
            lines += ["", link, ""]
    return "\n".join(lines)


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


def init_request_logging(app: Flask) -> None:
    access = logging.getLogger("wuye.access")

    @app.before_request
    def _start() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming if _VALID_ID.match(incoming) else new_request_id()
        g.request_id = rid
        g.request_started = time.perf_counter()
        g.request_id_token = request_id_var.set(rid)

    @app.after_request
    def _finish(response):
        rid = g.get("request_id")
        if rid:
            response.headers["X-Request-ID"] = rid
            elapsed = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
            # Path only: query strings and headers may carry codes or tokens.
            access.info("%s %s %s %.1fms", request.method, request.path, response.status_code, elapsed)
        return response

    @app.teardown_request
    def _reset(_exc) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            request_id_var.reset(token)


def current_request_id() -> str | None:
    rid = request_id_var.get()
    return None if rid == "-" else rid
