"""Transactional outbox: follow-up work is a row written in the request's own transaction.

    outbox.add("jobs.messages.send_message", message_id=42)

After the transaction commits the row is pushed to RQ (job id = "outbox-<row id>", unique). If Redis
is down or the process dies between commit and push, the periodic sweeper pushes it later: the work is
delayed, never lost. The runner claims a row atomically (pending -> running), so a row pushed twice or
picked by two workers runs once; job functions themselves are written to be safe to run again after a
crash. Failed runs are retried with backoff (WUYE_OUTBOX_BACKOFF), then kept as `failed` with the error.
The API never imports jobs/: rows name job functions by dotted path.
"""
from __future__ import annotations

import contextlib
import contextvars
import logging
from datetime import datetime, timedelta

import redis
from flask import current_app
from rq import Queue
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import JSON, Index, Integer, String, Text, select, update
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from .db_types import UTCDateTime
from .extensions import db, get_redis
from .logs import current_request_id
from .timeutil import as_utc, utcnow

log = logging.getLogger(__name__)

QUEUES = ("high", "default", "low")
RUNNER = "jobs.runner.run"
LIVE_STATUSES = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


class OutboxJob(db.Model):
    __tablename__ = "outbox_jobs"
    __table_args__ = (Index("ix_outbox_jobs_status_available", "status", "available_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    func: Mapped[str] = mapped_column(String(200))
    kwargs: Mapped[dict] = mapped_column(JSON, default=dict)
    queue: Mapped[str] = mapped_column(String(20), default="default")
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending running done failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def job_id(row_id: int, attempts: int = 0) -> str:
    """RQ job id of a row's next run. A retry gets its own id: it is pushed while the failing run still
    holds the previous one."""
    return f"outbox-{row_id}" if not attempts else f"outbox-{row_id}-r{attempts}"


def queue_name(name: str) -> str:
    return current_app.config["QUEUE_PREFIX"] + name


# Set while a job runs: follow-up work it creates (due now) is run by the same job right after its commit,
# instead of a round trip through Redis and another worker fork. See jobs.runner.
_inline: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("outbox_inline", default=None)


@contextlib.contextmanager
def collecting_follow_ups():
    sink: list[int] = []
    token = _inline.set(sink)
    try:
        yield sink
    finally:
        _inline.reset(token)


def add(func: str, *, queue: str = "default", delay: timedelta | None = None, at: datetime | None = None,
        **kwargs) -> OutboxJob:
    """Record follow-up work in the current transaction; it is pushed to RQ after commit (or, inside a
    job, run by that job after its commit)."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue}")
    available = at or (utcnow() + delay if delay else utcnow())
    row = OutboxJob(func=func, kwargs=kwargs, queue=queue, available_at=available,
                    request_id=current_request_id())
    db.session.add(row)
    db.session.flush()
    sink = _inline.get()
    if sink is not None and available <= utcnow() + timedelta(seconds=1):
        sink.append(row.id)
    else:
        _remember(db.session(), row)
    return row


def _remember(session: Session, row: OutboxJob) -> None:
    session.info.setdefault("outbox", []).append((row.id, row.queue, row.available_at, row.attempts or 0))


def _after_commit(session: Session) -> None:
    pending = session.info.pop("outbox", None)
    if pending:
        push_many(pending)


def _after_rollback(session: Session) -> None:
    session.info.pop("outbox", None)


def init_outbox() -> None:
    # db.session is one scoped_session for every app in the process: listen once.
    if not event.contains(db.session, "after_commit", _after_commit):
        event.listen(db.session, "after_commit", _after_commit)
        event.listen(db.session, "after_rollback", _after_rollback)


def push_many(rows: list[tuple[int, str, datetime, int]]) -> int:
    """Push rows to RQ; stops at the first Redis failure (the sweeper will pick up the rest)."""
    pushed = 0
    for row_id, queue, available_at, attempts in rows:
        try:
            push(row_id, queue, available_at, attempts)
            pushed += 1
        except redis.RedisError as exc:
            log.warning("Redis unavailable (%s); %d job(s) left for the outbox sweeper",
                        exc.__class__.__name__, len(rows) - pushed)
            break
    return pushed


def push_ids(row_ids: list[int]) -> int:
    """Push rows by id (those still pending), e.g. follow-ups a failed job could not run itself."""
    if not row_ids:
        return 0
    rows = db.session.execute(select(OutboxJob.id, OutboxJob.queue, OutboxJob.available_at, OutboxJob.attempts)
                              .where(OutboxJob.id.in_(row_ids), OutboxJob.status == "pending")).all()
    db.session.rollback()
    return push_many([tuple(r) for r in rows])


def push(row_id: int, queue: str, available_at: datetime, attempts: int = 0) -> bool:
    """Put one row on its RQ queue unless RQ already holds it live. True if pushed."""
    conn = get_redis()
    q = Queue(queue_name(queue), connection=conn)
    jid = job_id(row_id, attempts)
    options = dict(job_id=jid, unique=True, result_ttl=300, failure_ttl=7 * 24 * 3600,
                   job_timeout=current_app.config["JOB_TIMEOUT"], description=f"outbox {row_id}")
    for _ in range(2):
        try:
            if as_utc(available_at) > utcnow() + timedelta(seconds=1):
                q.enqueue_at(as_utc(available_at), RUNNER, row_id, **options)
            else:
                q.enqueue(RUNNER, row_id, **options)
            return True
        except DuplicateJobError:
            # A finished/failed RQ job with this id may linger (result_ttl); replace it. A live one stays.
            try:
                existing = Job.fetch(jid, connection=conn)
            except NoSuchJobError:
                continue
            if existing.get_status(refresh=True) in LIVE_STATUSES:
                return False
            existing.delete()
    return False


# -- runner side (called by jobs.runner) ------------------------------------------------------------

def claim(row_id: int) -> OutboxJob | None:
    """pending -> running, atomically; None when another runner has it or it is done."""
    now = utcnow()
    result = db.session.execute(
        update(OutboxJob)
        .where(OutboxJob.id == row_id, OutboxJob.status == "pending",
               OutboxJob.available_at <= now + timedelta(seconds=2))
        .values(status="running", attempts=OutboxJob.attempts + 1, started_at=now)
    )
    db.session.commit()
    if result.rowcount != 1:
        return None
    return db.session.get(OutboxJob, row_id)


def finish(row: OutboxJob) -> None:
    """Mark done in the same transaction as whatever the job left uncommitted."""
    row.status = "done"
    row.finished_at = utcnow()
    row.last_error = None
    db.session.commit()


def fail(row_id: int, error: str) -> OutboxJob:
    """Schedule a retry with backoff, or give up after the configured attempts."""
    db.session.rollback()
    row = db.session.get(OutboxJob, row_id)
    cfg = current_app.config
    row.last_error = error[-4000:]
    row.finished_at = utcnow()
    if row.attempts >= cfg["OUTBOX_MAX_ATTEMPTS"]:
        row.status = "failed"
    else:
        backoff = cfg["OUTBOX_BACKOFF"]
        row.status = "pending"
        row.available_at = utcnow() + timedelta(seconds=backoff[min(row.attempts - 1, len(backoff) - 1)])
        _remember(db.session(), row)
    db.session.commit()
    return row


def sweep(limit: int = 1000) -> dict:
    """Re-push work Redis lost or never got; return runs abandoned by a killed worker to pending."""
    cfg = current_app.config
    now = utcnow()
    stuck_before = now - timedelta(seconds=cfg["JOB_TIMEOUT"] + 60)
    revived = db.session.execute(
        update(OutboxJob)
        .where(OutboxJob.status == "running", OutboxJob.started_at < stuck_before)
        .values(status="pending", available_at=now, last_error="worker lost while running")
    ).rowcount
    db.session.commit()

    grace = now - timedelta(seconds=cfg["OUTBOX_STALE_SECONDS"])
    rows = db.session.execute(
        select(OutboxJob.id, OutboxJob.queue, OutboxJob.available_at, OutboxJob.created_at, OutboxJob.attempts)
        .where(OutboxJob.status == "pending", OutboxJob.available_at <= now)
        .order_by(OutboxJob.id).limit(limit)
    ).all()
    db.session.rollback()  # end the read transaction before talking to Redis
    pushed = 0
    conn = get_redis()
    for row_id, queue, available_at, created_at, attempts in rows:
        # A brand-new row is normally being pushed by its own commit hook right now.
        if attempts == 0 and as_utc(created_at) > grace:
            continue
        try:
            status = Job.fetch(job_id(row_id, attempts), connection=conn).get_status(refresh=False)
        except NoSuchJobError:
            status = None
        if status in LIVE_STATUSES:
            continue
        if push(row_id, queue, available_at, attempts):
            pushed += 1
    if pushed or revived:
        log.info("outbox sweep: re-pushed %d, revived %d", pushed, revived)
    return {"pushed": pushed, "revived": revived}


def prune(days: int = 14) -> int:
    cutoff = utcnow() - timedelta(days=days)
    deleted = db.session.execute(
        OutboxJob.__table__.delete().where(OutboxJob.status == "done", OutboxJob.finished_at < cutoff)
    ).rowcount
    db.session.commit()
    return deleted


def retry(row_id: int) -> OutboxJob | None:
    """A person decided to try a failed job again: fresh attempts, due now."""
    row = db.session.get(OutboxJob, row_id)
    if row is None:
        return None
    row.status, row.attempts, row.available_at, row.last_error = "pending", 0, utcnow(), None
    db.session.flush()
    _remember(db.session(), row)
    return row
