"""Fee administration by the manager: fee items (validated per kind), fixed-item subscriptions, meters, the
meter-reading import over the API, one-off charges, on-demand generation; roles and community scoping."""
import io

import pytest
from sqlalchemy import select

from server.accounts.models import Building, Community, House
from server.billing.models import MeterReading
from server.extensions import db

ITEMS = "/api/v1/staff/fee-items"


def house_id(app, label: str, community: str = "demo") -> int:
    building, unit, room = label.split("-")
    with app.app_context():
        return db.session.scalar(
            select(House.id).join(Building, Building.id == House.building_id)
            .join(Community, Community.id == House.community_id)
            .where(Community.code == community, Building.code == building, House.unit == unit, House.room == room))


def call(client, method, path, headers, body=None, status=200, **kwargs):
    res = getattr(client, method)(path, headers=headers, json=body, **kwargs) if body is not None or method in (
        "post", "patch") else getattr(client, method)(path, headers=headers, **kwargs)
    assert res.status_code == status, (res.status_code, res.get_json())
    return res.get_json()


def upload(client, headers, text: str, encoding: str = "utf-8", status=200):
    data = {"file": (io.BytesIO(text.encode(encoding)), "readings.csv", "text/csv")}
    res = client.post("/api/v1/staff/meter-readings", headers=headers, data=data, content_type="multipart/form-data")
    assert res.status_code == status, res.get_json()
    return res.get_json()


@pytest.fixture
def manager(login, demo):
    return login("demo-manager")


# -- fee items ---------------------------------------------------------------------------------------------------

def test_fee_items_are_validated_per_kind(client, manager):
    listed = call(client, "get", ITEMS, manager)
    assert [i["code"] for i in listed] == ["property", "shared-power", "heating", "parking", "water"]
    assert listed[2]["season_months"] == [11, 12, 1, 2, 3] and listed[1]["split"] == "area"

    def problems(body):
        res = client.post(ITEMS, headers=manager, json={"code": "x1", "name": "测试", **body})
        assert res.status_code == 422, res.get_json()
        return {field.split(".")[0] for field in res.get_json()["error"]["fields"]}

    assert problems({"kind": "area"}) == {"price_fen"}
    assert problems({"kind": "area", "price_fen": 0}) == {"price_fen"}
    assert problems({"kind": "heating", "price_fen": 500}) == {"season_months"}
    assert problems({"kind": "heating", "price_fen": 500, "season_months": [11, 13]}) == {"season_months"}
    assert problems({"kind": "heating", "price_fen": 500, "season_months": [11, 11]}) == {"season_months"}
    assert problems({"kind": "shared", "price_fen": 62}) == {"meter_kind", "split"}
    assert problems({"kind": "shared", "price_fen": 62, "meter_kind": "water", "split": "share"}) == {"split"}
    assert problems({"kind": "metered", "price_fen": 350}) == {"meter_kind"}
    assert problems({"kind": "metered", "price_fen": 350, "meter_kind": "steam"}) == {"meter_kind"}
    assert problems({"kind": "fixed"}) == {"price_fen"}
    assert problems({"kind": "rent", "price_fen": 1}) == {"kind"}
    assert problems({"kind": "fixed", "price_fen": 100, "code": "有 空格"}) == {"code"}

    heating = call(client, "post", ITEMS, manager, {"code": "heat2", "name": "采暖费（新）", "kind": "heating",
                                                    "price_fen": 550, "season_months": [11, 12, 1, 2, 3],
                                                    "meter_kind": "water", "split": "area"}, status=201)
    assert heating["unit"] == "元/㎡·月" and heating["meter_kind"] is None and heating["split"] is None
    assert heating["active"] is True and heating["due_days"] == 15 and heating["kind_label"] == "采暖费"
    gas = call(client, "post", ITEMS, manager, {"code": "gas", "name": "燃气费（代收）", "kind": "metered",
                                                "price_fen": 300, "meter_kind": "gas", "advance": True}, status=201)
    assert gas["unit"] == "元/立方米" and gas["advance"] is True and gas["season_months"] == []
    one_off = call(client, "post", ITEMS, manager, {"code": "repair-fund", "name": "维修基金补缴", "kind": "one_off"},
                   status=201)
    assert one_off["price_fen"] == 0
    dup = client.post(ITEMS, headers=manager, json={"code": "gas", "name": "重复", "kind": "fixed", "price_fen": 1})
    assert dup.status_code == 409 and dup.get_json()["error"]["code"] == "fee_item_code_taken"

    # PATCH: merged and validated again; the kind cannot change.
    changed = call(client, "patch", f"{ITEMS}/{heating['id']}", manager, {"price_fen": 580, "due_days": 30})
    assert changed["price_fen"] == 580 and changed["due_days"] == 30
    res = client.patch(f"{ITEMS}/{heating['id']}", headers=manager, json={"season_months": []})
    assert res.status_code == 422 and "season_months" in res.get_json()["error"]["fields"]
    assert client.patch(f"{ITEMS}/{heating['id']}", headers=manager, json={"kind": "area"}).status_code == 422
    assert client.patch(f"{ITEMS}/{heating['id']}", headers=manager, json={"code": "gas"}).status_code == 409
    assert call(client, "patch", f"{ITEMS}/{gas['id']}", manager, {"active": False})["active"] is False
    assert call(client, "get", f"{ITEMS}/{gas['id']}", manager)["active"] is False

    # Items with bills are deactivated, not deleted.
    property_id = listed[0]["id"]
    in_use = client.delete(f"{ITEMS}/{property_id}", headers=manager)
    assert in_use.status_code == 409 and in_use.get_json()["error"]["code"] == "fee_item_in_use"
    assert client.delete(f"{ITEMS}/{one_off['id']}", headers=manager).status_code == 204
    assert client.get(f"{ITEMS}/{one_off['id']}", headers=manager).status_code == 404


def test_fee_item_roles_and_scoping(client, manager, login, zhangsan):
    cashier, worker, other = login("demo-cashier"), login("demo-eng-1"), login("other-manager")
    item_id = call(client, "get", ITEMS, manager)[0]["id"]
    assert len(call(client, "get", ITEMS, cashier)) == 5  # the desk reads them
    assert client.post(ITEMS, headers=cashier, json={}).status_code == 403  # before the body is parsed
    assert client.patch(f"{ITEMS}/{item_id}", headers=cashier, json={}).status_code == 403
    assert client.delete(f"{ITEMS}/{item_id}", headers=cashier).status_code == 403
    assert client.get(ITEMS, headers=worker).status_code == 403
    assert client.get(ITEMS, headers=zhangsan.headers).status_code == 403
    assert client.get(ITEMS).status_code == 401
    assert call(client, "get", ITEMS, other) == []
    for method in ("get", "delete"):
        assert getattr(client, method)(f"{ITEMS}/{item_id}", headers=other).status_code == 404
    assert client.patch(f"{ITEMS}/{item_id}", headers=other, json={"price_fen": 1}).status_code == 404


# -- subscriptions ---------------------------------------------------------------------------------------------

def test_fixed_item_subscriptions(app, client, manager, login):
    items = {i["code"]: i for i in call(client, "get", ITEMS, manager)}
    parking, area = items["parking"]["id"], items["property"]["id"]
    h101, h102 = house_id(app, "1-1-101"), house_id(app, "1-1-102")
    url = f"{ITEMS}/{parking}/subscriptions"
    assert [(s["house"]["label"], s["note"]) for s in call(client, "get", url, manager)] == [("1栋1单元101", "B1-018")]
    added = call(client, "post", url, manager, {"house_id": h102, "quantity": 2, "note": "B1-020, B1-021"}, status=201)
    assert added["house"] == {"id": h102, "label": "1栋1单元102"} and added["quantity"] == 2
    again = client.post(url, headers=manager, json={"house_id": h102})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_subscribed"
    not_fixed = client.post(f"{ITEMS}/{area}/subscriptions", headers=manager, json={"house_id": h102})
    assert not_fixed.status_code == 409 and not_fixed.get_json()["error"]["code"] == "not_fixed_item"
    assert client.post(url, headers=manager, json={"house_id": house_id(app, "9-1-101", "other")}).status_code == 404
    assert client.post(url, headers=manager, json={"house_id": h102, "quantity": 0}).status_code == 422
    assert len(call(client, "get", url, manager)) == 2
    assert client.delete(f"{url}?house_id={h102}", headers=manager).status_code == 204
    assert client.delete(f"{url}?house_id={h102}", headers=manager).status_code == 404
    assert client.delete(url, headers=manager).status_code == 422  # which house?
    assert client.delete(f"{url}?house_id={h101}", headers=login("demo-cashier")).status_code == 403
    assert client.get(url, headers=login("other-manager")).status_code == 404


# -- meters and the reading import --------------------------------------------------------------------------------

def test_meters(app, client, manager, login):
    h201 = house_id(app, "2-1-201")
    house_meter = call(client, "post", "/api/v1/staff/meters", manager,
                       {"number": "WM-2-1-201", "kind": "water", "house_id": h201}, status=201)
    assert house_meter["house"] == {"id": h201, "label": "2栋1单元201"} and house_meter["building"] is None
    common = call(client, "post", "/api/v1/staff/meters", manager, {"number": "WM-B2", "kind": "water",
                                                                    "building": "2"}, status=201)
    assert common["building"] == "2" and common["house"] is None and common["kind_label"] == "水"
    for body in ({"number": "X", "kind": "water"}, {"number": "X", "kind": "water", "house_id": h201, "building": "2"},
                 {"number": "X", "kind": "steam", "house_id": h201}, {"number": "", "kind": "water", "building": "2"}):
        assert client.post("/api/v1/staff/meters", headers=manager, json=body).status_code == 422, body
    dup = client.post("/api/v1/staff/meters", headers=manager, json={"number": "WM-B2", "kind": "water", "building": "3"})
    assert dup.status_code == 409 and dup.get_json()["error"]["code"] == "meter_number_taken"
    assert client.post("/api/v1/staff/meters", headers=manager,
                       json={"number": "Y", "kind": "water", "building": "99"}).status_code == 404
    assert client.post("/api/v1/staff/meters", headers=manager, json={
        "number": "Y", "kind": "water", "house_id": house_id(app, "9-1-101", "other")}).status_code == 404

    listed = call(client, "get", "/api/v1/staff/meters", manager)
    assert listed["total"] == 4  # the demo's two and these two
    demo_water = next(m for m in listed["items"] if m["number"] == "WM-1-1-101")
    assert demo_water["last_reading"]["reading"] == "112.50" and demo_water["last_reading"]["consumption"] == "12.50"
    water = call(client, "get", "/api/v1/staff/meters?kind=water", manager)
    assert {m["number"] for m in water["items"]} == {"WM-1-1-101", "WM-2-1-201", "WM-B2"}
    building_2 = call(client, "get", "/api/v1/staff/meters?building=2", manager)
    assert {m["number"] for m in building_2["items"]} == {"WM-2-1-201", "WM-B2"}
    assert call(client, "get", f"/api/v1/staff/meters?house_id={h201}", manager)["total"] == 1
    readings = call(client, "get", f"/api/v1/staff/meters/{demo_water['id']}/readings", manager)
    assert [r["reading"] for r in readings] == ["112.50", "100.00"]
    assert client.post("/api/v1/staff/meters", headers=login("demo-cashier"), json={}).status_code == 403
    assert call(client, "get", "/api/v1/staff/meters", login("other-manager"))["total"] == 0
    assert client.get(f"/api/v1/staff/meters/{demo_water['id']}/readings",
                      headers=login("other-manager")).status_code == 404


def test_meter_reading_import(app, client, manager, login):
    h201 = house_id(app, "2-1-201")
    call(client, "post", "/api/v1/staff/meters", manager, {"number": "WM-201", "kind": "water", "house_id": h201},
         status=201)
    first = upload(client, manager, "表号,期间,读数\nWM-201,2031-01,100\nWM-201,2031-02,112.5\n")
    assert first == {"rows": 2, "imported": 2, "updated": 0, "rejected": []}
    report = upload(client, manager, "meter,period,reading,replaced,old_final\n"
                                     "WM-201,2031-03,110,,\n"  # below the previous reading, not replaced
                                     "WM-201,2031-03,8,是,130\n"  # the meter was replaced: 130-112.5 + 8
                                     "NOPE,2031-03,5,,\n"
                                     "WM-201,2031-13,120,,\n"
                                     "WM-201,2031/04,120,,\n"
                                     "WM-201,2031-04,abc,,\n"
                                     "WM-201,2031-04,9,1,\n")  # replaced without the old meter's final reading
    assert report["rows"] == 7 and report["imported"] == 1 and report["updated"] == 0
    reasons = {r["line"]: r["reason"] for r in report["rejected"]}
    assert set(reasons) == {2, 4, 5, 6, 7, 8}
    assert "小于上期读数" in reasons[2] and "不存在" in reasons[4] and "YYYY-MM" in reasons[5]
    assert "YYYY-MM" in reasons[6] and "不是数字" in reasons[7] and "旧表止码" in reasons[8]

    def reading(period):
        with app.app_context():
            row = db.session.scalar(select(MeterReading).where(MeterReading.period == period,
                                                               MeterReading.meter.has(number="WM-201")))
            return str(row.reading), str(row.consumption), row.replaced

    assert reading("2031-03") == ("8.00", "25.50", True)
    # The same rows again change nothing; a corrected reading replaces the earlier one.
    assert upload(client, manager, "表号,期间,读数\nWM-201,2031-01,100\nWM-201,2031-02,112.5\n") == {
        "rows": 2, "imported": 0, "updated": 0, "rejected": []}
    corrected = upload(client, manager, "表号,期间,读数\nWM-201,2031-02,115\n")
    assert corrected["updated"] == 1 and reading("2031-02") == ("115.00", "15.00", False)
    # GBK files from Excel work too.
    gbk = upload(client, manager, "表号,期间,读数\nWM-201,2031-05,20\n", encoding="gbk")
    assert gbk["imported"] == 1

    # Nothing readable: 422 with the reasons, and nothing changes.
    bad = upload(client, manager, "表号,期间,读数\nNOPE,2031-06,1\n", status=422)
    assert bad["error"]["code"] == "nothing_imported" and "第 2 行" in bad["error"]["fields"]["file"][0]
    assert upload(client, manager, "a,b,c\n1,2,3\n", status=422)["error"]["fields"]["file"][0].startswith("第 1 行")
    assert upload(client, manager, "", status=422)["error"]["code"] == "nothing_imported"
    missing = client.post("/api/v1/staff/meter-readings", headers=manager, data={},
                          content_type="multipart/form-data")
    assert missing.status_code == 422 and "file" in missing.get_json()["error"]["fields"]
    # Only managers, and only their community's meters.
    assert client.post("/api/v1/staff/meter-readings", headers=login("demo-cashier"), data={}).status_code == 403
    other = upload(client, login("other-manager"), "表号,期间,读数\nWM-201,2031-07,30\n", status=422)
    assert "不存在" in other["error"]["fields"]["file"][0]


# -- one-off charges and generation ---------------------------------------------------------------------------------

def test_one_off_charges(app, client, manager, login, zhangsan):
    one_off = call(client, "post", ITEMS, manager, {"code": "glass", "name": "公共玻璃损坏赔偿", "kind": "one_off",
                                                    "due_days": 10}, status=201)
    h101 = house_id(app, "1-1-101")
    body = {"house_id": h101, "fee_item_id": one_off["id"], "amount_fen": 12000, "period": "2031-01",
            "note": "1 单元门厅玻璃"}
    bill = call(client, "post", "/api/v1/staff/bills", manager, body, status=201)
    assert bill["status"] == "unpaid" and bill["amount_fen"] == 12000 and bill["item"] == "公共玻璃损坏赔偿"
    assert bill["details"] == {"note": "1 单元门厅玻璃", "charged_by": "王建国"} and bill["due_date"] == "2031-01-11"
    owner_bills = client.get("/api/v1/bills?status=unpaid", headers=zhangsan.headers).get_json()
    assert bill["id"] in {b["id"] for b in owner_bills}
    again = client.post("/api/v1/staff/bills", headers=manager, json=body)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "bill_exists"
    area = call(client, "get", ITEMS, manager)[0]
    wrong = client.post("/api/v1/staff/bills", headers=manager, json={**body, "fee_item_id": area["id"]})
    assert wrong.status_code == 422 and "fee_item_id" in wrong.get_json()["error"]["fields"]
    for bad in ({"amount_fen": 0}, {"period": "2031-1"}, {"note": ""}, {"amount_fen": "100"}):
        assert client.post("/api/v1/staff/bills", headers=manager, json={**body, **bad}).status_code == 422, bad
    assert client.post("/api/v1/staff/bills", headers=manager,
                       json={**body, "house_id": house_id(app, "9-1-101", "other")}).status_code == 404
    assert client.post("/api/v1/staff/bills", headers=login("demo-cashier"), json={}).status_code == 403
    assert client.post("/api/v1/staff/bills", headers=login("other-manager"), json=body).status_code == 404


def test_generation_on_demand(client, manager, login):
    first = call(client, "post", "/api/v1/staff/bills/generate", manager, {"period": "2031-01"})
    assert first["period"] == "2031-01" and first["created"] == first["computed"] > 72
    assert first["existing"] == 0 and first["seconds"] >= 0
    assert any("本期无" in note for note in first["skipped"])  # no readings for 2031-01
    again = call(client, "post", "/api/v1/staff/bills/generate", manager, {"period": "2031-01"})
    assert again["created"] == 0 and again["existing"] == first["computed"]
    bills = client.get("/api/v1/staff/bills?period=2031-01&per_page=1", headers=manager).get_json()
    assert bills["total"] == first["computed"]
    assert client.post("/api/v1/staff/bills/generate", headers=manager, json={"period": "31-01"}).status_code == 422
    assert client.post("/api/v1/staff/bills/generate", headers=login("demo-cashier"), json={}).status_code == 403
    # Another community's manager generates only theirs (nothing: no fee items there).
    other = call(client, "post", "/api/v1/staff/bills/generate", login("other-manager"), {"period": "2031-01"})
    assert other["computed"] == 0


def test_fee_settings(client, manager, login):
    assert call(client, "get", "/api/v1/staff/fee-settings", login("demo-cashier")) == {
        "reception_collects_fees": False}
    assert client.patch("/api/v1/staff/fee-settings", headers=manager, json={}).status_code == 422
    assert client.patch("/api/v1/staff/fee-settings", headers=login("demo-cashier"), json={}).status_code == 403
    call(client, "patch", "/api/v1/staff/fee-settings", manager, {"reception_collects_fees": True})
    assert call(client, "get", "/api/v1/staff/fee-settings", login("other-manager")) == {
        "reception_collects_fees": False}
