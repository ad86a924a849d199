import json
from pathlib import Path

import pytest

from server.sandbox.pay_defaults import MERCHANT_PRIVATE_KEY_PATH
from server.wechat.templates import OFFICIAL, SUBSCRIBE
from server.config import SANDBOX_BASE, SETTINGS, WECHAT_BASE, ConfigError, env_example, load_config, redacted

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_run_locally_against_the_sandbox():
    cfg = load_config(environ={})
    assert cfg["DATABASE_URL"].startswith("sqlite")
    assert cfg["WECHAT_API_BASE"] == SANDBOX_BASE
    assert cfg["RATE_LOGIN_IP"] == (30, 60)
    assert cfg["OUTBOX_BACKOFF"][0] == 10


def test_prefixed_names_win_over_platform_names():
    cfg = load_config(environ={"DATABASE_URL": "postgresql://a/b", "WUYE_REDIS_URL": "redis://x/1",
                               "REDIS_URL": "redis://y/2"})
    assert cfg["DATABASE_URL"] == "postgresql://a/b"
    assert cfg["REDIS_URL"] == "redis://x/1"


PRODUCTION = {
    "WUYE_ENV": "production", "WUYE_SECRET_KEY": "k" * 40, "WUYE_DATABASE_URL": "postgresql+psycopg://db/wuye",
    "WUYE_MP_APPID": "wx1234", "WUYE_MP_SECRET": "s1", "WUYE_OA_APPID": "wx5678", "WUYE_OA_SECRET": "s2",
    "WUYE_OA_TOKEN": "t", "WUYE_SUBSCRIBE_TEMPLATES": json.dumps({k: f"S-{k}" for k in SUBSCRIBE}),
    "WUYE_OA_TEMPLATES": json.dumps({k: f"O-{k}" for k in OFFICIAL}),
    "WUYE_PAY_MCHID": "1600000001", "WUYE_PAY_CERT_SERIAL_NO": "ABC", "WUYE_PAY_APIV3_KEY": "k" * 32,
    "WUYE_PAY_PUBLIC_KEY_ID": "PUB_KEY_ID_REAL", "WUYE_PAY_NOTIFY_URL": "https://wy.example.com/api/v1/pay/notify",
    "WUYE_PAY_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\nMIIreal\n-----END PRIVATE KEY-----",
    "WUYE_PAY_PUBLIC_KEY": "-----BEGIN PUBLIC KEY-----\nMIIreal\n-----END PUBLIC KEY-----",
}


def test_production_with_every_setting_talks_to_wechat():
    cfg = load_config(environ=PRODUCTION)
    assert cfg["WECHAT_API_BASE"] == WECHAT_BASE


@pytest.mark.parametrize("name,value,complaint", [
    ("WUYE_SECRET_KEY", "short", "SECRET_KEY"),
    ("WUYE_DATABASE_URL", "sqlite:///x.db", "PostgreSQL"),
    ("WUYE_WECHAT_API_BASE", SANDBOX_BASE, "sandbox"),
    ("WUYE_MP_SECRET", "demo-mp-secret", "MP_SECRET is still the demo value"),
    ("WUYE_OA_TOKEN", "demo-oa-token", "OA_TOKEN"),
    ("WUYE_SUBSCRIBE_TEMPLATES", "{}", "binding_result"),
    ("WUYE_OA_TEMPLATES", "{}", "binding_review"),
    ("WUYE_PAY_PRIVATE_KEY", str(MERCHANT_PRIVATE_KEY_PATH), "sandbox's public test key"),
    ("WUYE_PAY_PUBLIC_KEY", "", "PAY_PUBLIC_KEY must be set"),
    ("WUYE_PAY_APIV3_KEY", "sandbox-apiv3-key-0123456789abcd", "PAY_APIV3_KEY is still the demo value"),
    ("WUYE_PAY_NOTIFY_URL", "http://wy.example.com/api/v1/pay/notify", "https"),
])
def test_production_refuses_demo_values(name, value, complaint):
    with pytest.raises(ConfigError, match=complaint):
        load_config(environ={**PRODUCTION, name: value})


def test_bad_values_name_the_setting():
    with pytest.raises(ConfigError, match="WUYE_TOKEN_TTL"):
        load_config(environ={"WUYE_TOKEN_TTL": "soon"})
    with pytest.raises(ConfigError, match="WUYE_SUBSCRIBE_TEMPLATES"):
        load_config(environ={"WUYE_SUBSCRIBE_TEMPLATES": "[1]"})


def test_secrets_are_redacted():
    shown = redacted(load_config(environ={"WUYE_MP_SECRET": "s3cret"}))
    assert shown["MP_SECRET"] == "***"
    assert shown["MP_APPID"] == "wx-demo-mp"


def test_env_example_lists_every_setting_and_matches_the_committed_file():
    text = env_example()
    for s in SETTINGS:
        assert f"WUYE_{s.name}=" in text
    assert (ROOT / "deploy" / "env.example").read_text(encoding="utf-8") == text, \
        "deploy/env.example is stale: run `make env-example`"
