"""Authorization, one API for every front end (the JSON API, the admin page, jobs):

- `@requires("permission")` on a route: the caller is active staff holding that permission, checked before
  the request body is parsed (put it above `@blp.arguments`);
- `can(staff, "permission", record)` / `require(...)` in services: the same check, plus the record's
  scope (same community; supervisors only their department's records where the rule says so);
- `scoped(Model, id, staff)`: load a record of the caller's community, or 404 (another community's
  record is "not found", never "forbidden": its existence is not revealed).

All of them read the one table, `server/accounts/rules.py` `PERMISSIONS`.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from ..accounts import rules
from ..accounts.models import Staff
from ..errors import Forbidden, NotFound
from ..extensions import db
from .services import require_staff

T = TypeVar("T")
MAX_ID = 2**31 - 1  # ids are PostgreSQL integers: a larger one names nothing

RECEPTION_FEES_REFUSAL = "本小区未开放接待员收取物业费，请由收费员办理"


def _community_id(record: Any) -> int | None:
    return getattr(record, "community_id", None)


def _reception_collects_fees(staff: Staff, permission: str) -> bool:
    # Read the community only for the permissions that depend on its switch.
    return rules.PERMISSIONS[permission].reception_fees and staff.role == "receptionist" \
        and bool(staff.community.reception_collects_fees)


def can(staff: Staff | None, permission: str, record: Any = None) -> bool:
    """May `staff` do `permission` (on `record`, when given)?"""
    if staff is None or not staff.active:
        return False
    if not rules.can(staff.role, staff.department, permission,
                     reception_collects_fees=_reception_collects_fees(staff, permission)):
        return False
    if record is None:
        return True
    if _community_id(record) is not None and _community_id(record) != staff.community_id:
        return False
    return rules.in_scope(staff.role, staff.department, permission, getattr(record, "department", None),
                          record_role=record.role if isinstance(record, Staff) else None)


def refusal(staff: Staff, permission: str) -> Forbidden:
    rule = rules.PERMISSIONS[permission]
    if rule.reception_fees and staff.role == "receptionist" and rules.can(
            staff.role, staff.department, permission, reception_collects_fees=True):
        return Forbidden(RECEPTION_FEES_REFUSAL, code="reception_not_allowed")
    return Forbidden(rule.refusal, code="role_forbidden")


def refused(staff: Staff, permission: str, record: Any = None) -> Forbidden | None:
    """The 403 to give when `staff` may not do `permission` (on `record`), else None: for services that
    tell a page which actions to offer with the same checks they raise."""
    return None if can(staff, permission, record) else refusal(staff, permission)


def require(staff: Staff, permission: str, record: Any = None) -> Staff:
    """`can`, or 403 with the table's Chinese message."""
    if error := refused(staff, permission, record):
        raise error
    return staff


def require_any(staff: Staff, *permissions: str) -> Staff:
    if not any(can(staff, p) for p in permissions):
        raise refusal(staff, permissions[0])
    return staff


def requires(*permissions: str) -> Callable[[T], T]:
    """Route decorator: active staff holding any of `permissions` (before the body is parsed)."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            require_any(require_staff(), *permissions)
            return view(*args, **kwargs)

        wrapper.permissions = permissions  # type: ignore[attr-defined]  # for the admin page and tests
        return wrapper

    return decorate


def valid_id(record_id: Any) -> bool:
    return isinstance(record_id, int) and 0 < record_id <= MAX_ID


def scoped(model: type[T], record_id: Any, staff: Staff, message: str = "未找到该记录", *,
           community_of: Callable[[T], int] = _community_id, for_update: bool = False) -> T:
    """The record `record_id` of the caller's community, or 404."""
    record = db.session.get(model, record_id, with_for_update=for_update) if valid_id(record_id) else None
    if record is None or community_of(record) != staff.community_id:
        raise NotFound(message)
    return record
