"""Pushing a notice: one fan-out job splits the recipients into batch jobs; each batch creates its messages,
spends credits in bulk and sends concurrently. Real forking RQ workers, PostgreSQL, Redis, the sandbox."""
from collections import Counter

import pytest
from sqlalchemy import select

from server import outbox
from server.extensions import db
from server.notices import services
from server.notices.models import Notice
from server.outbox import OutboxJob
from server.timeutil import utcnow
from server.wechat.models import Message, SubscribeCredit
from tests.api.test_notices import resident

TEMPLATE = "tpl-notice"
SEND = "/cgi-bin/message/subscribe/send"
# openid -> (building, unit, room, credits); buildings 1 and 2 of the demo community, 3 is left out below.
RESIDENTS = {
    "n-a": ("1", "1", "101", 1), "n-b": ("1", "1", "102", 2), "n-c": ("1", "2", "101", 1),
    "n-d": ("1", "2", "102", 0), "n-e": ("2", "1", "101", 3), "n-f": ("2", "1", "102", 0),
    "n-g": ("2", "2", "101", 1),
}
WITH_CREDIT = {o for o, r in RESIDENTS.items() if r[3]}


@pytest.fixture
def residents(app, demo, monkeypatch):
    """Seven owners in buildings 1-2 (two without a credit for the notice template), one in building 3; the
    batch size is 3, so a notice to buildings 1-2 makes three batch jobs."""
    monkeypatch.setitem(app.config, "NOTICE_BATCH_SIZE", 3)
    monkeypatch.setitem(app.config, "NOTICE_SEND_THREADS", 4)
    ids = {}
    for openid, (building, unit, room, credits) in RESIDENTS.items():
        ids[openid] = resident(app, openid, building, unit, room)
        if credits:
            with app.app_context():
                db.session.add(SubscribeCredit(owner_id=ids[openid], template_id=TEMPLATE, credits=credits))
                db.session.commit()
    resident(app, "n-a", "2", "2", "102")  # a second house in scope: still one message
    ids["n-x"] = resident(app, "n-x", "3", "1", "101")  # not in scope
    with app.app_context():
        db.session.add(SubscribeCredit(owner_id=ids["n-x"], template_id=TEMPLATE, credits=1))
        db.session.commit()
    return ids


def publish(client, login, **body) -> dict:
    data = {"title": "1、2 号楼停水通知", "content": "因管道检修，11 月 25 日 9:00-17:00 停水，请提前储水。",
            "kind": "water_cut", "scope": {"buildings": ["1", "2"]}, **body}
    res = client.post("/api/v1/staff/notices", headers=login("demo-reception"), json=data)
    assert res.status_code == 201, res.get_json()
    return res.get_json()


def credits(app, owner_id) -> int:
    with app.app_context():
        return db.session.scalar(select(SubscribeCredit.credits).where(SubscribeCredit.owner_id == owner_id,
                                                                      SubscribeCredit.template_id == TEMPLATE))


def messages(app, notice_id) -> dict[str, Message]:
    with app.app_context():
        rows = db.session.scalars(select(Message).where(Message.dedupe_key.like(f"notice:{notice_id}:%"))).all()
        for m in rows:
            db.session.expunge(m)
        return {m.touser: m for m in rows}


def push_stats(client, login, notice_id) -> dict:
    return client.get(f"/api/v1/staff/notices/{notice_id}", headers=login("demo-reception")).get_json()["push"]


def jobs(app, func) -> list[OutboxJob]:
    with app.app_context():
        rows = db.session.scalars(select(OutboxJob).where(OutboxJob.func == func).order_by(OutboxJob.id)).all()
        for r in rows:
            db.session.expunge(r)
        return rows


def test_owners_with_a_credit_get_one_message_each(app, client, login, sandbox, run_jobs, residents):
    notice = publish(client, login)
    assert notice["affected"]["owners"] == 7
    run_jobs()

    received = sandbox.messages(template_id=TEMPLATE)
    assert Counter(m["touser"] for m in received) == {o: 1 for o in WITH_CREDIT}
    first = received[0]
    assert first["page"] == f"pages/notices/detail?id={notice['id']}"
    assert first["data"]["thing1"]["value"] == "1、2 号楼停水通知"
    summary = first["data"]["thing2"]["value"]  # cut to WeChat's 20 characters
    assert len(summary) == 20 and summary.startswith("因管道检修，") and summary.endswith("…")
    assert len(first["data"]["time3"]["value"]) == len("2026-11-24 10:00")

    sent = messages(app, notice["id"])
    assert {o: m.status for o, m in sent.items()} == {o: "sent" if o in WITH_CREDIT else "skipped"
                                                     for o in RESIDENTS}
    assert sent["n-d"].error_message == "用户没有剩余的订阅次数" and sent["n-d"].attempts == 0
    assert all(m.credit_spent and m.wx_msgid and m.sent_at for o, m in sent.items() if o in WITH_CREDIT)
    assert {m.template_key for m in sent.values()} == {"notice"}
    for openid, (_, _, _, had) in RESIDENTS.items():
        assert credits(app, residents[openid]) == (had - 1 if had else None)
    assert credits(app, residents["n-x"]) == 1  # building 3 was not in scope

    fan_out, = jobs(app, "jobs.notices.fan_out")
    batches = jobs(app, "jobs.notices.send_batch")
    assert fan_out.status == "done" and [b.status for b in batches] == ["done"] * 3
    assert sorted(o for b in batches for o in b.kwargs["owner_ids"]) == sorted(residents[o] for o in RESIDENTS)
    assert {b.queue for b in batches} == {"low"}
    stats = push_stats(client, login, notice["id"])
    assert stats.pop("fanned_out_at").endswith("+08:00")
    assert stats == {"recipients": 7, "sent": 5, "skipped": 2, "failed": 0, "pending": 0}
    # The pushes are in the message audit like every other message.
    audit = client.get("/api/v1/staff/messages?per_page=100", headers=login("demo-manager")).get_json()
    assert Counter(m["status"] for m in audit["items"] if m["template_key"] == "notice") == {"sent": 5, "skipped": 2}


def test_fan_out_and_batches_run_twice_send_once(app, client, login, sandbox, run_jobs, residents, redis_conn):
    notice = publish(client, login)
    with app.app_context():  # the fan-out done by hand first: the queued job then finds it done
        assert services.fan_out(notice["id"]) == "3 batch(es)"
        assert services.fan_out(notice["id"]) == "already"
    run_jobs()
    assert jobs(app, "jobs.notices.fan_out")[0].status == "done"
    batches = jobs(app, "jobs.notices.send_batch")
    assert len(batches) == 3
    assert len(sandbox.messages(template_id=TEMPLATE)) == 5

    with app.app_context():  # every batch again, directly ...
        for b in batches:
            services.send_batch(**b.kwargs)
        for b in batches:  # ... and through the queue, as a duplicate delivery would
            db.session.get(OutboxJob, b.id).status = "pending"
        db.session.commit()
        for b in batches:
            outbox.push(b.id, "low", utcnow())
    run_jobs()
    assert Counter(m["touser"] for m in sandbox.messages(template_id=TEMPLATE)) == {o: 1 for o in WITH_CREDIT}
    assert len(sandbox.calls(SEND)) == 5
    assert credits(app, residents["n-b"]) == 1
    stats = push_stats(client, login, notice["id"])
    assert (stats["recipients"], stats["sent"], stats["skipped"], stats["failed"]) == (7, 5, 2, 0)


def test_transient_failures_stay_pending_and_the_retry_sends_only_those(app, client, login, sandbox, run_jobs,
                                                                        residents, redis_conn):
    sandbox.fault(kind="http_500", count=3, openid="n-b")  # the send and its two in-process retries
    notice = publish(client, login)
    run_jobs()
    sent = messages(app, notice["id"])
    assert sent["n-b"].status == "pending" and sent["n-b"].credit_spent and sent["n-b"].attempts == 1
    assert sent["n-b"].error_message == "HTTP 500"
    assert {o for o, m in sent.items() if m.status == "sent"} == WITH_CREDIT - {"n-b"}
    stats = push_stats(client, login, notice["id"])
    assert (stats["sent"], stats["skipped"], stats["pending"]) == (4, 2, 1)
    failing = [b for b in jobs(app, "jobs.notices.send_batch") if b.status != "done"]
    assert len(failing) == 1 and failing[0].status == "pending" and failing[0].attempts == 1
    assert "BatchIncomplete" in failing[0].last_error
    assert credits(app, residents["n-b"]) == 1

    with app.app_context():  # as if the backoff had passed: the sweeper pushes the retry once it is due
        row = db.session.get(OutboxJob, failing[0].id)
        row.available_at = utcnow()
        db.session.commit()
    sandbox.http.delete(sandbox.base + "sandbox/calls")
    run_jobs()
    assert [m["touser"] for m in sandbox.messages(template_id=TEMPLATE) if m["touser"] == "n-b"] == ["n-b"]
    assert len(sandbox.calls(SEND)) == 1  # only the pending one was sent again
    assert Counter(m["touser"] for m in sandbox.messages(template_id=TEMPLATE)) == {o: 1 for o in WITH_CREDIT}
    retried = messages(app, notice["id"])["n-b"]
    assert retried.status == "sent" and retried.attempts == 2 and retried.error_code is None
    assert credits(app, residents["n-b"]) == 1  # one credit for one message, despite the retry
    stats = push_stats(client, login, notice["id"])
    assert (stats["recipients"], stats["sent"], stats["skipped"], stats["failed"], stats["pending"]) == (7, 5, 2, 0, 0)


def test_43101_clears_that_owners_credits_other_refusals_refund(app, client, login, sandbox, run_jobs, residents):
    sandbox.fault(kind="errcode", errcode=43101, openid="n-e", count=1)
    sandbox.fault(kind="errcode", errcode=47003, openid="n-b", count=1)
    notice = publish(client, login)
    run_jobs()
    sent = messages(app, notice["id"])
    assert (sent["n-e"].status, sent["n-e"].error_code) == ("failed", 43101)
    assert (sent["n-b"].status, sent["n-b"].error_code, sent["n-b"].credit_spent) == ("failed", 47003, False)
    assert credits(app, residents["n-e"]) == 0  # had 3: void now
    assert credits(app, residents["n-b"]) == 2  # refunded: WeChat did not consume it
    assert len(sandbox.calls(SEND)) == 5  # never retried
    assert {o for o, m in sent.items() if m.status == "sent"} == WITH_CREDIT - {"n-b", "n-e"}
    assert all(b.status == "done" for b in jobs(app, "jobs.notices.send_batch"))
    stats = push_stats(client, login, notice["id"])
    assert (stats["recipients"], stats["sent"], stats["skipped"], stats["failed"], stats["pending"]) == (7, 3, 2, 2, 0)


def test_a_rejected_token_is_refreshed_once_for_all_threads(app, client, login, sandbox, run_jobs, residents,
                                                             monkeypatch):
    monkeypatch.setitem(app.config, "NOTICE_BATCH_SIZE", 10)  # one batch, four threads sharing one token
    sandbox.fault(kind="errcode", errcode=40001, count=1, path=SEND)
    notice = publish(client, login)
    run_jobs()
    assert {m.status for o, m in messages(app, notice["id"]).items() if o in WITH_CREDIT} == {"sent"}
    assert Counter(m["touser"] for m in sandbox.messages(template_id=TEMPLATE)) == {o: 1 for o in WITH_CREDIT}
    # The first fetch, then for the refresh: the current stable token (the rejected one) and a forced new one.
    assert len(sandbox.calls("/cgi-bin/stable_token")) == 3


def test_a_whole_community_notice_reaches_every_building(app, client, login, sandbox, run_jobs, residents):
    notice = publish(client, login, scope=None, kind="reminder", title="温馨提示", content="天气转凉，注意保暖。")
    run_jobs()
    assert Counter(m["touser"] for m in sandbox.messages(template_id=TEMPLATE)) == {
        o: 1 for o in WITH_CREDIT | {"n-x"}}
    with app.app_context():
        assert db.session.get(Notice, notice["id"]).push_recipients == 8


def test_when_wechat_is_down_the_rest_of_a_batch_waits_for_the_retry(app, client, login, sandbox, run_jobs, demo,
                                                                      monkeypatch, redis_conn):
    monkeypatch.setitem(app.config, "NOTICE_SEND_THREADS", 2)
    owners = [f"down-{n}" for n in range(14)]
    for n, openid in enumerate(owners):
        owner_id = resident(app, openid, "3", "1" if n < 12 else "2", f"{n % 12 // 2 + 1}0{n % 2 + 1}")
        with app.app_context():
            db.session.add(SubscribeCredit(owner_id=owner_id, template_id=TEMPLATE, credits=1))
            db.session.commit()
    sandbox.fault(kind="http_500", count=1000, path=SEND)
    notice = publish(client, login, scope={"buildings": ["3"]})
    run_jobs()
    sent = messages(app, notice["id"])
    assert {m.status for m in sent.values()} == {"pending"} and len(sent) == 14
    tried = [m for m in sent.values() if m.attempts]
    assert 10 <= len(tried) < 14  # after 10 transient failures the rest is left for the retry, untried
    assert len(sandbox.calls(SEND)) == 3 * len(tried)  # each tried send: once plus two in-process retries
    batch, = jobs(app, "jobs.notices.send_batch")
    assert batch.status == "pending" and "14 of 14" in batch.last_error

    sandbox.http.delete(sandbox.base + "sandbox/faults")
    with app.app_context():  # the backoff has passed: the sweeper pushes the retry
        db.session.get(OutboxJob, batch.id).available_at = utcnow()
        db.session.commit()
    run_jobs()
    assert Counter(m["touser"] for m in sandbox.messages(template_id=TEMPLATE)) == {o: 1 for o in owners}
    stats = push_stats(client, login, notice["id"])
    assert (stats["recipients"], stats["sent"], stats["pending"]) == (14, 14, 0)
