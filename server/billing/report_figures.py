"""The fee collection reports' figures (收费报表的口径与计算), pure: plain rows in, numbers out. No Flask, no
database (unit-tested directly, tests/unit/test_collection_metrics.py). report_queries.py gathers the rows
(GROUP BY in SQL), reports.py assembles the period and weekly reports, report_xlsx.py renders them.

Definitions (server/README.md, "Fees" and "The manager's numbers"). Money is integer fen; rates are fractions
0..1, half-up to 3 decimals, null when there is nothing to divide. Times are cut in the community's time
zone (Asia/Shanghai). `as_of` is the moment the report describes: the time of the request unless given
(a past moment replays the payments; waivers and refunds are taken as they stand now).

The period's bills: bills of the community whose `period` is the report's YYYY-MM, created by `as_of`,
not waived (已减免) and not refunded (已退款: the charge was given back) -- those two count nowhere.

- billed (应收): count and sum of the period's bills.
- collected (实收): of those, the ones paid (by any method: WeChat Pay, cash, POS, transfer) at or before
  `as_of` (a paid bill without a payment time counts from its creation).
- outstanding (未收): billed - collected.
- collection_rate (收费率): collected_fen / billed_fen (amount-based).
- household_rate (户收费率): houses whose every bill of the period is collected / houses with at least one
  bill of the period.
- by_building / by_item: the same figures for each building (a house belongs to one building) and each fee
  item (one bill per house and item and period, so an item's households are its bills).
- arrears (欠费明细): bills of ANY period not collected as of `as_of` whose due date has passed (due date
  before the local date of `as_of`), aged by days overdue = that date - due date, in the buckets 1-30,
  31-90, 91-180, 181-365 and >365 days; totals, per building and per house (largest arrears first; the
  JSON lists the first `arrears_limit` houses, the xlsx all of them).
- advances (代收回收): fee items marked `advance` (water, electricity, gas paid in advance for owners, which
  must be fully recovered in the same period): billed vs recovered = collected before the end of the
  period (and by `as_of`); `fully_recovered` when nothing is left; `period_over` once `as_of` is past the
  period's end (what is still open then was not recovered in the period).
- month_collection (本月收款): money collected during the report's calendar month, see "collection" below.

The weekly report (ISO week YYYY-Www, Monday 00:00 to Monday 00:00 local time):

- collection (本周收款): bills whose payment time falls in the week and that are still paid (refunded ones
  are not counted), any period: count and amount by payment method (bills marked paid without a
  recorded payment: "other"), by fee item, and by kind of period (current = the period of the week's
  last day; arrears = earlier periods; advance = later periods), with the number of payments;
- period_to_date (本期累计): the collection figures of the period of the week's last day, as of the end
  of the week (or now, while the week runs).

`DEFINITIONS` and `WEEKLY_DEFINITIONS` are the same definitions in Chinese, as the reports carry them.
Month parsing and boundaries and the rates are shared with the other reports (server/reporting.py).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..accounts.rules import house_label
from ..reporting import ratio
from ..money import PAYMENT_METHODS

NOT_BILLED = ("waived", "refunded")  # count nowhere
# (key, label, lowest days overdue, highest or None)
AGING_BUCKETS = (
    ("d1_30", "1-30 天", 1, 30),
    ("d31_90", "31-90 天", 31, 90),
    ("d91_180", "91-180 天", 91, 180),
    ("d181_365", "181-365 天", 181, 365),
    ("d365_plus", "365 天以上", 366, None),
)
BUCKET_KEYS = tuple(b[0] for b in AGING_BUCKETS)
METHODS = {**PAYMENT_METHODS, "other": "其他（未记录收款方式）"}
PERIOD_KINDS = {"current": "本期", "arrears": "往期欠费", "advance": "预收（以后期间）"}
DEFAULT_ARREARS_LIMIT = 100

DEFINITIONS = {
    "as_of": "统计时点：默认为请求时间；指定过去的时点时按当时的缴费情况统计（减免、退款按现状）",
    "billed": "应收：本期（账单期间 = 报表期间）截至统计时点已生成的账单，已减免、已退款的不计",
    "collected": "实收：上述账单中截至统计时点已缴的（微信支付、现金、POS、转账等任何方式）",
    "outstanding": "未收：应收 - 实收",
    "collection_rate": "收费率（按金额）：实收金额 ÷ 应收金额",
    "household_rate": "户收费率：本期账单全部已缴的户数 ÷ 有本期账单的户数",
    "by_building": "按楼栋：每栋的应收、实收、收费率、户收费率",
    "by_item": "按收费项目：每个项目的应收、实收、收费率；每户每项目每期一张账单，户收费率 = 已缴账单数 ÷ 账单数",
    "arrears": "欠费明细：任何期间截至统计时点未缴且已过缴费期限的账单，按逾期天数（统计日 - 缴费期限）分段："
               "1-30、31-90、91-180、181-365、365 天以上，按楼栋、按户汇总",
    "advances": "代收代垫回收：标记为代垫的项目（水、电、燃气），本期应收与期内（期末前且截至统计时点）已收回的金额；"
                "须在当期全部收回",
    "month_collection": "本月收款：报表月份内（北京时间）缴费的账单（任何期间，退款的不计），按收款方式、收费项目、期间类别汇总",
}
WEEKLY_DEFINITIONS = {
    "week": "ISO 周（周一 00:00 至下周一 00:00，北京时间）",
    "collection": "本周收款：缴费时间在本周内且仍为已缴的账单（任何期间），按收款方式、收费项目、期间类别"
                  "（本期 / 往期欠费 / 预收）汇总；未记录收款方式的计入“其他”",
    "period_to_date": "本期累计：本周最后一天所在期间的应收、实收、收费率、户收费率，统计到周末（本周未结束时到当前）",
}


# -- the period's figures ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cell:
    """The period's bills of one building and one fee item (one row of `report_queries.fetch_cells`)."""
    building_id: int
    building: str
    item_id: int
    item_code: str
    item_name: str
    advance: bool
    bills: int
    billed_fen: int
    paid_bills: int
    collected_fen: int
    recovered_fen: int = 0  # collected before the end of the period


@dataclass(frozen=True)
class HouseholdCount:
    """Households of one building with a bill of the period, and how many have them all collected."""
    building_id: int
    houses: int
    paid: int


def figures(bills: int, billed_fen: int, paid_bills: int, collected_fen: int, houses: int, houses_paid: int) -> dict:
    return {
        "bills": bills, "billed_fen": billed_fen, "paid_bills": paid_bills, "collected_fen": collected_fen,
        "outstanding_fen": billed_fen - collected_fen, "collection_rate": ratio(collected_fen, billed_fen),
        "houses": houses, "houses_paid": houses_paid, "household_rate": ratio(houses_paid, houses),
    }


def _sum(cells: list[Cell], name: str) -> int:
    return sum(getattr(c, name) for c in cells)


def summarize(cells: Iterable[Cell], households: Iterable[HouseholdCount], *, period_over: bool = False) -> dict:
    """Total, by building (sorted by building code), by item (by code), and the advances' recovery."""
    cells, households = list(cells), {h.building_id: h for h in households}
    buildings: dict[int, list[Cell]] = defaultdict(list)
    items: dict[int, list[Cell]] = defaultdict(list)
    for c in cells:
        buildings[c.building_id].append(c)
        items[c.item_id].append(c)

    def money(group: list[Cell]) -> tuple[int, int, int, int]:
        return _sum(group, "bills"), _sum(group, "billed_fen"), _sum(group, "paid_bills"), _sum(group, "collected_fen")

    by_building = []
    for building_id, group in buildings.items():
        h = households.get(building_id, HouseholdCount(building_id, 0, 0))
        by_building.append({"building_id": building_id, "building": group[0].building,
                            **figures(*money(group), h.houses, h.paid)})
    by_building.sort(key=lambda b: (_natural(b["building"]), b["building_id"]))

    by_item = []
    for item_id, group in items.items():
        first = group[0]
        bills, billed, paid, collected = money(group)
        by_item.append({"fee_item_id": item_id, "code": first.item_code, "name": first.item_name,
                        "advance": first.advance, **figures(bills, billed, paid, collected, bills, paid)})
    by_item.sort(key=lambda i: (i["code"], i["fee_item_id"]))

    total = figures(*money(cells), sum(h.houses for h in households.values()),
                    sum(h.paid for h in households.values()))
    return {"total": total, "by_building": by_building, "by_item": by_item,
            "advances": advances(cells, period_over=period_over)}


def advances(cells: Iterable[Cell], *, period_over: bool) -> dict:
    """代收回收: per advance item (and per building within it) billed vs recovered in the period."""
    rows: dict[int, list[Cell]] = defaultdict(list)
    for c in cells:
        if c.advance:
            rows[c.item_id].append(c)

    def entry(group: list[Cell]) -> dict:
        billed, recovered = _sum(group, "billed_fen"), _sum(group, "recovered_fen")
        return {"bills": _sum(group, "bills"), "billed_fen": billed, "recovered_fen": recovered,
                "outstanding_fen": billed - recovered, "recovery_rate": ratio(recovered, billed),
                "fully_recovered": billed == recovered}

    items = []
    for item_id, group in rows.items():
        buildings = sorted(group, key=lambda c: (_natural(c.building), c.building_id))
        items.append({"fee_item_id": item_id, "code": group[0].item_code, "name": group[0].item_name,
                      **entry(group),
                      "by_building": [{"building_id": c.building_id, "building": c.building, **entry([c])}
                                      for c in buildings]})
    items.sort(key=lambda i: (i["code"], i["fee_item_id"]))
    every = [c for group in rows.values() for c in group]
    return {"period_over": period_over, "total": entry(every), "items": items}


def _natural(code: str) -> tuple:
    """Building codes sort as numbers when they are numbers (2 before 10)."""
    return (0, int(code), "") if code.isdigit() else (1, 0, code)


# -- aging ---------------------------------------------------------------------------------------------------

def bucket_of(days_overdue: int) -> str | None:
    """The aging bucket of a bill `days_overdue` past its due date (None when not overdue)."""
    for key, _label, low, high in AGING_BUCKETS:
        if days_overdue >= low and (high is None or days_overdue <= high):
            return key
    return None


def bucket_due_dates(day: date) -> list[tuple[str, date | None, date]]:
    """For a report date: (bucket, earliest due date or None, latest due date) of each bucket, inclusive.
    A bill due on D is `day - D` days overdue."""
    return [(key, None if high is None else day - timedelta(days=high), day - timedelta(days=low))
            for key, _label, low, high in AGING_BUCKETS]


@dataclass(frozen=True)
class ArrearsRow:
    """One house's overdue, uncollected bills (one row of `report_queries.fetch_arrears`)."""
    house_id: int
    building_id: int
    building: str
    unit: str
    room: str
    bills: int
    amount_fen: int
    oldest_due: date
    first_period: str
    last_period: str
    buckets: dict[str, int]  # bucket key -> fen

    @property
    def label(self) -> str:
        return house_label(self.building, self.unit, self.room)


def _bucket_totals(rows: list[ArrearsRow]) -> dict[str, int]:
    return {key: sum(r.buckets.get(key, 0) for r in rows) for key in BUCKET_KEYS}


def aging(rows: Iterable[ArrearsRow], day: date, limit: int | None = DEFAULT_ARREARS_LIMIT) -> dict:
    """Totals, per building and per house (largest arrears first, then house id); `limit` houses listed."""
    rows = sorted(rows, key=lambda r: (-r.amount_fen, r.house_id))
    by_building: dict[int, list[ArrearsRow]] = defaultdict(list)
    for r in rows:
        by_building[r.building_id].append(r)

    def entry(group: list[ArrearsRow]) -> dict:
        return {"houses": len(group), "bills": sum(r.bills for r in group),
                "amount_fen": sum(r.amount_fen for r in group), "buckets": _bucket_totals(group)}

    buildings = [{"building_id": building_id, "building": group[0].building, **entry(group)}
                 for building_id, group in by_building.items()]
    buildings.sort(key=lambda b: (_natural(b["building"]), b["building_id"]))
    listed = rows if limit is None else rows[:limit]
    houses = [{"house_id": r.house_id, "house": r.label, "building": r.building, "bills": r.bills,
               "amount_fen": r.amount_fen, "oldest_due": r.oldest_due, "days_overdue": (day - r.oldest_due).days,
               "periods": r.first_period if r.first_period == r.last_period else f"{r.first_period}~{r.last_period}",
               "buckets": {key: r.buckets.get(key, 0) for key in BUCKET_KEYS}} for r in listed]
    return {"date": day, "buckets": [{"key": key, "label": label} for key, label, _l, _h in AGING_BUCKETS],
            "total": entry(rows), "by_building": buildings, "houses": houses, "house_count": len(rows),
            "houses_truncated": len(listed) < len(rows)}


# -- money collected in a span -------------------------------------------------------------------------------

@dataclass(frozen=True)
class CollectedRow:
    """Bills paid in a span, for one method, item and period (one row of `report_queries.fetch_collected`)."""
    method: str
    item_id: int
    item_code: str
    item_name: str
    period: str
    bills: int
    amount_fen: int


def period_kind(bill_period: str, current: str) -> str:
    if bill_period == current:
        return "current"
    return "arrears" if bill_period < current else "advance"


def collection(rows: Iterable[CollectedRow], payments_by_method: dict[str, int], current_period: str) -> dict:
    """Totals, by method (every known method listed), by fee item and by kind of period."""
    rows = list(rows)
    methods = list(PAYMENT_METHODS) + sorted({r.method for r in rows} - set(PAYMENT_METHODS))
    by_method = []
    for method in methods:
        group = [r for r in rows if r.method == method]
        if method == "other" and not group:
            continue
        by_method.append({"method": method, "label": METHODS.get(method, method),
                          "payments": payments_by_method.get(method, 0), "bills": sum(r.bills for r in group),
                          "amount_fen": sum(r.amount_fen for r in group)})
    items: dict[int, dict] = {}
    for r in rows:
        entry = items.setdefault(r.item_id, {"fee_item_id": r.item_id, "code": r.item_code, "name": r.item_name,
                                             "bills": 0, "amount_fen": 0})
        entry["bills"] += r.bills
        entry["amount_fen"] += r.amount_fen
    by_period = []
    for kind, label in PERIOD_KINDS.items():
        group = [r for r in rows if period_kind(r.period, current_period) == kind]
        by_period.append({"kind": kind, "label": label, "bills": sum(r.bills for r in group),
                          "amount_fen": sum(r.amount_fen for r in group)})
    return {
        "current_period": current_period,
        "total": {"payments": sum(payments_by_method.values()), "bills": sum(r.bills for r in rows),
                  "amount_fen": sum(r.amount_fen for r in rows)},
        "by_method": by_method,
        "by_item": sorted(items.values(), key=lambda i: (i["code"], i["fee_item_id"])),
        "by_period": by_period,
    }


# -- ISO weeks -----------------------------------------------------------------------------------------------

def parse_week(text: str) -> tuple[int, int]:
    """'2026-W48' -> (2026, 48); ValueError when that ISO week does not exist."""
    year, week = text.split("-W")
    date.fromisocalendar(int(year), int(week), 1)
    return int(year), int(week)


def week_bounds(year: int, week: int, zone: str = "Asia/Shanghai") -> tuple[datetime, datetime]:
    """[Monday 00:00, next Monday 00:00) local, as aware datetimes."""
    monday = date.fromisocalendar(year, week, 1)
    tz = ZoneInfo(zone)
    return (datetime.combine(monday, time(0), tzinfo=tz),
            datetime.combine(monday + timedelta(days=7), time(0), tzinfo=tz))
