"""RQ worker: builds the app once, disposes the DB engine before each fork so a work horse never shares
the parent's connections. `python -m jobs.worker [--burst] [queues...]`."""
from __future__ import annotations

import argparse
import logging

import redis
from flask import Flask
from rq import Queue
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


def make_worker(app: Flask, queues: list[str] | None = None, **kwargs) -> Worker:
    context.set_app(app)
    conn = app.extensions["redis"]
    with app.app_context():
        names = [outbox.queue_name(q) for q in (queues or outbox.QUEUES)]
    worker = Worker([Queue(n, connection=conn) for n in names], connection=conn, **kwargs)
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
