"""Shared pieces of the monthly reports (paid services, complaints and satisfaction): the month argument,
month boundaries in the community's time zone, half-up rounding of rates, and xlsx downloads.

Pure except `xlsx_response` (a Flask response) and the marshmallow argument schemas.
"""
from __future__ import annotations

from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import quote
from zoneinfo import ZoneInfo

import marshmallow as ma
from flask import Response
from marshmallow import validate

from .timeutil import to_local

MONTH_RE = r"^(20\d{2})-(0[1-9]|1[0-2])$"
MONTH_ERROR = "月份格式应为 YYYY-MM（如 2026-11）"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BINARY = {"type": "string", "format": "binary"}  # OpenAPI schema of a file download


def MonthField(**kwargs) -> ma.fields.String:  # noqa: N802 - reads like a field class
    """YYYY-MM (months split at local midnight, Asia/Shanghai)."""
    kwargs.setdefault("metadata", {"description": "YYYY-MM，按北京时间划分月份"})
    return ma.fields.String(validate=validate.Regexp(MONTH_RE, error=MONTH_ERROR), **kwargs)


class MonthArgs(ma.Schema):
    month = MonthField(required=True)


class ReportArgs(MonthArgs):
    format = ma.fields.String(load_default="json", validate=validate.OneOf(["json", "xlsx"]),
                              metadata={"description": "json（默认）或 xlsx（Excel 下载）"})


def parse_month(text: str) -> tuple[int, int]:
    """'2026-03' (already validated) -> (2026, 3)."""
    year, month = text.split("-")
    return int(year), int(month)


def month_text(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def month_of(moment: datetime, zone: str = "Asia/Shanghai") -> str:
    """The YYYY-MM a moment falls in, in the given zone."""
    local = to_local(moment, zone)
    return month_text(local.year, local.month)


def month_bounds(year: int, month: int, zone: str = "Asia/Shanghai") -> tuple[datetime, datetime]:
    """[local midnight of the 1st, local midnight of the 1st of the next month), as aware datetimes."""
    tz = ZoneInfo(zone)
    start = datetime.combine(date(year, month, 1), time(0), tzinfo=tz)
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return start, datetime.combine(following, time(0), tzinfo=tz)


def half_up(value: Decimal, places: int) -> float:
    return float(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def ratio(numerator: int, denominator: int, places: int = 3) -> float | None:
    """numerator / denominator half-up to `places` decimals (0..1 for rates); None when nothing to divide."""
    if not denominator:
        return None
    return half_up(Decimal(numerator) / Decimal(denominator), places)


def excel_time(moment: datetime | None, zone: str = "Asia/Shanghai") -> datetime | None:
    """Local wall-clock time without tzinfo (what a spreadsheet cell holds)."""
    return None if moment is None else to_local(moment, zone).replace(tzinfo=None)


def bold_row(sheet, row: int) -> None:
    from openpyxl.styles import Font

    for cell in sheet[row]:
        cell.font = Font(bold=True)


def set_widths(sheet, widths: list[int]) -> None:
    from openpyxl.utils import get_column_letter

    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


def workbook_bytes(wb) -> bytes:
    import io

    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def xlsx_response(data: bytes, ascii_name: str, chinese_name: str) -> Response:
    """An xlsx download: `filename=` ASCII for old clients, `filename*=` the Chinese name (RFC 6266)."""
    response = Response(data, mimetype=XLSX_MIMETYPE)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(chinese_name)}")
    response.headers["Cache-Control"] = "no-store"
    return response
