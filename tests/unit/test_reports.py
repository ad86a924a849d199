"""The monthly paid-services report, pure: definitions, rounding, month boundaries, the workbook."""
import io
from datetime import UTC, datetime

import openpyxl

from server.workorders import reports
from server.workorders.reports import OrderRow, month_bounds, summarize

T = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


def row(n, department="engineering", item="更换水龙头", status="closed", **kw):
    return OrderRow(id=n, number=f"FW20260310-{n:04d}", department=department, item_id=1 if item == "更换水龙头" else 2,
                    item_name=item, status=status, created_at=T, **kw)


ROWS = [
    row(1, final_fen=8500, paid_fen=8500, collected_fen=8500, rating=5, called_back=True, callback_result="satisfied"),
    row(2, item="疏通下水道", status="completed", final_fen=8000, rework_count=1),
    row(3, status="cancelled", rating=1, rework_count=4, collected_fen=999),  # counted in nothing
    row(4, status="on_site"),  # open: counted, not completed
    row(5, department="cleaning", item="家庭保洁", status="confirmed", final_fen=8000, paid_fen=8000, rating=4,
        called_back=True, callback_result="satisfied"),
]


def test_per_department_total_and_items():
    out = summarize(ROWS)
    eng, clean = out["departments"]
    assert eng == {"department": "engineering", "department_label": "工程部", "count": 3, "completed": 2,
                   "amount_fen": 16500, "collected_fen": 8500, "rework_count": 1, "average_rating": 5.0,
                   "callback_rate": 0.5}
    assert clean == {"department": "cleaning", "department_label": "保洁部", "count": 1, "completed": 1,
                     "amount_fen": 8000, "collected_fen": 0, "rework_count": 0, "average_rating": 4.0,
                     "callback_rate": 1.0}
    assert out["total"] == {"department": "total", "department_label": "合计", "count": 4, "completed": 3,
                            "amount_fen": 24500, "collected_fen": 8500, "rework_count": 1, "average_rating": 4.5,
                            "callback_rate": 0.667}
    assert [(i["name"], i["department"], i["count"], i["completed"], i["amount_fen"]) for i in out["items"]] == [
        ("更换水龙头", "engineering", 2, 1, 8500), ("疏通下水道", "engineering", 1, 1, 8000),
        ("家庭保洁", "cleaning", 1, 1, 8000)]


def test_empty_month_has_both_departments_and_nulls():
    out = summarize([])
    assert [d["department"] for d in out["departments"]] == ["engineering", "cleaning"]
    for stats in (*out["departments"], out["total"]):
        assert stats["count"] == stats["completed"] == stats["amount_fen"] == 0
        assert stats["average_rating"] is None and stats["callback_rate"] is None
    assert out["items"] == []
    # Only cancelled orders: still nothing counted.
    assert summarize([row(1, status="cancelled")])["total"]["count"] == 0


def test_rounding_is_half_up():
    ratings = [4, 4, 5, 4]  # 4.25 -> 4.3 (Python's round() would give 4.2)
    rows = [row(i, rating=r, called_back=i == 0) for i, r in enumerate(ratings)]
    stats = summarize(rows)["total"]
    assert stats["average_rating"] == 4.3
    assert stats["callback_rate"] == 0.25
    eight = [row(i, called_back=i < 1) for i in range(8)]
    assert summarize(eight)["total"]["callback_rate"] == 0.125
    three = [row(i, called_back=i < 1) for i in range(3)]
    assert summarize(three)["total"]["callback_rate"] == 0.333


def test_completed_means_the_work_is_done_now():
    statuses = ["submitted", "dispatched", "accepted", "on_site", "paused", "completed", "confirmed", "closed"]
    out = summarize([row(i, status=s, final_fen=100) for i, s in enumerate(statuses)])["total"]
    assert out["count"] == 8 and out["completed"] == 3 and out["amount_fen"] == 300
    assert out["callback_rate"] == 0.0


def test_month_bounds_in_shanghai():
    start, end = month_bounds(2026, 3)
    assert start.astimezone(UTC) == datetime(2026, 2, 28, 16, 0, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2026, 3, 31, 16, 0, tzinfo=UTC)
    start, end = month_bounds(2026, 12)
    assert (start.date().isoformat(), end.date().isoformat()) == ("2026-12-01", "2027-01-01")


def test_workbook_cells():
    report = {"month": "2026-03", "community": {"code": "demo", "name": "示例小区"}, "timezone": "Asia/Shanghai",
              **summarize(ROWS), "rows": ROWS}
    wb = openpyxl.load_workbook(io.BytesIO(reports.workbook(report)))
    assert wb.sheetnames == ["汇总", "明细"]
    summary = wb["汇总"]
    assert "2026年3月" in summary["A1"].value
    assert [c.value for c in summary[4]] == reports.SUMMARY_HEADERS
    assert [c.value for c in summary[5]] == ["工程部", 3, 2, 165, 85, 1, 5, 0.5]
    assert summary["D5"].number_format == "0.00" and summary["H5"].number_format == "0.0%"
    assert [c.value for c in summary[6]][:4] == ["保洁部", 1, 1, 80]
    assert [c.value for c in summary[7]] == ["合计", 4, 3, 245, 85, 1, 4.5, 0.667]
    assert [c.value for c in summary[9]][:5] == reports.ITEM_HEADERS
    assert [c.value for c in summary[10]][:5] == ["更换水龙头", "工程部", 2, 1, 85]
    detail = wb["明细"]
    assert [c.value for c in detail[1]] == reports.DETAIL_HEADERS
    assert detail.max_row == 1 + len(ROWS)
    first = [c.value for c in detail[2]]
    assert first == ["FW20260310-0001", "工程部", "更换水龙头", datetime(2026, 3, 10, 10, 0), "已完成", 85, 85, 85, 0, 5,
                     "满意"]
    assert detail["F2"].number_format == "0.00"
    assert [c.value for c in detail[3]][4:] == ["待确认", 80, 0, 0, 1, None, "待回访"]
    assert [c.value for c in detail[4]][4] == "已取消"
