"""Common problems: detect them among recent complaints, remind the managers of unanswered ones."""
from __future__ import annotations

from server.feedback import services

from .context import job


@job
def detect_common_problems() -> dict:
    return services.detect_common_problems()


@job
def remind_overdue_problems() -> int:
    return services.remind_overdue_problems()
