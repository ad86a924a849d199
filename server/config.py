"""Settings: the one place that reads the environment.

Every setting is declared once in SETTINGS with its default and meaning; `load_config()` reads
`WUYE_<NAME>` from the environment, and `flask config env-example` prints deploy/env.example from the
same list, so the documentation cannot drift from the code. `DATABASE_URL` and `REDIS_URL` (the names
hosting platforms and docker-compose set) are honoured when the prefixed names are absent.
"""
from __future__ import annotations

import ipaddress
import json
import math
import os
import re
import socket
import zlib
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlsplit

from .proxies import parse_proxies

PREFIX = "WUYE_"
SANDBOX_BASE = "http://127.0.0.1:8090/"
WECHAT_BASE = "https://api.weixin.qq.com/"
DEV_SECRET_KEY = "dev-secret-key-change-me"


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int_list(value: str) -> list[int]:
    return [int(part) for part in value.split(",") if part.strip()]


def _rate(value: str) -> tuple[int, int]:
    """'20/60' -> (20 requests, 60 seconds)."""
    count, _, seconds = value.partition("/")
    return int(count), int(seconds or 60)


def _choice(value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"expected one of {', '.join(allowed)}")
    return value


def _json_dict(value: str) -> dict:
    parsed = json.loads(value) if value.strip() else {}
    if not isinstance(parsed, dict):
        raise ValueError("expected a JSON object")
    return parsed


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None
    help: str
    parse: Callable[[str], Any] = str
    secret: bool = False
    alias: str | None = None  # unprefixed fallback name


SETTINGS: list[Setting] = [
    Setting("ENV", "development", "development | production | test. production refuses default or weak "
            "secrets, the sandbox's keys (in any encoding), and WeChat or WeChat Pay URLs that are not public "
            "https addresses (localhost, loopback, private networks, *.local)."),
    Setting("SECRET_KEY", DEV_SECRET_KEY, "Signs owner and staff tokens. Production refuses anything but a random "
            "string of 32+ characters with an estimated 128+ bits of entropy (the smaller of length x the Shannon "
            "entropy of its characters and its zlib-compressed size): openssl rand -hex 32.", secret=True),
    Setting("DATABASE_URL", "sqlite:///wuye.db", "SQLAlchemy URL. Production: "
            "postgresql+psycopg://user:pass@host:5432/wuye. Relative SQLite paths are under instance/.",
            alias="DATABASE_URL", secret=True),
    Setting("REDIS_URL", "redis://127.0.0.1:6379/0", "Redis for RQ queues, token cache, locks and rate limits.",
            alias="REDIS_URL", secret=True),
    Setting("TIMEZONE", "Asia/Shanghai", "Time zone in which times are shown to people (stored in UTC)."),
    Setting("LOG_LEVEL", "INFO", "Python log level for the API, workers and periodic jobs."),
    Setting("TOKEN_TTL", "604800", "Lifetime of owner/staff API tokens, seconds (default 7 days).", int),
    Setting("MAX_UPLOAD_MB", "10", "Largest request body accepted, and largest uploaded photo, MB (nginx "
            "client_max_body_size should match).", int),
    Setting("UPLOAD_BACKEND", "local", "Where uploaded photos are stored: local (files under UPLOAD_DIR). "
            "Object storage (OSS/COS/S3) can be added as another backend in server/uploads/storage.py."),
    Setting("UPLOAD_DIR", "", "Directory of the local upload backend. Empty: instance/uploads; relative paths "
            "are under instance/. Back it up with the database; every web process must see the same files."),
    Setting("WECHAT_API_BASE", None, "Base URL of WeChat's API. Default https://api.weixin.qq.com/ in "
            "production, the local sandbox http://127.0.0.1:8090/ otherwise."),
    Setting("WECHAT_TIMEOUT", "5", "Seconds before a WeChat API call is abandoned (then retried).", float),
    Setting("WECHAT_RETRIES", "2", "In-process retries of a WeChat call after -1, HTTP 5xx or a timeout.", int),
    Setting("MP_APPID", "wx-demo-mp", "Mini-program AppID."),
    Setting("MP_SECRET", "demo-mp-secret", "Mini-program AppSecret.", secret=True),
    Setting("MP_STATE", "formal", "miniprogram_state of subscribe messages: formal | trial | developer."),
    Setting("OA_APPID", "wx-demo-oa", "Official account (service account) AppID, for staff pushes."),
    Setting("OA_SECRET", "demo-oa-secret", "Official account AppSecret.", secret=True),
    Setting("OA_TOKEN", "demo-oa-token", "Official account server-callback Token (signs every callback).",
            secret=True),
    Setting("OA_ENCODING_AES_KEY", "", "Official account EncodingAESKey (43 characters) for the callback's safe "
            "mode (消息加解密方式：安全模式), which production should use: events are encrypted and only "
            "encrypted ones are accepted. Empty: plain-text mode (development).", secret=True),
    Setting("OA_CALLBACK_MAX_SKEW", "300", "Seconds a callback's timestamp may differ from now; each nonce is "
            "accepted once within that window (replays are refused).", int),
    Setting("SUBSCRIBE_TEMPLATES", "{}", "JSON object: subscribe-message template key -> template_id chosen in "
            "the mini-program console, e.g. {\"binding_result\": \"AbC...\"}. Unlisted keys use the "
            "sandbox ids.", _json_dict),
    Setting("OA_TEMPLATES", "{}", "JSON object: official-account template key -> template_id.", _json_dict),
    Setting("BINDING_REQUIRE_VERIFIED_PHONE", "true", "Approve a house binding at once only when the phone "
            "matches the roster AND is the caller's WeChat-verified phone (POST /api/v1/me/phone).", _bool),
    Setting("RATE_LOGIN_IP", "30/60", "Logins allowed per client IP: count/seconds.", _rate),
    Setting("RATE_LOGIN_OPENID", "10/60", "Logins allowed per openid: count/seconds.", _rate),
    Setting("RATE_BIND_OWNER", "10/3600", "House-binding requests per owner: count/seconds.", _rate),
    Setting("RATE_BIND_IP", "60/3600", "House-binding requests per client IP: count/seconds.", _rate),
    Setting("RATE_UPLOADS", "60/3600", "Photo uploads per signed-in owner or staff member: count/seconds.",
            _rate),
    Setting("RATE_STAFF_LOGIN_IP", "20/300", "Admin-page password logins per client IP: count/seconds.", _rate),
    Setting("LOGIN_LOCK_ATTEMPTS", "5", "Wrong passwords in a row after which a staff account waits "
            "LOGIN_LOCK_MINUTES (per account, whatever the IP).", int),
    Setting("LOGIN_LOCK_MINUTES", "15", "How long a staff account waits after LOGIN_LOCK_ATTEMPTS wrong "
            "passwords.", int),
    Setting("ADMIN_IDLE_HOURS", "8", "An admin-page session unused this many hours ends (sign in again).", int),
    Setting("RATE_URGE", "1/600", "Urges (催单) per work order: count/seconds.", _rate),
    Setting("DISPATCH_ACCEPT_MINUTES", "10", "A dispatched order not accepted in this many minutes is offered to "
            "the next worker.", int),
    Setting("DISPATCH_MAX_OFFERS", "2", "Offers to workers before an unaccepted order is escalated to the "
            "supervisor.", int),
    Setting("ESCALATE_MANAGER_MINUTES", "30", "A missed deadline still open this many minutes later is escalated "
            "from the supervisor to the manager.", int),
    Setting("AUTO_CONFIRM_HOURS", "72", "Completed work the owner neither confirms nor rejects is confirmed after "
            "this many hours.", int),
    Setting("AUTO_CLOSE_DAYS", "7", "Confirmed work the owner does not rate is closed after this many days.", int),
    Setting("PAY_MCHID", "1900000001", "WeChat Pay merchant id (商户号)."),
    Setting("PAY_CERT_SERIAL_NO", "5AFE0000000000000000000000000001", "Serial number of the merchant API "
            "certificate whose private key signs our requests."),
    Setting("PAY_PRIVATE_KEY", "", "Merchant API private key: PEM text or the path of a .pem file. Empty: the "
            "sandbox's test key (refused in production).", secret=True),
    Setting("PAY_APIV3_KEY", "sandbox-apiv3-key-0123456789abcd", "APIv3 key (32 bytes) that decrypts "
            "notifications.", secret=True),
    Setting("PAY_PUBLIC_KEY", "", "WeChat Pay platform public key (PEM text or path) that verifies answers and "
            "notifications. Empty: the sandbox's test key (refused in production)."),
    Setting("PAY_PUBLIC_KEY_ID", "PUB_KEY_ID_0000000000000000000000000000000000SANDBOX", "Id of that public "
            "key (PUB_KEY_ID_...)."),
    Setting("PAY_API_BASE", None, "WeChat Pay API. Default https://api.mch.weixin.qq.com in production, the "
            "sandbox http://127.0.0.1:8090 otherwise."),
    Setting("PAY_NOTIFY_URL", "http://127.0.0.1:8000/api/v1/pay/notify", "Where WeChat Pay sends payment and "
            "refund notifications (https in production)."),
    Setting("PAY_EXPIRE_MINUTES", "15", "A payment not made within this many minutes expires and is closed.", int),
    Setting("PAY_QUERY_AFTER_MINUTES", "3", "A payment still pending this long is queried at WeChat Pay.", int),
    Setting("PAY_NOTIFY_MAX_SKEW", "300", "Notifications whose timestamp is further than this many seconds from "
            "now are rejected (replays).", int),
    Setting("BILL_DAY", "1", "Day of the month on which the periodic job generates the month's bills.", int),
    Setting("DUNNING_BEFORE_DAYS", "3", "Owners (with consent) get one reminder when an unpaid bill falls due within "
            "this many days.", int),
    Setting("DUNNING_EVERY_DAYS", "7", "While bills are overdue, owners (with consent) are reminded every this many "
            "days.", int),
    Setting("DUNNING_MAX_REMINDERS", "6", "Reminders per bill at most (the one before the due date included); after "
            "that, staff phone, visit or write.", int),
    Setting("TRUSTED_PROXIES", "127.0.0.1,::1", "Addresses or networks of our reverse proxies, comma-separated "
            "(e.g. 127.0.0.1,10.0.0.0/8; empty: none). X-Forwarded-For/-Proto/-Host are believed only from these "
            "peers, walking back through trusted hops: the client IP of rate limits and sessions. Default: nginx "
            "on the same host. Docker: add the compose network (e.g. 172.16.0.0/12).", parse_proxies),
    Setting("OUTBOX_MAX_ATTEMPTS", "8", "Attempts of a background job before it is marked failed.", int),
    Setting("OUTBOX_BACKOFF", "10,30,60,300,900,1800,3600", "Seconds to wait before retry 1, 2, ... of a "
            "failed job (the last value repeats).", _int_list),
    Setting("OUTBOX_SWEEP_SECONDS", "15", "How often the periodic-job process sweeps the outbox: pushes work that "
            "has come due (retries, offer timeouts) or that Redis lost, and gives back runs whose worker died. "
            "Delayed work runs at most about this late.", int),
    Setting("OUTBOX_STALE_SECONDS", "60", "A pending job unseen by Redis for this long is re-enqueued by the "
            "sweeper.", int),
    Setting("WORKER_MODE", "fork", "fork: every job in its own forked process (isolated); simple: jobs run in "
            "the worker process, reusing connections (faster).", lambda v: _choice(v, ("fork", "simple"))),
    Setting("NOTICE_BATCH_SIZE", "500", "Owners per background job when a notice is pushed: a notice to thousands "
            "of households is split into jobs of this many, spread over the RQ workers.", int),
    Setting("NOTICE_SEND_THREADS", "16", "Concurrent WeChat sends inside one notice batch job (threads, each with "
            "its own HTTP connection).", int),
    Setting("COMMON_PROBLEM_THRESHOLD", "3", "Complaints of one category in one building within "
            "COMMON_PROBLEM_WINDOW_DAYS that make a common problem: the managers are alerted to answer it with a "
            "notice within a week.", int),
    Setting("COMMON_PROBLEM_WINDOW_DAYS", "7", "Days within which COMMON_PROBLEM_THRESHOLD complaints make a "
            "common problem.", int),
    Setting("JOB_TIMEOUT", "300", "Seconds a single background job may run.", int),
    Setting("QUEUE_PREFIX", "", "Prefix for RQ queue names (lets several deployments share one Redis).", str),
]

BY_NAME = {s.name: s for s in SETTINGS}


class ConfigError(RuntimeError):
    pass


def load_config(environ: dict[str, str] | None = None, overrides: dict[str, Any] | None = None) -> dict:
    """Build the Flask config mapping from the environment plus explicit overrides (tests)."""
    env = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    cfg: dict[str, Any] = {}
    for s in SETTINGS:
        if s.name in overrides:
            cfg[s.name] = overrides.pop(s.name)
            continue
        raw = env.get(PREFIX + s.name)
        if raw is None and s.alias:
            raw = env.get(s.alias)
        if raw is None:
            raw = s.default
        try:
            cfg[s.name] = s.parse(raw) if raw is not None else None
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{PREFIX}{s.name}: {exc}") from exc
    cfg.update(overrides)

    production = cfg["ENV"] == "production"
    if not cfg["PAY_API_BASE"]:
        cfg["PAY_API_BASE"] = "https://api.mch.weixin.qq.com" if production else "http://127.0.0.1:8090"
    cfg["PAY_API_BASE"] = cfg["PAY_API_BASE"].rstrip("/")
    if not cfg["WECHAT_API_BASE"]:
        cfg["WECHAT_API_BASE"] = WECHAT_BASE if production else SANDBOX_BASE
    if not cfg["WECHAT_API_BASE"].endswith("/"):
        cfg["WECHAT_API_BASE"] += "/"
    if production:
        _check_production(cfg)

    # Flask / extension keys derived from ours.
    cfg.setdefault("SQLALCHEMY_DATABASE_URI", cfg["DATABASE_URL"])
    cfg.setdefault("MAX_CONTENT_LENGTH", cfg["MAX_UPLOAD_MB"] * 1024 * 1024)
    cfg.setdefault("TESTING", cfg["ENV"] == "test")
    return cfg


SECRET_MIN_LENGTH = 32
SECRET_MIN_BITS = 128


def entropy_bits(secret: str) -> int:
    """A simple, deliberately low estimate of a secret's entropy in bits: the smaller of (a) its length x the
    Shannon entropy of its characters (32 identical characters: 0) and (b) the size of its zlib-compressed
    form, without zlib's 6 bytes of framing (a repeated pattern such as "0123456789" x 4 counts once)."""
    if not secret:
        return 0
    n = len(secret)
    shannon = -sum(c / n * math.log2(c / n) for c in Counter(secret).values()) * n
    compressed = (len(zlib.compress(secret.encode("utf-8"), 9)) - 6) * 8
    return int(min(shannon, compressed))


def local_host(url: str) -> str | None:
    """Why the host of `url` is this machine or a private network (None when it is a public name or address):
    localhost and *.localhost, *.local, loopback (127/8, ::1), private (10/8, 172.16/12, 192.168/16, fc00::/7),
    link-local (169.254/16, fe80::/10), unspecified (0.0.0.0, ::), IPv4 written as 127.1, 2130706433 or hex, and
    IPv4 inside IPv6 (::ffff:127.0.0.1). Names are not resolved: a public name pointing inward is not seen."""
    try:
        host = (urlsplit(url).hostname or "").rstrip(".").lower()
    except ValueError:
        return "not a URL"
    if not host:
        return "no host"
    if host == "localhost" or host.endswith((".localhost", ".local")):
        return f"{host} is a local name"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
        if re.fullmatch(r"[0-9a-fx.]+", host) and not re.fullmatch(r"[a-f.]+", host):
            try:  # the forms the C resolver still accepts: 127.1, 2130706433, 0x7f000001
                ip = ipaddress.IPv4Address(socket.inet_aton(host))
            except OSError:
                ip = None
    if ip is None:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback or ip.is_unspecified:
        return f"{host} is a local address"
    if ip.is_private or ip.is_link_local or ip.is_reserved:
        return f"{host} is a private address"
    return None


def _check_production(cfg: dict) -> None:
    """Refuse to run production on demo values: every one of these would fail quietly later."""
    problems = []
    secret = cfg["SECRET_KEY"]
    if secret == DEV_SECRET_KEY or len(secret) < SECRET_MIN_LENGTH or entropy_bits(secret) < SECRET_MIN_BITS:
        problems.append(f"SECRET_KEY must be a random string of {SECRET_MIN_LENGTH}+ characters with about "
                        f"{SECRET_MIN_BITS} bits of entropy or more (e.g. python3 -c "
                        f"'import secrets; print(secrets.token_urlsafe(48))')")
    if cfg["DATABASE_URL"].startswith("sqlite"):
        problems.append("DATABASE_URL must point at PostgreSQL")
    if cfg["WECHAT_API_BASE"] == SANDBOX_BASE:
        problems.append("WECHAT_API_BASE is the local sandbox")
    # WeChat and WeChat Pay are on the internet, over https: anything local is a sandbox or a mistake.
    for name in ("WECHAT_API_BASE", "PAY_API_BASE", "PAY_NOTIFY_URL"):
        where = local_host(cfg[name])
        if where:
            problems.append(f"{name} must be a public https address ({where})")
        elif not cfg[name].lower().startswith("https://"):
            problems.append(f"{name} must be https")
    for name in ("MP_APPID", "MP_SECRET", "OA_APPID", "OA_SECRET", "OA_TOKEN", "PAY_MCHID", "PAY_CERT_SERIAL_NO",
                 "PAY_APIV3_KEY", "PAY_PUBLIC_KEY_ID"):
        if cfg[name] == BY_NAME[name].default:
            problems.append(f"{name} is still the demo value")
    # Plain-text callbacks can be replayed or forged with one leaked signature; safe mode cannot.
    if len(cfg["OA_ENCODING_AES_KEY"] or "") != 43:
        problems.append("OA_ENCODING_AES_KEY must be the official account's 43-character EncodingAESKey "
                        "(safe mode: 消息加解密方式选择安全模式)")
    from .sandbox.pay_defaults import is_sandbox_key, public_fingerprint  # constants: no Flask app is imported

    for name in ("PAY_PRIVATE_KEY", "PAY_PUBLIC_KEY"):
        if not cfg[name]:
            problems.append(f"{name} must be set")
            continue
        text = read_pem(cfg[name])
        if public_fingerprint(text) is None:
            problems.append(f"{name} is not a readable RSA key")
        elif is_sandbox_key(text):  # by the public key's fingerprint, whatever the encoding
            problems.append(f"{name} is the sandbox's public test key")
    if cfg["PAY_API_BASE"] == "http://127.0.0.1:8090":
        problems.append("PAY_API_BASE is the local sandbox")
    # Imported here: the template list is product code, config only checks every key has an id.
    from .wechat.templates import OFFICIAL, SUBSCRIBE

    for setting, templates in (("SUBSCRIBE_TEMPLATES", SUBSCRIBE), ("OA_TEMPLATES", OFFICIAL)):
        missing = sorted(set(templates) - set(cfg[setting]))
        if missing:
            problems.append(f"{setting} lacks template ids for: {', '.join(missing)}")
    if problems:
        raise ConfigError("production settings: " + "; ".join(f"{PREFIX}{p}" for p in problems))


def read_pem(value: str) -> str:
    """A key setting holds PEM text or the path of a PEM file."""
    if "-----BEGIN" in value:
        return value
    try:
        with open(value, encoding="ascii") as fh:
            return fh.read()
    except OSError as exc:
        raise ConfigError(f"cannot read key file {value}: {exc.strerror}") from exc


def env_example() -> str:
    """deploy/env.example, generated from SETTINGS."""
    lines = [
        "# Settings of the property service center backend. Every variable is optional unless marked;",
        "# the value shown is the default. Generated by `flask config env-example` -- edit server/config.py.",
        "",
    ]
    for s in SETTINGS:
        lines.append(f"# {s.help}")
        if s.alias:
            lines.append(f"# ({s.alias} is read when {PREFIX}{s.name} is not set.)")
        if s.secret and s.name != "DATABASE_URL" and s.name != "REDIS_URL":
            lines.append("# Secret: set it in production, never commit it.")
        lines.append(f"{PREFIX}{s.name}={s.default if s.default is not None else ''}")
        lines.append("")
    return "\n".join(lines)


def redacted(cfg: dict) -> dict:
    """The config with secrets hidden, for `flask config show` and logs."""
    out = {}
    for s in SETTINGS:
        value = cfg.get(s.name)
        if isinstance(value, tuple) and all(isinstance(v, (ipaddress.IPv4Network, ipaddress.IPv6Network))
                                            for v in value):
            value = ",".join(map(str, value))  # as it is written in the environment
        out[s.name] = "***" if s.secret and value else value
    return out
