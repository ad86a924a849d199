"""Logging with a request id that follows the work a request causes into the job logs."""
from __future__ import annotations

import contextvars
import logging
import re
import sys
import time
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
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)


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
