"""Error envelope, health, OpenAPI, request ids, message audit."""
import pytest
from flask import Blueprint

from server.extensions import db
from server.wechat.models import Message
from tests.conftest import test_config


def test_unknown_path_and_method_use_the_envelope(client):
    res = client.get("/api/v1/nope")
    assert res.status_code == 404
    assert res.get_json()["error"]["code"] == "not_found" and res.get_json()["error"]["message"]
    res = client.delete("/api/v1/health")
    assert res.status_code == 405 and res.get_json()["error"]["code"] == "method_not_allowed"


def test_too_large_body_is_413(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 100)
    res = client.post("/api/v1/auth/login", data="x" * 1000, content_type="application/json")
    assert res.status_code == 413 and res.get_json()["error"]["code"] == "payload_too_large"


def test_unexpected_errors_are_500_without_a_trace(sandbox_server):
    from server.app import create_app

    app = create_app(test_config(sandbox_server.base))
    boom = Blueprint("boom", __name__)

    @boom.get("/boom")
    def explode():
        raise RuntimeError("secret internals")

    app.register_blueprint(boom)
    res = app.test_client().get("/boom", headers={"X-Request-ID": "trace-me-1"})
    assert res.status_code == 500
    body = res.get_json()["error"]
    assert body == {"code": "internal_error", "message": "服务器出错了，请稍后再试", "request_id": "trace-me-1"}
    assert "secret internals" not in res.get_data(as_text=True)


@pytest.fixture
def app_log():
    """What the app's log handler writes (the web log), for the length of the test."""
    import io
    import logging

    from server.logs import configure_logging

    configure_logging("INFO")  # (again: running the migrations replaced the root logger's handlers)
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "_wuye", False))
    out = io.StringIO()
    previous = handler.setStream(out)
    yield out
    handler.setStream(previous)


PHONE, NAME = "13812345678", "欧阳娜娜"


def test_errors_are_logged_without_personal_data(app, sandbox_server, app_log):
    """A 500 is logged with its type and where it happened, never with what the exception says (names,
    phone numbers) or the SQL parameters of a failed statement; nor a 409 from the database."""
    from sqlalchemy import text

    from server.accounts.models import Community, Staff
    from server.app import create_app

    other = create_app(test_config(sandbox_server.base))
    boom = Blueprint("boom", __name__)

    @boom.get("/boom")
    def explode():
        raise LookupError(f"owner {NAME} ({PHONE}) has no house")

    @boom.get("/boom-sql")
    def explode_in_sql():
        db.session.execute(text("SELECT CAST(:phone AS date)"), {"phone": f"{PHONE} {NAME}"})  # our bug: a 500

    @boom.get("/boom-twice")
    def same_phone_twice():
        community = Community(code="log-test", name="日志小区")
        db.session.add(community)
        db.session.flush()
        for _ in range(2):
            db.session.add(Staff(community_id=community.id, name=NAME, phone=PHONE, department="service_center",
                                 role="receptionist"))
        db.session.flush()

    other.register_blueprint(boom)
    client = other.test_client()
    assert client.get("/boom", headers={"X-Request-ID": "pii-1"}).status_code == 500
    assert client.get("/boom-sql", headers={"X-Request-ID": "pii-2"}).status_code == 500
    assert client.get("/boom-twice", headers={"X-Request-ID": "pii-3"}).status_code == 409
    with other.app_context():
        db.session.remove()
        db.engine.dispose()
    logged = app_log.getvalue()
    assert PHONE not in logged and NAME not in logged, logged
    # What happened, and where, is still there to debug with.
    assert "[pii-1]" in logged and "LookupError" in logged and "in explode" in logged
    assert "[pii-2]" in logged and "DataError" in logged and "in explode_in_sql" in logged
    assert "[pii-3]" in logged and "UniqueViolation" in logged and "uq_staff_phone" in logged


def test_health_reports_database_and_redis(client):
    body = client.get("/api/v1/health").get_json()
    assert body["status"] == "ok" and body["database"]["ok"] and body["redis"]["ok"]


def test_health_with_redis_down_is_degraded(sandbox_server):
    from server.app import create_app

    app = create_app(test_config(sandbox_server.base, REDIS_URL="redis://127.0.0.1:1/0"))
    res = app.test_client().get("/api/v1/health")
    assert res.status_code == 200
    assert res.get_json()["status"] == "degraded" and res.get_json()["redis"] == {"ok": False, "error": "ConnectionError"}


def test_health_with_database_down_is_503(sandbox_server):
    from server.app import create_app

    app = create_app(test_config(sandbox_server.base,
                                 DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:1/none"))
    res = app.test_client().get("/api/v1/health")
    assert res.status_code == 503 and res.get_json()["status"] == "down"


def test_request_id_is_echoed_or_made(client):
    assert client.get("/api/v1/health", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    made = client.get("/api/v1/health", headers={"X-Request-ID": "bad id with spaces"}).headers["X-Request-ID"]
    assert made and " " not in made


def test_openapi_documents_every_endpoint(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("static", "swagger_assets") or rule.endpoint.startswith("api-docs.") \
                or not rule.rule.startswith("/api/"):  # the admin page's HTML is not part of the API
            continue
        path = rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method) in documented, f"{method} {path} missing from OpenAPI"
    login = spec["paths"]["/api/v1/auth/login"]["post"]
    assert "LoginIn" in str(login["requestBody"]) and "LoginOut" in str(login["responses"]["200"])
    assert "bearerAuth" in spec["components"]["securitySchemes"]


def test_docs_ui_is_served_offline(client):
    assert client.get("/api/v1/docs").status_code == 200
    assert client.get("/api/v1/docs/assets/swagger-ui-bundle.js").status_code == 200


def test_message_audit_is_for_the_managers_own_community(app, client, login, demo):
    with app.app_context():
        from server.accounts.models import Community

        demo_id = db.session.query(Community).filter_by(code="demo").one().id
        other_id = db.session.query(Community).filter_by(code="other").one().id
        for community_id, status in ((demo_id, "sent"), (demo_id, "failed"), (other_id, "sent")):
            db.session.add(Message(kind="subscribe", community_id=community_id, template_key="binding_result",
                                   template_id="t", status=status, payload={}))
        db.session.commit()
    page = client.get("/api/v1/staff/messages?status=failed", headers=login("demo-manager")).get_json()
    assert page["total"] == 1 and page["items"][0]["status_label"] == "发送失败"
    assert client.get("/api/v1/staff/messages", headers=login("demo-manager")).get_json()["total"] == 2
    assert client.get("/api/v1/staff/messages", headers=login("demo-reception")).status_code == 403


@pytest.mark.parametrize("args", ["page=0", "per_page=101", "status=weird"])
def test_bad_query_args(client, login, demo, args):
    res = client.get(f"/api/v1/staff/messages?{args}", headers=login("demo-manager"))
    assert res.status_code == 422 and res.get_json()["error"]["fields"]
