"""Staff: binding review (with the owner's subscribe message), staff records, access rules."""
from server.accounts.models import HouseMembership, RosterEntry, Staff
from server.extensions import db
from server.wechat.models import Message
from tests.conftest import BIND_101


def pending_binding(client, login, openid="applicant"):
    headers = login(openid)
    res = client.post("/api/v1/me/houses", headers=headers, json={**BIND_101, "name": "新住户",
                                                                 "phone": "13600000002", "role": "tenant"})
    assert res.get_json()["status"] == "pending"
    return headers, res.get_json()["id"]


def test_reviewer_lists_and_approves_and_owner_is_told(app, client, login, sandbox, demo, run_jobs):
    owner, mid = pending_binding(client, login)
    template_id = client.get("/api/v1/me/subscriptions", headers=owner).get_json()[0]["template_id"]
    client.post("/api/v1/me/subscriptions", headers=owner, json={"accepted": [template_id]})
    reception = login("demo-reception")

    page = client.get("/api/v1/staff/bindings?status=pending", headers=reception).get_json()
    assert page["total"] == 1 and page["items"][0]["phone"] == "13600000002"
    assert page["items"][0]["phone_verified"] is False

    res = client.post(f"/api/v1/staff/bindings/{mid}/approve", headers=reception)
    assert res.status_code == 200 and res.get_json()["status"] == "approved"
    assert res.get_json()["reviewed_by"]["name"] == "刘芳"
    assert client.get("/api/v1/me/houses", headers=owner).get_json()[0]["status"] == "approved"
    with app.app_context():  # approved by staff: on the roster from now on
        assert db.session.query(RosterEntry).filter_by(phone="13600000002", source="staff").count() == 1

    run_jobs()
    subscribe = sandbox.messages(kind="subscribe")
    assert len(subscribe) == 1
    assert subscribe[0]["touser"] == "applicant" and subscribe[0]["template_id"] == template_id
    assert subscribe[0]["data"]["phrase2"]["value"] == "审核通过"
    assert subscribe[0]["data"]["thing1"]["value"] == "1栋1单元101"
    assert subscribe[0]["page"] == f"pages/houses/index?id={mid}"
    # Staff were told about the request with template messages that open the mini-program.
    template = sandbox.messages(kind="template")
    assert {m["touser"] for m in template} == {"oa-demo-reception", "oa-demo-manager"}
    assert template[0]["miniprogram"] == {"appid": "wx-demo-mp", "pagepath": f"pages/staff/bindings/index?id={mid}"}
    assert client.get("/api/v1/me/subscriptions", headers=owner).get_json()[0]["credits"] == 0

    again = client.post(f"/api/v1/staff/bindings/{mid}/approve", headers=reception)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "not_pending"


def test_approval_without_credit_is_recorded_as_skipped(app, client, login, sandbox, demo, run_jobs):
    _, mid = pending_binding(client, login)
    client.post(f"/api/v1/staff/bindings/{mid}/approve", headers=login("demo-manager"))
    run_jobs()
    assert sandbox.messages(kind="subscribe") == []
    with app.app_context():
        msg = db.session.query(Message).filter_by(template_key="binding_result").one()
        assert msg.status == "skipped" and msg.error_message == "用户没有剩余的订阅次数"


def test_reject_needs_a_reason_and_tells_the_owner(app, client, login, demo):
    owner, mid = pending_binding(client, login)
    manager = login("demo-manager")
    res = client.post(f"/api/v1/staff/bindings/{mid}/reject", headers=manager, json={})
    assert res.status_code == 422 and res.get_json()["error"]["fields"] == {"reason": ["必填"]}
    res = client.post(f"/api/v1/staff/bindings/{mid}/reject", headers=manager, json={"reason": "非本房住户"})
    assert res.get_json()["status"] == "rejected"
    mine = client.get("/api/v1/me/houses", headers=owner).get_json()[0]
    assert mine["status_label"] == "未通过" and mine["reject_reason"] == "非本房住户"
    with app.app_context():
        msg = db.session.query(Message).filter_by(template_key="binding_result").one()
        assert msg.payload["phrase2"] == {"value": "未通过"} and msg.payload["thing3"] == {"value": "非本房住户"}


def test_review_access_rules(app, client, login, demo):
    owner, mid = pending_binding(client, login)
    # Owners never reach staff endpoints; a worker is not a reviewer; another community sees nothing.
    assert client.get("/api/v1/staff/bindings", headers=owner).status_code == 403
    assert client.get("/api/v1/staff/bindings").status_code == 401
    worker = login("demo-eng-1")
    res = client.post(f"/api/v1/staff/bindings/{mid}/approve", headers=worker)
    assert res.status_code == 403 and res.get_json()["error"]["code"] == "role_forbidden"
    other = login("other-manager")
    assert client.get("/api/v1/staff/bindings", headers=other).get_json()["total"] == 0
    assert client.post(f"/api/v1/staff/bindings/{mid}/approve", headers=other).status_code == 404
    assert client.post(f"/api/v1/staff/bindings/{mid}/reject", headers=other, json={"reason": "x"}).status_code == 404
    with app.app_context():
        assert db.session.get(HouseMembership, mid).status == "pending"


def test_staff_list_and_duty_toggle(app, client, login, demo):
    worker = login("demo-eng-1")
    staff = client.get("/api/v1/staff/members?department=engineering", headers=worker).get_json()
    assert [s["name"] for s in staff] == ["孙工", "周师傅", "吴师傅"]
    me_id = next(s["id"] for s in staff if s["name"] == "周师傅")
    other_id = next(s["id"] for s in staff if s["name"] == "吴师傅")
    res = client.patch(f"/api/v1/staff/members/{me_id}", headers=worker, json={"on_duty": False})
    assert res.status_code == 200 and res.get_json()["on_duty"] is False
    assert client.patch(f"/api/v1/staff/members/{other_id}", headers=worker, json={"on_duty": False}).status_code == 403
    assert client.patch(f"/api/v1/staff/members/{me_id}", headers=worker, json={"role": "manager"}).status_code == 403
    # The engineering supervisor manages their workers' duty and skills, not their role.
    lead = login("demo-eng-lead")
    assert client.patch(f"/api/v1/staff/members/{other_id}", headers=lead, json={"skills": ["water"]}).status_code == 200
    assert client.patch(f"/api/v1/staff/members/{other_id}", headers=lead, json={"role": "supervisor"}).status_code == 403
    cleaner = next(s["id"] for s in client.get("/api/v1/staff/members?department=cleaning", headers=lead).get_json()
                   if s["role"] == "worker")
    assert client.patch(f"/api/v1/staff/members/{cleaner}", headers=lead, json={"on_duty": False}).status_code == 403


def test_manager_creates_staff_with_password(client, login, demo):
    manager = login("demo-manager")
    body = {"name": "新保洁", "phone": "13900000099", "department": "cleaning", "role": "worker",
            "skills": ["cleaning"], "on_duty": True, "password": "secret-pass"}
    res = client.post("/api/v1/staff/members", headers=manager, json=body)
    assert res.status_code == 201 and res.get_json()["department_label"] == "保洁部"
    assert "password" not in res.get_json()
    assert client.post("/api/v1/staff/members", headers=manager, json=body).status_code == 409
    login_res = client.post("/api/v1/auth/staff-login", json={"phone": "13900000099", "password": "secret-pass"})
    assert login_res.status_code == 200
    bad = client.post("/api/v1/staff/members", headers=manager, json={**body, "phone": "13900000098",
                                                                       "department": "security", "password": "short"})
    assert set(bad.get_json()["error"]["fields"]) == {"department", "password"}
    assert client.post("/api/v1/staff/members", headers=login("demo-reception"),
                       json={**body, "phone": "13900000097"}).status_code == 403


def test_other_community_staff_are_invisible(app, client, login, demo):
    other = login("other-manager")
    names = [s["name"] for s in client.get("/api/v1/staff/members", headers=other).get_json()]
    assert names == ["外小区经理"]
    with app.app_context():
        demo_worker = db.session.query(Staff).filter_by(mp_openid="demo-eng-1").one().id
    assert client.patch(f"/api/v1/staff/members/{demo_worker}", headers=other, json={"on_duty": False}).status_code == 404


def test_inactive_staff_lose_staff_access(app, client, login, demo):
    worker = login("demo-clean-1")
    with app.app_context():
        db.session.query(Staff).filter_by(mp_openid="demo-clean-1").update({"active": False})
        db.session.commit()
    res = client.get("/api/v1/staff/me", headers=worker)
    assert res.status_code == 403 and res.get_json()["error"]["code"] == "staff_inactive"
