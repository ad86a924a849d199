"""The fee collection report, pure: collection and household rates by building and item, advances recovered,
aging buckets and their boundaries, money collected by method / item / kind of period, ISO weeks, the xlsx."""
import io
from dataclasses import replace
from datetime import UTC, date, datetime

import openpyxl
import pytest

from server.billing import report_figures, report_xlsx
from server.billing.report_figures import (
    ArrearsRow,
    Cell,
    CollectedRow,
    HouseholdCount,
    aging,
    bucket_due_dates,
    bucket_of,
    collection,
    summarize,
)


def cell(building_id, item_id, bills, billed, paid_bills, collected, recovered=0, advance=False):
    codes = {1: ("property", "物业管理费"), 2: ("parking", "车位租金"), 3: ("water", "水费（代收）")}
    return Cell(building_id=building_id, building=str(building_id), item_id=item_id, item_code=codes[item_id][0],
                item_name=codes[item_id][1], advance=advance, bills=bills, billed_fen=billed, paid_bills=paid_bills,
                collected_fen=collected, recovered_fen=recovered)


CELLS = [
    cell(1, 1, 10, 200000, 6, 120000),
    cell(1, 3, 2, 3000, 1, 1000, recovered=1000, advance=True),
    cell(2, 1, 5, 100000, 5, 100000),
    cell(10, 2, 1, 30000, 0, 0),
    cell(2, 3, 1, 1500, 1, 1500, recovered=0, advance=True),  # paid after the period: not recovered in it
]
HOUSEHOLDS = [HouseholdCount(1, 10, 5), HouseholdCount(2, 5, 4), HouseholdCount(10, 1, 0)]


def test_totals_rates_and_households():
    out = summarize(CELLS, HOUSEHOLDS)
    assert out["total"] == {"bills": 19, "billed_fen": 334500, "paid_bills": 13, "collected_fen": 222500,
                            "outstanding_fen": 112000, "collection_rate": 0.665, "houses": 16, "houses_paid": 9,
                            "household_rate": 0.563}


def test_by_building_sorted_as_numbers_and_by_item():
    out = summarize(CELLS, HOUSEHOLDS)
    assert [b["building"] for b in out["by_building"]] == ["1", "2", "10"]
    b1 = out["by_building"][0]
    assert (b1["bills"], b1["billed_fen"], b1["collected_fen"], b1["collection_rate"], b1["houses"],
            b1["houses_paid"], b1["household_rate"]) == (12, 203000, 121000, 0.596, 10, 5, 0.5)
    assert out["by_building"][2]["collection_rate"] == 0.0
    items = {i["code"]: i for i in out["by_item"]}
    assert [i["code"] for i in out["by_item"]] == ["parking", "property", "water"]
    # One bill per house and item and period: an item's households are its bills.
    assert (items["property"]["houses"], items["property"]["houses_paid"], items["property"]["household_rate"]) == \
        (15, 11, 0.733)
    assert items["water"]["advance"] is True and items["property"]["advance"] is False


def test_nothing_billed_gives_null_rates():
    out = summarize([], [])
    assert out["total"]["collection_rate"] is None and out["total"]["household_rate"] is None
    assert out["by_building"] == [] and out["advances"]["items"] == []
    assert out["advances"]["total"]["recovery_rate"] is None


def test_advances_recovered_in_the_period():
    adv = summarize(CELLS, HOUSEHOLDS, period_over=True)["advances"]
    assert adv["period_over"] is True
    water = adv["items"][0]
    assert (water["code"], water["bills"], water["billed_fen"], water["recovered_fen"], water["outstanding_fen"],
            water["recovery_rate"], water["fully_recovered"]) == ("water", 3, 4500, 1000, 3500, 0.222, False)
    assert [(b["building"], b["billed_fen"], b["recovered_fen"]) for b in water["by_building"]] == [
        ("1", 3000, 1000), ("2", 1500, 0)]
    full = report_figures.advances([cell(1, 3, 1, 500, 1, 500, recovered=500, advance=True)], period_over=False)
    assert full["total"]["fully_recovered"] is True and full["total"]["recovery_rate"] == 1.0


@pytest.mark.parametrize(("days", "bucket"), [
    (-3, None), (0, None), (1, "d1_30"), (30, "d1_30"), (31, "d31_90"), (90, "d31_90"), (91, "d91_180"),
    (180, "d91_180"), (181, "d181_365"), (365, "d181_365"), (366, "d365_plus"), (4000, "d365_plus")])
def test_bucket_boundaries(days, bucket):
    assert bucket_of(days) == bucket


def test_bucket_due_dates_agree_with_bucket_of():
    day = date(2026, 3, 1)
    ranges = bucket_due_dates(day)
    assert ranges[0] == ("d1_30", date(2026, 1, 30), date(2026, 2, 28))
    assert ranges[-1] == ("d365_plus", None, date(2025, 2, 28))
    for offset in range(1, 800):
        due = date.fromordinal(day.toordinal() - offset)
        inside = [key for key, low, high in ranges if (low is None or due >= low) and due <= high]
        assert inside == [bucket_of(offset)], offset


def arrears(house_id, building_id, amount, oldest, **buckets):
    return ArrearsRow(house_id=house_id, building_id=building_id, building=str(building_id), unit="1",
                      room=f"{house_id}01", bills=len(buckets), amount_fen=amount, oldest_due=oldest,
                      first_period="2025-01", last_period="2025-03" if len(buckets) > 1 else "2025-01",
                      buckets=buckets)


def test_aging_per_building_and_house_largest_first():
    day = date(2026, 3, 1)
    rows = [arrears(1, 1, 5000, date(2026, 2, 20), d1_30=5000),
            arrears(2, 1, 9000, date(2025, 1, 16), d365_plus=6000, d31_90=3000),
            arrears(3, 2, 9000, date(2025, 10, 1), d91_180=9000)]
    out = aging(rows, day, limit=2)
    assert out["total"] == {"houses": 3, "bills": 4, "amount_fen": 23000, "buckets": {
        "d1_30": 5000, "d31_90": 3000, "d91_180": 9000, "d181_365": 0, "d365_plus": 6000}}
    assert [(b["building"], b["houses"], b["amount_fen"]) for b in out["by_building"]] == [("1", 2, 14000),
                                                                                          ("2", 1, 9000)]
    assert out["house_count"] == 3 and out["houses_truncated"] is True
    first, second = out["houses"]
    assert (first["house_id"], first["house"], first["days_overdue"], first["periods"]) == \
        (2, "1栋1单元201", 409, "2025-01~2025-03")
    assert second["house_id"] == 3 and second["buckets"]["d1_30"] == 0  # every bucket present
    assert [b["key"] for b in out["buckets"]] == list(report_figures.BUCKET_KEYS)
    assert aging(rows, day, limit=None)["houses_truncated"] is False


def collected(method, item_id, period, bills, amount):
    codes = {1: ("property", "物业管理费"), 3: ("water", "水费（代收）")}
    return CollectedRow(method=method, item_id=item_id, item_code=codes[item_id][0], item_name=codes[item_id][1],
                        period=period, bills=bills, amount_fen=amount)


def test_collection_by_method_item_and_period_kind():
    rows = [collected("wechat", 1, "2026-11", 3, 60000), collected("cash", 1, "2026-10", 1, 20000),
            collected("wechat", 3, "2026-11", 1, 3500), collected("other", 1, "2026-12", 1, 21000)]
    out = collection(rows, {"wechat": 2, "cash": 1}, "2026-11")
    assert out["total"] == {"payments": 3, "bills": 6, "amount_fen": 104500}
    assert [(m["method"], m["payments"], m["bills"], m["amount_fen"]) for m in out["by_method"]] == [
        ("cash", 1, 1, 20000), ("pos", 0, 0, 0), ("transfer", 0, 0, 0), ("wechat", 2, 4, 63500), ("other", 0, 1, 21000)]
    assert [(i["code"], i["bills"], i["amount_fen"]) for i in out["by_item"]] == [("property", 5, 101000),
                                                                               ("water", 1, 3500)]
    assert [(p["kind"], p["bills"], p["amount_fen"]) for p in out["by_period"]] == [
        ("current", 4, 63500), ("arrears", 1, 20000), ("advance", 1, 21000)]
    empty = collection([], {}, "2026-11")
    assert "other" not in [m["method"] for m in empty["by_method"]] and empty["total"]["amount_fen"] == 0


def test_iso_weeks_in_beijing_time():
    assert report_figures.parse_week("2026-W48") == (2026, 48)
    start, end = report_figures.week_bounds(2026, 48)
    assert start.isoformat() == "2026-11-23T00:00:00+08:00" and end.isoformat() == "2026-11-30T00:00:00+08:00"
    assert start.astimezone(UTC) == datetime(2026, 11, 22, 16, 0, tzinfo=UTC)
    assert report_figures.parse_week("2026-W53") == (2026, 53)  # 2026 has 53 ISO weeks
    with pytest.raises(ValueError):
        report_figures.parse_week("2025-W53")
    start, _ = report_figures.week_bounds(2027, 1)
    assert start.date() == date(2027, 1, 4)


def test_yuan_numbers_are_exact():
    assert report_xlsx.yuan_number(21033) == 210.33 and report_xlsx.yuan_number(None) is None
    assert report_xlsx.yuan_number(-5) == -0.05


def trimmed(row) -> list:
    values = [c.value for c in row]
    while values and values[-1] is None:
        values.pop()
    return values


def test_workbook_sheets_and_formats():
    summary = summarize(CELLS, HOUSEHOLDS, period_over=True)
    day = date(2026, 3, 1)
    report = {
        "period": "2026-02", "community": {"code": "demo", "name": "示例小区"}, "timezone": "Asia/Shanghai",
        "as_of": datetime(2026, 3, 1, 4, 0, tzinfo=UTC), **summary,
        "arrears": aging([arrears(2, 1, 9000, date(2025, 1, 16), d365_plus=6000, d31_90=3000)], day, None),
        "month_collection": collection([collected("cash", 1, "2026-02", 1, 20000)], {"cash": 1}, "2026-02"),
        "definitions": report_figures.DEFINITIONS,
    }
    wb = openpyxl.load_workbook(io.BytesIO(report_xlsx.workbook(report)))
    assert wb.sheetnames == ["汇总", "按楼栋", "按项目", "欠费明细", "代收回收"]
    s = wb["汇总"]
    assert s["A1"].value == "示例小区 收费月报 2026年2月"
    assert "2026-03-01 12:00" in s["A2"].value
    assert [c.value for c in s[5]] == ["本期合计", 19, 3345.0, 13, 2225.0, 1120.0, 0.665, 16, 9, 0.563]
    assert s["C5"].number_format == "0.00" and s["G5"].number_format == "0.0%"
    b = wb["按楼栋"]
    assert [c.value for c in b[2]][:5] == ["1栋", 12, 2030.0, 7, 1210.0] and b["C2"].number_format == "0.00"
    assert b.cell(b.max_row, 1).value == "合计"
    d = wb["欠费明细"]
    rows = [trimmed(row) for row in d.iter_rows()]
    assert rows[1] == ["楼栋", "户数", "笔数", "欠费合计", "1-30 天", "31-90 天", "91-180 天", "181-365 天", "365 天以上"]
    assert rows[2] == ["1栋", 1, 2, 90.0, 0.0, 30.0, 0.0, 0.0, 60.0]
    assert rows[-1][:4] == ["1栋1单元201", "2025-01~2025-03", 2, 90.0] and rows[-1][-1] == 409
    a = wb["代收回收"]
    values = [trimmed(row) for row in a.iter_rows(min_row=3)]
    assert values[0] == ["水费（代收）", "全部", 3, 45.0, 10.0, 35.0, 0.222, "否"]
    assert a["D3"].number_format == "0.00" and a["G3"].number_format == "0.0%"


def test_figures_outstanding_and_rates():
    assert report_figures.figures(4, 1000, 1, 250, 2, 1) == {
        "bills": 4, "billed_fen": 1000, "paid_bills": 1, "collected_fen": 250, "outstanding_fen": 750,
        "collection_rate": 0.25, "houses": 2, "houses_paid": 1, "household_rate": 0.5}
    empty = report_figures.figures(0, 0, 0, 0, 0, 0)
    assert empty["collection_rate"] is None and empty["household_rate"] is None and empty["outstanding_fen"] == 0
    assert report_figures.figures(3, 300, 1, 100, 3, 1)["collection_rate"] == 0.333  # half up, 3 decimals
    assert report_figures.figures(3, 600, 2, 400, 3, 2)["household_rate"] == 0.667


@pytest.mark.parametrize(("bill_period", "kind"), [
    ("2026-11", "current"), ("2026-10", "arrears"), ("2025-12", "arrears"), ("2026-12", "advance"),
    ("2027-01", "advance")])
def test_period_kind(bill_period, kind):
    assert report_figures.period_kind(bill_period, "2026-11") == kind


def test_buildings_sort_numbers_first_then_names():
    cells = [cell(1, 1, 1, 100, 0, 0), cell(2, 1, 1, 100, 0, 0), cell(3, 1, 1, 100, 0, 0), cell(4, 1, 1, 100, 0, 0)]
    cells = [replace(c, building=code) for c, code in zip(cells, ["B", "10", "A", "2"], strict=True)]
    assert [b["building"] for b in summarize(cells, [])["by_building"]] == ["2", "10", "A", "B"]
    rows = [ArrearsRow(house_id=i, building_id=i, building=code, unit="1", room="101", bills=1, amount_fen=100,
                       oldest_due=date(2026, 1, 1), first_period="2026-01", last_period="2026-01",
                       buckets={"d31_90": 100}) for i, code in enumerate(["B", "10", "A", "2"], start=1)]
    out = aging(rows, date(2026, 3, 1))
    assert [b["building"] for b in out["by_building"]] == ["2", "10", "A", "B"]
    assert [h["house_id"] for h in out["houses"]] == [1, 2, 3, 4]  # equal amounts: by house id
    assert out["houses"][0]["house"] == "B栋1单元101" and out["houses"][0]["days_overdue"] == 59


def test_weekly_workbook():
    c = collection([collected("cash", 1, "2026-11", 2, 40000), collected("wechat", 3, "2026-10", 1, 3500)],
                   {"cash": 1, "wechat": 1}, "2026-11")
    report = {"week": "2026-W48", "community": {"code": "demo", "name": "示例小区"}, "start": date(2026, 11, 23),
              "end": date(2026, 11, 29), "complete": False, "collection": c,
              "period_to_date": {"period": "2026-11", **report_figures.figures(10, 100000, 2, 40000, 10, 2)}}
    wb = openpyxl.load_workbook(io.BytesIO(report_xlsx.weekly_workbook(report)))
    assert wb.sheetnames == ["周报"]
    s = wb["周报"]
    assert s["A1"].value == "示例小区 收费周报 2026-W48（2026-11-23 至 2026-11-29）" and s["A1"].font.b
    assert s["A2"].value == "金额单位：元；本周尚未结束"
    rows = [trimmed(row) for row in s.iter_rows()]
    assert ["现金", 2, 400.0] in rows and ["水费（代收）", 1, 35.0] in rows and ["往期欠费", 1, 35.0] in rows
    total = rows.index(["合计", 3, 435.0]) + 1
    assert s.cell(total, 3).number_format == "0.00" and s.cell(total, 1).font.b
    assert rows[-1] == ["截至周末", 10, 1000.0, 2, 400.0, 600.0, 0.4, 10, 2, 0.2]
    assert s.cell(s.max_row, 7).number_format == "0.0%" and s.cell(s.max_row, 3).number_format == "0.00"
    assert report_xlsx.weekly_filenames("2026-W48") == ("fee-collection-2026-W48.xlsx", "收费周报-2026-W48.xlsx")
