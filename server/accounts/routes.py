"""Owner (/api/v1/me) and staff (/api/v1/staff) routes for identity, houses and staff records.
Routes parse, call one service, commit, dump."""
from __future__ import annotations

from ..api import BEARER, blueprint
from ..auth.access import requires
from ..auth.services import current_identity, require_owner, require_staff
from ..extensions import db
from ..pagination import paginate
from . import queries, roster, services
from .schemas import (
    BindIn, BindingArgs, BindingOut, BindingPage, BuildingOut, MeOut, MemberIn,
    MembersOut, MembershipOut, InvitationOut, OaBindingOut, OwnerOut, PhoneIn, RejectIn, RosterFileIn,
    RosterImportArgs, RosterReportOut, StaffArgs, StaffCreateIn, StaffOut, StaffUpdateIn,
)

me = blueprint("me", "/api/v1/me", "业主本人：资料、手机号、房屋绑定、家庭成员")
staff_blp = blueprint("staff-accounts", "/api/v1/staff", "员工：绑定审核、员工管理、公众号绑定")


def _me_payload(owner):
    identity = current_identity()
    return {"user": owner, "houses": services.my_memberships(owner), "staff": identity.staff}


@me.get("")
@me.response(200, MeOut)
@me.doc(security=BEARER)
def get_me():
    """我的资料、已绑定房屋，以及员工身份（如有）"""
    return _me_payload(require_owner())


@me.post("/phone")
@me.arguments(PhoneIn)
@me.response(200, OwnerOut)
@me.doc(security=BEARER)
def post_phone(data):
    """手机号授权：getPhoneNumber 的 code 换取已验证手机号"""
    owner = services.verify_phone(require_owner(), data["code"])
    db.session.commit()
    return owner


@me.get("/houses")
@me.response(200, MembershipOut(many=True))
@me.doc(security=BEARER)
def list_houses():
    """我的房屋（含待审核、未通过）"""
    return services.my_memberships(require_owner())


@me.post("/houses")
@me.arguments(BindIn)
@me.response(201, MembershipOut)
@me.doc(security=BEARER)
def bind_house(data):
    """绑定房屋：与业主名册一致时立即通过，否则等待物业审核"""
    membership = services.request_binding(require_owner(), **data)
    db.session.commit()
    return membership


@me.delete("/houses/<int:membership_id>")
@me.response(204)
@me.doc(security=BEARER)
def unbind_house(membership_id):
    """解绑房屋"""
    services.unbind(require_owner(), membership_id)
    db.session.commit()


@me.get("/houses/<int:membership_id>/members")
@me.response(200, MembersOut)
@me.doc(security=BEARER)
def list_members(membership_id):
    """房屋成员（仅已认证业主）：已绑定成员与已登记待绑定的家人、租户"""
    return services.house_members(require_owner(), membership_id)


@me.post("/houses/<int:membership_id>/members")
@me.arguments(MemberIn)
@me.response(201, InvitationOut)
@me.doc(security=BEARER)
def add_member(data, membership_id):
    """登记家庭成员或租户：对方用此姓名和手机号绑定时立即通过"""
    entry = services.add_member(require_owner(), membership_id, **data)
    db.session.commit()
    return entry


@me.delete("/houses/<int:membership_id>/members/<int:member_id>")
@me.response(204)
@me.doc(security=BEARER)
def remove_member(membership_id, member_id):
    """移除家庭成员或租户的绑定"""
    services.remove_member(require_owner(), membership_id, member_id)
    db.session.commit()


@me.delete("/houses/<int:membership_id>/invitations/<int:entry_id>")
@me.response(204)
@me.doc(security=BEARER)
def remove_invitation(membership_id, entry_id):
    """撤销尚未绑定的家人、租户登记"""
    services.remove_invitation(require_owner(), membership_id, entry_id)
    db.session.commit()


# -- staff ---------------------------------------------------------------------------------------------

@staff_blp.get("/me")
@staff_blp.response(200, StaffOut)
@staff_blp.doc(security=BEARER)
def staff_me():
    """当前员工"""
    return require_staff()


@staff_blp.get("/buildings")
@staff_blp.response(200, BuildingOut(many=True))
@staff_blp.doc(security=BEARER)
def list_buildings():
    """本小区的楼栋（通知范围等处选择）"""
    return queries.buildings_of(require_staff().community_id)


@staff_blp.post("/roster/import")
@requires("import_roster")
@staff_blp.arguments(RosterImportArgs, location="query")
@staff_blp.arguments(RosterFileIn, location="files")
@staff_blp.response(200, RosterReportOut)
@staff_blp.doc(security=BEARER)
def import_roster(args, files):
    """导入业主名册（经理，仅本小区）：先 dry_run=true 预览（逐行报告将被拒绝的行，不写入），再以 preview_id
    导入所预览的文件；可重复导入，已有的房屋与住户不会重复"""
    upload = files.get("file")
    report = roster.import_for(require_staff(), raw=upload.read() if upload else None,
                               preview_id=args["preview_id"], dry_run=args["dry_run"])
    db.session.commit()
    return report


@staff_blp.get("/bindings")
@requires("review_bindings")
@staff_blp.arguments(BindingArgs, location="query")
@staff_blp.response(200, BindingPage)
@staff_blp.doc(security=BEARER)
def list_bindings(args):
    """本小区的房屋绑定申请（接待员、经理）"""
    staff = require_staff()
    return paginate(services.list_bindings(staff, args.get("status")), args["page"], args["per_page"])


@staff_blp.post("/bindings/<int:membership_id>/approve")
@requires("review_bindings")
@staff_blp.response(200, BindingOut)
@staff_blp.doc(security=BEARER)
def approve_binding(membership_id):
    """通过绑定申请（业主收到订阅消息）"""
    membership = services.approve_binding(require_staff(), membership_id)
    db.session.commit()
    return membership


@staff_blp.post("/bindings/<int:membership_id>/reject")
@requires("review_bindings")
@staff_blp.arguments(RejectIn)
@staff_blp.response(200, BindingOut)
@staff_blp.doc(security=BEARER)
def reject_binding(data, membership_id):
    """驳回绑定申请，须填写原因"""
    membership = services.reject_binding(require_staff(), membership_id, data["reason"])
    db.session.commit()
    return membership


@staff_blp.get("/members")
@staff_blp.arguments(StaffArgs, location="query")
@staff_blp.response(200, StaffOut(many=True))
@staff_blp.doc(security=BEARER)
def list_staff(args):
    """本小区员工（可按部门、在岗筛选）"""
    stmt = queries.community_staff(require_staff().community_id, args.get("department"), args.get("on_duty"))
    return db.session.scalars(stmt).all()


@staff_blp.post("/members")
@requires("create_staff")
@staff_blp.arguments(StaffCreateIn)
@staff_blp.response(201, StaffOut)
@staff_blp.doc(security=BEARER)
def create_staff(data):
    """添加员工（经理）"""
    staff = services.create_staff(require_staff(), data)
    db.session.commit()
    return staff


@staff_blp.patch("/members/<int:staff_id>")
@staff_blp.arguments(StaffUpdateIn)
@staff_blp.response(200, StaffOut)
@staff_blp.doc(security=BEARER)
def update_staff(data, staff_id):
    """修改员工：经理全部字段；主管本部门员工的在岗与技能；本人在岗状态"""
    staff = services.update_staff(require_staff(), staff_id, data, current_identity().session)
    db.session.commit()
    return staff


@staff_blp.post("/members/<int:staff_id>/oa-binding")
@staff_blp.response(201, OaBindingOut)
@staff_blp.doc(security=BEARER)
def create_oa_binding(staff_id):
    """生成公众号绑定码：员工用微信扫描二维码后即可接收工单推送"""
    code = services.create_oa_binding(require_staff(), staff_id)
    db.session.commit()
    return {"token": code.token, "scene": code.scene, "qr_url": code.qr_url, "qr_content": code.qr_content,
            "expires_at": code.row.expires_at}


@staff_blp.delete("/members/<int:staff_id>/oa-binding")
@staff_blp.response(204)
@staff_blp.doc(security=BEARER)
def delete_oa_binding(staff_id):
    """解除员工的公众号绑定"""
    services.unbind_oa(require_staff(), staff_id)
    db.session.commit()
