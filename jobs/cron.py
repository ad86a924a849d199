"""The periodic jobs, in one list with stable names, and the one process that enqueues them.

Run exactly one: `python -m jobs.cron`. A Redis lock makes a second copy wait instead of doubling the
schedule. Each periodic job is an ordinary RQ job on the named queue, with a short ttl so a stopped
worker does not come back to a pile of stale copies.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import time
from dataclasses import dataclass

import redis
from rq.cron import CronScheduler

from server.outbox import queue_name

from . import context
from .runner import resolve

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    name: str
    func: str
    queue: str
    interval: int | None = None  # seconds
    cron: str | None = None  # crontab, server local time


PERIODIC = [
    Periodic("outbox-sweep", "jobs.maintenance.sweep_outbox", "high", interval=15),
    Periodic("outbox-prune", "jobs.maintenance.prune_outbox", "low", cron="30 3 * * *"),
    Periodic("workorders-escalate", "jobs.workorders.escalate_overdue", "high", interval=60),
    Periodic("workorders-auto-finish", "jobs.workorders.auto_finish", "low", interval=3600),
    Periodic("bills-generate", "jobs.billing.generate_monthly", "low", cron="0 2 * * *"),
    Periodic("payments-check", "jobs.billing.check_pending_payments", "default", interval=60),
    Periodic("refunds-check", "jobs.billing.check_refunds", "default", interval=300),
    # Bill reminders once a day at a decent hour (10:00, or 18:00 Beijing on a UTC clock); "today" is the
    # community's own date, and a second run the same day sends nothing.
    Periodic("bills-dunning", "jobs.billing.send_bill_reminders", "low", cron="0 10 * * *"),
    # WeChat Pay's trade bill of a day is ready after 10:00 the next day (Beijing time); 10:30 is after that
    # whether the server's clock is Beijing time or UTC (18:30 Beijing).
    Periodic("pay-reconcile", "jobs.billing.reconcile_previous_day", "low", cron="30 10 * * *"),
    Periodic("complaints-weekly-updates", "jobs.workorders.weekly_updates", "low", interval=3600),
    Periodic("common-problems-detect", "jobs.feedback.detect_common_problems", "default", interval=300),
    Periodic("common-problems-remind", "jobs.feedback.remind_overdue_problems", "low", interval=900),
]

LEADER_KEY = "wuye:cron:leader"
LEADER_TTL = 30


def build_scheduler(conn: redis.Redis) -> CronScheduler:
    app = context.get_app()
    scheduler = CronScheduler(connection=conn, logging_level=app.config["LOG_LEVEL"])
    with app.app_context():
        for p in PERIODIC:
            if p.name == "outbox-sweep":
                p = Periodic(p.name, p.func, p.queue, interval=app.config["OUTBOX_SWEEP_SECONDS"])
            ttl = p.interval * 4 if p.interval else 3600
            scheduler.register(resolve(p.func), queue_name(p.queue), interval=p.interval, cron=p.cron,
                               name=p.name, ttl=ttl, result_ttl=600, job_timeout=app.config["JOB_TIMEOUT"])
    return scheduler


class Leader:
    """Only the holder of a Redis key enqueues; it renews the key each loop."""

    def __init__(self, conn: redis.Redis) -> None:
        self.conn = conn
        self.me = f"{socket.gethostname()}:{os.getpid()}"

    def hold(self) -> bool:
        if self.conn.set(LEADER_KEY, self.me, nx=True, ex=LEADER_TTL):
            return True
        if (self.conn.get(LEADER_KEY) or b"").decode() == self.me:
            self.conn.expire(LEADER_KEY, LEADER_TTL)
            return True
        return False

    def release(self) -> None:
        try:
            if (self.conn.get(LEADER_KEY) or b"").decode() == self.me:
                self.conn.delete(LEADER_KEY)
        except redis.RedisError:
            pass


def main() -> None:
    app = context.get_app()
    conn = app.extensions["redis"]
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    scheduler = build_scheduler(conn)
    leader = Leader(conn)
    was_leader = False
    log.info("periodic jobs: %s", ", ".join(p.name for p in PERIODIC))
    while not stopping:
        try:
            if leader.hold():
                if not was_leader:
                    log.info("periodic-job process %s is the leader", leader.me)
                was_leader = True
                if scheduler.enqueue_jobs():
                    scheduler.save()
                scheduler.heartbeat()
            elif was_leader or not stopping:
                was_leader = False
            delay = min(scheduler.calculate_sleep_interval(), 5)
        except redis.RedisError as exc:
            log.warning("Redis unavailable (%s); periodic jobs wait", exc.__class__.__name__)
            delay = 5
        except Exception:  # noqa: BLE001 - this process must outlive whatever blinks; it retries
            log.exception("periodic jobs: unexpected error; retrying in 5 s")
            delay = 5
        end = time.monotonic() + max(delay, 0.5)
        while not stopping and time.monotonic() < end:
            time.sleep(0.2)
    leader.release()
    log.info("periodic-job process stopped")


if __name__ == "__main__":
    main()
