"""Start the real stack for a benchmark: own PostgreSQL database and Redis db, migrations, demo data,
the WeChat sandbox, gunicorn, and optionally RQ workers. Used by the bench_*.py scripts."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
DB_URL = os.environ.get("WUYE_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/wuye_bench")
REDIS_URL = os.environ.get("WUYE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def recreate_database() -> None:
    u = make_url(DB_URL)
    with psycopg.connect(f"host={u.host} port={u.port or 5432} user={u.username} dbname=postgres",
                         autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{u.database}"')


def request(method: str, url: str, body: dict | None = None, headers: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return res.status, json.loads(res.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


@contextmanager
def stack(web_workers: int | None = None, rq_workers: int = 0, worker_mode: str = "fork",
          extra_env: dict[str, str] | None = None):
    """Yields (api_base, sandbox_base, env). WeChat Pay goes to the sandbox and notifies this gunicorn;
    `extra_env` adds or overrides settings of every process (web, workers, sandbox)."""
    import redis

    recreate_database()
    redis.Redis.from_url(REDIS_URL).flushdb()
    sandbox_port, api_port = free_port(), free_port()
    sandbox_base = f"http://127.0.0.1:{sandbox_port}/"
    env = dict(os.environ, WUYE_ENV="test", WUYE_DATABASE_URL=DB_URL, WUYE_REDIS_URL=REDIS_URL,
               WUYE_SECRET_KEY="bench-secret-" + "x" * 32, WUYE_WECHAT_API_BASE=sandbox_base,
               WUYE_LOG_LEVEL="WARNING", WUYE_QUEUE_PREFIX="bench-", WUYE_TRUSTED_PROXIES="",
               WUYE_RATE_LOGIN_IP="100000/60", WUYE_RATE_BIND_IP="100000/60",
               WUYE_WORKER_MODE=worker_mode, FLASK_APP="server.app:create_app", GUNICORN_BIND=f"127.0.0.1:{api_port}",
               SANDBOX_OA_CALLBACK_URL=f"http://127.0.0.1:{api_port}/wechat/official/events",
               WUYE_PAY_API_BASE=sandbox_base.rstrip("/"),
               WUYE_PAY_NOTIFY_URL=f"http://127.0.0.1:{api_port}/api/v1/pay/notify",
               **(extra_env or {}))
    if web_workers:
        env["WEB_CONCURRENCY"] = str(web_workers)
    bin_dir = Path(sys.executable).parent
    subprocess.run([str(bin_dir / "flask"), "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run([str(bin_dir / "flask"), "demo", "load"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    procs = [
        subprocess.Popen([sys.executable, "-m", "server.sandbox", "--port", str(sandbox_port), "--quiet"], cwd=ROOT, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([str(bin_dir / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "server.app:create_app()"],
                         cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]
    procs += [subprocess.Popen([sys.executable, "-m", "jobs.worker"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(rq_workers)]
    try:
        wait_http(sandbox_base + "sandbox/health")
        wait_http(f"http://127.0.0.1:{api_port}/api/v1/health")
        yield f"http://127.0.0.1:{api_port}", sandbox_base, env
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
