"""Sign-in, tokens (expired, forged, revoked), staff login, rate limits."""
from datetime import timedelta

import pytest

from server.auth import tokens
from server.auth.models import AuthSession
from server.extensions import db
from server.proxies import parse_proxies
from server.timeutil import utcnow
from tests.conftest import bearer, test_config


def test_login_creates_owner_and_returns_token_without_session_key(client, sandbox, demo):
    res = client.post("/api/v1/auth/login", json={"code": "dev:new-owner"})
    body = res.get_json()
    assert res.status_code == 200
    assert set(body) == {"token", "expires_at", "user", "houses", "staff"}
    assert body["staff"] is None and body["houses"] == []
    assert "session_key" not in res.get_data(as_text=True)
    assert body["expires_at"].endswith("+08:00")
    me = client.get("/api/v1/me", headers=bearer(body["token"]))
    assert me.status_code == 200 and me.get_json()["user"]["id"] == body["user"]["id"]
    assert [c["path"] for c in sandbox.calls()] == ["/sns/jscode2session"]  # no token fetch for login


def test_second_login_is_the_same_owner(client, demo):
    first = client.post("/api/v1/auth/login", json={"code": "dev:same"}).get_json()
    second = client.post("/api/v1/auth/login", json={"code": "dev:same"}).get_json()
    assert first["user"]["id"] == second["user"]["id"]
    assert first["token"] != second["token"]


def test_staff_openid_logs_in_as_staff_too(client, demo):
    body = client.post("/api/v1/auth/login", json={"code": "dev:demo-eng-1"}).get_json()
    assert body["staff"]["name"] == "周师傅"
    assert body["staff"]["department"] == "engineering" and body["staff"]["department_label"] == "工程部"
    assert client.get("/api/v1/staff/me", headers=bearer(body["token"])).get_json()["role"] == "worker"


def test_invalid_code_is_a_clear_422(client, demo):
    res = client.post("/api/v1/auth/login", json={"code": "not-a-code"})
    assert res.status_code == 422
    err = res.get_json()["error"]
    assert err["code"] == "invalid_code" and "code" in err["fields"]


def test_wechat_down_is_502_not_500(client, sandbox, demo):
    sandbox.fault(kind="http_500", count=5, path="/sns/jscode2session")
    res = client.post("/api/v1/auth/login", json={"code": "dev:someone"})
    assert res.status_code == 502
    assert res.get_json()["error"]["code"] == "upstream_error"


def test_login_input_errors(client, demo):
    assert client.post("/api/v1/auth/login", json={}).get_json()["error"]["fields"] == {"code": ["必填"]}
    assert client.post("/api/v1/auth/login", json={"code": 5}).status_code == 422
    res = client.post("/api/v1/auth/login", json={"code": "x" * 129})
    assert res.get_json()["error"]["fields"]["code"] == ["长度不能超过 128"]
    assert client.post("/api/v1/auth/login", json={"code": ""}).get_json()["error"]["fields"] == {"code": ["必填"]}
    res = client.post("/api/v1/auth/login", data="{not json", content_type="application/json")
    assert res.status_code == 400 and res.get_json()["error"]["code"] == "bad_request"
    res = client.post("/api/v1/auth/login", json={"code": "dev:x", "price": 1})
    assert res.get_json()["error"]["fields"] == {"price": ["不支持的字段"]}


def test_missing_forged_expired_and_revoked_tokens(app, client, login):
    assert client.get("/api/v1/me").get_json()["error"]["code"] == "token_missing"
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401
    forged = tokens.sign("another-secret", "deadbeef" * 4)
    res = client.get("/api/v1/me", headers=bearer(forged))
    assert res.status_code == 401 and res.get_json()["error"]["code"] == "token_invalid"

    headers = login("owner-x")
    with app.app_context():
        session = db.session.query(AuthSession).one()
        session.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert client.get("/api/v1/me", headers=headers).get_json()["error"]["code"] == "token_expired"

    headers = login("owner-y")
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    res = client.get("/api/v1/me", headers=headers)
    assert res.status_code == 401 and res.get_json()["error"]["code"] == "token_revoked"


def test_staff_password_login(client, demo):
    res = client.post("/api/v1/auth/staff-login", json={"phone": "13900000003", "password": "demo12345"})
    assert res.status_code == 200
    token = res.get_json()["token"]
    assert client.get("/api/v1/staff/me", headers=bearer(token)).get_json()["name"] == "王建国"
    # A password session is staff-only: owner endpoints refuse it.
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 403
    bad = client.post("/api/v1/auth/staff-login", json={"phone": "13900000003", "password": "wrong"})
    assert bad.status_code == 401 and bad.get_json()["error"]["message"] == "手机号或密码错误"
    assert client.post("/api/v1/auth/staff-login", json={"phone": "123", "password": "x"}).status_code == 422


def test_login_rate_limited_per_ip_and_per_openid(app, client, demo, monkeypatch):
    monkeypatch.setitem(app.config, "RATE_LOGIN_OPENID", (2, 60))
    for _ in range(2):
        assert client.post("/api/v1/auth/login", json={"code": "dev:busy"}).status_code == 200
    res = client.post("/api/v1/auth/login", json={"code": "dev:busy"})
    assert res.status_code == 429 and int(res.headers["Retry-After"]) > 0
    assert res.get_json()["error"]["code"] == "rate_limited"
    assert client.post("/api/v1/auth/login", json={"code": "dev:calm"}).status_code == 200

    monkeypatch.setitem(app.config, "RATE_LOGIN_IP", (1, 60))
    other_ip = {"REMOTE_ADDR": "127.0.0.9"}
    assert client.post("/api/v1/auth/login", json={"code": "dev:a1"}, environ_base=other_ip).status_code == 200
    assert client.post("/api/v1/auth/login", json={"code": "dev:a2"}, environ_base=other_ip).status_code == 429


# -- the client's address behind proxies --------------------------------------------------------------------------

@pytest.fixture
def app_with(app, sandbox_server):
    """Another app on the same database and Redis, with settings of the test's choosing; TRUSTED_PROXIES is
    the default of the settings list unless given."""
    from server.app import create_app

    made = []

    def make(**overrides):
        cfg = test_config(sandbox_server.base, **overrides)
        if "TRUSTED_PROXIES" not in overrides:
            del cfg["TRUSTED_PROXIES"]
        made.append(create_app(cfg))
        return made[-1]

    yield make
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def wrong_passwords(client, n, peer, forwarded_for=lambda i: None):
    """n wrong staff passwords, each for a different (unknown) phone so no account lock-out steps in, from
    the peer address `peer`, with X-Forwarded-For headers of the caller's choosing."""
    statuses = []
    for i in range(n):
        headers = {"X-Forwarded-For": forwarded_for(i)} if forwarded_for(i) else {}
        res = client.post("/api/v1/auth/staff-login", json={"phone": f"1370000{i:04d}", "password": "wrong"},
                          headers=headers, environ_base={"REMOTE_ADDR": peer})
        statuses.append(res.status_code)
    return statuses


def test_spoofed_forwarded_for_from_a_client_is_ignored(app_with, demo):
    """With the default settings, a client talking to us directly cannot pick its address for the rate limit
    by sending X-Forwarded-For: 40 wrong passwords with 40 different headers hit the per-IP limit (20)."""
    client = app_with().test_client()
    statuses = wrong_passwords(client, 40, "203.0.113.7", lambda i: f"198.51.100.{i}, 192.0.2.{i}")
    assert statuses[:20] == [401] * 20 and statuses[20:] == [429] * 20


def test_no_trusted_proxies_means_the_peer_is_the_client(app_with, demo):
    client = app_with(TRUSTED_PROXIES=parse_proxies("")).test_client()
    assert wrong_passwords(client, 21, "127.0.0.1", lambda i: f"198.51.100.{i}")[-1] == 429


def test_forwarded_for_from_a_trusted_proxy_is_the_client(app_with, demo):
    client = app_with(TRUSTED_PROXIES=parse_proxies("127.0.0.1,10.0.0.0/8")).test_client()
    # Through nginx on 10.1.2.3: every owner is counted on their own address, not the proxy's.
    assert wrong_passwords(client, 40, "10.1.2.3", lambda i: f"198.51.100.{i}") == [401] * 40
    # Walking back through trusted hops only: what the client wrote itself (left of the first untrusted
    # address) never counts, so one client with a new forged prefix each time is still one client.
    statuses = wrong_passwords(client, 21, "10.1.2.3", lambda i: f"192.0.2.{i}, 198.51.100.200, 10.9.9.9")
    assert statuses[-1] == 429 and statuses[:20] == [401] * 20


def test_the_client_address_is_stored_with_the_session(app_with, demo):
    client = app_with(TRUSTED_PROXIES=parse_proxies("10.0.0.0/8")).test_client()
    res = client.post("/api/v1/auth/login", json={"code": "dev:behind-proxy"},
                      headers={"X-Forwarded-For": "1.2.3.4, 198.51.100.20"}, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert res.status_code == 200
    with app_with().app_context():
        assert db.session.query(AuthSession).one().ip == "198.51.100.20"
