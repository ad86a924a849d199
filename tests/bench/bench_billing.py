"""Benchmark of the fees: bill generation for 100,000 houses, WeChat Pay notifications applied per second,
and the collection report over those houses.

    .venv/bin/python tests/bench/bench_billing.py [--houses 100000] [--period YYYY-MM] [--payments 1000]
                                                  [--threads 8] [--web-workers 5] [--skip-notify]

(a) Generation: a community of --houses houses (bulk inserts, floor areas 60-149.5 m2, 500 houses a
    building) with the demo's fee items (property fee by area, heating by area in Nov-Mar, parking as a fixed
    monthly fee subscribed by 10% of the houses; shared and metered items have no readings, so nothing);
    `generation.generate(period)` is timed (goal: under 30 s), then run again (idempotent: creates 0).
(b) Notifications: --payments pending payments of one bill each, inserted directly with the prepay ids of
    real JSAPI orders at the sandbox; then --threads threads ask the sandbox to pay them
    (`POST /sandbox/pay/succeed`), each call delivering the signed, encrypted TRANSACTION.SUCCESS to gunicorn
    and waiting for its answer. Reported: notifications applied per second, and the checks that each was
    applied exactly once (every payment paid, its bill paid by it, one receipt number each and none used
    twice or wasted). Then every notification is delivered once more (duplicates: answered, changing nothing).
(c) The collection report for the period over all those houses (JSON and xlsx), as a manager would ask.

Runs on the real stack (tests/bench/stack.py: own PostgreSQL database and Redis db, migrations, demo data,
the sandbox, gunicorn); generation and seeding run in this process on the same database. Seeding is not
part of any figure.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from stack import request, stack

PER_BUILDING = 500  # 5 units x 25 floors x 4 doors
SUBSCRIBED_EVERY = 10  # 10% of the houses rent a parking space


def seed(houses: int) -> int:
    """The bench community: houses with areas, the demo's fee items, parking subscriptions. Returns its id."""
    from sqlalchemy import insert, select

    from server.accounts.models import Building, Community, House
    from server.billing.models import FeeItem, FeeSubscription
    from server.demo import FEE_ITEMS
    from server.extensions import db

    community = Community(code="bench", name="压测小区")
    db.session.add(community)
    db.session.flush()
    for code, name, kind, price, unit, extra in FEE_ITEMS:
        db.session.add(FeeItem(community_id=community.id, code=code, name=name, kind=kind, price_fen=price, unit=unit,
                               **extra))
    db.session.flush()
    conn = db.session.connection()
    buildings = conn.execute(insert(Building).returning(Building.id, sort_by_parameter_order=True), [
        {"community_id": community.id, "code": str(b + 1), "name": f"{b + 1}栋"}
        for b in range(-(-houses // PER_BUILDING))]).scalars().all()
    rows = []
    for n in range(houses):
        k = n % PER_BUILDING
        unit, floor, door = k // 100 + 1, k % 100 // 4 + 1, k % 4 + 1
        rows.append({"community_id": community.id, "building_id": buildings[n // PER_BUILDING], "unit": str(unit),
                     "room": f"{floor}{door:02d}", "floor": floor, "area_m2": Decimal(60) + Decimal(n % 180) / 2})
    house_ids = []
    for start in range(0, len(rows), 10000):
        house_ids += conn.execute(insert(House).returning(House.id, sort_by_parameter_order=True),
                                  rows[start:start + 10000]).scalars().all()
    parking = db.session.scalar(select(FeeItem.id).where(FeeItem.community_id == community.id,
                                                         FeeItem.code == "parking"))
    conn.execute(insert(FeeSubscription), [{"house_id": h, "fee_item_id": parking, "quantity": 1, "note": ""}
                                           for h in house_ids[::SUBSCRIBED_EVERY]])
    db.session.commit()
    return community.id


def bench_generation(period: str) -> dict:
    from sqlalchemy import func, select

    from server.billing import generation
    from server.billing.models import Bill
    from server.extensions import db

    first = generation.generate(period)
    second = generation.generate(period)
    total = db.session.scalar(select(func.count()).select_from(Bill).where(Bill.period == period))
    return {"first": first, "second": second, "bills_in_db": total}


def create_payments(community_id: int, count: int, threads: int) -> tuple[list[dict], float]:
    """`count` pending WeChat payments of one unpaid bill each (rows written directly), each with a real
    JSAPI order at the sandbox. Returns the payments (id, out_trade_no) and the seconds the orders took."""
    from sqlalchemy import insert, select, update

    from server.accounts.models import Owner
    from server.billing.models import Bill, Payment, PaymentItem
    from server.billing.services import new_out_trade_no
    from server.extensions import db
    from server.timeutil import to_local
    from server.wechat.pay import pay_client

    now = datetime.now(UTC)
    owner = Owner(openid="bench-payer", name="压测业主", created_at=now)  # no subscribe credit: message skipped
    db.session.add(owner)
    db.session.flush()
    bills = db.session.execute(select(Bill.id, Bill.amount_fen).where(
        Bill.community_id == community_id, Bill.status == "unpaid").order_by(Bill.id).limit(count)).all()
    expires = now + timedelta(minutes=60)
    payments = []
    for n, (bill_id, amount) in enumerate(bills):
        out_trade_no = new_out_trade_no()[:-5] + f"{n:05d}"  # unique even within one second
        payments.append({"bill_id": bill_id, "amount": amount, "out_trade_no": out_trade_no})
    conn = db.session.connection()
    ids = conn.execute(insert(Payment).returning(Payment.id, sort_by_parameter_order=True), [
        {"community_id": community_id, "owner_id": owner.id, "method": "wechat", "status": "pending",
         "amount_fen": p["amount"], "refunded_fen": 0, "out_trade_no": p["out_trade_no"], "description": "物业管理费（1 笔）",
         "payer_openid": owner.openid, "expires_at": expires, "created_at": now} for p in payments]).scalars().all()
    for p, payment_id in zip(payments, ids):
        p["id"] = payment_id
    conn.execute(insert(PaymentItem), [{"payment_id": p["id"], "bill_id": p["bill_id"], "amount_fen": p["amount"]}
                                       for p in payments])
    for p in payments:
        conn.execute(update(Bill).where(Bill.id == p["bill_id"]).values(locked_payment_id=p["id"]))
    db.session.commit()

    client = pay_client()
    local_expiry, openid = to_local(expires), "bench-payer"

    def order(p: dict) -> tuple[int, str]:  # in a thread: plain values only, no ORM objects
        return p["id"], client.jsapi(out_trade_no=p["out_trade_no"], description="物业管理费（1 笔）",
                                     total_fen=p["amount"], openid=openid, expires_at=local_expiry)

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        prepay = dict(pool.map(order, payments))
    seconds = time.perf_counter() - started
    db.session.execute(update(Payment), [{"id": i, "prepay_id": v} for i, v in prepay.items()])  # by primary key
    db.session.commit()
    return payments, seconds


def deliver(sandbox: str, payments: list[dict], threads: int, again: bool = False) -> tuple[float, list, list]:
    """Have the sandbox pay (or notify again) each payment from `threads` threads; returns the seconds,
    each delivery's HTTP status and per-call latency."""
    statuses, latencies = [], []
    lock = threading.Lock()

    def one(p: dict) -> None:
        t0 = time.perf_counter()
        if again:
            code, body = request("POST", sandbox + "sandbox/pay/notify-again",
                                 {"out_trade_no": p["out_trade_no"], "times": 1})
            status = body["statuses"][0] if code == 200 else code
        else:
            code, body = request("POST", sandbox + "sandbox/pay/succeed", {"out_trade_no": p["out_trade_no"]})
            status = body.get("status") if code == 200 else code
        with lock:
            statuses.append(status)
            latencies.append(time.perf_counter() - t0)

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, payments))
    return time.perf_counter() - started, statuses, latencies


def wait_applied(community_id: int, count: int, timeout: float = 120) -> int:
    """Deliveries the sandbox could not get acknowledged are retried by it in the background: wait."""
    from sqlalchemy import func, select

    from server.billing.models import Payment
    from server.extensions import db

    deadline = time.time() + timeout
    paid = 0
    while time.time() < deadline:
        paid = db.session.scalar(select(func.count()).select_from(Payment).where(
            Payment.community_id == community_id, Payment.status == "paid"))
        db.session.rollback()
        if paid >= count:
            break
        time.sleep(0.5)
    return paid


def exactly_once(community_id: int, payments: list[dict]) -> dict:
    from sqlalchemy import func, select

    from server.billing.models import Bill, Payment, ReceiptCounter
    from server.extensions import db
    from server.wechat.models import Message

    ids = [p["id"] for p in payments]
    rows = db.session.execute(select(Payment.id, Payment.status, Payment.receipt_no, Payment.transaction_id)
                              .where(Payment.id.in_(ids))).all()
    bills = dict(db.session.execute(select(Bill.id, Bill.paid_payment_id).where(
        Bill.id.in_([p["bill_id"] for p in payments]), Bill.status == "paid")).all())
    counter = db.session.scalar(select(func.sum(ReceiptCounter.last)).where(ReceiptCounter.community_id == community_id))
    messages = db.session.scalar(select(func.count()).select_from(Message).where(
        Message.dedupe_key.in_([f"payment-paid:{i}" for i in ids])))
    return {
        "paid": sum(r.status == "paid" for r in rows),
        "distinct_receipts": len({r.receipt_no for r in rows if r.receipt_no}),
        "distinct_transactions": len({r.transaction_id for r in rows if r.transaction_id}),
        "bills_paid_by_their_payment": sum(bills.get(p["bill_id"]) == p["id"] for p in payments),
        "receipt_numbers_taken": int(counter or 0),
        "result_messages": messages,
    }


def bench_report(api: str, period: str, community_id: int) -> dict:
    """The report as the bench community's manager asks for it over HTTP: (seconds, bytes) per format."""
    import urllib.request

    from werkzeug.security import generate_password_hash

    from server.accounts.models import Staff
    from server.extensions import db

    db.session.add(Staff(community_id=community_id, name="压测经理", phone="13900009999", department="service_center",
                         role="manager", on_duty=True, password_hash=generate_password_hash("bench12345")))
    db.session.commit()
    status, body = request("POST", api + "/api/v1/auth/staff-login", {"phone": "13900009999", "password": "bench12345"})
    assert status == 200, body
    out = {}
    for fmt in ("json", "xlsx"):
        req = urllib.request.Request(f"{api}/api/v1/staff/reports/collection?period={period}&format={fmt}",
                                     headers={"Authorization": "Bearer " + body["token"]})
        t0 = time.perf_counter()
        with urllib.request.urlopen(req, timeout=600) as res:
            data = res.read()
        out[fmt] = (time.perf_counter() - t0, len(data))
    return out


def pct(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100)[p - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--houses", type=int, default=100_000)
    parser.add_argument("--period", default=None, help="YYYY-MM (default: the current month, Beijing time)")
    parser.add_argument("--payments", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--web-workers", type=int, default=None, help="gunicorn workers (default: 2 x cores + 1)")
    parser.add_argument("--skip-notify", action="store_true")
    parser.add_argument("--skip-report", action="store_true")
    args = parser.parse_args()

    with stack(web_workers=args.web_workers) as (api, sandbox, env):
        os.environ.update(env)
        from server.app import create_app
        from server.extensions import db
        from server.timeutil import to_local

        period = args.period or f"{to_local(datetime.now(UTC)):%Y-%m}"
        app = create_app()
        with app.app_context():
            t0 = time.perf_counter()
            community_id = seed(args.houses)
            seeded = time.perf_counter() - t0
            gen = bench_generation(period)
            db.session.remove()
        first, second = gen["first"], gen["second"]
        print(f"{os.cpu_count()} cores; PostgreSQL + Redis on this machine; gunicorn sync x "
              f"{args.web_workers or env.get('WEB_CONCURRENCY') or 'default (2 x cores + 1, at most 8)'}; "
              f"sandbox over HTTP")
        print(f"(a) bill generation, period {period}: {args.houses} houses (+ the demo's 72) seeded in {seeded:.1f} s "
              f"(not counted); items: {', '.join(first.skipped) or 'all produced bills'}")
        print(f"    first run:  {first.created} bills created ({first.computed} computed) in {first.seconds:.2f} s: "
              f"{first.created / first.seconds:,.0f} bills/s")
        print(f"    second run: {second.created} created, {second.existing} already there, in {second.seconds:.2f} s")
        print(f"    bills of {period} in the database: {gen['bills_in_db']}")

        if not args.skip_notify:
            with app.app_context():
                payments, ordering = create_payments(community_id, args.payments, args.threads)
                db.session.remove()
            print(f"(b) {len(payments)} pending payments; their JSAPI orders at the sandbox took {ordering:.1f} s")
            seconds, statuses, latencies = deliver(sandbox, payments, args.threads)
            with app.app_context():
                paid = wait_applied(community_id, len(payments))
                checks = exactly_once(community_id, payments)
                db.session.remove()
            acked = sum(s in (200, 204) for s in statuses)
            print(f"    {args.threads} threads asking the sandbox to pay: {len(payments)} notifications in {seconds:.2f} s: "
                  f"{len(payments) / seconds:.0f} notifications applied/s "
                  f"(first delivery acknowledged {acked}/{len(payments)}; per delivery p50 "
                  f"{pct(latencies, 50) * 1000:.0f} ms, p95 {pct(latencies, 95) * 1000:.0f} ms)")
            print(f"    exactly once: {paid} paid; {checks}")
            dup_seconds, dup_statuses, _ = deliver(sandbox, payments, args.threads, again=True)
            with app.app_context():
                after = exactly_once(community_id, payments)
                db.session.remove()
            print(f"    every notification delivered again: {len(dup_statuses)} duplicates in {dup_seconds:.2f} s "
                  f"({len(dup_statuses) / dup_seconds:.0f}/s), answered {sorted(set(dup_statuses))}; "
                  f"unchanged: {after == checks}")

        if not args.skip_report:
            with app.app_context():
                timings = bench_report(api, period, community_id)
                db.session.remove()
            print(f"(c) collection report over {args.houses} houses: JSON {timings['json'][0]:.2f} s "
                  f"({timings['json'][1] / 1024:.0f} KiB), xlsx {timings['xlsx'][0]:.2f} s "
                  f"({timings['xlsx'][1] / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
