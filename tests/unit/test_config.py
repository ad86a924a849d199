import json
from functools import cache
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from server.config import (
    SANDBOX_BASE,
    SECRET_MIN_BITS,
    SETTINGS,
    WECHAT_BASE,
    ConfigError,
    entropy_bits,
    env_example,
    load_config,
    redacted,
)
from server.sandbox.pay_defaults import (
    MERCHANT_PRIVATE_KEY_PATH,
    MERCHANT_PUBLIC_KEY_PATH,
    PLATFORM_PRIVATE_KEY_PATH,
    PLATFORM_PUBLIC_KEY_PATH,
    is_sandbox_key,
)
from server.wechat.templates import OFFICIAL, SUBSCRIBE

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


@cache
def real_key() -> rsa.RSAPrivateKey:
    """A key of our own, as a real merchant's (not one of the sandbox's committed test keys)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem_private(key, fmt=serialization.PrivateFormat.PKCS8) -> str:
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode()


def pem_public(key, fmt=serialization.PublicFormat.SubjectPublicKeyInfo) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM, fmt).decode()


def sandbox_private(path) -> rsa.RSAPrivateKey:
    return serialization.load_pem_private_key(path.read_bytes(), None)


PRODUCTION = {
    "WUYE_ENV": "production", "WUYE_SECRET_KEY": "Qm7vR2xK9pLw4ZsT8nYc3HbF6jDgA1eUoV5iXtNrBk0",
    "WUYE_DATABASE_URL": "postgresql+psycopg://db/wuye",
    "WUYE_MP_APPID": "wx1234", "WUYE_MP_SECRET": "s1", "WUYE_OA_APPID": "wx5678", "WUYE_OA_SECRET": "s2",
    "WUYE_OA_TOKEN": "t", "WUYE_OA_ENCODING_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    "WUYE_SUBSCRIBE_TEMPLATES": json.dumps({k: f"S-{k}" for k in SUBSCRIBE}),
    "WUYE_OA_TEMPLATES": json.dumps({k: f"O-{k}" for k in OFFICIAL}),
    "WUYE_PAY_MCHID": "1600000001", "WUYE_PAY_CERT_SERIAL_NO": "ABC", "WUYE_PAY_APIV3_KEY": "k" * 32,
    "WUYE_PAY_PUBLIC_KEY_ID": "PUB_KEY_ID_REAL", "WUYE_PAY_NOTIFY_URL": "https://wy.example.com/api/v1/pay/notify",
    "WUYE_PAY_PRIVATE_KEY": pem_private(real_key()),
    "WUYE_PAY_PUBLIC_KEY": pem_public(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
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
    ("WUYE_OA_ENCODING_AES_KEY", "", "safe mode"),
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


# -- the production check cannot be talked round ---------------------------------------------------------------

@pytest.mark.parametrize("name,path,as_public", [
    ("WUYE_PAY_PRIVATE_KEY", MERCHANT_PRIVATE_KEY_PATH, False),
    ("WUYE_PAY_PRIVATE_KEY", PLATFORM_PRIVATE_KEY_PATH, False),
    ("WUYE_PAY_PUBLIC_KEY", PLATFORM_PRIVATE_KEY_PATH, True),
    ("WUYE_PAY_PUBLIC_KEY", MERCHANT_PRIVATE_KEY_PATH, True),
])
@pytest.mark.parametrize("encoding", ["pkcs1", "pkcs8", "rewrapped"])
def test_sandbox_keys_are_refused_however_they_are_encoded(name, path, as_public, encoding):
    """Compared by the fingerprint of the public key, not by the text: PKCS#1 instead of PKCS#8 (or SPKI),
    PEM lines dropped, lines wrapped differently: still the sandbox's key."""
    key = sandbox_private(path)
    if as_public:
        fmt = {"pkcs1": serialization.PublicFormat.PKCS1}.get(encoding, serialization.PublicFormat.SubjectPublicKeyInfo)
        text = pem_public(key, fmt)
    else:
        fmt = {"pkcs1": serialization.PrivateFormat.TraditionalOpenSSL}.get(encoding, serialization.PrivateFormat.PKCS8)
        text = pem_private(key, fmt)
    body = "".join(text.strip().splitlines()[1:-1])
    assert is_sandbox_key(body)  # wechatpayv3 takes a key without its PEM lines too
    if encoding == "rewrapped":
        lines = [body[i:i + 76] for i in range(0, len(body), 76)]
        text = "\n".join([text.splitlines()[0], *lines, text.strip().splitlines()[-1]]) + "\r\n"
    with pytest.raises(ConfigError, match="sandbox"):
        load_config(environ={**PRODUCTION, name: text})


def test_the_sandbox_public_key_files_are_refused_as_they_are():
    for path in (MERCHANT_PUBLIC_KEY_PATH, PLATFORM_PUBLIC_KEY_PATH):
        with pytest.raises(ConfigError, match="sandbox"):
            load_config(environ={**PRODUCTION, "WUYE_PAY_PUBLIC_KEY": str(path)})


def test_a_real_key_in_pkcs1_passes_and_garbage_is_refused():
    load_config(environ={**PRODUCTION, "WUYE_PAY_PUBLIC_KEY": pem_public(real_key(), serialization.PublicFormat.PKCS1)})
    with pytest.raises(ConfigError, match="PAY_PRIVATE_KEY is not a readable RSA key"):
        load_config(environ={**PRODUCTION, "WUYE_PAY_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\nMIIreal\n-----END PRIVATE KEY-----"})


@pytest.mark.parametrize("host", [
    "localhost", "LOCALHOST", "127.0.0.2", "127.1", "2130706433", "0x7f000001", "[::1]", "[::ffff:127.0.0.1]",
    "0.0.0.0", "10.1.2.3", "172.16.0.1", "172.31.255.254", "192.168.1.10", "169.254.169.254", "sandbox.local",
    "pay.localhost", "[fd00::1]",
])
@pytest.mark.parametrize("setting", ["WUYE_WECHAT_API_BASE", "WUYE_PAY_API_BASE", "WUYE_PAY_NOTIFY_URL"])
def test_production_refuses_local_and_private_addresses(setting, host):
    url = f"https://{host}:8090/" if setting != "WUYE_PAY_NOTIFY_URL" else f"https://{host}/api/v1/pay/notify"
    with pytest.raises(ConfigError, match=f"{setting.removeprefix('WUYE_')} .*(local|private)"):
        load_config(environ={**PRODUCTION, setting: url})


@pytest.mark.parametrize("setting", ["WUYE_WECHAT_API_BASE", "WUYE_PAY_API_BASE"])
def test_production_talks_to_wechat_over_https(setting):
    with pytest.raises(ConfigError, match="https"):
        load_config(environ={**PRODUCTION, setting: "http://api.example.com/"})
    load_config(environ={**PRODUCTION, setting: "https://api.example.com/"})  # e.g. an egress gateway


@pytest.mark.parametrize("secret", [
    "k" * 32, "k" * 64, "ab" * 20, "0123456789" * 4, "password" * 5,
    "Qm7vR2xK9pLw4ZsT8nYc3Hb",  # random, but too short
])
def test_production_refuses_a_secret_key_without_entropy(secret):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(environ={**PRODUCTION, "WUYE_SECRET_KEY": secret})


def test_generated_secret_keys_pass():
    import secrets

    load_config(environ={**PRODUCTION, "WUYE_SECRET_KEY": secrets.token_urlsafe(48)})
    for _ in range(2000):  # what deploy/README.md tells people to run, and `openssl rand -hex 32`
        for secret in (secrets.token_urlsafe(48), secrets.token_hex(32)):
            assert entropy_bits(secret) >= SECRET_MIN_BITS, secret
