"""Who may call which part of the API, checked before the request body is even parsed: an owner
never learns the shape of a staff endpoint (401/403, never 422), and a role check runs first too."""
from __future__ import annotations

from flask import Flask, request

from .services import require_owner, require_staff

OWNER_PREFIXES = ("/api/v1/me", "/api/v1/work-orders", "/api/v1/notices", "/api/v1/bills", "/api/v1/payments")
STAFF_PREFIX = "/api/v1/staff/"


def init_guard(app: Flask) -> None:
    @app.before_request
    def _guard() -> None:
        path = request.path
        if path.startswith(STAFF_PREFIX):
            require_staff()
        elif path.startswith(OWNER_PREFIXES):
            require_owner()
