"""The only code that talks to WeChat's API: wechatpy clients with our base URL, token handling and
retry policy.

Access tokens come from `cgi-bin/stable_token` (plain `cgi-bin/token` invalidates the previous token,
so independent refreshes by several processes break each other). The token is cached in Redis and
fetched under a Redis lock, so any number of processes cause one fetch. 40001/40014/42001 refresh
once and retry. -1, HTTP 5xx and timeouts are retried with backoff; 40003, 43101, 47003 and other
errcodes never are. A token refused even after the refresh is transient too (WeChat's token service
blinking): the job is retried later rather than failed for good.

A send that may have reached WeChat without our hearing the answer (a read timeout, a connection dropped
after the request went out) is `maybe_delivered`: a call that is not idempotent at WeChat (subscribe
messages have no client_msg_id) is then not retried, so an owner never gets the same message twice.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Callable

import redis
import requests
from flask import current_app
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from ..extensions import get_redis

log = logging.getLogger(__name__)

TOKEN_ERRORS = {40001, 40014, 42001}
NEVER_RETRY = {40003, 43101, 47003}
TRANSIENT_ERRORS = {-1, 45009, 45011}  # system busy, quota/frequency limits: worth trying later
BACKOFF = (0.2, 0.6, 1.5, 3.0)


class WeChatError(Exception):
    """A WeChat call failed. `transient` tells the job runner whether trying later can help."""

    def __init__(self, errcode: int | None, errmsg: str, *, transient: bool, http_status: int | None = None,
                 maybe_delivered: bool = False):
        super().__init__(f"WeChat error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg
        self.transient = transient
        self.http_status = http_status
        self.maybe_delivered = maybe_delivered  # the request may have reached WeChat: no answer came back


def _classify(exc: Exception) -> WeChatError:
    if isinstance(exc, WeChatError):
        return exc
    if isinstance(exc, requests.RequestException):  # timeout, refused connection, ...
        return WeChatError(None, type(exc).__name__, transient=True, maybe_delivered=_maybe_sent(exc))
    if isinstance(exc, WeChatClientException):
        errcode = exc.errcode
        status = exc.response.status_code if exc.response is not None else None
        if errcode is None:  # HTTP error status from wechatpy's raise_for_status
            return WeChatError(None, f"HTTP {status}", transient=status is None or status >= 500, http_status=status)
        errcode = int(errcode)
        transient = errcode in TRANSIENT_ERRORS and errcode not in NEVER_RETRY
        return WeChatError(errcode, str(exc.errmsg), transient=transient, http_status=status)
    raise exc


def _maybe_sent(exc: requests.RequestException) -> bool:
    """False only when the request surely never left: no connection could be made."""
    if isinstance(exc, requests.ConnectTimeout):
        return False
    if isinstance(exc, requests.ConnectionError):
        reason = repr(exc.args[0] if exc.args else exc)
        return not any(s in reason for s in ("NewConnectionError", "Failed to establish", "Connection refused",
                                               "Name or service not known"))
    return not isinstance(exc, (requests.exceptions.URLRequired, requests.exceptions.InvalidURL,
                                requests.exceptions.InvalidSchema))


class _Client(WeChatClient):
    """wechatpy client whose base URLs point at the configured WeChat (or the sandbox) and whose
    access token comes from the shared TokenManager instead of a per-process fetch."""

    def __init__(self, app: WeChatApp) -> None:
        super().__init__(app.appid, app.secret, timeout=app.timeout, auto_retry=False)
        self.API_BASE_URL = app.base_url + "cgi-bin/"
        self.wxa.API_BASE_URL = app.base_url
        self._owner = app

    @property
    def access_token(self) -> str:  # type: ignore[override]
        return self._owner.access_token()

    def fetch_access_token(self) -> dict:  # wechatpy calls this name; route it to stable_token
        return self._owner.fetch_stable_token(force_refresh=False)


@dataclass
class WeChatApp:
    """One WeChat application (the mini-program or the official account)."""

    appid: str
    secret: str
    base_url: str
    redis: redis.Redis
    timeout: float = 5.0
    retries: int = 2

    def __post_init__(self) -> None:
        self.client = _Client(self)

    # -- tokens ---------------------------------------------------------------------------------
    @property
    def _token_key(self) -> str:
        return f"wuye:wx:token:{self.appid}"

    def fetch_stable_token(self, force_refresh: bool = False) -> dict:
        res = self.client._http.post(
            self.base_url + "cgi-bin/stable_token",
            json={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret,
                  "force_refresh": force_refresh},
            timeout=self.timeout,
        )
        if res.status_code >= 500:
            raise WeChatError(None, f"HTTP {res.status_code}", transient=True, http_status=res.status_code)
        data = res.json()
        if data.get("errcode"):
            raise WeChatError(int(data["errcode"]), data.get("errmsg", ""),
                              transient=int(data["errcode"]) in TRANSIENT_ERRORS)
        log.info("fetched access token for %s (force_refresh=%s)", self.appid, force_refresh)
        return data

    def access_token(self, *, rejected: str | None = None) -> str:
        """The cached token, or one fetched under a Redis lock. `rejected`: a token WeChat just refused;
        a fresh one is fetched unless another process already replaced it."""
        try:
            cached = self.redis.get(self._token_key)
            if cached and cached.decode() != rejected:
                return cached.decode()
            with self.redis.lock(self._token_key + ":lock", timeout=30, blocking_timeout=30):
                cached = self.redis.get(self._token_key)
                if cached and cached.decode() != rejected:
                    return cached.decode()
                token, ttl = self._fetch(rejected)
                self.redis.set(self._token_key, token, ex=ttl)
                return token
        except redis.RedisError:
            # Without Redis there is no shared cache; a direct fetch keeps the call working (stable_token
            # in normal mode returns the same token, so this does not break other processes).
            log.warning("Redis unavailable; fetching the access token without the shared cache")
            return self._fetch(rejected)[0]

    def _fetch(self, rejected: str | None) -> tuple[str, int]:
        data = self.fetch_stable_token(force_refresh=False)
        if rejected and data["access_token"] == rejected:
            data = self.fetch_stable_token(force_refresh=True)
        # Expire the cache well before WeChat does, so no call carries a token in its last minutes.
        ttl = max(int(data.get("expires_in", 7200)) - 300, 30)
        return data["access_token"], ttl

    # -- calls ----------------------------------------------------------------------------------
    def call(self, fn: Callable[[_Client], Any], *, idempotent: bool = True) -> Any:
        """Run one wechatpy call with the retry policy. Raises WeChatError. A call that is not
        `idempotent` at WeChat is not retried once it may have been delivered."""
        refreshed = False
        attempt = 0
        while True:
            try:
                return fn(self.client)
            except Exception as exc:  # noqa: BLE001 - classified below, unknown ones re-raised
                err = _classify(exc)
            if err.errcode in TOKEN_ERRORS:
                if not refreshed:
                    refreshed = True
                    stale = self.redis_token()
                    log.info("WeChat rejected the access token (%s); refreshing once", err.errcode)
                    self.access_token(rejected=stale)
                    continue
                # Refused again right after a refresh: WeChat's token service is not settled; try later.
                raise WeChatError(err.errcode, err.errmsg, transient=True, http_status=err.http_status)
            if err.maybe_delivered and not idempotent:
                raise err
            if err.transient and err.errcode not in NEVER_RETRY and attempt < self.retries:
                delay = BACKOFF[min(attempt, len(BACKOFF) - 1)]
                attempt += 1
                log.warning("WeChat call failed (%s %s), retry %d in %.1fs", err.errcode, err.errmsg, attempt, delay)
                time.sleep(delay)
                continue
            raise err

    def redis_token(self) -> str | None:
        try:
            cached = self.redis.get(self._token_key)
        except redis.RedisError:
            return None
        return cached.decode() if cached else None

    # -- the operations the product uses ---------------------------------------------------------
    def code_to_session(self, js_code: str) -> dict:
        """sns/jscode2session. access_token=None keeps wechatpy from attaching (and fetching) a token."""
        return self.call(lambda c: c.wxa._get("sns/jscode2session", params={
            "appid": self.appid, "secret": self.secret, "js_code": js_code,
            "grant_type": "authorization_code", "access_token": None,
        }))

    def phone_number(self, code: str) -> dict:
        """wxa/business/getuserphonenumber (wechatpy 1.8.18 has no wrapper)."""
        return self.call(lambda c: c.wxa._post("wxa/business/getuserphonenumber", data={"code": code}))

    def send_subscribe(self, touser: str, template_id: str, data: dict, page: str | None, state: str) -> dict:
        payload = {"touser": touser, "template_id": template_id, "data": data, "miniprogram_state": state,
                   "lang": "zh_CN"}
        if page:
            payload["page"] = page
        # No client_msg_id exists for subscribe messages: never resend one WeChat may have received.
        return self.call(lambda c: c.post("message/subscribe/send", data=payload), idempotent=False)

    def send_template(self, touser: str, template_id: str, data: dict, *, mp_appid: str, page: str,
                      client_msg_id: str) -> dict:
        payload = {"touser": touser, "template_id": template_id, "data": data,
                   "miniprogram": {"appid": mp_appid, "pagepath": page}, "client_msg_id": client_msg_id}
        return self.call(lambda c: c.post("message/template/send", data=payload))

    def create_qrcode(self, scene: str, expire_seconds: int) -> dict:
        return self.call(lambda c: c.qrcode.create({
            "expire_seconds": expire_seconds, "action_name": "QR_STR_SCENE",
            "action_info": {"scene": {"scene_str": scene}},
        }))


def _app_for(kind: str) -> WeChatApp:
    cfg = current_app.config
    cache = current_app.extensions.setdefault("wechat", {})
    if kind not in cache:
        prefix = "MP" if kind == "mp" else "OA"
        cache[kind] = WeChatApp(
            appid=cfg[f"{prefix}_APPID"], secret=cfg[f"{prefix}_SECRET"], base_url=cfg["WECHAT_API_BASE"],
            redis=get_redis(), timeout=cfg["WECHAT_TIMEOUT"], retries=cfg["WECHAT_RETRIES"],
        )
    return cache[kind]


def miniprogram() -> WeChatApp:
    return _app_for("mp")


def official_account() -> WeChatApp:
    return _app_for("oa")
