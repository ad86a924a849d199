"""The OpenAPI spec and the API agree, whatever is sent: Schemathesis generates requests from the spec for
every operation, as an owner and as a manager, against the app over HTTP; each answer must be no server
error and match the schema documented for its status. A bounded number of examples keeps `make test`
reasonable; WUYE_SCHEMATHESIS_EXAMPLES=100 is the deeper search."""
from __future__ import annotations

import os
import threading

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from werkzeug.serving import make_server

from server.app import create_app
from tests.conftest import free_port, test_config

EXAMPLES = int(os.environ.get("WUYE_SCHEMATHESIS_EXAMPLES", "4"))
# The payment notification is WeChat Pay's, signed with its key: generated bodies can only be refused, and
# are (tests/sandbox/test_pay.py and tests/api/test_billing.py try it properly).
SKIP = {("POST", "/api/v1/pay/notify")}
CHECKS = [not_a_server_error, response_schema_conformance]


def _spec() -> dict:
    # The spec only: an app that is never asked to reach a database or WeChat.
    return create_app(test_config("http://127.0.0.1:9/")).test_client().get("/api/v1/openapi.json").get_json()


schema = schemathesis.openapi.from_dict(_spec())
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


@pytest.fixture
def live(app, monkeypatch):
    # Hundreds of sign-ins from one address in a minute are this test, not an attack.
    for name in ("RATE_LOGIN_IP", "RATE_LOGIN_OPENID", "RATE_STAFF_LOGIN_IP", "RATE_BIND_IP", "RATE_BIND_OWNER",
                 "RATE_UPLOADS", "RATE_URGE"):
        monkeypatch.setitem(app.config, name, (100000, 60))
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


def _call(case, base: str, headers: dict) -> None:
    if (case.method, case.path) in SKIP:
        pytest.skip("signed by WeChat Pay")
    case.call_and_validate(base_url=base, headers=headers, checks=CHECKS)


@schema.parametrize()
@SETTINGS
def test_as_an_owner_the_api_answers_what_its_spec_says(case, live, zhangsan):
    _call(case, live, zhangsan.headers)


@schema.parametrize()
@SETTINGS
def test_as_a_manager_the_api_answers_what_its_spec_says(case, live, login, demo):
    _call(case, live, login("demo-manager"))
