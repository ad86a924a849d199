"""Owner identity and house binding; staff review; staff records and their official-account binding."""
from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from werkzeug.security import generate_password_hash

from .. import ratelimit
from ..auth import access
from ..auth.services import set_password
from ..errors import Conflict, Forbidden, NotFound, UpstreamError, ValidationFailed
from ..extensions import db
from ..timeutil import utcnow
from ..wechat.client import WeChatError, miniprogram, official_account
from ..wechat import messages
from ..wechat.services import notify_owner, notify_staff
from . import rules
from .models import Building, Community, House, HouseMembership, OaBindingToken, Owner, RosterEntry, Staff

log = logging.getLogger(__name__)

LIVE = ("pending", "approved")


# -- owner -------------------------------------------------------------------------------------------

def my_memberships(owner: Owner) -> list[HouseMembership]:
    house = joinedload(HouseMembership.house)
    return list(db.session.scalars(
        select(HouseMembership).where(HouseMembership.owner_id == owner.id, HouseMembership.status != "unbound")
        .options(house.joinedload(House.building), house.joinedload(House.community))
        .order_by(HouseMembership.id)
    ))


def verify_phone(owner: Owner, code: str) -> Owner:
    try:
        result = miniprogram().phone_number(code)
    except WeChatError as err:
        if err.transient:
            raise UpstreamError() from err
        raise ValidationFailed("手机号授权无效或已过期，请重新授权", fields={"code": ["手机号授权码无效"]},
                               code="invalid_code") from err
    phone = (result.get("phone_info") or {}).get("purePhoneNumber")
    if not phone:
        raise UpstreamError("未能获取手机号，请稍后再试")
    owner.phone = phone
    owner.phone_verified_at = utcnow()
    # Requests that waited only for this verification are decided again now.
    for membership in db.session.scalars(select(HouseMembership).where(
            HouseMembership.owner_id == owner.id, HouseMembership.status == "pending")):
        decision = _decide(owner, membership.house, membership.name, membership.phone, membership.role)
        if decision.status == "approved":
            _approve(membership, reviewer=None)
        else:
            membership.pending_reason = decision.reason
    return owner


def find_house(community_code: str, building: str, unit: str, room: str) -> House:
    community = db.session.scalar(select(Community).where(Community.code == community_code))
    if community is None:
        raise ValidationFailed("小区不存在", fields={"community_code": ["小区不存在"]})
    house = db.session.scalar(
        select(House).join(Building)
        .where(Building.community_id == community.id, Building.code == building.strip(),
               House.unit == unit.strip(), House.room == room.strip())
    )
    if house is None:
        raise ValidationFailed("未找到该房屋，请核对楼栋、单元和房号", fields={"room": ["未找到该房屋"]})
    return house


def request_binding(owner: Owner, *, community_code: str, building: str, unit: str, room: str, name: str,
                    phone: str, role: str) -> HouseMembership:
    cfg = current_app.config
    ratelimit.hit("bind-owner", str(owner.id), cfg["RATE_BIND_OWNER"])
    ratelimit.hit("bind-ip", ratelimit.client_ip(), cfg["RATE_BIND_IP"])
    house = find_house(community_code, building, unit, room)
    membership = db.session.scalar(
        select(HouseMembership).where(HouseMembership.house_id == house.id, HouseMembership.owner_id == owner.id)
    )
    if membership is not None and membership.status == "approved":
        raise Conflict("您已绑定该房屋", code="already_bound")
    if membership is not None and membership.status == "pending":
        raise Conflict("已提交绑定申请，请等待物业审核", code="already_pending")

    decision = _decide(owner, house, name, phone, role)
    if membership is None:
        membership = HouseMembership(house=house, owner=owner)
        db.session.add(membership)
    membership.role, membership.name, membership.phone = role, rules.normalize_name(name), phone
    membership.status, membership.pending_reason = decision.status, decision.reason
    membership.reviewed_by_id = membership.reviewed_at = membership.reject_reason = None
    if not owner.name:
        owner.name = membership.name
    db.session.flush()
    if decision.status == "pending":
        _tell_reviewers(membership)
    return membership


def _decide(owner: Owner, house: House, name: str, phone: str, role: str) -> rules.BindingDecision:
    roster = [rules.RosterPerson(e.name, e.phone, e.role) for e in
              db.session.scalars(select(RosterEntry).where(RosterEntry.house_id == house.id))]
    return rules.decide_binding(
        name=name, phone=phone, role=role, roster=roster,
        verified_phone=owner.phone if owner.phone_verified_at else None,
        require_verified_phone=current_app.config["BINDING_REQUIRE_VERIFIED_PHONE"],
    )


def _tell_reviewers(membership: HouseMembership) -> None:
    reviewers = db.session.scalars(
        select(Staff).where(Staff.community_id == membership.house.community_id, Staff.active.is_(True),
                            Staff.on_duty.is_(True), Staff.role.in_(rules.REVIEWER_ROLES))
    )
    for staff in reviewers:
        notify_staff(staff, messages.binding_review(
            house=membership.house.label, applicant=f"{membership.name}（{rules.MEMBER_ROLES[membership.role]}）",
            at=membership.updated_at or utcnow(),
        ), page=f"pages/staff/bindings/index?id={membership.id}",
            dedupe_key=f"binding-review:{membership.id}:{staff.id}:{int(utcnow().timestamp())}")


def unbind(owner: Owner, membership_id: int) -> None:
    membership = _own_membership(owner, membership_id)
    membership.status = "unbound"


def _own_membership(owner: Owner, membership_id: int) -> HouseMembership:
    membership = db.session.get(HouseMembership, membership_id)
    if membership is None or membership.owner_id != owner.id or membership.status == "unbound":
        raise NotFound("未找到该房屋绑定")
    return membership


def _owner_of_house(owner: Owner, membership_id: int) -> HouseMembership:
    membership = _own_membership(owner, membership_id)
    if membership.status != "approved" or membership.role != "owner":
        raise Forbidden("只有已认证的业主可以管理家庭成员和租户", code="not_house_owner")
    return membership


def house_members(owner: Owner, membership_id: int) -> dict:
    mine = _owner_of_house(owner, membership_id)
    members = list(db.session.scalars(
        select(HouseMembership).where(HouseMembership.house_id == mine.house_id,
                                      HouseMembership.status.in_(LIVE)).order_by(HouseMembership.id)
    ))
    bound_phones = {m.phone for m in members}
    invited = [e for e in db.session.scalars(
        select(RosterEntry).where(RosterEntry.house_id == mine.house_id, RosterEntry.source == "owner")
        .order_by(RosterEntry.id)
    ) if e.phone not in bound_phones]
    return {"members": members, "invited": invited}


def add_member(owner: Owner, membership_id: int, *, name: str, phone: str, role: str) -> RosterEntry:
    """An approved owner registers a family member or tenant: their own binding request with this name and
    phone is then approved at once (or now, if it is already waiting)."""
    mine = _owner_of_house(owner, membership_id)
    name = rules.normalize_name(name)
    entry = db.session.scalar(select(RosterEntry).where(RosterEntry.house_id == mine.house_id,
                                                        RosterEntry.phone == phone))
    if entry is not None and entry.source == "roster":
        raise Conflict("该手机号已在业主名册中", code="already_registered")
    if entry is None:
        entry = RosterEntry(house_id=mine.house_id, phone=phone, source="owner")
        db.session.add(entry)
    entry.name, entry.role, entry.added_by_owner_id = name, role, owner.id
    waiting = db.session.scalar(
        select(HouseMembership).where(HouseMembership.house_id == mine.house_id, HouseMembership.phone == phone,
                                      HouseMembership.status == "pending")
    )
    db.session.flush()
    if waiting is not None and waiting.name == name and waiting.role == role:
        _approve(waiting, reviewer=None)
    return entry


def remove_member(owner: Owner, membership_id: int, member_id: int) -> None:
    mine = _owner_of_house(owner, membership_id)
    member = db.session.get(HouseMembership, member_id)
    if member is None or member.house_id != mine.house_id or member.status not in LIVE:
        raise NotFound("未找到该成员")
    if member.role == "owner":
        raise Forbidden("业主身份只能由物业解除", code="cannot_remove_owner")
    member.status = "unbound"
    entry = db.session.scalar(select(RosterEntry).where(RosterEntry.house_id == mine.house_id,
                                                        RosterEntry.phone == member.phone,
                                                        RosterEntry.source == "owner"))
    if entry is not None:
        db.session.delete(entry)


def remove_invitation(owner: Owner, membership_id: int, entry_id: int) -> None:
    mine = _owner_of_house(owner, membership_id)
    entry = db.session.get(RosterEntry, entry_id)
    if entry is None or entry.house_id != mine.house_id or entry.source != "owner":
        raise NotFound("未找到该登记")
    db.session.delete(entry)


# -- staff review --------------------------------------------------------------------------------------

def list_bindings(staff: Staff, status: str | None):
    access.require(staff, "review_bindings")
    stmt = (select(HouseMembership).join(House)
            .where(House.community_id == staff.community_id).order_by(HouseMembership.id.desc()))
    if status:
        stmt = stmt.where(HouseMembership.status == status)
    return stmt


def _scoped_membership(staff: Staff, membership_id: int) -> HouseMembership:
    access.require(staff, "review_bindings")
    return access.scoped(HouseMembership, membership_id, staff, "未找到该绑定申请",
                         community_of=lambda m: m.house.community_id)


def approve_binding(staff: Staff, membership_id: int) -> HouseMembership:
    membership = _scoped_membership(staff, membership_id)
    if membership.status != "pending":
        raise Conflict(f"该申请{rules.MEMBERSHIP_STATUSES[membership.status]}，不能再审核", code="not_pending")
    _approve(membership, reviewer=staff)
    # Staff have checked this person: they are on the roster from now on.
    exists = db.session.scalar(select(func.count()).select_from(RosterEntry).where(
        RosterEntry.house_id == membership.house_id, RosterEntry.phone == membership.phone))
    if not exists:
        db.session.add(RosterEntry(house_id=membership.house_id, name=membership.name, phone=membership.phone,
                                   role=membership.role, source="staff"))
    return membership


def _approve(membership: HouseMembership, reviewer: Staff | None) -> None:
    membership.status, membership.pending_reason = "approved", None
    membership.reviewed_by_id = reviewer.id if reviewer else None
    membership.reviewed_at = utcnow()
    _tell_owner(membership, "审核通过", "可以使用报修、缴费等服务")


def reject_binding(staff: Staff, membership_id: int, reason: str) -> HouseMembership:
    membership = _scoped_membership(staff, membership_id)
    if membership.status != "pending":
        raise Conflict(f"该申请{rules.MEMBERSHIP_STATUSES[membership.status]}，不能再审核", code="not_pending")
    membership.status, membership.reject_reason = "rejected", reason
    membership.reviewed_by_id, membership.reviewed_at = staff.id, utcnow()
    _tell_owner(membership, "未通过", reason)
    return membership


def _tell_owner(membership: HouseMembership, result: str, note: str) -> None:
    db.session.flush()
    notify_owner(membership.owner, messages.binding_result(
        house=membership.house.label, result=result, note=note, at=membership.reviewed_at,
    ), community_id=membership.house.community_id, page=f"pages/houses/index?id={membership.id}",
        dedupe_key=f"binding-result:{membership.id}:{int(membership.reviewed_at.timestamp() * 1000)}")


# -- staff records ---------------------------------------------------------------------------------------

def scoped_staff(actor: Staff, staff_id: int) -> Staff:
    return access.scoped(Staff, staff_id, actor, "未找到该员工")


def managed_staff(actor: Staff, staff_id: int) -> Staff:
    """A member of staff `actor` manages (managers: anyone of their community; supervisors: their own
    department's workers), else 404 (another community) or 403."""
    target = scoped_staff(actor, staff_id)
    access.require(actor, "manage_staff", target)
    return target


def create_staff(actor: Staff, data: dict) -> Staff:
    access.require(actor, "create_staff")
    if db.session.scalar(select(Staff).where(Staff.phone == data["phone"])):
        raise Conflict("该手机号已是员工账号", code="phone_taken")
    password = data.pop("password", None)
    staff = Staff(community_id=actor.community_id, **data)
    if password:
        staff.password_hash = generate_password_hash(password)
    db.session.add(staff)
    db.session.flush()
    return staff


def update_staff(actor: Staff, staff_id: int, data: dict, current_session=None) -> Staff:
    target = scoped_staff(actor, staff_id)
    self_service = set(data) <= {"on_duty"} and target.id == actor.id
    if not self_service:
        access.require(actor, "manage_staff", target)
    if set(data) - {"on_duty", "skills"} and not access.can(actor, "create_staff"):
        raise Forbidden("只有经理可以修改岗位、部门和账号", code="role_forbidden")
    if data.get("phone") and data["phone"] != target.phone and db.session.scalar(
            select(Staff.id).where(Staff.phone == data["phone"])):
        raise Conflict("该手机号已是员工账号", code="phone_taken")
    password = data.pop("password", None)
    if password:  # a reset ends that person's sessions (the caller's own, if it is theirs, stays)
        set_password(target, password, keep=current_session if target.id == actor.id else None)
    for key, value in data.items():
        setattr(target, key, value)
    return target


def unbind_oa(actor: Staff, staff_id: int) -> Staff:
    target = managed_staff(actor, staff_id)
    target.oa_openid = None
    return target


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


BIND_PREFIX = "bind:"


@dataclass(frozen=True)
class OaBindingCode:
    """A one-time binding code: the token (typed into the official account if no QR code could be made),
    WeChat's QR image (`qr_url`, its showqrcode address) and what that QR code holds (`qr_content`, the
    address WeChat returns with the ticket, from which a QR code may be drawn: the admin page does)."""
    row: OaBindingToken
    token: str
    qr_url: str | None
    qr_content: str | None

    @property
    def scene(self) -> str:
        return BIND_PREFIX + self.token


def create_oa_binding(actor: Staff, staff_id: int) -> OaBindingCode:
    """A one-time token, and the official account's QR code that carries it (scan -> bound)."""
    target = managed_staff(actor, staff_id)
    token = secrets.token_urlsafe(12)
    ttl = timedelta(days=1)
    row = OaBindingToken(staff_id=target.id, token_hash=_token_hash(token), created_by_id=actor.id,
                         expires_at=utcnow() + ttl)
    qr_url = qr_content = None
    try:
        result = official_account().create_qrcode(BIND_PREFIX + token, int(ttl.total_seconds()))
        row.qr_ticket = result.get("ticket")
        qr_url = current_app.config["WECHAT_API_BASE"] + "cgi-bin/showqrcode?ticket=" + quote(row.qr_ticket or "")
        qr_content = result.get("url")
    except WeChatError as err:
        # The token still works if typed into the official account; the QR code can be made again.
        log.warning("QR code for staff binding not created: %s", err)
    db.session.add(row)
    db.session.flush()
    return OaBindingCode(row, token, qr_url, qr_content)


def consume_oa_binding(token: str, oa_openid: str) -> tuple[Staff | None, str]:
    """The worker scanned the QR code (or sent the token) in the official account. Returns (staff, reply)."""
    row = db.session.scalar(select(OaBindingToken).where(OaBindingToken.token_hash == _token_hash(token)))
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None, "绑定码无效或已过期，请联系主管重新生成。"
    other = db.session.scalar(select(Staff).where(Staff.oa_openid == oa_openid, Staff.id != row.staff_id))
    if other is not None:
        return None, f"该微信已绑定员工{other.name}，请先解绑。"
    row.used_at, row.used_openid = utcnow(), oa_openid
    row.staff.oa_openid = oa_openid
    staff = row.staff
    return staff, f"绑定成功：{staff.name}（{rules.DEPARTMENTS.get(staff.department, '')}）。工单将推送到这里。"
