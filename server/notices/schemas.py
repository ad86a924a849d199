"""Notice request and response schemas (staff and owner views)."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import ValidationError, validate, validates_schema

from ..schemas import Int, LocalDateTime, Text, page_of
from .services import KINDS, scope_label, summary


class ScopeIn(ma.Schema):
    buildings = ma.fields.List(Text(20, min_length=1), required=True, validate=[validate.Length(min=1, error="至少指定一个楼栋"), validate.Length(max=200)],
                               metadata={"description": "楼栋编号，如 [\"1\", \"2\"]"})


class NoticeIn(ma.Schema):
    title = Text(50, required=True, min_length=1)
    content = Text(5000, required=True, min_length=1)
    kind = ma.fields.String(load_default="general", validate=validate.OneOf(list(KINDS)),
                            metadata={"description": "general 通知 | water_cut 停水 | power_cut 停电 | reminder 温馨提示 | "
                                                     "common_problem 问题答复"})
    scope = ma.fields.Nested(ScopeIn, allow_none=True, load_default=None,
                             metadata={"description": "省略或 null：全小区；{\"buildings\": [...]}：指定楼栋"})
    starts_at = LocalDateTime(allow_none=True, load_default=None, metadata={"description": "停水停电开始时间"})
    ends_at = LocalDateTime(allow_none=True, load_default=None, metadata={"description": "停水停电结束时间"})

    @validates_schema
    def period(self, data, **kwargs):
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            raise ValidationError({"ends_at": ["结束时间应晚于开始时间"]})


class StaffRef(ma.Schema):
    id = Int()
    name = ma.fields.String()


class PushOut(ma.Schema):
    recipients = Int(attribute="push_recipients", metadata={"description": "应推送的住户人数"})
    sent = Int(attribute="push_sent")
    skipped = Int(attribute="push_skipped", metadata={"description": "无订阅次数等原因未发送"})
    failed = Int(attribute="push_failed")
    pending = ma.fields.Function(lambda n: max(n.push_recipients - n.push_sent - n.push_skipped - n.push_failed, 0))
    fanned_out_at = LocalDateTime(allow_none=True, metadata={"description": "开始分批推送的时间"})


class NoticeSummaryOut(ma.Schema):
    id = Int()
    kind = ma.fields.String()
    kind_label = ma.fields.Function(lambda n: KINDS.get(n.kind, n.kind))
    title = ma.fields.String()
    summary = ma.fields.Function(lambda n: summary(n.content))
    scope_label = ma.fields.Function(lambda n: scope_label(n.scope), metadata={"description": "通知范围"})
    starts_at = LocalDateTime(allow_none=True)
    ends_at = LocalDateTime(allow_none=True)
    published_at = LocalDateTime()


class ReadsOut(ma.Schema):
    owners = Int(metadata={"description": "已读的住户人数"})
    households = Int(metadata={"description": "已读的户数（范围内的房屋中有绑定住户读过的）"})


class StaffNoticeSummaryOut(NoticeSummaryOut):
    scope = ma.fields.Dict(allow_none=True)
    published_by = ma.fields.Nested(StaffRef, allow_none=True)
    push = ma.fields.Function(lambda n: PushOut().dump(n), metadata={"description": "推送统计（由后台任务更新）"})
    reads = ma.fields.Nested(ReadsOut, metadata={"description": "阅读统计"})


class AffectedOut(ma.Schema):
    houses = Int(metadata={"description": "范围内的房屋数"})
    households = Int(metadata={"description": "有已绑定住户的房屋数"})
    owners = Int(metadata={"description": "已绑定的住户人数（有订阅次数者会收到微信推送）"})
    with_consent = Int(metadata={"description": "其中有订阅次数、会收到微信推送的住户人数"})


class StaffNoticeOut(StaffNoticeSummaryOut):
    content = ma.fields.String()
    common_problem_id = Int(allow_none=True)
    affected = ma.fields.Nested(AffectedOut, metadata={"description": "通知范围（按当前的绑定与订阅计算）"})


class PublishedOut(StaffNoticeOut):
    pass


class MessageFieldOut(ma.Schema):
    key = ma.fields.String(metadata={"description": "模板字段，如 thing1"})
    label = ma.fields.String(metadata={"description": "字段名，如 标题"})
    value = ma.fields.String(metadata={"description": "按微信规则处理后的值（超长截断并加 …）"})


class MessagePreviewOut(ma.Schema):
    template = ma.fields.String(metadata={"description": "订阅消息模板标题"})
    page = ma.fields.String(metadata={"description": "点击消息打开的小程序页面"})
    fields = ma.fields.List(ma.fields.Nested(MessageFieldOut))


class PreviewOut(NoticeSummaryOut):
    """The notice as it would be published now (id null)."""
    id = Int(allow_none=True, metadata={"description": "预览尚未发布：null"})
    content = ma.fields.String()
    scope = ma.fields.Dict(allow_none=True)
    message = ma.fields.Nested(MessagePreviewOut, metadata={"description": "住户在微信中看到的订阅消息"})
    affected = ma.fields.Nested(AffectedOut)


class OwnerNoticeSummaryOut(NoticeSummaryOut):
    read = ma.fields.Boolean()
    read_at = LocalDateTime(allow_none=True)


class OwnerNoticeOut(OwnerNoticeSummaryOut):
    content = ma.fields.String()
    common_problem_id = Int(allow_none=True)


StaffNoticePage = page_of(StaffNoticeSummaryOut, "StaffNoticePage")


class OwnerNoticePage(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(OwnerNoticeSummaryOut))
    total = Int()
    page = Int()
    per_page = Int()
    unread_count = Int(metadata={"description": "未读通知数"})


class ReadAllOut(ma.Schema):
    marked = Int(metadata={"description": "本次标记为已读的通知数"})
    unread_count = Int()

