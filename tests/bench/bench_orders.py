"""Benchmark: time from POST /api/v1/work-orders to the worker's official-account push arriving at the
WeChat sandbox (p50 / p95 over N orders), and orders accepted per second by the API.

    .venv/bin/python tests/bench/bench_orders.py [--orders 200] [--rate 5] [--rq-workers 1] [--clients 4]

Phase 1 posts orders one by one at --rate per second (0: as fast as one client can) and measures each
order's latency to its push. Phase 2 posts --orders more from --clients concurrent clients and reports
how many the API accepted (201) per second. Runs on the real stack: gunicorn, RQ workers (forking, as
deployed), PostgreSQL, Redis, the sandbox over HTTP.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from datetime import datetime

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stack import request, stack  # noqa: E402


def setup_owner(api: str) -> tuple[dict, int]:
    status, body = request("POST", api + "/api/v1/auth/login", {"code": "dev:bench-owner"})
    assert status == 200, body
    auth = {"Authorization": "Bearer " + body["token"]}
    request("POST", api + "/api/v1/me/phone", {"code": "dev:13800000001"}, auth)
    status, body = request("POST", api + "/api/v1/me/houses", {
        "community_code": "demo", "building": "1", "unit": "1", "room": "101", "name": "张三",
        "phone": "13800000001", "role": "owner"}, auth)
    assert status == 201, body
    return auth, body["house"]["id"]


def post_order(api: str, auth: dict, house_id: int, n: int) -> tuple[int, dict]:
    return request("POST", api + "/api/v1/work-orders", {
        "kind": "repair", "house_id": house_id, "category": "electricity", "description": f"压测 {n}"}, auth)


def wait_for_pushes(sandbox: str, numbers: set[str], timeout: float) -> dict[str, float]:
    """order number -> time the sandbox received its 'new order' push (epoch seconds)."""
    seen: dict[str, float] = {}
    deadline = time.time() + timeout
    since = 0
    while len(seen) < len(numbers) and time.time() < deadline:
        _, messages = request("GET", f"{sandbox}sandbox/messages?template_id=tpl-order-assigned&since_id={since}")
        for m in messages:
            since = max(since, m["id"])
            number = m["data"]["character_string1"]["value"]
            if number in numbers and number not in seen:
                seen[number] = datetime.fromisoformat(m["received_at"].replace("Z", "+00:00")).timestamp()
        time.sleep(0.05)
    return seen


def pct(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100)[p - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--rate", type=float, default=5.0, help="orders per second in phase 1 (0: unpaced)")
    parser.add_argument("--rq-workers", type=int, default=1)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--worker-mode", choices=["fork", "simple"], default="fork")
    args = parser.parse_args()

    with stack(rq_workers=args.rq_workers, worker_mode=args.worker_mode) as (api, sandbox, _env):
        auth, house_id = setup_owner(api)
        request("DELETE", sandbox + "sandbox/messages")
        posted: dict[str, float] = {}
        interval = 1 / args.rate if args.rate else 0
        start = time.time()
        for n in range(args.orders):
            t0 = time.time()
            status, body = post_order(api, auth, house_id, n)
            assert status == 201, body
            posted[body["number"]] = t0
            if interval:
                time.sleep(max(0.0, start + (n + 1) * interval - time.time()))
        pushed = wait_for_pushes(sandbox, set(posted), timeout=120)
        latencies = sorted(pushed[n] - posted[n] for n in pushed)

        # Phase 2: throughput of the API accepting orders from concurrent clients.
        accepted = []
        lock = threading.Lock()

        def client(count: int, offset: int) -> None:
            for i in range(count):
                status, _ = post_order(api, auth, house_id, offset + i)
                if status == 201:
                    with lock:
                        accepted.append(1)

        per_client = args.orders // args.clients
        threads = [threading.Thread(target=client, args=(per_client, 100000 + c * per_client))
                   for c in range(args.clients)]
        t0 = time.time()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        burst = time.time() - t0

    print(f"{os.cpu_count()} cores; {args.rq_workers} RQ worker(s), mode {args.worker_mode}; gunicorn sync workers; "
          f"PostgreSQL + Redis; sandbox over HTTP")
    print(f"phase 1: {args.orders} repair orders posted at {args.rate or 'max'}/s; "
          f"pushes received {len(latencies)}/{args.orders}")
    print(f"  POST -> worker push at the sandbox: p50 {pct(latencies, 50) * 1000:.0f} ms, "
          f"p95 {pct(latencies, 95) * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms")
    print(f"phase 2: {len(accepted)} orders accepted (201) by {args.clients} concurrent clients in {burst:.2f} s: "
          f"{len(accepted) / burst:.0f} orders/s")


if __name__ == "__main__":
    main()
