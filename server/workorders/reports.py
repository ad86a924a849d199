"""Office read models: the monthly paid-services report (有偿服务月报) and the callback queue (回访队列).

Monthly paid-services report -- what the service center reconciles with finance, engineering and cleaning
and reports to administration every month (server/README.md, "Paid convenience services"):

- the orders: paid-service orders (kind "service") of the caller's community whose `created_at` falls in
  the month, with month boundaries at local midnight in the community's time zone (Asia/Shanghai);
- grouped by the order's department (engineering 工程部, cleaning 保洁部; both always listed), plus a
  `total` row over all departments, plus a per-item breakdown (by service item);
- cancelled orders are listed in the xlsx detail sheet (status 已取消) but counted in no figure;
- `count`: orders not cancelled;
- `completed`: orders whose work is done at report time: status completed (待确认), confirmed or closed.
  An order sent back for rework is not completed until it is completed again;
- `amount_fen`: sum of `final_fen` (quote + materials) of the completed orders;
- `collected_fen`: money recorded (any method) for the counted orders with `collected_at` in the same
  month (a payment taken on the 1st of the next month belongs to next month's cash, not this report);
- `rework_count`: sum of the orders' rework rounds (owner rejected completion, low rating, unsatisfied
  callback);
- `average_rating`: mean owner rating (1-5) of the rated orders, half-up to 1 decimal; null if none rated;
- `callback_rate`: completed orders called back since their latest completion / completed orders,
  half-up to 3 decimals (0..1); null if nothing completed.

Callback queue -- repair, paid-service and complaint orders whose work is done (completed / confirmed /
closed) and that have a callback deadline (`callback_due_at`: repairs and services the same day they are
completed; complaints 3 days after the final reply), optionally of one kind:

- `due`: not called back since the latest completion (`needs_callback`; a rework round needs a new call);
- `overdue`: due and `callback_due_at` already passed;
- `done`: called back (shown with the latest callback's result);
- always sorted by `callback_due_at`, then id.

`summarize()` and `month_bounds()` are pure (unit-tested without a database); `fetch_rows()` is the one
query behind the report; `workbook()` renders a report as xlsx. Month parsing and boundaries, rounding and
the xlsx download are shared with the other monthly reports (server/reporting.py).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, func, select

from ..accounts import rules as account_rules
from ..accounts.models import Community, Staff
from ..auth import access
from ..extensions import db
from ..money import yuan_number
from ..pagination import paginate
from ..reporting import half_up, month_bounds, month_text, workbook_bytes
from ..timeutil import to_local, utcnow
from . import rules, states
from .models import Callback, OrderPayment, ServiceItem, WorkOrder

DONE = ("completed", "confirmed", "closed")  # the work is done (awaiting the owner's confirmation or later)
DEPARTMENTS = ("engineering", "cleaning")  # the departments doing paid services, in report order
CALLBACK_KINDS = ("repair", "service", "complaint")  # complaint callbacks: 100% by design
CALLBACK_STATUSES = ("due", "overdue", "done")


# -- the monthly report, pure ----------------------------------------------------------------------------

@dataclass(frozen=True)
class OrderRow:
    """One paid-service order as the report needs it (one row of `fetch_rows`)."""
    id: int
    number: str
    department: str
    item_id: int | None
    item_name: str
    status: str
    created_at: datetime
    final_fen: int | None = None
    paid_fen: int = 0  # everything paid on the order so far
    collected_fen: int = 0  # paid within the report's month
    rework_count: int = 0
    rating: int | None = None
    called_back: bool = False  # called back since the latest completion
    callback_result: str | None = None  # the latest callback's result, if any

    @property
    def counted(self) -> bool:
        return self.status != "cancelled"

    @property
    def completed(self) -> bool:
        return self.status in DONE


def _stats(rows: list[OrderRow]) -> dict:
    counted = [r for r in rows if r.counted]
    completed = [r for r in counted if r.completed]
    rated = [r.rating for r in counted if r.rating is not None]
    called = [r for r in completed if r.called_back]
    return {
        "count": len(counted),
        "completed": len(completed),
        "amount_fen": sum(r.final_fen or 0 for r in completed),
        "collected_fen": sum(r.collected_fen for r in counted),
        "rework_count": sum(r.rework_count for r in counted),
        "average_rating": half_up(Decimal(sum(rated)) / len(rated), 1) if rated else None,
        "callback_rate": half_up(Decimal(len(called)) / len(completed), 3) if completed else None,
    }


def _department_label(department: str) -> str:
    return account_rules.DEPARTMENTS.get(department, department)


def summarize(rows: Iterable[OrderRow]) -> dict:
    """Per department (engineering, cleaning, then any other found), a total, and per service item."""
    rows = list(rows)
    departments = list(DEPARTMENTS) + sorted({r.department for r in rows} - set(DEPARTMENTS))
    by_department = []
    for department in departments:
        stats = _stats([r for r in rows if r.department == department])
        by_department.append({"department": department, "department_label": _department_label(department),
                              **stats})
    total = {"department": "total", "department_label": "合计", **_stats(rows)}

    items: dict[tuple, dict] = {}
    for r in rows:
        if not r.counted:
            continue
        entry = items.setdefault((r.department, r.item_id, r.item_name), {
            "service_item_id": r.item_id, "name": r.item_name, "department": r.department,
            "department_label": _department_label(r.department), "count": 0, "completed": 0, "amount_fen": 0})
        entry["count"] += 1
        if r.completed:
            entry["completed"] += 1
            entry["amount_fen"] += r.final_fen or 0
    order = {d: i for i, d in enumerate(departments)}
    item_list = sorted(items.values(), key=lambda e: (order[e["department"]], -e["count"], e["name"]))
    return {"departments": by_department, "total": total, "items": item_list}


# -- the monthly report, from the database ---------------------------------------------------------------

def fetch_rows(community_id: int, start: datetime, end: datetime) -> list[OrderRow]:
    """The month's paid-service orders of one community, with payments in the month and the latest
    callback result, in one query."""
    collected = (select(func.coalesce(func.sum(OrderPayment.amount_fen), 0))
                 .where(OrderPayment.order_id == WorkOrder.id, OrderPayment.collected_at >= start,
                        OrderPayment.collected_at < end)
                 .correlate(WorkOrder).scalar_subquery())
    last_result = (select(Callback.result).where(Callback.order_id == WorkOrder.id)
                   .order_by(Callback.at.desc(), Callback.id.desc()).limit(1)
                   .correlate(WorkOrder).scalar_subquery())
    stmt = (select(WorkOrder.id, WorkOrder.number, WorkOrder.department, WorkOrder.service_item_id,
                   ServiceItem.name, WorkOrder.title, WorkOrder.status, WorkOrder.created_at,
                   WorkOrder.final_fen, WorkOrder.paid_fen, WorkOrder.rework_count, WorkOrder.rating,
                   WorkOrder.needs_callback, WorkOrder.callback_at, collected.label("collected_fen"),
                   last_result.label("callback_result"))
            .outerjoin(ServiceItem, ServiceItem.id == WorkOrder.service_item_id)
            .where(WorkOrder.community_id == community_id, WorkOrder.kind == "service",
                   WorkOrder.created_at >= start, WorkOrder.created_at < end)
            .order_by(WorkOrder.created_at, WorkOrder.id))
    return [OrderRow(id=r.id, number=r.number, department=r.department, item_id=r.service_item_id,
                     item_name=r.name or r.title, status=r.status, created_at=r.created_at,
                     final_fen=r.final_fen, paid_fen=r.paid_fen or 0, collected_fen=int(r.collected_fen or 0),
                     rework_count=r.rework_count or 0, rating=r.rating,
                     called_back=r.callback_at is not None and not r.needs_callback,
                     callback_result=r.callback_result)
            for r in db.session.execute(stmt)]


def monthly_services(staff: Staff, year: int, month: int) -> dict:
    """The report for the caller's community (managers and finance only)."""
    access.require(staff, "reports")
    community = db.session.get(Community, staff.community_id)
    start, end = month_bounds(year, month, community.timezone)
    rows = fetch_rows(community.id, start, end)
    return {
        "month": month_text(year, month),
        "community": {"code": community.code, "name": community.name},
        "timezone": community.timezone,
        **summarize(rows),
        "rows": rows,
    }


# -- the monthly report as xlsx ------------------------------------------------------------------------------

YUAN = "0.00"
SUMMARY_HEADERS = ["部门", "服务单数", "完成单数", "完成金额（元）", "本月收款（元）", "返工次数", "平均评分", "回访率"]
ITEM_HEADERS = ["服务项目", "部门", "服务单数", "完成单数", "完成金额（元）"]
DETAIL_HEADERS = ["工单号", "部门", "服务项目", "下单时间", "状态", "最终金额（元）", "已收金额（元）", "其中本月收款（元）",
                  "返工次数", "评分", "回访结果"]


_yuan = yuan_number


def _callback_text(row: OrderRow) -> str:
    if row.called_back and row.callback_result:
        return rules.CALLBACK_RESULTS.get(row.callback_result, row.callback_result)
    if row.completed:
        return "待回访"
    return "—"


def workbook(report: dict) -> bytes:
    """汇总 (per department, total, per item) and 明细 (one row per order); amounts in yuan as numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    zone = report.get("timezone", "Asia/Shanghai")
    year, month = report["month"].split("-")
    wb = Workbook()

    summary = wb.active
    summary.title = "汇总"
    summary.append([f"{report['community']['name']} 有偿服务月报 {year}年{int(month)}月"])
    summary["A1"].font = Font(bold=True, size=14)
    summary.append([f"统计口径：{year}-{month} 月内（北京时间）登记的有偿服务工单，已取消的不计；金额单位：元"])
    summary.append([])
    summary.append(SUMMARY_HEADERS)
    for cell in summary[4]:
        cell.font = bold
    for stats in [*report["departments"], report["total"]]:
        summary.append([stats["department_label"], stats["count"], stats["completed"],
                        _yuan(stats["amount_fen"]), _yuan(stats["collected_fen"]), stats["rework_count"],
                        stats["average_rating"], stats["callback_rate"]])
        row = summary.max_row
        summary.cell(row, 4).number_format = summary.cell(row, 5).number_format = YUAN
        summary.cell(row, 7).number_format = "0.0"
        summary.cell(row, 8).number_format = "0.0%"
    for cell in summary[summary.max_row]:
        cell.font = bold
    summary.append([])
    summary.append(ITEM_HEADERS)
    for cell in summary[summary.max_row]:
        cell.font = bold
    for item in report["items"]:
        summary.append([item["name"], item["department_label"], item["count"], item["completed"],
                        _yuan(item["amount_fen"])])
        summary.cell(summary.max_row, 5).number_format = YUAN
    for index, width in enumerate([16, 10, 10, 16, 16, 10, 10, 10], start=1):
        summary.column_dimensions[get_column_letter(index)].width = width

    detail = wb.create_sheet("明细")
    detail.append(DETAIL_HEADERS)
    for cell in detail[1]:
        cell.font = bold
    for r in report["rows"]:
        detail.append([r.number, _department_label(r.department), r.item_name,
                       to_local(r.created_at, zone).replace(tzinfo=None),
                       states.STATUSES.get(r.status, r.status), _yuan(r.final_fen), _yuan(r.paid_fen),
                       _yuan(r.collected_fen), r.rework_count, r.rating, _callback_text(r)])
        row = detail.max_row
        detail.cell(row, 4).number_format = "yyyy-mm-dd hh:mm"
        for column in (6, 7, 8):
            detail.cell(row, column).number_format = YUAN
        detail.cell(row, 11).alignment = Alignment(horizontal="center")
    detail.freeze_panes = "A2"
    for index, width in enumerate([18, 10, 16, 18, 10, 14, 14, 18, 10, 8, 10], start=1):
        detail.column_dimensions[get_column_letter(index)].width = width

    return workbook_bytes(wb)


def xlsx_filenames(month: str) -> tuple[str, str]:
    """(ASCII name for `filename=`, Chinese name for `filename*=`)."""
    return f"paid-services-{month}.xlsx", f"有偿服务月报-{month}.xlsx"


# -- callback queue ------------------------------------------------------------------------------------------

DONE_DAYS = 30  # the callback queue's "done" tab: calls of the last month


def callback_queue(staff: Staff, status: str, page: int, per_page: int, kind: str | None = None) -> dict:
    """A page of the callback queue with each order's latest callback."""
    access.require(staff, "desk")
    now = utcnow()
    stmt = select(WorkOrder).where(*_queue_base(staff, kind), _in_tab(status, now))
    if status == "done":  # latest first: what the desk reviews
        order = (WorkOrder.callback_at.desc(), WorkOrder.id.desc())
    else:
        order = (WorkOrder.callback_due_at, WorkOrder.id)
    page_data = paginate(stmt.order_by(*order), page, per_page)
    orders = page_data["items"]
    latest: dict[int, Callback] = {}
    if orders:
        ids = [o.id for o in orders]
        for callback in db.session.scalars(select(Callback).where(Callback.order_id.in_(ids))
                                           .order_by(Callback.at, Callback.id)):
            latest[callback.order_id] = callback  # ascending: the last one wins
    page_data["items"] = [{
        "order": o,
        "overdue": bool(o.needs_callback and o.callback_due_at is not None and o.callback_due_at < now),
        "last_callback": latest.get(o.id),
    } for o in orders]
    return page_data


def _queue_base(staff: Staff, kind: str | None) -> tuple:
    return (WorkOrder.community_id == staff.community_id, WorkOrder.kind.in_([kind] if kind else CALLBACK_KINDS),
            WorkOrder.status.in_(DONE), WorkOrder.callback_due_at.is_not(None))


def _in_tab(status: str, now):
    """due: needs a call; overdue: needs one past its deadline; done: called back in the last DONE_DAYS."""
    if status == "done":
        return and_(WorkOrder.needs_callback.is_(False), WorkOrder.callback_at.is_not(None),
                    WorkOrder.callback_at >= now - timedelta(days=DONE_DAYS))
    if status == "overdue":
        return and_(WorkOrder.needs_callback.is_(True), WorkOrder.callback_due_at < now)
    return WorkOrder.needs_callback.is_(True)


def callback_counts(staff: Staff, kind: str | None = None) -> dict[str, int]:
    """How many orders each tab of the queue holds: a count each (each tab's own partial index answers it;
    one query counting all three with FILTER would read the community's whole history)."""
    access.require(staff, "desk")
    now = utcnow()
    return {s: db.session.scalar(select(func.count()).select_from(WorkOrder)
                                 .where(*_queue_base(staff, kind), _in_tab(s, now))) for s in CALLBACK_STATUSES}
