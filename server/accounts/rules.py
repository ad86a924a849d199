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

# Who may do what, by role (plus the finance department): the one table the services check and the
# clients read (StaffOut.permissions), so the mini-program and admin page offer only what will work.
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "review_bindings": frozenset({"receptionist", "manager"}),
    "desk": frozenset({"receptionist", "manager"}),  # register, cancel and call back work orders
    "assign": frozenset({"receptionist", "manager", "supervisor"}),  # supervisors: their department
    "collect_payments": frozenset({"cashier", "receptionist", "manager"}),
    "view_takings": frozenset({"cashier", "manager"}),
    "receive_takings": frozenset({"manager"}),
    "reports": frozenset({"manager"}),
    "manage_catalog": frozenset({"manager"}),
    "manage_staff": frozenset({"manager", "supervisor"}),  # supervisors: the workers of their department
    "audit_messages": frozenset({"manager"}),
    "publish_notices": frozenset({"receptionist", "manager"}),
    "surveys": frozenset({"receptionist", "manager"}),  # monthly satisfaction survey and answers to opinions
    "common_problems": frozenset({"receptionist", "manager"}),  # see them; answering is publish_notices
    "complaint_report": frozenset({"manager"}),
    # Fees: take offline payments at the desk (receptionists too where Community.reception_collects_fees:
    # see can_collect_fees), administer fee items / meters / one-off charges, chase arrears (催收).
    "collect_fees": frozenset({"cashier", "manager"}),
    "manage_fees": frozenset({"manager"}),
    "dunning": frozenset({"cashier", "receptionist", "manager"}),
}
FINANCE_PERMISSIONS = frozenset({"view_takings", "receive_takings", "reports"})
REVIEWER_ROLES = ROLE_PERMISSIONS["review_bindings"]
DESK_ROLES = ROLE_PERMISSIONS["desk"]


def can(role: str, department: str, permission: str) -> bool:
    return role in ROLE_PERMISSIONS[permission] or (department == "finance" and permission in FINANCE_PERMISSIONS)


def permissions(role: str, department: str, reception_collects_fees: bool = False) -> list[str]:
    granted = [name for name in ROLE_PERMISSIONS if can(role, department, name)]
    if "collect_fees" not in granted and can_collect_fees(role, department, reception_collects_fees):
        granted.append("collect_fees")
    return granted


def can_collect_fees(role: str, department: str, reception_collects_fees: bool) -> bool:
    """Cashiers and managers take fee payments; receptionists only where the community lets them."""
    return can(role, department, "collect_fees") or (role == "receptionist" and reception_collects_fees)


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
    if require_verified_phone and verified_phone is None:
        return BindingDecision("pending", "手机号未经微信验证")
    if require_verified_phone and verified_phone != phone:
        return BindingDecision("pending", "与微信验证的手机号不一致")
    return BindingDecision("approved", None)

