"""Browser tests of the admin page: a real headless Chromium (Debian's package) driven by Playwright,
against the live app (served from a thread of this process, on the test database), the WeChat sandbox
and a real RQ worker process. Every test saves screenshots under build/screenshots/ (gitignored)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import ROOT, TEST_DB_URL, TEST_REDIS_URL, free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = ROOT / "build" / "screenshots"
DEMO_PASSWORD = "demo12345"
# The demo's staff (server/demo.py) by what they do.
RECEPTION, CASHIER, MANAGER, ENG_LEAD = "13900000001", "13900000002", "13900000003", "13900000004"
OTHER_MANAGER = "13700000001"  # the manager of the second community of the `demo` fixture

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def live_server(app):
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


@pytest.fixture(scope="module")
def worker_process(app, sandbox_server):
    """`python -m jobs.worker`, as `make run` starts it, configured like the test app. Per module, not per
    session: left running, it would take the jobs of the tests that come after (tests/e2e runs its own
    worker with run_jobs and expects to find them)."""
    cfg = app.config
    env = dict(os.environ, PYTHONUNBUFFERED="1", WUYE_ENV="test", WUYE_DATABASE_URL=TEST_DB_URL,
               WUYE_REDIS_URL=TEST_REDIS_URL, WUYE_SECRET_KEY=cfg["SECRET_KEY"],
               WUYE_WECHAT_API_BASE=cfg["WECHAT_API_BASE"], WUYE_PAY_API_BASE=cfg["PAY_API_BASE"],
               WUYE_QUEUE_PREFIX=cfg["QUEUE_PREFIX"], WUYE_WECHAT_TIMEOUT="3", WUYE_LOG_LEVEL="WARNING")
    log = open(ROOT / "build" / "worker.log", "ab") if (ROOT / "build").is_dir() else subprocess.DEVNULL
    proc = subprocess.Popen([sys.executable, "-m", "jobs.worker"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail("chromium is not installed: `make test` installs Debian's chromium package")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield chromium
        chromium.close()


class Desk:
    """A member of staff at the admin page in their own browser context."""

    def __init__(self, page, base: str) -> None:
        self.page, self.base = page, base
        self.console_errors: list[str] = []
        page.on("console", lambda msg: msg.type == "error" and self.console_errors.append(msg.text))

    def url(self, path: str) -> str:
        return self.base + path

    def go(self, path: str):
        return self.page.goto(self.url(path))

    def sign_in(self, phone: str, password: str = DEMO_PASSWORD) -> None:
        self.go("/admin/login")
        self.page.fill("input[name=phone]", phone)
        self.page.fill("input[name=password]", password)
        self.page.click("button[type=submit]")

    def shot(self, name: str) -> Path:
        path = SHOTS / f"{re.sub(r'[^0-9A-Za-z_-]', '_', name)}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def desk(browser, live_server, demo, worker_process, sandbox):
    """desk() -> a fresh signed-out browser (1366x768, Chinese, Asia/Shanghai) on the live admin page."""
    contexts = []

    def _open(width: int = 1366, height: int = 768) -> Desk:
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN",
                                      timezone_id="Asia/Shanghai")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15000)
        return Desk(page, live_server)

    yield _open
    for context in contexts:
        context.close()


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.2):
    """Poll until predicate() is truthy (the worker runs in its own process): returns its value."""
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(interval)
