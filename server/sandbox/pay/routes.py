"""The Flask wiring: WeChat Pay's endpoints (faults, signature check, signed answers, call log) and
the sandbox's ``/sandbox/pay/*`` control endpoints."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, Response, jsonify, request

from ..state import SandboxState
from .crypto import Signer, authenticate
from .notify import TAMPER_KINDS
from .service import PayService
from .settings import pay_settings
from .wire import (
    BILL_DOWNLOAD,
    CLOSE,
    JSAPI,
    QUERY_BY_ID,
    QUERY_BY_OUT_TRADE_NO,
    REFUND_QUERY,
    REFUNDS,
    TRADE_BILL,
    PayError,
    dumps,
    is_int,
    param_error,
)

MAX_NOTIFY_AGAIN = 50
# HTTP status WeChat Pay uses for an error code (for `errcode` faults on pay paths; default 400).
ERROR_STATUS = {
    "SYSTEM_ERROR": 500,
    "BANK_ERROR": 500,
    "FREQUENCY_LIMITED": 429,
    "NO_AUTH": 403,
    "RULE_LIMIT": 403,
    "TRADE_ERROR": 403,
    "SIGN_ERROR": 401,
    "ORDER_NOT_EXIST": 404,
    "RESOURCE_NOT_EXISTS": 404,
}


def signed_json(signer: Signer, status: int, payload: Any | None) -> Response:
    """A JSON answer (or an empty one, for 204) with WeChat Pay's signature headers."""
    body = "" if payload is None else dumps(payload)
    response = Response(body.encode("utf-8"), status=status, headers=signer.headers(body))
    response.headers["Content-Type"] = "application/json"
    response.headers["Request-ID"] = str(uuid.uuid4())
    return response


PayHandler = Callable[..., "tuple[int, Any] | Response"]


def register_pay_api(app: Flask, sandbox: SandboxState, config: Mapping[str, Any]) -> PayService:
    service = PayService(sandbox, pay_settings(config))

    def serve(rule: str, handler: PayHandler, path_args: dict[str, str]) -> Response:
        body: dict[str, Any] | None = None
        if request.method == "POST":
            try:
                parsed = json.loads(request.get_data() or b"null")
            except ValueError:
                parsed = None
            body = parsed if isinstance(parsed, dict) else None
        payer = (body or {}).get("payer")
        openid = payer.get("openid") if isinstance(payer, dict) else None
        fault = sandbox.take_fault((rule, request.path), openid if isinstance(openid, str) else None)
        if fault is not None and fault.kind == "delay":
            time.sleep(fault.seconds or 0)
            fault = None
        errcode: int | str | None = 0
        if fault is not None and fault.kind == "http_500":
            errcode = "SYSTEM_ERROR"
            response = jsonify({"code": "SYSTEM_ERROR", "message": "系统错误"})  # the gateway's 500: unsigned
            response.status_code = 500
        elif fault is not None:
            errcode = fault.errcode if isinstance(fault.errcode, str) else "SYSTEM_ERROR"
            error = PayError(ERROR_STATUS.get(errcode, 400), errcode, fault.errmsg or "sandbox fault")
            response = signed_json(service.signer, error.status, error.body())
        else:
            try:
                authenticate(service.signer, service.settings.mchid)
                if request.method == "POST" and body is None:
                    raise param_error("请求体须为 JSON 对象")
                answer = handler(body, **path_args) if request.method == "POST" else handler(**path_args)
                response = answer if isinstance(answer, Response) else signed_json(service.signer, *answer)
            except PayError as error:
                errcode = error.code
                response = signed_json(service.signer, error.status, error.body())
        appid = (body or {}).get("appid")
        sandbox.log_call(
            rule, request.method, appid if isinstance(appid, str) else None, errcode, response.status_code
        )
        return response

    def route(rule: str, method: str, handler: PayHandler, name: str) -> None:
        flask_rule = re.sub(r"\{(\w+)\}", r"<\1>", rule)
        app.add_url_rule(
            flask_rule,
            endpoint=f"pay_{name}",
            methods=[method],
            view_func=lambda **path_args: serve(rule, handler, path_args),
        )

    route(JSAPI, "POST", service.orders.prepay, "jsapi")
    route(
        QUERY_BY_OUT_TRADE_NO,
        "GET",
        lambda out_trade_no: service.orders.query(out_trade_no=out_trade_no),
        "query",
    )
    route(
        QUERY_BY_ID,
        "GET",
        lambda transaction_id: service.orders.query(transaction_id=transaction_id),
        "query_by_id",
    )
    route(CLOSE, "POST", lambda body, out_trade_no: service.orders.close(out_trade_no, body), "close")
    route(REFUNDS, "POST", service.refunds.create, "refund")
    route(REFUND_QUERY, "GET", service.refunds.query, "query_refund")
    route(TRADE_BILL, "GET", service.bills.trade_bill, "trade_bill")
    route(BILL_DOWNLOAD, "GET", service.bills.download, "download_bill")

    _register_pay_control(app, service)
    return service


def _register_pay_control(app: Flask, service: PayService) -> None:
    def failure(error: PayError) -> tuple[Response, int]:
        return jsonify(error.body()), error.status

    def json_object() -> dict[str, Any]:
        payload = request.get_json(force=True, silent=True)
        if not isinstance(payload, dict):
            raise param_error("body must be a JSON object")
        return payload

    def tamper_of(body: Mapping[str, Any]) -> str | None:
        tamper = body.get("tamper")
        if tamper is not None and tamper not in TAMPER_KINDS:
            raise param_error(f"tamper must be one of {', '.join(TAMPER_KINDS)}")
        return tamper

    @app.post("/sandbox/pay/succeed")
    def pay_succeed() -> Response | tuple[Response, int]:
        try:
            body = json_object()
            return jsonify(
                service.orders.succeed(body.get("prepay_id"), body.get("out_trade_no"), tamper_of(body))
            )
        except PayError as error:
            return failure(error)

    @app.post("/sandbox/pay/notify-again")
    def pay_notify_again() -> Response | tuple[Response, int]:
        try:
            body = json_object()
            times = body.get("times", 1)
            if not is_int(times) or not 1 <= times <= MAX_NOTIFY_AGAIN:
                raise param_error(f"times must be an integer from 1 to {MAX_NOTIFY_AGAIN}")
            return jsonify(service.notify_again(body, times, tamper_of(body)))
        except PayError as error:
            return failure(error)

    @app.get("/sandbox/pay/orders")
    def pay_orders() -> Response:
        return jsonify(service.orders.view(request.args.get("out_trade_no")))

    @app.get("/sandbox/pay/notifications")
    def pay_notifications() -> Response:
        args = request.args
        return jsonify(service.notifier.deliveries_view(args.get("out_trade_no"), args.get("event_type")))
