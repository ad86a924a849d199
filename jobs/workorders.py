"""Work-order jobs: dispatching, offer timeouts, deadline escalation, auto-confirm/close."""
from __future__ import annotations

from server.workorders import complaints, services

from .context import with_app


def dispatch(order_id: int) -> str:
    return services.dispatch(order_id)


def offer_timeout(order_id: int, offer_no: int) -> str:
    return services.offer_timeout(order_id, offer_no)


@with_app
def escalate_overdue() -> int:
    return services.escalate_overdue()


@with_app
def auto_finish() -> dict:
    return services.auto_finish()


@with_app
def weekly_updates() -> int:
    return complaints.weekly_updates()
