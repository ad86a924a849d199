"""Payment and refund notifications: encrypted once, signed afresh on every delivery, retried.

A notification goes to the merchant's ``notify_url`` until it answers 200 or 204: a first attempt,
then one retry per delay of ``SANDBOX_PAY_NOTIFY_SCHEDULE``.  ``/sandbox/pay/notify-again``
delivers it again, many times at once, and ``tamper`` makes a delivery the product must refuse
(a broken signature, a changed amount, a stale timestamp).  Every attempt is recorded in
`PayState.deliveries`.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from ..state import utc_now_iso
from .crypto import Signer, encrypt_resource
from .records import PayState
from .settings import PaySettings
from .wire import dumps, rfc3339

STALE_TIMESTAMP_AGE = 600  # how old Wechatpay-Timestamp is with tamper="timestamp"
TAMPER_KINDS = ("signature", "amount", "timestamp")


@dataclass
class Notification:
    """One notification as WeChat Pay sends it; every delivery of it carries the same id and body."""

    id: str
    event_type: str  # TRANSACTION.SUCCESS | REFUND.SUCCESS
    summary: str
    original_type: str  # transaction | refund
    url: str
    out_trade_no: str
    out_refund_no: str | None
    resource: dict[str, Any]  # the decrypted resource
    create_time: str
    body: str = ""
    tampered_bodies: dict[str, str] = field(default_factory=dict)

    def envelope(self, apiv3_key: str, resource: Mapping[str, Any]) -> str:
        encrypted = encrypt_resource(apiv3_key, dumps(resource), self.original_type)
        return dumps(
            {
                "id": self.id,
                "create_time": self.create_time,
                "resource_type": "encrypt-resource",
                "event_type": self.event_type,
                "summary": self.summary,
                "resource": {
                    "original_type": self.original_type,
                    "algorithm": "AEAD_AES_256_GCM",
                    **encrypted,
                },
            }
        )


class Notifier:
    """Builds notifications, delivers them to the merchant and records every attempt."""

    def __init__(self, state: PayState, settings: PaySettings, signer: Signer):
        self.state = state
        self.settings = settings
        self.signer = signer

    def create(
        self,
        event_type: str,
        summary: str,
        original_type: str,
        url: str,
        out_trade_no: str,
        out_refund_no: str | None,
        resource: dict[str, Any],
        now: float,
    ) -> Notification:
        notification = Notification(
            id=str(uuid.uuid4()),
            event_type=event_type,
            summary=summary,
            original_type=original_type,
            url=url,
            out_trade_no=out_trade_no,
            out_refund_no=out_refund_no,
            resource=resource,
            create_time=rfc3339(now),
        )
        notification.body = notification.envelope(self.settings.apiv3_key, resource)
        return notification

    def _body_for(self, notification: Notification, tamper: str | None) -> str:
        if tamper != "amount":
            return notification.body
        if "amount" not in notification.tampered_bodies:  # built once, so retries repeat the same lie
            resource = json.loads(dumps(notification.resource))
            amount = resource["amount"]
            for name in ("total", "payer_total", "refund", "payer_refund"):
                if name in amount:
                    amount[name] += 1
            notification.tampered_bodies["amount"] = notification.envelope(self.settings.apiv3_key, resource)
        return notification.tampered_bodies["amount"]

    def attempt(self, notification: Notification, tamper: str | None, trigger: str) -> dict[str, Any]:
        """POST one freshly signed copy of `notification`; record and return the attempt."""
        body = self._body_for(notification, tamper)
        timestamp = int(time.time()) - (STALE_TIMESTAMP_AGE if tamper == "timestamp" else 0)
        headers = self.signer.headers(body, timestamp=timestamp, break_signature=tamper == "signature")
        headers.update({"Content-Type": "application/json", "Request-ID": str(uuid.uuid4())})
        status: int | None = None
        error: str | None = None
        try:
            with requests.Session() as session:
                session.trust_env = (
                    False  # the merchant is local: never route it through an environment proxy
                )
                reply = session.post(
                    notification.url,
                    data=body.encode("utf-8"),
                    headers=headers,
                    timeout=self.settings.notify_timeout,
                )
            status = reply.status_code
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"
        attempt = {
            "notification_id": notification.id,
            "event_type": notification.event_type,
            "url": notification.url,
            "out_trade_no": notification.out_trade_no,
            "out_refund_no": notification.out_refund_no,
            "trigger": trigger,  # first | retry | again
            "tamper": tamper,
            "status": status,
            "error": error,
            "acknowledged": status in (200, 204),
            "at": utc_now_iso(),
        }
        with self.state.lock:
            attempt["id"] = self.state.next_number()
            self.state.deliveries.append(attempt)
        return attempt

    def retry_in_background(self, notification: Notification, tamper: str | None, generation: int) -> None:
        threading.Thread(
            target=self.retry, args=(notification, tamper, generation), daemon=True, name="sandbox-notify"
        ).start()

    def retry(self, notification: Notification, tamper: str | None, generation: int) -> None:
        for delay in self.settings.notify_schedule:
            time.sleep(delay)
            if self.state.generation != generation:
                return
            if self.attempt(notification, tamper, "retry")["acknowledged"]:
                return

    def deliver_again(self, notification: Notification, times: int, tamper: str | None) -> dict[str, Any]:
        """Deliver `notification` `times` more times, all at once."""
        barrier = threading.Barrier(times)
        results: list[dict[str, Any] | None] = [None] * times

        def deliver(index: int) -> None:
            barrier.wait()
            results[index] = self.attempt(notification, tamper, "again")

        threads = [threading.Thread(target=deliver, args=(index,), daemon=True) for index in range(times)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return {
            "notification_id": notification.id,
            "statuses": [result["status"] if result else None for result in results],
            "errors": [result["error"] if result else "not attempted" for result in results],
        }

    def deliveries_view(self, out_trade_no: str | None, event_type: str | None) -> list[dict[str, Any]]:
        with self.state.lock:
            deliveries = list(self.state.deliveries)
        return [
            item
            for item in deliveries
            if (out_trade_no is None or item["out_trade_no"] == out_trade_no)
            and (event_type is None or item["event_type"] == event_type)
        ]
