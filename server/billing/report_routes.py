"""Fee reports (/api/v1/staff/reports/collection[/weekly]) and the WeChat Pay reconciliation
(/api/v1/staff/reconciliation/...), for managers and finance. Parse -> one service call -> commit -> dump.
Definitions: report_figures.py (every report figure), reconciliation.py (runs, who sees which difference) and
reconciliation_compare.py (the kinds of difference)."""
from __future__ import annotations


import marshmallow as ma
from marshmallow import validate

from ..api import BEARER, blueprint
from ..auth.access import requires
from ..auth.services import require_staff
from ..extensions import db
from ..pagination import paginate
from ..reporting import BINARY, XLSX_MIMETYPE, MonthField, xlsx_response
from ..schemas import Day, Int, LocalDateTime, PageArgs, Text, page_of
from . import reconciliation, report_xlsx, reports
from .reconciliation_compare import DIFF_KINDS, describe
from .report_figures import DEFAULT_ARREARS_LIMIT, DEFINITIONS, WEEKLY_DEFINITIONS, parse_week

collection_blp = blueprint("collection-report", "/api/v1/staff/reports",
                           "收费报表：收费率、户收费率、欠费明细（账龄）、代收回收、周报（经理、财务）")
reconciliation_blp = blueprint("reconciliation", "/api/v1/staff/reconciliation",
                               "微信支付对账：每日下载交易账单，逐笔核对，记录差异（经理、财务）")

WEEK_RE = r"^(20\d{2})-W(0[1-9]|[1-4]\d|5[0-3])$"
WEEK_ERROR = "周格式应为 YYYY-Www（ISO 周，如 2026-W48）"


# -- schemas --------------------------------------------------------------------------------------------------

FORMAT = {"load_default": "json", "validate": validate.OneOf(["json", "xlsx"]),
          "metadata": {"description": "json（默认）或 xlsx（Excel 下载）"}}


class CollectionArgs(ma.Schema):
    period = MonthField(required=True, metadata={"description": "账单期间 YYYY-MM"})
    format = ma.fields.String(**FORMAT)
    as_of = LocalDateTime(load_default=None, metadata={
        "description": "统计时点（ISO 8601，默认当前时间；不带时区按北京时间）"})
    arrears_limit = Int(load_default=DEFAULT_ARREARS_LIMIT, validate=validate.Range(0, 10000),
                                      metadata={"description": "JSON 中列出的欠费户数（欠费多的在前）；xlsx 列出全部"})


class WeekArgs(ma.Schema):
    week = ma.fields.String(required=True, validate=validate.Regexp(WEEK_RE, error=WEEK_ERROR),
                            metadata={"description": "ISO 周 YYYY-Www，按北京时间划分"})
    format = ma.fields.String(**FORMAT)

    @ma.validates("week")
    def week_exists(self, value, **kwargs):
        try:
            parse_week(value)
        except ValueError:
            raise ma.ValidationError(f"{value} 不存在（该年没有这一周）") from None


class FiguresOut(ma.Schema):
    bills = Int(metadata={"description": "应收账单数"})
    billed_fen = Int(metadata={"description": "应收（分）"})
    paid_bills = Int()
    collected_fen = Int(metadata={"description": "实收（分）"})
    outstanding_fen = Int()
    collection_rate = ma.fields.Float(allow_none=True, metadata={"description": "收费率（按金额），0..1"})
    houses = Int()
    houses_paid = Int()
    household_rate = ma.fields.Float(allow_none=True, metadata={"description": "户收费率，0..1"})


class BuildingFiguresOut(FiguresOut):
    building_id = Int()
    building = ma.fields.String()


class ItemFiguresOut(FiguresOut):
    fee_item_id = Int()
    code = ma.fields.String()
    name = ma.fields.String()
    advance = ma.fields.Boolean()


class BucketOut(ma.Schema):
    key = ma.fields.String()
    label = ma.fields.String()


BucketAmounts = ma.fields.Dict(keys=ma.fields.String(), values=Int(),
                               metadata={"description": "账龄段 -> 欠费（分）"})


class ArrearsTotalOut(ma.Schema):
    houses = Int()
    bills = Int()
    amount_fen = Int()
    buckets = BucketAmounts


class ArrearsBuildingOut(ArrearsTotalOut):
    building_id = Int()
    building = ma.fields.String()


class ArrearsHouseOut(ma.Schema):
    house_id = Int()
    house = ma.fields.String()
    building = ma.fields.String()
    bills = Int()
    amount_fen = Int()
    oldest_due = Day()
    days_overdue = Int(metadata={"description": "最早一笔的逾期天数"})
    periods = ma.fields.String()
    buckets = BucketAmounts


class ArrearsOut(ma.Schema):
    date = Day(metadata={"description": "计算逾期天数的日期（统计时点的北京时间日期）"})
    buckets = ma.fields.List(ma.fields.Nested(BucketOut))
    total = ma.fields.Nested(ArrearsTotalOut)
    by_building = ma.fields.List(ma.fields.Nested(ArrearsBuildingOut))
    houses = ma.fields.List(ma.fields.Nested(ArrearsHouseOut))
    house_count = Int()
    houses_truncated = ma.fields.Boolean()


class RecoveryOut(ma.Schema):
    bills = Int()
    billed_fen = Int()
    recovered_fen = Int()
    outstanding_fen = Int()
    recovery_rate = ma.fields.Float(allow_none=True)
    fully_recovered = ma.fields.Boolean()


class RecoveryBuildingOut(RecoveryOut):
    building_id = Int()
    building = ma.fields.String()


class RecoveryItemOut(RecoveryOut):
    fee_item_id = Int()
    code = ma.fields.String()
    name = ma.fields.String()
    by_building = ma.fields.List(ma.fields.Nested(RecoveryBuildingOut))


class AdvancesOut(ma.Schema):
    period_over = ma.fields.Boolean(metadata={"description": "统计时点已过期末"})
    total = ma.fields.Nested(RecoveryOut)
    items = ma.fields.List(ma.fields.Nested(RecoveryItemOut))


class MethodOut(ma.Schema):
    method = ma.fields.String()
    label = ma.fields.String()
    payments = Int()
    bills = Int()
    amount_fen = Int()


class CollectedItemOut(ma.Schema):
    fee_item_id = Int()
    code = ma.fields.String()
    name = ma.fields.String()
    bills = Int()
    amount_fen = Int()


class PeriodKindOut(ma.Schema):
    kind = ma.fields.String(metadata={"description": "current 本期 | arrears 往期欠费 | advance 预收"})
    label = ma.fields.String()
    bills = Int()
    amount_fen = Int()


class CollectedTotalOut(ma.Schema):
    payments = Int()
    bills = Int()
    amount_fen = Int()


class CollectionOut(ma.Schema):
    current_period = ma.fields.String()
    total = ma.fields.Nested(CollectedTotalOut)
    by_method = ma.fields.List(ma.fields.Nested(MethodOut))
    by_item = ma.fields.List(ma.fields.Nested(CollectedItemOut))
    by_period = ma.fields.List(ma.fields.Nested(PeriodKindOut))


Definitions = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), metadata={"description": "统计口径"})


class CollectionReportOut(ma.Schema):
    period = ma.fields.String()
    community = ma.fields.Dict()
    timezone = ma.fields.String()
    generated_at = LocalDateTime()
    as_of = LocalDateTime()
    period_start = Day()
    period_end = Day()
    total = ma.fields.Nested(FiguresOut)
    by_building = ma.fields.List(ma.fields.Nested(BuildingFiguresOut))
    by_item = ma.fields.List(ma.fields.Nested(ItemFiguresOut))
    arrears = ma.fields.Nested(ArrearsOut)
    advances = ma.fields.Nested(AdvancesOut)
    month_collection = ma.fields.Nested(CollectionOut)
    definitions = Definitions


class PeriodToDateOut(FiguresOut):
    period = ma.fields.String()
    as_of = LocalDateTime()


class WeeklyReportOut(ma.Schema):
    week = ma.fields.String()
    community = ma.fields.Dict()
    timezone = ma.fields.String()
    generated_at = LocalDateTime()
    start = Day()
    end = Day()
    complete = ma.fields.Boolean(metadata={"description": "本周已结束"})
    collection = ma.fields.Nested(CollectionOut)
    period_to_date = ma.fields.Nested(PeriodToDateOut)
    definitions = Definitions


class RunArgs(PageArgs):
    status = ma.fields.String(validate=validate.OneOf(list(reconciliation.RUN_STATUSES)))


class RunOut(ma.Schema):
    id = Int(attribute="run.id")
    day = Day(attribute="run.day")
    status = ma.fields.String(attribute="run.status")
    status_label = ma.fields.Function(lambda r: reconciliation.RUN_STATUSES[r["run"].status])
    trades = Int(attribute="run.trades", metadata={"description": "微信账单的交易行数（整个商户号）"})
    matched = Int(attribute="run.matched")
    differences = Int(attribute="run.differences", metadata={"description": "差异条数（整个商户号）"})
    visible_differences = Int(metadata={"description": "您可见的差异条数"})
    open_differences = Int(metadata={"description": "您可见且未处理的差异条数"})
    hash_value = ma.fields.String(attribute="run.hash_value", allow_none=True)
    error = ma.fields.String(attribute="run.error", allow_none=True)
    ran_at = LocalDateTime(attribute="run.ran_at")


RunPage = page_of(RunOut, "ReconciliationRunPage")


class DiffOut(ma.Schema):
    id = Int()
    run_id = Int()
    kind = ma.fields.String(metadata={"description": "missing_here | missing_there | amount | status | refund"})
    kind_label = ma.fields.Function(lambda d: DIFF_KINDS[d.kind])
    description = ma.fields.Function(lambda d: describe(d.kind, d.remote, d.local))
    community_id = Int(allow_none=True, metadata={"description": "无法归属小区的为 null（仅财务可见）"})
    out_trade_no = ma.fields.String(allow_none=True)
    remote = ma.fields.Dict(metadata={"description": "微信账单中的记录（金额为分）"})
    local = ma.fields.Dict(metadata={"description": "本系统的记录"})
    resolved = ma.fields.Function(lambda d: d.resolved_at is not None)
    resolved_at = LocalDateTime(allow_none=True)
    resolved_by = ma.fields.Function(lambda d: _staff_name(d.resolved_by_id))
    note = ma.fields.String(allow_none=True)


def _staff_name(staff_id: int | None) -> str | None:
    if staff_id is None:
        return None
    from ..accounts.models import Staff

    staff = db.session.get(Staff, staff_id)
    return staff.name if staff else None


class RunDetailOut(RunOut):
    diffs = ma.fields.List(ma.fields.Nested(DiffOut))


class ResolveIn(ma.Schema):
    note = Text(200, required=True, min_length=1, metadata={"description": "处理说明（如：已补记、已与微信核实）"})


# -- reports --------------------------------------------------------------------------------------------------

def _definitions_text(definitions: dict) -> str:
    return "\n".join(f"- {key}：{text}" for key, text in definitions.items())


@collection_blp.get("/collection")
@requires("reports")
@collection_blp.arguments(CollectionArgs, location="query")
@collection_blp.response(200, CollectionReportOut, description="月报（JSON）；format=xlsx 时为 Excel 文件"
                                                               "（汇总、按楼栋、按项目、欠费明细、代收回收五个工作表）")
@collection_blp.doc(security=BEARER, description="统计口径：\n" + _definitions_text(DEFINITIONS),
                    responses={200: {"content": {XLSX_MIMETYPE: {"schema": BINARY}}}})
def collection_report(args):
    """收费月报：应收、实收、收费率、户收费率（按楼栋、按项目），欠费明细与账龄，代垫费用回收，本月收款"""
    result = reports.period_report(require_staff(), args["period"], args["as_of"],
                                   None if args["format"] == "xlsx" else args["arrears_limit"])
    if args["format"] != "xlsx":
        return result
    return xlsx_response(report_xlsx.workbook(result), *report_xlsx.xlsx_filenames(result["period"]))


@collection_blp.get("/collection/weekly")
@requires("reports")
@collection_blp.arguments(WeekArgs, location="query")
@collection_blp.response(200, WeeklyReportOut, description="周报（JSON）；format=xlsx 时为 Excel 文件")
@collection_blp.doc(security=BEARER, description="统计口径：\n" + _definitions_text(WEEKLY_DEFINITIONS),
                    responses={200: {"content": {XLSX_MIMETYPE: {"schema": BINARY}}}})
def weekly_report(args):
    """收费周报：本周收款（按收款方式、项目、期间类别）及本期截至周末的累计收费率"""
    result = reports.weekly_report(require_staff(), args["week"])
    if args["format"] != "xlsx":
        return result
    return xlsx_response(report_xlsx.weekly_workbook(result), *report_xlsx.weekly_filenames(result["week"]))


# -- reconciliation ---------------------------------------------------------------------------------------------

@reconciliation_blp.get("/runs")
@requires("reports")
@reconciliation_blp.arguments(RunArgs, location="query")
@reconciliation_blp.response(200, RunPage)
@reconciliation_blp.doc(security=BEARER)
def list_runs(args):
    """每日对账记录，最近的在前（状态：matched 一致 | differences 有差异 | no_bill 当日无账单 | failed 失败）"""
    staff = require_staff()
    page = paginate(reconciliation.runs_query(staff, args.get("status")), args["page"], args["per_page"])
    page["items"] = reconciliation.with_counts(staff, page["items"])
    return page


@reconciliation_blp.get("/runs/<int:run_id>")
@requires("reports")
@reconciliation_blp.response(200, RunDetailOut)
@reconciliation_blp.doc(security=BEARER, description=(
    "差异种类：missing_here 微信有、本系统无；missing_there 本系统当日已支付、微信账单无；amount 金额不符；"
    "status 微信已成功而本系统未入账（或微信支付单号不同）；refund 退款不符。\n"
    "可见范围：本小区的差异；无法归属小区的差异（如 missing_here）只给财务部员工看。"))
def get_run(run_id):
    """某日对账结果及您可见的差异"""
    return reconciliation.run_detail(require_staff(), run_id)


@reconciliation_blp.post("/diffs/<int:diff_id>/resolve")
@requires("reports")
@reconciliation_blp.arguments(ResolveIn)
@reconciliation_blp.response(200, DiffOut)
@reconciliation_blp.doc(security=BEARER)
def resolve_diff(data, diff_id):
    """标记差异已处理，并写明处理说明（已处理的再次提交 409）"""
    diff = reconciliation.resolve(require_staff(), diff_id, data["note"])
    db.session.commit()
    return diff


BLUEPRINTS = (collection_blp, reconciliation_blp)
