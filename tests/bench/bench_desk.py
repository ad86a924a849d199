"""Benchmark of the desk's house search (GET /api/v1/staff/houses/search) in a community of 100,000 houses,
as a receptionist types: house numbers (whole and partial), surnames and whole names, phones (whole and
their first digits).

    .venv/bin/python tests/bench/bench_desk.py [--houses 100000] [--requests 300] [--threads 4]

The bench community has --houses houses (500 a building: 5 units x 25 floors x 4 doors), one roster entry
each (names from common surnames and given names, so a surname matches thousands of people), and 20% of the
houses bound in the mini-program (an approved membership; every second one under another name and phone
than the roster's). Statistics are refreshed after seeding, as autovacuum would. Then --threads threads send
--requests searches of each kind through gunicorn with a receptionist's token, and the plans of the people
lookups are printed (they must use the prefix indexes, never a scan of the whole table for a rare prefix).

Runs on the real stack (tests/bench/stack.py); seeding runs in this process and is not part of any figure.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from stack import request, stack  # noqa: E402

PER_BUILDING = 500
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超",
         "秀兰", "霞", "平", "刚", "桂英", "建国", "建华", "志强", "海燕", "红梅", "玉兰", "文"]
PASSWORD = "bench12345"


def person(n: int) -> tuple[str, str]:
    """A deterministic name and mobile number for the n-th resident."""
    rnd = random.Random(n)
    return rnd.choice(SURNAMES) + rnd.choice(GIVEN), f"1{rnd.choice('3589')}{n:09d}"


def seed(houses: int) -> tuple[int, list[tuple[str, str, str]], list[tuple[str, str]]]:
    """The bench community and its receptionist. Returns (community id, house numbers, (name, phone)s)."""
    from sqlalchemy import insert, text
    from werkzeug.security import generate_password_hash

    from server.accounts.models import Building, Community, House, HouseMembership, Owner, RosterEntry, Staff
    from server.extensions import db
    from server.timeutil import utcnow

    community = Community(code="bench", name="压测小区")
    db.session.add(community)
    db.session.flush()
    db.session.add(Staff(community_id=community.id, name="压测接待", phone="13900009998", department="service_center",
                         role="receptionist", on_duty=True, password_hash=generate_password_hash(PASSWORD)))
    conn = db.session.connection()
    buildings = conn.execute(insert(Building).returning(Building.id, sort_by_parameter_order=True), [
        {"community_id": community.id, "code": str(b + 1), "name": f"{b + 1}栋"}
        for b in range(-(-houses // PER_BUILDING))]).scalars().all()
    numbers, rows = [], []
    for n in range(houses):
        k = n % PER_BUILDING
        unit, floor, door = k // 100 + 1, k % 100 // 4 + 1, k % 4 + 1
        numbers.append((str(n // PER_BUILDING + 1), str(unit), f"{floor}{door:02d}"))
        rows.append({"community_id": community.id, "building_id": buildings[n // PER_BUILDING], "unit": str(unit),
                     "room": f"{floor}{door:02d}", "floor": floor})
    house_ids = []
    for start in range(0, len(rows), 10000):
        house_ids += conn.execute(insert(House).returning(House.id, sort_by_parameter_order=True),
                                  rows[start:start + 10000]).scalars().all()
    now = utcnow()
    people = [person(n) for n in range(houses)]
    for start in range(0, houses, 10000):
        conn.execute(insert(RosterEntry), [
            {"house_id": house_ids[n], "name": people[n][0], "phone": people[n][1], "role": "owner",
             "source": "roster", "created_at": now} for n in range(start, min(start + 10000, houses))])
    bound = list(range(0, houses, 5))
    owner_ids = conn.execute(insert(Owner).returning(Owner.id, sort_by_parameter_order=True), [
        {"openid": f"bench-owner-{n}", "created_at": now} for n in bound]).scalars().all()
    members = []
    for owner_id, n in zip(owner_ids, bound):
        name, phone = people[n] if n % 2 == 0 else person(houses + n)
        members.append({"house_id": house_ids[n], "owner_id": owner_id, "role": "owner", "status": "approved",
                        "name": name, "phone": phone, "created_at": now, "updated_at": now})
    conn.execute(insert(HouseMembership), members)
    db.session.commit()
    with db.engine.connect() as analyze:
        analyze.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    return community.id, numbers, people


def queries(numbers, people, count: int) -> dict[str, list[str]]:
    rnd = random.Random(1)
    houses = [rnd.choice(numbers) for _ in range(count)]
    residents = [rnd.choice(people) for _ in range(count)]
    return {
        "house 12-3-1504": ["-".join(h) for h in houses],
        "unit 12-3": ["-".join(h[:2]) for h in houses],
        "building 12": [h[0] for h in houses],
        "surname 王": [p[0][0] for p in residents],
        "whole name": [p[0] for p in residents],
        "whole phone": [p[1] for p in residents],
        "first 7 digits": [p[1][:7] for p in residents],
    }


def run(api: str, token: str, paths: list[str], threads: int) -> list[float]:
    headers = {"Authorization": "Bearer " + token}

    def one(path: str) -> float:
        t0 = time.perf_counter()
        status, body = request("GET", api + path, headers=headers)
        assert status == 200, body
        return time.perf_counter() - t0

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, paths))


def in_process(qs: list[str]) -> list[float]:
    """The service alone (no HTTP), as the receptionist: seconds per search."""
    from sqlalchemy import select

    from server.accounts.models import Staff
    from server.desk import houses
    from server.extensions import db

    out = []
    for q in qs:
        staff = db.session.scalar(select(Staff).where(Staff.phone == "13900009998"))
        staff.community  # noqa: B018 - loaded before the clock starts, as the request's sign-in does
        t0 = time.perf_counter()
        houses.search(staff, q)
        out.append(time.perf_counter() - t0)
        db.session.remove()  # a fresh session each time, as each request has
    return out


def plans(community_id: int) -> None:
    from sqlalchemy import text

    from server.extensions import db

    for what, sql in (
        ("rare name prefix", "r.name LIKE '沈建国%'"), ("phone prefix", "r.phone LIKE '1380001234%'"),
        ("whole phone", "r.phone = '13800012345'")):
        rows = db.session.execute(text(
            f"EXPLAIN SELECT r.id FROM roster_entries r JOIN houses h ON h.id = r.house_id "
            f"WHERE h.community_id = {community_id} AND {sql} LIMIT 8")).scalars().all()
        print(f"    plan, {what}: " + " / ".join(line.strip() for line in rows if "Scan" in line))


def pct(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100)[p - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--houses", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300, help="searches of each kind")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--web-workers", type=int, default=None)
    args = parser.parse_args()

    with stack(web_workers=args.web_workers) as (api, _sandbox, env):
        os.environ.update(env)
        from server.app import create_app
        from server.extensions import db

        app = create_app()
        with app.app_context():
            t0 = time.perf_counter()
            community_id, numbers, people = seed(args.houses)
            seeded = time.perf_counter() - t0
        status, body = request("POST", api + "/api/v1/auth/staff-login", {"phone": "13900009998", "password": PASSWORD})
        assert status == 200, body
        print(f"{os.cpu_count()} cores; PostgreSQL on this machine; gunicorn sync x "
              f"{args.web_workers or env.get('WEB_CONCURRENCY') or 'default'}; {args.threads} client threads, "
              f"a new connection per request")
        print(f"{args.houses} houses, {args.houses} roster entries, {len(range(0, args.houses, 5))} approved "
              f"bindings seeded in {seeded:.1f} s (not counted)")
        token = body["token"]
        me = run(api, token, ["/api/v1/staff/me"] * args.requests, args.threads)
        print(f"  {'(GET /staff/me)':16} {len(me)} requests: p50 {pct(me, 50) * 1000:5.1f} ms, "
              f"p95 {pct(me, 95) * 1000:5.1f} ms: the same stack's floor, for comparison")
        for kind, qs in queries(numbers, people, args.requests).items():
            paths = [f"/api/v1/staff/houses/search?q={urllib.parse.quote(q)}" for q in qs]
            run(api, token, paths[:10], args.threads)  # warm-up
            seconds = run(api, token, paths, args.threads)
            with app.app_context():
                service = in_process(qs)
                db.session.remove()
            print(f"  {kind:16} {len(qs)} searches: p50 {pct(seconds, 50) * 1000:5.1f} ms, "
                  f"p95 {pct(seconds, 95) * 1000:5.1f} ms, max {max(seconds) * 1000:5.1f} ms over HTTP; "
                  f"the service alone p50 {pct(service, 50) * 1000:4.1f} ms, p95 {pct(service, 95) * 1000:4.1f} ms")
        with app.app_context():
            plans(community_id)
            db.session.remove()


if __name__ == "__main__":
    main()
