"""This run's own PostgreSQL database and Redis db, so two test runs on one machine never collide.

- Database: `wuye_test_<pid>_<random>`, created for the run and dropped at its end. Databases left by a
  run that died (its pid is gone) are dropped when the next run starts.
- Redis: the first db (1-15, not 0 which `make run` uses, nor 12 which the benchmarks use) that is empty
  or was claimed by a run that has died. The claim is a key in that db naming host and pid; `flush()`
  empties the db and writes the claim back in one transaction, so no other run can take it meanwhile.
  A db holding someone else's keys is never touched.

WUYE_TEST_DATABASE_URL / WUYE_TEST_REDIS_URL override either (used as given, and flushed/recreated).
Processes a test starts inherit this run's choice through the same variables; pytest-xdist's workers do
not (each is a run of its own: WUYE_TEST_RESOURCES_OF names whose choice the variables carry).
"""
from __future__ import annotations

import os
import re
import secrets
import socket

import psycopg
import redis as redis_lib
from sqlalchemy.engine import make_url

BASE_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/"
BASE_REDIS = "redis://127.0.0.1:6379/"
CLAIM_KEY = "wuye-test:claim"
REDIS_CANDIDATES = [n for n in range(1, 16) if n != 12]

_state: dict = {}
OWNER_VAR = "WUYE_TEST_RESOURCES_OF"


def _me_in_xdist() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


# Decided once, before this process exports its own choice: were the variables set for this process (by
# the person running the tests, or by the test run that started it) or for another xdist process?
_FOREIGN = os.environ.get(OWNER_VAR) not in (None, _me_in_xdist())


def _given(name: str) -> str | None:
    """An explicit or inherited setting, unless inherited from another xdist process (the controller)."""
    return None if _FOREIGN else os.environ.get(name)


def _export(name: str, value: str) -> None:
    os.environ[name] = value
    os.environ[OWNER_VAR] = _me_in_xdist()


def _me() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# -- PostgreSQL -----------------------------------------------------------------------------------------

def database_url() -> str:
    if "db" not in _state:
        _state["db"] = _given("WUYE_TEST_DATABASE_URL") or \
            f"{BASE_PG}wuye_test_{os.getpid()}_{secrets.token_hex(3)}"
        # Processes the tests start (spawned interpreters, workers) use the same database.
        _export("WUYE_TEST_DATABASE_URL", _state["db"])
    return _state["db"]


def _admin(url: str) -> str:
    u = make_url(url)
    dsn = f"host={u.host} port={u.port or 5432} user={u.username or 'postgres'} dbname=postgres"
    return dsn + (f" password={u.password}" if u.password else "")


def recreate_database(url: str) -> None:
    name = make_url(url).database
    with psycopg.connect(_admin(url), autocommit=True) as conn:
        for (stale,) in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'wuye\\_test\\_%'").fetchall():
            m = re.fullmatch(r"wuye_test_(\d+)_[0-9a-f]+", stale)
            if m and stale != name and not _alive(int(m.group(1))):
                conn.execute(f'DROP DATABASE IF EXISTS "{stale}" WITH (FORCE)')
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    with psycopg.connect(_admin(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


# -- Redis ----------------------------------------------------------------------------------------------

def redis_url() -> str:
    if "redis" in _state:
        return _state["redis"]
    given = _given("WUYE_TEST_REDIS_URL")
    if given:
        _state["redis"] = given
        return given
    for number in REDIS_CANDIDATES:
        conn = redis_lib.Redis.from_url(f"{BASE_REDIS}{number}")
        if _claim(conn):
            _state["redis"] = f"{BASE_REDIS}{number}"
            _state["redis_claimed"] = True
            _export("WUYE_TEST_REDIS_URL", _state["redis"])  # inherited by processes the tests start
            return _state["redis"]
    raise RuntimeError("no free Redis db for this test run (dbs 1-15 are all in use)")


def _claim(conn: redis_lib.Redis) -> bool:
    me = _me()
    with conn.pipeline() as pipe:
        try:
            pipe.watch(CLAIM_KEY)
            holder = pipe.get(CLAIM_KEY)
            if holder is None:
                if pipe.dbsize() > 0:
                    return False  # someone else's data: never ours to flush
            else:
                host, _, pid = holder.decode().rpartition(":")
                if host != socket.gethostname() or not pid.isdigit() or _alive(int(pid)):
                    return False  # a live run (or another host's) holds it
            pipe.multi()
            pipe.flushdb()
            pipe.set(CLAIM_KEY, me)
            pipe.execute()
            return True
        except redis_lib.WatchError:
            return False


def flush(conn: redis_lib.Redis) -> None:
    """Empty this run's db, keeping the claim (atomically)."""
    with conn.pipeline(transaction=True) as pipe:
        pipe.flushdb()
        if _state.get("redis_claimed"):
            pipe.set(CLAIM_KEY, _me())
        pipe.execute()


def release() -> None:
    if _state.get("redis_claimed"):
        conn = redis_lib.Redis.from_url(_state["redis"])
        if conn.get(CLAIM_KEY) == _me().encode():
            conn.flushdb()
        _state.pop("redis_claimed")
