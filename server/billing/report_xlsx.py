"""The fee collection reports as xlsx: the period report (汇总 / 按楼栋 / 按项目 / 欠费明细 / 代收回收, one
function a sheet) and the weekly report (周报). They render the dicts reports.py returns (the same as the
JSON): amounts in yuan (0.00), rates as percentages. What each figure means: report_figures.py. Headings,
widths and the download are shared with the other reports (server/reporting.py)."""
from __future__ import annotations

from collections.abc import Iterable

from ..money import yuan_number
from ..reporting import bold_row, excel_time, set_widths, workbook_bytes
from .report_figures import BUCKET_KEYS

YUAN = "0.00"
RATE = "0.0%"
DATE = "yyyy-mm-dd"
FIGURE_HEADERS = ["应收笔数", "应收（元）", "已缴笔数", "实收（元）", "未收（元）", "收费率", "户数", "已缴清户数", "户收费率"]


# -- rows ----------------------------------------------------------------------------------------------------

def _row(sheet) -> int:
    """The last appended row (openpyxl's max_row scans every cell: quadratic over 100,000 houses)."""
    return sheet._current_row


def _format(sheet, row: int, yuan_columns: Iterable[int] = (), rate_columns: Iterable[int] = ()) -> None:
    for column in yuan_columns:
        sheet.cell(row, column).number_format = YUAN
    for column in rate_columns:
        sheet.cell(row, column).number_format = RATE


def _append(sheet, values: list, yuan: Iterable[int] = (), rate: Iterable[int] = (), bold=False) -> None:
    """Append a row, format its yuan and rate columns (1-based), and make it bold (headings, totals)."""
    sheet.append(values)
    _format(sheet, _row(sheet), yuan, rate)
    if bold:
        bold_row(sheet, _row(sheet))


def _figure_cells(f: dict) -> list:
    return [f["bills"], yuan_number(f["billed_fen"]), f["paid_bills"], yuan_number(f["collected_fen"]),
            yuan_number(f["outstanding_fen"]), f["collection_rate"], f["houses"], f["houses_paid"],
            f["household_rate"]]


def _figures_row(sheet, first: list, f: dict, bold: bool = False) -> None:
    """`first` cells, then the FIGURE_HEADERS columns of `f`."""
    n = len(first)
    _append(sheet, [*first, *_figure_cells(f)], [n + 2, n + 4, n + 5], [n + 6, n + 9], bold)


def _workbook(title: str, heading: str):
    """A new workbook and its first sheet, `title`, with `heading` in large bold type in A1."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    sheet = wb.active
    sheet.title = title
    sheet.append([heading])
    sheet["A1"].font = Font(bold=True, size=14)
    return wb, sheet


# -- the period report ---------------------------------------------------------------------------------------

def workbook(report: dict) -> bytes:
    """汇总 / 按楼栋 / 按项目 / 欠费明细 (with aging) / 代收回收; amounts in yuan (0.00), rates as %."""
    year, month = report["period"].split("-")
    wb, summary = _workbook("汇总", f"{report['community']['name']} 收费月报 {year}年{int(month)}月")
    _summary_sheet(summary, report)
    _buildings_sheet(wb.create_sheet("按楼栋"), report)
    _items_sheet(wb.create_sheet("按项目"), report["by_item"])
    _arrears_sheet(wb.create_sheet("欠费明细"), report["arrears"])
    _advances_sheet(wb.create_sheet("代收回收"), report["advances"])
    return workbook_bytes(wb)


def _summary_sheet(sheet, report: dict) -> None:
    """汇总 (below the heading): the period's total, the month's collection by method and kind of period,
    the definitions."""
    as_of = excel_time(report["as_of"], report.get("timezone", "Asia/Shanghai"))
    sheet.append([f"统计时点 {as_of:%Y-%m-%d %H:%M}（北京时间）；金额单位：元"])
    sheet.append([])
    _append(sheet, ["项目", *FIGURE_HEADERS], bold=True)
    _figures_row(sheet, ["本期合计"], report["total"])
    sheet.append([])
    collected = report["month_collection"]
    _append(sheet, ["本月收款（按收款方式）", "笔数（账单）", "金额（元）", "支付笔数"], bold=True)
    for m in collected["by_method"]:
        _append(sheet, [m["label"], m["bills"], yuan_number(m["amount_fen"]), m["payments"]], [3])
    for p in collected["by_period"]:
        _append(sheet, [f"其中{p['label']}", p["bills"], yuan_number(p["amount_fen"])], [3])
    t = collected["total"]
    _append(sheet, ["合计", t["bills"], yuan_number(t["amount_fen"]), t["payments"]], [3], bold=True)
    sheet.append([])
    _append(sheet, ["口径"], bold=True)
    for key, text in report["definitions"].items():
        sheet.append([key, text])
    set_widths(sheet, [24, 12, 14, 12, 14, 14, 10, 10, 12, 10])


def _buildings_sheet(sheet, report: dict) -> None:
    """按楼栋: a row per building, then the total."""
    _append(sheet, ["楼栋", *FIGURE_HEADERS], bold=True)
    for b in report["by_building"]:
        _figures_row(sheet, [f"{b['building']}栋"], b)
    _figures_row(sheet, ["合计"], report["total"], bold=True)
    sheet.freeze_panes = "A2"
    set_widths(sheet, [12, 10, 14, 10, 14, 14, 10, 8, 12, 10])


def _items_sheet(sheet, items: list[dict]) -> None:
    """按项目: a row per fee item."""
    _append(sheet, ["收费项目", "代垫", *FIGURE_HEADERS], bold=True)
    for i in items:
        _figures_row(sheet, [i["name"], "是" if i["advance"] else ""], i)
    sheet.freeze_panes = "A2"
    set_widths(sheet, [22, 6, 10, 14, 10, 14, 14, 10, 8, 12, 10])


def _arrears_amounts(entry: dict) -> list:
    """The arrears and the part in each aging bucket, in yuan."""
    return [yuan_number(entry["amount_fen"]), *(yuan_number(entry["buckets"][k]) for k in BUCKET_KEYS)]


def _arrears_sheet(sheet, arrears: dict) -> None:
    """欠费明细: per building with the total, then every house in arrears (largest first)."""
    labels = [b["label"] for b in arrears["buckets"]]
    money = [4, *range(5, 5 + len(labels))]  # 欠费合计 and the buckets
    day = arrears["date"]
    sheet.append([f"截至 {day:%Y-%m-%d} 已过缴费期限未缴的账单（任何期间），按逾期天数分段；金额单位：元"])
    _append(sheet, ["楼栋", "户数", "笔数", "欠费合计", *labels], bold=True)
    for b in arrears["by_building"]:
        _append(sheet, [f"{b['building']}栋", b["houses"], b["bills"], *_arrears_amounts(b)], money)
    t = arrears["total"]
    _append(sheet, ["合计", t["houses"], t["bills"], *_arrears_amounts(t)], money, bold=True)
    sheet.append([])
    _append(sheet, ["房屋", "期间", "笔数", "欠费合计", *labels, "最早缴费期限", "最长逾期天数"], bold=True)
    for h in arrears["houses"]:
        _append(sheet, [h["house"], h["periods"], h["bills"], *_arrears_amounts(h), h["oldest_due"],
                        h["days_overdue"]], money)
        sheet.cell(_row(sheet), 5 + len(labels)).number_format = DATE
    set_widths(sheet, [18, 18, 8, 14, 12, 12, 12, 12, 12, 14, 12])


def _recovery_row(sheet, name: str, building: str, e: dict, bold: bool = False) -> None:
    _append(sheet, [name, building, e["bills"], yuan_number(e["billed_fen"]), yuan_number(e["recovered_fen"]),
                    yuan_number(e["outstanding_fen"]), e["recovery_rate"],
                    "是" if e["fully_recovered"] else "否"], [4, 5, 6], [7], bold)


def _advances_sheet(sheet, advances: dict) -> None:
    """代收回收: per advance item (bold) and its buildings, then the total."""
    over = "本期已结束" if advances["period_over"] else "本期尚未结束"
    sheet.append([f"代垫费用（水、电、燃气）须当期全部收回；{over}；金额单位：元"])
    _append(sheet, ["收费项目", "楼栋", "应收笔数", "应收（元）", "期内收回（元）", "未收回（元）", "回收率",
                    "是否全部收回"], bold=True)
    for item in advances["items"]:
        _recovery_row(sheet, item["name"], "全部", item, bold=True)
        for b in item["by_building"]:
            _recovery_row(sheet, item["name"], f"{b['building']}栋", b)
    _recovery_row(sheet, "合计", "", advances["total"], bold=True)
    set_widths(sheet, [22, 10, 10, 14, 16, 14, 10, 14])


# -- the weekly report ---------------------------------------------------------------------------------------

def weekly_workbook(report: dict) -> bytes:
    """One sheet 周报: by method, by item, by kind of period, and the period's rate at week end."""
    wb, sheet = _workbook("周报", f"{report['community']['name']} 收费周报 {report['week']}"
                                 f"（{report['start']:%Y-%m-%d} 至 {report['end']:%Y-%m-%d}）")
    sheet.append(["金额单位：元" + ("" if report["complete"] else "；本周尚未结束")])
    c = report["collection"]
    for title, rows in (("按收款方式", [(m["label"], m["bills"], m["amount_fen"]) for m in c["by_method"]]),
                        ("按收费项目", [(i["name"], i["bills"], i["amount_fen"]) for i in c["by_item"]]),
                        ("按期间", [(p["label"], p["bills"], p["amount_fen"]) for p in c["by_period"]])):
        sheet.append([])
        _append(sheet, [title, "笔数（账单）", "金额（元）"], bold=True)
        for label, bills, fen in rows:
            _append(sheet, [label, bills, yuan_number(fen)], [3])
    _append(sheet, ["合计", c["total"]["bills"], yuan_number(c["total"]["amount_fen"])], [3], bold=True)
    sheet.append([])
    p = report["period_to_date"]
    _append(sheet, [f"本期 {p['period']} 累计", *FIGURE_HEADERS], bold=True)
    _figures_row(sheet, ["截至周末"], p)
    set_widths(sheet, [22, 12, 14, 10, 14, 14, 10, 8, 12, 10])
    return workbook_bytes(wb)


def xlsx_filenames(period: str) -> tuple[str, str]:
    """(ASCII name for `filename=`, Chinese name for `filename*=`)."""
    return f"fee-collection-{period}.xlsx", f"收费月报-{period}.xlsx"


def weekly_filenames(week: str) -> tuple[str, str]:
    return f"fee-collection-{week}.xlsx", f"收费周报-{week}.xlsx"
