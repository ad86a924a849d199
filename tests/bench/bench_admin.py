"""Benchmark of every admin page (/admin/) over a large community: server time per page (p50, p95) and the
number of SQL queries each page makes (a query per row would show as a count that grows with the page).

    .venv/bin/python tests/bench/bench_admin.py [--houses 100000] [--orders 500000] [--bills 1000000] [--runs 20]

Seeds the demo community (server/demo.py) up to --houses houses (500 a building, one roster owner each,
20% bound in the mini-program), --orders work orders over two years (the SQL of bench_order_list.py: the
newest 2,000 open in every state, the rest closed) and --bills bills (the houses' monthly fees over as many
months as it takes, the last three months partly unpaid), in its own PostgreSQL database
(WUYE_BENCH_DATABASE_URL, default wuye_bench_admin). Seeding is not part of any figure.

Then it signs in as the community's manager and requests each page --runs times in this process (the Flask
test client: server time, no network), after two warm-up requests. Pages are found in the app's URL map:
every GET page of the admin blueprint without parameters, plus pages of one record and the lists with the
filters the board links to.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
os.environ.setdefault("WUYE_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/wuye_bench_admin")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_desk import PER_BUILDING, person  # noqa: E402
from bench_order_list import BREACHES, OPEN_TAIL, SEED  # noqa: E402
from stack import DB_URL, REDIS_URL, recreate_database  # noqa: E402

MANAGER_PHONE, PASSWORD = "13900000003", "demo12345"

BILLS = """
WITH h AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM houses WHERE community_id = :cid),
m AS (SELECT generate_series(0, :months - 1) AS k)
INSERT INTO bills (community_id, house_id, fee_item_id, period, amount_fen, details, status, due_date, created_at,
                   reminder_stage, paid_at)
SELECT :cid, h.id, :item, to_char(date_trunc('month', CAST(:now AS timestamp)) - make_interval(months => m.k),
                                  'YYYY-MM'),
       20000 + (h.n % 50) * 100, '{}',
       CASE WHEN m.k < 3 AND h.n % (m.k + 3) = 0 THEN 'unpaid' ELSE 'paid' END,
       CAST(date_trunc('month', CAST(:now AS timestamp)) - make_interval(months => m.k) + interval '14 days' AS date),
       date_trunc('month', CAST(:now AS timestamp)) - make_interval(months => m.k), 0,
       CASE WHEN m.k < 3 AND h.n % (m.k + 3) = 0 THEN NULL
            ELSE date_trunc('month', CAST(:now AS timestamp)) - make_interval(months => m.k) + interval '10 days' END
FROM h CROSS JOIN m
ON CONFLICT DO NOTHING
"""


def seed(houses: int, orders: int, bills: int) -> int:
    from sqlalchemy import func, insert, select, text

    from server import demo
    from server.accounts.models import Building, Community, House, HouseMembership, Owner, RosterEntry
    from server.billing.models import FeeItem
    from server.extensions import db
    from server.timeutil import utcnow

    demo.load()
    cid = db.session.scalar(select(Community.id).where(Community.code == "demo"))
    have = db.session.scalar(select(func.count()).select_from(House).where(House.community_id == cid))
    conn = db.session.connection()
    extra = max(houses - have, 0)
    first_building = 100  # after the demo's own buildings 1-3
    buildings = conn.execute(insert(Building).returning(Building.id, sort_by_parameter_order=True), [
        {"community_id": cid, "code": str(first_building + b), "name": f"{first_building + b}栋"}
        for b in range(-(-extra // PER_BUILDING))]).scalars().all() if extra else []
    rows = []
    for n in range(extra):
        k = n % PER_BUILDING
        unit, floor, door = k // 100 + 1, k % 100 // 4 + 1, k % 4 + 1
        rows.append({"community_id": cid, "building_id": buildings[n // PER_BUILDING], "unit": str(unit),
                     "room": f"{floor}{door:02d}", "floor": floor, "area_m2": 60 + n % 90})
    house_ids = []
    for start in range(0, len(rows), 10000):
        house_ids += conn.execute(insert(House).returning(House.id, sort_by_parameter_order=True),
                                  rows[start:start + 10000]).scalars().all()
    now = utcnow()
    for start in range(0, extra, 10000):
        conn.execute(insert(RosterEntry), [
            {"house_id": house_ids[n], "name": person(n)[0], "phone": person(n)[1], "role": "owner",
             "source": "roster", "created_at": now} for n in range(start, min(start + 10000, extra))])
    bound = list(range(0, extra, 5))
    owner_ids = conn.execute(insert(Owner).returning(Owner.id, sort_by_parameter_order=True), [
        {"openid": f"bench-owner-{n}", "created_at": now} for n in bound]).scalars().all() if bound else []
    if owner_ids:
        conn.execute(insert(HouseMembership), [
            {"house_id": house_ids[n], "owner_id": o, "role": "owner", "status": "approved" if n % 500 else "pending",
             "name": person(n)[0], "phone": person(n)[1], "created_at": now, "updated_at": now}
            for o, n in zip(owner_ids, bound)])
    db.session.execute(text(SEED), {"cid": cid, "n": orders, "tail": OPEN_TAIL, "now": now.replace(tzinfo=None)})
    db.session.execute(text(BREACHES), {"cid": cid})
    item = db.session.scalar(select(FeeItem.id).where(FeeItem.community_id == cid, FeeItem.kind == "area"))
    total = db.session.scalar(select(func.count()).select_from(House).where(House.community_id == cid))
    months = max(1, -(-bills // total))
    db.session.execute(text(BILLS), {"cid": cid, "item": item, "months": months, "now": now.replace(tzinfo=None)})
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as analyze:
        analyze.execute(text("VACUUM ANALYZE"))
    return cid


def pages(app) -> list[str]:
    """Every GET page of the admin blueprint without parameters, then pages of one record and filtered lists."""
    from sqlalchemy import select

    from server.accounts.models import House
    from server.extensions import db
    from server.workorders.models import WorkOrder

    out = []
    for rule in app.url_map.iter_rules():
        if (rule.endpoint.startswith("admin.") and "GET" in rule.methods and not rule.arguments
                and rule.endpoint not in ("admin.login", "admin.static")
                and not re.search(r"export|download|xlsx|suggest|quote|fragment", rule.endpoint)):
            out.append(rule.rule)
    with app.app_context():
        open_order = db.session.scalar(select(WorkOrder.id).where(WorkOrder.status == "dispatched").limit(1))
        complaint = db.session.scalar(select(WorkOrder.id).where(WorkOrder.kind == "complaint")
                                      .order_by(WorkOrder.id.desc()).limit(1))
        house = db.session.scalar(select(House.id).order_by(House.id.desc()).limit(1))
    views = app.view_functions
    extra = ["/admin/board", "/admin/orders?clock=missed", "/admin/orders?clock=soon",
             "/admin/orders?status=submitted", "/admin/orders?q=漏水", "/admin/orders?house=100-1-101",
             "/admin/houses/suggest?q=1-1-101", "/admin/houses/suggest?q=王伟",
             f"/admin/orders/{open_order}", f"/admin/orders/{complaint}"]
    if "admin.house_detail" in views:
        extra.append(f"/admin/houses/{house}")
    if "admin.fees" in views:
        extra.append(f"/admin/fees?house_id={house}")
    return sorted(set(out)) + extra


def sign_in(client) -> None:
    page = client.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    res = client.post("/admin/login", data={"phone": MANAGER_PHONE, "password": PASSWORD, "csrf_token": token})
    assert res.status_code == 302, res.get_data(as_text=True)[:500]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--houses", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=500_000)
    parser.add_argument("--bills", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--reuse", action="store_true", help="keep the seeded database of an earlier run")
    args = parser.parse_args()

    from flask_migrate import upgrade
    from sqlalchemy import event

    from server.app import create_app
    from server.extensions import db

    if not args.reuse:
        recreate_database()
    app = create_app({"ENV": "test", "DATABASE_URL": DB_URL, "REDIS_URL": REDIS_URL, "SECRET_KEY": "b" * 48,
                      "LOG_LEVEL": "WARNING", "QUEUE_PREFIX": "bench-admin-", "RATE_STAFF_LOGIN_IP": (10**6, 60)})
    with app.app_context():
        if not args.reuse:
            upgrade()
            started = time.perf_counter()
            seed(args.houses, args.orders, args.bills)
            print(f"seeded {args.houses} houses, {args.orders} work orders, {args.bills} bills in "
                  f"{time.perf_counter() - started:.0f} s")
        queries = [0]
        event.listen(db.engine, "before_cursor_execute", lambda *a, **k: queries.__setitem__(0, queries[0] + 1))
    client = app.test_client()
    sign_in(client)
    print(f"{'page':58} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}  status")
    worst = 0.0
    for path in pages(app):
        for _ in range(2):
            client.get(path)
        times, counts, status = [], set(), None
        for _ in range(args.runs):
            queries[0] = 0
            started = time.perf_counter()
            res = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            counts.add(queries[0])
            status = res.status_code
        times.sort()
        p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
        worst = max(worst, p95)
        print(f"{path[:58]:58} {statistics.median(times):8.1f} {p95:8.1f} {'/'.join(map(str, sorted(counts))):>8}"
              f"  {status}")
    print(f"worst p95: {worst:.1f} ms (goal: under 150 ms)")


if __name__ == "__main__":
    main()
