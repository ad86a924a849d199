"""The defects fault injection found in the pipeline, one test each (the end-to-end versions, with real
processes being killed, are in tests/faults/)."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from rq import Queue
from rq.job import JobStatus

from server import outbox
from server.extensions import db
from server.outbox import OutboxJob
from server.timeutil import utcnow
from server.wechat import services as wechat
from server.wechat.models import Message
from tests.jobs.test_pipeline import message
from tests.workflow import report


def test_an_abandoned_rq_job_does_not_stop_the_sweep(app, redis_conn, owner_with_credits, monkeypatch):
    """A worker killed after RQ handed it the job but before the runner claimed the row leaves the RQ job
    "started" for good; the sweep pushes a fresh copy, and goes on to the other rows."""
    _, first = owner_with_credits()
    _, second = owner_with_credits(note="第二条")
    monkeypatch.setitem(app.config, "OUTBOX_STALE_SECONDS", 0)
    queue = Queue("test-default", connection=redis_conn)
    queue.empty()
    with app.app_context():
        job = queue.enqueue(outbox.RUNNER, first, job_id=outbox.job_id(first))
        job.set_status(JobStatus.STARTED)
        job.started_at = datetime.now(timezone.utc) - timedelta(minutes=5)
        job.save()
        queue.remove(job.id)
        assert outbox.sweep()["pushed"] == 2
    ids = queue.get_job_ids()
    assert len(ids) == 2 and any(i.startswith(f"outbox-{first}-") for i in ids)  # a fresh id for the dead one


def test_a_run_whose_worker_died_is_given_back_within_a_minute(app, owner_with_credits):
    _, dead = owner_with_credits()
    _, alive = owner_with_credits(note="第二条")
    with app.app_context():
        now = utcnow()
        for row_id, beat in ((dead, now - timedelta(seconds=50)), (alive, now - timedelta(seconds=5))):
            row = db.session.get(OutboxJob, row_id)
            row.status, row.attempts, row.started_at, row.heartbeat_at = "running", 1, now - timedelta(minutes=3), beat
        db.session.commit()
        assert outbox.sweep()["revived"] == 1
        assert db.session.get(OutboxJob, dead).status == "pending"
        assert db.session.get(OutboxJob, alive).status == "running"  # beating: a long job, not a dead one


def test_heartbeat_beats_while_a_job_runs(app, owner_with_credits, monkeypatch):
    _, row_id = owner_with_credits()
    monkeypatch.setattr(outbox, "HEARTBEAT", timedelta(seconds=0.2))
    with app.app_context():
        row = db.session.get(OutboxJob, row_id)
        row.status, row.heartbeat_at = "running", utcnow() - timedelta(hours=1)
        db.session.commit()
        with outbox.heartbeat(row_id):
            time.sleep(0.7)
        db.session.expire_all()
        assert db.session.get(OutboxJob, row_id).heartbeat_at > utcnow() - timedelta(seconds=5)


def test_an_interrupted_owner_message_is_not_sent_again(app, sandbox, owner_with_credits):
    """Killed after the send started (send_started_at committed) and before the answer was recorded: the
    next run cannot know whether WeChat has it, and subscribe messages cannot be deduplicated there."""
    message_id, _ = owner_with_credits()
    with app.app_context():
        msg = db.session.get(Message, message_id)
        msg.credit_spent, msg.send_started_at = True, utcnow()
        db.session.commit()
        assert wechat.deliver(message_id) == "unknown"
    assert sandbox.calls("/cgi-bin/message/subscribe/send") == []
    assert message(app, message_id).error_message == wechat.INTERRUPTED


def test_a_send_that_timed_out_is_not_repeated(app, sandbox, owner_with_credits, monkeypatch):
    message_id, _ = owner_with_credits()
    monkeypatch.setitem(app.config, "WECHAT_TIMEOUT", 0.5)
    app.extensions.pop("wechat", None)
    sandbox.fault(kind="delay", seconds=1.5, path="/cgi-bin/message/subscribe/send")
    try:
        with app.app_context():
            assert wechat.deliver(message_id) == "unknown"
    finally:
        app.extensions.pop("wechat", None)
    time.sleep(2)  # the sandbox logs a call once it has answered it
    assert len(sandbox.calls("/cgi-bin/message/subscribe/send")) == 1  # no in-process retry either


def test_a_token_refused_even_after_the_refresh_is_retried_later(app, sandbox, run_jobs, zhangsan, client, login):
    """40001 on the send, and 40001 again right after the refresh: WeChat's token service blinking, not a
    reason to leave the worker uninformed of the order for good."""
    sandbox.fault(kind="errcode", errcode=40001, count=2, path="/cgi-bin/message/template/send")
    order = report(client, zhangsan.headers)
    run_jobs()
    with app.app_context():
        push = db.session.query(Message).filter_by(template_key="order_assigned").one()
        assert push.status == "pending" and push.error_code == 40001
        row, = [r for r in db.session.query(OutboxJob).filter_by(func="jobs.messages.send_message")
                if r.kwargs == {"message_id": push.id}]
        assert row.status == "pending" and row.attempts == 1
        row.available_at = utcnow()  # the backoff has passed
        db.session.commit()
    run_jobs()
    assigned = sandbox.messages(template_id="tpl-order-assigned")
    assert [m["data"]["character_string1"]["value"] for m in assigned] == [order["number"]]


def test_new_orders_go_first_and_re_offers_wait_their_turn(app, client, zhangsan, run_jobs):
    """What the owner waits for (a worker for a new order) is urgent; re-offering an unaccepted order and
    progress messages are housekeeping that must not delay it when many fall due together."""
    report(client, zhangsan.headers)
    with app.app_context():
        dispatch = db.session.query(OutboxJob).filter_by(func="jobs.workorders.dispatch").one()
        assert dispatch.queue == "high"
    run_jobs()
    with app.app_context():
        timeout = db.session.query(OutboxJob).filter_by(func="jobs.workorders.offer_timeout").one()
        assert timeout.queue == "default" and timeout.available_at > utcnow() + timedelta(minutes=9)
        queues = {m.template_key: row.queue for m, row in db.session.query(Message, OutboxJob).join(
            OutboxJob, OutboxJob.kwargs["message_id"].as_integer() == Message.id)}
        assert queues.get("order_assigned") == "high"
