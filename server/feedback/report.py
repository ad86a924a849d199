"""The monthly complaints report (投诉月报) from the database, and as xlsx. The arithmetic and every
definition: metrics.py. Month parsing, boundaries and the download: server/reporting.py (shared with the
paid-services report)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import aliased, selectinload

from ..accounts.models import Community, House, Staff
from ..auth import access
from ..extensions import db
from ..reporting import bold_row, excel_time, month_bounds, month_text, set_widths, workbook_bytes
from ..timeutil import utcnow
from ..workorders import rules as order_rules
from ..workorders import states
from ..workorders.models import Callback, SlaBreach, WorkOrder
from . import metrics
from .models import SatisfactionSurvey


def fetch_complaints(community_id: int, start, end) -> list[metrics.ComplaintRow]:
    """The month's complaints (cancelled ones too: listed, never counted), with handler and latest callback."""
    last_result = (select(Callback.result).where(Callback.order_id == WorkOrder.id)
                   .order_by(Callback.at.desc(), Callback.id.desc()).limit(1)
                   .correlate(WorkOrder).scalar_subquery())
    stmt = (select(WorkOrder, Staff.name.label("handler_name"), last_result.label("callback_result"))
            .outerjoin(Staff, Staff.id == WorkOrder.assignee_id)
            .where(WorkOrder.community_id == community_id, WorkOrder.kind == "complaint",
                   WorkOrder.created_at >= start, WorkOrder.created_at < end)
            .order_by(WorkOrder.created_at, WorkOrder.id))
    return [metrics.ComplaintRow(
        id=o.id, number=o.number, category=o.category, status=o.status, created_at=o.created_at,
        handler_name=handler_name, emergency=o.emergency, handler_due_at=o.handler_due_at,
        accepted_at=o.accepted_at, onsite_due_at=o.onsite_due_at, arrived_at=o.arrived_at,
        reply_due_at=o.reply_due_at, replied_at=o.replied_at, callback_due_at=o.callback_due_at,
        callback_at=o.callback_at, needs_callback=o.needs_callback, rating=o.rating,
        callback_result=callback_result) for o, handler_name, callback_result in db.session.execute(stmt)]


def fetch_breaches(order_ids: list[int]) -> list[metrics.BreachRow]:
    if not order_ids:
        return []
    responsible = aliased(Staff)
    stmt = (select(SlaBreach.order_id, SlaBreach.clock, SlaBreach.round, SlaBreach.level,
                   SlaBreach.responsible_id, responsible.name)
            .outerjoin(responsible, responsible.id == SlaBreach.responsible_id)
            .where(SlaBreach.order_id.in_(order_ids)).order_by(SlaBreach.id))
    return [metrics.BreachRow(*row) for row in db.session.execute(stmt)]


def fetch_surveys(community_id: int, month: str) -> list[SatisfactionSurvey]:
    return list(db.session.scalars(
        select(SatisfactionSurvey)
        .options(selectinload(SatisfactionSurvey.house).selectinload(House.building),
                 selectinload(SatisfactionSurvey.surveyed_by))
        .where(SatisfactionSurvey.community_id == community_id, SatisfactionSurvey.month == month)
        .order_by(SatisfactionSurvey.surveyed_at, SatisfactionSurvey.id)))


def survey_row(survey: SatisfactionSurvey) -> metrics.SurveyRow:
    return metrics.SurveyRow(answer=survey.answer, has_opinion=survey.has_opinion,
                             responded=survey.responded_at is not None)


def monthly_complaints(staff: Staff, year: int, month: int) -> dict:
    """The report for the caller's community (managers only)."""
    access.require(staff, "complaint_report")
    community = db.session.get(Community, staff.community_id)
    start, end = month_bounds(year, month, community.timezone)
    label = month_text(year, month)
    now = utcnow()
    complaints = fetch_complaints(community.id, start, end)
    breaches = fetch_breaches([c.id for c in complaints if c.counted])
    surveys = fetch_surveys(community.id, label)
    return {
        "month": label,
        "community": {"code": community.code, "name": community.name},
        "timezone": community.timezone,
        "generated_at": now,
        **metrics.complaint_metrics(complaints, breaches, [survey_row(s) for s in surveys], now),
        "definitions": metrics.DEFINITIONS,
        "rows": complaints,
        "survey_records": surveys,
    }


# -- xlsx ------------------------------------------------------------------------------------------------

SUMMARY_HEADERS = ["指标", "数值", "目标", "是否达标", "口径"]
DETAIL_HEADERS = ["投诉单号", "类别", "登记时间", "处理人", "状态", "受理（10 分钟）", "到场（5 分钟）", "答复", "回访（3 日）",
                  "评分", "回访结果"]
SURVEY_HEADERS = ["房屋", "受访人", "电话", "方式", "调查结果", "意见或建议", "答复", "调查人", "调查时间", "答复时间"]
MET_TEXT = {True: "达标", False: "未达标", None: "—"}


def _summary_definition(key: str) -> str:
    if key.startswith("on_time_"):
        return metrics.DEFINITIONS["on_time"]
    return metrics.DEFINITIONS.get(key, "")


def workbook(report: dict) -> bytes:
    """汇总 (each figure, target, met), 明细 (one row per complaint), 调查 (the survey records)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    zone = report.get("timezone", "Asia/Shanghai")
    now = report["generated_at"]
    year, month = report["month"].split("-")
    wb = Workbook()

    summary = wb.active
    summary.title = "汇总"
    summary.append([f"{report['community']['name']} 投诉与满意度月报 {year}年{int(month)}月"])
    summary["A1"].font = Font(bold=True, size=14)
    summary.append([(f"统计口径：{year}-{month} 月内（北京时间）登记的投诉（已取消的不计）及本月满意度调查；"
                     f"统计时间 {excel_time(now, zone):%Y-%m-%d %H:%M}")])
    summary.append([])
    summary.append(SUMMARY_HEADERS)
    bold_row(summary, summary.max_row)
    for item in report["summary"]:
        summary.append([item["label"], item["value"], item["target"], MET_TEXT[item["met"]],
                        _summary_definition(item["key"])])
        row = summary.max_row
        if item["kind"] == "rate":
            summary.cell(row, 2).number_format = summary.cell(row, 3).number_format = "0.0%"
        summary.cell(row, 5).alignment = Alignment(wrap_text=True, vertical="top")
    summary.append([])
    summary.append(["超时记录（按责任人）"])
    bold_row(summary, summary.max_row)
    summary.append(["责任人", "合计", *metrics.CLOCKS.values()])
    bold_row(summary, summary.max_row)
    for person in report["breaches_by_handler"]:
        summary.append([person["name"], person["total"], *(person["clocks"].get(c, 0) for c in metrics.CLOCKS)])
    set_widths(summary, [28, 12, 12, 12, 60])

    detail = wb.create_sheet("明细")
    detail.append(DETAIL_HEADERS)
    bold_row(detail, 1)
    for r in report["rows"]:
        clocks = [metrics.CLOCK_STATES[r.clock(name, now)] for name in metrics.CLOCKS]
        callback = order_rules.CALLBACK_RESULTS.get(r.callback_result, r.callback_result) if r.callback_result \
            else ("待回访" if r.closed and not r.called_back else "—")
        detail.append([r.number, metrics.category_label(r.category), excel_time(r.created_at, zone), r.handler_name or "",
                       states.STATUSES.get(r.status, r.status), *clocks, r.rating, callback])
        detail.cell(detail.max_row, 3).number_format = "yyyy-mm-dd hh:mm"
    detail.freeze_panes = "A2"
    set_widths(detail, [18, 12, 18, 10, 10, 14, 14, 10, 12, 8, 10])

    survey = wb.create_sheet("调查")
    survey.append(SURVEY_HEADERS)
    bold_row(survey, 1)
    for s in report["survey_records"]:
        survey.append([s.house.label, s.respondent_name, s.respondent_phone,
                       metrics.SURVEY_METHODS.get(s.method, s.method), metrics.SURVEY_ANSWERS.get(s.answer, s.answer),
                       s.comments, s.response or ("待答复" if s.has_opinion else ""),
                       s.surveyed_by.name if s.surveyed_by else "", excel_time(s.surveyed_at, zone),
                       excel_time(s.responded_at, zone)])
        row = survey.max_row
        survey.cell(row, 9).number_format = survey.cell(row, 10).number_format = "yyyy-mm-dd hh:mm"
    survey.freeze_panes = "A2"
    set_widths(survey, [16, 10, 14, 8, 10, 30, 30, 10, 18, 18])
    return workbook_bytes(wb)


def xlsx_filenames(month: str) -> tuple[str, str]:
    """(ASCII name for `filename=`, Chinese name for `filename*=`)."""
    return f"complaints-{month}.xlsx", f"投诉月报-{month}.xlsx"
