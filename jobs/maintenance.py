"""Periodic housekeeping of the job pipeline."""
from __future__ import annotations

from server import outbox

from .context import job


@job
def sweep_outbox() -> dict:
    return outbox.sweep()


@job
def prune_outbox() -> int:
    return outbox.prune()
