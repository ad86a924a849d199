"""The staff's filtered order list as an xlsx download (工单导出): the same query as the list (filters and
sort of StaffOrderFilters), at most EXPORT_CAP rows per synchronous export; when the filter matches more,
the file holds the first EXPORT_CAP in the list's order and says so on a second sheet (说明)."""
from __future__ import annotations

from dataclasses import dataclass

from ..accounts import rules as account_rules
from ..accounts.models import Staff
from ..money import yuan_number
from ..reporting import excel_time, set_widths, workbook_bytes
from ..timeutil import local_text, utcnow
from . import clocks, filters, rules, states
from .access import staff_orders_query
from .schemas import category_label

EXPORT_CAP = 5000
HEADERS = ["工单号", "类型", "类别", "标题", "状态", "紧急", "重要", "房屋", "联系人", "联系电话", "受理渠道", "首问责任人",
           "部门", "处理人", "受理时间", "最近时限", "时限到期", "时限状态", "完工时间", "报价（元）", "最终金额（元）",
           "已收（元）", "返工次数", "评分", "描述"]
WIDTHS = [18, 8, 14, 16, 8, 6, 6, 14, 10, 14, 8, 10, 8, 10, 17, 18, 17, 8, 17, 10, 12, 10, 8, 6, 40]
TIME_COLUMNS = (15, 17, 19)
YUAN_COLUMNS = (20, 21, 22)
TIME, YUAN = "yyyy-mm-dd hh:mm", "0.00"


@dataclass(frozen=True)
class Export:
    data: bytes
    total: int  # orders the filter matches
    rows: int  # orders in the file (at most EXPORT_CAP)

    @property
    def truncated(self) -> bool:
        return self.total > self.rows

    @property
    def filenames(self) -> tuple[str, str]:
        stamp = local_text(utcnow(), fmt="%Y%m%d-%H%M")
        return f"work-orders-{stamp}.xlsx", f"工单-{stamp}.xlsx"


def too_many_message(total: int) -> str:
    return (f"筛选结果共 {total} 条，超过单次导出上限 {EXPORT_CAP} 条：文件只包含按当前排序的前 {EXPORT_CAP} 条。"
            "如需全部，请缩小筛选范围（例如按受理日期分段）后分别导出。")


def export(staff: Staff, args: dict) -> Export:
    """The workbook of what the list shows (write-only: rows stream out, nothing is kept per cell)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    zone = staff.community.timezone
    stmt = staff_orders_query(staff, args)
    total = filters.count(stmt)
    orders = filters.rows(stmt, args.get("sort") or "newest", 0, EXPORT_CAP)
    now = utcnow()
    wb = Workbook(write_only=True)
    sheet = wb.create_sheet("工单")
    sheet.freeze_panes = "A2"
    set_widths(sheet, WIDTHS)
    bold = Font(bold=True)

    def cell(value, number_format=None, font=None):
        out = WriteOnlyCell(sheet, value)
        if number_format:
            out.number_format = number_format
        if font:
            out.font = font
        return out

    sheet.append([cell(h, font=bold) for h in HEADERS])
    for o in orders:
        soonest = clocks.soonest(o, now)
        values = [
            o.number, rules.KINDS[o.kind], category_label(o), o.title, states.STATUSES[o.status],
            "是" if o.urgent else "", "是" if o.important else "", o.house.label, o.contact_name,
            o.contact_phone, rules.CHANNELS.get(o.channel, o.channel), o.received_by.name if o.received_by else "",
            account_rules.DEPARTMENTS.get(o.department, o.department), o.assignee.name if o.assignee else "",
            excel_time(o.created_at, zone), soonest.label if soonest else "",
            excel_time(soonest.due, zone) if soonest else None, soonest.state_label if soonest else "",
            excel_time(o.completed_at, zone), yuan_number(o.quote_fen), yuan_number(o.final_fen),
            yuan_number(o.paid_fen) if o.kind == "service" else None, o.rework_count, o.rating, o.description,
        ]
        for column in TIME_COLUMNS:
            values[column - 1] = cell(values[column - 1], TIME)
        for column in YUAN_COLUMNS:
            values[column - 1] = cell(values[column - 1], YUAN)
        sheet.append(values)
    if total > len(orders):
        note = wb.create_sheet("说明")
        note.column_dimensions["A"].width = 120
        note.append([too_many_message(total)])
    return Export(workbook_bytes(wb), total, len(orders))
