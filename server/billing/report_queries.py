"""The queries behind the fee collection reports: aggregate reads (GROUP BY in SQL: one row per building x
item, per building, per house in arrears, per method x item x period) that gather the plain rows the figures
are computed from. What the rows mean and every definition: report_figures.py."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import and_, case, func, or_, select

from ..accounts.models import Building, House
from ..extensions import db
from .models import Bill, FeeItem, Payment
from .report_figures import (
    BUCKET_KEYS,
    NOT_BILLED,
    ArrearsRow,
    Cell,
    CollectedRow,
    HouseholdCount,
    bucket_due_dates,
)


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
