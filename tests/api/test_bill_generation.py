"""Bill generation end to end with the database, in a community of its own: property fee by area, heating in
and out of season, a fixed subscription, a metered house whose meter was replaced, shared costs split by area
and per household adding up to the building's total to the fen, idempotent re-runs, and the CLI."""
import io
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from server.accounts.models import Building, Community, House, Staff
from server.billing.models import Bill, FeeItem
from server.extensions import db

AREAS = {("A", "101"): "89.50", ("A", "102"): "120.00", ("A", "201"): "100.33", ("A", "202"): None,
         ("B", "101"): "80.00", ("B", "102"): "95.25", ("B", "201"): "110.00"}


@pytest.fixture
def gen(app, sandbox, login):
    """Community `gen`: building A (four houses, one without an area), building B (three), a manager."""
    with app.app_context():
        community = Community(code="gen", name="生成测试小区")
        db.session.add(community)
        db.session.flush()
        houses = {}
        for code in ("A", "B"):
            building = Building(community_id=community.id, code=code, name=f"{code}栋")
            db.session.add(building)
            db.session.flush()
            for (b, room), area in AREAS.items():
                if b == code:
                    house = House(community_id=community.id, building_id=building.id, unit="1", room=room,
                                  area_m2=Decimal(area) if area else None)
                    db.session.add(house)
                    db.session.flush()
                    houses[(b, room)] = house.id
        db.session.add(Staff(community_id=community.id, name="生成经理", phone="13600000001",
                             department="service_center", role="manager", on_duty=True, mp_openid="gen-manager"))
        db.session.commit()
    return houses


def post(client, path, headers, body, status=201):
    res = client.post(path, headers=headers, json=body)
    assert res.status_code == status, res.get_json()
    return res.get_json()


def readings(client, headers, text):
    res = client.post("/api/v1/staff/meter-readings", headers=headers, content_type="multipart/form-data",
                      data={"file": (io.BytesIO(text.encode()), "r.csv")})
    assert res.status_code == 200, res.get_json()
    assert res.get_json()["rejected"] == [], res.get_json()
    return res.get_json()


def bills(app, code, period):
    with app.app_context():
        rows = db.session.execute(select(FeeItem.code, Bill.house_id, Bill.amount_fen, Bill.details, Bill.due_date)
                                  .join(FeeItem, FeeItem.id == Bill.fee_item_id)
                                  .where(FeeItem.code == code, Bill.period == period)).all()
        return {house: (amount, details, due) for _, house, amount, details, due in rows}


def setup_items(client, manager, houses):
    items = [
        {"code": "property", "name": "物业管理费", "kind": "area", "price_fen": 235, "due_days": 20},
        {"code": "heating", "name": "采暖费", "kind": "heating", "price_fen": 600, "season_months": [11, 12, 1, 2, 3]},
        {"code": "parking", "name": "车位租金", "kind": "fixed", "price_fen": 30000},
        {"code": "water", "name": "水费", "kind": "metered", "price_fen": 350, "meter_kind": "water", "advance": True},
        {"code": "power-share", "name": "公共照明电费", "kind": "shared", "price_fen": 62, "meter_kind": "electricity",
         "split": "area"},
        {"code": "water-share", "name": "公共用水", "kind": "shared", "price_fen": 350, "meter_kind": "water",
         "split": "household"},
        {"code": "glass", "name": "玻璃赔偿", "kind": "one_off"},
    ]
    ids = {i["code"]: post(client, "/api/v1/staff/fee-items", manager, i)["id"] for i in items}
    post(client, f"/api/v1/staff/fee-items/{ids['parking']}/subscriptions", manager,
         {"house_id": houses[("A", "101")], "quantity": 2, "note": "P-1, P-2"})
    for body in ({"number": "W-A101", "kind": "water", "house_id": houses[("A", "101")]},
                 {"number": "W-B101", "kind": "water", "house_id": houses[("B", "101")]},
                 {"number": "E-A", "kind": "electricity", "building": "A"},
                 {"number": "W-B", "kind": "water", "building": "B"}):
        post(client, "/api/v1/staff/meters", manager, body)
    # December: baselines. January: A-101's meter was replaced (old one ran 100 -> 130, new one is at 8).
    readings(client, manager, "表号,期间,读数,换表,旧表止码\n"
                              "W-A101,2030-12,100,,\nW-B101,2030-12,50,,\nE-A,2030-12,5000,,\nW-B,2030-12,1000,,\n"
                              "W-A101,2031-01,8,是,130\nW-B101,2031-01,50,,\nE-A,2031-01,5480.5,,\n"
                              "W-B,2031-01,1033.33,,\n")
    return ids


def test_generation_end_to_end(app, client, gen, login):
    manager = login("gen-manager")
    setup_items(client, manager, gen)
    report = post(client, "/api/v1/staff/bills/generate", manager, {"period": "2031-01"}, status=200)

    # Area: floor area x price, rounded half up once; a house without an area gets none.
    area = bills(app, "property", "2031-01")
    assert area[gen[("A", "101")]][0] == 21033 and area[gen[("A", "102")]][0] == 28200  # 21032.5 -> 21033
    assert area[gen[("A", "201")]][0] == 23578  # 100.33 x 235 = 23577.55
    assert gen[("A", "202")] not in area and len(area) == 6
    assert area[gen[("A", "101")]][1] == {"area_m2": "89.50", "price_fen": 235}
    assert str(area[gen[("A", "101")]][2]) == "2031-01-21"  # due 20 days after the period starts
    # Heating in season: area x 600.
    heating = bills(app, "heating", "2031-01")
    assert heating[gen[("A", "101")]][0] == 53700 and len(heating) == 6
    # Fixed: the subscribed house, quantity 2.
    parking = bills(app, "parking", "2031-01")
    assert list(parking) == [gen[("A", "101")]]
    assert parking[gen[("A", "101")]][:2] == (60000, {"quantity": 2, "price_fen": 30000})
    # Metered with a replaced meter: (130 - 100) + 8 = 38 t x 3.50; B-101 used nothing, so no bill.
    water = bills(app, "water", "2031-01")
    assert list(water) == [gen[("A", "101")]]
    assert water[gen[("A", "101")]][0] == 13300 and water[gen[("A", "101")]][1]["consumption"] == "38.00"

    # Shared by area: 480.5 kWh x 0.62 = 297.91 yuan split over A's floor areas; the parts add up exactly.
    power = bills(app, "power-share", "2031-01")
    assert sum(amount for amount, _, _ in power.values()) == 29791
    assert {d["building_total_fen"] for _, d, _ in power.values()} == {29791}
    assert gen[("A", "202")] not in power  # no area, no share
    assert power[gen[("A", "102")]][0] > power[gen[("A", "201")]][0] > power[gen[("A", "101")]][0]
    # Shared per household: 33.33 t x 3.50 = 116.655 -> 11666 fen over B's three households: 3889 3889 3888.
    shared_water = bills(app, "water-share", "2031-01")
    assert sum(a for a, _, _ in shared_water.values()) == 11666
    assert [shared_water[gen[("B", r)]][0] for r in ("101", "102", "201")] == [3889, 3889, 3888]
    assert shared_water[gen[("B", "101")]][1]["split"] == "household"

    assert report["created"] == report["computed"] == 6 + 6 + 1 + 1 + 3 + 3
    assert not any("采暖" in note for note in report["skipped"])
    # Re-running creates nothing.
    again = post(client, "/api/v1/staff/bills/generate", manager, {"period": "2031-01"}, status=200)
    assert again["created"] == 0 and again["existing"] == report["computed"]
    with app.app_context():
        assert db.session.scalar(select(func.count(Bill.id)).where(Bill.period == "2031-01")) == report["computed"]


def test_heating_out_of_season_and_missing_readings(app, client, gen, login):
    manager = login("gen-manager")
    setup_items(client, manager, gen)
    report = post(client, "/api/v1/staff/bills/generate", manager, {"period": "2031-06"}, status=200)
    assert bills(app, "heating", "2031-06") == {}
    assert "采暖费：非采暖季" in report["skipped"]
    assert "水费：本期无抄表读数" in report["skipped"] and "公共照明电费：本期无公共表读数" in report["skipped"]
    assert report["created"] == 6 + 1  # area and parking only
    assert bills(app, "glass", "2031-06") == {}  # one-off items are never generated


def test_cli_generates_once(app, client, gen, login):
    manager = login("gen-manager")
    setup_items(client, manager, gen)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["bills", "generate", "--period", "2031-01", "--community", "gen"])
    assert first.exit_code == 0, first.output
    assert "1 个小区" in first.output and "新建 20 笔" in first.output and "已存在 0 笔" in first.output
    second = runner.invoke(args=["bills", "generate", "--period", "2031-01", "--community", "gen"])
    assert "新建 0 笔" in second.output and "已存在 20 笔" in second.output
    assert runner.invoke(args=["bills", "generate", "--period", "2031-13"]).exit_code != 0
    with app.app_context():
        assert db.session.scalar(select(func.count(Bill.id))) == 20


def test_cli_meter_import(app, client, gen, login, tmp_path):
    manager = login("gen-manager")
    post(client, "/api/v1/staff/meters", manager, {"number": "W-X", "kind": "water", "house_id": gen[("A", "101")]})
    path = tmp_path / "readings.csv"
    path.write_text("表号,期间,读数\nW-X,2031-01,10\nW-X,2031-02,9\nW-Y,2031-02,1\n", encoding="utf-8")
    res = app.test_cli_runner().invoke(args=["meters", "import", str(path), "--community", "gen"])
    assert res.exit_code == 1
    assert "导入 1" in res.output and "拒绝 2" in res.output and "第 3 行" in res.output
