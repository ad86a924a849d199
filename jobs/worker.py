"""RQ worker: builds the app once. `python -m jobs.worker [--burst] [queues...]`.

WUYE_WORKER_MODE=fork (default): each job runs in a forked work horse, isolated from the others; the
DB engine is disposed before each fork so a horse never shares the parent's connections.
WUYE_WORKER_MODE=simple: jobs run in the worker process itself, reusing its DB and HTTP connections:
several times the throughput (see README, benchmarks), at the price of isolation.
"""
from __future__ import annotations

import argparse
import logging

import redis
from flask import Flask
from rq import Queue, SimpleWorker
from rq import Worker as _Worker

from server import outbox
from server.extensions import db

from . import context

log = logging.getLogger(__name__)


class Worker(_Worker):
    app: Flask

    def fork_work_horse(self, job, queue):
        with self.app.app_context():
            db.engine.dispose()
        super().fork_work_horse(job, queue)


class InProcessWorker(SimpleWorker):
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
    worker = make_worker(app, args.queues or None)
    while True:
        try:
            worker.work(with_scheduler=True, burst=args.burst, logging_level=app.config["LOG_LEVEL"])
            return
        except redis.ConnectionError:
            # Redis went away: wait and reconnect instead of exiting (nothing is lost, the outbox holds it).
            log.warning("Redis unavailable; worker retrying in 5 s")
            import time

            time.sleep(5)
            worker = make_worker(app, args.queues or None)


if __name__ == "__main__":
    main()
