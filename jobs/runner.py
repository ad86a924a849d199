"""The one RQ entry point for outbox rows: claim, run the named function, finish or schedule a retry."""
from __future__ import annotations

import importlib
import logging
import traceback

from server import outbox
from server.logs import new_request_id, request_id_var

from .context import with_app

log = logging.getLogger(__name__)


def resolve(path: str):
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


@with_app
def run(row_id: int) -> str:
    row = outbox.claim(row_id)
    if row is None:
        log.info("outbox %s: nothing to do (done, running elsewhere or not due)", row_id)
        return "skipped"
    token = request_id_var.set(row.request_id or new_request_id())
    try:
        log.info("outbox %s: %s(%s) attempt %d", row.id, row.func, row.kwargs, row.attempts)
        try:
            resolve(row.func)(**row.kwargs)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row
            failed = outbox.fail(row_id, "".join(traceback.format_exception(exc)))
            if failed.status == "failed":
                log.error("outbox %s: failed for good after %d attempts: %s", row_id, failed.attempts, exc)
                raise  # also lands in RQ's failed registry, with the traceback
            log.warning("outbox %s: attempt %d failed (%s); retry at %s", row_id, failed.attempts, exc,
                        failed.available_at.isoformat())
            return "retry"
        outbox.finish(row)
        return "done"
    finally:
        request_id_var.reset(token)
