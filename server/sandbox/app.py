"""Local stand-in of WeChat's servers ("the sandbox") for development, tests and demos.

WeChat's servers cannot be reached from development machines, so the product
points wechatpy at ``http://127.0.0.1:8090/`` instead of
``https://api.weixin.qq.com/`` and talks to this app.  It is never imported by
the product.  Run it with ``python -m server.sandbox [--host H] [--port P]``.

It answers WeChat's own wire formats (paths, query parameters, JSON bodies,
``errcode``/``errmsg``, HTTP 200 for business errors) and keeps everything in
memory.  Note for wechatpy users: ``WeChatClient.API_BASE_URL`` ends in
``cgi-bin/`` and the ``wxa`` API object carries its own ``API_BASE_URL``, so
both need pointing here; ``fetch_access_token`` has the real host hard-coded.

Configuration (environment variables; ``create_sandbox_app(config)`` overrides them by the same names):

- ``SANDBOX_APPS``: ``appid:secret`` pairs, comma separated
  (default ``wx-demo-mp:demo-mp-secret,wx-demo-oa:demo-oa-secret``).
- ``SANDBOX_OA_TOKEN``: the official account's callback token used to sign pushed events (``demo-oa-token``).
- ``SANDBOX_OA_CALLBACK_URL``: where pushed events go (``http://127.0.0.1:8000/wechat/official/events``).
- ``SANDBOX_OA_ENCODING_AES_KEY`` / ``SANDBOX_OA_APPID``: push events in safe mode (encrypted with this
  EncodingAESKey for this official account, signed as ``msg_signature``); empty: plain-text mode.
- ``SANDBOX_TOKEN_TTL``: access-token lifetime in seconds (7200).
- ``SANDBOX_PAY_MCHID`` / ``SANDBOX_PAY_APIV3_KEY``: the WeChat Pay merchant id and APIv3 key
  (``server.sandbox.pay_defaults.MCHID`` / ``APIV3_KEY``; the key must be 32 bytes).
- ``SANDBOX_PAY_NOTIFY_SCHEDULE``: seconds to wait before each retry of an unacknowledged pay
  notification, comma separated (``0.2,0.5,1,2,5``; WeChat's own is 15s,15s,30s,3m,10m,20m,...).
- ``SANDBOX_PAY_REFUND_DELAY``: seconds a refund stays PROCESSING before it succeeds (0.5).
- ``SANDBOX_PAY_NOTIFY_TIMEOUT``: seconds the sandbox waits for the merchant to answer a notification (5).

Conventions
-----------
- Login: ``wx.login()`` codes of the form ``dev:<openid>`` are accepted by
  ``GET /sns/jscode2session`` and yield that openid (unionid ``union-<openid>``).
  They may be reused.  Any other code answers 40029.
- Phone: ``getPhoneNumber`` codes of the form ``dev:<phone>`` are accepted by
  ``POST /wxa/business/getuserphonenumber`` and yield that phone number.
- Access tokens: ``POST /cgi-bin/stable_token`` (normal mode returns the current
  stable token while it lives; ``force_refresh`` rotates it) and
  ``GET /cgi-bin/token`` (every call rotates the app's plain token).  Stable
  and plain tokens are independent.  A superseded or revoked token answers
  40001, an expired one 42001, a missing one 41001.
- Subscribe messages (``/cgi-bin/message/subscribe/send``) are checked against
  WeChat's per-type value rules (``thing`` <= 20 chars, ``phrase`` <= 5 Chinese
  characters, ``time`` formats ...; see ``server.sandbox.values``); a violation
  answers 47003 and stores nothing.  Values must be JSON strings.  As on
  WeChat, ``time``/``date`` may be a period ``A~B`` and ``amount`` may start
  with a currency sign.
- Template messages (``/cgi-bin/message/template/send``) have values longer than
  20 characters cut to 20, and are deduplicated by ``client_msg_id``.
- QR codes: ``/cgi-bin/qrcode/create`` and ``/cgi-bin/showqrcode`` (a 1x1 PNG).

Control endpoints (not WeChat)
------------------------------
- ``GET|DELETE /sandbox/messages``: stored messages, oldest first; filters
  ``kind``, ``touser``, ``template_id``, ``since_id``.  Clearing also forgets
  used ``client_msg_id`` values.  Ids keep increasing across clears and resets.
- ``GET|DELETE /sandbox/calls``: every WeChat API call (path, method, appid,
  errcode, HTTP status, time; never secrets or tokens); filter ``path``.
- ``POST|GET|DELETE /sandbox/faults``: inject failures.  Body
  ``{"kind": "http_500"|"errcode"|"delay", "count": 1, "path": "/cgi-bin/...",
  "openid": "...", "errcode": 43101, "errmsg": "...", "seconds": 0.5}``.  Each
  WeChat API call consumes one count of the oldest fault whose ``path`` (if
  set) equals the call's path and whose ``openid`` (if set) equals the body's
  ``touser``.  Faults act before the token check, so an ``errcode`` 40001 fault
  fails a call made with a valid token.  ``delay`` sleeps, then answers normally.
- ``POST /sandbox/tokens/invalidate`` ``{"appid": ...}``: revoke the app's current tokens.
- ``POST /sandbox/oa/scan`` ``{"openid": ..., "ticket": ... | "scene": ..., "callback_url"?, "safe"?,
  "encoding_aes_key"?}``: push a signed QR scan event (plain text, or encrypted in safe mode) to the
  official account's callback,
  ``subscribe``/``qrscene_<scene>`` the first time an openid scans (once
  delivered), ``SCAN``/``<scene>`` afterwards.
- ``POST /sandbox/reset``: forget messages, calls, faults, tokens, QR tickets, followers and WeChat Pay state.
- ``GET /sandbox/health``; ``GET /sandbox/``: a small HTML overview.

WeChat Pay (APIv3, ``server.sandbox.pay``)
------------------------------------------
Point wechatpayv3 at the sandbox in public-key mode: ``WeChatPay(..., mchid=MCHID,
private_key=<keys/merchant_private.pem>, cert_serial_no=MERCHANT_SERIAL_NO, apiv3_key=APIV3_KEY,
public_key=<keys/platform_public.pem>, public_key_id=PUBLIC_KEY_ID)`` (constants in
``server.sandbox.pay_defaults``, keys and their README in ``server/sandbox/keys/``), then set
``pay._core._gate_way = "http://127.0.0.1:8090"`` (no trailing slash).

- Requests: every call needs ``Authorization: WECHATPAY2-SHA256-RSA2048 mchid="..",nonce_str="..",
  signature="..",timestamp="..",serial_no=".."``, signed with the merchant key over
  ``METHOD\\nPATH?QUERY\\ntimestamp\\nnonce\\nbody\\n``.  Missing, malformed, mis-signed, a wrong
  ``serial_no`` or a timestamp more than 5 minutes off: 401 ``SIGN_ERROR``; another mchid (header,
  body or query): 400 ``MCH_NOT_EXISTS``.
- Answers: JSON (``Content-Type: application/json``), signed like WeChat Pay with the platform key:
  ``Wechatpay-Timestamp``, ``-Nonce``, ``-Serial`` (= ``PUBLIC_KEY_ID``), ``-Signature`` (base64
  RSA-SHA256 over ``timestamp\\nnonce\\nbody\\n``) and ``-Signature-Type``.  Errors too, as
  ``{"code": "PARAM_ERROR", "message": "..."}`` with WeChat Pay's HTTP status.  The close answer is
  204 with an empty body, signed over the empty body (wechatpayv3 verifies every 2xx answer, and
  returns ``(204, "")``).
- ``POST /v3/pay/transactions/jsapi`` -> ``{"prepay_id"}``.  out_trade_no 6-32 of ``[A-Za-z0-9_-|*]``,
  ``amount.total`` an integer >= 1 (currency CNY), appid one of ``SANDBOX_APPS`` (else 400
  ``APPID_MCHID_NOT_MATCH``), ``time_expire`` RFC 3339 with an offset.  The same out_trade_no with
  the same body answers the same prepay_id; with another body 400 ``INVALID_REQUEST``; paid 400
  ``ORDERPAID``; closed 400 ``ORDER_CLOSED``.  Orders never expire by themselves: an unpaid order
  past its time_expire reads NOTPAY until closed (as on WeChat), it just cannot be paid.
- ``GET /v3/pay/transactions/out-trade-no/{out_trade_no}?mchid=`` (and ``/id/{transaction_id}``):
  the transaction (appid, mchid, out_trade_no, transaction_id, trade_type, trade_state
  NOTPAY|SUCCESS|CLOSED|REFUND, trade_state_desc, bank_type, attach, success_time, payer, amount).
  As on WeChat, transaction_id, trade_type, bank_type, success_time and amount.payer_total only
  appear once paid.  Unknown: 404 ``ORDER_NOT_EXIST``.
- ``POST /v3/pay/transactions/out-trade-no/{out_trade_no}/close`` ``{"mchid"}``: 204 (again when
  already closed); paid 400 ``ORDERPAID``; unknown 404 ``ORDER_NOT_EXIST``.
- ``POST /v3/refund/domestic/refunds`` (out_trade_no or transaction_id, out_refund_no,
  ``amount: {refund, total, currency: "CNY"}``, reason?, notify_url?) -> the refund, status
  PROCESSING; the same out_refund_no again answers the refund as it is now (another order or amount:
  400 ``INVALID_REQUEST``); unknown or unpaid order 404 ``RESOURCE_NOT_EXISTS``; ``amount.total``
  not the order's 400 ``INVALID_REQUEST``; more than what is left to refund 400 ``NOT_ENOUGH``.
  After ``SANDBOX_PAY_REFUND_DELAY`` it becomes SUCCESS and, when it had a notify_url, a
  ``REFUND.SUCCESS`` notification goes there.  ``GET /v3/refund/domestic/refunds/{out_refund_no}``.
- ``GET /v3/bill/tradebill?bill_date=YYYY-MM-DD&bill_type=ALL|SUCCESS|REFUND[&tar_type=GZIP]`` ->
  ``{"hash_type": "SHA1", "hash_value", "download_url"}``; a day without trades 400
  ``NO_STATEMENT_EXIST``.  ``download_url`` (``<sandbox>/v3/billdownload/file?token=..``, valid 5
  minutes, needs an Authorization like any call) gives the bill, unsigned, as
  ``application/octet-stream``: UTF-8 CSV, CRLF lines, WeChat's header line, one line per payment
  (dated by success_time, Asia/Shanghai) and per refund (dated when accepted, status as of now),
  every field prefixed with a backquote, amounts in yuan, then the summary header and line.  Fees
  are 0.60 %, rounded to the fen.  With ``tar_type=GZIP`` the file is gzip-compressed;
  ``hash_value`` is the SHA1 of the uncompressed CSV either way.
- Notifications: ``POST`` to the notify_url, body ``{id, create_time, resource_type:
  "encrypt-resource", event_type, summary, resource: {original_type, algorithm: "AEAD_AES_256_GCM",
  ciphertext, associated_data, nonce}}`` (AES-256-GCM with the APIv3 key, associated_data
  ``transaction`` or ``refund``, a 12-character nonce), with the same ``Wechatpay-*`` headers as
  answers.  A 200 or 204 answer acknowledges it; anything else, a timeout or a connection error is
  retried after each delay of ``SANDBOX_PAY_NOTIFY_SCHEDULE`` in turn (1 + len(schedule) attempts),
  in a background thread.  Every delivery (first, retries, notify-again) has the same ``id`` and
  the same body, freshly signed (new Wechatpay-Timestamp/Nonce/Signature) -- dedupe on ``id`` or
  on the order, never on the signature.

Control endpoints for pay (errors as ``{"code", "message"}``):

- ``POST /sandbox/pay/succeed`` ``{"prepay_id": ... | "out_trade_no": ..., "tamper"?}``: the owner
  pays.  The order becomes SUCCESS (transaction_id, success_time, bank_type OTHERS, payer_total =
  total) and ``TRANSACTION.SUCCESS`` (summary 支付成功) goes to its notify_url.  Answers after the
  first attempt: ``{"out_trade_no", "transaction_id", "delivered", "status", "error",
  "notification_id"}``.  Paid already: 400 ``ORDERPAID``; closed: 400 ``ORDER_CLOSED``; past
  time_expire: 400 ``ORDER_EXPIRED`` (nothing is sent).  ``tamper`` (this delivery and its
  retries only): ``"signature"`` (the signature covers something else), ``"amount"`` (the
  resource's amounts are 1 fen higher, re-encrypted and validly signed), ``"timestamp"``
  (Wechatpay-Timestamp 10 minutes old, validly signed).
- ``POST /sandbox/pay/notify-again`` ``{"prepay_id" | "out_trade_no" | "out_refund_no", "times": N,
  "tamper"?}``: deliver that notification (the genuine one unless ``tamper``) N (1-50) more times at
  once -- N threads released together by a barrier -- and answer ``{"notification_id", "statuses":
  [HTTP status or null, ...], "errors": [...]}``.  Not retried.
- ``GET /sandbox/pay/orders`` (filter ``out_trade_no``): every order with its state, transaction,
  refunds and delivery attempts.
- ``GET /sandbox/pay/notifications`` (filters ``out_trade_no``, ``event_type``): every delivery
  attempt (url, event_type, out_trade_no, out_refund_no, trigger first|retry|again, tamper,
  status, error, acknowledged, at).
- Faults work on pay paths: name the documented path (``/v3/pay/transactions/jsapi``,
  ``/v3/pay/transactions/out-trade-no/{out_trade_no}/close``, ...) or one concrete path.
  ``http_500`` answers an unsigned 500 ``SYSTEM_ERROR``; ``errcode`` takes WeChat Pay's string code
  (e.g. ``"FREQUENCY_LIMITED"``, answered with its HTTP status) or answers ``SYSTEM_ERROR`` for an
  integer; ``openid`` matches ``payer.openid``.  Pay calls appear in ``/sandbox/calls`` under the
  documented path, ``errcode`` 0 or the code; a ``/v3/`` path the sandbox does not serve (such as
  ``/v3/certificates``) is answered 404 ``RESOURCE_NOT_EXISTS`` and logged under its own path.  ``POST /sandbox/reset`` forgets pay state too and
  stops pending retries and refunds.

In-process tests can reach the state as ``app.extensions["sandbox"]`` and swap
its ``clock`` to make tokens and QR tickets expire without sleeping (pay uses the
same clock for time_expire, success and refund times, bill dates and download
URLs; ``app.extensions["sandbox_pay"]`` is the pay service).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from flask import Flask, Response, jsonify, render_template_string, request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from . import pay_defaults
from .pay.routes import register_pay_api
from .pay.wire import is_pay_path
from .state import SandboxState
from .values import is_valid_subscribe_value

DEFAULT_CONFIG: dict[str, Any] = {
    "SANDBOX_APPS": "wx-demo-mp:demo-mp-secret,wx-demo-oa:demo-oa-secret",
    "SANDBOX_OA_TOKEN": "demo-oa-token",
    "SANDBOX_OA_CALLBACK_URL": "http://127.0.0.1:8000/wechat/official/events",
    # The official account's EncodingAESKey (43 characters): events are pushed in safe mode (encrypted, with
    # msg_signature) when a scan asks for it ("safe": true) or when this is set and the scan does not say.
    "SANDBOX_OA_ENCODING_AES_KEY": "",
    "SANDBOX_OA_APPID": "wx-demo-oa",  # the official account whose events are pushed (safe mode signs with it)
    "SANDBOX_TOKEN_TTL": 7200,
    "SANDBOX_PAY_MCHID": pay_defaults.MCHID,
    "SANDBOX_PAY_APIV3_KEY": pay_defaults.APIV3_KEY,
    "SANDBOX_PAY_NOTIFY_SCHEDULE": "0.2,0.5,1,2,5",
    "SANDBOX_PAY_REFUND_DELAY": 0.5,
    "SANDBOX_PAY_NOTIFY_TIMEOUT": 5,
}

OA_ORIGINAL_ID = "gh_sandbox_oa"
CALLBACK_TIMEOUT_SECONDS = 10

DATA_FORMAT_ERROR = (47001, "data format error")
INVALID_CODE = (40029, "invalid code")
DEFAULT_FAULT_ERRMSG = {
    -1: "system error",
    40001: "invalid credential",
    43101: "user refuse to accept the msg",
    45009: "reach max api daily quota limit",
    47003: "argument invalid!",
}
FAULT_KINDS = ("http_500", "errcode", "delay")
QR_TEMPORARY_MAX_SECONDS = 2_592_000  # 30 days, WeChat's limit
QR_TEMPORARY_DEFAULT_SECONDS = 60

# A valid 1x1 transparent PNG: showqrcode only has to return *an* image.
TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)

WeChatAnswer = dict[str, Any] | Response


def load_config(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Defaults, then the environment, then `overrides`; SANDBOX_APPS parsed to a dict."""
    config = {key: os.environ.get(key, default) for key, default in DEFAULT_CONFIG.items()}
    config.update(overrides or {})
    apps = config["SANDBOX_APPS"]
    config["SANDBOX_APPS"] = dict(apps) if isinstance(apps, Mapping) else parse_apps(apps)
    config["SANDBOX_TOKEN_TTL"] = int(config["SANDBOX_TOKEN_TTL"])
    if config["SANDBOX_TOKEN_TTL"] <= 0:
        raise ValueError("SANDBOX_TOKEN_TTL must be a positive number of seconds")
    return config


def parse_apps(text: str) -> dict[str, str]:
    """``"a:s1,b:s2"`` -> ``{"a": "s1", "b": "s2"}``."""
    apps: dict[str, str] = {}
    for pair in filter(None, (part.strip() for part in text.split(","))):
        appid, sep, secret = pair.partition(":")
        if not sep or not appid or not secret:
            raise ValueError(f"SANDBOX_APPS entry {pair!r} is not appid:secret")
        apps[appid] = secret
    return apps


def error(code: int, message: str) -> dict[str, Any]:
    return {"errcode": code, "errmsg": message}


def ok(**fields: Any) -> dict[str, Any]:
    return {"errcode": 0, "errmsg": "ok", **fields}


def _str_or_none(value: Any) -> str | None:
    """`value` if it is a non-empty string, else None (JSON bodies may hold anything)."""
    return value if isinstance(value, str) and value else None


@dataclass
class ApiCall:
    """What a WeChat endpoint handler gets to see of the request."""

    args: MultiDict[str, str]
    body: dict[str, Any] | None  # the JSON body when it is an object
    appid: str | None  # the token's owner on token endpoints, else from the parameters


def create_sandbox_app(config: Mapping[str, Any] | None = None) -> Flask:
    settings = load_config(config)
    state = SandboxState(settings["SANDBOX_APPS"], settings["SANDBOX_TOKEN_TTL"])
    app = Flask(__name__)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["sandbox"] = state
    app.config["SANDBOX"] = settings

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response, int]:
        status = exc.code or 500
        message = f"{exc.name}: {request.method} {request.path}"
        if request.path.startswith("/v3/"):  # WeChat Pay's error shape
            code = {404: "RESOURCE_NOT_EXISTS", 405: "INVALID_REQUEST"}.get(status, "SYSTEM_ERROR")
            # Logged like every pay call: a client calling what the sandbox does not serve (e.g. the platform
            # certificate download, /v3/certificates) shows up in /sandbox/calls.
            state.log_call(request.path, request.method, None, code, status)
            return jsonify({"code": code, "message": message}), status
        return jsonify(error(status, message)), status

    wechat_paths = _register_wechat_api(app, state)
    pay = register_pay_api(app, state, settings)  # validates the SANDBOX_PAY_* settings
    app.extensions["sandbox_pay"] = pay
    _register_control(app, state, settings, wechat_paths)
    return app


# --------------------------------------------------------------------------
# WeChat endpoints
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    rule: str
    method: str
    handler: Callable[[ApiCall], WeChatAnswer]
    needs_token: bool
    needs_body: bool


def _serve(state: SandboxState, endpoint: Endpoint) -> Response:
    """Run one WeChat API call: faults, token and body checks, the handler, the call log."""
    payload = request.get_json(force=True, silent=True) if endpoint.method == "POST" else None
    body = payload if isinstance(payload, dict) else None
    access_token = request.args.get("access_token")
    call = ApiCall(
        args=request.args,
        body=body,
        appid=_str_or_none(request.args.get("appid"))
        or _str_or_none((body or {}).get("appid"))
        or state.token_owner(access_token),
    )
    fault = state.take_fault(endpoint.rule, _str_or_none((body or {}).get("touser")))
    if fault is not None and fault.kind == "delay":
        time.sleep(fault.seconds or 0)
        fault = None

    errcode: int | None
    if fault is not None and fault.kind == "http_500":
        html = "<html><body><h1>500 Internal Server Error</h1></body></html>"
        response, errcode = Response(html, status=500, mimetype="text/html"), None
    elif fault is not None:
        errcode = fault.errcode
        assert errcode is not None  # enforced when the fault was created
        message = fault.errmsg or DEFAULT_FAULT_ERRMSG.get(errcode, "sandbox fault")
        response = jsonify(error(errcode, message))
    else:
        answer = _answer(state, endpoint, call, access_token)
        if isinstance(answer, Response):
            response, errcode = answer, (0 if answer.status_code < 400 else None)
        else:
            response, errcode = jsonify(answer), answer.get("errcode", 0)
    state.log_call(endpoint.rule, endpoint.method, call.appid, errcode, response.status_code)
    return response


def _answer(
    state: SandboxState, endpoint: Endpoint, call: ApiCall, access_token: str | None
) -> WeChatAnswer:
    if endpoint.needs_token:
        if not access_token:
            return error(41001, "access_token missing")
        if token_error := state.check_token(access_token):
            return error(*token_error)
    if endpoint.needs_body and call.body is None:
        return error(*DATA_FORMAT_ERROR)
    return endpoint.handler(call)


def _register_wechat_api(app: Flask, state: SandboxState) -> set[str]:
    """Add the WeChat endpoints; return their paths (faults may name only these)."""
    paths: set[str] = set()

    def wechat_api(rule: str, method: str, *, needs_token: bool = False, needs_body: bool = False):
        def decorator(handler: Callable[[ApiCall], WeChatAnswer]) -> Callable[[ApiCall], WeChatAnswer]:
            endpoint = Endpoint(rule, method, handler, needs_token, needs_body)
            app.add_url_rule(
                rule, endpoint=handler.__name__, view_func=lambda: _serve(state, endpoint), methods=[method]
            )
            paths.add(rule)
            return handler

        return decorator

    def app_credentials(appid: Any, secret: Any) -> dict[str, Any] | None:
        """WeChat's error for missing or wrong appid/secret, None when they are right."""
        if not _str_or_none(appid):
            return error(41002, "appid missing")
        if not _str_or_none(secret):
            return error(41004, "appsecret missing")
        problem = state.check_app(appid, secret)
        return error(*problem) if problem else None

    @wechat_api("/sns/jscode2session", "GET")
    def jscode2session(call: ApiCall) -> WeChatAnswer:
        args = call.args
        if problem := app_credentials(args.get("appid"), args.get("secret")):
            return problem
        if args.get("grant_type") != "authorization_code":
            return error(40002, "invalid grant_type")
        code = args.get("js_code")
        if not code:
            return error(41008, "missing code")
        openid = code.removeprefix("dev:") if code.startswith("dev:") else ""
        if not openid:
            return error(*INVALID_CODE)
        session_key = base64.b64encode(secrets.token_bytes(16)).decode()
        return {"openid": openid, "session_key": session_key, "unionid": f"union-{openid}"}

    @wechat_api("/cgi-bin/token", "GET")
    def plain_token(call: ApiCall) -> WeChatAnswer:
        args = call.args
        if args.get("grant_type") != "client_credential":
            return error(40002, "invalid grant_type")
        if problem := app_credentials(args.get("appid"), args.get("secret")):
            return problem
        token, expires_in = state.issue_plain_token(args["appid"])
        return {"access_token": token, "expires_in": expires_in}

    @wechat_api("/cgi-bin/stable_token", "POST", needs_body=True)
    def stable_token(call: ApiCall) -> WeChatAnswer:
        body = call.body or {}
        if body.get("grant_type") != "client_credential":
            return error(40002, "invalid grant_type")
        if problem := app_credentials(body.get("appid"), body.get("secret")):
            return problem
        force_refresh = body.get("force_refresh", False)
        if not isinstance(force_refresh, bool):
            return error(40097, "invalid args")
        token, expires_in = state.stable_token(body["appid"], force_refresh)
        return {"access_token": token, "expires_in": expires_in}

    @wechat_api("/wxa/business/getuserphonenumber", "POST", needs_token=True, needs_body=True)
    def get_user_phone_number(call: ApiCall) -> WeChatAnswer:
        code = (call.body or {}).get("code")
        if not _str_or_none(code):
            return error(*DATA_FORMAT_ERROR)
        phone = code.removeprefix("dev:") if code.startswith("dev:") else ""
        if not phone:
            return error(*INVALID_CODE)
        watermark = {"timestamp": int(time.time()), "appid": call.appid}
        return ok(phone_info={"phoneNumber": phone, "purePhoneNumber": phone, "countryCode": "86",
                              "watermark": watermark})

    @wechat_api("/cgi-bin/message/subscribe/send", "POST", needs_token=True, needs_body=True)
    def send_subscribe_message(call: ApiCall) -> WeChatAnswer:
        body = call.body or {}
        touser, template_id, data = body.get("touser"), body.get("template_id"), body.get("data")
        if not (_str_or_none(touser) and _str_or_none(template_id) and isinstance(data, dict) and data):
            return error(*DATA_FORMAT_ERROR)
        for key, field in data.items():
            value = field.get("value") if isinstance(field, dict) else None
            if not is_valid_subscribe_value(key, value):
                return error(47003, f"argument invalid! data.{key}.value invalid")
        state_name = body.get("miniprogram_state")
        if state_name is not None and state_name not in ("developer", "trial", "formal"):
            return error(47003, "argument invalid! miniprogram_state invalid")
        msgid = state.add_subscribe_message(
            {"touser": touser, "template_id": template_id, "page": body.get("page"), "data": data,
             "miniprogram": None}
        )
        return ok(msgid=msgid)

    @wechat_api("/cgi-bin/message/template/send", "POST", needs_token=True, needs_body=True)
    def send_template_message(call: ApiCall) -> WeChatAnswer:
        body = call.body or {}
        touser, template_id = body.get("touser"), body.get("template_id")
        data, miniprogram = body.get("data", {}), body.get("miniprogram")
        if not _str_or_none(touser) or not _str_or_none(template_id) or not isinstance(data, dict):
            return error(*DATA_FORMAT_ERROR)
        if miniprogram is not None and not (
            isinstance(miniprogram, dict) and _str_or_none(miniprogram.get("appid"))
        ):
            return error(*DATA_FORMAT_ERROR)
        cut_data = {}
        for key, field in data.items():
            if not isinstance(field, dict) or not isinstance(field.get("value"), str):
                return error(47003, f"argument invalid! data.{key}.value invalid")
            # Since 2023-05 WeChat silently truncates every value to 20 characters.
            cut_data[key] = {**field, "value": field["value"][:20]}
        page = (miniprogram or {}).get("pagepath") or body.get("url") or None
        msgid = state.add_template_message(
            call.appid or "",
            _str_or_none(body.get("client_msg_id")),
            {"touser": touser, "template_id": template_id, "page": page, "data": cut_data,
             "miniprogram": miniprogram},
        )
        return ok(msgid=msgid)

    @wechat_api("/cgi-bin/qrcode/create", "POST", needs_token=True, needs_body=True)
    def create_qrcode(call: ApiCall) -> WeChatAnswer:
        body = call.body or {}
        action_name = body.get("action_name")
        if action_name not in ("QR_SCENE", "QR_STR_SCENE", "QR_LIMIT_SCENE", "QR_LIMIT_STR_SCENE"):
            return error(40052, "invalid action name")
        permanent = action_name.startswith("QR_LIMIT_")
        scene_info = (body.get("action_info") or {}).get("scene") or {}
        if action_name.endswith("STR_SCENE"):
            scene = scene_info.get("scene_str")
            if not _str_or_none(scene) or len(scene) > 64:
                return error(40053, "invalid action info")
        else:
            scene_id = scene_info.get("scene_id")
            max_id = 100_000 if permanent else 2**32 - 1
            if not isinstance(scene_id, int) or isinstance(scene_id, bool) or not 0 < scene_id <= max_id:
                return error(40053, "invalid action info")
            scene = str(scene_id)
        expire_seconds: int | None = None
        if not permanent:
            requested = body.get("expire_seconds", QR_TEMPORARY_DEFAULT_SECONDS)
            if not isinstance(requested, int) or isinstance(requested, bool) or requested <= 0:
                return error(40053, "invalid action info")
            expire_seconds = min(requested, QR_TEMPORARY_MAX_SECONDS)
        ticket = state.add_ticket(scene, call.appid or "", expire_seconds)
        answer: dict[str, Any] = {"ticket": ticket.ticket}
        if expire_seconds is not None:
            answer["expire_seconds"] = expire_seconds
        answer["url"] = f"http://weixin.qq.com/q/{secrets.token_urlsafe(18)}"
        return answer

    @wechat_api("/cgi-bin/showqrcode", "GET")
    def show_qrcode(call: ApiCall) -> WeChatAnswer:
        if state.find_ticket(call.args.get("ticket", "")) is None:
            not_found = jsonify(error(404, "unknown or expired ticket"))
            not_found.status_code = 404
            return not_found
        return Response(TINY_PNG, mimetype="image/png")

    return paths


# --------------------------------------------------------------------------
# Control endpoints (not WeChat)
# --------------------------------------------------------------------------


def _register_control(
    app: Flask, state: SandboxState, settings: dict[str, Any], wechat_paths: set[str]
) -> None:
    def bad_request(message: str) -> tuple[Response, int]:
        return jsonify({"error": message}), 400

    def json_object() -> dict[str, Any] | None:
        payload = request.get_json(force=True, silent=True)
        return payload if isinstance(payload, dict) else None

    @app.get("/sandbox/health")
    def health() -> Response:
        return jsonify({"ok": True})

    @app.get("/sandbox/")
    def index() -> str:
        return render_template_string(
            INDEX_TEMPLATE,
            appids=list(state.apps),
            callback_url=settings["SANDBOX_OA_CALLBACK_URL"],
            mchid=settings["SANDBOX_PAY_MCHID"],
            messages=list(reversed(state.last_messages(50))),
        )

    @app.get("/sandbox/messages")
    def list_messages() -> Response | tuple[Response, int]:
        try:
            since_id = int(request.args.get("since_id", 0))
        except ValueError:
            return bad_request("since_id must be an integer")
        args = request.args
        messages = state.messages(since_id, args.get("kind"), args.get("touser"), args.get("template_id"))
        return jsonify(messages)

    @app.delete("/sandbox/messages")
    def clear_messages() -> tuple[str, int]:
        state.clear_messages()
        return "", 204

    @app.get("/sandbox/calls")
    def list_calls() -> Response:
        return jsonify(state.calls(request.args.get("path")))

    @app.delete("/sandbox/calls")
    def clear_calls() -> tuple[str, int]:
        state.clear_calls()
        return "", 204

    @app.post("/sandbox/faults")
    def add_fault() -> tuple[Response, int]:
        body = json_object()
        if body is None:
            return bad_request("body must be a JSON object")
        kind, count, path = body.get("kind"), body.get("count", 1), body.get("path")
        openid, errcode, errmsg = body.get("openid"), body.get("errcode"), body.get("errmsg")
        seconds = body.get("seconds")
        if kind not in FAULT_KINDS:
            return bad_request(f"kind must be one of {', '.join(FAULT_KINDS)}")
        if not _is_int(count) or count < 1:
            return bad_request("count must be a positive integer")
        # A typo in `path` would make the fault silently never fire, so only real paths are allowed.
        pay_path = isinstance(path, str) and is_pay_path(path)
        if path is not None and path not in wechat_paths and not pay_path:
            return bad_request(f"path must be one of {', '.join(sorted(wechat_paths))} or a WeChat Pay path")
        if openid is not None and not _str_or_none(openid):
            return bad_request("openid must be a non-empty string")
        if kind == "errcode" and not (_is_int(errcode) or (pay_path and _str_or_none(errcode))):
            return bad_request(
                "errcode faults need an integer errcode (or, on WeChat Pay paths, a code string)"
            )
        if errmsg is not None and not isinstance(errmsg, str):
            return bad_request("errmsg must be a string")
        if kind == "delay" and not (_is_number(seconds) and seconds >= 0):
            return bad_request("delay faults need a non-negative number of seconds")
        fault = state.add_fault(
            kind=kind,
            count=count,
            path=path,
            openid=openid,
            errcode=errcode if kind == "errcode" else None,
            errmsg=errmsg if kind == "errcode" else None,
            seconds=float(seconds) if kind == "delay" else None,
        )
        return jsonify(fault.to_dict()), 201

    @app.get("/sandbox/faults")
    def list_faults() -> Response:
        return jsonify(state.faults())

    @app.delete("/sandbox/faults")
    def clear_faults() -> tuple[str, int]:
        state.clear_faults()
        return "", 204

    @app.post("/sandbox/reset")
    def reset() -> tuple[str, int]:
        state.reset()
        app.extensions["sandbox_pay"].reset()
        return "", 204

    @app.post("/sandbox/tokens/invalidate")
    def invalidate_tokens() -> tuple[str, int] | tuple[Response, int]:
        appid = _str_or_none((json_object() or {}).get("appid"))
        if appid is None or appid not in state.apps:
            return bad_request("appid must be one of the sandbox's apps")
        state.invalidate_tokens(appid)
        return "", 204

    @app.post("/sandbox/oa/scan")
    def oa_scan() -> Response | tuple[Response, int]:
        body = json_object() or {}
        openid = _str_or_none(body.get("openid"))
        if openid is None:
            return bad_request("openid is required")
        ticket_id, scene = _str_or_none(body.get("ticket")), body.get("scene")
        if ticket_id is not None:
            ticket = state.find_ticket(ticket_id)
            if ticket is None:
                return jsonify({"delivered": False, "error": "unknown or expired ticket"}), 404
            scene = ticket.scene
        elif isinstance(scene, str | int) and not isinstance(scene, bool) and str(scene):
            # Scanning by scene is a shortcut for codes made elsewhere: reuse a ticket when we have one.
            scene = str(scene)
            known = state.newest_ticket_for_scene(scene)
            ticket_id = known.ticket if known else secrets.token_urlsafe(48)
        else:
            return bad_request("ticket or scene is required")

        # A new follower gets "subscribe" with a qrscene_ prefix; WeChat sends SCAN to existing ones.
        first_scan = state.follow(openid)
        event, event_key = ("subscribe", f"qrscene_{scene}") if first_scan else ("SCAN", scene)
        callback_url = _str_or_none(body.get("callback_url")) or settings["SANDBOX_OA_CALLBACK_URL"]
        try:
            xml = _scan_event_xml(openid, event, event_key, ticket_id)
            key = _str_or_none(body.get("encoding_aes_key")) or settings["SANDBOX_OA_ENCODING_AES_KEY"]
            safe = body.get("safe", bool(key)) is True
            if safe and not key:
                return bad_request("safe mode needs an encoding_aes_key (or SANDBOX_OA_ENCODING_AES_KEY)")
            reply = _push_oa_event(callback_url, settings["SANDBOX_OA_TOKEN"], openid, xml,
                                   aes_key=key if safe else None, appid=settings["SANDBOX_OA_APPID"])
        except requests.RequestException as exc:
            if first_scan:
                state.unfollow(openid)  # the user never got through, so the next try is a first scan again
            return jsonify({"delivered": False, "error": str(exc)}), 502
        return jsonify({"delivered": True, "status": reply.status_code, "reply": reply.text, "event": event})


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _cdata(text: str) -> str:
    # "]]>" cannot appear inside CDATA; split it across two sections.
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _scan_event_xml(openid: str, event: str, event_key: str, ticket: str) -> str:
    return (
        f"<xml><ToUserName>{_cdata(OA_ORIGINAL_ID)}</ToUserName>"
        f"<FromUserName>{_cdata(openid)}</FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime>"
        f"<MsgType>{_cdata('event')}</MsgType>"
        f"<Event>{_cdata(event)}</Event>"
        f"<EventKey>{_cdata(event_key)}</EventKey>"
        f"<Ticket>{_cdata(ticket)}</Ticket></xml>"
    )


def _push_oa_event(url: str, token: str, openid: str, xml: str, *, aes_key: str | None = None,
                   appid: str = "") -> requests.Response:
    """POST an event the way WeChat does: in plain-text mode signed with the callback token; in safe mode
    (aes_key) the XML encrypted with the EncodingAESKey and signed as msg_signature, and the reply
    decrypted back (the returned response's text is the plain reply)."""
    timestamp = str(int(time.time()))
    nonce = str(secrets.randbelow(10**10))
    signature = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()
    params = {"signature": signature, "timestamp": timestamp, "nonce": nonce, "openid": openid}
    crypto = None
    if aes_key:
        from wechatpy.crypto import WeChatCrypto  # WeChat's own scheme, as the library implements it

        crypto = WeChatCrypto(token, aes_key, appid)
        envelope = crypto.encrypt_message(xml, nonce, timestamp)
        encrypted = re.search(r"<Encrypt><!\[CDATA\[(.*?)\]\]></Encrypt>", envelope).group(1)
        msg_signature = re.search(r"<MsgSignature><!\[CDATA\[(.*?)\]\]></MsgSignature>", envelope).group(1)
        xml = (f"<xml><ToUserName>{_cdata(OA_ORIGINAL_ID)}</ToUserName>"
               f"<Encrypt>{_cdata(encrypted)}</Encrypt></xml>")
        params.update(encrypt_type="aes", msg_signature=msg_signature)
    with requests.Session() as session:
        session.trust_env = False  # the callback is local: never route it through an environment proxy
        response = session.post(url, params=params, data=xml.encode("utf-8"),
                                headers={"Content-Type": "text/xml"}, timeout=CALLBACK_TIMEOUT_SECONDS)
    if crypto is not None and response.ok and "<Encrypt>" in response.text:
        stamp = re.search(r"<TimeStamp>(\d+)</TimeStamp>", response.text)
        rnonce = re.search(r"<Nonce><!\[CDATA\[(.*?)\]\]></Nonce>", response.text)
        rsig = re.search(r"<MsgSignature><!\[CDATA\[(.*?)\]\]></MsgSignature>", response.text)
        plain = crypto.decrypt_message(response.text, rsig.group(1), stamp.group(1), rnonce.group(1))
        response._content = plain.encode("utf-8")  # what the user would read
    return response


INDEX_TEMPLATE = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>微信沙箱</title>
<style>
body { font-family: sans-serif; margin: 2em; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ccc; padding: 4px 8px; vertical-align: top; text-align: left; }
code { background: #f4f4f4; padding: 0 3px; }
</style>
</head>
<body>
<h1>微信沙箱（本地模拟的微信服务器）</h1>
<p>开发和演示时，产品把微信接口地址指向这里，代替 <code>https://api.weixin.qq.com/</code>。</p>
<h2>约定</h2>
<ul>
<li>已知应用（appid）：{% for appid in appids %}<code>{{ appid }}</code> {% endfor %}</li>
<li>小程序登录：<code>wx.login()</code> 的 code 写成 <code>dev:&lt;openid&gt;</code>，例如 <code>dev:owner-001</code>。</li>
<li>手机号：<code>getPhoneNumber</code> 的 code 写成 <code>dev:&lt;手机号&gt;</code>，例如 <code>dev:13800138000</code>。</li>
<li>订阅消息按微信的字段规则校验（thing 不超过 20 字、phrase 只能是 5 个以内汉字、time 格式……），不合规返回 47003。</li>
<li>模板消息的字段值超过 20 字会被截断；相同 <code>client_msg_id</code> 只发一次。</li>
<li>模拟公众号扫码：<code>POST /sandbox/oa/scan {"openid": "…", "scene": "…"}</code>，事件推送到 <code>{{ callback_url }}</code>。</li>
<li>故障注入：<code>POST /sandbox/faults {"kind": "errcode", "errcode": 43101, "path": "/cgi-bin/message/subscribe/send"}</code>，
    另有 <code>http_500</code> 和 <code>delay</code>（<code>"seconds": 2</code>）。</li>
<li>微信支付（APIv3，商户号 <code>{{ mchid }}</code>）：模拟用户付款 <code>POST /sandbox/pay/succeed {"prepay_id": "…"}</code>，
    支付结果通知发往下单时的 <code>notify_url</code>；查看 <a href="/sandbox/pay/orders">/sandbox/pay/orders</a>、
    <a href="/sandbox/pay/notifications">/sandbox/pay/notifications</a>。</li>
<li>查看：<a href="/sandbox/messages">/sandbox/messages</a>、<a href="/sandbox/calls">/sandbox/calls</a>、
    <a href="/sandbox/faults">/sandbox/faults</a>；全部清空：<code>POST /sandbox/reset</code>。</li>
</ul>
<h2>最近 50 条消息（新的在前）</h2>
{% if messages %}
<table>
<tr><th>id</th><th>类型</th><th>接收人</th><th>模板</th><th>页面</th><th>内容</th><th>时间（UTC）</th></tr>
{% for message in messages %}
<tr>
<td>{{ message.id }}</td>
<td>{{ "订阅消息" if message.kind == "subscribe" else "模板消息" }}</td>
<td>{{ message.touser }}</td>
<td>{{ message.template_id }}</td>
<td>{{ message.page or "" }}</td>
<td>{% for key, field in message.data.items() %}{{ key }}: {{ field.value }}<br>{% endfor %}</td>
<td>{{ message.received_at }}</td>
</tr>
{% endfor %}
</table>
{% else %}
<p>还没有消息。</p>
{% endif %}
</body>
</html>
"""
