"""RQ worker: builds the app once. `python -m jobs.worker [--burst] [queues...]`.

WUYE_WORKER_MODE=fork (default): each job runs in a forked work horse, isolated from the others; the
DB engine is disposed before each fork so a horse never shares the parent's connections.
WUYE_WORKER_MODE=simple: jobs run in the worker process itself, reusing its DB and HTTP connections:
several times the throughput (see README, benchmarks), at the price of isolation.
"""
from __future__ import annotations

import argparse
import logging
import signal
import time

import redis
from flask import Flask
from rq import Queue, SimpleWorker
from rq import Worker as _Worker

from server import outbox
from server.extensions import db

from . import context

log = logging.getLogger(__name__)


class _Stoppable:
    """Remembers that a warm shutdown (SIGTERM/SIGINT) was asked for, so run_forever does not restart."""

    shutdown_requested = False

    def handle_warm_shutdown_request(self):
        self.shutdown_requested = True
        super().handle_warm_shutdown_request()


class Worker(_Stoppable, _Worker):
    app: Flask

    def fork_work_horse(self, job, queue):
        with self.app.app_context():
            db.engine.dispose()
        super().fork_work_horse(job, queue)


class InProcessWorker(_Stoppable, SimpleWorker):
    app: Flask


def make_worker(app: Flask, queues: list[str] | None = None, mode: str | None = None, **kwargs) -> _Worker:
    context.set_app(app)
    conn = app.extensions["redis"]
    with app.app_context():
        names = [outbox.queue_name(q) for q in (queues or outbox.QUEUES)]
    cls = InProcessWorker if (mode or app.config["WORKER_MODE"]) == "simple" else Worker
    worker = cls([Queue(n, connection=conn) for n in names], connection=conn, **kwargs)
    worker.app = app
    return worker


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("queues", nargs="*", help="queues in priority order (default: high default low)")
    parser.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    args = parser.parse_args(argv)
    app = context.get_app()
    run_forever(lambda: make_worker(app, args.queues or None), burst=args.burst,
                logging_level=app.config["LOG_LEVEL"])


def run_forever(build, *, burst: bool = False, logging_level: str = "INFO") -> None:
    """Run RQ workers until asked to stop, riding out any outage of Redis (or anything else that makes a
    worker quit): a worker that quits or cannot start is replaced after a backoff (1 s doubling to 30 s),
    however long it takes. Nothing is lost meanwhile: the outbox holds the work. Under honcho one exiting
    process would stop the whole stack, so this process exits only on SIGTERM/SIGINT (or in burst mode).

    No RQ scheduler runs here (its lock outlives a killed worker for minutes): work due later is pushed by
    the outbox sweeper when it is due."""
    stopping = {"now": False}

    def stop(signum, _frame):
        stopping["now"] = True
        raise SystemExit(0)

    delay = 1.0
    while not stopping["now"]:
        worker, started = None, time.monotonic()
        try:
            worker = build()
            worker.work(burst=burst, logging_level=logging_level)
            if burst or worker.shutdown_requested:
                return
            log.warning("worker quit (Redis unavailable?); a new one starts in %.0f s", delay)
        except (redis.RedisError, OSError) as exc:
            log.warning("worker cannot run (%s: %s); retrying in %.0f s", exc.__class__.__name__, exc, delay)
        except SystemExit:
            return
        # Our own handlers while no worker runs (RQ installs its own inside work()).
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            time.sleep(delay)
        except SystemExit:
            return
        delay = 1.0 if time.monotonic() - started > 60 else min(delay * 2, 30.0)


if __name__ == "__main__":
    main()
