"""Subscribe-message consent (owners), the message audit (staff), and the official account's callback."""
from __future__ import annotations

import logging
import time

import marshmallow as ma
import redis
from flask import Response, current_app, request
from marshmallow import validate
from sqlalchemy import select
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from ..accounts.services import BIND_PREFIX, consume_oa_binding
from ..api import BEARER, blueprint
from ..auth.access import requires
from ..auth.services import require_owner, require_staff
from ..errors import BadRequest, Forbidden
from ..extensions import db, get_redis
from ..pagination import paginate
from ..schemas import Int, LocalDateTime, PageArgs, page_of
from . import services
from .models import Message

log = logging.getLogger(__name__)

subs = blueprint("subscriptions", "/api/v1/me/subscriptions", "订阅消息授权（一次性订阅的剩余次数）")
audit = blueprint("messages", "/api/v1/staff/messages", "消息记录：所有已发送、跳过、失败的推送")
official = blueprint("wechat-official", "/wechat/official", "公众号服务器回调（微信调用，XML）")


class SubscriptionOut(ma.Schema):
    key = ma.fields.String()
    template_id = ma.fields.String()
    title = ma.fields.String()
    credits = Int(metadata={"description": "剩余可发送次数"})


class ConsentIn(ma.Schema):
    accepted = ma.fields.List(ma.fields.String(validate=validate.Length(min=1, max=64)), required=True,
                              validate=validate.Length(max=20),
                              metadata={"description": "wx.requestSubscribeMessage 结果为 accept 的模板 id"})


@subs.get("")
@subs.response(200, SubscriptionOut(many=True))
@subs.doc(security=BEARER)
def list_subscriptions():
    """本产品使用的全部订阅消息模板及我的剩余次数"""
    return services.subscriptions(require_owner())


@subs.post("")
@subs.arguments(ConsentIn)
@subs.response(200, SubscriptionOut(many=True))
@subs.doc(security=BEARER)
def record_subscriptions(data):
    """记录 wx.requestSubscribeMessage 的结果：每个接受的模板加一次"""
    result = services.record_consent(require_owner(), data["accepted"])
    db.session.commit()
    return result


class MessageArgs(PageArgs):
    status = ma.fields.String(validate=validate.OneOf(list(services.STATUS_LABELS)))
    kind = ma.fields.String(validate=validate.OneOf(["subscribe", "template"]))


class MessageOut(ma.Schema):
    id = Int()
    kind = ma.fields.String()
    owner_id = Int(allow_none=True)
    staff_id = Int(allow_none=True)
    touser = ma.fields.String(allow_none=True)
    template_key = ma.fields.String()
    template_id = ma.fields.String()
    page = ma.fields.String(allow_none=True)
    payload = ma.fields.Dict()
    status = ma.fields.String()
    status_label = ma.fields.Function(lambda m: services.STATUS_LABELS[m.status])
    error_code = Int(allow_none=True)
    error_message = ma.fields.String(allow_none=True)
    attempts = Int()
    request_id = ma.fields.String(allow_none=True)
    created_at = LocalDateTime()
    sent_at = LocalDateTime(allow_none=True)


@audit.get("")
@requires("audit_messages")
@audit.arguments(MessageArgs, location="query")
@audit.response(200, page_of(MessageOut, "MessagePage"))
@audit.doc(security=BEARER)
def list_messages(args):
    """本小区的推送记录（经理）"""
    staff = require_staff()
    stmt = select(Message).where(Message.community_id == staff.community_id).order_by(Message.id.desc())
    for key in ("status", "kind"):
        if key in args:
            stmt = stmt.where(getattr(Message, key) == args[key])
    return paginate(stmt, args["page"], args["per_page"])


def _verify_signature() -> None:
    """The callback is WeChat's: signed with our token, recent, and not a replay of an earlier one."""
    args = request.args
    try:
        check_signature(current_app.config["OA_TOKEN"], args.get("signature", ""), args.get("timestamp", ""),
                        args.get("nonce", ""))
    except InvalidSignatureException as exc:
        raise Forbidden("签名无效", code="bad_signature") from exc
    _fresh_and_once(args.get("timestamp", ""), args.get("nonce", ""))


def _fresh_and_once(timestamp: str, nonce: str) -> None:
    """In plain-text mode the signature covers only token, timestamp and nonce: without these checks one
    leaked signature would let anyone post any event again (such as the scan that binds a worker)."""
    skew = current_app.config["OA_CALLBACK_MAX_SKEW"]
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > skew:
        raise Forbidden("请求已过期", code="stale_timestamp")
    try:
        first = get_redis().set(f"wuye:oa:nonce:{timestamp}:{nonce}", 1, nx=True, ex=2 * skew + 60)
    except redis.RedisError:
        log.warning("Redis unavailable: callback nonces not remembered (the timestamp window still holds)")
        return
    if not first:
        raise Forbidden("重复的请求", code="replayed")


@official.get("/events")
@official.doc(security=[])
def verify_server():
    """微信服务器配置校验：签名正确时原样返回 echostr"""
    _verify_signature()
    return Response(request.args.get("echostr", ""), mimetype="text/plain")


@official.post("/events")
@official.doc(security=[])
def receive_event():
    """公众号事件（明文或安全模式）：扫描员工绑定二维码（场景值 bind:<token>）完成绑定并回复文字"""
    _verify_signature()
    crypto = _crypto()
    raw = request.get_data()
    if crypto is not None:
        if request.args.get("encrypt_type") != "aes":
            raise Forbidden("只接受安全模式（加密）的消息", code="encryption_required")
        try:
            raw = crypto.decrypt_message(raw, request.args.get("msg_signature", ""),
                                         request.args.get("timestamp", ""), request.args.get("nonce", ""))
        except InvalidSignatureException as exc:
            raise Forbidden("签名无效", code="bad_signature") from exc
        except Exception as exc:  # noqa: BLE001 - any malformed envelope is the sender's problem
            raise BadRequest("消息格式有误", code="bad_message") from exc
    try:
        message = parse_message(raw)
    except Exception as exc:  # noqa: BLE001 - malformed XML: a clear 400, not a 500
        raise BadRequest("消息格式有误（需要微信的 XML）", code="bad_message") from exc
    # scan / subscribe_scan events carry the QR scene (wechatpy strips "qrscene_"); a text message may
    # carry the token typed in by hand.
    key = getattr(message, "scene_id", None) or (getattr(message, "content", None) or "").strip()
    if not key.startswith(BIND_PREFIX):
        return Response("success", mimetype="text/plain")
    staff, reply = consume_oa_binding(key[len(BIND_PREFIX):], message.source)
    db.session.commit()
    if staff:
        log.info("staff %s bound to the official account", staff.id)
    xml = TextReply(message=message, content=reply).render()
    if crypto is not None:
        xml = crypto.encrypt_message(xml, request.args.get("nonce", ""), request.args.get("timestamp", ""))
    return Response(xml, mimetype="application/xml")


def _crypto() -> WeChatCrypto | None:
    """Safe mode's crypto when an EncodingAESKey is configured (then plain-text events are refused)."""
    cfg = current_app.config
    key = cfg["OA_ENCODING_AES_KEY"]
    return WeChatCrypto(cfg["OA_TOKEN"], key, cfg["OA_APPID"]) if key else None
