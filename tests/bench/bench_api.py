"""Benchmark: requests/s and p50/p99 latency of authenticated GET /api/v1/me next to GET /api/v1/health,
in one run of the real stack (gunicorn, PostgreSQL, Redis).

    .venv/bin/python tests/bench/bench_api.py [--seconds 10] [--clients 8]

The load generator runs in separate processes on the same machine, so the figures include its cost.
"""
from __future__ import annotations

import argparse
import http.client
import multiprocessing as mp
import os
import statistics
import sys
import time
from urllib.parse import urlparse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stack import request, stack  # noqa: E402


def _client(url: str, headers: dict, seconds: float, start: float, out) -> None:
    parsed = urlparse(url)
    latencies, errors = [], 0
    while time.time() < start:
        time.sleep(0.001)
    end = start + seconds
    while time.time() < end:
        t0 = time.perf_counter()
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
        try:
            conn.request("GET", parsed.path, headers=headers)
            res = conn.getresponse()
            res.read()
            ok = res.status == 200
        except OSError:
            ok = False
        finally:
            conn.close()
        if ok:
            latencies.append(time.perf_counter() - t0)
        else:
            errors += 1
    out.put((latencies, errors))


def load(url: str, headers: dict, seconds: float, clients: int) -> dict:
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    start = time.time() + 0.5
    procs = [ctx.Process(target=_client, args=(url, headers, seconds, start, out)) for _ in range(clients)]
    for p in procs:
        p.start()
    latencies, errors = [], 0
    for _ in procs:
        lat, err = out.get()
        latencies += lat
        errors += err
    for p in procs:
        p.join()
    latencies.sort()
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0] * 99
    return {"requests": len(latencies), "errors": errors, "rps": len(latencies) / seconds,
            "p50_ms": q[49] * 1000, "p99_ms": q[98] * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--web-workers", type=int, default=None)
    args = parser.parse_args()
    with stack(web_workers=args.web_workers) as (api, _sandbox, _env):
        status, body = request("POST", api + "/api/v1/auth/login", {"code": "dev:bench-owner"})
        assert status == 200, body
        auth = {"Authorization": "Bearer " + body["token"]}
        request("POST", api + "/api/v1/me/phone", {"code": "dev:13800000001"}, auth)
        status, body = request("POST", api + "/api/v1/me/houses", {
            "community_code": "demo", "building": "1", "unit": "1", "room": "101", "name": "张三",
            "phone": "13800000001", "role": "owner"}, auth)
        assert status == 201, body
        load(api + "/api/v1/health", {}, 2, args.clients)  # warm-up
        results = {
            "GET /api/v1/health": load(api + "/api/v1/health", {}, args.seconds, args.clients),
            "GET /api/v1/me (authenticated)": load(api + "/api/v1/me", auth, args.seconds, args.clients),
        }
    workers = args.web_workers or min(os.cpu_count() * 2 + 1, 8)
    print(f"{os.cpu_count()} cores, gunicorn sync x{workers}, {args.clients} client processes, "
          f"{args.seconds:.0f} s per endpoint, new connection per request")
    print(f"{'endpoint':34} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, r in results.items():
        print(f"{name:34} {r['rps']:8.0f} {r['p50_ms']:8.1f} {r['p99_ms']:8.1f} {r['errors']:7d}")


if __name__ == "__main__":
    main()
