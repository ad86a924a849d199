"""Pure account rules: vocabularies with Chinese labels, house labels, the binding decision.

No Flask, no database: unit-tested directly.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

DEPARTMENTS = {
    "service_center": "服务中心",
    "engineering": "工程部",
    "cleaning": "保洁部",
    "finance": "财务部",
    "management": "管理处",
}
ROLES = {
    "receptionist": "接待员",
    "cashier": "收费员",
    "manager": "经理",
    "supervisor": "主管",
    "worker": "员工",
}
MEMBER_ROLES = {"owner": "业主", "family": "家庭成员", "tenant": "租户"}
MEMBERSHIP_STATUSES = {"pending": "待审核", "approved": "已通过", "rejected": "未通过", "unbound": "已解绑"}

# Staff who review house bindings and manage the community's people.
REVIEWER_ROLES = {"receptionist", "manager"}

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")


def valid_phone(phone: str) -> bool:
    """Mainland mobile number, 11 digits."""
    return bool(PHONE_RE.match(phone or ""))


def normalize_name(name: str) -> str:
    """Names compare without surrounding or inner spaces (张 三 == 张三)."""
    return re.sub(r"\s+", "", name or "")


def house_label(building: str, unit: str, room: str) -> str:
    return f"{building}栋{unit}单元{room}"


def default_business_hours() -> dict:
    """Service center open 08:30-18:00 every day (ISO weekday keys as strings for JSON)."""
    return {str(day): ["08:30", "18:00"] for day in range(1, 8)}


@dataclass(frozen=True)
class RosterPerson:
    name: str
    phone: str
    role: str


@dataclass(frozen=True)
class BindingDecision:
    status: str  # approved | pending
    reason: str | None  # why it waits for review, for staff


def decide_binding(
    *,
    name: str,
    phone: str,
    role: str,
    roster: list[RosterPerson],
    verified_phone: str | None,
    require_verified_phone: bool,
) -> BindingDecision:
    """Approve at once when the roster of that house lists this name, phone and role (and, when required,
    the phone is the caller's WeChat-verified number); otherwise the request waits for staff review."""
    match = next((p for p in roster if p.phone == phone and normalize_name(p.name) == normalize_name(name)), None)
    if match is None:
        if any(p.phone == phone for p in roster):
            return BindingDecision("pending", "姓名与登记信息不符")
        return BindingDecision("pending", "未在业主名册中")
    if match.role != role:
        return BindingDecision("pending", f"名册登记身份为{MEMBER_ROLES.get(match.role, match.role)}")
    if require_verified_phone and verified_phone != phone:
        return BindingDecision("pending", "手机号未经微信验证")
    return BindingDecision("approved", None)

