"""Work-order request and response schemas (owner, worker and desk views)."""
from __future__ import annotations

from datetime import datetime

import marshmallow as ma
from flask import current_app
from marshmallow import ValidationError, validate, validates_schema

from ..accounts import rules as account_rules
from ..money import OFFLINE_METHODS, PAYMENT_METHODS
from ..schemas import Day, DecimalText, Int, LocalDateTime, PageArgs, PersonOut, Phone, Text, page_of
from ..timeutil import to_local
from . import rules, states
from .calendar import KINDS as CALENDAR_KINDS
from .reports import CALLBACK_KINDS, CALLBACK_STATUSES

Photos = ma.fields.List(Int(strict=True), load_default=list, validate=validate.Length(max=9),
                        metadata={"description": "POST /api/v1/uploads 返回的图片 id，最多 9 张"})


class CatalogArgs(ma.Schema):
    community = Text(32, required=True, min_length=1, metadata={"description": "小区编码"})


class CatalogItemOut(ma.Schema):
    id = Int()
    name = ma.fields.String()
    category = ma.fields.Function(lambda i: i.category.name)
    department = ma.fields.String()
    department_label = ma.fields.Function(lambda i: account_rules.DEPARTMENTS[i.department])
    price_fen = Int()
    unit = ma.fields.String()
    description = ma.fields.String()


class MaterialOut(ma.Schema):
    id = Int()
    name = ma.fields.String()
    unit = ma.fields.String()
    price_fen = Int()
    active = ma.fields.Boolean()


class CatalogOut(ma.Schema):
    community = ma.fields.Dict()
    items = ma.fields.List(ma.fields.Nested(CatalogItemOut))
    repair_categories = ma.fields.List(ma.fields.Dict(), metadata={"description": "报修类别 key/label/可否加急"})
    complaint_categories = ma.fields.List(ma.fields.Dict(), metadata={"description": "投诉类别 key/label/是否紧急事件"})
    out_of_scope = ma.fields.List(ma.fields.String(), metadata={"description": "不受理的服务（家电维修、装修）"})


class OrderIn(ma.Schema):
    kind = ma.fields.String(required=True, validate=validate.OneOf(["repair", "service", "complaint"]))
    house_id = Int(required=True, strict=True)
    description = Text(1000, load_default="")
    preferred_time = LocalDateTime(allow_none=True, load_default=None)
    photos = Photos
    # repair: a repair category; complaint: a complaint category
    category = ma.fields.String(metadata={"description": "报修：water/electricity/…；投诉：emergency/noise/…（见 /api/v1/catalog）"})
    urgent = ma.fields.Boolean(load_default=False)
    # complaint about a staff member (service attitude)
    about_staff_name = Text(50, allow_none=True, load_default=None)
    # service
    service_item_id = Int(strict=True)
    quantity = Int(strict=True, load_default=1, validate=validate.Range(min=1, max=99))

    @validates_schema(skip_on_field_errors=False)
    def by_kind(self, data, **kwargs):
        """Fields required by the kind, reported together with any other field errors."""
        errors = {}
        kind = data.get("kind")
        categories = {"repair": rules.REPAIR_CATEGORIES, "complaint": rules.COMPLAINT_CATEGORIES}.get(kind)
        if categories is not None:
            if "category" not in data:
                errors["category"] = ["必填"]
            elif data["category"] not in categories:
                errors["category"] = ["应为以下之一：" + "、".join(categories)]
            if not data.get("description"):
                errors["description"] = ["请描述需要维修的问题" if kind == "repair" else "请描述投诉的内容"]
        if data.get("kind") == "service" and "service_item_id" not in data:
            errors["service_item_id"] = ["必填"]
        if errors:
            raise ValidationError(errors)


class DeskOrderIn(OrderIn):
    channel = ma.fields.String(required=True, validate=validate.OneOf(["phone", "visit", "written"]))
    written = ma.fields.Boolean(load_default=False, metadata={"description": "书面投诉（信函、意见书）"})
    about_staff_id = Int(strict=True, allow_none=True, load_default=None)
    contact_name = Text(50, required=True, min_length=1)
    contact_phone = Phone(required=True)


class EventOut(ma.Schema):
    id = Int()
    at = LocalDateTime()
    actor = ma.fields.String()
    actor_name = ma.fields.Function(lambda e: e.staff.name if e.staff else None)
    action = ma.fields.String()
    action_label = ma.fields.Function(lambda e: EVENT_LABELS.get(e.action, e.action))
    from_status = ma.fields.String(allow_none=True)
    to_status = ma.fields.String(allow_none=True)
    note = ma.fields.String()
    data = ma.fields.Method("_data", metadata={"description": "事件数据；其中的时间（*_at）为北京时间"})

    def _data(self, event) -> dict:
        """Times in an event's data are stored as UTC ISO strings; show them in the local zone like every
        other time of the API."""
        zone = current_app.config["TIMEZONE"]
        return {key: (to_local(datetime.fromisoformat(value), zone).isoformat()
                      if key.endswith("_at") and isinstance(value, str) and _is_iso(value) else value)
                for key, value in (event.data or {}).items()}


def _is_iso(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


EVENT_LABELS = {**states.EVENTS, "created": "提交", "urge": "催单", "rating": "评价", "callback": "回访",
                "payment": "收款", "breach": "超时", "no_worker": "无人可派", "reply": "答复",
                "important": "重要投诉", "corrective_action": "整改措施", "responder_arrived": "人员到场",
                "incident_report": "突发事件处理表", "incident_review": "处理表审批", "weekly_update": "每周进展"}
# What an owner sees of the timeline: internal dispatching, deadline bookkeeping, measures about staff
# and incident paperwork stay with staff.
OWNER_HIDDEN = {"decline", "offer_timeout", "no_worker", "breach", "corrective_action", "incident_report",
                "incident_review", "important"}


class MaterialUsageOut(ma.Schema):
    name = ma.fields.String()
    unit = ma.fields.String()
    unit_price_fen = Int()
    quantity = DecimalText()
    amount_fen = Int()


class DeadlinesOut(ma.Schema):
    confirm_due_at = LocalDateTime(allow_none=True, metadata={"description": "有偿服务：10 分钟内确认预约"})
    complete_due_at = LocalDateTime(allow_none=True, metadata={"description": "报修：当日完工"})
    callback_due_at = LocalDateTime(allow_none=True, metadata={"description": "回访：报修、服务当日；投诉 3 天内"})
    handler_due_at = LocalDateTime(allow_none=True, metadata={"description": "投诉：10 分钟内受理"})
    onsite_due_at = LocalDateTime(allow_none=True, metadata={"description": "紧急事件：5 分钟内到场"})
    reply_due_at = LocalDateTime(allow_none=True, metadata={"description": "投诉：当日答复（重要投诉 2 个工作日）"})


class OrderSummaryOut(ma.Schema):
    id = Int()
    number = ma.fields.String()
    kind = ma.fields.String()
    kind_label = ma.fields.Function(lambda o: rules.KINDS[o.kind])
    title = ma.fields.String()
    status = ma.fields.String()
    status_label = ma.fields.Function(lambda o: states.STATUSES[o.status])
    urgent = ma.fields.Boolean()
    house = ma.fields.Function(lambda o: {"id": o.house_id, "label": o.house.label})
    quote_fen = Int(allow_none=True)
    final_fen = Int(allow_none=True)
    appointment_at = LocalDateTime(allow_none=True)
    created_at = LocalDateTime()


class OrderOut(OrderSummaryOut):
    channel = ma.fields.String()
    channel_label = ma.fields.Function(lambda o: rules.CHANNELS[o.channel])
    department = ma.fields.String()
    department_label = ma.fields.Function(lambda o: account_rules.DEPARTMENTS.get(o.department, o.department))
    category = ma.fields.String()
    service_item_id = Int(allow_none=True)
    quantity = Int()
    description = ma.fields.String()
    photos = ma.fields.List(Int())
    preferred_time = LocalDateTime(allow_none=True)
    assignee = ma.fields.Nested(PersonOut, allow_none=True)
    materials = ma.fields.List(ma.fields.Nested(MaterialUsageOut))
    materials_fen = Int()
    paid_fen = Int()
    amount_needs_confirmation = ma.fields.Function(
        lambda o: o.status == "completed" and o.final_fen is not None and o.quote_fen is not None
        and o.final_fen > o.quote_fen)
    completion_notes = ma.fields.String()
    completion_photos = ma.fields.List(Int())
    rework_count = Int()
    rating = Int(allow_none=True)
    rating_comment = ma.fields.String(allow_none=True)
    cancel_reason = ma.fields.String(allow_none=True)
    deadlines = ma.fields.Function(lambda o: DeadlinesOut().dump(o))
    emergency = ma.fields.Boolean()
    important = ma.fields.Boolean()
    written = ma.fields.Boolean()
    category_label = ma.fields.Function(lambda o: category_label(o))
    about_staff_name = ma.fields.String(allow_none=True)
    arrived_at = LocalDateTime(allow_none=True)
    accepted_at = LocalDateTime(allow_none=True)
    replied_at = LocalDateTime(allow_none=True, metadata={"description": "投诉首次答复时间"})
    completed_at = LocalDateTime(allow_none=True)
    confirmed_at = LocalDateTime(allow_none=True)
    timeline = ma.fields.Function(
        lambda o: EventOut(many=True).dump([e for e in o.events if e.action not in OWNER_HIDDEN]))


class BreachOut(ma.Schema):
    clock = ma.fields.String()
    clock_label = ma.fields.Function(lambda b: rules.CLOCKS[b.clock])
    level = Int()
    round = Int()
    due_at = LocalDateTime()
    detected_at = LocalDateTime()


class IncidentReportOut(ma.Schema):
    cause = ma.fields.String()
    actions = ma.fields.String()
    losses = ma.fields.String()
    people_involved = ma.fields.String()
    status = ma.fields.String()
    status_label = ma.fields.Function(lambda r: {"submitted": "待审批", "approved": "已批准", "rejected": "已退回"}[r.status])
    submitted_by = ma.fields.Nested(PersonOut, allow_none=True)
    submitted_at = LocalDateTime()
    reviewed_by = ma.fields.Nested(PersonOut, allow_none=True)
    reviewed_at = LocalDateTime(allow_none=True)
    review_note = ma.fields.String(allow_none=True)


def category_label(order) -> str:
    if order.kind == "repair":
        return rules.REPAIR_CATEGORIES[order.category].label
    if order.kind == "complaint":
        return rules.COMPLAINT_CATEGORIES[order.category].label
    return order.title


class StaffOrderOut(OrderOut):
    corrective_action = ma.fields.String(allow_none=True)
    corrective_deadline = Day(allow_none=True)
    penalty = ma.fields.String(allow_none=True)
    incident_report = ma.fields.Nested(IncidentReportOut, allow_none=True)
    contact_name = ma.fields.String()
    contact_phone = ma.fields.String()
    received_by = ma.fields.Nested(PersonOut, allow_none=True)
    needs_callback = ma.fields.Boolean()
    callback_at = LocalDateTime(allow_none=True)
    offer_expires_at = LocalDateTime(allow_none=True)
    breaches = ma.fields.List(ma.fields.Nested(BreachOut))
    timeline = ma.fields.Function(lambda o: EventOut(many=True).dump(o.events))


class OrderArgs(PageArgs):
    kind = ma.fields.String(validate=validate.OneOf(list(rules.KINDS)))
    status = ma.fields.String(validate=validate.OneOf(list(states.STATUSES)))


CLOCK_FILTERS = {"missed": "有时限已超", "soon": "30 分钟内到期", "breached": "曾超时（有超时记录）"}
ORDER_SORTS = {"newest": "最新受理在前", "due": "时限最近在前", "open": "未结在前"}


class StaffOrderFilters(ma.Schema):
    """Filters of the staff's order list, shared by the JSON list, its xlsx export and the admin page."""
    kind = ma.fields.String(validate=validate.OneOf(list(rules.KINDS)))
    status = ma.fields.String(validate=validate.OneOf(list(states.STATUSES)))
    department = ma.fields.String(validate=validate.OneOf(list(account_rules.DEPARTMENTS)))
    category = Text(30, metadata={"description": "报修或投诉类别（见 /api/v1/catalog），有偿服务为 item:<服务项目 id>"})
    overdue = ma.fields.Boolean(metadata={"description": "只看已超过完工时限的未完工单"})
    open = ma.fields.Boolean(metadata={"description": "只看未完工（待派单、已派单、已接单、处理中、已暂停）"})
    clock = ma.fields.String(validate=validate.OneOf(list(CLOCK_FILTERS)), metadata={
        "description": "missed：有时限仍在计时且已超时；soon：有时限在 30 分钟内到期；breached：曾有超时记录"})
    emergency = ma.fields.Boolean(metadata={"description": "true：只看紧急（紧急报修、紧急事件投诉）"})
    important = ma.fields.Boolean(metadata={"description": "true：只看重要投诉"})
    created_from = Day(metadata={"description": "受理日期起（含），YYYY-MM-DD，北京时间"})
    created_to = Day(metadata={"description": "受理日期止（含），YYYY-MM-DD，北京时间"})
    house = Text(30, metadata={"description": "房屋 1-1-101（楼栋-单元-房号），或楼栋 1、楼栋-单元 1-2"})
    q = Text(50, metadata={"description": "单号，或标题、描述、联系人、联系电话中的文字"})
    sort = ma.fields.String(load_default="newest", validate=validate.OneOf(list(ORDER_SORTS)),
                            metadata={"description": "newest 最新受理在前（默认）| due 时限最近在前 | open 未结在前"})

    @validates_schema
    def dates_in_order(self, data, **kwargs):
        if data.get("created_from") and data.get("created_to") and data["created_to"] < data["created_from"]:
            raise ValidationError({"created_to": ["结束日期不能早于开始日期"]})


class StaffOrderArgs(PageArgs, StaffOrderFilters):
    pass


class TaskArgs(ma.Schema):
    status = ma.fields.String(validate=validate.OneOf(list(states.STATUSES)))


class ReasonIn(ma.Schema):
    reason = Text(200, required=True, min_length=1)


class OptionalReasonIn(ma.Schema):
    reason = Text(200, load_default="")


class ConfirmIn(ma.Schema):
    accept_final_fen = Int(strict=True, allow_none=True, load_default=None,
                                         metadata={"description": "最终费用超出报价时，须回传该金额表示认可"})


class RatingIn(ma.Schema):
    score = Int(required=True, strict=True, validate=validate.Range(min=1, max=5))
    comment = Text(500, load_default="")


class AcceptIn(ma.Schema):
    appointment_at = LocalDateTime(allow_none=True, load_default=None,
                                   metadata={"description": "与业主约定的上门时间；不填则按业主期望时间"})


class MaterialLineIn(ma.Schema):
    material_id = Int(required=True, strict=True)
    quantity = ma.fields.Decimal(required=True, places=2, validate=validate.Range(min=0.01, max=9999),
                                 metadata={"type": "number", "minimum": 0.01, "maximum": 9999})


class CompleteIn(ma.Schema):
    notes = Text(1000, load_default="")
    photos = Photos
    materials = ma.fields.List(ma.fields.Nested(MaterialLineIn), load_default=list, validate=validate.Length(max=50))
    owner_signed = ma.fields.Boolean(load_default=False, metadata={"description": "业主已在通知单上签字确认"})


class AssignIn(ma.Schema):
    assignee_id = Int(required=True, strict=True)
    appointment_at = LocalDateTime(allow_none=True, load_default=None)


class CallbackArgs(PageArgs):
    """The callback queue's filters (definitions: reports.py)."""
    status = ma.fields.String(load_default="due", validate=validate.OneOf(list(CALLBACK_STATUSES)),
                              metadata={"description": "due 待回访（默认）| overdue 已超时 | done 已回访"})
    kind = ma.fields.String(load_default=None, validate=validate.OneOf(list(CALLBACK_KINDS)),
                            metadata={"description": "repair 报修 | service 有偿服务 | complaint 投诉；省略：全部"})


class CallbackIn(ma.Schema):
    result = ma.fields.String(required=True, validate=validate.OneOf(list(rules.CALLBACK_RESULTS)))
    note = Text(500, load_default="")


class PaymentIn(ma.Schema):
    method = ma.fields.String(required=True, validate=validate.OneOf(list(OFFLINE_METHODS)))
    amount_fen = Int(required=True, strict=True, validate=validate.Range(min=1, max=10_000_000))
    receipt_no = Text(40, required=True, min_length=1)


class PaymentOut(ma.Schema):
    id = Int()
    order_id = Int()
    order_number = ma.fields.Function(lambda p: p.order.number)
    method = ma.fields.String()
    method_label = ma.fields.Function(lambda p: PAYMENT_METHODS[p.method])
    amount_fen = Int()
    receipt_no = ma.fields.String()
    collector = ma.fields.Nested(PersonOut, allow_none=True)
    collected_at = LocalDateTime()


class WorkerLoadOut(ma.Schema):
    id = Int(attribute="staff.id")
    name = ma.fields.String(attribute="staff.name")
    phone = ma.fields.String(attribute="staff.phone")
    role = ma.fields.String(attribute="staff.role")
    role_label = ma.fields.Function(lambda w: account_rules.ROLES.get(w.staff.role, w.staff.role))
    on_duty = ma.fields.Boolean(attribute="staff.on_duty", metadata={"description": "在岗"})
    skills = ma.fields.List(ma.fields.String(), attribute="staff.skills")
    has_skill = ma.fields.Boolean(metadata={"description": "工单无技能要求，或该员工具备所需技能"})
    open_orders = Int(metadata={"description": "已派给该员工、尚未完工的工单数"})


class CallbackOut(ma.Schema):
    id = Int()
    order_id = Int()
    result = ma.fields.String()
    result_label = ma.fields.Function(lambda c: rules.CALLBACK_RESULTS[c.result])
    note = ma.fields.String()
    at = LocalDateTime()
    staff = ma.fields.Nested(PersonOut, allow_none=True)


class ItemIn(ma.Schema):
    category = Text(50, required=True, min_length=1)
    name = Text(50, required=True, min_length=1)
    department = ma.fields.String(required=True, validate=validate.OneOf(["engineering", "cleaning"]))
    skill = Text(20, allow_none=True, load_default=None)
    price_fen = Int(required=True, strict=True, validate=validate.Range(min=0, max=10_000_000))
    unit = Text(10, required=True, min_length=1)
    description = Text(500, load_default="")
    active = ma.fields.Boolean(load_default=True)
    sort = Int(load_default=0)


class ItemPatch(ma.Schema):
    category = Text(50, min_length=1)
    name = Text(50, min_length=1)
    department = ma.fields.String(validate=validate.OneOf(["engineering", "cleaning"]))
    skill = Text(20, allow_none=True)
    price_fen = Int(strict=True, validate=validate.Range(min=0, max=10_000_000))
    unit = Text(10, min_length=1)
    description = Text(500)
    active = ma.fields.Boolean()
    sort = Int()


class StaffItemOut(CatalogItemOut):
    skill = ma.fields.String(allow_none=True)
    active = ma.fields.Boolean()
    sort = Int()


class MaterialIn(ma.Schema):
    name = Text(50, required=True, min_length=1)
    unit = Text(10, required=True, min_length=1)
    price_fen = Int(required=True, strict=True, validate=validate.Range(min=0, max=10_000_000))
    active = ma.fields.Boolean(load_default=True)


class MaterialPatch(ma.Schema):
    name = Text(50, min_length=1)
    unit = Text(10, min_length=1)
    price_fen = Int(strict=True, validate=validate.Range(min=0, max=10_000_000))
    active = ma.fields.Boolean()


OrderPage = page_of(OrderSummaryOut, "OrderPage")
StaffOrderPage = page_of(OrderSummaryOut, "StaffOrderPage")


class ReplyIn(ma.Schema):
    content = Text(500, required=True, min_length=1)
    final = ma.fields.Boolean(load_default=False, metadata={"description": "最终答复：投诉处理完毕，开始 3 天回访时限"})


class CorrectiveIn(ma.Schema):
    action = Text(500, required=True, min_length=1)
    deadline = Day(allow_none=True, load_default=None)
    penalty = Text(200, load_default="")


class IncidentReportIn(ma.Schema):
    cause = Text(2000, required=True, min_length=1)
    actions = Text(2000, required=True, min_length=1)
    losses = Text(2000, load_default="")
    people_involved = Text(1000, load_default="")


class IncidentReviewIn(ma.Schema):
    approve = ma.fields.Boolean(required=True)
    note = Text(200, load_default="")


# -- the business calendar (hours, holidays, make-up working days) --------------------------------------------

TIME_OF_DAY = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="时间格式为 时:分，如 08:30")


class DayHoursIn(ma.Schema):
    open = ma.fields.String(required=True, validate=TIME_OF_DAY, metadata={"description": "开门时间 HH:MM"})
    close = ma.fields.String(required=True, validate=TIME_OF_DAY, metadata={"description": "下班时间 HH:MM"})

    @validates_schema
    def ordered(self, data, **kwargs):
        if data["close"] <= data["open"]:
            raise ValidationError({"close": ["下班时间须晚于开门时间"]})


# {"1": {"open": "08:30", "close": "18:00"}, ..., "7": null}: every ISO weekday (1 = Monday), null = closed.
HoursIn = ma.Schema.from_dict({str(day): ma.fields.Nested(DayHoursIn, required=True, allow_none=True)
                               for day in range(1, 8)}, name="BusinessHoursIn")
HoursOut = ma.Schema.from_dict({str(day): ma.fields.List(ma.fields.String(), allow_none=True, metadata={
    "description": "[开门, 下班]，null 为不营业"}) for day in range(1, 8)}, name="BusinessHoursOut")


class CalendarArgs(ma.Schema):
    year = Int(validate=validate.Range(min=2000, max=2099), metadata={"description": "年份；不填为全部"})


class PrefillArgs(ma.Schema):
    year = Int(required=True, validate=validate.Range(min=2000, max=2099))


class CalendarDayIn(ma.Schema):
    day = Day(required=True)
    kind = ma.fields.String(required=True, validate=validate.OneOf(["holiday", "workday", "normal"]), metadata={
        "description": "holiday 休息 | workday 调休上班 | normal 照常营业（不按国务院安排）"})
    name = Text(50, load_default="", metadata={"description": "如 春节、小区活动"})


class CalendarDayOut(ma.Schema):
    id = Int()
    day = Day()
    weekday = ma.fields.Function(lambda d: d.day.isoweekday())
    kind = ma.fields.String()
    kind_label = ma.fields.Function(lambda d: CALENDAR_KINDS[d.kind])
    name = ma.fields.String()
    source = ma.fields.String(metadata={"description": "state 国务院安排（预填）| manual 本小区设置"})


class PrefillOut(ma.Schema):
    year = Int()
    added = ma.fields.List(ma.fields.Nested(CalendarDayOut), metadata={"description": "新加入的日期"})
    kept = ma.fields.List(Day(), metadata={"description": "本小区已有设置、未改动的日期"})
    source = ma.fields.String(metadata={"description": "放假安排的来源（软件包及版本）"})
