"""The pay service: one `PayState` shared by the orders, refunds, bills and notifier parts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..state import SandboxState
from .bills import Bills
from .crypto import Signer
from .notify import Notifier
from .orders import Orders
from .records import PayState
from .refunds import Refunds
from .settings import PaySettings
from .wire import PayError


class PayService:
    """WeChat Pay in the sandbox (``app.extensions["sandbox_pay"]``)."""

    def __init__(self, sandbox: SandboxState, settings: PaySettings, signer: Signer | None = None):
        self.signer = signer or Signer.from_key_dir()
        self.state = PayState(lambda: sandbox.clock())
        self.notifier = Notifier(self.state, settings, self.signer)
        self.orders = Orders(sandbox, self.state, settings, self.notifier)
        self.refunds = Refunds(self.state, settings, self.notifier)
        self.bills = Bills(self.state)
        self._settings = settings

    @property
    def settings(self) -> PaySettings:
        return self._settings

    @settings.setter
    def settings(self, settings: PaySettings) -> None:
        # Tests swap the settings of a running sandbox (e.g. a slower retry schedule): every part sees them.
        self._settings = self.notifier.settings = self.orders.settings = self.refunds.settings = settings

    def reset(self) -> None:
        self.state.reset()

    def notify_again(self, key: Mapping[str, Any], times: int, tamper: str | None) -> dict[str, Any]:
        """Deliver the notification of the order or refund `key` names `times` more times, all at once."""
        with self.state.lock:
            if isinstance(key.get("out_refund_no"), str):
                notification = self.refunds.find(key["out_refund_no"]).notification
            else:
                notification = self.orders.find(key.get("prepay_id"), key.get("out_trade_no")).notification
            if notification is None:
                raise PayError(400, "NO_NOTIFICATION", "还没有发过通知（订单未支付或退款未成功）")
        return self.notifier.deliver_again(notification, times, tamper)
