"""Demo data for `make run` / `flask demo load`: community `demo` (示例小区) with houses, a roster and a
full staff. Loaded through the same roster import and models the product uses."""
from __future__ import annotations

import csv
import io
from datetime import date

from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from .accounts import roster
from .accounts.models import CalendarDay, Community, Staff
from .extensions import db

DEMO_PASSWORD = "demo12345"

RESIDENTS = {  # (building, unit, room) -> (name, phone, role)
    ("1", "1", "101"): ("张三", "13800000001", "owner"),
    ("1", "1", "102"): ("李四", "13800000002", "owner"),
    ("2", "1", "201"): ("王五", "13800000003", "owner"),
    ("3", "2", "602"): ("赵六", "13800000004", "tenant"),
}

STAFF = [  # name, phone, department, role, skills, mini-program openid
    ("刘芳", "13900000001", "service_center", "receptionist", [], "demo-reception"),
    ("陈静", "13900000002", "service_center", "cashier", [], "demo-cashier"),
    ("王建国", "13900000003", "service_center", "manager", [], "demo-manager"),
    ("孙工", "13900000004", "engineering", "supervisor", ["water", "electricity", "doors_windows"], "demo-eng-lead"),
    ("周师傅", "13900000005", "engineering", "worker", ["water", "electricity"], "demo-eng-1"),
    ("吴师傅", "13900000006", "engineering", "worker", ["electricity", "doors_windows"], "demo-eng-2"),
    ("郑主管", "13900000007", "cleaning", "supervisor", ["cleaning", "greening"], "demo-clean-lead"),
    ("冯阿姨", "13900000008", "cleaning", "worker", ["cleaning"], "demo-clean-1"),
    ("何阿姨", "13900000009", "cleaning", "worker", ["cleaning", "greening"], "demo-clean-2"),
]

HOLIDAYS = [(date(2027, 1, 1), "元旦")]

CATALOG = {  # category -> [(name, department, skill, price_fen, unit, description)]
    "水电维修": [
        ("更换水龙头", "engineering", "water", 5000, "个", "人工费，水龙头另计"),
        ("疏通下水道", "engineering", "water", 8000, "次", "厨房、卫生间下水"),
        ("更换灯具", "engineering", "electricity", 3000, "个", "人工费，灯具另计"),
        ("更换开关插座", "engineering", "electricity", 2000, "个", "人工费，面板另计"),
        ("安装晾衣架", "engineering", None, 10000, "套", "含打孔安装"),
    ],
    "保洁绿化": [
        ("家庭保洁", "cleaning", "cleaning", 4000, "小时", "一名保洁员，含常用清洁剂"),
        ("油烟机清洗", "cleaning", "cleaning", 12000, "台", "拆洗"),
        ("阳台绿植养护", "cleaning", "greening", 6000, "次", "修剪、施肥、病虫害处理"),
    ],
}
MATERIALS = [("水龙头", "个", 3500), ("PPR 水管", "米", 850), ("生料带", "卷", 200), ("LED 灯泡", "个", 1500),
             ("开关面板", "个", 1800), ("电线 2.5 平方", "米", 320)]


def roster_csv() -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["community_code", "building", "unit", "room", "floor", "area_m2", "name", "phone", "role"])
    for building in ("1", "2", "3"):
        for unit in ("1", "2"):
            for floor in range(1, 7):
                for door in (1, 2):
                    room = f"{floor}{door:02d}"
                    area = "89.50" if door == 1 else "120.00"
                    name, phone, role = RESIDENTS.get((building, unit, room), ("", "", ""))
                    writer.writerow(["demo", building, unit, room, floor, area, name, phone, role])
    return out.getvalue()


def complete() -> bool:
    """The demo is there: its community, houses and staff (a half-finished load is loaded again)."""
    from .accounts.models import House

    community = db.session.scalar(select(Community).where(Community.code == "demo"))
    if community is None:
        return False
    houses = db.session.scalar(select(func.count()).select_from(House).where(House.community_id == community.id))
    staff = db.session.scalar(select(func.count()).select_from(Staff).where(Staff.community_id == community.id))
    return houses >= 72 and staff >= len(STAFF)


def load(force: bool = False) -> bool:
    """Load the demo unless it is complete (every step is idempotent). Returns True when it loaded."""
    if not force and complete():
        return False
    community = db.session.scalar(select(Community).where(Community.code == "demo"))
    if community is None:
        community = Community(code="demo", name="示例小区")
        db.session.add(community)
        db.session.flush()
    for day, name in HOLIDAYS:
        if not db.session.scalar(select(CalendarDay).where(CalendarDay.community_id == community.id,
                                                           CalendarDay.day == day)):
            db.session.add(CalendarDay(community_id=community.id, day=day, kind="holiday", name=name))
    report = roster.import_csv(roster_csv())
    if report.rejected:
        raise RuntimeError(f"demo roster rejected rows: {report.rejected}")
    _load_catalog(community)
    _load_fees(community)
    password = generate_password_hash(DEMO_PASSWORD)
    for name, phone, department, role, skills, openid in STAFF:
        staff = db.session.scalar(select(Staff).where(Staff.phone == phone))
        if staff is None:
            staff = Staff(phone=phone)
            db.session.add(staff)
        staff.community_id, staff.name, staff.department, staff.role = community.id, name, department, role
        staff.skills, staff.on_duty, staff.active = skills, True, True
        staff.mp_openid, staff.oa_openid, staff.password_hash = openid, "oa-" + openid, password
    db.session.commit()
    from .billing import generation
    from .timeutil import to_local, utcnow

    generation.generate(f"{to_local(utcnow()):%Y-%m}", ["demo"])  # the demo owner has something to pay
    return True


def _load_catalog(community: Community) -> None:
    from .workorders.models import Material, ServiceCategory, ServiceItem

    for sort, (category_name, items) in enumerate(CATALOG.items()):
        category = db.session.scalar(select(ServiceCategory).where(ServiceCategory.community_id == community.id,
                                                                   ServiceCategory.name == category_name))
        if category is None:
            category = ServiceCategory(community_id=community.id, name=category_name, sort=sort)
            db.session.add(category)
            db.session.flush()
        for item_sort, (name, department, skill, price, unit, description) in enumerate(items):
            if not db.session.scalar(select(ServiceItem).where(ServiceItem.community_id == community.id,
                                                               ServiceItem.name == name)):
                db.session.add(ServiceItem(community_id=community.id, category_id=category.id, name=name,
                                           department=department, skill=skill, price_fen=price, unit=unit,
                                           description=description, sort=item_sort))
    for name, unit, price in MATERIALS:
        if not db.session.scalar(select(Material).where(Material.community_id == community.id, Material.name == name)):
            db.session.add(Material(community_id=community.id, name=name, unit=unit, price_fen=price))


FEE_ITEMS = [  # code, name, kind, price_fen, unit, extra
    ("property", "物业管理费", "area", 235, "元/㎡·月", {}),
    ("shared-power", "公共照明电费（公摊）", "shared", 62, "元/度", {"meter_kind": "electricity", "split": "area"}),
    ("heating", "采暖费", "heating", 600, "元/㎡·月", {"season_months": [11, 12, 1, 2, 3]}),
    ("parking", "车位租金", "fixed", 30000, "元/月", {}),
    ("water", "水费（代收）", "metered", 350, "元/吨", {"meter_kind": "water", "advance": True}),
]


def _load_fees(community: Community) -> None:
    from .accounts.models import Building, House
    from .billing.models import FeeItem, FeeSubscription, Meter, MeterReading
    from .billing.generation import previous_period
    from .timeutil import to_local, utcnow

    items = {}
    for code, name, kind, price, unit, extra in FEE_ITEMS:
        item = db.session.scalar(select(FeeItem).where(FeeItem.community_id == community.id, FeeItem.code == code))
        if item is None:
            item = FeeItem(community_id=community.id, code=code, name=name, kind=kind, price_fen=price, unit=unit,
                           **extra)
            db.session.add(item)
            db.session.flush()
        items[code] = item
    house_101 = db.session.scalar(select(House).join(Building).where(
        Building.community_id == community.id, Building.code == "1", House.unit == "1", House.room == "101"))
    if not db.session.scalar(select(FeeSubscription).where(FeeSubscription.house_id == house_101.id)):
        db.session.add(FeeSubscription(house_id=house_101.id, fee_item_id=items["parking"].id, note="B1-018"))
    period = f"{to_local(utcnow()):%Y-%m}"
    building_1 = db.session.scalar(select(Building).where(Building.community_id == community.id,
                                                          Building.code == "1"))
    for number, kind, house_id, building_id, start, now in [
        ("WM-1-1-101", "water", house_101.id, None, "100.00", "112.50"),
        ("EM-B1-COMMON", "electricity", None, building_1.id, "5000.00", "5480.00"),
    ]:
        meter = db.session.scalar(select(Meter).where(Meter.community_id == community.id, Meter.number == number))
        if meter is None:
            meter = Meter(community_id=community.id, number=number, kind=kind, house_id=house_id,
                          building_id=building_id)
            db.session.add(meter)
            db.session.flush()
        for p, reading, used in ((previous_period(period), start, "0"), (period, now, None)):
            if not db.session.scalar(select(MeterReading).where(MeterReading.meter_id == meter.id,
                                                                MeterReading.period == p)):
                from decimal import Decimal

                consumption = Decimal(used) if used is not None else Decimal(now) - Decimal(start)
                db.session.add(MeterReading(meter_id=meter.id, period=p, reading=Decimal(reading),
                                            consumption=consumption))
