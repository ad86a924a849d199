"""Tests of the WeChat sandbox (server.sandbox): wire formats, rules, faults and control endpoints."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask, request
from flask.testing import FlaskClient
from wechatpy import parse_message
from wechatpy.client import WeChatClient
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature
from werkzeug.serving import make_server

from server.sandbox import create_sandbox_app
from server.sandbox.state import SandboxState

MP_APPID, MP_SECRET = "wx-test-mp", "test-mp-secret"
OA_APPID, OA_SECRET = "wx-test-oa", "test-oa-secret"
OA_TOKEN = "test-oa-token"
CONFIG = {
    "SANDBOX_APPS": f"{MP_APPID}:{MP_SECRET},{OA_APPID}:{OA_SECRET}",
    "SANDBOX_OA_TOKEN": OA_TOKEN,
    # Nothing listens here: tests that push events pass their own callback_url.
    "SANDBOX_OA_CALLBACK_URL": "http://127.0.0.1:9/unused",
    "SANDBOX_TOKEN_TTL": 7200,
}
SUBSCRIBE_PATH = "/cgi-bin/message/subscribe/send"
TEMPLATE_PATH = "/cgi-bin/message/template/send"
REPO_ROOT = Path(__file__).resolve().parents[2]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def sandbox_app() -> Flask:
    return create_sandbox_app(CONFIG)


@pytest.fixture
def client(sandbox_app: Flask) -> FlaskClient:
    return sandbox_app.test_client()


@pytest.fixture
def clock(sandbox_app: Flask) -> FakeClock:
    fake = FakeClock()
    sandbox_app.extensions["sandbox"].clock = fake
    return fake


def stable_token(
    client: FlaskClient, appid: str = MP_APPID, secret: str = MP_SECRET, force_refresh: bool = False
) -> dict[str, Any]:
    body = {"grant_type": "client_credential", "appid": appid, "secret": secret}
    return client.post("/cgi-bin/stable_token", json={**body, "force_refresh": force_refresh}).get_json()


def plain_token(client: FlaskClient, appid: str = MP_APPID, secret: str = MP_SECRET) -> dict[str, Any]:
    query = {"grant_type": "client_credential", "appid": appid, "secret": secret}
    return client.get("/cgi-bin/token", query_string=query).get_json()


def login(client: FlaskClient, code: str, appid: str = MP_APPID, secret: str = MP_SECRET) -> dict[str, Any]:
    query = {"appid": appid, "secret": secret, "js_code": code, "grant_type": "authorization_code"}
    return client.get("/sns/jscode2session", query_string=query).get_json()


def send_subscribe(
    client: FlaskClient,
    token: str,
    data: dict[str, Any],
    touser: str = "o-owner-1",
    template_id: str = "TPL-1",
) -> dict[str, Any]:
    body = {"touser": touser, "template_id": template_id, "page": "pages/index/index", "data": data}
    return client.post(f"{SUBSCRIBE_PATH}?access_token={token}", json=body).get_json()


def send_template(client: FlaskClient, token: str, **body: Any) -> dict[str, Any]:
    body = {"touser": "oa-owner-1", "template_id": "OA-TPL", "data": {"thing1": {"value": "报修"}}, **body}
    return client.post(f"{TEMPLATE_PATH}?access_token={token}", json=body).get_json()


def add_fault(client: FlaskClient, **fault: Any) -> dict[str, Any]:
    response = client.post("/sandbox/faults", json=fault)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def mp_token(client: FlaskClient) -> str:
    return stable_token(client)["access_token"]


def oa_token(client: FlaskClient) -> str:
    return stable_token(client, OA_APPID, OA_SECRET)["access_token"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- login -------------------------------------------------------------------


def test_dev_login_code_yields_openid_and_can_be_reused(client: FlaskClient) -> None:
    first = login(client, "dev:owner-001")
    assert first["openid"] == "owner-001"
    assert first["unionid"] == "union-owner-001"
    assert "errcode" not in first
    assert len(base64.b64decode(first["session_key"])) == 16
    second = login(client, "dev:owner-001")
    assert second["openid"] == "owner-001"


@pytest.mark.parametrize("code", ["owner-001", "dev:", "DEV:owner", "dev"])
def test_other_login_codes_are_invalid(client: FlaskClient, code: str) -> None:
    assert login(client, code) == {"errcode": 40029, "errmsg": "invalid code"}


def test_login_checks_app_credentials(client: FlaskClient) -> None:
    assert login(client, "dev:x", appid="wx-unknown") == {"errcode": 40013, "errmsg": "invalid appid"}
    assert login(client, "dev:x", secret="wrong") == {"errcode": 40125, "errmsg": "invalid appsecret"}
    assert login(client, "dev:x", appid="")["errcode"] == 41002


def test_default_apps_come_from_the_documented_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SANDBOX_APPS", raising=False)
    client = create_sandbox_app().test_client()
    assert login(client, "dev:a", "wx-demo-mp", "demo-mp-secret")["openid"] == "a"
    assert "access_token" in stable_token(client, "wx-demo-oa", "demo-oa-secret")


def test_environment_configures_apps_and_config_overrides_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOX_APPS", "wx-env:env-secret")
    assert login(create_sandbox_app().test_client(), "dev:a", "wx-env", "env-secret")["openid"] == "a"
    client = create_sandbox_app({"SANDBOX_APPS": "wx-cfg:cfg-secret"}).test_client()
    assert login(client, "dev:a", "wx-env", "env-secret")["errcode"] == 40013
    assert login(client, "dev:a", "wx-cfg", "cfg-secret")["openid"] == "a"


# -- access tokens -----------------------------------------------------------


def test_stable_token_normal_mode_returns_the_same_token_with_remaining_life(
    client: FlaskClient, clock: FakeClock
) -> None:
    first = stable_token(client)
    assert first["expires_in"] == 7200
    assert len(first["access_token"]) >= 32
    clock.advance(1000)
    second = stable_token(client)
    assert second == {"access_token": first["access_token"], "expires_in": 6200}


def test_stable_token_force_refresh_rotates_and_invalidates_the_previous_one(client: FlaskClient) -> None:
    old = mp_token(client)
    new = stable_token(client, force_refresh=True)
    assert new["access_token"] != old
    assert new["expires_in"] == 7200
    assert send_subscribe(client, old, {"thing1": {"value": "x"}})["errcode"] == 40001
    assert send_subscribe(client, new["access_token"], {"thing1": {"value": "x"}})["errcode"] == 0
    assert stable_token(client)["access_token"] == new["access_token"]


def test_expired_stable_token_answers_42001_and_normal_mode_issues_a_new_one(
    client: FlaskClient, clock: FakeClock
) -> None:
    old = mp_token(client)
    clock.advance(7200)
    assert send_subscribe(client, old, {"thing1": {"value": "x"}}) == {
        "errcode": 42001,
        "errmsg": "access_token expired",
    }
    renewed = stable_token(client)
    assert renewed["access_token"] != old and renewed["expires_in"] == 7200


def test_plain_token_rotation_invalidates_only_the_previous_plain_token(client: FlaskClient) -> None:
    stable = mp_token(client)
    first = plain_token(client)
    assert first["expires_in"] == 7200
    second = plain_token(client)
    assert second["access_token"] != first["access_token"]
    data = {"thing1": {"value": "x"}}
    assert send_subscribe(client, first["access_token"], data)["errcode"] == 40001
    assert send_subscribe(client, second["access_token"], data)["errcode"] == 0
    # Plain and stable tokens live side by side.
    assert send_subscribe(client, stable, data)["errcode"] == 0
    stable_token(client, force_refresh=True)
    assert send_subscribe(client, second["access_token"], data)["errcode"] == 0


def test_missing_unknown_token_answers(client: FlaskClient) -> None:
    data = {"thing1": {"value": "x"}}
    assert send_subscribe(client, "not-a-token", data) == {
        "errcode": 40001,
        "errmsg": "invalid credential, access_token is invalid or not latest",
    }
    answer = client.post(SUBSCRIBE_PATH, json={"touser": "o", "template_id": "t", "data": data}).get_json()
    assert answer["errcode"] == 41001


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        ({"grant_type": "client_credential", "appid": "wx-nope", "secret": MP_SECRET}, 40013),
        ({"grant_type": "client_credential", "appid": MP_APPID, "secret": "bad"}, 40125),
        ({"grant_type": "client_credential", "secret": MP_SECRET}, 41002),
        ({"grant_type": "client_credential", "appid": MP_APPID}, 41004),
        ({"appid": MP_APPID, "secret": MP_SECRET}, 40002),
        (
            {"grant_type": "client_credential", "appid": MP_APPID, "secret": MP_SECRET, "force_refresh": "yes"},
            40097,
        ),
    ],
)
def test_stable_token_request_errors(client: FlaskClient, body: dict[str, Any], errcode: int) -> None:
    assert client.post("/cgi-bin/stable_token", json=body).get_json()["errcode"] == errcode


def test_plain_token_checks_credentials(client: FlaskClient) -> None:
    assert plain_token(client, secret="bad") == {"errcode": 40125, "errmsg": "invalid appsecret"}
    assert plain_token(client, appid="wx-nope") == {"errcode": 40013, "errmsg": "invalid appid"}


def test_invalidate_revokes_current_tokens(client: FlaskClient) -> None:
    stable, plain = mp_token(client), plain_token(client)["access_token"]
    other_app = oa_token(client)
    assert client.post("/sandbox/tokens/invalidate", json={"appid": MP_APPID}).status_code == 204
    data = {"thing1": {"value": "x"}}
    assert send_subscribe(client, stable, data)["errcode"] == 40001
    assert send_subscribe(client, plain, data)["errcode"] == 40001
    assert send_subscribe(client, other_app, data)["errcode"] == 0
    fresh = stable_token(client)["access_token"]
    assert fresh != stable and send_subscribe(client, fresh, data)["errcode"] == 0
    assert client.post("/sandbox/tokens/invalidate", json={"appid": "wx-nope"}).status_code == 400


# -- phone number ------------------------------------------------------------


def test_phone_number_code(client: FlaskClient) -> None:
    token = mp_token(client)
    url = f"/wxa/business/getuserphonenumber?access_token={token}"
    answer = client.post(url, json={"code": "dev:13800138000"}).get_json()
    assert answer["errcode"] == 0 and answer["errmsg"] == "ok"
    info = answer["phone_info"]
    assert info["phoneNumber"] == info["purePhoneNumber"] == "13800138000"
    assert info["countryCode"] == "86"
    assert info["watermark"]["appid"] == MP_APPID
    assert isinstance(info["watermark"]["timestamp"], int)
    invalid = client.post(url, json={"code": "13800138000"}).get_json()
    assert invalid == {"errcode": 40029, "errmsg": "invalid code"}
    assert client.post(url, json={"code": "dev:"}).get_json()["errcode"] == 40029
    missing_token = client.post("/wxa/business/getuserphonenumber", json={"code": "dev:1"}).get_json()
    assert missing_token["errcode"] == 41001


# -- subscribe messages ------------------------------------------------------

VALUE_CASES = [
    ("thing1", "一" * 20, True),
    ("thing1", "一" * 21, False),
    ("thing1", "a" * 20, True),
    ("thing1", "", False),
    ("thing1", "   ", False),
    ("character_string2", "A-1024_x#", True),
    ("character_string2", "x" * 32, True),
    ("character_string2", "x" * 33, False),
    ("character_string2", "编号1", False),
    ("number3", "42", True),
    ("number3", "-3.14", True),
    ("number3", "1" * 32, True),
    ("number3", "1" * 33, False),
    ("number3", "12a", False),
    ("number3", "1.2.3", False),
    ("number3", "１２", False),  # full-width digits
    ("letter4", "abcXYZ", True),
    ("letter4", "a" * 33, False),
    ("letter4", "ab1", False),
    ("symbol5", "%", True),
    ("symbol5", "+-*/=", True),
    ("symbol5", "+-*/=!", False),
    ("phrase6", "已受理", True),
    ("phrase6", "处理中处理", True),
    ("phrase6", "处理中处理完", False),
    ("phrase6", "OK", False),
    ("phrase6", "已处理1", False),
    ("name7", "张三", True),
    ("name7", "欧阳" * 5, True),
    ("name7", "欧阳" * 5 + "娜", False),
    ("name7", "Li Lei", True),
    ("name7", "a" * 20, True),
    ("name7", "a" * 21, False),
    ("name7", "Li_Lei", False),
    ("phone_number8", "+86-138 0013 8000", True),
    ("phone_number8", "1" * 18, False),
    ("phone_number8", "138x", False),
    ("car_number9", "粤B12345", True),
    ("car_number9", "粤B123456", True),
    ("car_number9", "粤B1234567", False),
    ("amount10", "12.50元", True),
    ("amount10", "100", True),
    ("amount10", "¥100.5", True),
    ("amount10", "12345678901", True),
    ("amount10", "123456789012", False),
    ("amount10", "1.005", False),
    ("amount10", "元", False),
    ("amount10", "-5", False),
    ("time11", "2024-05-01 09:30", True),
    ("time11", "2024-05-01 09:30:15", True),
    ("time11", "2024年5月1日 09:30", True),
    ("time11", "09:30", True),
    ("time11", "2024-05-01", True),
    ("time11", "2024-05-01 09:00~11:00", True),
    ("time11", "2024-05-01 9:30", False),
    ("time11", "2024-5-1 09:30", False),
    ("time11", "2024-02-30 09:30", False),
    ("time11", "25:00", False),
    ("time11", "tomorrow", False),
    ("date12", "2024-05-01", True),
    ("date12", "2024年5月1日", True),
    ("date12", "2024-05-01 09:30", True),
    ("date12", "09:30", False),
    ("date12", "2024/05/01", False),
    ("date12", "2023-02-29", False),
    ("mystery13", "a" * 20, True),
    ("mystery13", "a" * 21, False),
    ("mystery13", "", False),
]


@pytest.mark.parametrize(("key", "value", "valid"), VALUE_CASES)
def test_subscribe_value_rules(client: FlaskClient, key: str, value: str, valid: bool) -> None:
    answer = send_subscribe(client, mp_token(client), {"thing99": {"value": "ok"}, key: {"value": value}})
    stored = client.get("/sandbox/messages").get_json()
    if valid:
        assert answer["errcode"] == 0, answer
        assert stored[0]["data"][key] == {"value": value}
    else:
        assert answer == {"errcode": 47003, "errmsg": f"argument invalid! data.{key}.value invalid"}
        assert stored == []


def test_subscribe_values_must_be_strings(client: FlaskClient) -> None:
    token = mp_token(client)
    assert send_subscribe(client, token, {"number1": {"value": 42}})["errcode"] == 47003
    assert send_subscribe(client, token, {"thing1": "flat"})["errcode"] == 47003


@pytest.mark.parametrize("missing", ["touser", "template_id", "data"])
def test_subscribe_requires_touser_template_and_data(client: FlaskClient, missing: str) -> None:
    body = {"touser": "o-1", "template_id": "T", "data": {"thing1": {"value": "x"}}}
    del body[missing]
    answer = client.post(f"{SUBSCRIBE_PATH}?access_token={mp_token(client)}", json=body).get_json()
    assert answer == {"errcode": 47001, "errmsg": "data format error"}


def test_non_json_body_is_a_data_format_error(client: FlaskClient) -> None:
    answer = client.post(f"{SUBSCRIBE_PATH}?access_token={mp_token(client)}", data=b"not json").get_json()
    assert answer["errcode"] == 47001


def test_subscribe_message_is_stored_like_wechat_received_it(client: FlaskClient) -> None:
    token = mp_token(client)
    # wechatpy posts UTF-8 JSON bytes without a JSON content type; the sandbox must still read them.
    raw = json.dumps(
        {"touser": "o-1", "template_id": "T", "page": "pages/a", "data": {"thing1": {"value": "水管漏水"}},
         "miniprogram_state": "trial", "lang": "zh_CN"},
        ensure_ascii=False,
    ).encode()
    answer = client.post(f"{SUBSCRIBE_PATH}?access_token={token}", data=raw).get_json()
    assert answer["errcode"] == 0 and answer["errmsg"] == "ok" and isinstance(answer["msgid"], int)
    [message] = client.get("/sandbox/messages").get_json()
    assert message["kind"] == "subscribe"
    assert message["touser"] == "o-1" and message["template_id"] == "T" and message["page"] == "pages/a"
    assert message["data"] == {"thing1": {"value": "水管漏水"}}
    assert message["miniprogram"] is None
    assert message["msgid"] == answer["msgid"]
    assert message["received_at"].endswith("Z") and "." in message["received_at"]


def test_subscribe_rejects_unknown_miniprogram_state(client: FlaskClient) -> None:
    body = {"touser": "o-1", "template_id": "T", "data": {"thing1": {"value": "x"}}}
    body["miniprogram_state"] = "beta"
    answer = client.post(f"{SUBSCRIBE_PATH}?access_token={mp_token(client)}", json=body).get_json()
    assert answer["errcode"] == 47003


# -- template messages -------------------------------------------------------


def test_template_values_are_cut_to_20_characters(client: FlaskClient) -> None:
    long_value = "您的报修单已受理，维修师傅将于明天上午上门处理，请保持电话畅通"
    answer = send_template(
        client,
        oa_token(client),
        data={"thing1": {"value": long_value, "color": "#173177"}, "time2": {"value": "2024-05-01 09:30"}},
        miniprogram={"appid": MP_APPID, "pagepath": "pages/repair/detail?id=7"},
        url="https://example.invalid/fallback",
    )
    assert answer["errcode"] == 0 and isinstance(answer["msgid"], int)
    [message] = client.get("/sandbox/messages").get_json()
    assert message["kind"] == "template"
    assert message["data"]["thing1"] == {"value": long_value[:20], "color": "#173177"}
    assert message["data"]["time2"] == {"value": "2024-05-01 09:30"}
    assert message["page"] == "pages/repair/detail?id=7"
    assert message["miniprogram"] == {"appid": MP_APPID, "pagepath": "pages/repair/detail?id=7"}


def test_template_page_falls_back_to_url_then_null(client: FlaskClient) -> None:
    token = oa_token(client)
    send_template(client, token, url="https://example.invalid/a")
    send_template(client, token)
    first, second = client.get("/sandbox/messages").get_json()
    assert first["page"] == "https://example.invalid/a" and first["miniprogram"] is None
    assert second["page"] is None


def test_template_client_msg_id_is_deduplicated(client: FlaskClient) -> None:
    token = oa_token(client)
    first = send_template(client, token, client_msg_id="notice-7")
    again = send_template(client, token, client_msg_id="notice-7")
    other = send_template(client, token, client_msg_id="notice-8")
    assert again == {"errcode": 0, "errmsg": "ok", "msgid": first["msgid"]}
    assert other["msgid"] != first["msgid"]
    assert len(client.get("/sandbox/messages").get_json()) == 2


@pytest.mark.parametrize("missing", ["touser", "template_id"])
def test_template_requires_touser_and_template_id(client: FlaskClient, missing: str) -> None:
    body = {"touser": "oa-1", "template_id": "T", "data": {}}
    del body[missing]
    answer = client.post(f"{TEMPLATE_PATH}?access_token={oa_token(client)}", json=body).get_json()
    assert answer == {"errcode": 47001, "errmsg": "data format error"}


# -- faults ------------------------------------------------------------------


def test_fault_count_is_consumed_then_calls_succeed(client: FlaskClient) -> None:
    token = mp_token(client)
    fault = add_fault(client, kind="errcode", errcode=45009, count=2, path=SUBSCRIBE_PATH)
    assert fault["remaining"] == 2 and fault["path"] == SUBSCRIBE_PATH
    data = {"thing1": {"value": "x"}}
    quota_error = {"errcode": 45009, "errmsg": "reach max api daily quota limit"}
    assert send_subscribe(client, token, data) == quota_error
    assert client.get("/sandbox/faults").get_json()[0]["remaining"] == 1
    assert send_subscribe(client, token, data)["errcode"] == 45009
    assert client.get("/sandbox/faults").get_json() == []
    assert send_subscribe(client, token, data)["errcode"] == 0
    assert len(client.get("/sandbox/messages").get_json()) == 1


def test_fault_applies_only_to_its_path(client: FlaskClient) -> None:
    add_fault(client, kind="errcode", errcode=-1, path=TEMPLATE_PATH)
    assert send_subscribe(client, mp_token(client), {"thing1": {"value": "x"}})["errcode"] == 0
    assert send_template(client, oa_token(client)) == {"errcode": -1, "errmsg": "system error"}


def test_fault_applies_only_to_its_openid(client: FlaskClient) -> None:
    token = mp_token(client)
    add_fault(client, kind="errcode", errcode=43101, openid="o-refuser")
    data = {"thing1": {"value": "x"}}
    assert send_subscribe(client, token, data, touser="o-other")["errcode"] == 0
    assert send_subscribe(client, token, data, touser="o-refuser") == {
        "errcode": 43101,
        "errmsg": "user refuse to accept the msg",
    }
    assert send_subscribe(client, token, data, touser="o-refuser")["errcode"] == 0


def test_faults_are_consumed_oldest_first_with_custom_errmsg(client: FlaskClient) -> None:
    token = mp_token(client)
    add_fault(client, kind="errcode", errcode=47003, errmsg="argument invalid! data.thing1.value invalid")
    add_fault(client, kind="errcode", errcode=-1)
    data = {"thing1": {"value": "x"}}
    assert send_subscribe(client, token, data) == {
        "errcode": 47003,
        "errmsg": "argument invalid! data.thing1.value invalid",
    }
    assert send_subscribe(client, token, data)["errcode"] == -1
    assert send_subscribe(client, token, data)["errcode"] == 0


def test_fault_without_path_hits_any_wechat_call(client: FlaskClient) -> None:
    add_fault(client, kind="errcode", errcode=-1)
    assert login(client, "dev:o") == {"errcode": -1, "errmsg": "system error"}
    assert login(client, "dev:o")["openid"] == "o"


def test_errcode_40001_fault_fails_a_call_with_a_valid_token(client: FlaskClient) -> None:
    token = mp_token(client)
    add_fault(client, kind="errcode", errcode=40001, path=SUBSCRIBE_PATH)
    data = {"thing1": {"value": "x"}}
    assert send_subscribe(client, token, data) == {"errcode": 40001, "errmsg": "invalid credential"}
    # The product refreshes its token and retries: that goes through.
    refreshed = stable_token(client, force_refresh=True)["access_token"]
    assert send_subscribe(client, refreshed, data)["errcode"] == 0


def test_http_500_fault(client: FlaskClient) -> None:
    add_fault(client, kind="http_500", path=SUBSCRIBE_PATH)
    token = mp_token(client)
    response = client.post(f"{SUBSCRIBE_PATH}?access_token={token}",
                           json={"touser": "o", "template_id": "t", "data": {"thing1": {"value": "x"}}})
    assert response.status_code == 500
    assert client.get("/sandbox/messages").get_json() == []
    [call] = client.get("/sandbox/calls", query_string={"path": SUBSCRIBE_PATH}).get_json()
    assert call["status"] == 500 and call["errcode"] is None


def test_delay_fault_sleeps_then_answers_normally(client: FlaskClient) -> None:
    add_fault(client, kind="delay", seconds=0.05, path="/sns/jscode2session")
    started = time.monotonic()
    assert login(client, "dev:slow")["openid"] == "slow"
    assert time.monotonic() - started >= 0.05
    assert client.get("/sandbox/faults").get_json() == []


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "explode"},
        {"kind": "errcode"},
        {"kind": "errcode", "errcode": -1, "count": 0},
        {"kind": "delay"},
        {"kind": "delay", "seconds": -1},
        {"kind": "http_500", "path": "/cgi-bin/message/subscribe/sent"},
    ],
)
def test_bad_fault_definitions_are_rejected(client: FlaskClient, fault: dict[str, Any]) -> None:
    assert client.post("/sandbox/faults", json=fault).status_code == 400


def test_faults_can_be_cleared(client: FlaskClient) -> None:
    add_fault(client, kind="http_500")
    assert client.delete("/sandbox/faults").status_code == 204
    assert client.get("/sandbox/faults").get_json() == []
    assert login(client, "dev:o")["openid"] == "o"


# -- call log and messages ---------------------------------------------------


def test_call_log_records_calls_without_secrets_or_tokens(client: FlaskClient) -> None:
    login(client, "dev:o")
    token = mp_token(client)
    plain = plain_token(client)["access_token"]
    send_subscribe(client, token, {"thing1": {"value": "x"}})
    send_subscribe(client, "bogus", {"thing1": {"value": "x"}})
    client.get("/no/such/path")
    calls = client.get("/sandbox/calls").get_json()
    assert [(c["path"], c["method"], c["appid"], c["errcode"]) for c in calls] == [
        ("/sns/jscode2session", "GET", MP_APPID, 0),
        ("/cgi-bin/stable_token", "POST", MP_APPID, 0),
        ("/cgi-bin/token", "GET", MP_APPID, 0),
        (SUBSCRIBE_PATH, "POST", MP_APPID, 0),
        (SUBSCRIBE_PATH, "POST", None, 40001),
    ]
    assert all(call["at"].endswith("Z") for call in calls)
    dumped = json.dumps(calls)
    for secret in (MP_SECRET, token, plain):
        assert secret not in dumped
    assert len(client.get("/sandbox/calls", query_string={"path": SUBSCRIBE_PATH}).get_json()) == 2
    assert client.delete("/sandbox/calls").status_code == 204
    assert client.get("/sandbox/calls").get_json() == []


def test_superseded_token_calls_are_still_attributed_to_their_app(client: FlaskClient) -> None:
    old = plain_token(client)["access_token"]
    plain_token(client)
    send_subscribe(client, old, {"thing1": {"value": "x"}})
    last = client.get("/sandbox/calls").get_json()[-1]
    assert (last["appid"], last["errcode"]) == (MP_APPID, 40001)


def test_message_filters_and_clearing(client: FlaskClient) -> None:
    mp, oa = mp_token(client), oa_token(client)
    send_subscribe(client, mp, {"thing1": {"value": "a"}}, touser="o-1", template_id="T-A")
    send_subscribe(client, mp, {"thing1": {"value": "b"}}, touser="o-2", template_id="T-B")
    send_template(client, oa, touser="o-1")
    messages = client.get("/sandbox/messages").get_json()
    ids = [message["id"] for message in messages]
    assert ids == sorted(ids) and len(ids) == 3

    def query(**filters: Any) -> list[Any]:
        return [m["id"] for m in client.get("/sandbox/messages", query_string=filters).get_json()]

    assert query(kind="template") == [ids[2]]
    assert query(touser="o-1") == [ids[0], ids[2]]
    assert query(template_id="T-B") == [ids[1]]
    assert query(since_id=ids[0]) == ids[1:]
    assert query(since_id=ids[0], kind="subscribe") == [ids[1]]
    assert client.get("/sandbox/messages", query_string={"since_id": "x"}).status_code == 400

    assert client.delete("/sandbox/messages").status_code == 204
    assert client.get("/sandbox/messages").get_json() == []
    send_subscribe(client, mp, {"thing1": {"value": "c"}})
    assert query()[0] > ids[-1]  # ids keep increasing, so since_id pollers stay correct


def test_many_messages_are_held_and_queried_quickly(sandbox_app: Flask, client: FlaskClient) -> None:
    state: SandboxState = sandbox_app.extensions["sandbox"]
    started = time.monotonic()
    for number in range(100_000):
        state.add_subscribe_message(
            {"touser": f"o-{number % 7}", "template_id": "T", "page": None,
             "data": {"thing1": {"value": "x"}}, "miniprogram": None}
        )
    tail = client.get("/sandbox/messages", query_string={"since_id": 99_990}).get_json()
    assert [message["id"] for message in tail] == list(range(99_991, 100_001))
    assert time.monotonic() - started < 5


def test_reset_forgets_everything(client: FlaskClient) -> None:
    token = mp_token(client)
    send_subscribe(client, token, {"thing1": {"value": "x"}})
    add_fault(client, kind="http_500", path=TEMPLATE_PATH)
    qr_request = {"action_name": "QR_STR_SCENE", "action_info": {"scene": {"scene_str": "s"}}}
    qr = client.post(f"/cgi-bin/qrcode/create?access_token={token}", json=qr_request).get_json()
    assert client.post("/sandbox/reset").status_code == 204
    assert client.get("/sandbox/messages").get_json() == []
    assert client.get("/sandbox/faults").get_json() == []
    assert client.get("/sandbox/calls").get_json() == []
    assert client.get("/cgi-bin/showqrcode", query_string={"ticket": qr["ticket"]}).status_code == 404
    assert send_subscribe(client, token, {"thing1": {"value": "x"}})["errcode"] == 40001


# -- QR codes ----------------------------------------------------------------


def test_qrcode_create_and_show(client: FlaskClient, clock: FakeClock) -> None:
    token = oa_token(client)
    url = f"/cgi-bin/qrcode/create?access_token={token}"
    created = client.post(url, json={"expire_seconds": 600, "action_name": "QR_STR_SCENE",
                                     "action_info": {"scene": {"scene_str": "bind:42"}}}).get_json()
    assert created["expire_seconds"] == 600
    assert created["url"].startswith("http://weixin.qq.com/q/")
    image = client.get("/cgi-bin/showqrcode", query_string={"ticket": created["ticket"]})
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert image.data.startswith(b"\x89PNG\r\n\x1a\n")

    by_id_request = {"action_name": "QR_SCENE", "action_info": {"scene": {"scene_id": 7}}}
    by_id = client.post(url, json=by_id_request).get_json()
    assert by_id["expire_seconds"] == 60 and by_id["ticket"] != created["ticket"]
    clock.advance(601)
    assert client.get("/cgi-bin/showqrcode", query_string={"ticket": created["ticket"]}).status_code == 404


def test_qrcode_errors(client: FlaskClient) -> None:
    url = f"/cgi-bin/qrcode/create?access_token={oa_token(client)}"
    assert client.post(url, json={"action_name": "QR_WHATEVER"}).get_json()["errcode"] == 40052
    bad_info = {"action_name": "QR_STR_SCENE", "action_info": {"scene": {"scene_id": 1}}}
    assert client.post(url, json=bad_info).get_json()["errcode"] == 40053
    unknown = client.get("/cgi-bin/showqrcode", query_string={"ticket": "nope"})
    assert unknown.status_code == 404 and unknown.is_json


# -- official-account scan events --------------------------------------------


@pytest.fixture
def oa_callback() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A stand-in product callback that verifies signatures like the real one."""
    received: list[dict[str, Any]] = []
    callback = Flask("oa-callback")

    @callback.post("/wechat/official/events")
    def events() -> tuple[str, int]:
        args = request.args
        try:
            check_signature(OA_TOKEN, args["signature"], args["timestamp"], args["nonce"])
        except InvalidSignatureException:
            return "bad signature", 403
        received.append({"message": parse_message(request.get_data()), "openid": args["openid"],
                         "content_type": request.content_type})
        return "success", 200

    server = make_server("127.0.0.1", 0, callback, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/wechat/official/events", received
    finally:
        server.shutdown()
        thread.join()


def test_scan_pushes_signed_subscribe_then_scan_events(
    client: FlaskClient, oa_callback: tuple[str, list[dict[str, Any]]]
) -> None:
    callback_url, received = oa_callback
    qr = client.post(f"/cgi-bin/qrcode/create?access_token={oa_token(client)}",
                     json={"expire_seconds": 600, "action_name": "QR_STR_SCENE",
                           "action_info": {"scene": {"scene_str": "bind:42"}}}).get_json()
    scan = {"openid": "oa-user-1", "ticket": qr["ticket"], "callback_url": callback_url}

    first = client.post("/sandbox/oa/scan", json=scan)
    assert first.status_code == 200
    assert first.get_json() == {"delivered": True, "status": 200, "reply": "success", "event": "subscribe"}
    second = client.post("/sandbox/oa/scan", json=scan).get_json()
    assert second["delivered"] is True and second["event"] == "SCAN"

    subscribe, rescan = (item["message"] for item in received)
    assert subscribe.type == "event" and subscribe.event == "subscribe_scan"  # wechatpy strips qrscene_
    assert subscribe.scene_id == "bind:42" and subscribe.ticket == qr["ticket"]
    assert subscribe.source == "oa-user-1" and subscribe.target == "gh_sandbox_oa"
    assert rescan.event == "scan" and rescan.scene_id == "bind:42" and rescan.ticket == qr["ticket"]
    assert all(item["openid"] == "oa-user-1" for item in received)
    assert all(item["content_type"] == "text/xml" for item in received)


def test_scan_by_scene_uses_the_configured_callback(oa_callback: tuple[str, list[dict[str, Any]]]) -> None:
    callback_url, received = oa_callback
    client = create_sandbox_app({**CONFIG, "SANDBOX_OA_CALLBACK_URL": callback_url}).test_client()
    answer = client.post("/sandbox/oa/scan", json={"openid": "oa-user-2", "scene": "visit"}).get_json()
    assert answer["delivered"] is True
    [item] = received
    assert item["message"].event == "subscribe_scan" and item["message"].scene_id == "visit"


def test_scan_with_unreachable_callback_reports_502(client: FlaskClient) -> None:
    dead_url = f"http://127.0.0.1:{free_port()}/wechat/official/events"
    answer = client.post("/sandbox/oa/scan", json={"openid": "o", "scene": "s", "callback_url": dead_url})
    assert answer.status_code == 502
    assert answer.get_json()["delivered"] is False and answer.get_json()["error"]


def test_scan_request_errors(client: FlaskClient) -> None:
    assert client.post("/sandbox/oa/scan", json={"scene": "s"}).status_code == 400
    assert client.post("/sandbox/oa/scan", json={"openid": "o"}).status_code == 400
    assert client.post("/sandbox/oa/scan", json={"openid": "o", "ticket": "unknown"}).status_code == 404


# -- misc --------------------------------------------------------------------


def test_health_index_and_unknown_paths(client: FlaskClient) -> None:
    assert client.get("/sandbox/health").get_json() == {"ok": True}
    send_subscribe(client, mp_token(client), {"thing1": {"value": "<b>漏水</b>"}}, touser="o-html")
    page = client.get("/sandbox/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert "dev:&lt;openid&gt;" in text and "o-html" in text
    assert "&lt;b&gt;漏水&lt;/b&gt;" in text  # message contents are escaped
    missing = client.get("/cgi-bin/nothing")
    assert missing.status_code == 404 and missing.get_json()["errcode"] == 404
    assert client.get("/sandbox/calls").get_json()[-1]["path"] != "/cgi-bin/nothing"


def test_module_runs_as_a_server(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "SANDBOX_APPS": f"{MP_APPID}:{MP_SECRET}"}
    log_path = tmp_path / "sandbox.log"
    with log_path.open("w") as log_file:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "server.sandbox", "--port", str(port)],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    session = requests.Session()
    session.trust_env = False  # loopback only, never through a proxy
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                if session.get(f"{base}/sandbox/health", timeout=1).json() == {"ok": True}:
                    break
            except requests.ConnectionError:
                pass
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "sandbox did not come up"
            time.sleep(0.05)

        query = {"appid": MP_APPID, "secret": MP_SECRET, "js_code": "dev:o-http"}
        query["grant_type"] = "authorization_code"
        assert session.get(f"{base}/sns/jscode2session", params=query, timeout=5).json()["openid"] == "o-http"

        # The product's wechatpy code works unchanged against the sandbox's base URL.
        token = session.post(f"{base}/cgi-bin/stable_token", timeout=5, json={
            "grant_type": "client_credential", "appid": MP_APPID, "secret": MP_SECRET}).json()["access_token"]
        wechat = WeChatClient(MP_APPID, MP_SECRET, access_token=token, timeout=5, auto_retry=False)
        wechat.wxa.API_BASE_URL = f"{base}/"  # the wxa API carries its own base URL in wechatpy
        wechat._http.trust_env = False
        data = {"thing1": {"value": "门禁卡已办好"}}
        sent = wechat.wxa.send_subscribe_message("o-http", "T", data, page="pages/a")
        assert sent["errcode"] == 0
        [message] = session.get(f"{base}/sandbox/messages", timeout=5).json()
        assert message["data"] == {"thing1": {"value": "门禁卡已办好"}}
    finally:
        process.terminate()
        process.wait(timeout=10)
    # One log line per request, with the secret and the token redacted.
    server_log = log_path.read_text()
    assert "GET /sns/jscode2session" in server_log and "secret=***" in server_log
    assert MP_SECRET not in server_log and token not in server_log
