"""The work-order state machine, pure: apply(status, event) -> new status, or IllegalTransition.

One lifecycle for repairs, paid services and complaints:

    submitted --dispatch--> dispatched --accept--> accepted --arrive--> on_site --complete--> completed
        ^                       |  ^                                     |  ^                      |
        |  decline / timeout ---+  +-- reassign (dispatched|accepted)    pause/resume              |
        |                                                                                          v
        +----------------------- rework (completed|confirmed|closed) <------------- confirm --> confirmed --close--> closed
    cancel: submitted|dispatched|accepted -> cancelled (before anyone is on site)
    resolve: accepted|on_site -> completed (complaints: the final reply; no visit needed)
"""
from __future__ import annotations

STATUSES = {
    "submitted": "待派单",
    "dispatched": "已派单",
    "accepted": "已接单",
    "on_site": "处理中",
    "paused": "已暂停",
    "completed": "待确认",
    "confirmed": "已确认",
    "closed": "已完成",
    "cancelled": "已取消",
}

EVENTS = {
    "dispatch": "派单",
    "reassign": "改派",
    "decline": "拒单",
    "offer_timeout": "超时未接单",
    "accept": "接单",
    "arrive": "到场",
    "pause": "暂停",
    "resume": "继续",
    "complete": "完工",
    "resolve": "处理完毕",
    "confirm": "确认完工",
    "reject_completion": "不认可完工",
    "rework": "返工",
    "close": "结单",
    "cancel": "取消",
}

TRANSITIONS: dict[tuple[str, str], str] = {
    ("submitted", "dispatch"): "dispatched",
    ("dispatched", "reassign"): "dispatched",
    ("accepted", "reassign"): "dispatched",
    ("dispatched", "decline"): "submitted",
    ("dispatched", "offer_timeout"): "submitted",
    ("dispatched", "accept"): "accepted",
    ("accepted", "arrive"): "on_site",
    ("on_site", "pause"): "paused",
    ("paused", "resume"): "on_site",
    ("on_site", "complete"): "completed",
    ("accepted", "resolve"): "completed",  # a complaint answered with its final reply
    ("on_site", "resolve"): "completed",
    ("completed", "confirm"): "confirmed",
    ("completed", "reject_completion"): "submitted",
    ("completed", "rework"): "submitted",
    ("confirmed", "rework"): "submitted",
    ("closed", "rework"): "submitted",
    ("confirmed", "close"): "closed",
    ("submitted", "cancel"): "cancelled",
    ("dispatched", "cancel"): "cancelled",
    ("accepted", "cancel"): "cancelled",
}

OPEN = frozenset({"submitted", "dispatched", "accepted", "on_site", "paused"})  # work still to do
WORKER_LOAD = frozenset({"dispatched", "accepted", "on_site", "paused"})  # counts against a worker
FINAL = frozenset({"closed", "cancelled"})
DONE = frozenset({"completed", "confirmed", "closed"})  # the work is done (awaiting confirmation or later)


class IllegalTransition(Exception):
    def __init__(self, status: str, event: str) -> None:
        super().__init__(f"{event} not allowed from {status}")
        self.status = status
        self.event = event

    @property
    def message(self) -> str:
        return f"工单{STATUSES.get(self.status, self.status)}，不能{EVENTS.get(self.event, self.event)}"


def apply(status: str, event: str) -> str:
    try:
        return TRANSITIONS[(status, event)]
    except KeyError:
        raise IllegalTransition(status, event) from None


def allowed_events(status: str) -> list[str]:
    return [event for (source, event) in TRANSITIONS if source == status]
