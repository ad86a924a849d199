"""Periodic housekeeping of the job pipeline."""
from __future__ import annotations

from server import outbox

from .context import with_app


@with_app
def sweep_outbox() -> dict:
    return outbox.sweep()


@with_app
def prune_outbox() -> int:
    return outbox.prune()
