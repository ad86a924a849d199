"""Notice pushes: one fan-out job per notice splits the recipients into batch jobs spread over the workers."""
from __future__ import annotations

from server.notices import services


def fan_out(notice_id: int) -> str:
    return services.fan_out(notice_id)


def send_batch(notice_id: int, owner_ids: list[int]) -> str:
    return services.send_batch(notice_id, owner_ids)
