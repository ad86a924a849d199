"""Notices: staff publish (validation, roles, their community only); owners read the notices of their houses'
community and buildings, with read state."""
import pytest
from sqlalchemy import select

from server.accounts.models import Building, Community, House, HouseMembership, Owner
from server.extensions import db
from server.notices.models import Notice
from server.outbox import OutboxJob

STAFF = "/api/v1/staff/notices"
OWNER = "/api/v1/notices"
WATER_CUT = {"title": "3 号楼停水通知", "content": "因管道检修，3 号楼 11 月 25 日 9:00-17:00 停水，请提前储水。",
             "kind": "water_cut", "scope": {"buildings": ["3"]},
             "starts_at": "2026-11-25T09:00:00+08:00", "ends_at": "2026-11-25T17:00:00+08:00"}


def resident(app, openid: str, building: str, unit: str = "1", room: str = "101", *, community: str = "demo",
             status: str = "approved") -> int:
    """An owner (created if new) with a membership on that house; returns the owner id."""
    with app.app_context():
        owner = db.session.scalar(select(Owner).where(Owner.openid == openid))
        if owner is None:
            owner = Owner(openid=openid, name=openid)
            db.session.add(owner)
            db.session.flush()
        house = db.session.scalar(
            select(House).join(Building).join(Community, Community.id == House.community_id)
            .where(Community.code == community, Building.code == building, House.unit == unit, House.room == room))
        db.session.add(HouseMembership(house_id=house.id, owner_id=owner.id, role="owner", status=status,
                                       name=openid, phone="13600000000"))
        db.session.commit()
        return owner.id


def publish(client, headers, **body):
    data = {"title": "物业通知", "content": "请各位业主知悉。", **body}
    res = client.post(STAFF, headers=headers, json=data)
    assert res.status_code == 201, res.get_json()
    return res.get_json()


@pytest.fixture
def reception(login, demo):
    return login("demo-reception")


def test_publish_to_the_whole_community(app, client, reception):
    a = resident(app, "owner-a", "1")
    resident(app, "owner-a", "2", room="201")  # two houses, one owner
    resident(app, "owner-b", "3", unit="2", room="602")
    resident(app, "owner-p", "1", room="102", status="pending")  # not bound yet: not affected
    body = publish(client, reception, title="小区停电通知", content="11 月 26 日 8:00-12:00 全小区停电检修。\n请做好准备。",
                   kind="power_cut")
    assert body["kind"] == "power_cut" and body["kind_label"] == "停电通知"
    assert body["scope"] is None and body["scope_label"] == "全体住户"
    assert body["summary"] == "11 月 26 日 8:00-12:00 全小区停电检修。 请做好准备。"
    assert body["published_by"]["name"] == "刘芳" and body["published_at"].endswith("+08:00")
    assert body["affected"] == {"houses": 72, "households": 3, "owners": 2, "with_consent": 0}
    assert body["push"]["recipients"] == 2 and body["push"]["sent"] == 0 and body["push"]["fanned_out_at"] is None
    assert body["common_problem_id"] is None
    with app.app_context():  # one job for the whole push, whatever the number of owners
        rows = db.session.scalars(select(OutboxJob)).all()
        assert [(r.func, r.kwargs) for r in rows] == [("jobs.notices.fan_out", {"notice_id": body["id"]})]
    assert a


def test_publish_to_some_buildings(app, client, reception):
    resident(app, "owner-a", "1")
    resident(app, "owner-c", "3", unit="2", room="602")
    body = publish(client, reception, **WATER_CUT)
    assert body["scope"] == {"buildings": ["3"]} and body["scope_label"] == "3栋"
    assert body["affected"] == {"houses": 24, "households": 1, "owners": 1, "with_consent": 0}
    assert body["starts_at"] == "2026-11-25T09:00:00+08:00" and body["ends_at"] == "2026-11-25T17:00:00+08:00"
    both = publish(client, reception, scope={"buildings": ["1", "3", "1"]})
    assert both["scope"] == {"buildings": ["1", "3"]} and both["affected"]["houses"] == 48


@pytest.mark.parametrize("body,fields", [
    ({"title": "长" * 51, "content": "x"}, {"title": ["长度不能超过 50"]}),
    ({"title": "", "content": "x"}, {"title": ["必填"]}),
    ({"title": "   ", "content": "x"}, {"title": ["必填"]}),
    ({"title": "x"}, {"content": ["必填"]}),
    ({"title": "x", "content": "长" * 5001}, {"content": ["长度不能超过 5000"]}),
    ({"title": "x", "content": "x", "kind": "party"}, {"kind": [
        "应为以下之一：general, water_cut, power_cut, reminder, common_problem"]}),
    ({"title": "x", "content": "x", "scope": {"buildings": []}}, {"scope.buildings": ["至少指定一个楼栋"]}),
    ({"title": "x", "content": "x", "scope": {"houses": ["1"]}},
     {"scope.buildings": ["必填"], "scope.houses": ["不支持的字段"]}),
    ({"title": "x", "content": "x", "starts_at": "2026-11-25T17:00:00+08:00", "ends_at": "2026-11-25T09:00:00+08:00"},
     {"ends_at": ["结束时间应晚于开始时间"]}),
    ({"title": "x", "content": "x", "common_problem_id": 3}, {"common_problem_id": ["不支持的字段"]}),
])
def test_publish_validation(app, client, reception, body, fields):
    res = client.post(STAFF, headers=reception, json=body)
    assert res.status_code == 422 and res.get_json()["error"]["fields"] == fields
    with app.app_context():
        assert db.session.scalar(select(Notice)) is None and db.session.scalar(select(OutboxJob)) is None


def test_unknown_buildings_are_named(app, client, reception):
    # "9" is a building of the other community: unknown here.
    res = client.post(STAFF, headers=reception, json={**WATER_CUT, "scope": {"buildings": ["3", "7", "9"]}})
    error = res.get_json()["error"]
    assert res.status_code == 422 and error["code"] == "validation_error"
    assert error["message"] == "未知的楼栋：7、9" and error["fields"] == {"scope.buildings": ["未知的楼栋：7、9"]}
    with app.app_context():
        assert db.session.scalar(select(Notice)) is None


def test_who_may_publish(client, login, zhangsan):
    assert client.post(STAFF, json=WATER_CUT).status_code == 401
    assert client.post(STAFF, headers=zhangsan.headers, json=WATER_CUT).status_code == 403  # an owner
    assert client.get(STAFF, headers=zhangsan.headers).status_code == 403
    for openid in ("demo-eng-1", "demo-cashier", "demo-eng-lead"):
        res = client.post(STAFF, headers=login(openid), json={})  # refused before the body is looked at
        assert res.status_code == 403 and res.get_json()["error"]["code"] == "role_forbidden"
    for openid in ("demo-reception", "demo-manager"):
        assert client.post(STAFF, headers=login(openid), json=WATER_CUT).status_code == 201
    me = client.get("/api/v1/me", headers=login("demo-reception")).get_json()
    assert "publish_notices" in me["staff"]["permissions"]


def test_staff_list_and_detail_of_their_community_only(client, login, reception):
    first = publish(client, reception, title="第一条")
    second = publish(client, reception, **WATER_CUT)
    worker = login("demo-eng-1")  # every staff member may read the community's notices
    page = client.get(STAFF + "?per_page=1", headers=worker).get_json()
    assert page["total"] == 2 and page["per_page"] == 1 and [n["id"] for n in page["items"]] == [second["id"]]
    assert set(page["items"][0]["push"]) == {"recipients", "sent", "skipped", "failed", "pending", "fanned_out_at"}
    assert "content" not in page["items"][0]
    detail = client.get(f"{STAFF}/{first['id']}", headers=worker).get_json()
    assert detail["content"] == "请各位业主知悉。" and detail["title"] == "第一条"

    other = login("other-manager")
    assert client.get(f"{STAFF}/{first['id']}", headers=other).status_code == 404
    assert client.get(STAFF, headers=other).get_json()["total"] == 0
    mine = publish(client, other, title="别的小区的通知", scope={"buildings": ["9"]})
    assert client.get(f"{STAFF}/{mine['id']}", headers=reception).status_code == 404
    assert client.get(f"{STAFF}/999999", headers=reception).status_code == 404


def test_owners_see_the_notices_of_their_houses(app, client, login, reception):
    resident(app, "owner-1", "1")
    resident(app, "owner-3", "3", unit="2", room="602")
    resident(app, "owner-both", "1", room="102")
    resident(app, "owner-both", "3", room="101")
    resident(app, "owner-pending", "3", room="102", status="pending")
    resident(app, "owner-other", "9", community="other")
    whole = publish(client, reception, title="全小区")
    water = publish(client, reception, **WATER_CUT)
    elsewhere = publish(client, login("other-manager"), title="别的小区")

    def titles(openid):
        res = client.get(OWNER, headers=login(openid))
        assert res.status_code == 200
        return [n["title"] for n in res.get_json()["items"]]

    assert titles("owner-1") == ["全小区"]
    assert titles("owner-3") == ["3 号楼停水通知", "全小区"]  # newest first
    assert titles("owner-both") == ["3 号楼停水通知", "全小区"]  # once each, though two houses match
    assert titles("owner-pending") == []
    assert titles("owner-other") == ["别的小区"]
    assert titles("nobody") == []

    owner1 = login("owner-1")
    assert client.get(f"{OWNER}/{water['id']}", headers=owner1).status_code == 404  # another building
    assert client.get(f"{OWNER}/{elsewhere['id']}", headers=owner1).status_code == 404  # another community
    assert client.get(f"{OWNER}/{whole['id']}", headers=login("owner-pending")).status_code == 404
    assert client.get(f"{OWNER}/{whole['id']}", headers=owner1).status_code == 200
    assert client.get(OWNER).status_code == 401


def test_read_state_unread_count_and_read_all(app, client, login, reception):
    resident(app, "owner-3", "3", unit="2", room="602")
    owner = login("owner-3")
    ids = [publish(client, reception, title=f"通知 {n}")["id"] for n in range(3)]
    page = client.get(OWNER, headers=owner).get_json()
    assert page["unread_count"] == 3 and page["total"] == 3
    assert [(n["id"], n["read"], n["read_at"]) for n in page["items"]] == [(i, False, None) for i in reversed(ids)]

    detail = client.get(f"{OWNER}/{ids[0]}", headers=owner).get_json()
    assert detail["read"] is True and detail["read_at"].endswith("+08:00") and detail["content"] == "请各位业主知悉。"
    again = client.get(f"{OWNER}/{ids[0]}", headers=owner).get_json()  # reading twice is fine
    assert again["read_at"] == detail["read_at"]
    page = client.get(OWNER + "?per_page=2", headers=owner).get_json()
    assert page["unread_count"] == 2 and page["total"] == 3 and len(page["items"]) == 2
    page = client.get(OWNER + "?page=2&per_page=2", headers=owner).get_json()
    assert [(n["id"], n["read"]) for n in page["items"]] == [(ids[0], True)]

    res = client.post(f"{OWNER}/read-all", headers=owner)
    assert res.status_code == 200 and res.get_json() == {"marked": 2, "unread_count": 0}
    assert client.post(f"{OWNER}/read-all", headers=owner).get_json() == {"marked": 0, "unread_count": 0}
    page = client.get(OWNER, headers=owner).get_json()
    assert page["unread_count"] == 0 and all(n["read"] for n in page["items"])

    # Reads are per owner; a new notice is unread.
    resident(app, "owner-3b", "3", unit="2", room="601")
    assert client.get(OWNER, headers=login("owner-3b")).get_json()["unread_count"] == 3
    publish(client, reception, title="新通知")
    assert client.get(OWNER, headers=owner).get_json()["unread_count"] == 1


def consent(app, owner_id: int, credits: int = 1) -> None:
    from server.wechat.models import SubscribeCredit

    with app.app_context():
        db.session.add(SubscribeCredit(owner_id=owner_id, template_id="tpl-notice", credits=credits))
        db.session.commit()


def test_preview_shows_the_message_as_wechat_will_and_whom_it_reaches(app, client, login, reception):
    consent(app, resident(app, "owner-1a", "1"))
    resident(app, "owner-1b", "1", room="102")  # bound, no consent: skipped when pushed
    consent(app, resident(app, "owner-2", "2", room="201"))
    body = {**WATER_CUT, "title": "1 号楼二次供水水箱清洗，全天停水的通知（请提前储水）",
            "content": "因二次供水水箱年度清洗消毒，1 号楼 11 月 25 日 9:00-17:00 停水。\n给您带来不便，敬请谅解。",
            "scope": {"buildings": ["1"]}}
    res = client.post(f"{STAFF}/preview", headers=reception, json=body)
    assert res.status_code == 200, res.get_json()
    preview = res.get_json()
    assert preview["kind_label"] == "停水通知" and preview["scope_label"] == "1栋"
    assert preview["title"] == body["title"] and preview["content"] == body["content"]
    assert preview["starts_at"] == "2026-11-25T09:00:00+08:00" and preview["published_at"].endswith("+08:00")
    assert preview["affected"] == {"houses": 24, "households": 2, "owners": 2, "with_consent": 1}
    message = preview["message"]
    assert message["template"] == "物业通知" and message["page"] == "pages/notices/detail"
    fields = {f["key"]: (f["label"], f["value"]) for f in message["fields"]}
    assert fields["thing1"] == ("标题", "1 号楼二次供水水箱清洗，全天停水的通…")  # WeChat's 20 characters
    assert fields["thing2"] == ("摘要", "因二次供水水箱年度清洗消毒，1 号楼 …")
    assert fields["time3"][0] == "发布时间" and len(fields["time3"][1]) == len("2026-11-25 09:00")
    assert all(len(f["value"]) <= 20 for f in message["fields"])
    with app.app_context():  # nothing published, nothing queued
        assert db.session.scalar(select(Notice)) is None and db.session.scalar(select(OutboxJob)) is None

    everyone = client.post(f"{STAFF}/preview", headers=reception, json={"title": "通知", "content": "内容"})
    assert everyone.get_json()["affected"] == {"houses": 72, "households": 3, "owners": 3, "with_consent": 2}
    assert everyone.get_json()["scope_label"] == "全体住户"
    # The same validation as publishing, the same people may do it.
    res = client.post(f"{STAFF}/preview", headers=reception, json={**body, "title": " ", "scope": {"buildings": ["7"]}})
    assert res.status_code == 422 and set(res.get_json()["error"]["fields"]) == {"title"}
    res = client.post(f"{STAFF}/preview", headers=reception, json={**body, "scope": {"buildings": ["7"]}})
    assert res.status_code == 422 and res.get_json()["error"]["fields"] == {"scope.buildings": ["未知的楼栋：7"]}
    assert client.post(f"{STAFF}/preview", headers=login("demo-eng-1"), json=body).status_code == 403


def test_staff_see_how_many_read_a_notice(app, client, login, reception):
    resident(app, "owner-1", "1")
    resident(app, "owner-1-family", "1")  # the same house: one household
    resident(app, "owner-2", "2", room="201")
    consent(app, resident(app, "owner-3", "3", unit="2", room="602"))
    resident(app, "owner-3", "1", room="102")  # also bound in building 1
    water = publish(client, reception, **{**WATER_CUT, "scope": {"buildings": ["1"]}})
    whole = publish(client, reception, title="全小区")
    assert water["reads"] == {"owners": 0, "households": 0}
    for openid in ("owner-1", "owner-1-family", "owner-3"):
        assert client.get(f"{OWNER}/{water['id']}", headers=login(openid)).status_code == 200
    client.get(f"{OWNER}/{whole['id']}", headers=login("owner-2"))

    detail = client.get(f"{STAFF}/{water['id']}", headers=reception).get_json()
    # owner-3 read it as a resident of 1-1-102 (their 3-2-602 is not in its scope)
    assert detail["reads"] == {"owners": 3, "households": 2}
    assert detail["affected"] == {"houses": 24, "households": 2, "owners": 3, "with_consent": 1}
    page = client.get(STAFF, headers=reception).get_json()
    assert [(n["id"], n["reads"]) for n in page["items"]] == [
        (whole["id"], {"owners": 1, "households": 1}), (water["id"], {"owners": 3, "households": 2})]
    assert "affected" not in page["items"][0]
