"""Fee collection reports (收费报表): the period report (月报) with the collection rate (收费率) and the
household rate (户收费率) by building and by fee item, the arrears detail with aging (欠费明细), the
recovery of advances (代收代垫回收), the money collected in the month; the weekly collection report (周报);
and both as xlsx.

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

`summarize`, `aging`, `collection` and the bucket helpers are pure (unit-tested without a database); the
fetch_* functions are the aggregate queries (GROUP BY in SQL: one row per building x item, per building,
per house in arrears, per method x item x period), `workbook` renders the xlsx. Month parsing and
boundaries, rates and the download are shared with the other reports (server/reporting.py).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select

from ..accounts.models import Building, Community, House, Staff
from ..accounts.rules import can, house_label
from ..errors import Forbidden, ValidationFailed
from ..extensions import db
from ..reporting import (
    bold_row,
    excel_time,
    month_bounds,
    month_text,
    parse_month,
    ratio,
    set_widths,
    workbook_bytes,
)
from ..timeutil import as_utc, to_local, utcnow
from ..money import PAYMENT_METHODS
from .models import Bill, FeeItem, Payment

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


# -- pure: the period's figures -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Cell:
    """The period's bills of one building and one fee item (one row of `fetch_cells`)."""
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


# -- pure: aging ------------------------------------------------------------------------------------------------

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
    """One house's overdue, uncollected bills (one row of `fetch_arrears`)."""
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


# -- pure: money collected in a span ----------------------------------------------------------------------

@dataclass(frozen=True)
class CollectedRow:
    """Bills paid in a span, for one method, item and period (one row of `fetch_collected`)."""
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


# -- queries ------------------------------------------------------------------------------------------------------

def _collected(as_of: datetime):
    """SQL: the bill counts as collected at `as_of`."""
    return and_(Bill.status == "paid", func.coalesce(Bill.paid_at, Bill.created_at) <= as_of)


def _period_bills(community_id: int, period: str, as_of: datetime):
    return (Bill.community_id == community_id, Bill.period == period, Bill.status.not_in(NOT_BILLED),
            Bill.created_at <= as_of)


def fetch_cells(community_id: int, period: str, as_of: datetime, period_end: datetime) -> list[Cell]:
    collected = _collected(as_of)
    recovered = and_(collected, func.coalesce(Bill.paid_at, Bill.created_at) < period_end)
    stmt = (select(House.building_id, Bill.fee_item_id, func.count(), func.sum(Bill.amount_fen),
                   func.sum(case((collected, 1), else_=0)), func.sum(case((collected, Bill.amount_fen), else_=0)),
                   func.sum(case((recovered, Bill.amount_fen), else_=0)))
            .join(House, House.id == Bill.house_id)
            .where(*_period_bills(community_id, period, as_of))
            .group_by(House.building_id, Bill.fee_item_id))
    rows = db.session.execute(stmt).all()
    buildings = _buildings(community_id)
    items = {i.id: i for i in db.session.scalars(select(FeeItem).where(FeeItem.community_id == community_id))}
    return [Cell(building_id=b, building=buildings.get(b, str(b)), item_id=i, item_code=items[i].code,
                 item_name=items[i].name, advance=bool(items[i].advance), bills=n, billed_fen=int(billed or 0),
                 paid_bills=int(paid or 0), collected_fen=int(coll or 0), recovered_fen=int(rec or 0))
            for b, i, n, billed, paid, coll, rec in rows]


def fetch_households(community_id: int, period: str, as_of: datetime) -> list[HouseholdCount]:
    per_house = (select(House.building_id.label("building_id"),
                        func.sum(case((_collected(as_of), 0), else_=1)).label("open"))
                 .select_from(Bill).join(House, House.id == Bill.house_id)
                 .where(*_period_bills(community_id, period, as_of))
                 .group_by(Bill.house_id, House.building_id).subquery())
    stmt = (select(per_house.c.building_id, func.count(), func.sum(case((per_house.c.open == 0, 1), else_=0)))
            .group_by(per_house.c.building_id))
    return [HouseholdCount(b, n, int(paid or 0)) for b, n, paid in db.session.execute(stmt)]


def fetch_arrears(community_id: int, as_of: datetime, day: date) -> list[ArrearsRow]:
    """Per house: bills not collected at `as_of` (status unpaid, or paid later) and due before `day`."""
    uncollected = or_(Bill.status == "unpaid",
                      and_(Bill.status == "paid", func.coalesce(Bill.paid_at, Bill.created_at) > as_of))
    buckets = []
    for key, earliest, latest in bucket_due_dates(day):
        cond = Bill.due_date <= latest if earliest is None else Bill.due_date.between(earliest, latest)
        buckets.append(func.sum(case((cond, Bill.amount_fen), else_=0)).label(key))
    stmt = (select(Bill.house_id, House.building_id, Building.code, House.unit, House.room, func.count(),
                   func.sum(Bill.amount_fen), func.min(Bill.due_date), func.min(Bill.period), func.max(Bill.period),
                   *buckets)
            .join(House, House.id == Bill.house_id).join(Building, Building.id == House.building_id)
            .where(Bill.community_id == community_id, Bill.status.not_in(NOT_BILLED), Bill.created_at <= as_of,
                   Bill.due_date < day, uncollected)
            .group_by(Bill.house_id, House.building_id, Building.code, House.unit, House.room))
    out = []
    for row in db.session.execute(stmt):
        house_id, building_id, code, unit, room, n, amount, oldest, first, last, *sums = row
        out.append(ArrearsRow(house_id=house_id, building_id=building_id, building=code, unit=unit, room=room,
                              bills=n, amount_fen=int(amount or 0), oldest_due=oldest, first_period=first,
                              last_period=last, buckets={k: int(v or 0) for k, v in zip(BUCKET_KEYS, sums)}))
    return out


def fetch_collected(community_id: int, start: datetime, end: datetime) -> tuple[list[CollectedRow], dict[str, int]]:
    """Bills paid in [start, end) and still paid, grouped by method, item and period; payments per method."""
    method = func.coalesce(Payment.method, "other")
    where = (Bill.community_id == community_id, Bill.status == "paid", Bill.paid_at >= start, Bill.paid_at < end)
    stmt = (select(method, Bill.fee_item_id, FeeItem.code, FeeItem.name, Bill.period, func.count(),
                   func.sum(Bill.amount_fen))
            .select_from(Bill).join(FeeItem, FeeItem.id == Bill.fee_item_id)
            .outerjoin(Payment, Payment.id == Bill.paid_payment_id).where(*where)
            .group_by(method, Bill.fee_item_id, FeeItem.code, FeeItem.name, Bill.period))
    rows = [CollectedRow(method=m, item_id=i, item_code=code, item_name=name, period=p, bills=n,
                         amount_fen=int(amount or 0)) for m, i, code, name, p, n, amount in db.session.execute(stmt)]
    counts = (select(method, func.count(func.distinct(Bill.paid_payment_id))).select_from(Bill)
              .outerjoin(Payment, Payment.id == Bill.paid_payment_id).where(*where).group_by(method))
    return rows, {m: n for m, n in db.session.execute(counts)}


def _buildings(community_id: int) -> dict[int, str]:
    stmt = select(Building.id, Building.code).where(Building.community_id == community_id)
    return {building_id: code for building_id, code in db.session.execute(stmt)}


# -- the reports ------------------------------------------------------------------------------------------------

def may_see(staff: Staff) -> bool:
    return can(staff.role, staff.department, "reports")


def require_reports(staff: Staff) -> Staff:
    if not may_see(staff):
        raise Forbidden("只有经理和财务可以查看收费报表", code="role_forbidden")
    return staff


def _as_of(as_of: datetime | None, now: datetime) -> datetime:
    if as_of is None:
        return now
    as_of = as_utc(as_of)
    if as_of > now:
        raise ValidationFailed("统计时点不能晚于当前时间", fields={"as_of": ["统计时点不能晚于当前时间"]})
    return as_of


def _period_figures(community: Community, period: str, as_of: datetime) -> tuple[list[Cell], dict]:
    _start, end = month_bounds(*parse_month(period), community.timezone)
    cells = fetch_cells(community.id, period, as_of, end)
    households = fetch_households(community.id, period, as_of)
    return cells, summarize(cells, households, period_over=as_of >= end)


def period_report(staff: Staff, period: str, as_of: datetime | None = None,
                  arrears_limit: int | None = DEFAULT_ARREARS_LIMIT) -> dict:
    """收费月报 of the caller's community (managers and finance)."""
    require_reports(staff)
    community = db.session.get(Community, staff.community_id)
    now = utcnow()
    as_of = _as_of(as_of, now)
    zone = community.timezone
    start, end = month_bounds(*parse_month(period), zone)
    _cells, summary = _period_figures(community, period, as_of)
    day = to_local(as_of, zone).date()
    rows, payments = fetch_collected(community.id, start, min(end, as_of + timedelta(microseconds=1)))
    return {
        "period": period,
        "community": {"code": community.code, "name": community.name},
        "timezone": zone,
        "generated_at": now,
        "as_of": as_of,
        "period_start": start.date(),
        "period_end": (end - timedelta(days=1)).date(),
        **summary,
        "arrears": aging(fetch_arrears(community.id, as_of, day), day, arrears_limit),
        "month_collection": collection(rows, payments, period),
        "definitions": DEFINITIONS,
    }


def weekly_report(staff: Staff, week: str) -> dict:
    """收费周报 of the caller's community: collected in the ISO week, and the period's rate at week end."""
    require_reports(staff)
    community = db.session.get(Community, staff.community_id)
    zone = community.timezone
    year, number = parse_week(week)
    start, end = week_bounds(year, number, zone)
    now = utcnow()
    last_day = (end - timedelta(days=1)).date()
    period = month_text(last_day.year, last_day.month)
    as_of = min(as_utc(end) - timedelta(microseconds=1), now)
    rows, payments = fetch_collected(community.id, start, end)
    _cells, summary = _period_figures(community, period, as_of) if as_utc(start) <= now else ([], None)
    total = summary["total"] if summary else figures(0, 0, 0, 0, 0, 0)
    return {
        "week": f"{year}-W{number:02d}",
        "community": {"code": community.code, "name": community.name},
        "timezone": zone,
        "generated_at": now,
        "start": start.date(),
        "end": last_day,
        "complete": as_utc(end) <= now,
        "collection": collection(rows, payments, period),
        "period_to_date": {"period": period, "as_of": as_of, **total},
        "definitions": WEEKLY_DEFINITIONS,
    }


# -- xlsx ------------------------------------------------------------------------------------------------------

YUAN = "0.00"
RATE = "0.0%"
FIGURE_HEADERS = ["应收笔数", "应收（元）", "已缴笔数", "实收（元）", "未收（元）", "收费率", "户数", "已缴清户数", "户收费率"]


def yuan_number(fen: int | None) -> float | None:
    """Fen as a yuan number for a spreadsheet cell (exact to the fen)."""
    return None if fen is None else float(Decimal(fen) / 100)


def _figure_cells(f: dict) -> list:
    return [f["bills"], yuan_number(f["billed_fen"]), f["paid_bills"], yuan_number(f["collected_fen"]),
            yuan_number(f["outstanding_fen"]), f["collection_rate"], f["houses"], f["houses_paid"],
            f["household_rate"]]


def _row(sheet) -> int:
    """The last appended row (openpyxl's max_row scans every cell: quadratic over 100,000 houses)."""
    return sheet._current_row


def _format(sheet, row: int, yuan_columns: Iterable[int] = (), rate_columns: Iterable[int] = ()) -> None:
    for column in yuan_columns:
        sheet.cell(row, column).number_format = YUAN
    for column in rate_columns:
        sheet.cell(row, column).number_format = RATE


def _figures_row(sheet, first: list, f: dict) -> None:
    sheet.append([*first, *_figure_cells(f)])
    offset = len(first)
    _format(sheet, _row(sheet), [offset + 2, offset + 4, offset + 5], [offset + 6, offset + 9])


def workbook(report: dict) -> bytes:
    """汇总 / 按楼栋 / 按项目 / 欠费明细 (with aging) / 代收回收; amounts in yuan (0.00), rates as %."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    zone = report.get("timezone", "Asia/Shanghai")
    year, month = report["period"].split("-")
    wb = Workbook()

    summary = wb.active
    summary.title = "汇总"
    summary.append([f"{report['community']['name']} 收费月报 {year}年{int(month)}月"])
    summary["A1"].font = Font(bold=True, size=14)
    summary.append([f"统计时点 {excel_time(report['as_of'], zone):%Y-%m-%d %H:%M}（北京时间）；金额单位：元"])
    summary.append([])
    summary.append(["项目", *FIGURE_HEADERS])
    bold_row(summary, _row(summary))
    _figures_row(summary, ["本期合计"], report["total"])
    summary.append([])
    collected = report["month_collection"]
    summary.append(["本月收款（按收款方式）", "笔数（账单）", "金额（元）", "支付笔数"])
    bold_row(summary, _row(summary))
    for m in collected["by_method"]:
        summary.append([m["label"], m["bills"], yuan_number(m["amount_fen"]), m["payments"]])
        _format(summary, _row(summary), [3])
    for p in collected["by_period"]:
        summary.append([f"其中{p['label']}", p["bills"], yuan_number(p["amount_fen"])])
        _format(summary, _row(summary), [3])
    summary.append(["合计", collected["total"]["bills"], yuan_number(collected["total"]["amount_fen"]),
                    collected["total"]["payments"]])
    _format(summary, _row(summary), [3])
    bold_row(summary, _row(summary))
    summary.append([])
    summary.append(["口径"])
    bold_row(summary, _row(summary))
    for key, text in report["definitions"].items():
        summary.append([key, text])
    set_widths(summary, [24, 12, 14, 12, 14, 14, 10, 10, 12, 10])

    buildings = wb.create_sheet("按楼栋")
    buildings.append(["楼栋", *FIGURE_HEADERS])
    bold_row(buildings, 1)
    for b in report["by_building"]:
        _figures_row(buildings, [f"{b['building']}栋"], b)
    _figures_row(buildings, ["合计"], report["total"])
    bold_row(buildings, _row(buildings))
    buildings.freeze_panes = "A2"
    set_widths(buildings, [12, 10, 14, 10, 14, 14, 10, 8, 12, 10])

    items = wb.create_sheet("按项目")
    items.append(["收费项目", "代垫", *FIGURE_HEADERS])
    bold_row(items, 1)
    for i in report["by_item"]:
        _figures_row(items, [i["name"], "是" if i["advance"] else ""], i)
    items.freeze_panes = "A2"
    set_widths(items, [22, 6, 10, 14, 10, 14, 14, 10, 8, 12, 10])

    arrears = report["arrears"]
    labels = [b["label"] for b in arrears["buckets"]]
    detail = wb.create_sheet("欠费明细")
    detail.append([f"截至 {arrears['date']:%Y-%m-%d} 已过缴费期限未缴的账单（任何期间），按逾期天数分段；金额单位：元"])
    detail.append(["楼栋", "户数", "笔数", "欠费合计", *labels])
    bold_row(detail, _row(detail))
    bucket_columns = range(5, 5 + len(labels))
    for b in arrears["by_building"]:
        detail.append([f"{b['building']}栋", b["houses"], b["bills"], yuan_number(b["amount_fen"]),
                       *(yuan_number(b["buckets"][k]) for k in BUCKET_KEYS)])
        _format(detail, _row(detail), [4, *bucket_columns])
    t = arrears["total"]
    detail.append(["合计", t["houses"], t["bills"], yuan_number(t["amount_fen"]),
                   *(yuan_number(t["buckets"][k]) for k in BUCKET_KEYS)])
    _format(detail, _row(detail), [4, *bucket_columns])
    bold_row(detail, _row(detail))
    detail.append([])
    detail.append(["房屋", "期间", "笔数", "欠费合计", *labels, "最早缴费期限", "最长逾期天数"])
    bold_row(detail, _row(detail))
    for h in arrears["houses"]:
        detail.append([h["house"], h["periods"], h["bills"], yuan_number(h["amount_fen"]),
                       *(yuan_number(h["buckets"][k]) for k in BUCKET_KEYS), h["oldest_due"], h["days_overdue"]])
        row = _row(detail)
        _format(detail, row, [4, *bucket_columns])
        detail.cell(row, 5 + len(labels)).number_format = "yyyy-mm-dd"
    set_widths(detail, [18, 18, 8, 14, 12, 12, 12, 12, 12, 14, 12])

    adv = report["advances"]
    sheet = wb.create_sheet("代收回收")
    sheet.append([f"代垫费用（水、电、燃气）须当期全部收回；{'本期已结束' if adv['period_over'] else '本期尚未结束'}；金额单位：元"])
    sheet.append(["收费项目", "楼栋", "应收笔数", "应收（元）", "期内收回（元）", "未收回（元）", "回收率", "是否全部收回"])
    bold_row(sheet, _row(sheet))

    def adv_row(name: str, building: str, e: dict) -> None:
        sheet.append([name, building, e["bills"], yuan_number(e["billed_fen"]), yuan_number(e["recovered_fen"]),
                      yuan_number(e["outstanding_fen"]), e["recovery_rate"], "是" if e["fully_recovered"] else "否"])
        _format(sheet, _row(sheet), [4, 5, 6], [7])

    for item in adv["items"]:
        adv_row(item["name"], "全部", item)
        bold_row(sheet, _row(sheet))
        for b in item["by_building"]:
            adv_row(item["name"], f"{b['building']}栋", b)
    adv_row("合计", "", adv["total"])
    bold_row(sheet, _row(sheet))
    set_widths(sheet, [22, 10, 10, 14, 16, 14, 10, 14])
    return workbook_bytes(wb)


def weekly_workbook(report: dict) -> bytes:
    """One sheet 周报: by method, by item, by kind of period, and the period's rate at week end."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    sheet = wb.active
    sheet.title = "周报"
    sheet.append([(f"{report['community']['name']} 收费周报 {report['week']}"
                   f"（{report['start']:%Y-%m-%d} 至 {report['end']:%Y-%m-%d}）")])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(["金额单位：元" + ("" if report["complete"] else "；本周尚未结束")])
    c = report["collection"]
    for title, rows in (("按收款方式", [(m["label"], m["bills"], m["amount_fen"]) for m in c["by_method"]]),
                        ("按收费项目", [(i["name"], i["bills"], i["amount_fen"]) for i in c["by_item"]]),
                        ("按期间", [(p["label"], p["bills"], p["amount_fen"]) for p in c["by_period"]])):
        sheet.append([])
        sheet.append([title, "笔数（账单）", "金额（元）"])
        bold_row(sheet, _row(sheet))
        for label, bills, fen in rows:
            sheet.append([label, bills, yuan_number(fen)])
            _format(sheet, _row(sheet), [3])
    sheet.append(["合计", c["total"]["bills"], yuan_number(c["total"]["amount_fen"])])
    _format(sheet, _row(sheet), [3])
    bold_row(sheet, _row(sheet))
    sheet.append([])
    p = report["period_to_date"]
    sheet.append([f"本期 {p['period']} 累计", *FIGURE_HEADERS])
    bold_row(sheet, _row(sheet))
    _figures_row(sheet, ["截至周末"], p)
    set_widths(sheet, [22, 12, 14, 10, 14, 14, 10, 8, 12, 10])
    return workbook_bytes(wb)


def xlsx_filenames(period: str) -> tuple[str, str]:
    """(ASCII name for `filename=`, Chinese name for `filename*=`)."""
    return f"fee-collection-{period}.xlsx", f"收费月报-{period}.xlsx"


def weekly_filenames(week: str) -> tuple[str, str]:
    return f"fee-collection-{week}.xlsx", f"收费周报-{week}.xlsx"
