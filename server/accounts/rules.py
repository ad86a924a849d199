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
# What a worker can be sent to do (dispatch matches a repair category's or a service item's skill against
# Staff.skills), by department.
SKILLS = {
    "water": ("给排水", "engineering"),
    "electricity": ("电路电器", "engineering"),
    "doors_windows": ("门窗锁具", "engineering"),
    "cleaning": ("保洁", "cleaning"),
    "greening": ("绿化", "cleaning"),
}
MEMBER_ROLES = {"owner": "业主", "family": "家庭成员", "tenant": "租户"}
MEMBERSHIP_STATUSES = {"pending": "待审核", "approved": "已通过", "rejected": "未通过", "unbound": "已解绑"}

@dataclass(frozen=True)
class Permission:
    roles: frozenset[str]
    refusal: str  # the Chinese message a refused caller reads (the same in the API and the admin page)
    finance: bool = False  # the finance department has it, whatever the role
    reception_fees: bool = False  # receptionists have it where Community.reception_collects_fees
    department: bool = False  # supervisors: only for records of their own department


def _p(roles: str, refusal: str, **flags: bool) -> Permission:
    return Permission(frozenset(roles.split()), refusal, **flags)


# Who may do what, by role (plus the finance department and one community switch): the one table that
# routes (@requires), services (can / require in server/auth/access.py) and clients (StaffOut.permissions,
# so the mini-program and the admin page offer only what will work) all read.
PERMISSIONS: dict[str, Permission] = {
    "review_bindings": _p("receptionist manager", "只有接待员和经理可以审核房屋绑定"),
    # find a house by its number, a resident's name or phone (calls, surveys, fees at the desk)
    "find_houses": _p("receptionist cashier manager", "只有服务中心员工可以查找房屋", finance=True),
    # register, cancel and call back work orders; answer complaints as the first receiver (首问责任人)
    "desk": _p("receptionist manager", "只有服务中心接待员或经理可以办理"),
    "assign": _p("receptionist manager supervisor", "只有接待员、经理和本部门主管可以派单", department=True),
    # paid-service money taken on site (the worker who did the job may too: see workorders)
    "collect_payments": _p("cashier receptionist manager", "只有收费员、接待员、经理或上门员工可以登记收款"),
    "view_takings": _p("cashier manager", "只有财务、收费员和经理可以查看交款", finance=True),
    "receive_takings": _p("manager", "只有财务或经理可以确认收到交款", finance=True),
    "reports": _p("manager", "只有经理和财务可以查看报表", finance=True),
    "manage_catalog": _p("manager", "只有经理可以维护服务目录"),
    "create_staff": _p("manager", "只有经理可以添加员工"),
    "import_roster": _p("manager", "只有经理可以导入业主名册"),
    # business hours, holidays and make-up working days: every clock counts on them
    "manage_calendar": _p("manager", "只有经理可以设置营业时间与节假日"),
    # supervisors: the workers of their own department (on duty, skills), not roles or accounts
    "manage_staff": _p("manager supervisor", "没有权限管理该员工", department=True),
    "audit_messages": _p("manager", "只有经理可以查看消息记录"),
    "publish_notices": _p("receptionist manager", "只有接待员和经理可以发布通知"),
    "surveys": _p("receptionist manager", "只有接待员和经理可以登记满意度调查"),  # and answer opinions
    "common_problems": _p("receptionist manager", "只有接待员和经理可以查看常见问题"),  # answering: publish_notices
    "complaint_report": _p("manager", "只有经理可以查看投诉月报"),
    # mark important, decide the corrective action, approve incident reports
    "manage_complaints": _p("manager", "只有经理可以进行此操作"),
    # Fees: take offline payments at the desk, administer fee items / meters / one-off charges, chase arrears
    "collect_fees": _p("cashier manager", "只有收费员或经理可以收取物业费", reception_fees=True),
    "view_payments": _p("cashier manager", "只有收费员、财务或经理可以查看缴费记录", finance=True, reception_fees=True),
    "view_bills": _p("cashier receptionist manager", "只有服务中心和财务可以查看账单与欠费", finance=True),
    "manage_fees": _p("manager", "只有经理可以管理收费项目"),
    "dunning": _p("cashier receptionist manager", "只有收费员、接待员或经理可以催收"),
    "request_refunds": _p("cashier receptionist manager", "只有收费员、接待员、财务或经理可以申请退款", finance=True),
    "approve_refunds": _p("manager", "退款须经理审批"),
}
REVIEWER_ROLES = PERMISSIONS["review_bindings"].roles
DESK_ROLES = PERMISSIONS["desk"].roles


def can(role: str, department: str, permission: str, *, reception_collects_fees: bool = False) -> bool:
    """May a member of staff with this role and department do `permission` at all (record scope aside)?"""
    rule = PERMISSIONS[permission]
    return (role in rule.roles or (rule.finance and department == "finance")
            or (rule.reception_fees and reception_collects_fees and role == "receptionist"))


def in_scope(role: str, department: str, permission: str, record_department: str | None,
             record_role: str | None = None) -> bool:
    """Record scope: supervisors act only on their own department's records where the rule says so (of
    staff records, only on the workers of their department)."""
    if not (PERMISSIONS[permission].department and role == "supervisor"):
        return True
    return record_department == department and record_role in (None, "worker")


def permissions(role: str, department: str, reception_collects_fees: bool = False) -> list[str]:
    return [name for name in PERMISSIONS
            if can(role, department, name, reception_collects_fees=reception_collects_fees)]


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

