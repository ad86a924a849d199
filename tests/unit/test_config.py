from pathlib import Path

import pytest

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


def test_production_requires_a_secret_and_postgres_and_talks_to_wechat():
    with pytest.raises(ConfigError):
        load_config(environ={"WUYE_ENV": "production"})
    with pytest.raises(ConfigError):
        load_config(environ={"WUYE_ENV": "production", "WUYE_SECRET_KEY": "k" * 40})
    cfg = load_config(environ={"WUYE_ENV": "production", "WUYE_SECRET_KEY": "k" * 40,
                               "WUYE_DATABASE_URL": "postgresql+psycopg://db/wuye"})
    assert cfg["WECHAT_API_BASE"] == WECHAT_BASE


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
