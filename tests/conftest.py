"""Test fixtures: real PostgreSQL and Redis on this machine, the WeChat sandbox as a real HTTP server.

Our own resources only, per run, so two runs on one machine never collide: a database
`wuye_test_<run>` (created for this run, migrated with Alembic, dropped at the end), a Redis db claimed
for this run (see tests/resources.py; flushed between tests), the sandbox on a free port. Override with
WUYE_TEST_DATABASE_URL / WUYE_TEST_REDIS_URL.
"""
from __future__ import annotations

import ipaddress
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis as redis_lib
import requests
from sqlalchemy import text

from tests import resources

ROOT = Path(__file__).resolve().parent.parent
TEST_DB_URL = resources.database_url()
TEST_REDIS_URL = resources.redis_url()


def pytest_collection_modifyitems(config, items):
    """tests/browser/ and tests/faults/ carry their markers (`-m browser`, `-m faults`, `-m "not faults"`)."""
    for item in items:
        parts = item.path.parts
        for folder in ("browser", "faults"):
            if folder in parts:
                item.add_marker(getattr(pytest.mark, folder))


# -- no test reaches the internet ---------------------------------------------------------------------

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _loopback_only(address) -> None:
    if isinstance(address, (str, bytes)):  # AF_UNIX
        return
    host = address[0]
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise OSError(f"test tried to resolve/reach non-loopback host {host!r}") from None
    if not ip.is_loopback:
        raise OSError(f"test tried to reach non-loopback address {host}")


def _guarded_connect(self, address):
    _loopback_only(address)
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    _loopback_only(address)
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True)
def no_internet(monkeypatch):
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)


# -- sandbox ------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sandbox:
    """Client of the sandbox's control endpoints."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()
        self.http.trust_env = False

    def messages(self, **filters) -> list[dict]:
        return self.http.get(self.base + "sandbox/messages", params=filters, timeout=10).json()

    def calls(self, path: str | None = None) -> list[dict]:
        return self.http.get(self.base + "sandbox/calls", params={"path": path} if path else None, timeout=10).json()

    def fault(self, **spec) -> dict:
        res = self.http.post(self.base + "sandbox/faults", json=spec, timeout=10)
        assert res.status_code == 201, res.text
        return res.json()

    def reset(self) -> None:
        self.http.post(self.base + "sandbox/reset", timeout=10).raise_for_status()

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.http.post(self.base + path.lstrip("/"), timeout=20, **kwargs)


@pytest.fixture(scope="session")
def sandbox_server():
    port = free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "server.sandbox", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            if requests.get(base + "sandbox/health", timeout=1).ok:
                break
        except requests.RequestException:
            time.sleep(0.1)
    else:
        proc.kill()
        raise RuntimeError("sandbox did not start")
    yield Sandbox(base)
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def sandbox(sandbox_server):
    sandbox_server.reset()
    return sandbox_server


# -- database, redis, app ----------------------------------------------------------------------------

def test_config(sandbox_base: str, **extra) -> dict:
    cfg = {
        "ENV": "test", "DATABASE_URL": TEST_DB_URL, "REDIS_URL": TEST_REDIS_URL,
        "SECRET_KEY": "test-secret-key-" + "x" * 32, "WECHAT_API_BASE": sandbox_base, "LOG_LEVEL": "INFO",
        "PAY_API_BASE": sandbox_base.rstrip("/"),
        "WECHAT_TIMEOUT": 3.0, "QUEUE_PREFIX": "test-", "TRUSTED_PROXIES": (),
    }
    cfg.update(extra)
    return cfg


test_config.__test__ = False  # a helper, not a test


@pytest.fixture(scope="session", autouse=True)
def _release_resources():
    yield
    resources.release()


@pytest.fixture(scope="session")
def app(sandbox_server):
    from flask_migrate import upgrade

    from server.app import create_app

    resources.recreate_database(TEST_DB_URL)
    application = create_app(test_config(sandbox_server.base))
    with application.app_context():
        upgrade()  # the real migrations, not create_all: they are what production runs
    from jobs import context

    context.set_app(application)  # job functions called directly in tests run in this app
    yield application
    from server.extensions import db

    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    resources.drop_database(TEST_DB_URL)


@pytest.fixture(scope="session")
def redis_conn():
    return redis_lib.Redis.from_url(TEST_REDIS_URL)


@pytest.fixture(autouse=True)
def clean_state(request):
    """Empty tables and our Redis db after each test that used the app."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    rconn = request.getfixturevalue("redis_conn")
    yield
    from server.extensions import db

    with app.app_context():
        db.session.remove()
        # DELETE (children first) and sequences back to 1: as clean as TRUNCATE ... RESTART IDENTITY on
        # these small tables, and some 30 times faster (TRUNCATE rewrites every table's files).
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
            conn.execute(text("SELECT setval(c.oid, 1, false) FROM pg_class c WHERE c.relkind = 'S'"))
    resources.flush(rconn)


@pytest.fixture(autouse=True)
def upload_dir(request, monkeypatch):
    """Uploaded files of a test that uses the app go to its own tmp dir (never instance/uploads)."""
    if "app" not in request.fixturenames:
        return None
    path = request.getfixturevalue("tmp_path") / "uploads"
    monkeypatch.setitem(request.getfixturevalue("app").config, "UPLOAD_DIR", str(path))
    return path


@pytest.fixture
def client(app, sandbox):
    return app.test_client()


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield
        from server.extensions import db

        db.session.remove()


@pytest.fixture
def demo(app, sandbox):
    """The demo community (the data `make run` loads) plus a second community for access-control tests.
    Loaded through the product's own code once per run; later tests get the same rows back by COPY (the
    load takes ~0.3 s, the copy ~0.03 s: it matters over hundreds of tests)."""
    from server.extensions import db

    with app.app_context():
        if not _DEMO_ROWS:
            _load_demo()
            _DEMO_ROWS.update(_copy_out(db))
        else:
            _copy_in(db, _DEMO_ROWS)
        db.session.remove()


_DEMO_ROWS: dict[str, bytes] = {}


def _load_demo() -> None:
    from werkzeug.security import generate_password_hash

    from server import demo as demo_data
    from server.accounts.models import Building, Community, House, Staff
    from server.extensions import db

    demo_data.load()
    other = Community(code="other", name="别的小区")
    db.session.add(other)
    db.session.flush()
    b = Building(community_id=other.id, code="9", name="9栋")
    db.session.add(b)
    db.session.flush()
    db.session.add(House(community_id=other.id, building_id=b.id, unit="1", room="101"))
    # The demo password, as the demo's own staff, so browser tests can sign in as them.
    db.session.add(Staff(community_id=other.id, name="外小区经理", phone="13700000001", department="service_center",
                         role="manager", on_duty=True, mp_openid="other-manager", oa_openid="oa-other-manager",
                         password_hash=generate_password_hash(demo_data.DEMO_PASSWORD)))
    db.session.commit()


def _copy_out(db) -> dict[str, bytes]:
    rows: dict[str, bytes] = {}
    raw = db.engine.raw_connection()
    try:
        with raw.driver_connection.cursor() as cur:
            for table in db.metadata.sorted_tables:
                data = bytearray()
                with cur.copy(f'COPY "{table.name}" TO STDOUT') as copy:
                    for chunk in copy:
                        data += chunk
                if data:
                    rows[table.name] = bytes(data)
        raw.driver_connection.commit()
    finally:
        raw.close()
    return rows


def _copy_in(db, rows: dict[str, bytes]) -> None:
    raw = db.engine.raw_connection()
    try:
        conn = raw.driver_connection
        with conn.cursor() as cur:
            for table in db.metadata.sorted_tables:
                if table.name not in rows:
                    continue
                with cur.copy(f'COPY "{table.name}" FROM STDIN') as copy:
                    copy.write(rows[table.name])
                if "id" in table.c and table.c.id.autoincrement is not False:
                    cur.execute(f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                                f'(SELECT max(id) FROM "{table.name}"))')
        conn.commit()
    finally:
        raw.close()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def login(client):
    """login("openid") -> auth headers for that WeChat user (through the real code2Session path)."""

    def _login(openid: str) -> dict:
        res = client.post("/api/v1/auth/login", json={"code": f"dev:{openid}"})
        assert res.status_code == 200, res.get_json()
        return bearer(res.get_json()["token"])

    return _login


@pytest.fixture
def run_jobs(app):
    """Run a real RQ worker (forking, as in production) in burst mode until the queues are empty, after a
    sweep of the outbox (as the periodic sweeper would: it pushes work that has come due, e.g. retries)."""
    from jobs.worker import make_worker
    from server import outbox

    def _run() -> None:
        with app.app_context():
            outbox.sweep()
        make_worker(app).work(burst=True, logging_level="WARNING")

    return _run


BIND_101 = {"community_code": "demo", "building": "1", "unit": "1", "room": "101", "name": "张三",
            "phone": "13800000001", "role": "owner"}


@pytest.fixture
def zhangsan(client, login, demo):
    """张三, roster owner of 1-1-101, signed in, phone verified and bound (approved)."""
    headers = login("owner-zhangsan")
    assert client.post("/api/v1/me/phone", json={"code": "dev:13800000001"}, headers=headers).status_code == 200
    res = client.post("/api/v1/me/houses", headers=headers, json=BIND_101)
    assert res.status_code == 201 and res.get_json()["status"] == "approved", res.get_json()
    return SimpleNamespace(headers=headers, membership_id=res.get_json()["id"])


@pytest.fixture
def clock():
    """Move the product's clock: clock.shift(minutes=11) or clock.freeze(moment). Reset after the test."""
    from datetime import datetime, timedelta, timezone

    from server import timeutil

    class Clock:
        offset = timedelta()

        def shift(self, **delta) -> None:
            self.offset += timedelta(**delta)
            timeutil.set_clock(lambda: datetime.now(timezone.utc) + self.offset)

        def freeze(self, moment: datetime) -> None:
            timeutil.set_clock(lambda: moment)

    yield Clock()
    timeutil.set_clock(None)
