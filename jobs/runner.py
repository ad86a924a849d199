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


MAX_INLINE_DEPTH = 3  # follow-ups of follow-ups ... beyond this go through the queue


@with_app
def run(row_id: int) -> str:
    return _execute(row_id, depth=0)


def _execute(row_id: int, depth: int) -> str:
    row = outbox.claim(row_id)
    if row is None:
        log.info("outbox %s: nothing to do (done, running elsewhere or not due)", row_id)
        return "skipped"
    token = request_id_var.set(row.request_id or new_request_id())
    try:
        log.info("outbox %s: %s(%s) attempt %d", row.id, row.func, row.kwargs, row.attempts)
        with outbox.collecting_follow_ups() as follow_ups:
            try:
                with outbox.heartbeat(row.id):
                    resolve(row.func)(**row.kwargs)
                outbox.finish(row)  # commits: the follow-ups are durable from here on
            except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row
                failed = outbox.fail(row_id, "".join(traceback.format_exception(exc)))
                outbox.push_ids(follow_ups)  # any a mid-way commit made durable go through the queue
                if failed.status == "failed":
                    log.error("outbox %s: failed for good after %d attempts: %s", row_id, failed.attempts, exc)
                    raise  # also lands in RQ's failed registry, with the traceback
                log.warning("outbox %s: attempt %d failed (%s); retry at %s", row_id, failed.attempts, exc,
                            failed.available_at.isoformat())
                return "retry"
    finally:
        request_id_var.reset(token)
    # Follow-up work (e.g. the push a dispatch created) runs now, in this job, not after another fork.
    if depth >= MAX_INLINE_DEPTH:
        outbox.push_ids(follow_ups)
    else:
        for follow_up in follow_ups:
            try:
                _execute(follow_up, depth + 1)
            except Exception:  # noqa: BLE001 - recorded on its own row; this job's work is done
                log.exception("outbox %s: follow-up %s failed", row_id, follow_up)
    return "done"
