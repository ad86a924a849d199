"""Nothing lost, nothing twice, whatever blinks: Redis killed, the worker SIGKILLed mid-send, the database's
connections terminated, WeChat (the sandbox) down -- while orders and payments flow. Every accepted order
gets exactly one worker push and every owner message arrives exactly once, within a bounded time after
recovery."""
from __future__ import annotations

import time
from collections import Counter

import psycopg
import requests
from sqlalchemy import select
from sqlalchemy.engine import make_url

from server.extensions import db
from server.outbox import OutboxJob
from server.timeutil import utcnow
from server.wechat.models import Message
from tests.conftest import BIND_101, TEST_DB_URL, Sandbox
from tests.faults.conftest import eventually

ASSIGNED, STATUS, PAID = "tpl-order-assigned", "tpl-order-status", "tpl-payment-result"
RECOVERY = 60  # seconds after recovery within which everything has arrived


class Owner:
    """张三 over real HTTP: signed in, phone verified, 1-1-101 bound, consent for plenty of messages."""

    def __init__(self, base: str) -> None:
        self.api = base + "/api/v1"
        self.http = requests.Session()
        self.http.trust_env = False
        token = self.post("/auth/login", {"code": "dev:owner-zhangsan"}).json()["token"]
        self.http.headers["Authorization"] = f"Bearer {token}"
        assert self.post("/me/phone", {"code": "dev:13800000001"}).status_code == 200
        assert self.post("/me/houses", BIND_101).json()["status"] == "approved"
        self.house_id = self.http.get(self.api + "/me/houses").json()[0]["house"]["id"]
        for _ in range(30):
            self.post("/me/subscriptions", {"accepted": [STATUS]})
        self.post("/me/subscriptions", {"accepted": [PAID]})

    def post(self, path: str, body: dict) -> requests.Response:
        return self.http.post(self.api + path, json=body, timeout=30)

    def report(self, n: int) -> dict | None:
        res = self.post("/work-orders", {"kind": "repair", "house_id": self.house_id, "category": "water",
                                         "description": f"水管漏水 {n}"})
        return res.json() if res.status_code == 201 else None


def assigned_per_order(sandbox: Sandbox) -> Counter:
    return Counter(m["data"]["character_string1"]["value"] for m in sandbox.messages(template_id=ASSIGNED))


def owner_updates(sandbox: Sandbox) -> Counter:
    """(order number, status) of every owner progress message received."""
    return Counter((m["data"]["character_string1"]["value"], m["data"]["phrase3"]["value"])
                   for m in sandbox.messages(template_id=STATUS))


class AllDone:
    """Every outbox row due by now is done (offer timeouts wait for their 10 minutes); the falsy value lists
    those that are not, for the failure message."""

    def __init__(self, open_rows: list) -> None:
        self.open_rows = open_rows

    def __bool__(self) -> bool:
        return not self.open_rows

    def __repr__(self) -> str:
        return repr(self.open_rows)


def all_done(app) -> AllDone:
    with app.app_context():
        rows = db.session.execute(select(OutboxJob.id, OutboxJob.func, OutboxJob.status, OutboxJob.attempts,
                                         OutboxJob.available_at, OutboxJob.last_error)
                                  .where(OutboxJob.status.in_(("pending", "running")),
                                         OutboxJob.available_at <= utcnow())).all()
        db.session.remove()
    return AllDone([tuple(r[:5]) + ((r[5] or "")[-200:],) for r in rows])


def exactly_once(sandbox: Sandbox, numbers: list[str]) -> bool:
    assigned, updates = assigned_per_order(sandbox), owner_updates(sandbox)
    return all(assigned[n] == 1 and updates[(n, "已派单")] == 1 for n in numbers)


def test_redis_killed_while_orders_and_payments_flow(stack, sandbox):
    owner = Owner(stack.base)
    before = [o["number"] for o in (owner.report(n) for n in range(3)) if o]
    bills = owner.http.get(owner.api + "/bills?status=unpaid").json()
    payment = owner.post("/payments", {"bill_ids": [bills[0]["id"]]}).json()

    stack.redis.kill()
    during = [o["number"] for o in (owner.report(n) for n in range(3, 8)) if o]
    assert len(during) == 5  # requests are written to the database first: Redis down loses none
    prepay = payment["pay_params"]["package"].removeprefix("prepay_id=")
    assert sandbox.post("/sandbox/pay/succeed", json={"prepay_id": prepay}).status_code == 200
    time.sleep(8)  # longer than the reconnect the worker used to give up after
    assert stack.worker.alive() and stack.cron.alive()

    stack.redis.start()
    numbers = before + during
    eventually(lambda: exactly_once(sandbox, numbers), RECOVERY, what="one push per order and owner update")
    eventually(lambda: len(sandbox.messages(template_id=PAID)) == 1, RECOVERY, what="the payment message")
    eventually(lambda: all_done(stack.app), RECOVERY, what="every outbox row done")
    assert exactly_once(sandbox, numbers) and len(sandbox.messages(template_id=PAID)) == 1


def test_worker_killed_mid_send_does_not_send_twice(stack, sandbox):
    owner = Owner(stack.base)
    # The owner's "已派单" send hangs at WeChat for 4 s (WeChat keeps it): the worker is killed meanwhile.
    sandbox.fault(kind="delay", seconds=4, path="/cgi-bin/message/subscribe/send", count=1)
    order = owner.report(1)

    def sending():
        with stack.app.app_context():
            msg = db.session.scalar(select(Message).where(Message.template_key == "order_status",
                                                          Message.send_started_at.is_not(None)))
            db.session.remove()
            return msg is not None and msg.status == "pending"

    eventually(sending, 20, interval=0.05, what="the owner message being sent")
    stack.worker.kill()
    stack.worker.start()
    later = owner.report(2)  # the new worker goes on with new work
    numbers = [order["number"], later["number"]]
    eventually(lambda: exactly_once(sandbox, numbers) and all_done(stack.app), RECOVERY,
               what="every push exactly once after the restart")
    time.sleep(3)  # nothing more arrives
    assert exactly_once(sandbox, numbers)
    with stack.app.app_context():
        rows = db.session.execute(select(Message.id, Message.status, Message.send_started_at, Message.error_message,
                                         OutboxJob.status, OutboxJob.kwargs)
                                  .where(Message.template_key == "order_status")
                                  .join(OutboxJob, OutboxJob.func == "jobs.messages.send_message", isouter=True)).all()
        statuses = {r[1] for r in rows}
    assert statuses <= {"sent", "unknown"}, rows


def test_database_connections_terminated_while_orders_flow(stack, sandbox):
    owner = Owner(stack.base)
    u = make_url(TEST_DB_URL)
    numbers = []
    with psycopg.connect(f"host={u.host} port={u.port or 5432} user={u.username} dbname=postgres",
                         autocommit=True) as admin:
        for n in range(8):
            order = owner.report(n)
            if order:
                numbers.append(order["number"])
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                          "AND pid <> pg_backend_pid()", (u.database,))
            time.sleep(0.3)
    assert len(numbers) >= 6  # a request caught by the cut may fail cleanly (503); the rest are accepted
    eventually(lambda: exactly_once(sandbox, numbers), RECOVERY, what="one push per accepted order")
    eventually(lambda: all_done(stack.app), RECOVERY, what="no row left running")
    assert stack.worker.alive() and stack.cron.alive()


def test_wechat_down_then_back(stack, own_sandbox):
    wechat = Sandbox(own_sandbox.base)
    owner = Owner(stack.base)
    own_sandbox.kill()
    numbers = [o["number"] for o in (owner.report(n) for n in range(4)) if o]
    assert len(numbers) == 4
    time.sleep(6)
    own_sandbox.start()  # a new WeChat: the access tokens cached before are refused once, then refreshed
    eventually(lambda: exactly_once(wechat, numbers), RECOVERY, what="every push after WeChat is back")
    eventually(lambda: all_done(stack.app), RECOVERY, what="every outbox row done")
    assert exactly_once(wechat, numbers)
