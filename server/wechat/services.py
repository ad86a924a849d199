"""Pushes to owners (subscribe messages, spending consent credits) and staff (official-account template
messages), recorded as Message rows and delivered by jobs through the outbox."""
from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import select, update

from .. import outbox
from ..accounts.models import Owner, Staff
from ..errors import ValidationFailed
from ..extensions import db
from ..logs import current_request_id
from ..timeutil import utcnow
from . import templates
from .client import WeChatError, miniprogram, official_account
from .models import Message, SubscribeCredit
from .values import InvalidValue, subscribe_data, template_data

log = logging.getLogger(__name__)

STATUS_LABELS = {"pending": "待发送", "sent": "已发送", "skipped": "已跳过", "failed": "发送失败"}
NO_CREDIT = "用户没有剩余的订阅次数"


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

def notify_owner(owner: Owner, key: str, values: dict, *, community_id: int | None = None,
                 page: str | None = None, dedupe_key: str | None = None, queue: str = "default") -> Message:
    """Queue a subscribe message to an owner (sent by a job if they still have a credit then)."""
    tpl = templates.SUBSCRIBE[key]
    return _create("subscribe", key, templates.subscribe_id(key), page or tpl.page, values, subscribe_data,
                   touser=owner.openid, owner_id=owner.id, community_id=community_id,
                   dedupe_key=dedupe_key, queue=queue)


def notify_staff(staff: Staff, key: str, values: dict, *, page: str | None = None,
                 dedupe_key: str | None = None, queue: str = "default") -> Message:
    """Queue an official-account template message that opens `page` of the mini-program."""
    tpl = templates.OFFICIAL[key]
    msg = _create("template", key, templates.official_id(key), page or tpl.page, values, template_data,
                  touser=staff.oa_openid, staff_id=staff.id, community_id=staff.community_id,
                  dedupe_key=dedupe_key, queue=queue)
    return msg


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
    if not msg.credit_spent:
        if not _spend_credit(msg.owner_id, msg.template_id):
            _close(msg, "skipped", None, NO_CREDIT)
            return
        msg.credit_spent = True
        db.session.commit()  # durable before the send: a retry never spends a second credit
    try:
        result = miniprogram().send_subscribe(msg.touser, msg.template_id, msg.payload, msg.page,
                                              current_app.config["MP_STATE"])
    except WeChatError as err:
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
