"""Benchmark: a notice to N households (default 10,000), each with an approved owner who accepted the notice
template once. Measures the time from POST /api/v1/staff/notices until the WeChat sandbox has received
every subscribe message (goal: 10,000 in under 15 s on a 2-core machine).

    .venv/bin/python tests/bench/bench_notices.py [--households 10000] [--rq-workers 2] [--worker-mode simple]
                                                  [--batch-size 500] [--threads 16]

Seeding (bulk inserts straight into the bench database with SQLAlchemy Core) is not part of the figure.
Runs on the real stack: gunicorn, RQ workers, PostgreSQL, Redis, the sandbox over HTTP; the workers, the
database, the sandbox and this script share the machine. The sandbox is polled with since_id, so polling
stays cheap.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from stack import DB_URL, request, stack

TEMPLATE_ID = "tpl-notice"  # the sandbox/demo id of the `notice` subscribe template
PER_BUILDING = 500


def seed(households: int) -> None:
    """N houses in new buildings of the demo community, one approved owner each, one notice credit each."""
    from sqlalchemy import create_engine, insert, select

    from server.accounts.models import Building, Community, House, HouseMembership, Owner
    from server.wechat.models import SubscribeCredit

    now = datetime.now(UTC)
    engine = create_engine(DB_URL)
    with engine.begin() as conn:
        community_id = conn.scalar(select(Community.id).where(Community.code == "demo"))
        buildings = conn.execute(insert(Building).returning(Building.id, sort_by_parameter_order=True), [
            {"community_id": community_id, "code": f"N{b + 1}", "name": f"N{b + 1}栋"}
            for b in range(-(-households // PER_BUILDING))]).scalars().all()
        houses = conn.execute(insert(House).returning(House.id, sort_by_parameter_order=True), [
            {"community_id": community_id, "building_id": buildings[n // PER_BUILDING], "unit": "1",
             "room": str(n % PER_BUILDING + 1)} for n in range(households)]).scalars().all()
        owners = conn.execute(insert(Owner).returning(Owner.id, sort_by_parameter_order=True), [
            {"openid": f"bench-notice-{n:05d}", "name": f"业主{n}", "created_at": now}
            for n in range(households)]).scalars().all()
        conn.execute(insert(HouseMembership), [
            {"house_id": house, "owner_id": owner, "role": "owner", "status": "approved", "name": f"业主{n}",
             "phone": f"137{n:08d}", "created_at": now, "updated_at": now}
            for n, (house, owner) in enumerate(zip(houses, owners))])
        conn.execute(insert(SubscribeCredit), [
            {"owner_id": owner, "template_id": TEMPLATE_ID, "credits": 1, "updated_at": now} for owner in owners])
    engine.dispose()


def wait_for_messages(sandbox: str, expected: int, timeout: float) -> tuple[set[str], float | None, float | None]:
    """Poll the sandbox: (distinct recipients, first and last received_at as epoch seconds)."""
    seen: set[str] = set()
    first = last = None
    since = 0
    deadline = time.time() + timeout
    while len(seen) < expected and time.time() < deadline:
        _, messages = request("GET", f"{sandbox}sandbox/messages?template_id={TEMPLATE_ID}&since_id={since}")
        for m in messages:
            since = max(since, m["id"])
            seen.add(m["touser"])
            at = datetime.fromisoformat(m["received_at"]).timestamp()
            first = at if first is None else min(first, at)
            last = at if last is None else max(last, at)
        time.sleep(0.25)  # the figure comes from received_at, not from when the poll saw it
    return seen, first, last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=10000)
    parser.add_argument("--rq-workers", type=int, default=2)
    parser.add_argument("--worker-mode", choices=["fork", "simple"], default="simple")
    parser.add_argument("--batch-size", type=int, default=None, help="WUYE_NOTICE_BATCH_SIZE (default: the setting's)")
    parser.add_argument("--threads", type=int, default=None, help="WUYE_NOTICE_SEND_THREADS (default: the setting's)")
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args()

    from server.config import BY_NAME

    batch_size = args.batch_size or int(os.environ.get("WUYE_NOTICE_BATCH_SIZE") or BY_NAME["NOTICE_BATCH_SIZE"].default)
    threads = args.threads or int(os.environ.get("WUYE_NOTICE_SEND_THREADS") or BY_NAME["NOTICE_SEND_THREADS"].default)
    os.environ["WUYE_NOTICE_BATCH_SIZE"] = str(batch_size)  # stack() passes the environment on
    os.environ["WUYE_NOTICE_SEND_THREADS"] = str(threads)

    with stack(rq_workers=args.rq_workers, worker_mode=args.worker_mode) as (api, sandbox, _env):
        t = time.time()
        seed(args.households)
        seeded = time.time() - t
        status, body = request("POST", api + "/api/v1/auth/login", {"code": "dev:demo-reception"})
        assert status == 200, body
        auth = {"Authorization": "Bearer " + body["token"]}
        request("DELETE", sandbox + "sandbox/messages")

        t0 = time.time()
        status, notice = request("POST", api + "/api/v1/staff/notices", {
            "title": "全小区停水通知", "kind": "water_cut",
            "content": "因市政管网检修，本小区 11 月 25 日 9:00-17:00 停水，请提前储水。给您带来不便，敬请谅解。"}, auth)
        published = time.time() - t0
        assert status == 201, notice
        seen, first, last = wait_for_messages(sandbox, args.households, args.timeout)
        done = time.time() - t0
        _, detail = request("GET", f"{api}/api/v1/staff/notices/{notice['id']}", headers=auth)

    elapsed = (last - t0) if last else float("nan")
    print(f"{os.cpu_count()} cores; {args.rq_workers} RQ worker(s), mode {args.worker_mode}; "
          f"NOTICE_BATCH_SIZE={batch_size}, NOTICE_SEND_THREADS={threads}; gunicorn, PostgreSQL, Redis, "
          f"sandbox over HTTP")
    print(f"seeded {args.households} households (owner + notice credit each) in {seeded:.1f} s (not measured)")
    print(f"publish: {published * 1000:.0f} ms (201, affected {notice['affected']}); "
          f"push stats {detail['push']}")
    print(f"recipients at the sandbox: {len(seen)}/{args.households}; first after "
          f"{(first - t0) if first else float('nan'):.2f} s")
    print(f"publish -> all messages received: {elapsed:.2f} s ({len(seen) / elapsed:.0f} messages/s; "
          f"poll saw it at {done:.2f} s)")
    if len(seen) < args.households:
        sys.exit(f"only {len(seen)} of {args.households} messages arrived within {args.timeout:.0f} s")


if __name__ == "__main__":
    main()
