"""Fault injection: the real processes (`python -m jobs.worker`, `python -m jobs.cron`) against a throwaway
redis-server of their own (so it can be killed), this run's test database and the WeChat sandbox, with the
API served over HTTP from a thread of this process (WeChat Pay notifies it). Run on their own with
`pytest -m faults`."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis as redis_lib
from werkzeug.serving import make_server

from tests.conftest import ROOT, TEST_DB_URL, free_port, test_config

FAST = {"OUTBOX_SWEEP_SECONDS": "2", "OUTBOX_BACKOFF": "2,4,8,15", "OUTBOX_STALE_SECONDS": "5",
        "WECHAT_TIMEOUT": "3", "WECHAT_RETRIES": "1"}


class RedisServer:
    """A redis-server of this test's own on a free port: killed and restarted at will (nothing kept)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        exe = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.proc = subprocess.Popen([exe, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
                                      "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        conn = redis_lib.Redis.from_url(self.url)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                if conn.ping():
                    return
            except redis_lib.RedisError:
                time.sleep(0.05)
        raise RuntimeError("throwaway redis-server did not start")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


class Process:
    """One of the stack's long-running processes, started as `make run` starts it."""

    def __init__(self, module: str, env: dict, log: Path) -> None:
        self.module, self.env, self.log = module, env, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        out = open(self.log, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", self.module], cwd=ROOT, env=self.env, stdout=out,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group (the worker and its forked work horse)."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


class Stack:
    def __init__(self, app, redis: RedisServer, worker: Process, cron: Process, base: str) -> None:
        self.app, self.redis, self.worker, self.cron, self.base = app, redis, worker, cron, base


class SandboxServer:
    """A WeChat sandbox of this test's own, to be taken down and brought back on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        import requests

        self.proc = subprocess.Popen([sys.executable, "-m", "server.sandbox", "--host", "127.0.0.1", "--port",
                                      str(self.port), "--quiet"], cwd=ROOT, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if requests.get(self.base + "sandbox/health", timeout=1).ok:
                    return
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("sandbox did not start")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def own_sandbox():
    server = SandboxServer()
    server.start()
    yield server
    server.kill()


@pytest.fixture
def stack(request, app, sandbox, demo, tmp_path):
    """API (HTTP, own Redis), worker and cron processes; everything stopped after the test. The WeChat
    sandbox is the session's, or the test's own when it asks for `own_sandbox`."""
    from server.app import create_app

    if "own_sandbox" in request.fixturenames:
        sandbox = request.getfixturevalue("own_sandbox")
    redis = RedisServer()
    redis.start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    overrides = {"REDIS_URL": redis.url, "PAY_NOTIFY_URL": f"{base}/api/v1/pay/notify", "UPLOAD_DIR": str(tmp_path),
                 **{k: _parse(k, v) for k, v in FAST.items()}}
    api = create_app(test_config(sandbox.base, **overrides))
    server = make_server("127.0.0.1", port, api, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    cfg = api.config
    env = dict(os.environ, PYTHONUNBUFFERED="1", WUYE_ENV="test", WUYE_DATABASE_URL=TEST_DB_URL,
               WUYE_REDIS_URL=redis.url, WUYE_SECRET_KEY=cfg["SECRET_KEY"],
               WUYE_WECHAT_API_BASE=cfg["WECHAT_API_BASE"], WUYE_PAY_API_BASE=cfg["PAY_API_BASE"],
               WUYE_PAY_NOTIFY_URL=cfg["PAY_NOTIFY_URL"], WUYE_QUEUE_PREFIX=cfg["QUEUE_PREFIX"],
               WUYE_LOG_LEVEL="INFO", **{f"WUYE_{k}": v for k, v in FAST.items()})
    logs = ROOT / "build" / "faults"
    logs.mkdir(parents=True, exist_ok=True)
    worker = Process("jobs.worker", env, logs / "worker.log")
    cron = Process("jobs.cron", env, logs / "cron.log")
    worker.start()
    cron.start()
    yield Stack(api, redis, worker, cron, base)
    for p in (cron, worker):
        p.stop()
    server.shutdown()
    redis.kill()


def _parse(name: str, value: str):
    from server.config import BY_NAME

    return BY_NAME[name].parse(value)


def eventually(predicate, timeout: float, interval: float = 0.25, what: str = "condition"):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{what} not reached within {timeout:.0f} s (last: {last!r})")
