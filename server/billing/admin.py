"""Fee administration (managers): fee items, fixed-item subscriptions, meters, meter-reading import, one-off
charges, on-demand bill generation and whether receptionists may take fee payments. The desk and finance may
read fee items and meters. Everything is scoped to the staff member's community (others' records are 404)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from ..accounts import roster
from ..accounts.models import Building, Community, House, Staff
from ..auth import access
from ..errors import Conflict, NotFound, ValidationFailed
from ..extensions import db
from ..timeutil import local_today, utcnow
from . import formulas, generation
from .models import Bill, FeeItem, FeeSubscription, Meter, MeterReading

SPLITS = {"area": "按面积", "household": "按户"}
# What price_fen means, per kind (shown in validation messages and the API docs).
PRICE_MEANING = {"area": "每平方米每月单价", "heating": "每平方米每月单价", "fixed": "每月金额",
                 "shared": "公共表每单位用量单价", "metered": "每单位用量单价", "one_off": "参考金额（可不填）"}
METER_UNITS = {"water": "元/吨", "electricity": "元/度", "gas": "元/立方米"}


# -- who may ---------------------------------------------------------------------------------------------------

def _item(staff: Staff, item_id: int) -> FeeItem:
    return access.scoped(FeeItem, item_id, staff, "未找到该收费项目")


def _house(staff: Staff, house_id: int) -> House:
    return access.scoped(House, house_id, staff, "未找到该房屋")


# -- fee items ---------------------------------------------------------------------------------------------------

def item_problems(kind: str, price_fen: int | None, meter_kind: str | None, split: str | None,
                  season_months: list[int] | None) -> dict[str, list[str]]:
    """What a fee item of this kind lacks (pure): area and heating need a price per m2, heating its season
    months, shared a meter kind and a split, metered a meter kind, fixed a monthly amount."""
    problems: dict[str, list[str]] = {}
    if kind != "one_off" and (price_fen is None or price_fen <= 0):
        problems["price_fen"] = [f"{formulas.KINDS[kind]}须填写{PRICE_MEANING[kind]}（分，大于 0）"]
    if kind in ("shared", "metered") and not meter_kind:
        problems["meter_kind"] = ["须选择表的种类：水、电或燃气"]
    if kind == "shared" and split not in SPLITS:
        problems["split"] = ["须选择分摊方式：按面积（area）或按户（household）"]
    if kind == "heating":
        if not season_months:
            problems["season_months"] = ["须填写采暖季的月份（1-12），如 [11, 12, 1, 2, 3]"]
        elif len(set(season_months)) != len(season_months):
            problems["season_months"] = ["月份不能重复"]
    return problems


def _apply(item: FeeItem, data: dict) -> None:
    for key in ("code", "name", "price_fen", "unit", "meter_kind", "split", "season_months", "advance", "due_days",
                "active"):
        if key in data:
            setattr(item, key, data[key])
    if item.price_fen is None:
        item.price_fen = 0
    problems = item_problems(item.kind, item.price_fen, item.meter_kind, item.split, item.season_months)
    if problems:
        raise ValidationFailed(fields=problems)
    # Fields another kind uses are cleared, so an item never carries settings that do not apply.
    if item.kind not in ("shared", "metered"):
        item.meter_kind = None
    if item.kind != "shared":
        item.split = None
    item.season_months = list(item.season_months) if item.kind == "heating" else []
    if not item.unit:
        item.unit = {"area": "元/㎡·月", "heating": "元/㎡·月", "fixed": "元/月"}.get(
            item.kind, METER_UNITS.get(item.meter_kind or "", ""))


def items(staff: Staff) -> list[FeeItem]:
    access.require(staff, "view_bills")
    return list(db.session.scalars(select(FeeItem).where(FeeItem.community_id == staff.community_id)
                                   .order_by(FeeItem.active.desc(), FeeItem.id)))


def item(staff: Staff, item_id: int) -> FeeItem:
    access.require(staff, "view_bills")
    return _item(staff, item_id)


def create_item(staff: Staff, data: dict) -> FeeItem:
    access.require(staff, "manage_fees")
    _code_free(staff.community_id, data["code"])
    fee_item = FeeItem(community_id=staff.community_id, kind=data["kind"], season_months=[], advance=False,
                       due_days=15, active=True, unit="")
    _apply(fee_item, data)
    db.session.add(fee_item)
    db.session.flush()
    return fee_item


def update_item(staff: Staff, item_id: int, data: dict) -> FeeItem:
    access.require(staff, "manage_fees")
    fee_item = _item(staff, item_id)
    if "code" in data and data["code"] != fee_item.code:
        _code_free(staff.community_id, data["code"])
    _apply(fee_item, data)
    return fee_item


def delete_item(staff: Staff, item_id: int) -> None:
    access.require(staff, "manage_fees")
    fee_item = _item(staff, item_id)
    if db.session.scalar(select(Bill.id).where(Bill.fee_item_id == fee_item.id).limit(1)):
        raise Conflict("该项目已有账单，不能删除；如不再收取请停用（active=false）", code="fee_item_in_use")
    db.session.delete(fee_item)


def _code_free(community_id: int, code: str) -> None:
    if db.session.scalar(select(FeeItem.id).where(FeeItem.community_id == community_id, FeeItem.code == code)):
        raise Conflict(f"收费项目编码 {code} 已存在", code="fee_item_code_taken")


# -- subscriptions of fixed items ----------------------------------------------------------------------------

def subscriptions(staff: Staff, item_id: int) -> list[FeeSubscription]:
    access.require(staff, "view_bills")
    fee_item = _item(staff, item_id)
    return list(db.session.scalars(select(FeeSubscription).where(FeeSubscription.fee_item_id == fee_item.id)
                                   .order_by(FeeSubscription.id)))


def subscribe(staff: Staff, item_id: int, data: dict) -> FeeSubscription:
    access.require(staff, "manage_fees")
    fee_item = _item(staff, item_id)
    if fee_item.kind != "fixed":
        raise Conflict("只有固定月费项目（如车位租金）按房屋登记", code="not_fixed_item")
    house = _house(staff, data["house_id"])
    if db.session.scalar(select(FeeSubscription.id).where(FeeSubscription.fee_item_id == fee_item.id,
                                                          FeeSubscription.house_id == house.id)):
        raise Conflict(f"{house.label} 已登记该项目", code="already_subscribed")
    subscription = FeeSubscription(house_id=house.id, fee_item_id=fee_item.id, quantity=data["quantity"],
                                   note=data["note"])
    db.session.add(subscription)
    db.session.flush()
    return subscription


def unsubscribe(staff: Staff, item_id: int, house_id: int) -> None:
    access.require(staff, "manage_fees")
    fee_item = _item(staff, item_id)
    subscription = db.session.scalar(select(FeeSubscription).where(FeeSubscription.fee_item_id == fee_item.id,
                                                                   FeeSubscription.house_id == house_id))
    if subscription is None:
        raise NotFound("该房屋未登记此项目")
    db.session.delete(subscription)


# -- meters and readings ---------------------------------------------------------------------------------------

def create_meter(staff: Staff, data: dict) -> Meter:
    access.require(staff, "manage_fees")
    if db.session.scalar(select(Meter.id).where(Meter.community_id == staff.community_id,
                                                Meter.number == data["number"])):
        raise Conflict(f"表号 {data['number']} 已存在", code="meter_number_taken")
    house_id = building_id = None
    if data.get("house_id") is not None:
        house_id = _house(staff, data["house_id"]).id
    else:
        building = db.session.scalar(select(Building).where(Building.community_id == staff.community_id,
                                                            Building.code == data["building"]))
        if building is None:
            raise NotFound(f"未找到楼栋 {data['building']}")
        building_id = building.id
    meter = Meter(community_id=staff.community_id, number=data["number"], kind=data["kind"], house_id=house_id,
                  building_id=building_id)
    db.session.add(meter)
    db.session.flush()
    return meter


def meters_page(staff: Staff, args: dict) -> dict:
    access.require(staff, "view_bills")
    stmt = select(Meter).where(Meter.community_id == staff.community_id).order_by(Meter.number)
    if args.get("kind"):
        stmt = stmt.where(Meter.kind == args["kind"])
    if args.get("house_id"):
        stmt = stmt.where(Meter.house_id == args["house_id"])
    if args.get("building"):
        in_building = select(Building.id).where(Building.community_id == staff.community_id,
                                                Building.code == args["building"])
        houses = select(House.id).where(House.building_id.in_(in_building))
        stmt = stmt.where((Meter.building_id.in_(in_building)) | (Meter.house_id.in_(houses)))
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    meters = list(db.session.scalars(stmt.limit(args["per_page"]).offset((args["page"] - 1) * args["per_page"])))
    latest = _latest_readings([m.id for m in meters])
    return {"items": [{"meter": m, "last_reading": latest.get(m.id)} for m in meters], "total": total,
            "page": args["page"], "per_page": args["per_page"]}


def _latest_readings(meter_ids: list[int]) -> dict[int, MeterReading]:
    if not meter_ids:
        return {}
    ranked = select(MeterReading.id, func.row_number().over(
        partition_by=MeterReading.meter_id, order_by=MeterReading.period.desc()).label("n")) \
        .where(MeterReading.meter_id.in_(meter_ids)).subquery()
    rows = db.session.scalars(select(MeterReading).join(ranked, ranked.c.id == MeterReading.id).where(ranked.c.n == 1))
    return {r.meter_id: r for r in rows}


def readings(staff: Staff, meter_id: int) -> list[MeterReading]:
    access.require(staff, "view_bills")
    meter = db.session.get(Meter, meter_id)
    if meter is None or meter.community_id != staff.community_id:
        raise NotFound("未找到该表")
    return list(db.session.scalars(select(MeterReading).where(MeterReading.meter_id == meter.id)
                                   .order_by(MeterReading.period.desc())))


def import_readings(staff: Staff, raw: bytes) -> generation.ReadingReport:
    """The CSV the CLI `flask meters import` takes; the per-row report. Rows that pass are kept even when others
    are rejected; a file from which nothing could be read is a 422 (and changes nothing)."""
    access.require(staff, "manage_fees")
    try:
        text = roster.decode(raw)
    except ValueError as exc:
        raise ValidationFailed(str(exc), fields={"file": [str(exc)]}) from None
    report = generation.import_readings(staff.community_id, text)
    if report.rejected and len(report.rejected) >= max(report.rows, 1):
        db.session.rollback()
        reasons = [f"第 {line} 行：{reason}" for line, reason in report.rejected[:50]]
        raise ValidationFailed("没有可导入的读数", fields={"file": reasons}, code="nothing_imported")
    return report


# -- one-off charges and generation ----------------------------------------------------------------------------

def charge(staff: Staff, data: dict) -> Bill:
    """A one-off charge: an unpaid bill for one house (409 if that house, item and period is billed already)."""
    access.require(staff, "manage_fees")
    fee_item = _item(staff, data["fee_item_id"])
    if fee_item.kind != "one_off":
        raise ValidationFailed(fields={"fee_item_id": ["只能对一次性收费项目手工开单（其余项目按月生成）"]})
    if not fee_item.active:
        raise Conflict("该收费项目已停用", code="fee_item_inactive")
    house = _house(staff, data["house_id"])
    if db.session.scalar(select(Bill.id).where(Bill.house_id == house.id, Bill.fee_item_id == fee_item.id,
                                               Bill.period == data["period"])):
        raise Conflict(f"{house.label} 在 {data['period']} 已有该项目的账单", code="bill_exists")
    today = local_today(staff.community.timezone)
    start = max(generation.period_start(data["period"]), today)
    bill = Bill(community_id=staff.community_id, house_id=house.id, fee_item_id=fee_item.id, period=data["period"],
                amount_fen=data["amount_fen"], status="unpaid", due_date=start + timedelta(days=fee_item.due_days),
                details={"note": data["note"], "charged_by": staff.name}, reminder_stage=0, created_at=utcnow())
    db.session.add(bill)
    db.session.flush()
    return bill


def generate(staff: Staff, period: str) -> generation.GenerationReport:
    """The period's bills of this community now (idempotent: existing bills are kept)."""
    access.require(staff, "manage_fees")
    return generation.generate(period, [staff.community.code])


# -- settings ------------------------------------------------------------------------------------------------------

def settings(staff: Staff) -> Community:
    access.require(staff, "view_bills")
    return staff.community


def update_settings(staff: Staff, data: dict) -> Community:
    access.require(staff, "manage_fees")
    community = staff.community
    if "reception_collects_fees" in data:
        community.reception_collects_fees = data["reception_collects_fees"]
    return community
