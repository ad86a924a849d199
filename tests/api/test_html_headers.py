"""HTML the API serves (the printable service notice, receipts) carries a strict Content-Security-Policy and
anti-framing headers; the Swagger UI gets a policy of its own that lets it run; the admin page keeps its own."""
import base64
import hashlib
import re

from server.admin.blueprint import CSP as ADMIN_CSP
from tests.api.test_billing import live, pay, succeed, unpaid  # noqa: F401 - live is a fixture
from tests.workflow import book

PRINT_HASH = "'sha256-" + base64.b64encode(hashlib.sha256(b"window.print()").digest()).decode() + "'"
DOCUMENT_POLICY = {
    "default-src": {"'none'"}, "script-src": {"'unsafe-hashes'", PRINT_HASH}, "style-src": {"'unsafe-inline'"},
    "img-src": {"'self'", "data:"},
    "frame-ancestors": {"'none'"}, "base-uri": {"'none'"}, "form-action": {"'none'"},
}


def policy(header: str) -> dict[str, set[str]]:
    out = {}
    for directive in filter(None, (d.strip() for d in header.split(";"))):
        name, *values = directive.split()
        out[name] = set(values)
    return out


def assert_document_headers(res):
    assert res.status_code == 200 and res.mimetype == "text/html"
    assert policy(res.headers["Content-Security-Policy"]) == DOCUMENT_POLICY
    assert res.headers["X-Frame-Options"] == "DENY"
    assert res.headers["Referrer-Policy"] == "no-referrer"
    assert res.headers["X-Content-Type-Options"] == "nosniff"
    html = res.get_data(as_text=True)
    assert "<script" not in html  # no script element; the only handler is the print button's, allowed by hash
    assert set(re.findall(r'\son\w+="([^"]*)"', html)) <= {"window.print()"}


def test_the_service_notice(client, zhangsan, login):
    order = book(client, zhangsan.headers)
    assert_document_headers(client.get(f"/api/v1/staff/work-orders/{order['id']}/notice",
                                       headers=login("demo-reception")))


def test_the_receipts(app, client, zhangsan, login, sandbox, live):  # noqa: F811
    payment = pay(client, zhangsan.headers, [unpaid(client, zhangsan.headers)[0]["id"]])
    assert succeed(sandbox, payment).json()["status"] == 204
    assert_document_headers(client.get(f"/api/v1/payments/{payment['id']}/receipt", headers=zhangsan.headers))
    assert_document_headers(client.get(f"/api/v1/staff/payments/{payment['id']}/receipt",
                                       headers=login("demo-cashier")))


def test_json_is_left_alone(client):
    res = client.get("/api/v1/health")
    assert res.mimetype == "application/json" and "Content-Security-Policy" not in res.headers


def test_the_swagger_ui_has_a_policy_that_lets_it_run(client):
    res = client.get("/api/v1/docs")
    assert res.status_code == 200 and res.mimetype == "text/html"
    rules = policy(res.headers["Content-Security-Policy"])
    # Its own scripts and exactly its one inline script, by hash: no 'unsafe-inline' script.
    inline = re.findall(r"<script>(.*?)</script>", res.get_data(as_text=True), re.DOTALL)
    hashes = {f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in inline}
    assert inline and rules["script-src"] == {"'self'"} | hashes
    assert rules["default-src"] == {"'none'"} and rules["connect-src"] == {"'self'"}
    assert rules["frame-ancestors"] == {"'none'"} and rules["base-uri"] == {"'none'"}
    assert res.headers["X-Frame-Options"] == "DENY"


def test_the_admin_page_keeps_its_own_policy(client):
    res = client.get("/admin/login")
    assert res.status_code == 200
    assert res.headers["Content-Security-Policy"] == ADMIN_CSP
    assert res.headers["Referrer-Policy"] == "same-origin"
