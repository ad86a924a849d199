"""Pushes to owners (subscribe messages, spending consent credits) and staff (official-account template
messages), recorded as Message rows and delivered by jobs through the outbox."""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests
from flask import current_app
from sqlalchemy import bindparam, select, update

from .. import outbox
from ..accounts.models import Owner, Staff
from ..errors import ValidationFailed
from ..extensions import db
from ..logs import current_request_id
from ..timeutil import utcnow
from . import templates
from .client import WeChatApp, WeChatError, miniprogram, official_account
from .messages import Content
from .models import Message, SubscribeCredit
from .values import InvalidValue, subscribe_data, template_data

log = logging.getLogger(__name__)

STATUS_LABELS = {"pending": "待发送", "sent": "已发送", "skipped": "已跳过", "failed": "发送失败",
                 "unknown": "可能已送达"}
NO_CREDIT = "用户没有剩余的订阅次数"
# A subscribe message cannot be sent twice safely (WeChat has no client_msg_id for them): one whose send
# was interrupted is left as it is.
INTERRUPTED = "发送中断，微信可能已收到；为免业主重复收到，不再重发"


# -- consent ledger -----------------------------------------------------------------------------------

def subscriptions(owner: Owner) -> list[dict]:
    """Every subscribe template the product uses, with the owner's remaining credits."""
    credits = dict(db.session.execute(
        select(SubscribeCredit.template_id, SubscribeCredit.credits).where(SubscribeCredit.owner_id == owner.id)
    ).all())
    out = []
    for key, tpl in templates.SUBSCRIBE.items():
        tid = templates.subscribe_id(key)
        out.append({"key": key, "template_id": tid, "title": tpl.title, "credits": credits.get(tid, 0)})
    return out


def record_consent(owner: Owner, accepted: list[str]) -> list[dict]:
    """The templates the owner accepted in wx.requestSubscribeMessage: one credit each."""
    known = templates.subscribe_by_id()
    unknown = [tid for tid in accepted if tid not in known]
    if unknown:
        raise ValidationFailed(fields={"accepted": [f"未知的模板：{tid}" for tid in unknown]})
    for tid in accepted:
        added = db.session.execute(
            update(SubscribeCredit)
            .where(SubscribeCredit.owner_id == owner.id, SubscribeCredit.template_id == tid)
            .values(credits=SubscribeCredit.credits + 1, updated_at=utcnow())
        ).rowcount
        if not added:
            db.session.add(SubscribeCredit(owner_id=owner.id, template_id=tid, credits=1))
            db.session.flush()
    return subscriptions(owner)


def owners_with_credit(key: str):
    """The ids of the owners holding a credit for the subscribe template `key` (a subquery): whom a push of
    it reaches now."""
    return select(SubscribeCredit.owner_id).where(SubscribeCredit.template_id == templates.subscribe_id(key),
                                                  SubscribeCredit.credits > 0)


def subscribe_preview(content: Content) -> dict:
    """A subscribe message as the owner's WeChat will show it: the template's title and each field's label
    beside its value, shaped exactly as it will be stored and sent (cut to WeChat's limits)."""
    template = _checked(templates.SUBSCRIBE, content)
    data = subscribe_data(content.values, current_app.config["TIMEZONE"])
    return {"template": template.title, "page": template.page,
            "fields": [{"key": key, "label": template.fields.get(key, key), "value": value["value"]}
                       for key, value in data.items()]}


def _has_credit(owner_id: int, template_id: str) -> bool:
    return bool(db.session.scalar(select(SubscribeCredit.credits).where(
        SubscribeCredit.owner_id == owner_id, SubscribeCredit.template_id == template_id)))


def _spend_credit(owner_id: int, template_id: str) -> bool:
    return db.session.execute(
        update(SubscribeCredit)
        .where(SubscribeCredit.owner_id == owner_id, SubscribeCredit.template_id == template_id,
               SubscribeCredit.credits > 0)
        .values(credits=SubscribeCredit.credits - 1, updated_at=utcnow())
    ).rowcount == 1


def _refund_credit(owner_id: int, template_id: str) -> None:
    db.session.execute(
        update(SubscribeCredit)
        .where(SubscribeCredit.owner_id == owner_id, SubscribeCredit.template_id == template_id)
        .values(credits=SubscribeCredit.credits + 1, updated_at=utcnow())
    )


def _clear_credits(owner_id: int, template_id: str) -> None:
    db.session.execute(
        update(SubscribeCredit)
        .where(SubscribeCredit.owner_id == owner_id, SubscribeCredit.template_id == template_id)
        .values(credits=0, updated_at=utcnow())
    )


# -- creating messages ------------------------------------------------------------------------------

def notify_owner(owner: Owner, content: Content, *, community_id: int | None = None,
                 page: str | None = None, dedupe_key: str | None = None, queue: str = "default") -> Message:
    """Queue a subscribe message to an owner (sent by a job if they still have a credit then). `content`
    comes from a builder in messages.py."""
    key, values = content
    tpl = _checked(templates.SUBSCRIBE, content)
    return _create("subscribe", key, templates.subscribe_id(key), page or tpl.page, values, subscribe_data,
                   touser=owner.openid, owner_id=owner.id, community_id=community_id,
                   dedupe_key=dedupe_key, queue=queue)


def notify_staff(staff: Staff, content: Content, *, page: str | None = None,
                 dedupe_key: str | None = None, queue: str = "default") -> Message:
    """Queue an official-account template message that opens `page` of the mini-program."""
    key, values = content
    tpl = _checked(templates.OFFICIAL, content)
    msg = _create("template", key, templates.official_id(key), page or tpl.page, values, template_data,
                  touser=staff.oa_openid, staff_id=staff.id, community_id=staff.community_id,
                  dedupe_key=dedupe_key, queue=queue)
    return msg


def _checked(catalog: dict[str, templates.Template], content: Content) -> templates.Template:
    """The template, after checking the values carry exactly its fields (a programming error otherwise)."""
    tpl = catalog[content.key]
    if set(content.values) != set(tpl.fields):
        raise ValueError(f"message {content.key}: keys {sorted(content.values)} != template {sorted(tpl.fields)}")
    return tpl


def _create(kind, key, template_id, page, values, shaper, *, touser, dedupe_key, queue, **ids) -> Message:
    if dedupe_key:
        existing = db.session.scalar(select(Message).where(Message.dedupe_key == dedupe_key))
        if existing:
            return existing
    msg = Message(kind=kind, template_key=key, template_id=template_id, page=page, touser=touser,
                  dedupe_key=dedupe_key, request_id=current_request_id(), status="pending", payload={}, **ids)
    try:
        msg.payload = shaper(values, current_app.config["TIMEZONE"])
    except InvalidValue as exc:
        msg.status, msg.error_message = "failed", f"数据不符合微信格式：{exc}"
    if msg.status == "pending" and not touser:
        msg.status, msg.error_message = "skipped", "未绑定微信（无 openid）"
    if msg.status == "pending" and kind == "subscribe" and not _has_credit(ids["owner_id"], template_id):
        # Known now: no job needed. (A credit accepted later is for later messages.)
        msg.status, msg.error_message = "skipped", NO_CREDIT
    db.session.add(msg)
    db.session.flush()
    if msg.status == "pending":
        outbox.add("jobs.messages.send_message", queue=queue, message_id=msg.id)
    return msg


# -- delivering (called by the job) -------------------------------------------------------------------

def deliver(message_id: int) -> str:
    """Send one pending message. Safe to call again: only a `pending` message is sent, a spent credit
    is remembered on the message, and template sends carry client_msg_id so WeChat drops a repeat."""
    msg = db.session.get(Message, message_id)
    if msg is None or msg.status != "pending":
        return msg.status if msg else "missing"
    msg.attempts += 1
    if msg.kind == "subscribe":
        _deliver_subscribe(msg)
    else:
        _deliver_template(msg)
    return msg.status


def _close(msg: Message, status: str, code: int | None = None, text: str | None = None) -> None:
    msg.status, msg.error_code, msg.error_message = status, code, text
    if status == "sent":
        msg.sent_at = utcnow()
    db.session.commit()


def _deliver_subscribe(msg: Message) -> None:
    if msg.send_started_at is not None:  # an earlier run was killed while sending: never send it twice
        _close(msg, "unknown", None, INTERRUPTED)
        return
    if not msg.credit_spent:
        if not _spend_credit(msg.owner_id, msg.template_id):
            _close(msg, "skipped", None, NO_CREDIT)
            return
        msg.credit_spent = True
    msg.send_started_at = utcnow()
    db.session.commit()  # durable before the send: a retry never spends a second credit nor sends twice
    try:
        result = miniprogram().send_subscribe(msg.touser, msg.template_id, msg.payload, msg.page,
                                              current_app.config["MP_STATE"])
    except WeChatError as err:
        if err.maybe_delivered:
            _close(msg, "unknown", err.errcode, INTERRUPTED)
            return
        msg.send_started_at = None  # it did not arrive: a later attempt may send it
        _failed(msg, err)
        return
    msg.wx_msgid = str(result.get("msgid") or "") or None
    _close(msg, "sent")


def _deliver_template(msg: Message) -> None:
    try:
        result = official_account().send_template(
            msg.touser, msg.template_id, msg.payload, mp_appid=current_app.config["MP_APPID"],
            page=msg.page, client_msg_id=f"wuye-msg-{msg.id}")
    except WeChatError as err:
        _failed(msg, err)
        return
    msg.wx_msgid = str(result.get("msgid") or "") or None
    _close(msg, "sent")


def _failed(msg: Message, err: WeChatError) -> None:
    if err.transient:
        msg.error_code, msg.error_message = err.errcode, err.errmsg
        db.session.commit()
        raise err  # the outbox retries later with backoff
    if msg.kind == "subscribe":
        if err.errcode == 43101:
            # The user no longer accepts this template: whatever credits we counted are void.
            _clear_credits(msg.owner_id, msg.template_id)
        elif msg.credit_spent:
            _refund_credit(msg.owner_id, msg.template_id)  # WeChat did not consume it
            msg.credit_spent = False
    log.warning("message %s failed permanently: %s %s", msg.id, err.errcode, err.errmsg)
    _close(msg, "failed", err.errcode, err.errmsg)


# -- batches (one notice to thousands of owners) ------------------------------------------------------
# The same Message rows, consent ledger and error handling as `deliver`, done for many owners at once: rows
# created in one statement, credits spent in one statement, sends made concurrently, results written in
# bulk. Used by jobs that each carry a few hundred owners (see server.notices.services.send_batch).

@dataclass
class BatchOutcome:
    """What one run of a batch changed: messages it sent, skipped or failed for good, and those left
    `pending` after transient failures (the caller raises so the outbox retries; a retry sends only those)."""
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    pending: int = 0


class _SenderApp(WeChatApp):
    """The mini-program as one sending thread sees it: its own HTTP session (requests sessions are not shared
    between threads), and the shared Redis-cached access token read once instead of before every send. When
    WeChat rejects that token, WeChatApp.call refreshes it once as usual: the token this thread sent is
    the rejected one, so a token another thread already refreshed is picked up, not refreshed again."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self._token: str | None = None
        # requests re-reads the environment (proxies, CA bundle) on every call; resolve it once per thread.
        http = self.client._http
        http.proxies.update(requests.utils.get_environ_proxies(self.base_url))
        http.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        http.trust_env = False

    def access_token(self, *, rejected: str | None = None) -> str:
        if self._token is None or rejected is not None:
            self._token = super().access_token(rejected=rejected)
        return self._token

    def redis_token(self) -> str | None:
        return self._token if self._token is not None else super().redis_token()


def _insert_ignoring_duplicates(table):
    """INSERT ... ON CONFLICT DO NOTHING on PostgreSQL and SQLite."""
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table).on_conflict_do_nothing()


def send_subscribe_batch(content: Content, recipients: dict[int, str], *, dedupe_prefix: str,
                         community_id: int | None, page: str | None, threads: int,
                         tally: Callable[[BatchOutcome], None] | None = None) -> BatchOutcome:
    """Send subscribe message `content` to many owners ({owner_id: openid}), one Message each
    (dedupe key `<dedupe_prefix><owner_id>`). Safe to run again: existing messages are not recreated, only
    `pending` ones are sent, and a credit spent by an earlier run is remembered on the message.

    `tally(outcome)` is called just before each of the (two) commits with what that commit changes, so the
    caller's own counters move in the same transaction as the message statuses."""
    cfg = current_app.config
    key, values = content
    template_id = templates.subscribe_id(key)
    page = page or _checked(templates.SUBSCRIBE, content).page
    total = BatchOutcome()
    if not recipients:
        return total
    now = utcnow()
    try:
        payload, status, error = subscribe_data(values, cfg["TIMEZONE"]), "pending", None
    except InvalidValue as exc:
        payload, status, error = {}, "failed", f"数据不符合微信格式：{exc}"
    keys = {f"{dedupe_prefix}{owner_id}": owner_id for owner_id in recipients}

    def initial(openid: str | None) -> tuple[str, str | None]:
        if status == "pending" and not openid:
            return "skipped", "未绑定微信（无 openid）"
        return status, error

    rows = []
    for dedupe_key, owner_id in keys.items():
        first_status, first_error = initial(recipients[owner_id])
        rows.append({"kind": "subscribe", "community_id": community_id, "owner_id": owner_id,
                     "touser": recipients[owner_id] or None, "template_key": key, "template_id": template_id,
                     "page": page, "payload": payload, "status": first_status, "error_message": first_error,
                     "dedupe_key": dedupe_key, "credit_spent": False, "attempts": 0,
                     "request_id": current_request_id(), "created_at": now})
    table = Message.__table__
    created = db.session.execute(_insert_ignoring_duplicates(table).returning(table.c.status), rows).scalars().all()
    first = BatchOutcome(skipped=created.count("skipped"), failed=created.count("failed"))

    # Sends an earlier run started and never recorded (it was killed mid-batch) are not repeated.
    table = Message.__table__
    interrupted = db.session.execute(
        update(table).where(table.c.dedupe_key.in_(list(keys)), table.c.status == "pending",
                            table.c.send_started_at.is_not(None))
        .values(status="unknown", error_message=INTERRUPTED)).rowcount
    first.sent += interrupted
    # Credits, in bulk: one decrement per owner who has one left; the others are skipped without a call.
    pending = db.session.execute(
        select(Message.id, Message.owner_id, Message.touser, Message.payload, Message.page, Message.credit_spent,
               Message.attempts)
        .where(Message.dedupe_key.in_(list(keys)), Message.status == "pending")
    ).all()
    to_spend = {m.owner_id: m.id for m in pending if not m.credit_spent}
    if to_spend:
        credits = SubscribeCredit.__table__
        spent = set(db.session.execute(
            update(credits)
            .where(credits.c.template_id == template_id, credits.c.owner_id.in_(list(to_spend)), credits.c.credits > 0)
            .values(credits=credits.c.credits - 1, updated_at=now)
            .returning(credits.c.owner_id)
        ).scalars())
        if spent:
            db.session.execute(update(table).where(table.c.id.in_([to_spend[o] for o in spent]))
                               .values(credit_spent=True))
        unspent = [to_spend[o] for o in to_spend if o not in spent]
        if unspent:
            db.session.execute(update(table).where(table.c.id.in_(unspent))
                               .values(status="skipped", error_message=NO_CREDIT))
            first.skipped += len(unspent)
        pending = [m for m in pending if m.credit_spent or m.owner_id in spent]
    if pending:
        db.session.execute(update(table).where(table.c.id.in_([m.id for m in pending])).values(send_started_at=now))
    if tally:
        tally(first)
    db.session.commit()  # durable before any send: a retry never spends a second credit nor sends twice

    results = _send_concurrently(template_id, pending, cfg["MP_STATE"], threads)
    second = _record_batch_results(template_id, pending, results)
    if tally:
        tally(second)
    db.session.commit()
    total.sent, total.skipped = first.sent + second.sent, first.skipped
    total.failed, total.pending = first.failed + second.failed, second.pending
    return total


def _send_concurrently(template_id: str, pending: list, state: str,
                       threads: int) -> dict[int, dict | WeChatError | None]:
    """message id -> WeChat's answer or the WeChatError, sent from `threads` threads. When WeChat looks down
    (max(threads, 10) transient failures), the sends not started yet are not tried (None): they stay pending
    for the outbox's retry instead of each waiting out its timeouts."""
    if not pending:
        return {}
    base = miniprogram()
    token = base.access_token()  # the shared token (Redis), read once for the batch
    local = threading.local()
    senders: list[_SenderApp] = []
    lock = threading.Lock()
    transient = [0]
    give_up = threading.Event()

    def sender() -> _SenderApp:
        app = getattr(local, "app", None)
        if app is None:
            app = _SenderApp(appid=base.appid, secret=base.secret, base_url=base.base_url, redis=base.redis,
                             timeout=base.timeout, retries=base.retries)
            app._token = token
            local.app = app
            with lock:
                senders.append(app)
        return app

    def send(m) -> tuple[int, dict | WeChatError | None]:
        if give_up.is_set():
            return m.id, None
        try:
            return m.id, sender().send_subscribe(m.touser, template_id, m.payload, m.page, state)
        except WeChatError as err:
            error = err
        except Exception as exc:  # unknown trouble: leave it pending, the outbox retries
            log.exception("message %s: unexpected error while sending", m.id)
            error = WeChatError(None, type(exc).__name__, transient=True)
        if error.transient:
            with lock:
                transient[0] += 1
                if transient[0] >= max(threads, 10) and not give_up.is_set():
                    log.warning("WeChat keeps failing (%s %s); leaving the rest of the batch for a retry",
                                error.errcode, error.errmsg)
                    give_up.set()
        return m.id, error

    try:
        with ThreadPoolExecutor(max_workers=max(1, min(threads, len(pending))),
                                thread_name_prefix="wx-send") as pool:
            return dict(pool.map(send, pending))
    finally:
        for app in senders:
            app.client._http.close()


def _record_batch_results(template_id: str, pending: list,
                          results: dict[int, dict | WeChatError | None]) -> BatchOutcome:
    """Write every send's outcome in bulk, with the same rules as `_failed`: transient -> still pending (with
    the error noted); 43101 -> failed and the owner's credits for this template cleared; any other
    permanent error -> failed and the credit refunded. Not tried (None) -> pending, untouched."""
    now = utcnow()
    outcome = BatchOutcome()
    updates, cleared, refunded = [], [], []
    for m in pending:
        result = results.get(m.id)
        row = {"id_": m.id, "attempts": m.attempts + 1, "status": "pending", "error_code": None,
               "error_message": None, "wx_msgid": None, "sent_at": None, "credit_spent": True,
               "send_started_at": None}
        if result is None:  # not tried: pending as it was
            row["attempts"] = m.attempts
            outcome.pending += 1
        elif isinstance(result, WeChatError):
            row["error_code"], row["error_message"] = result.errcode, result.errmsg
            if result.maybe_delivered:  # WeChat may have it: counted as sent, never repeated
                row["status"], row["error_message"] = "unknown", INTERRUPTED
                outcome.sent += 1
            elif result.transient:
                outcome.pending += 1
            else:
                row["status"] = "failed"
                outcome.failed += 1
                if result.errcode == 43101:
                    cleared.append(m.owner_id)
                else:
                    refunded.append(m.owner_id)
                    row["credit_spent"] = False
        else:
            row["status"], row["sent_at"] = "sent", now
            row["wx_msgid"] = str(result.get("msgid") or "") or None
            outcome.sent += 1
        updates.append(row)
    table = Message.__table__
    if updates:  # one UPDATE, executed for every row (the parameters name the columns to set)
        db.session.execute(update(table).where(table.c.id == bindparam("id_")), updates)
    credits = SubscribeCredit.__table__
    if cleared:
        # The user no longer accepts this template: whatever credits we counted are void.
        db.session.execute(update(credits).where(credits.c.template_id == template_id,
                                                 credits.c.owner_id.in_(cleared)).values(credits=0, updated_at=now))
    if refunded:  # WeChat did not consume them
        db.session.execute(update(credits).where(credits.c.template_id == template_id,
                                                 credits.c.owner_id.in_(refunded))
                           .values(credits=credits.c.credits + 1, updated_at=now))
    if outcome.failed:
        log.warning("%d message(s) of a batch failed permanently (%s)", outcome.failed, template_id)
    return outcome
