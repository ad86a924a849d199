"""Work-order jobs: dispatching and offer timeouts (outbox rows: the runner commits), deadline escalation,
auto-confirm/close and weekly complaint updates (periodic: `job` commits)."""
from __future__ import annotations

from server.workorders import complaints, dispatch as dispatching, escalation

from .context import job


def dispatch(order_id: int) -> str:
    return dispatching.dispatch(order_id)


def offer_timeout(order_id: int, offer_no: int) -> str:
    return dispatching.offer_timeout(order_id, offer_no)


@job
def escalate_overdue() -> int:
    return escalation.escalate_overdue()


@job
def auto_finish() -> dict:
    return escalation.auto_finish()


@job
def weekly_updates() -> int:
    return complaints.weekly_updates()
