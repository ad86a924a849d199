"""Bill generation (idempotent per house, item and period; bulk inserts) and meter-reading import."""
from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from ..accounts.models import Building, Community, House
from ..extensions import db
from ..timeutil import utcnow
from . import formulas
from .models import Bill, FeeItem, FeeSubscription, Meter, MeterReading

CHUNK = 5000


@dataclass
class GenerationReport:
    period: str
    communities: int = 0
    computed: int = 0  # lines the formulas produced
    created: int = 0  # new bills (the rest existed already)
    seconds: float = 0.0
    skipped: list[str] = field(default_factory=list)  # items that produced nothing, and why

    @property
    def existing(self) -> int:
        return self.computed - self.created


def period_start(period: str) -> date:
    return date(int(period[:4]), int(period[5:7]), 1)


def previous_period(period: str) -> str:
    first = period_start(period) - timedelta(days=1)
    return f"{first:%Y-%m}"


def generate(period: str, community_codes: list[str] | None = None) -> GenerationReport:
    """Bills of `period` for every active recurring fee item of the communities. Re-running creates only
    what is missing (INSERT ... ON CONFLICT DO NOTHING on the (house, item, period) key)."""
    started = time.perf_counter()
    report = GenerationReport(period)
    stmt = select(Community)
    if community_codes:
        stmt = stmt.where(Community.code.in_(community_codes))
    for community in db.session.scalars(stmt).all():
        report.communities += 1
        for item in db.session.scalars(select(FeeItem).where(FeeItem.community_id == community.id,
                                                             FeeItem.active.is_(True), FeeItem.kind != "one_off")):
            lines = _lines(item, community, period, report)
            report.computed += len(lines)
            report.created += _insert(community.id, item, period, lines)
    db.session.commit()
    report.seconds = time.perf_counter() - started
    return report


def _houses(community_id: int) -> dict[int, Decimal | None]:
    return dict(db.session.execute(select(House.id, House.area_m2).where(House.community_id == community_id)).all())


def _lines(item: FeeItem, community: Community, period: str, report: GenerationReport) -> list[formulas.Line]:
    if item.kind == "area" or (item.kind == "heating" and formulas.heating_applies(period, item.season_months)):
        return [formulas.Line(h, formulas.area_fee(area, item.price_fen), {"area_m2": str(area),
                                                                           "price_fen": item.price_fen})
                for h, area in _houses(community.id).items() if area]
    if item.kind == "heating":
        report.skipped.append(f"{item.name}：非采暖季")
        return []
    if item.kind == "fixed":
        subs = db.session.execute(select(FeeSubscription.house_id, FeeSubscription.quantity)
                                  .where(FeeSubscription.fee_item_id == item.id)).all()
        return [formulas.Line(h, formulas.fixed_fee(item.price_fen, q), {"quantity": q, "price_fen": item.price_fen})
                for h, q in subs]
    if item.kind == "metered":
        rows = db.session.execute(
            select(Meter.house_id, Meter.number, MeterReading.consumption)
            .join(MeterReading, MeterReading.meter_id == Meter.id)
            .where(Meter.community_id == community.id, Meter.kind == item.meter_kind, Meter.house_id.is_not(None),
                   MeterReading.period == period)).all()
        if not rows:
            report.skipped.append(f"{item.name}：本期无抄表读数")
        return [formulas.Line(h, formulas.metered_fee(used, item.price_fen),
                              {"meter": number, "consumption": str(used), "price_fen": item.price_fen})
                for h, number, used in rows if used > 0]
    if item.kind == "shared":
        return _shared_lines(item, community, period, report)
    return []


def _shared_lines(item: FeeItem, community: Community, period: str, report: GenerationReport) -> list[formulas.Line]:
    """公摊: each building's common meter consumption x price, split among the building's houses."""
    rows = db.session.execute(
        select(Meter.building_id, Building.code, func.sum(MeterReading.consumption))
        .join(MeterReading, MeterReading.meter_id == Meter.id).join(Building, Building.id == Meter.building_id)
        .where(Meter.community_id == community.id, Meter.kind == item.meter_kind, Meter.building_id.is_not(None),
               MeterReading.period == period)
        .group_by(Meter.building_id, Building.code)).all()
    if not rows:
        report.skipped.append(f"{item.name}：本期无公共表读数")
    lines = []
    for building_id, building_code, used in rows:
        total = formulas.metered_fee(used, item.price_fen)
        houses = dict(db.session.execute(select(House.id, House.area_m2).where(House.building_id == building_id)).all())
        weights = {h: (area or Decimal(0)) for h, area in houses.items()}
        for house_id, amount in formulas.shared_split(total, weights, item.split or "area").items():
            if amount:
                lines.append(formulas.Line(house_id, amount, {
                    "building": building_code, "building_consumption": str(used), "building_total_fen": total,
                    "split": item.split or "area", "houses": len(houses)}))
    return lines


def _insert(community_id: int, item: FeeItem, period: str, lines: list[formulas.Line]) -> int:
    """Insert the lines' bills that do not exist yet; returns how many were created.

    For speed (100,000 houses): the bills already there are read first (one query of house ids) and skipped,
    so a re-run writes nothing; the rest go as an executemany of one compiled INSERT ... ON CONFLICT DO
    NOTHING (psycopg pipelines it), instead of one multi-row VALUES statement per chunk, which spent most of
    its time compiling and converting tens of thousands of parameters. ON CONFLICT still covers a concurrent
    run; the rowcount (kept explicitly: SQLAlchemy 2.1 drops an INSERT's rowcount otherwise) counts only the
    rows really inserted."""
    if not lines:
        return 0
    existing = set(db.session.scalars(select(Bill.house_id).where(
        Bill.community_id == community_id, Bill.fee_item_id == item.id, Bill.period == period)))
    lines = [line for line in lines if line.house_id not in existing]
    if not lines:
        return 0
    due = period_start(period) + timedelta(days=item.due_days)
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = Bill.__table__
    stmt = insert(table).on_conflict_do_nothing(index_elements=["house_id", "fee_item_id", "period"])
    now = utcnow()
    created = 0
    for start in range(0, len(lines), CHUNK):
        rows = [{"community_id": community_id, "house_id": line.house_id, "fee_item_id": item.id, "period": period,
                 "amount_fen": line.amount_fen, "status": "unpaid", "due_date": due, "details": line.details,
                 "reminder_stage": 0, "created_at": now} for line in lines[start:start + CHUNK]]
        created += db.session.execute(stmt.execution_options(preserve_rowcount=True), rows).rowcount
    return created


# -- meter readings -------------------------------------------------------------------------------------------

@dataclass
class ReadingReport:
    rows: int = 0
    imported: int = 0
    updated: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


READING_HEADERS = {"meter": "meter", "表号": "meter", "period": "period", "期间": "period", "reading": "reading",
                   "读数": "reading", "replaced": "replaced", "换表": "replaced", "old_final": "old_final",
                   "旧表止码": "old_final"}


def import_readings(community_id: int, text: str) -> ReadingReport:
    """CSV: meter, period (YYYY-MM), reading[, replaced (1/0/是), old_final]. Consumption is computed against
    the meter's previous period; a reading below it is rejected unless the meter was replaced. Re-importing
    the same row changes nothing; a corrected reading replaces the earlier one of the same period."""
    report = ReadingReport()
    reader = csv.DictReader(io.StringIO(text))
    columns = {h: READING_HEADERS.get((h or "").strip().lower(), READING_HEADERS.get((h or "").strip()))
               for h in reader.fieldnames or []}
    if not {"meter", "period", "reading"} <= set(columns.values()):
        report.rejected.append((1, "缺少列：表号、期间、读数"))
        return report
    meters = {m.number: m for m in db.session.scalars(select(Meter).where(Meter.community_id == community_id))}
    for line, raw in enumerate(reader, start=2):
        report.rows += 1
        row = {columns[k]: (v or "").strip() for k, v in raw.items() if columns.get(k)}
        try:
            _import_reading(row, meters, report)
        except formulas.ReadingError as exc:
            report.rejected.append((line, str(exc)))
    return report


def _decimal(value: str, label: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation:
        raise formulas.ReadingError(f"{label} {value} 不是数字") from None


def _import_reading(row: dict, meters: dict[str, Meter], report: ReadingReport) -> None:
    meter = meters.get(row.get("meter", ""))
    if meter is None:
        raise formulas.ReadingError(f"表号 {row.get('meter')} 不存在")
    period = row.get("period", "")
    if len(period) != 7 or period[4] != "-" or not period.replace("-", "").isdigit() or not 1 <= int(period[5:]) <= 12:
        raise formulas.ReadingError(f"期间 {period} 应为 YYYY-MM")
    reading = _decimal(row.get("reading", ""), "读数")
    replaced = row.get("replaced", "").lower() in {"1", "true", "yes", "是", "y"}
    old_final = _decimal(row["old_final"], "旧表止码") if row.get("old_final") else None
    previous = db.session.scalar(select(MeterReading.reading).where(
        MeterReading.meter_id == meter.id, MeterReading.period < period).order_by(MeterReading.period.desc()).limit(1))
    used = formulas.consumption(previous, reading, replaced=replaced, old_final=old_final)
    existing = db.session.scalar(select(MeterReading).where(MeterReading.meter_id == meter.id,
                                                            MeterReading.period == period))
    if existing is None:
        db.session.add(MeterReading(meter_id=meter.id, period=period, reading=reading, consumption=used,
                                    replaced=replaced, old_final=old_final))
        report.imported += 1
    elif (existing.reading, existing.replaced, existing.old_final) != (reading, replaced, old_final):
        existing.reading, existing.consumption, existing.replaced, existing.old_final = reading, used, replaced, old_final
        report.updated += 1
    db.session.flush()
