"""The desk: finding a house while the caller talks, consultations (咨询) and the day's calls and visits."""
from __future__ import annotations

from sqlalchemy import select

from server.accounts.models import House
from server.extensions import db
from tests.workflow import report

SEARCH = "/api/v1/staff/houses/search"


def labels(hits: list[dict]) -> list[str]:
    return [h["house"]["label"] for h in hits]


def search(client, headers, q: str, status: int = 200, **args):
    res = client.get(SEARCH, headers=headers, query_string={"q": q, **args})
    assert res.status_code == status, res.get_json()
    return res.get_json()


def house_id(app, code: str, unit: str, room: str, community: str = "demo") -> int:
    from server.accounts.models import Building, Community

    with app.app_context():
        return db.session.scalar(select(House.id).join(Building).join(Community, House.community_id == Community.id)
                                 .where(Community.code == community, Building.code == code, House.unit == unit,
                                        House.room == room))


def test_search_by_house_number(client, login, demo):
    reception = login("demo-reception")
    hits = search(client, reception, "1-1-101")
    assert labels(hits)[0] == "1栋1单元101"
    assert (hits[0]["name"], hits[0]["phone"], hits[0]["role_label"], hits[0]["source"]) == \
        ("张三", "13800000001", "业主", "roster")
    assert labels(search(client, reception, "1栋1单元101"))[0] == "1栋1单元101"
    assert labels(search(client, reception, "1-1-10")) == ["1栋1单元101", "1栋1单元102"]
    unit = search(client, reception, "1-1", limit=20)
    assert len(unit) == 12 and all(label.startswith("1栋1单元") for label in labels(unit))
    assert labels(search(client, reception, "2-1-201"))[0] == "2栋1单元201"
    assert [h["name"] for h in search(client, reception, "2-1-202")] == [""]  # nobody on the roster there
    assert len(search(client, reception, "1")) == 8  # the default limit
    assert search(client, reception, "7-1-101") == [] and search(client, reception, "1-9") == []


def test_search_by_name_and_phone(client, login, demo):
    reception = login("demo-reception")
    assert [(h["house"]["label"], h["name"]) for h in search(client, reception, "张")] == [("1栋1单元101", "张三")]
    assert [h["name"] for h in search(client, reception, "赵六")] == ["赵六"]
    assert search(client, reception, "赵六")[0]["role_label"] == "租户"
    assert labels(search(client, reception, "13800000002")) == ["1栋1单元102"]
    assert labels(search(client, reception, "138 0000 0003")) == ["2栋1单元201"]
    prefix = search(client, reception, "1380000")
    assert sorted(h["name"] for h in prefix) == ["张三", "李四", "王五", "赵六"]
    assert search(client, reception, "13811112222") == []
    assert search(client, reception, "%") == [] and search(client, reception, "_") == []  # no wildcards


def test_approved_members_are_found_too(client, login, zhangsan):
    reception = login("demo-reception")
    # 张三's own binding and the roster entry are one person: one hit.
    assert [(h["name"], h["source"]) for h in search(client, reception, "13800000001")] == [("张三", "roster")]
    # 102's roster lists 李四 13800000002; his wife binds with that phone under her own name.
    headers = login("owner-li")
    res = client.post("/api/v1/me/houses", headers=headers, json={
        "community_code": "demo", "building": "1", "unit": "1", "room": "102", "name": "孙丽",
        "phone": "13800000002", "role": "owner"})
    assert res.status_code == 201 and res.get_json()["status"] == "pending"
    assert search(client, reception, "孙丽") == []  # not yet approved
    assert client.post(f"/api/v1/staff/bindings/{res.get_json()['id']}/approve", headers=reception).status_code == 200
    hits = search(client, reception, "孙")
    assert [(h["house"]["label"], h["name"], h["source"]) for h in hits] == [("1栋1单元102", "孙丽", "member")]
    # By phone: the roster's entry and the binding share the number: the roster's name is offered once.
    assert [(h["name"], h["source"]) for h in search(client, reception, "13800000002")] == [("李四", "roster")]


def test_another_communitys_houses_never_appear(client, login, demo):
    other = login("other-manager")
    assert labels(search(client, other, "9-1-101")) == ["9栋1单元101"]
    for q in ("1-1-101", "1", "张三", "13800000001", "1380000"):
        assert search(client, other, q) == [], q
    assert search(client, login("demo-reception"), "9-1-101") == []


def test_search_is_for_the_service_center(client, login, zhangsan):
    assert client.get(SEARCH, query_string={"q": "1"}).status_code == 401
    assert client.get(SEARCH, headers=zhangsan.headers, query_string={"q": "1"}).status_code == 403
    res = client.get(SEARCH, headers=login("demo-eng-1"), query_string={"q": "1"})
    assert res.status_code == 403 and res.get_json()["error"]["message"] == "只有服务中心员工可以查找房屋"
    assert search(client, login("demo-cashier"), "1-1-101")  # the cashier finds the house at the fees desk
    res = client.get(SEARCH, headers=login("demo-manager"))
    assert res.status_code == 422 and res.get_json()["error"]["fields"] == {"q": ["必填"]}
    assert search(client, login("demo-manager"), "1", limit=99, status=422)


CONSULT = "/api/v1/staff/consultations"


def consult(client, headers, status: int = 201, **body):
    data = {"channel": "phone", "contact_name": "张三", "contact_phone": "13800000001",
            "question": "物业费可以按年交吗？", "answer": "可以，服务中心和小程序都能一次交一年。", **body}
    res = client.post(CONSULT, headers=headers, json=data)
    assert res.status_code == status, res.get_json()
    return res.get_json()


def test_recording_and_listing_consultations(app, client, login, demo):
    reception, house = login("demo-reception"), house_id(app, "1", "1", "101")
    first = consult(client, reception, house_id=house)
    assert first["house"] == {"id": house, "label": "1栋1单元101"}
    assert first["channel_label"] == "电话" and first["received_by"]["name"] == "刘芳"
    assert first["received_at"].endswith("+08:00")
    walk_in = consult(client, login("demo-manager"), channel="visit", contact_name="路人", contact_phone="13911112222",
                      question="小区门禁卡在哪里办？", answer="带身份证到服务中心办理，工本费 20 元。")
    assert walk_in["house"] is None and walk_in["channel_label"] == "来访"
    listed = client.get(CONSULT, headers=reception).get_json()
    assert listed["total"] == 2 and [c["id"] for c in listed["items"]] == [walk_in["id"], first["id"]]
    today = first["received_at"][:10]
    assert client.get(CONSULT, headers=reception, query_string={"date_from": today, "date_to": today}
                      ).get_json()["total"] == 2
    assert client.get(CONSULT, headers=reception, query_string={"date_to": "2020-01-01"}).get_json()["total"] == 0
    assert [c["id"] for c in client.get(CONSULT, headers=reception, query_string={"house_id": house}
                                        ).get_json()["items"]] == [first["id"]]
    for q, expected in (("门禁", [walk_in["id"]]), ("一年", [first["id"]]), ("13911112222", [walk_in["id"]]),
                        ("路人", [walk_in["id"]]), ("100%", [])):
        assert [c["id"] for c in client.get(CONSULT, headers=reception, query_string={"q": q}
                                            ).get_json()["items"]] == expected, q
    paged = client.get(CONSULT, headers=reception, query_string={"per_page": 1, "page": 2}).get_json()
    assert paged["total"] == 2 and [c["id"] for c in paged["items"]] == [first["id"]]
    bad = client.get(CONSULT, headers=reception, query_string={"date_from": "2026-12-02", "date_to": "2026-12-01"})
    assert bad.status_code == 422 and bad.get_json()["error"]["fields"] == {"date_to": ["截止日期不能早于起始日期"]}


def test_a_consultation_is_checked_in_chinese(app, client, login, demo):
    reception = login("demo-reception")
    res = client.post(CONSULT, headers=reception, json={"channel": "fax", "contact_name": " ", "contact_phone": "123",
                                                         "question": "", "answer": "x" * 1001})
    assert res.status_code == 422
    assert res.get_json()["error"]["fields"] == {
        "channel": ["应为以下之一：phone, visit"], "contact_phone": ["手机号格式有误（11 位手机号）"],
        "question": ["必填"], "answer": ["长度不能超过 1000"]}
    blank = client.post(CONSULT, headers=reception, json={"channel": "phone", "contact_name": " ",
                                                           "contact_phone": "13800000001", "question": "问", "answer": " "})
    assert blank.status_code == 422 and blank.get_json()["error"]["fields"] == {"contact_name": ["必填"],
                                                                               "answer": ["必填"]}
    other_house = house_id(app, "9", "1", "101", community="other")
    res = client.post(CONSULT, headers=reception, json={"channel": "phone", "contact_name": "某", "house_id": other_house,
                                                         "contact_phone": "13800000001", "question": "问", "answer": "答"})
    assert res.status_code == 422 and res.get_json()["error"]["fields"] == {"house_id": ["房屋不存在"]}
    consult(client, reception, house_id=2**40, status=422)


def test_consultations_stay_in_their_community_and_at_the_desk(app, client, login, zhangsan):
    consult(client, login("demo-reception"))
    other = login("other-manager")
    assert client.get(CONSULT, headers=other).get_json()["total"] == 0
    mine = consult(client, other, contact_name="外小区业主")
    assert client.get(CONSULT, headers=login("demo-manager")).get_json()["total"] == 1
    assert client.get(CONSULT, headers=other).get_json()["items"][0]["id"] == mine["id"]
    assert client.get(f"{CONSULT}/{mine['id']}", headers=other).get_json()["contact_name"] == "外小区业主"
    assert client.get(f"{CONSULT}/{mine['id']}", headers=login("demo-reception")).status_code == 404
    for headers in (login("demo-eng-1"), login("demo-cashier"), zhangsan.headers):
        assert client.get(CONSULT, headers=headers).status_code == 403
        assert client.post(CONSULT, headers=headers, json={}).status_code == 403
    assert client.get(CONSULT).status_code == 401


def test_the_days_calls_and_visits(app, client, login, zhangsan):
    reception, house = login("demo-reception"), house_id(app, "1", "1", "101")
    report(client, zhangsan.headers)  # from the mini-program: not a call
    desk = client.post("/api/v1/staff/work-orders", headers=reception, json={
        "kind": "repair", "house_id": house, "category": "electricity", "description": "客厅跳闸", "channel": "phone",
        "contact_name": "张三", "contact_phone": "13800000001"})
    assert desk.status_code == 201
    question = consult(client, reception, channel="visit", house_id=house)
    consult(client, login("other-manager"))
    calls = client.get("/api/v1/staff/calls", headers=reception).get_json()
    assert [(c["kind_label"], c["channel_label"], c["summary"]) for c in calls] == [
        ("咨询", "来访", "物业费可以按年交吗？"), ("报修", "电话", "客厅跳闸")]
    assert calls[0]["consultation_id"] == question["id"] and calls[0]["order"] is None
    assert calls[1]["order"]["number"] == desk.get_json()["number"] and calls[1]["order"]["status_label"]
    assert calls[1]["received_by"]["name"] == "刘芳" and calls[1]["house"]["label"] == "1栋1单元101"
    assert client.get("/api/v1/staff/calls", headers=reception, query_string={"date": "2020-01-01"}).get_json() == []
    assert client.get("/api/v1/staff/calls", headers=login("demo-eng-lead")).status_code == 403


def test_the_desk_registers_a_complaint_about_a_staff_member(app, client, login, demo):
    from server.accounts.models import Staff

    with app.app_context():
        cleaner = db.session.scalar(select(Staff.id).where(Staff.mp_openid == "demo-clean-1"))
        outsider = db.session.scalar(select(Staff.id).where(Staff.mp_openid == "other-manager"))
    body = {"kind": "complaint", "house_id": house_id(app, "3", "2", "602"), "category": "service_attitude",
            "description": "保洁员态度生硬", "channel": "visit", "written": True, "about_staff_id": cleaner,
            "contact_name": "赵六", "contact_phone": "13800000004"}
    res = client.post("/api/v1/staff/work-orders", headers=login("demo-reception"), json=body)
    assert res.status_code == 201, res.get_json()
    assert (res.get_json()["about_staff_name"], res.get_json()["written"]) == ("冯阿姨", True)
    res = client.post("/api/v1/staff/work-orders", headers=login("demo-reception"),
                      json={**body, "about_staff_id": outsider})
    assert res.status_code == 422 and res.get_json()["error"]["fields"] == {"about_staff_id": ["员工不存在"]}
