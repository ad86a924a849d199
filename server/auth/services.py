"""Sign-in (mini-program code or admin password), tokens, sign-out, and who is calling."""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, g, request
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from .. import ratelimit
from ..accounts.models import Owner, Staff
from ..errors import Forbidden, TooManyRequests, Unauthorized, UpstreamError, ValidationFailed
from ..extensions import db
from ..timeutil import as_utc, utcnow
from ..wechat.client import WeChatError, miniprogram
from . import tokens
from .models import AuthSession

log = logging.getLogger(__name__)


@dataclass
class Identity:
    session: AuthSession
    owner: Owner | None
    staff: Staff | None


def _issue(kind: str, *, owner: Owner | None = None, staff: Staff | None = None,
           session_key: str | None = None) -> tuple[str, AuthSession]:
    now = utcnow()
    session = AuthSession(
        id=secrets.token_hex(16), kind=kind, owner_id=owner.id if owner else None,
        staff_id=staff.id if staff else None, session_key=session_key, ip=ratelimit.client_ip(),
        created_at=now, expires_at=now + timedelta(seconds=current_app.config["TOKEN_TTL"]),
    )
    db.session.add(session)
    return tokens.sign(current_app.config["SECRET_KEY"], session.id), session


def login_with_code(code: str) -> tuple[str, AuthSession, Owner, Staff | None]:
    """code2Session -> the owner (created on first login) and, if this openid is a staff member's, the staff."""
    cfg = current_app.config
    ratelimit.hit("login-ip", ratelimit.client_ip(), cfg["RATE_LOGIN_IP"])
    try:
        result = miniprogram().code_to_session(code)
    except WeChatError as err:
        if err.transient:
            raise UpstreamError() from err
        raise ValidationFailed("登录凭证无效或已过期，请重新进入小程序",
                               fields={"code": ["登录凭证无效或已过期"]}, code="invalid_code") from err
    openid = result.get("openid") if isinstance(result, dict) else None
    if not openid:
        raise UpstreamError("微信登录失败，请稍后再试")
    ratelimit.hit("login-openid", openid, cfg["RATE_LOGIN_OPENID"])

    owner = db.session.scalar(select(Owner).where(Owner.openid == openid))
    if owner is None:
        owner = Owner(openid=openid)
        db.session.add(owner)
    if result.get("unionid"):
        owner.unionid = result["unionid"]
    owner.last_login_at = utcnow()
    db.session.flush()
    staff = db.session.scalar(select(Staff).where(Staff.mp_openid == openid, Staff.active.is_(True)))
    token, session = _issue("mp", owner=owner, staff=staff, session_key=result.get("session_key"))
    return token, session, owner, staff


def login_with_password(phone: str, password: str, kind: str = "password") -> tuple[str, AuthSession, Staff]:
    """A staff member's phone and password -> a session (`password`: an API token; `admin`: the admin
    page's cookie). After LOGIN_LOCK_ATTEMPTS wrong passwords in a row the account waits LOGIN_LOCK_MINUTES,
    whichever IP the attempts come from; while it waits, even the right password is refused.

    A wrong password is committed here (the caller's transaction is rolled back by the error)."""
    cfg = current_app.config
    ratelimit.hit("staff-login-ip", ratelimit.client_ip(), cfg["RATE_STAFF_LOGIN_IP"])
    staff = db.session.scalar(select(Staff).where(Staff.phone == phone).with_for_update())
    now = utcnow()
    if staff is not None and staff.locked_until is not None and as_utc(staff.locked_until) > now:
        db.session.rollback()
        raise _locked(staff.locked_until, now)
    if not staff or not staff.password_hash or not check_password_hash(staff.password_hash, password):
        if staff is not None:
            staff.failed_logins = (staff.failed_logins or 0) + 1
            locked = staff.failed_logins >= cfg["LOGIN_LOCK_ATTEMPTS"]
            if locked:
                staff.failed_logins, staff.locked_until = 0, now + timedelta(minutes=cfg["LOGIN_LOCK_MINUTES"])
            db.session.commit()
            if locked:
                log.warning("staff %s: locked for %d minutes after wrong passwords", staff.id,
                            cfg["LOGIN_LOCK_MINUTES"])
                raise _locked(staff.locked_until, now)
        raise Unauthorized("手机号或密码错误", code="bad_credentials")
    if not staff.active:
        raise Forbidden("该员工账号已停用", code="staff_inactive")
    staff.failed_logins, staff.locked_until = 0, None
    token, session = _issue(kind, staff=staff)
    session.last_seen_at = now
    return token, session, staff


def _locked(until, now) -> TooManyRequests:
    wait = max(1, int((as_utc(until) - now).total_seconds()))
    minutes = (wait + 59) // 60
    return TooManyRequests(f"密码错误次数过多，请 {minutes} 分钟后再试", code="account_locked",
                           headers={"Retry-After": str(wait)})


def end_staff_sessions(staff: Staff, *, keep: AuthSession | None = None) -> int:
    """Revoke every session of a member of staff (API tokens and admin cookies alike) but `keep`: after a
    password change or reset, whoever held the old password is signed out everywhere."""
    stmt = update(AuthSession).where(AuthSession.staff_id == staff.id, AuthSession.revoked_at.is_(None))
    if keep is not None:
        stmt = stmt.where(AuthSession.id != keep.id)
    return db.session.execute(stmt.values(revoked_at=utcnow()).execution_options(synchronize_session=False)).rowcount


def change_password(staff: Staff, current: str, new: str, *, keep: AuthSession | None = None) -> None:
    """A member of staff changes their own password: the current one first; their other sessions end."""
    if not staff.password_hash or not check_password_hash(staff.password_hash, current):
        raise ValidationFailed("当前密码不正确", fields={"current_password": ["当前密码不正确"]},
                               code="bad_credentials")
    if current == new:
        raise ValidationFailed("新密码不能与当前密码相同", fields={"new_password": ["新密码不能与当前密码相同"]})
    set_password(staff, new, keep=keep)


def set_password(staff: Staff, password: str, *, keep: AuthSession | None = None) -> None:
    """The one way a password changes: hashed, any lock-out lifted, every other session ended."""
    staff.password_hash = generate_password_hash(password)
    staff.failed_logins, staff.locked_until = 0, None
    end_staff_sessions(staff, keep=keep)


def logout(identity: Identity) -> None:
    identity.session.revoked_at = utcnow()


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def current_identity() -> Identity:
    """The caller, from the Bearer token; 401 when missing, forged, expired or revoked. Cached per request."""
    if "identity" in g:
        return g.identity
    token = _bearer()
    if not token:
        raise Unauthorized("请先登录", code="token_missing")
    sid = tokens.unsign(current_app.config["SECRET_KEY"], token)
    # One query for the session and both identities: this runs on every authenticated request.
    session = db.session.get(AuthSession, sid, options=[joinedload(AuthSession.owner), joinedload(AuthSession.staff)]) \
        if sid else None
    if session is None or session.kind == "admin":  # the admin page's cookie is not an API token
        raise Unauthorized("登录凭证无效，请重新登录", code="token_invalid")
    if session.revoked_at is not None:
        raise Unauthorized("已退出登录，请重新登录", code="token_revoked")
    if as_utc(session.expires_at) <= utcnow():
        raise Unauthorized("登录已过期，请重新登录", code="token_expired")
    g.identity = Identity(session=session, owner=session.owner, staff=session.staff)
    return g.identity


def require_owner() -> Owner:
    identity = current_identity()
    if identity.owner is None:
        raise Forbidden("请使用小程序登录", code="owner_only")
    return identity.owner


def require_staff() -> Staff:
    """The calling member of staff (active); what they may do is server/auth/access.py's business."""
    identity = current_identity()
    staff = identity.staff
    if staff is None:
        raise Forbidden("仅限物业员工使用", code="staff_only")
    if not staff.active:
        raise Forbidden("该员工账号已停用", code="staff_inactive")
    return staff
