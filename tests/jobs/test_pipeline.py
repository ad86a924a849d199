"""The job pipeline never drops work and never does it twice: outbox, RQ, sweeper, retries, faults.
Real RQ workers (forking, burst mode), real Redis and PostgreSQL, the sandbox over HTTP."""
import logging
from datetime import timedelta

import pytest
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry

from jobs import runner
from server import outbox
from server.app import create_app
from server.extensions import db
from server.outbox import OutboxJob
from server.timeutil import utcnow
from server.wechat.models import Message, SubscribeCredit
from tests.conftest import test_config


def message(app, message_id) -> Message:
    with app.app_context():
        msg = db.session.get(Message, message_id)
        db.session.expunge(msg)
        return msg


def credits(app, owner_id) -> int:
    with app.app_context():
        return db.session.query(SubscribeCredit).filter_by(owner_id=owner_id).one().credits


def test_commit_pushes_row_to_rq_with_its_id(app, redis_conn, owner_with_credits):
    _, row_id = owner_with_credits()
    job = Job.fetch(f"outbox-{row_id}", connection=redis_conn)
    assert job.func_name == "jobs.runner.run" and job.args == (row_id,)
    assert job.origin == "test-default"


def test_rollback_leaves_nothing_behind(app, redis_conn, demo):
    with app.app_context():
        row = outbox.add("jobs.messages.send_message", message_id=1)
        row_id = row.id
        db.session.rollback()
        assert db.session.get(OutboxJob, row_id) is None
    assert Queue("test-default", connection=redis_conn).count == 0


def test_worker_sends_and_marks_done(app, sandbox, run_jobs, owner_with_credits):
    message_id, row_id = owner_with_credits()
    run_jobs()
    assert message(app, message_id).status == "sent"
    assert len(sandbox.messages(kind="subscribe")) == 1
    with app.app_context():
        assert db.session.get(OutboxJob, row_id).status == "done"
    assert credits(app, owner_with_credits.owner_id) == 1


def test_a_job_run_twice_sends_once(app, sandbox, redis_conn, run_jobs, owner_with_credits):
    message_id, row_id = owner_with_credits()
    runner.run(row_id)
    runner.run(row_id)  # a duplicate delivery of the same job
    with app.app_context():  # and the same row pushed to RQ again (e.g. by an eager sweep)
        db.session.get(OutboxJob, row_id).status = "pending"
        db.session.commit()
        outbox.push(row_id, "default", utcnow())
    run_jobs()
    assert len(sandbox.messages(kind="subscribe")) == 1
    assert credits(app, owner_with_credits.owner_id) == 1
    with app.app_context():  # the deliver guard alone also holds
        from server.wechat.services import deliver

        assert deliver(message_id) == "sent"
    assert len(sandbox.messages(kind="subscribe")) == 1


def test_redis_down_during_request_delays_but_does_not_lose(app, sandbox_server, sandbox, client, login, demo,
                                                            run_jobs, monkeypatch):
    """Approving a binding while Redis is down succeeds; the message goes out once Redis is back."""
    headers = login("applicant")
    pending = client.post("/api/v1/me/houses", headers=headers, json={
        "community_code": "demo", "building": "1", "unit": "1", "room": "101", "name": "新住户",
        "phone": "13600000002", "role": "tenant"}).get_json()
    client.post("/api/v1/me/subscriptions", headers=headers, json={"accepted": ["tpl-binding-result"]})
    run_jobs()  # the reviewers' notifications, sent while Redis is up
    sandbox.http.delete(sandbox.base + "sandbox/messages")

    down = create_app(test_config(sandbox_server.base, REDIS_URL="redis://127.0.0.1:1/0"))
    manager = login("demo-manager")
    res = down.test_client().post(f"/api/v1/staff/bindings/{pending['id']}/approve", headers=manager)
    assert res.status_code == 200 and res.get_json()["status"] == "approved"
    run_jobs()
    assert sandbox.messages() == []  # nothing reached RQ
    with app.app_context():
        assert db.session.query(OutboxJob).filter_by(status="pending").count() == 1

    monkeypatch.setitem(app.config, "OUTBOX_STALE_SECONDS", 0)
    with app.app_context():
        assert outbox.sweep()["pushed"] == 1
    run_jobs()
    sent = sandbox.messages(kind="subscribe")
    assert len(sent) == 1 and sent[0]["touser"] == "applicant"


def test_sweeper_leaves_live_jobs_and_young_rows_alone(app, redis_conn, owner_with_credits, monkeypatch):
    owner_with_credits()
    with app.app_context():
        assert outbox.sweep() == {"pushed": 0, "revived": 0}  # young row, already queued
        monkeypatch.setitem(app.config, "OUTBOX_STALE_SECONDS", 0)
        assert outbox.sweep() == {"pushed": 0, "revived": 0}  # queued in RQ: left alone
    assert Queue("test-default", connection=redis_conn).count == 1


def test_killed_worker_is_recovered_by_the_sweeper(app, sandbox, redis_conn, run_jobs, owner_with_credits):
    message_id, row_id = owner_with_credits()
    Queue("test-default", connection=redis_conn).empty()
    with app.app_context():  # a worker claimed it, then died (no finish, no fail)
        row = db.session.get(OutboxJob, row_id)
        row.status, row.attempts, row.started_at = "running", 1, utcnow() - timedelta(hours=1)
        db.session.commit()
        assert outbox.sweep() == {"pushed": 1, "revived": 1}
    run_jobs()
    assert message(app, message_id).status == "sent"
    assert len(sandbox.messages(kind="subscribe")) == 1


def test_transient_failures_retry_with_backoff_then_succeed(app, sandbox, redis_conn, run_jobs, owner_with_credits):
    sandbox.fault(kind="http_500", count=3, path="/cgi-bin/message/subscribe/send")
    message_id, row_id = owner_with_credits()
    run_jobs()  # 1 try + 2 in-process retries all hit the fault
    with app.app_context():
        row = db.session.get(OutboxJob, row_id)
        assert row.status == "pending" and row.attempts == 1 and "WeChat error" in row.last_error
        assert row.available_at > utcnow() + timedelta(seconds=5)  # backoff before the next attempt
        # Not handed to RQ's scheduler (whose lock a killed worker holds for minutes): the row waits here.
        assert outbox.sweep()["pushed"] == 0 and Queue("test-default", connection=redis_conn).count == 0
        row.available_at = utcnow()  # as if the backoff had passed: the next sweep pushes it
        db.session.commit()
    run_jobs()
    msg = message(app, message_id)
    assert msg.status == "sent" and msg.attempts == 2
    assert credits(app, owner_with_credits.owner_id) == 1  # one credit for one message, despite the retries


def test_errcode_minus_one_is_retried_in_process(app, sandbox, run_jobs, owner_with_credits):
    sandbox.fault(kind="errcode", errcode=-1, count=1, path="/cgi-bin/message/subscribe/send")
    message_id, _ = owner_with_credits()
    run_jobs()
    assert message(app, message_id).status == "sent"
    assert len(sandbox.calls("/cgi-bin/message/subscribe/send")) == 2


@pytest.mark.parametrize("errcode", [40003, 47003])
def test_never_retried_errors_fail_once_and_refund_the_credit(app, sandbox, run_jobs, owner_with_credits, errcode):
    sandbox.fault(kind="errcode", errcode=errcode, count=5, path="/cgi-bin/message/subscribe/send")
    message_id, row_id = owner_with_credits()
    run_jobs()
    msg = message(app, message_id)
    assert (msg.status, msg.error_code) == ("failed", errcode)
    assert len(sandbox.calls("/cgi-bin/message/subscribe/send")) == 1
    assert credits(app, owner_with_credits.owner_id) == 2
    with app.app_context():
        assert db.session.get(OutboxJob, row_id).status == "done"  # handled: nothing left to retry


def test_43101_clears_credits_and_is_not_retried(app, sandbox, run_jobs, owner_with_credits):
    sandbox.fault(kind="errcode", errcode=43101, openid="owner-jobs", count=1)
    message_id, _ = owner_with_credits()
    run_jobs()
    msg = message(app, message_id)
    assert (msg.status, msg.error_code) == ("failed", 43101)
    assert len(sandbox.calls("/cgi-bin/message/subscribe/send")) == 1
    assert credits(app, owner_with_credits.owner_id) == 0
    second, _ = owner_with_credits()  # no credit left: recorded as skipped, not sent
    run_jobs()
    assert message(app, second).status == "skipped"


def test_rejected_token_is_refreshed_once_and_the_call_retried(app, sandbox, run_jobs, owner_with_credits):
    sandbox.fault(kind="errcode", errcode=40001, count=1, path="/cgi-bin/message/subscribe/send")
    message_id, _ = owner_with_credits()
    run_jobs()
    assert message(app, message_id).status == "sent"
    assert len(sandbox.calls("/cgi-bin/message/subscribe/send")) == 2


def test_values_over_the_limit_are_cut_before_sending(app, sandbox, run_jobs, owner_with_credits):
    message_id, _ = owner_with_credits(note="这是一段非常非常长的说明文字，超过了微信规定的二十个字符")
    run_jobs()
    assert message(app, message_id).status == "sent"
    value = sandbox.messages(kind="subscribe")[0]["data"]["thing3"]["value"]
    assert len(value) == 20 and value.endswith("…")


def test_same_business_event_makes_one_message(app, owner_with_credits):
    first, _ = owner_with_credits(dedupe_key="binding-result:1:1")
    second, _ = owner_with_credits(dedupe_key="binding-result:1:1")
    assert first == second


def test_jobs_that_keep_failing_end_failed_and_visible(app, redis_conn, run_jobs, demo, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", 2)
    monkeypatch.setitem(app.config, "OUTBOX_BACKOFF", [0])
    with app.app_context():
        row_id = outbox.add("jobs.messages.send_message", message_id=999999).id  # no such message: fine
        bad_id = outbox.add("jobs.nowhere.missing_function").id
        db.session.commit()
    run_jobs()
    run_jobs()
    with app.app_context():
        assert db.session.get(OutboxJob, row_id).status == "done"
        bad = db.session.get(OutboxJob, bad_id)
        assert bad.status == "failed" and bad.attempts == 2 and "ModuleNotFoundError" in bad.last_error
    assert f"outbox-{bad_id}-r1" in FailedJobRegistry("test-default", connection=redis_conn).get_job_ids()
    cli = app.test_cli_runner().invoke(args=["jobs", "list"])
    assert f"{bad_id}\tjobs.nowhere.missing_function" in cli.output
    cli = app.test_cli_runner().invoke(args=["jobs", "retry", str(bad_id)])
    assert cli.exit_code == 0
    with app.app_context():
        assert db.session.get(OutboxJob, bad_id).status == "pending"


def test_request_id_follows_the_work_into_job_logs(app, client, login, sandbox, demo, caplog):
    headers = login("applicant")
    res = client.post("/api/v1/me/houses", headers={**headers, "X-Request-ID": "req-bind-42"}, json={
        "community_code": "demo", "building": "1", "unit": "1", "room": "102", "name": "某人",
        "phone": "13600000003", "role": "tenant"})
    assert res.status_code == 201
    with app.app_context():
        rows = db.session.query(OutboxJob).all()
        assert rows and {r.request_id for r in rows} == {"req-bind-42"}
        assert {m.request_id for m in db.session.query(Message).all()} == {"req-bind-42"}
    from server.logs import RequestIdFilter

    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.INFO, logger="jobs.runner"):
        runner.run(rows[0].id)
    assert any(r.request_id == "req-bind-42" and "outbox" in r.getMessage() for r in caplog.records)
