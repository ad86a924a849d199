"""Office views of work orders: printable service notice, callback queue, monthly report (the cash
handover is billing's: server/billing/handover_routes.py).

Parse -> one service call -> commit -> dump. Definitions of the queue and the report: reports.py.
"""
from __future__ import annotations

import marshmallow as ma
from flask import Response

from ..api import BEARER, blueprint
from ..auth.access import requires
from ..auth.services import require_staff
from ..reporting import BINARY, XLSX_MIMETYPE, ReportArgs, parse_month, xlsx_response
from ..schemas import Int, LocalDateTime, page_of
from . import notice, reports, rules
from .schemas import CallbackArgs

notice_blp = blueprint("service-notice", "/api/v1/staff/work-orders", "有偿服务通知单（打印）")
callbacks_blp = blueprint("callback-queue", "/api/v1/staff/callbacks", "回访队列（接待员、经理）")
reports_blp = blueprint("reports", "/api/v1/staff/reports", "有偿服务月报（经理、财务）")

# -- schemas -----------------------------------------------------------------------------------------------

class LastCallbackOut(ma.Schema):
    result = ma.fields.String()
    result_label = ma.fields.Function(lambda c: rules.CALLBACK_RESULTS.get(c.result, c.result))
    note = ma.fields.String()
    at = LocalDateTime()
    staff_name = ma.fields.Function(lambda c: c.staff.name if c.staff else None)


class CallbackItemOut(ma.Schema):
    id = Int(attribute="order.id")
    number = ma.fields.String(attribute="order.number")
    kind = ma.fields.String(attribute="order.kind")
    kind_label = ma.fields.Function(lambda i: rules.KINDS[i["order"].kind])
    title = ma.fields.String(attribute="order.title")
    status = ma.fields.String(attribute="order.status")
    house = ma.fields.Function(lambda i: {"id": i["order"].house_id, "label": i["order"].house.label})
    contact_name = ma.fields.String(attribute="order.contact_name")
    contact_phone = ma.fields.String(attribute="order.contact_phone")
    completed_at = LocalDateTime(attribute="order.completed_at", allow_none=True)
    callback_due_at = LocalDateTime(attribute="order.callback_due_at")
    overdue = ma.fields.Boolean()
    needs_callback = ma.fields.Boolean(attribute="order.needs_callback")
    rating = Int(attribute="order.rating", allow_none=True)
    last_callback = ma.fields.Nested(LastCallbackOut, allow_none=True)


CallbackPage = page_of(CallbackItemOut, "CallbackQueuePage")


class DepartmentStatsOut(ma.Schema):
    department = ma.fields.String()
    department_label = ma.fields.String()
    count = Int(metadata={"description": "服务单数（不含已取消）"})
    completed = Int(metadata={"description": "已完工单数（待确认、已确认、已完成）"})
    amount_fen = Int(metadata={"description": "已完工单的最终金额合计（分）"})
    collected_fen = Int(metadata={"description": "本月内收到的款项（分）"})
    rework_count = Int(metadata={"description": "返工次数合计"})
    average_rating = ma.fields.Float(allow_none=True, metadata={"description": "平均评分（1 位小数），无评价为 null"})
    callback_rate = ma.fields.Float(allow_none=True,
                                    metadata={"description": "回访率 0..1（3 位小数），无完工单为 null"})


class ItemStatsOut(ma.Schema):
    service_item_id = Int(allow_none=True)
    name = ma.fields.String()
    department = ma.fields.String()
    department_label = ma.fields.String()
    count = Int()
    completed = Int()
    amount_fen = Int()


class ServiceReportOut(ma.Schema):
    month = ma.fields.String()
    community = ma.fields.Dict()
    departments = ma.fields.List(ma.fields.Nested(DepartmentStatsOut))
    total = ma.fields.Nested(DepartmentStatsOut)
    items = ma.fields.List(ma.fields.Nested(ItemStatsOut))


# -- service notice ------------------------------------------------------------------------------------------

@notice_blp.get("/<int:order_id>/notice")
@notice_blp.response(200, description="A4 打印页（text/html）：财务联、部门联、存档联", content_type="text/html")
@notice_blp.doc(security=BEARER, responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}})
def service_notice(order_id):
    """有偿服务通知单：一页 A4 三联（财务联 / 部门联 / 存档联），沿虚线剪开"""
    html = notice.notice_html(require_staff(), order_id)
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


# -- callback queue ------------------------------------------------------------------------------------------

@callbacks_blp.get("")
@requires("desk")
@callbacks_blp.arguments(CallbackArgs, location="query")
@callbacks_blp.response(200, CallbackPage)
@callbacks_blp.doc(security=BEARER)
def callback_queue(args):
    """待回访 / 已超时 / 已回访的报修、有偿服务与投诉（投诉处理后 3 日内回访），按回访时限排序（记录回访：POST /staff/work-orders/{id}/callback）"""
    staff = require_staff()
    return reports.callback_queue(staff, args["status"], args["page"], args["per_page"], args["kind"])


# -- monthly report ------------------------------------------------------------------------------------------

@reports_blp.get("/services")
@reports_blp.arguments(ReportArgs, location="query")
@reports_blp.response(200, ServiceReportOut, description="月报（JSON）；format=xlsx 时为 Excel 文件（汇总、明细两个工作表）")
@reports_blp.doc(security=BEARER, responses={200: {"content": {XLSX_MIMETYPE: {"schema": BINARY}}}})
def services_report(args):
    """有偿服务月报：按部门统计单数、完工、金额、收款、返工、评分、回访率，及按服务项目的明细"""
    report = reports.monthly_services(require_staff(), *parse_month(args["month"]))
    if args["format"] != "xlsx":
        return report
    return xlsx_response(reports.workbook(report), *reports.xlsx_filenames(report["month"]))


BLUEPRINTS = (notice_blp, callbacks_blp, reports_blp)
