"""Fee jobs: monthly bill generation, pending-payment checks, refunds."""
from __future__ import annotations

from server.billing import generation, refunds, services
from server.timeutil import to_local, utcnow

from .context import get_app, with_app


@with_app
def generate_monthly() -> str:
    """Periodic (daily): on BILL_DAY, the current month's bills of every community (idempotent)."""
    today = to_local(utcnow()).date()
    if today.day != get_app().config["BILL_DAY"]:
        return "not today"
    report = generation.generate(f"{today:%Y-%m}")
    return f"created {report.created} of {report.computed}"


@with_app
def check_pending_payments() -> dict:
    return services.check_pending()


@with_app
def check_refunds() -> int:
    return refunds.check_processing()


def send_refund(refund_id: int) -> str:
    return refunds.send(refund_id)
