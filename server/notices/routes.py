"""Notice routes: staff publish and review (/api/v1/staff/notices), owners read (/api/v1/notices).
Parse -> one service call -> commit -> dump."""
from __future__ import annotations

from ..api import BEARER, blueprint
from ..auth.access import requires
from ..auth.services import require_owner, require_staff
from ..extensions import db
from ..schemas import PageArgs
from . import services
from .schemas import (
    NoticeIn,
    OwnerNoticeOut,
    OwnerNoticePage,
    PreviewOut,
    PublishedOut,
    ReadAllOut,
    StaffNoticeOut,
    StaffNoticePage,
)

owner_blp = blueprint("notices", "/api/v1/notices", "业主通知：停水停电、温馨提示、问题答复")
staff_blp = blueprint("staff-notices", "/api/v1/staff/notices", "发布通知（接待员、经理）与推送统计")


# -- staff ----------------------------------------------------------------------------------------------

@staff_blp.post("")
@requires("publish_notices")
@staff_blp.arguments(NoticeIn)
@staff_blp.response(201, PublishedOut)
@staff_blp.doc(security=BEARER)
def publish_notice(data):
    """发布通知（全小区或指定楼栋），并推送给有订阅次数的住户"""
    published = services.publish(require_staff(), data)
    db.session.commit()
    return published


@staff_blp.post("/preview")
@requires("publish_notices")
@staff_blp.arguments(NoticeIn)
@staff_blp.response(200, PreviewOut)
@staff_blp.doc(security=BEARER)
def preview_notice(data):
    """预览（不发布）：住户看到的通知、微信中显示的订阅消息（按微信字数限制截断后的值），以及会收到的住户数"""
    return services.preview(require_staff(), data)


@staff_blp.get("")
@staff_blp.arguments(PageArgs, location="query")
@staff_blp.response(200, StaffNoticePage)
@staff_blp.doc(security=BEARER)
def list_staff_notices(args):
    """本小区的通知，最新在前，含推送与阅读统计"""
    return services.staff_notices_page(require_staff(), args["page"], args["per_page"])


@staff_blp.get("/<int:notice_id>")
@staff_blp.response(200, StaffNoticeOut)
@staff_blp.doc(security=BEARER)
def get_staff_notice(notice_id):
    """通知详情：推送统计（已推送、未订阅跳过、失败）、通知范围与阅读统计（已读人数、户数）"""
    return services.staff_notice(require_staff(), notice_id)


# -- owners ---------------------------------------------------------------------------------------------

@owner_blp.get("")
@owner_blp.arguments(PageArgs, location="query")
@owner_blp.response(200, OwnerNoticePage)
@owner_blp.doc(security=BEARER)
def list_notices(args):
    """我的房屋所在小区、楼栋的通知，最新在前，含已读状态与未读数"""
    return services.owner_page(require_owner(), args["page"], args["per_page"])


@owner_blp.get("/<int:notice_id>")
@owner_blp.response(200, OwnerNoticeOut)
@owner_blp.doc(security=BEARER)
def read_notice(notice_id):
    """通知详情（同时标记为已读）"""
    notice = services.read_notice(require_owner(), notice_id)
    db.session.commit()
    return notice


@owner_blp.post("/read-all")
@owner_blp.response(200, ReadAllOut)
@owner_blp.doc(security=BEARER)
def read_all():
    """全部标记为已读"""
    result = services.read_all(require_owner())
    db.session.commit()
    return result


BLUEPRINTS = (owner_blp, staff_blp)
