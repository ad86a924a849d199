"""Request and response schemas: satisfaction surveys, common problems, the monthly complaints report."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import ValidationError, validate, validates_schema

from ..notices.schemas import NoticeIn, ScopeIn
from ..notices.services import KINDS as NOTICE_KINDS
from ..notices.services import scope_label
from ..reporting import MonthField
from ..schemas import Int, LocalDateTime, PageArgs, PersonOut, Phone, Text, page_of
from ..timeutil import utcnow
from ..workorders import states
from . import metrics
from .services import PROBLEM_STATUSES, notice_draft


def _house(house) -> dict:
    return {"id": house.id, "label": house.label}


# -- surveys ---------------------------------------------------------------------------------------------

class SurveyIn(ma.Schema):
    house_id = Int(required=True, strict=True)
    method = ma.fields.String(required=True, validate=validate.OneOf(list(metrics.SURVEY_METHODS)),
                              metadata={"description": "phone 电话 | visit 走访"})
    answer = ma.fields.String(required=True, validate=validate.OneOf(list(metrics.SURVEY_ANSWERS)),
                              metadata={"description": "satisfied 满意 | basically_satisfied 基本满意 | dissatisfied 不满意"})
    comments = Text(1000, load_default="", metadata={"description": "住户的意见或建议（有意见的须记录答复）"})
    respondent_name = Text(50, load_default="", metadata={"description": "受访人"})
    respondent_phone = Phone(load_default=None, allow_none=True)
    surveyed_at = LocalDateTime(load_default=None, allow_none=True,
                                metadata={"description": "调查时间，默认现在；决定记入哪个月"})


class SurveyArgs(PageArgs):
    month = MonthField(load_default=None, metadata={"description": "YYYY-MM；省略：全部月份"})
    unanswered = ma.fields.Boolean(load_default=None, allow_none=True,
                                   metadata={"description": "true：只看有意见尚未答复的；false：其余的"})
    answer = ma.fields.String(load_default=None, validate=validate.OneOf(list(metrics.SURVEY_ANSWERS)))


class SummaryArgs(ma.Schema):
    month = MonthField(required=True)


class ResponseIn(ma.Schema):
    response = Text(1000, required=True, min_length=1, metadata={"description": "对住户意见的答复"})


class SurveyOut(ma.Schema):
    id = Int()
    house = ma.fields.Function(lambda s: _house(s.house))
    month = ma.fields.String()
    method = ma.fields.String()
    method_label = ma.fields.Function(lambda s: metrics.SURVEY_METHODS.get(s.method, s.method))
    answer = ma.fields.String()
    answer_label = ma.fields.Function(lambda s: metrics.SURVEY_ANSWERS.get(s.answer, s.answer))
    comments = ma.fields.String()
    has_opinion = ma.fields.Boolean()
    awaiting_response = ma.fields.Boolean(metadata={"description": "有意见但尚未答复"})
    respondent_name = ma.fields.String()
    respondent_phone = ma.fields.String()
    surveyed_by = ma.fields.Nested(PersonOut, allow_none=True)
    surveyed_at = LocalDateTime()
    response = ma.fields.String(allow_none=True)
    responded_by = ma.fields.Nested(PersonOut, allow_none=True)
    responded_at = LocalDateTime(allow_none=True)


SurveyPage = page_of(SurveyOut, "SurveyPage")


class MetricOut(ma.Schema):
    value = ma.fields.Float(allow_none=True, metadata={"description": "数值；比率为 0..1（3 位小数），无数据为 null"})
    target = ma.fields.Float(allow_none=True, metadata={"description": "目标（下限）；无目标为 null"})
    met = ma.fields.Boolean(allow_none=True, metadata={"description": "是否达标；无数据或无目标为 null"})
    numerator = Int(allow_none=True)
    denominator = Int(allow_none=True)


class CountMetricOut(MetricOut):
    value = Int(allow_none=True)
    target = Int(allow_none=True)


class AnswerCountOut(ma.Schema):
    answer = ma.fields.String()
    label = ma.fields.String()
    count = Int()


class SurveyStatsOut(ma.Schema):
    surveyed_households = ma.fields.Nested(CountMetricOut, metadata={"description": "调查户数，目标 ≥ 20"})
    answers = ma.fields.List(ma.fields.Nested(AnswerCountOut))
    satisfaction_rate = ma.fields.Nested(MetricOut, metadata={"description": "满意率，目标 ≥ 96%"})
    satisfaction_degree = ma.fields.Nested(MetricOut, metadata={"description": "满意度，目标 ≥ 75%"})
    opinions = Int(metadata={"description": "有意见的户数"})
    unanswered_opinions = Int(metadata={"description": "意见尚未答复的户数"})


class SurveySummaryOut(SurveyStatsOut):
    month = ma.fields.String()
    all_opinions_answered = ma.fields.Boolean(metadata={"description": "每条意见都已答复"})


# -- common problems -----------------------------------------------------------------------------------------

class ProblemArgs(PageArgs):
    status = ma.fields.String(load_default=None, validate=validate.OneOf([*PROBLEM_STATUSES, "overdue"]),
                              metadata={"description": "open 待答复 | answered 已答复 | overdue 超过一周未答复；省略：全部"})


class ProblemNoticeIn(NoticeIn):
    """Either `notice_id` (an existing notice) or a new notice to publish (title, content, ...)."""
    notice_id = Int(strict=True, metadata={"description": "已发布的通知 id"})
    title = Text(50, min_length=1)
    content = Text(5000, min_length=1)
    kind = ma.fields.String(load_default="common_problem", validate=validate.OneOf(list(NOTICE_KINDS)))
    scope = ma.fields.Nested(ScopeIn, allow_none=True,
                             metadata={"description": "省略：问题所在楼栋；null：全小区；{\"buildings\": [...]}：指定楼栋"})

    @validates_schema
    def one_way(self, data, **kwargs):
        if "notice_id" in data:
            extra = [k for k in ("title", "content", "scope", "starts_at", "ends_at") if data.get(k) is not None]
            if extra:
                raise ValidationError({k: ["关联已有通知时不能同时发布新通知"] for k in extra})
            return
        missing = {k: ["必填"] for k in ("title", "content") if not data.get(k)}
        if missing:
            raise ValidationError(missing)


class ComplaintRefOut(ma.Schema):
    id = Int(attribute="order.id")
    number = ma.fields.String(attribute="order.number")
    title = ma.fields.String(attribute="order.title")
    house = ma.fields.Function(lambda link: _house(link.order.house))
    status = ma.fields.String(attribute="order.status")
    status_label = ma.fields.Function(lambda link: states.STATUSES.get(link.order.status, link.order.status))
    created_at = LocalDateTime(attribute="order.created_at")


class NoticeRefOut(ma.Schema):
    id = Int()
    title = ma.fields.String()
    kind = ma.fields.String()
    scope_label = ma.fields.Function(lambda n: scope_label(n.scope))
    published_at = LocalDateTime()


class ProblemOut(ma.Schema):
    id = Int()
    building = ma.fields.Function(lambda p: {"id": p.building.id, "code": p.building.code, "name": p.building.name})
    category = ma.fields.String()
    category_label = ma.fields.Function(lambda p: metrics.category_label(p.category))
    status = ma.fields.String()
    status_label = ma.fields.Function(lambda p: PROBLEM_STATUSES.get(p.status, p.status))
    complaint_count = Int()
    first_complaint_at = LocalDateTime()
    last_complaint_at = LocalDateTime()
    detected_at = LocalDateTime()
    answer_due_at = LocalDateTime(metadata={"description": "须在此前发布通知答复（发现后一周）"})
    overdue = ma.fields.Function(lambda p: p.status == "open" and p.answer_due_at < utcnow())
    notice_id = Int(allow_none=True)
    answered_at = LocalDateTime(allow_none=True)
    answered_by = ma.fields.Nested(PersonOut, allow_none=True)
    reminded_at = LocalDateTime(allow_none=True, metadata={"description": "逾期提醒经理的时间（只提醒一次）"})


class ProblemDetailOut(ProblemOut):
    complaints = ma.fields.List(ma.fields.Nested(ComplaintRefOut))
    notice = ma.fields.Nested(NoticeRefOut, allow_none=True, metadata={"description": "答复的通知"})
    notice_draft = ma.fields.Function(notice_draft, allow_none=True, metadata={
        "description": "待答复时：答复通知的草稿（kind、title、content、scope），可修改后 POST …/notice 发布；已答复为 null"})


ProblemPage = page_of(ProblemOut, "CommonProblemPage")


# -- the monthly complaints report --------------------------------------------------------------------------

class OnTimeOut(ma.Schema):
    clock = ma.fields.String(metadata={"description": "handler | onsite | reply | followup"})
    label = ma.fields.String()
    due = Int(metadata={"description": "应完成数（时限已到或已完成）"})
    met = Int()
    missed = Int()
    pending = Int(metadata={"description": "尚未到期的"})
    rate = ma.fields.Float(allow_none=True)


class HandlerBreachesOut(ma.Schema):
    staff_id = Int(allow_none=True)
    name = ma.fields.String()
    total = Int()
    clocks = ma.fields.Dict(keys=ma.fields.String(), values=Int())


class SummaryRowOut(ma.Schema):
    key = ma.fields.String()
    label = ma.fields.String()
    kind = ma.fields.String(metadata={"description": "count 件数/户数 | rate 比率 0..1"})
    value = ma.fields.Raw(allow_none=True, metadata={"description": "整数（count）或 0..1（rate）"})
    target = ma.fields.Raw(allow_none=True)
    met = ma.fields.Boolean(allow_none=True)


class ComplaintReportOut(ma.Schema):
    month = ma.fields.String()
    community = ma.fields.Dict()
    generated_at = LocalDateTime()
    received = Int()
    closed = Int()
    closure_rate = ma.fields.Nested(MetricOut)
    satisfaction = ma.fields.Nested(MetricOut)
    callback_rate = ma.fields.Nested(MetricOut)
    on_time = ma.fields.List(ma.fields.Nested(OnTimeOut))
    breaches_by_handler = ma.fields.List(ma.fields.Nested(HandlerBreachesOut))
    surveys = ma.fields.Nested(SurveyStatsOut)
    summary = ma.fields.List(ma.fields.Nested(SummaryRowOut))
    definitions = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())
