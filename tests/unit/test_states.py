"""Every allowed move of the work-order state machine, and every forbidden one."""
import itertools

import pytest

from server.workorders import states

ALLOWED = {
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
    ("accepted", "resolve"): "completed",
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


@pytest.mark.parametrize("move,target", ALLOWED.items(), ids=[f"{s}-{e}" for s, e in ALLOWED])
def test_allowed(move, target):
    assert states.apply(*move) == target


FORBIDDEN = [m for m in itertools.product(states.STATUSES, states.EVENTS) if m not in ALLOWED]


@pytest.mark.parametrize("move", FORBIDDEN, ids=[f"{s}-{e}" for s, e in FORBIDDEN])
def test_forbidden(move):
    with pytest.raises(states.IllegalTransition) as exc:
        states.apply(*move)
    assert exc.value.message.startswith("工单")


def test_table_is_what_the_tests_say():
    assert states.TRANSITIONS == ALLOWED  # a new move needs a test above


def test_cancel_is_impossible_once_someone_is_on_site():
    for status in ("on_site", "paused", "completed", "confirmed", "closed"):
        assert "cancel" not in states.allowed_events(status)


def test_labels_cover_every_status_and_event():
    assert set(states.STATUSES) >= {s for s, _ in ALLOWED} | set(ALLOWED.values())
    assert set(states.EVENTS) == {e for _, e in ALLOWED}
    assert states.IllegalTransition("closed", "cancel").message == "工单已完成，不能取消"
