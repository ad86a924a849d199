"""The consent ledger: templates listed, credits recorded, unknown templates refused."""
from server.wechat.templates import SUBSCRIBE


def test_lists_every_template_with_credits(client, login, demo):
    owner = login("o-sub")
    subs = client.get("/api/v1/me/subscriptions", headers=owner).get_json()
    assert subs[0] == {"key": "binding_result", "template_id": "tpl-binding-result", "title": "房屋绑定审核结果",
                       "credits": 0}
    assert {s["key"] for s in subs} == set(SUBSCRIBE) >= {"binding_result", "order_status", "complaint_reply"}


def test_each_accept_adds_one_credit(client, login, demo):
    owner = login("o-sub")
    for expected in (1, 2):
        res = client.post("/api/v1/me/subscriptions", headers=owner, json={"accepted": ["tpl-binding-result"]})
        assert res.status_code == 200 and res.get_json()[0]["credits"] == expected
    # Credits are per owner.
    assert client.get("/api/v1/me/subscriptions", headers=login("o-other")).get_json()[0]["credits"] == 0


def test_template_ids_come_from_config(app, client, login, demo, monkeypatch):
    monkeypatch.setitem(app.config, "SUBSCRIBE_TEMPLATES", {"binding_result": "RealConsoleId123"})
    owner = login("o-sub")
    assert client.get("/api/v1/me/subscriptions", headers=owner).get_json()[0]["template_id"] == "RealConsoleId123"
    assert client.post("/api/v1/me/subscriptions", headers=owner,
                       json={"accepted": ["tpl-binding-result"]}).status_code == 422


def test_bad_consent_input(client, login, demo):
    owner = login("o-sub")
    res = client.post("/api/v1/me/subscriptions", headers=owner, json={"accepted": ["nope"]})
    assert res.status_code == 422 and res.get_json()["error"]["fields"] == {"accepted": ["未知的模板：nope"]}
    assert client.post("/api/v1/me/subscriptions", headers=owner, json={"accepted": "tpl"}).status_code == 422
    assert client.post("/api/v1/me/subscriptions", headers=owner, json={"accepted": ["x"] * 21}).status_code == 422
    assert client.get("/api/v1/me/subscriptions", headers=owner).get_json()[0]["credits"] == 0
    assert client.get("/api/v1/me/subscriptions").status_code == 401
