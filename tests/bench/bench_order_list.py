"""Benchmark of the staff's order list (工单 on the admin page, GET /api/v1/staff/work-orders) over many
work orders: each filter and sort order of StaffOrderFilters, one page of 20 with its total, the xlsx
export of 5,000 rows, the desk's board.

    .venv/bin/python tests/bench/bench_order_list.py [--orders 500000] [--runs 5] [--explain]

Seeds the demo community with --orders work orders straight in SQL (two years of them, two minutes apart:
60% repairs, 30% paid services, 10% complaints; the last 2,000 open in every state, the rest closed, 1% of
those never called back, 0.5% with a recorded breach), then times what a receptionist's list asks for, in
this process, against its own PostgreSQL database (WUYE_BENCH_DATABASE_URL, default wuye_bench_orders).
Seeding is not part of any figure. --explain prints PostgreSQL's plan of each page query.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
os.environ.setdefault("WUYE_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/wuye_bench_orders")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stack import DB_URL, REDIS_URL, recreate_database  # noqa: E402

OPEN_TAIL = 2000  # the newest orders are still open, in every open state

SEED = """
WITH h AS (SELECT array_agg(id ORDER BY id) AS ids FROM houses WHERE community_id = :cid),
s AS (
  SELECT i,
         CASE WHEN i % 10 < 6 THEN 'repair' WHEN i % 10 < 9 THEN 'service' ELSE 'complaint' END AS kind,
         CASE WHEN i > :n - :tail THEN (ARRAY['submitted','dispatched','accepted','on_site','paused','completed',
                                             'confirmed','cancelled'])[1 + i % 8]
              WHEN i % 50 = 7 THEN 'cancelled' ELSE 'closed' END AS status,
         CAST(:now AS timestamp) - make_interval(mins => (:n - i) * 2) AS at
  FROM generate_series(1, :n) AS i
), o AS (
  SELECT s.*, s.kind = 'complaint' AND i % 1000 = 999 AS emergency,
         s.status IN ('completed', 'confirmed', 'closed') AS done,
         s.status NOT IN ('submitted', 'dispatched', 'cancelled') AS taken
  FROM s
)
INSERT INTO work_orders (community_id, number, kind, channel, house_id, contact_name, contact_phone, department,
  category, quantity, title, description, photos, urgent, status, offer_no, rework_count, quote_fen, materials_fen,
  final_fen, paid_fen, completion_notes, completion_photos, needs_callback, emergency, important, written,
  confirm_due_at, complete_due_at, callback_due_at, appointment_confirmed_at, accepted_at, arrived_at, completed_at,
  callback_at, closed_at, cancelled_at, handler_due_at, onsite_due_at, reply_due_at, replied_at, created_at,
  updated_at)
SELECT :cid,
  CASE kind WHEN 'repair' THEN 'BX' WHEN 'service' THEN 'FW' ELSE 'TS' END || to_char(at, 'YYYYMMDD') || '-'
    || lpad(i::text, 6, '0'),
  kind,
  CASE WHEN i % 3 = 0 THEN 'phone' ELSE 'miniprogram' END,
  h.ids[1 + (i::bigint * 7919) % array_length(h.ids, 1)],
  (ARRAY['张三','李四','王五','赵六','钱七','孙八','周九'])[1 + i % 7],
  '138' || lpad((i::bigint * 37 % 100000000)::text, 8, '0'),
  CASE kind WHEN 'complaint' THEN 'service_center' WHEN 'repair' THEN
    CASE WHEN i % 5 = 0 THEN 'cleaning' ELSE 'engineering' END ELSE 'engineering' END,
  CASE kind WHEN 'complaint' THEN CASE WHEN emergency THEN 'emergency'
                                        ELSE (ARRAY['noise','environment','parking','facilities'])[1 + i % 4] END
            WHEN 'repair' THEN CASE WHEN i % 5 = 0 THEN 'public_cleaning'
                                    ELSE (ARRAY['water','electricity','doors_windows'])[1 + i % 3] END
            ELSE 'item:1' END,
  1,
  CASE kind WHEN 'complaint' THEN '投诉' WHEN 'repair' THEN '报修' ELSE '更换水龙头' END,
  '第 ' || i || ' 号：' || (ARRAY['厨房水管漏水','客厅灯不亮','楼道有垃圾','楼上装修太吵','门锁坏了',
                                 '下水道堵塞','车位被占用','电梯经常停运'])[1 + i % 8],
  '[]', (kind = 'repair' AND i % 50 = 0) OR emergency, status, 1, 0,
  CASE WHEN kind = 'service' THEN 5000 END, 0, CASE WHEN kind = 'service' AND done THEN 5000 END,
  CASE WHEN kind = 'service' AND status = 'closed' THEN 5000 ELSE 0 END, '', '[]',
  done AND i % 100 = 89, emergency, kind = 'complaint' AND i % 23 = 0, false,
  CASE WHEN kind = 'service' THEN at + interval '10 minutes' END,
  CASE WHEN kind = 'repair' THEN at + interval '8 hours' END,
  CASE WHEN done THEN at + interval '10 hours' END,
  CASE WHEN kind = 'service' AND taken THEN at + interval '5 minutes' END,
  CASE WHEN taken THEN at + interval '5 minutes' END,
  CASE WHEN emergency AND status <> 'submitted' THEN at + interval '4 minutes' END,
  CASE WHEN done THEN at + interval '4 hours' END,
  CASE WHEN done AND i % 100 <> 89 THEN at + interval '9 hours' END,
  CASE WHEN status = 'closed' THEN at + interval '2 days' END,
  CASE WHEN status = 'cancelled' THEN at + interval '1 hour' END,
  CASE WHEN kind = 'complaint' THEN at + interval '10 minutes' END,
  CASE WHEN emergency THEN at + interval '5 minutes' END,
  CASE WHEN kind = 'complaint' THEN at + interval '8 hours' END,
  CASE WHEN kind = 'complaint' AND done THEN at + interval '2 hours' END,
  at, at
FROM o, h
"""

BREACHES = """
INSERT INTO sla_breaches (order_id, clock, round, level, due_at, detected_at)
SELECT id, CASE kind WHEN 'repair' THEN 'complete' WHEN 'service' THEN 'confirm' ELSE 'reply' END, 0, 1,
       created_at + interval '8 hours', created_at + interval '9 hours'
FROM work_orders WHERE community_id = :cid AND id % 200 = 0
"""

CASES = [  # (label, filters)
    ("newest first (default)", {}),
    ("page 500", {"_page": 500}),
    ("kind=complaint", {"kind": "complaint"}),
    ("status=submitted", {"status": "submitted"}),
    ("department=cleaning", {"department": "cleaning"}),
    ("category=noise", {"category": "noise"}),
    ("open=true", {"open": True}),
    ("emergency=true", {"emergency": True}),
    ("important=true (complaints)", {"kind": "complaint", "important": True}),
    ("clock=missed", {"clock": "missed"}),
    ("clock=soon", {"clock": "soon"}),
    ("clock=breached", {"clock": "breached"}),
    ("clock=missed&status=submitted (board link)", {"clock": "missed", "status": "submitted"}),
    ("sort=due", {"sort": "due"}),
    ("clock=missed&sort=due", {"clock": "missed", "sort": "due"}),
    ("created last 7 days", {"_days": 7}),
    ("created one day a year ago", {"_year_ago": True}),
    ("house=1-1-101", {"house": "1-1-101"}),
    ("house=2 (building)", {"house": "2"}),
    ("q=<an order number>", {"_number": True}),
    ("q=漏水 (text)", {"q": "漏水"}),
    ("q=13800 (phone digits)", {"q": "13800"}),
    ("q=漏水&created last 30 days", {"q": "漏水", "_days": 30}),
    ("complaints page: kind=complaint&sort=open", {"kind": "complaint", "sort": "open"}),
]


def seed(n: int) -> int:
    from sqlalchemy import select, text

    from server import demo
    from server.accounts.models import Community
    from server.extensions import db
    from server.timeutil import utcnow

    demo.load()
    cid = db.session.scalar(select(Community.id).where(Community.code == "demo"))
    now = utcnow().replace(tzinfo=None)
    db.session.execute(text(SEED), {"cid": cid, "n": n, "tail": OPEN_TAIL, "now": now})
    db.session.execute(text(BREACHES), {"cid": cid})
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    return cid


def args_for(spec: dict, number: str) -> tuple[dict, int]:
    from datetime import timedelta

    from server.timeutil import local_today

    args = {k: v for k, v in spec.items() if not k.startswith("_")}
    args.setdefault("sort", "newest")
    today = local_today()
    if spec.get("_days"):
        args["created_from"] = today - timedelta(days=spec["_days"])
    if spec.get("_year_ago"):
        args["created_from"] = args["created_to"] = today - timedelta(days=365)
    if spec.get("_number"):
        args["q"] = number
    return args, spec.get("_page", 1)


def timed(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="keep the seeded database of a previous run")
    opts = parser.parse_args()

    from flask_migrate import upgrade
    from sqlalchemy import func, select, text

    from server.accounts.models import Staff
    from server.app import create_app
    from server.desk.board import board
    from server.extensions import db
    from server.pagination import paginate
    from server.workorders import export
    from server.workorders.access import staff_orders_query
    from server.workorders.models import WorkOrder

    if not opts.reuse:
        recreate_database()
    app = create_app({"DATABASE_URL": DB_URL, "REDIS_URL": REDIS_URL, "ENV": "test", "LOG_LEVEL": "WARNING",
                      "SECRET_KEY": "bench-" + "x" * 40})
    with app.app_context():
        upgrade()
        if not opts.reuse or not db.session.scalar(select(func.count()).select_from(WorkOrder)):
            started = time.perf_counter()
            seed(opts.orders)
            print(f"seeded {opts.orders} orders in {time.perf_counter() - started:.1f} s")
        total = db.session.scalar(select(func.count()).select_from(WorkOrder))
        staff = db.session.scalar(select(Staff).where(Staff.mp_openid == "demo-reception"))
        number = db.session.scalar(select(WorkOrder.number).order_by(WorkOrder.id).offset(total // 3).limit(1))
        print(f"{total} work orders; a receptionist's list, median of {opts.runs} runs (page of 20 with its total)\n")
        print(f"| {'filter':<46} | {'total':>7} | {'page + count':>12} |")
        print(f"|{'-' * 48}|{'-' * 9}|{'-' * 14}|")
        for label, spec in CASES:
            args, page = args_for(spec, number)
            ms, data = timed(lambda: paginate(staff_orders_query(staff, args), page, 20), opts.runs)
            print(f"| {label:<46} | {data['total']:>7} | {ms:>9.1f} ms |")
            db.session.rollback()
            if opts.explain:
                stmt = staff_orders_query(staff, args).limit(20).offset((page - 1) * 20)
                sql = str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))
                plan = db.session.execute(text("EXPLAIN (ANALYZE, COSTS OFF) " + sql)).scalars().all()
                print("    " + "\n    ".join(plan))
        ms, result = timed(lambda: export.export(staff, {"sort": "newest"}), max(1, opts.runs // 2))
        print(f"\nxlsx export of {result.rows} rows (filter matches {result.total}): {ms:.0f} ms")
        ms, _ = timed(lambda: board(staff), opts.runs)
        print(f"the board (工作台): {ms:.1f} ms")


if __name__ == "__main__":
    main()
