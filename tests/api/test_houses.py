"""Phone verification, house binding, unbinding, family members and tenants; owners only see their own."""
from server.accounts.models import HouseMembership, RosterEntry
from server.extensions import db
from tests.conftest import BIND_101


def bind(client, headers, **over):
    return client.post("/api/v1/me/houses", headers=headers, json={**BIND_101, **over})


def test_phone_verification(client, login, demo):
    headers = login("o1")
    res = client.post("/api/v1/me/phone", json={"code": "dev:13800000001"}, headers=headers)
    assert res.status_code == 200
    assert res.get_json() == {"id": res.get_json()["id"], "name": None, "phone": "13800000001", "phone_verified": True}
    bad = client.post("/api/v1/me/phone", json={"code": "bogus"}, headers=headers)
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "invalid_code"


def test_roster_match_with_verified_phone_is_approved_at_once(client, zhangsan):
    houses = client.get("/api/v1/me/houses", headers=zhangsan.headers).get_json()
    assert [h["house"]["label"] for h in houses] == ["1栋1单元101"]
    assert houses[0]["status"] == "approved" and houses[0]["status_label"] == "已通过"
    me = client.get("/api/v1/me", headers=zhangsan.headers).get_json()
    assert me["user"]["name"] == "张三" and len(me["houses"]) == 1


def test_unverified_phone_waits_for_review(client, login, demo):
    res = bind(client, login("o2"))
    assert res.status_code == 201
    assert res.get_json()["status"] == "pending" and res.get_json()["pending_reason"] == "手机号未经微信验证"


def test_unverified_phone_approved_when_configured(app, client, login, demo, monkeypatch):
    monkeypatch.setitem(app.config, "BINDING_REQUIRE_VERIFIED_PHONE", False)
    assert bind(client, login("o3")).get_json()["status"] == "approved"


def test_not_on_roster_waits_and_reviewers_are_told(app, client, login, demo):
    res = bind(client, login("o4"), room="102", name="陌生人", phone="13600000000")
    assert res.get_json()["status"] == "pending" and res.get_json()["pending_reason"] == "未在业主名册中"
    with app.app_context():
        from server.wechat.models import Message

        messages = db.session.query(Message).filter_by(template_key="binding_review").all()
        # On-duty receptionist and manager of the demo community, not the other community's manager.
        assert sorted(m.touser for m in messages) == ["oa-demo-manager", "oa-demo-reception"]


def test_binding_twice_is_a_conflict(client, zhangsan):
    res = bind(client, zhangsan.headers)
    assert res.status_code == 409 and res.get_json()["error"]["code"] == "already_bound"


def test_bad_binding_input(client, login, demo):
    headers = login("o5")
    res = bind(client, headers, community_code="nope")
    assert res.status_code == 422 and res.get_json()["error"]["fields"] == {"community_code": ["小区不存在"]}
    res = bind(client, headers, room="9999")
    assert res.get_json()["error"]["fields"] == {"room": ["未找到该房屋"]}
    res = bind(client, headers, phone="12345", role="boss", name="")
    fields = res.get_json()["error"]["fields"]
    assert set(fields) == {"phone", "role", "name"}
    assert fields["phone"] == ["手机号格式有误（11 位手机号）"]
    assert bind(client, headers, name="张" * 51).status_code == 422
    res = client.post("/api/v1/me/houses", headers=headers, json={"building": 1})
    assert {"community_code", "unit", "room", "name", "phone", "role", "building"} <= set(
        res.get_json()["error"]["fields"])


def test_nothing_half_written_on_bad_input(app, client, login, demo):
    bind(client, login("o6"), room="9999")
    with app.app_context():
        assert db.session.query(HouseMembership).count() == 0


def test_unbind_and_bind_again(client, zhangsan):
    mid = zhangsan.membership_id
    assert client.delete(f"/api/v1/me/houses/{mid}", headers=zhangsan.headers).status_code == 204
    assert client.get("/api/v1/me/houses", headers=zhangsan.headers).get_json() == []
    assert client.delete(f"/api/v1/me/houses/{mid}", headers=zhangsan.headers).status_code == 404
    again = bind(client, zhangsan.headers)
    assert again.status_code == 201 and again.get_json()["id"] == mid and again.get_json()["status"] == "approved"


def test_several_owners_per_house_and_houses_per_owner(app, client, login, zhangsan, monkeypatch):
    monkeypatch.setitem(app.config, "BINDING_REQUIRE_VERIFIED_PHONE", False)
    lisi = login("owner-lisi")
    assert bind(client, lisi, room="102", name="李四", phone="13800000002").get_json()["status"] == "approved"
    # 张三 is also registered on 1-1-102 as family (added by staff to the roster).
    with app.app_context():
        house_id = db.session.get(HouseMembership, zhangsan.membership_id).house_id + 1
        db.session.add(RosterEntry(house_id=house_id, name="张三", phone="13800000001", role="family"))
        db.session.commit()
    assert bind(client, zhangsan.headers, room="102", role="family").get_json()["status"] == "approved"
    assert len(client.get("/api/v1/me/houses", headers=zhangsan.headers).get_json()) == 2


def test_owner_adds_family_member_who_then_binds_at_once(app, client, login, zhangsan, monkeypatch):
    mid = zhangsan.membership_id
    res = client.post(f"/api/v1/me/houses/{mid}/members", headers=zhangsan.headers,
                      json={"name": "张小三", "phone": "13800000011", "role": "family"})
    assert res.status_code == 201 and res.get_json()["phone"] == "138****0011"
    kid = login("owner-kid")
    client.post("/api/v1/me/phone", json={"code": "dev:13800000011"}, headers=kid)
    res = bind(client, kid, name="张小三", phone="13800000011", role="family")
    assert res.get_json()["status"] == "approved"
    members = client.get(f"/api/v1/me/houses/{mid}/members", headers=zhangsan.headers).get_json()
    assert [m["name"] for m in members["members"]] == ["张三", "张小三"]
    assert members["invited"] == []
    # The owner removes the family member: their binding ends.
    kid_membership = members["members"][1]["id"]
    assert client.delete(f"/api/v1/me/houses/{mid}/members/{kid_membership}", headers=zhangsan.headers).status_code == 204
    assert client.get("/api/v1/me/houses", headers=kid).get_json() == []


def test_pending_tenant_is_approved_when_owner_registers_them(client, login, zhangsan):
    tenant = login("owner-tenant")
    client.post("/api/v1/me/phone", json={"code": "dev:13800000012"}, headers=tenant)
    res = bind(client, tenant, name="租客", phone="13800000012", role="tenant")
    assert res.get_json()["status"] == "pending"
    client.post(f"/api/v1/me/houses/{zhangsan.membership_id}/members", headers=zhangsan.headers,
                json={"name": "租客", "phone": "13800000012", "role": "tenant"})
    assert client.get("/api/v1/me/houses", headers=tenant).get_json()[0]["status"] == "approved"


def test_invitation_can_be_withdrawn(client, zhangsan):
    mid = zhangsan.membership_id
    entry = client.post(f"/api/v1/me/houses/{mid}/members", headers=zhangsan.headers,
                        json={"name": "租客", "phone": "13800000013", "role": "tenant"}).get_json()
    assert [e["id"] for e in client.get(f"/api/v1/me/houses/{mid}/members", headers=zhangsan.headers)
            .get_json()["invited"]] == [entry["id"]]
    assert client.delete(f"/api/v1/me/houses/{mid}/invitations/{entry['id']}", headers=zhangsan.headers).status_code == 204
    assert client.get(f"/api/v1/me/houses/{mid}/members", headers=zhangsan.headers).get_json()["invited"] == []


def test_only_the_approved_owner_manages_members(client, login, zhangsan):
    # A family member may not add people; an owner cannot add someone as owner.
    res = client.post(f"/api/v1/me/houses/{zhangsan.membership_id}/members", headers=zhangsan.headers,
                      json={"name": "某人", "phone": "13800000014", "role": "owner"})
    assert res.status_code == 422
    pending = bind(client, login("o7"), room="102", name="某人", phone="13600000001").get_json()
    other = login("o7")
    res = client.post(f"/api/v1/me/houses/{pending['id']}/members", headers=other,
                      json={"name": "某人", "phone": "13800000014", "role": "family"})
    assert res.status_code == 403 and res.get_json()["error"]["code"] == "not_house_owner"


def test_owner_b_cannot_touch_owner_a_records(app, client, login, zhangsan):
    mallory = login("owner-mallory")
    mid = zhangsan.membership_id
    assert client.delete(f"/api/v1/me/houses/{mid}", headers=mallory).status_code == 404
    assert client.get(f"/api/v1/me/houses/{mid}/members", headers=mallory).status_code == 404
    res = client.post(f"/api/v1/me/houses/{mid}/members", headers=mallory,
                      json={"name": "坏人", "phone": "13800000015", "role": "tenant"})
    assert res.status_code == 404
    with app.app_context():
        assert db.session.get(HouseMembership, mid).status == "approved"
        assert db.session.query(RosterEntry).filter_by(phone="13800000015").count() == 0


def test_binding_rate_limit(app, client, login, demo, monkeypatch):
    monkeypatch.setitem(app.config, "RATE_BIND_OWNER", (2, 3600))
    headers = login("o8")
    assert bind(client, headers, room="9999").status_code == 422
    assert bind(client, headers, room="9998").status_code == 422
    assert bind(client, headers, room="9997").status_code == 429


def test_verifying_the_phone_decides_waiting_requests_again(client, login, demo):
    headers = login("late-verifier")
    res = bind(client, headers)
    assert res.get_json()["pending_reason"] == "手机号未经微信验证"
    client.post("/api/v1/me/phone", json={"code": "dev:13800000001"}, headers=headers)
    assert client.get("/api/v1/me/houses", headers=headers).get_json()[0]["status"] == "approved"


def test_a_different_verified_phone_is_named_as_the_reason(client, login, demo):
    headers = login("other-phone")
    client.post("/api/v1/me/phone", json={"code": "dev:13600000009"}, headers=headers)
    assert bind(client, headers).get_json()["pending_reason"] == "与微信验证的手机号不一致"
