"""Request and response schemas for owners, houses, memberships and staff."""
from __future__ import annotations

import marshmallow as ma
from flask_smorest.fields import Upload as UploadField
from marshmallow import validate

from ..schemas import DecimalText, Int, LocalDateTime, PageArgs, Phone, Text, mask_phone, page_of
from . import rules

MemberRole = ma.fields.String(required=True, validate=validate.OneOf(list(rules.MEMBER_ROLES)))


class CommunityOut(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()


class HouseOut(ma.Schema):
    id = Int()
    community = ma.fields.Nested(CommunityOut)
    building = ma.fields.Function(lambda h: h.building.code)
    unit = ma.fields.String()
    room = ma.fields.String()
    floor = Int(allow_none=True)
    area_m2 = DecimalText(allow_none=True)
    label = ma.fields.String()


class MembershipOut(ma.Schema):
    id = Int()
    house = ma.fields.Nested(HouseOut)
    role = ma.fields.String()
    role_label = ma.fields.Function(lambda m: rules.MEMBER_ROLES[m.role])
    status = ma.fields.String()
    status_label = ma.fields.Function(lambda m: rules.MEMBERSHIP_STATUSES[m.status])
    name = ma.fields.String()
    pending_reason = ma.fields.String(allow_none=True)
    reject_reason = ma.fields.String(allow_none=True)
    created_at = LocalDateTime()
    reviewed_at = LocalDateTime(allow_none=True)


class OwnerOut(ma.Schema):
    id = Int()
    name = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True)
    phone_verified = ma.fields.Function(lambda o: o.phone_verified_at is not None)


class StaffOut(ma.Schema):
    id = Int()
    name = ma.fields.String()
    phone = ma.fields.String()
    community = ma.fields.Nested(CommunityOut)
    department = ma.fields.String()
    department_label = ma.fields.Function(lambda s: rules.DEPARTMENTS[s.department])
    role = ma.fields.String()
    role_label = ma.fields.Function(lambda s: rules.ROLES[s.role])
    skills = ma.fields.List(ma.fields.String())
    on_duty = ma.fields.Boolean()
    active = ma.fields.Boolean()
    permissions = ma.fields.Function(lambda s: rules.permissions(s.role, s.department,
                                                                 s.community.reception_collects_fees),
                                     metadata={"description": "本人可用的功能：review_bindings、desk、assign…"})
    mp_bound = ma.fields.Function(lambda s: bool(s.mp_openid))
    oa_bound = ma.fields.Function(lambda s: bool(s.oa_openid))


class MeOut(ma.Schema):
    user = ma.fields.Nested(OwnerOut)
    houses = ma.fields.List(ma.fields.Nested(MembershipOut))
    staff = ma.fields.Nested(StaffOut, allow_none=True)


class PhoneIn(ma.Schema):
    code = Text(128, required=True, min_length=1, metadata={"description": "getPhoneNumber 按钮返回的 code"})


class BindIn(ma.Schema):
    community_code = Text(32, required=True, min_length=1)
    building = Text(20, required=True, min_length=1)
    unit = Text(10, required=True, min_length=1)
    room = Text(10, required=True, min_length=1)
    name = Text(50, required=True, min_length=1)
    phone = Phone(required=True)
    role = MemberRole


class MemberIn(ma.Schema):
    name = Text(50, required=True, min_length=1)
    phone = Phone(required=True)
    role = ma.fields.String(required=True, validate=validate.OneOf(["family", "tenant"]))


class MemberOut(MembershipOut):
    phone = ma.fields.Function(lambda m: mask_phone(m.phone))


class InvitationOut(ma.Schema):
    id = Int()
    name = ma.fields.String()
    phone = ma.fields.Function(lambda e: mask_phone(e.phone))
    role = ma.fields.String()
    role_label = ma.fields.Function(lambda e: rules.MEMBER_ROLES[e.role])


class MembersOut(ma.Schema):
    members = ma.fields.List(ma.fields.Nested(MemberOut))
    invited = ma.fields.List(ma.fields.Nested(InvitationOut))


# -- staff side --------------------------------------------------------------------------------------

class BindingArgs(PageArgs):
    status = ma.fields.String(validate=validate.OneOf(list(rules.MEMBERSHIP_STATUSES)))


class ReviewerOut(ma.Schema):
    id = Int()
    name = ma.fields.String()


class BindingOut(MembershipOut):
    phone = ma.fields.String()
    phone_verified = ma.fields.Function(
        lambda m: m.owner.phone_verified_at is not None and m.owner.phone == m.phone)
    reviewed_by = ma.fields.Nested(ReviewerOut, allow_none=True)


BindingPage = page_of(BindingOut, "BindingPage")


class RejectIn(ma.Schema):
    reason = Text(200, required=True, min_length=1)


class StaffCreateIn(ma.Schema):
    name = Text(50, required=True, min_length=1)
    phone = Phone(required=True)
    department = ma.fields.String(required=True, validate=validate.OneOf(list(rules.DEPARTMENTS)))
    role = ma.fields.String(required=True, validate=validate.OneOf(list(rules.ROLES)))
    skills = ma.fields.List(Text(20, min_length=1), load_default=list, validate=validate.Length(max=20))
    on_duty = ma.fields.Boolean(load_default=False)
    mp_openid = Text(64, allow_none=True, load_default=None)
    password = Text(64, min_length=8, load_only=True)


class StaffUpdateIn(ma.Schema):
    name = Text(50, min_length=1)
    phone = Phone()
    department = ma.fields.String(validate=validate.OneOf(list(rules.DEPARTMENTS)))
    role = ma.fields.String(validate=validate.OneOf(list(rules.ROLES)))
    skills = ma.fields.List(Text(20, min_length=1), validate=validate.Length(max=20))
    on_duty = ma.fields.Boolean()
    active = ma.fields.Boolean()
    mp_openid = Text(64, allow_none=True)
    password = Text(64, min_length=8, load_only=True)


class StaffArgs(ma.Schema):
    department = ma.fields.String(validate=validate.OneOf(list(rules.DEPARTMENTS)))
    on_duty = ma.fields.Boolean()


class OaBindingOut(ma.Schema):
    token = ma.fields.String(metadata={"description": "一次性绑定码（24 小时内有效）"})
    scene = ma.fields.String(metadata={"description": "二维码场景值 bind:<token>"})
    qr_url = ma.fields.String(allow_none=True, metadata={"description": "公众号带参二维码图片地址"})
    qr_content = ma.fields.String(allow_none=True, metadata={
        "description": "二维码的内容（微信返回的 url），可据此自行生成二维码图片"})
    expires_at = LocalDateTime()


class BuildingOut(ma.Schema):
    id = Int()
    code = ma.fields.String(metadata={"description": "楼栋编号，通知范围等处使用"})
    name = ma.fields.String()




# -- roster import ---------------------------------------------------------------------------------------

class RosterImportArgs(ma.Schema):
    dry_run = ma.fields.Boolean(load_default=False, metadata={
        "description": "只检查并报告（预览），不写入；文件保留 1 小时，返回 preview_id"})
    preview_id = Text(64, load_default=None, metadata={"description": "导入此前预览过的文件（不再上传 file）"})


class RosterFileIn(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    file = UploadField(metadata={
        "description": "业主名册 CSV（UTF-8 或 GBK）：小区编码/community_code（可省略，仅本小区）, 楼栋/building, "
                       "单元/unit, 房号/room, 楼层/floor, 建筑面积/area_m2, 姓名/name, 手机号/phone, 身份/role"})


class RosterReportOut(ma.Schema):
    rows = Int()
    houses_created = Int()
    houses_updated = Int()
    entries_created = Int(metadata={"description": "新增的名册住户"})
    entries_updated = Int()
    unchanged = Int()
    rejected = ma.fields.Function(lambda r: [{"line": line, "reason": reason} for line, reason in r.rejected],
                                  metadata={"description": "被拒绝的行：行号（表头为第 1 行）与原因"})
    dry_run = ma.fields.Boolean(metadata={"description": "true：仅预览，未写入"})
    preview_id = ma.fields.String(allow_none=True, metadata={"description": "预览的文件，确认导入时传回"})
