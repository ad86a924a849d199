"""In-memory state of the sandbox: tokens, messages, call log, faults, QR tickets.

Everything lives behind one lock because the sandbox is served by a threaded
server.  Methods that must be atomic (check-then-store) do all their work in a
single critical section; slow work (sleeping, outbound HTTP) happens outside.
WeChat Pay's state (orders, refunds, notifications) is ``server.sandbox.pay.records.PayState``.
"""

from __future__ import annotations

import bisect
import itertools
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

STABLE = "stable"
PLAIN = "plain"


def utc_now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def new_token() -> str:
    return secrets.token_urlsafe(48)  # 64 url-safe characters


@dataclass
class TokenRecord:
    appid: str
    kind: str  # STABLE or PLAIN
    expires_at: float


@dataclass
class Fault:
    id: int
    kind: str  # "http_500" | "errcode" | "delay"
    count: int
    remaining: int
    path: str | None
    openid: str | None
    errcode: int | str | None  # a string (WeChat Pay's "code") only on pay paths
    errmsg: str | None
    seconds: float | None

    def matches(self, path: str | tuple[str, ...], openid: str | None) -> bool:
        """`path` is the call's path, or every name it answers to (a pay path's template and its actual path)."""
        paths = (path,) if isinstance(path, str) else path
        if self.path is not None and self.path not in paths:
            return False
        return self.openid is None or self.openid == openid

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class QrTicket:
    ticket: str
    scene: str
    appid: str
    expires_at: float | None  # None for permanent (QR_LIMIT_*) codes


class SandboxState:
    def __init__(self, apps: dict[str, str], token_ttl: int, clock: Callable[[], float] = time.time):
        self.apps = apps
        self.token_ttl = token_ttl
        # Time source for expiry decisions only; tests swap it to move time forward.
        self.clock = clock
        self._lock = threading.Lock()
        # Ids keep increasing across clear/reset so `since_id` pollers never miss messages.
        self._message_ids = itertools.count(1)
        self._msgids = itertools.count(3_000_000_001)  # WeChat msgids are large integers
        self._fault_ids = itertools.count(1)
        self._clear_all()

    def _clear_all(self) -> None:
        # Every token ever issued, so that calls with superseded tokens still show their appid.
        self._tokens: dict[str, TokenRecord] = {}
        self._current: dict[tuple[str, str], str] = {}  # (appid, kind) -> token
        self._messages: list[dict[str, Any]] = []
        self._client_msg_ids: dict[tuple[str, str], int] = {}  # (appid, client_msg_id) -> msgid
        self._calls: list[dict[str, Any]] = []
        self._faults: list[Fault] = []
        self._tickets: dict[str, QrTicket] = {}
        self._followers: set[str] = set()

    def reset(self) -> None:
        with self._lock:
            self._clear_all()

    # -- apps and tokens -------------------------------------------------

    def check_app(self, appid: str, secret: str) -> tuple[int, str] | None:
        """The WeChat error for a bad appid/secret pair, or None when they are right."""
        if appid not in self.apps:
            return 40013, "invalid appid"
        if not secrets.compare_digest(self.apps[appid].encode(), secret.encode()):
            return 40125, "invalid appsecret"
        return None

    def _issue(self, appid: str, kind: str) -> str:
        # Replacing the (appid, kind) entry is what supersedes the previous token of that kind.
        token = new_token()
        self._tokens[token] = TokenRecord(appid, kind, self.clock() + self.token_ttl)
        self._current[(appid, kind)] = token
        return token

    def issue_plain_token(self, appid: str) -> tuple[str, int]:
        with self._lock:
            return self._issue(appid, PLAIN), self.token_ttl

    def stable_token(self, appid: str, force_refresh: bool) -> tuple[str, int]:
        with self._lock:
            current = self._current.get((appid, STABLE))
            if current is not None and not force_refresh:
                remaining = int(self._tokens[current].expires_at - self.clock())
                if remaining > 0:
                    return current, remaining
            return self._issue(appid, STABLE), self.token_ttl

    def check_token(self, token: str) -> tuple[int, str] | None:
        """The WeChat error for an unusable access token, or None when it is valid."""
        with self._lock:
            record = self._tokens.get(token)
            if record is None or self._current.get((record.appid, record.kind)) != token:
                return 40001, "invalid credential, access_token is invalid or not latest"
            if record.expires_at <= self.clock():
                return 42001, "access_token expired"
            return None

    def token_owner(self, token: str | None) -> str | None:
        with self._lock:
            record = self._tokens.get(token) if token else None
            return record.appid if record else None

    def invalidate_tokens(self, appid: str) -> None:
        with self._lock:
            self._current.pop((appid, STABLE), None)
            self._current.pop((appid, PLAIN), None)

    # -- messages --------------------------------------------------------

    def _store(self, message: dict[str, Any]) -> int:
        msgid = next(self._msgids)
        self._messages.append(
            {"id": next(self._message_ids), **message, "msgid": msgid, "received_at": utc_now_iso()}
        )
        return msgid

    def add_subscribe_message(self, message: dict[str, Any]) -> int:
        with self._lock:
            return self._store({"kind": "subscribe", **message})

    def add_template_message(self, appid: str, client_msg_id: str | None, message: dict[str, Any]) -> int:
        """Store a template message unless `client_msg_id` was already used; return its msgid."""
        with self._lock:
            if client_msg_id and (appid, client_msg_id) in self._client_msg_ids:
                return self._client_msg_ids[(appid, client_msg_id)]
            msgid = self._store({"kind": "template", **message})
            if client_msg_id:
                self._client_msg_ids[(appid, client_msg_id)] = msgid
            return msgid

    def messages(
        self,
        since_id: int = 0,
        kind: str | None = None,
        touser: str | None = None,
        template_id: str | None = None,
    ) -> list[dict[str, Any]]:
        with self._lock:
            # Ids are increasing, so `since_id` is a binary search, not a scan.
            start = bisect.bisect_right(self._messages, since_id, key=lambda message: message["id"])
            selected = self._messages[start:]
        return [
            message
            for message in selected
            if (kind is None or message["kind"] == kind)
            and (touser is None or message["touser"] == touser)
            and (template_id is None or message["template_id"] == template_id)
        ]

    def last_messages(self, count: int) -> list[dict[str, Any]]:
        with self._lock:
            return self._messages[-count:]

    def clear_messages(self) -> None:
        with self._lock:
            self._messages = []
            self._client_msg_ids = {}

    # -- call log --------------------------------------------------------

    def log_call(
        self, path: str, method: str, appid: str | None, errcode: int | str | None, status: int
    ) -> None:
        entry = {"path": path, "method": method, "appid": appid, "errcode": errcode, "status": status,
                 "at": utc_now_iso()}
        with self._lock:
            self._calls.append(entry)

    def calls(self, path: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            calls = list(self._calls)
        return [call for call in calls if path is None or call["path"] == path]

    def clear_calls(self) -> None:
        with self._lock:
            self._calls = []

    # -- faults ----------------------------------------------------------

    def add_fault(self, **fields: Any) -> Fault:
        with self._lock:
            fault = Fault(id=next(self._fault_ids), remaining=fields["count"], **fields)
            self._faults.append(fault)
            return fault

    def take_fault(self, path: str | tuple[str, ...], openid: str | None) -> Fault | None:
        """Consume one count of the oldest fault matching this call."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(path, openid):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
            return None

    def faults(self) -> list[dict[str, Any]]:
        with self._lock:
            return [fault.to_dict() for fault in self._faults]

    def clear_faults(self) -> None:
        with self._lock:
            self._faults = []

    # -- QR tickets and followers ----------------------------------------

    def add_ticket(self, scene: str, appid: str, expire_seconds: int | None) -> QrTicket:
        with self._lock:
            expires_at = None if expire_seconds is None else self.clock() + expire_seconds
            ticket = QrTicket(secrets.token_urlsafe(48), scene, appid, expires_at)
            self._tickets[ticket.ticket] = ticket
            return ticket

    def find_ticket(self, ticket: str) -> QrTicket | None:
        """The ticket if it exists and has not expired."""
        with self._lock:
            found = self._tickets.get(ticket)
            if found is None or (found.expires_at is not None and found.expires_at <= self.clock()):
                return None
            return found

    def newest_ticket_for_scene(self, scene: str) -> QrTicket | None:
        with self._lock:
            return next((ticket for ticket in reversed(self._tickets.values()) if ticket.scene == scene), None)

    def follow(self, openid: str) -> bool:
        """Mark `openid` as a follower; True if it was not one before."""
        with self._lock:
            is_new = openid not in self._followers
            self._followers.add(openid)
            return is_new

    def unfollow(self, openid: str) -> None:
        with self._lock:
            self._followers.discard(openid)
