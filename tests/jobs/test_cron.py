"""Periodic jobs: one list, one leader, and the sweep they schedule really runs."""

from jobs import cron
from server.outbox import OutboxJob
from server.extensions import db


def test_every_periodic_job_resolves_to_a_function():
    names = [p.name for p in cron.PERIODIC]
    assert len(names) == len(set(names))
    for p in cron.PERIODIC:
        assert callable(cron.resolve(p.func))
        assert (p.interval is None) != (p.cron is None)


def test_scheduler_enqueues_the_sweep_which_runs(app, redis_conn, run_jobs, demo, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_STALE_SECONDS", 0)
    with app.app_context():
        db.session.add(OutboxJob(func="jobs.messages.send_message", kwargs={"message_id": 123}, queue="default"))
        db.session.commit()  # written without the commit hook, as if Redis had been down
    scheduler = cron.build_scheduler(redis_conn)
    enqueued = scheduler.enqueue_jobs()
    # Interval jobs start at once; crontab ones wait for their time.
    assert [j.name for j in enqueued] == [p.name for p in cron.PERIODIC if p.interval]
    assert "outbox-prune" not in [j.name for j in enqueued]
    run_jobs()  # the sweep pushes the row, the same burst runs it
    with app.app_context():
        assert db.session.query(OutboxJob).one().status == "done"


def test_only_one_leader(redis_conn):
    first, second = cron.Leader(redis_conn), cron.Leader(redis_conn)
    second.me = "another-host:1"
    assert first.hold() and first.hold()  # renews its own lease
    assert not second.hold()
    first.release()
    assert second.hold()
    second.release()
