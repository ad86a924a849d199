"""The pay stand-in's settings, read from the sandbox's ``SANDBOX_PAY_*`` configuration."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PaySettings:
    mchid: str
    apiv3_key: str
    notify_schedule: tuple[float, ...]
    refund_delay: float
    notify_timeout: float


def parse_schedule(value: Any) -> tuple[float, ...]:
    """``"0.2,0.5,1"`` (or a list of numbers) -> retry delays in seconds."""
    parts = value.split(",") if isinstance(value, str) else list(value)
    delays = tuple(float(part) for part in parts if str(part).strip())
    if any(delay < 0 for delay in delays):
        raise ValueError("SANDBOX_PAY_NOTIFY_SCHEDULE must hold non-negative numbers of seconds")
    return delays


def pay_settings(config: Mapping[str, Any]) -> PaySettings:
    apiv3_key = str(config["SANDBOX_PAY_APIV3_KEY"])
    if len(apiv3_key.encode("utf-8")) != 32:
        raise ValueError("SANDBOX_PAY_APIV3_KEY must be exactly 32 bytes")
    refund_delay = float(config["SANDBOX_PAY_REFUND_DELAY"])
    notify_timeout = float(config["SANDBOX_PAY_NOTIFY_TIMEOUT"])
    if refund_delay < 0 or notify_timeout <= 0:
        raise ValueError("SANDBOX_PAY_REFUND_DELAY must be >= 0 and SANDBOX_PAY_NOTIFY_TIMEOUT > 0")
    return PaySettings(
        mchid=str(config["SANDBOX_PAY_MCHID"]),
        apiv3_key=apiv3_key,
        notify_schedule=parse_schedule(config["SANDBOX_PAY_NOTIFY_SCHEDULE"]),
        refund_delay=refund_delay,
        notify_timeout=notify_timeout,
    )
