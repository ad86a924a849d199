"""Transactional outbox: follow-up work is a row written in the request's own transaction.

    outbox.add("jobs.messages.send_message", message_id=42)

After the transaction commits the row is pushed to RQ (job id = "outbox-<row id>", unique). If Redis
is down or the process dies between commit and push, the periodic sweeper pushes it later: the work is
delayed, never lost. Work due later (offer timeouts, retries after backoff) stays in the table until it is
due and is pushed by the sweeper then: RQ's scheduler, whose lock a killed worker can hold for minutes,
is not relied on. The runner claims a row atomically (pending -> running) and beats a heartbeat while it
runs, so a row pushed twice or picked by two workers runs once, and a run whose worker died is given back
within a minute; job functions themselves are written to be safe to run again after a crash. Failed runs
are retried with backoff (WUYE_OUTBOX_BACKOFF), then kept as `failed` with the error. The API never
imports jobs/: rows name job functions by dotted path.
"""
from __future__ import annotations

import contextlib
import contextvars
import logging
import secrets
import threading
import time
from datetime import datetime, timedelta, timezone

import redis
from flask import current_app
from rq import Queue
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import JSON, Index, Integer, String, Text, func, select, update
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Mapped, Session, mapped_column

from .db_types import UTCDateTime
from .extensions import db, get_redis
from .logs import current_request_id
from .timeutil import as_utc, utcnow

log = logging.getLogger(__name__)

QUEUES = ("high", "default", "low")
RUNNER = "jobs.runner.run"
HEARTBEAT = timedelta(seconds=10)  # a running job's runner writes heartbeat_at this often
DEAD_AFTER = timedelta(seconds=45)  # a running row without a heartbeat this long has lost its worker
# An RQ job that started but never claimed its row within this long died with its worker (a live runner
# claims in milliseconds); RQ itself notices such "abandoned" jobs only at its 10-minute maintenance.
CLAIM_WITHIN = timedelta(seconds=30)


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
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a running job's runner is alive
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
    """Put one due row on its RQ queue unless RQ already holds it live. True if pushed. A row not due yet
    is left for the sweeper, which pushes it when it is."""
    if as_utc(available_at) > utcnow() + timedelta(seconds=1):
        return False
    conn = get_redis()
    q = Queue(queue_name(queue), connection=conn)
    jid = job_id(row_id, attempts)
    options = dict(result_ttl=300, failure_ttl=7 * 24 * 3600, job_timeout=current_app.config["JOB_TIMEOUT"],
                   description=f"outbox {row_id}")
    try:
        q.enqueue(RUNNER, row_id, job_id=jid, unique=True, **options)
        return True
    except DuplicateJobError:
        pass
    if live(jid, conn):
        return False
    # A dead job with this id lingers (finished, failed, or abandoned by a killed worker, which RQ cannot
    # always delete cleanly): a fresh id does as well, the runner's claim makes any copy run once.
    with contextlib.suppress(Exception):
        Job.fetch(jid, connection=conn).delete()
    q.enqueue(RUNNER, row_id, job_id=f"{jid}-{secrets.token_hex(3)}", **options)
    return True


def live(jid: str, conn: redis.Redis) -> bool:
    """Whether RQ will still run the job `jid`: waiting in its queue, or started moments ago (a runner that
    started longer ago without claiming its row died before it could)."""
    try:
        job = Job.fetch(jid, connection=conn)
        status = job.get_status(refresh=False)
    except (NoSuchJobError, ValueError):
        return False
    if status == JobStatus.QUEUED:
        return True
    if status == JobStatus.STARTED:
        started = job.started_at
        return started is not None and as_utc(started) > datetime.now(timezone.utc) - CLAIM_WITHIN
    return False


# -- runner side (called by jobs.runner) ------------------------------------------------------------

def claim(row_id: int) -> OutboxJob | None:
    """pending -> running, atomically; None when another runner has it or it is done.

    If the database connection dies around the commit, the claim may or may not have been saved: it is
    given back (running -> pending, only if it is this claim) on a fresh connection before the error goes
    on, so the row does not wait for the sweeper's dead-run detection."""
    now = utcnow()
    try:
        result = db.session.execute(
            update(OutboxJob)
            .where(OutboxJob.id == row_id, OutboxJob.status == "pending",
                   OutboxJob.available_at <= now + timedelta(seconds=2))
            .values(status="running", attempts=OutboxJob.attempts + 1, started_at=now, heartbeat_at=now)
        )
        db.session.commit()
    except OperationalError:
        _give_back(row_id, now)
        raise
    if result.rowcount != 1:
        return None
    return db.session.get(OutboxJob, row_id)


def _give_back(row_id: int, claimed_at: datetime) -> None:
    with contextlib.suppress(Exception):
        db.session.rollback()
    for _ in range(3):
        try:
            with db.engine.begin() as conn:
                conn.execute(update(OutboxJob).where(
                    OutboxJob.id == row_id, OutboxJob.status == "running", OutboxJob.started_at == claimed_at)
                    .values(status="pending", attempts=OutboxJob.attempts - 1, available_at=claimed_at))
            return
        except OperationalError:
            time.sleep(0.5)
    log.warning("outbox %s: could not give back a claim; the sweeper will", row_id)


@contextlib.contextmanager
def heartbeat(row_id: int):
    """While the body runs, a thread writes the row's heartbeat_at every HEARTBEAT on its own connection,
    so the sweeper can tell a long job from one whose worker died."""
    app = current_app._get_current_object()
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(HEARTBEAT.total_seconds()):
            try:
                with app.app_context(), db.engine.begin() as conn:
                    conn.execute(update(OutboxJob).where(OutboxJob.id == row_id, OutboxJob.status == "running")
                                 .values(heartbeat_at=utcnow()))
            except Exception:  # noqa: BLE001 - a missed beat is harmless; the next one may work
                log.debug("outbox %s: heartbeat failed", row_id, exc_info=True)

    thread = threading.Thread(target=beat, name=f"outbox-heartbeat-{row_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()


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
    """Push work that is due and that Redis lost, never got, or was never given (work due later); return
    runs whose worker died (no heartbeat) to pending."""
    cfg = current_app.config
    now = utcnow()
    revived = db.session.execute(
        update(OutboxJob)
        .where(OutboxJob.status == "running",
               func.coalesce(OutboxJob.heartbeat_at, OutboxJob.started_at) < now - DEAD_AFTER)
        .values(status="pending", available_at=now, last_error="worker lost while running")
    ).rowcount
    db.session.commit()

    grace = now - timedelta(seconds=cfg["OUTBOX_STALE_SECONDS"])
    rows = db.session.execute(
        select(OutboxJob.id, OutboxJob.queue, OutboxJob.available_at, OutboxJob.created_at, OutboxJob.attempts)
        .where(OutboxJob.status == "pending", OutboxJob.available_at <= now)
        .order_by(OutboxJob.available_at, OutboxJob.id).limit(limit)
    ).all()
    db.session.rollback()  # end the read transaction before talking to Redis
    pushed = 0
    for row_id, queue, available_at, created_at, attempts in rows:
        # A brand-new row due at once is normally being pushed by its own commit hook right now.
        immediate = as_utc(available_at) <= as_utc(created_at) + timedelta(seconds=1)
        if attempts == 0 and immediate and as_utc(created_at) > grace:
            continue
        try:
            if push(row_id, queue, available_at, attempts):
                pushed += 1
        except redis.RedisError:
            raise  # Redis is down: the next sweep tries again
        except Exception:  # noqa: BLE001 - one odd job must not stop the sweep of the others
            log.exception("outbox sweep: could not push %s", row_id)
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
