"""Request and response schemas of the desk: house search, consultations, the day's calls and visits."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import ValidationError, validate, validates_schema

from ..accounts import rules as account_rules
from ..accounts.schemas import BindingOut, HouseOut
from ..billing.services import BILL_STATUSES
from ..schemas import Day, Int, LocalDateTime, PageArgs, PersonOut, Phone, Text, page_of
from ..workorders import rules as order_rules
from ..workorders import states
from ..workorders.schemas import OrderSummaryOut
from . import houses
from .consultations import CHANNELS


def _house(house) -> dict | None:
    return {"id": house.id, "label": house.label} if house is not None else None


class HouseSearchArgs(ma.Schema):
    q = Text(50, required=True, metadata={
        "description": "房号（1-1-101、1-1、1，或 1栋1单元101）、住户姓名（开头几个字）或手机号（完整或前几位）"})
    limit = Int(load_default=houses.LIMIT, validate=validate.Range(min=1, max=houses.MAX_LIMIT))


class HouseHitOut(ma.Schema):
    house = ma.fields.Function(lambda h: {"id": h.house.id, "label": h.house.label,
                                          "building": h.house.building.code, "unit": h.house.unit,
                                          "room": h.house.room})
    name = ma.fields.String(metadata={"description": "匹配到的住户，或按房号查到时名册中的第一人（业主优先）"})
    phone = ma.fields.String()
    role = ma.fields.String(allow_none=True, metadata={"description": "owner 业主 | family 家庭成员 | tenant 租户"})
    role_label = ma.fields.String()
    source = ma.fields.String(metadata={"description": "roster 业主名册 | member 已绑定的住户 | 空：房屋无登记住户"})


class ConsultationIn(ma.Schema):
    channel = ma.fields.String(required=True, validate=validate.OneOf(list(CHANNELS)),
                               metadata={"description": "phone 来电 | visit 来访"})
    house_id = Int(strict=True, allow_none=True, load_default=None,
                                 metadata={"description": "所涉房屋（可不填）"})
    contact_name = Text(50, required=True, min_length=1, metadata={"description": "来电、来访人"})
    contact_phone = Phone(required=True)
    question = Text(1000, required=True, min_length=1, metadata={"description": "咨询的内容"})
    answer = Text(1000, required=True, min_length=1, metadata={"description": "答复的内容"})

    @validates_schema
    def not_blank(self, data, **kwargs):
        blank = {k: ["必填"] for k in ("contact_name", "question", "answer") if k in data and not data[k].strip()}
        if blank:
            raise ValidationError(blank)


class ConsultationArgs(PageArgs):
    date_from = Day(metadata={"description": "起始日期（含），YYYY-MM-DD"})
    date_to = Day(metadata={"description": "截止日期（含），YYYY-MM-DD"})
    house_id = Int(strict=False)
    q = Text(50, metadata={"description": "在咨询内容、答复、来电人姓名或电话中查找"})

    @validates_schema
    def ordered(self, data, **kwargs):
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ValidationError({"date_to": ["截止日期不能早于起始日期"]})


class ConsultationOut(ma.Schema):
    id = Int()
    channel = ma.fields.String()
    channel_label = ma.fields.Function(lambda c: order_rules.CHANNELS[c.channel])
    house = ma.fields.Function(lambda c: _house(c.house))
    contact_name = ma.fields.String()
    contact_phone = ma.fields.String()
    question = ma.fields.String()
    answer = ma.fields.String()
    received_by = ma.fields.Nested(PersonOut, allow_none=True, metadata={"description": "首问责任人"})
    received_at = LocalDateTime()


ConsultationPage = page_of(ConsultationOut, "ConsultationPage")


class CallsArgs(ma.Schema):
    date = Day(load_default=None, metadata={"description": "YYYY-MM-DD；省略：今天"})


def _order(call) -> dict | None:
    o = call.order
    if o is None:
        return None
    return {"id": o.id, "number": o.number, "kind": o.kind, "kind_label": order_rules.KINDS[o.kind],
            "status": o.status, "status_label": states.STATUSES[o.status], "urgent": o.urgent}


class CallOut(ma.Schema):
    kind = ma.fields.String(metadata={"description": "consultation 咨询 | repair | service | complaint"})
    kind_label = ma.fields.Function(lambda c: KIND_LABELS[c.kind])
    at = LocalDateTime()
    channel = ma.fields.String()
    channel_label = ma.fields.Function(lambda c: order_rules.CHANNELS[c.channel])
    house = ma.fields.Function(lambda c: _house(c.house))
    contact_name = ma.fields.String()
    contact_phone = ma.fields.String()
    summary = ma.fields.String(metadata={"description": "咨询的内容，或工单的描述"})
    received_by = ma.fields.Nested(PersonOut, allow_none=True)
    consultation_id = ma.fields.Function(lambda c: c.consultation.id if c.consultation is not None else None)
    order = ma.fields.Function(_order, metadata={"description": "登记成的工单（咨询为 null）"})


KIND_LABELS = {**order_rules.KINDS, "consultation": "咨询"}


# -- a house's file ----------------------------------------------------------------------------------------

class RosterEntryOut(ma.Schema):
    id = Int()
    name = ma.fields.String()
    phone = ma.fields.String()
    role = ma.fields.String()
    role_label = ma.fields.Function(lambda e: account_rules.MEMBER_ROLES.get(e.role, e.role))
    source = ma.fields.String(metadata={"description": "roster 名册导入 | owner 业主登记的家人、租户 | staff 审核通过时补登"})
    created_at = LocalDateTime()


class BillLineOut(ma.Schema):
    id = Int()
    period = ma.fields.String()
    item = ma.fields.Function(lambda b: b.fee_item.name)
    amount_fen = Int()
    status = ma.fields.String()
    status_label = ma.fields.Function(lambda b: BILL_STATUSES.get(b.status, b.status))
    due_date = Day()


class AccountOut(ma.Schema):
    unpaid_count = Int()
    unpaid_fen = Int()
    overdue_count = Int(metadata={"description": "已过缴费期限仍未缴的账单"})
    overdue_fen = Int()
    paid_count = Int()
    paid_fen = Int()
    latest = ma.fields.List(ma.fields.Nested(BillLineOut), metadata={"description": "最近的账单"})


class HouseFileOut(ma.Schema):
    house = ma.fields.Nested(HouseOut)
    roster = ma.fields.List(ma.fields.Nested(RosterEntryOut), metadata={"description": "业主名册中的住户，业主在前"})
    memberships = ma.fields.List(ma.fields.Nested(BindingOut), metadata={
        "description": "小程序中的房屋绑定（含待审核、未通过、已解绑），已通过的在前"})
    orders = ma.fields.List(ma.fields.Nested(OrderSummaryOut), metadata={"description": "最近的工单（本人可查看的）"})
    orders_total = Int()
    account = ma.fields.Nested(AccountOut, allow_none=True, metadata={"description": "账单概况（无查看账单权限时为 null）"})
