"""The admin page's sign-in: a server-side session (an `auth_sessions` row of kind "admin") referenced by an
HttpOnly cookie, idle-expiring after ADMIN_IDLE_HOURS, revoked on sign-out or when the password changes;
and the CSRF token every POST carries (derived from the session, so nothing else is stored).

Only this cookie opens /admin/: an API token (an owner's or a staff member's) in an Authorization header
is never looked at here, and the cookie is refused as an API token (server/auth/services.py).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import Response, current_app, g, request
from sqlalchemy.orm import joinedload

from ..accounts.models import Staff
from ..auth import tokens
from ..auth.models import AuthSession
from ..auth.services import login_with_password
from ..extensions import db
from ..timeutil import as_utc, utcnow

COOKIE = "wuye_admin"
LOGIN_CSRF_COOKIE = "wuye_admin_login"  # double-submit token of the sign-in form (no session yet)
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often


@dataclass
class AdminSession:
    row: AuthSession
    staff: Staff

    @property
    def csrf_token(self) -> str:
        return csrf_for(self.row.id)


def csrf_for(session_id: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"admin-csrf:{session_id}".encode(), hashlib.sha256).hexdigest()


def _secure() -> bool:
    return current_app.config["ENV"] == "production"


def sign_in(phone: str, password: str) -> tuple[str, AdminSession]:
    """Check the password (with the per-account lock-out) and open a session; the caller commits."""
    cookie, row, staff = login_with_password(phone, password, kind="admin")
    return cookie, AdminSession(row, staff)


def sign_out(session: AdminSession) -> None:
    session.row.revoked_at = utcnow()


def current() -> AdminSession | None:
    """The signed-in member of staff of this request, from the cookie; None when absent, forged, revoked,
    idle too long, expired or the account is inactive. Cached per request."""
    if "admin_session" in g:
        return g.admin_session
    g.admin_session = _load()
    return g.admin_session


def _load() -> AdminSession | None:
    raw = request.cookies.get(COOKIE)
    sid = tokens.unsign(current_app.config["SECRET_KEY"], raw) if raw else None
    if not sid:
        return None
    row = db.session.get(AuthSession, sid, options=[joinedload(AuthSession.staff)])
    now = utcnow()
    if row is None or row.kind != "admin" or row.revoked_at is not None or as_utc(row.expires_at) <= now:
        return None
    idle = timedelta(hours=current_app.config["ADMIN_IDLE_HOURS"])
    seen = as_utc(row.last_seen_at or row.created_at)
    if seen + idle <= now:
        return None
    if row.staff is None or not row.staff.active:
        return None
    if now - seen >= TOUCH_EVERY:
        row.last_seen_at = now
        db.session.commit()
    return AdminSession(row, row.staff)


def set_cookie(response: Response, value: str) -> None:
    response.set_cookie(COOKIE, value, httponly=True, secure=_secure(), samesite="Lax", path="/admin")


def clear_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/admin", httponly=True, secure=_secure(), samesite="Lax")


def login_csrf() -> str:
    """The sign-in form's token: the cookie's value, or a new one (set by `remember_login_csrf`)."""
    if "login_csrf" not in g:
        g.login_csrf = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    return g.login_csrf


def remember_login_csrf(response: Response) -> None:
    response.set_cookie(LOGIN_CSRF_COOKIE, login_csrf(), httponly=True, secure=_secure(), samesite="Strict",
                        path="/admin")


def csrf_ok(session: AdminSession | None) -> bool:
    """A state-changing request carries the token of its session (the sign-in form: of its cookie)."""
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD) or ""
    if session is not None:
        expected = session.csrf_token
    else:
        expected = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    return bool(sent) and bool(expected) and hmac.compare_digest(sent, expected)
