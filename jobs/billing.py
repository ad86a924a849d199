"""Fee jobs: monthly bill generation, pending-payment checks, refunds, the daily WeChat Pay reconciliation."""
from __future__ import annotations

from server.billing import generation, refunds, services
from server.timeutil import to_local, utcnow

from .context import get_app, job


@job
def generate_monthly() -> str:
    """Periodic (daily): on BILL_DAY, the current month's bills of every community (idempotent)."""
    today = to_local(utcnow()).date()
    if today.day != get_app().config["BILL_DAY"]:
        return "not today"
    report = generation.generate(f"{today:%Y-%m}")
    return f"created {report.created} of {report.computed}"


@job
def check_pending_payments() -> dict:
    return services.check_pending()


@job
def check_refunds() -> int:
    return refunds.check_processing()


def send_refund(refund_id: int) -> str:
    return refunds.send(refund_id)


@job
def reconcile_previous_day() -> str:
    """Periodic (daily, after 10:00 Beijing time when WeChat Pay's trade bill is ready): yesterday's bill
    against our payments, plus another try for the failed days of the past week."""
    from server.billing import reconciliation

    return "; ".join(f"{r.day}: {r.status} ({r.differences} differences)" for r in reconciliation.reconcile_recent())


@job
def send_bill_reminders() -> dict:
    """Periodic (daily, 10:00): dunning reminders to owners who consented -- before the due date and every
    DUNNING_EVERY_DAYS days while overdue, one message per house (server/billing/dunning.py)."""
    from server.billing import dunning

    return dunning.send_reminders()
