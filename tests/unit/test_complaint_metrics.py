"""The monthly complaints report and the survey figures, pure: definitions, targets, rounding, clocks."""
from datetime import UTC, datetime, timedelta

from server.feedback import metrics
from server.feedback.metrics import BreachRow, ComplaintRow, SurveyRow, complaint_metrics, survey_stats
from server.feedback.services import first_cluster

T = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
NOW = datetime(2026, 4, 1, 2, 0, tzinfo=UTC)
M = timedelta(minutes=1)


def complaint(n, status="closed", **kw):
    base = {"handler_due_at": T + 10 * M, "reply_due_at": T + 8 * 60 * M}
    if status in metrics.HANDLED:
        base |= {"accepted_at": T + 5 * M, "replied_at": T + 60 * M, "callback_due_at": T + 3 * 24 * 60 * M}
    return ComplaintRow(id=n, number=f"TS20260310-{n:04d}", category="noise", status=status, created_at=T,
                        **(base | kw))


def test_received_closed_and_rates():
    rows = [
        complaint(1, rating=5, callback_at=T + 120 * M),  # satisfied (rating), called back on time
        complaint(2, rating=3, callback_at=T + 120 * M, callback_result="satisfied"),  # rating wins: not satisfied
        complaint(3, status="completed", callback_result="satisfied", callback_at=T + 90 * M),  # unrated: callback
        complaint(4, status="confirmed"),  # handled, not judged, not called back
        complaint(5, status="dispatched"),  # open
        complaint(6, status="cancelled", rating=1),  # counted nowhere
    ]
    out = complaint_metrics(rows, [], [], NOW)
    assert out["received"] == 5 and out["closed"] == 4
    assert out["closure_rate"] == {"value": 0.8, "target": 0.7, "met": True, "numerator": 4, "denominator": 5}
    assert out["satisfaction"] == {"value": 0.667, "target": 0.8, "met": False, "numerator": 2, "denominator": 3}
    assert out["callback_rate"] == {"value": 0.75, "target": 1.0, "met": False, "numerator": 3, "denominator": 4}


def test_a_reopened_complaint_needs_a_new_callback_and_is_not_closed():
    reopened = complaint(1, status="submitted", rating=1, callback_at=None, accepted_at=T + 5 * M)
    out = complaint_metrics([reopened], [], [], NOW)
    assert out["closed"] == 0 and out["closure_rate"]["value"] == 0.0 and out["closure_rate"]["met"] is False
    assert out["satisfaction"]["value"] == 0.0  # judged by its rating of 1
    assert out["callback_rate"]["value"] is None and out["callback_rate"]["met"] is None
    waiting = complaint(2, status="completed", callback_at=T + 60 * M, needs_callback=True)
    assert complaint_metrics([waiting], [], [], NOW)["callback_rate"]["value"] == 0.0


def test_empty_month_has_nulls_not_zero_division():
    out = complaint_metrics([], [], [], NOW)
    assert out["received"] == out["closed"] == 0
    for key in ("closure_rate", "satisfaction", "callback_rate"):
        assert out[key]["value"] is None and out[key]["met"] is None
    assert all(c["due"] == 0 and c["rate"] is None for c in out["on_time"])
    assert out["surveys"]["surveyed_households"] == {"value": 0, "target": 20, "met": False, "numerator": None,
                                                     "denominator": None}
    assert out["surveys"]["satisfaction_rate"]["value"] is None
    assert [s["key"] for s in out["summary"]] == [
        "received", "closed", "closure_rate", "satisfaction", "callback_rate", "on_time_handler", "on_time_onsite",
        "on_time_reply", "on_time_followup", "surveyed_households", "survey_satisfaction_rate",
        "survey_satisfaction_degree"]


def test_clocks_count_once_due_or_met():
    now = T + 30 * M
    rows = [
        complaint(1, status="accepted", accepted_at=T + 10 * M),  # exactly on the deadline: met
        complaint(2, status="accepted", accepted_at=T + 11 * M),  # late
        complaint(3, status="dispatched"),  # not accepted, deadline passed: missed
        complaint(4, status="dispatched", handler_due_at=T + 60 * M),  # still running: pending
        complaint(5, status="accepted", accepted_at=T, emergency=True, onsite_due_at=T + 5 * M,
                  arrived_at=T + 4 * M),
        complaint(6, status="accepted", accepted_at=T, emergency=True, onsite_due_at=T + 5 * M),  # nobody came
        complaint(7, status="accepted", accepted_at=T, onsite_due_at=T + 5 * M),  # not an emergency: no clock
    ]
    out = {c["clock"]: c for c in complaint_metrics(rows, [], [], now)["on_time"]}
    assert out["handler"] == {"clock": "handler", "label": "10 分钟内受理", "due": 6, "met": 4, "missed": 2,
                              "pending": 1, "rate": 0.667}
    assert (out["onsite"]["met"], out["onsite"]["missed"], out["onsite"]["rate"]) == (1, 1, 0.5)
    assert out["reply"]["due"] == 0 and out["reply"]["pending"] == 7  # same day: not due yet
    assert out["followup"]["due"] == 0 and out["followup"]["pending"] == 0  # none handled
    assert rows[3].clock("handler", now) == "pending" and rows[6].clock("onsite", now) is None

    later = T + 4 * 24 * 60 * M
    handled = [complaint(1, callback_at=T + 2 * 24 * 60 * M), complaint(2, callback_at=T + 3 * 24 * 60 * M + M),
               complaint(3, status="confirmed"), complaint(4, replied_at=T + 9 * 60 * M)]
    out = {c["clock"]: c for c in complaint_metrics(handled, [], [], later)["on_time"]}
    assert (out["followup"]["met"], out["followup"]["missed"]) == (1, 3)  # late, and two never called back
    assert (out["reply"]["met"], out["reply"]["missed"]) == (3, 1)


def test_breaches_grouped_by_handler_and_clock_without_double_counting_levels():
    rows = [complaint(1), complaint(2), complaint(3, status="cancelled")]
    breaches = [
        BreachRow(1, "handler", 0, 1, 7, "刘芳"), BreachRow(1, "handler", 0, 2, 7, "刘芳"),  # escalated: one miss
        BreachRow(1, "reply", 0, 1, 7, "刘芳"), BreachRow(2, "callback", 0, 1, 3, "王建国"),
        BreachRow(2, "callback", 1, 1, 3, "王建国"),  # a rework round: a second miss
        BreachRow(2, "reply", 0, 1, None, None),
        BreachRow(3, "handler", 0, 1, 7, "刘芳"),  # cancelled complaint: not counted
    ]
    out = complaint_metrics(rows, breaches, [], NOW)["breaches_by_handler"]
    assert out == [  # most misses first, then by name
        {"staff_id": 7, "name": "刘芳", "total": 2, "clocks": {"handler": 1, "onsite": 0, "reply": 1, "followup": 0}},
        {"staff_id": 3, "name": "王建国", "total": 2, "clocks": {"handler": 0, "onsite": 0, "reply": 0, "followup": 2}},
        {"staff_id": None, "name": "未指定", "total": 1, "clocks": {"handler": 0, "onsite": 0, "reply": 1, "followup": 0}},
    ]


def test_survey_rate_and_degree():
    answers = ["satisfied"] * 18 + ["basically_satisfied"] + ["dissatisfied"]
    surveys = [SurveyRow(a) for a in answers]
    surveys[0] = SurveyRow("satisfied", has_opinion=True, responded=True)
    surveys[-1] = SurveyRow("dissatisfied", has_opinion=True)
    out = survey_stats(surveys)
    assert out["surveyed_households"]["value"] == 20 and out["surveyed_households"]["met"] is True
    assert [(a["answer"], a["label"], a["count"]) for a in out["answers"]] == [
        ("satisfied", "满意", 18), ("basically_satisfied", "基本满意", 1), ("dissatisfied", "不满意", 1)]
    assert out["satisfaction_rate"] == {"value": 0.95, "target": 0.96, "met": False, "numerator": 19,
                                        "denominator": 20}
    # (18 x 100 + 60 + 0) / (20 x 100) = 0.93
    assert out["satisfaction_degree"] == {"value": 0.93, "target": 0.75, "met": True, "numerator": 1860,
                                          "denominator": 2000}
    assert out["opinions"] == 2 and out["unanswered_opinions"] == 1
    assert metrics.SURVEY_SCORES == {"satisfied": 100, "basically_satisfied": 60, "dissatisfied": 0}

    few = survey_stats([SurveyRow("basically_satisfied")] * 3)
    assert few["surveyed_households"]["met"] is False
    assert few["satisfaction_rate"]["value"] == 1.0 and few["satisfaction_rate"]["met"] is True
    assert few["satisfaction_degree"]["value"] == 0.6 and few["satisfaction_degree"]["met"] is False


def test_rates_round_half_up():
    # 5 of 8 judged satisfied = 0.625 exactly; 1 of 3 = 0.333; 2 of 3 = 0.667
    rows = [complaint(i, rating=5 if i < 5 else 1) for i in range(8)]
    assert complaint_metrics(rows, [], [], NOW)["satisfaction"]["value"] == 0.625
    survey = survey_stats([SurveyRow("satisfied"), SurveyRow("basically_satisfied"), SurveyRow("satisfied"),
                           SurveyRow("dissatisfied"), SurveyRow("dissatisfied"), SurveyRow("dissatisfied"),
                           SurveyRow("dissatisfied"), SurveyRow("dissatisfied")])
    assert survey["satisfaction_degree"]["value"] == 0.325  # 260 / 800 = 0.325
    assert survey_stats([SurveyRow("basically_satisfied")] * 2 + [SurveyRow("dissatisfied")])[
        "satisfaction_degree"]["value"] == 0.4
    # 1 / 16 = 0.0625 -> 0.063 (Python's round() would give 0.062)
    sixteen = survey_stats([SurveyRow("satisfied")] + [SurveyRow("dissatisfied")] * 15)
    assert sixteen["satisfaction_rate"]["value"] == 0.063 and sixteen["satisfaction_degree"]["value"] == 0.063


def test_summary_rows_carry_targets():
    surveys = [SurveyRow("satisfied")] * 20
    out = complaint_metrics([complaint(1, rating=5, callback_at=T + 60 * M)], [], surveys, NOW)
    summary = {s["key"]: s for s in out["summary"]}
    assert summary["closure_rate"] == {"key": "closure_rate", "label": "投诉处理率", "kind": "rate", "value": 1.0,
                                       "target": 0.7, "met": True}
    assert summary["received"]["target"] is None and summary["received"]["met"] is None
    assert summary["surveyed_households"]["value"] == 20 and summary["surveyed_households"]["met"] is True
    assert summary["survey_satisfaction_degree"]["value"] == 1.0
    assert summary["on_time_handler"]["value"] == 1.0 and summary["on_time_handler"]["target"] is None
    assert set(metrics.DEFINITIONS) >= {"received", "closed", "closure_rate", "satisfaction", "callback_rate",
                                        "on_time", "surveyed_households", "survey_satisfaction_rate",
                                        "survey_satisfaction_degree"}
    assert "投诉处理率（closure_rate）" in metrics.definitions_text()


def test_first_cluster_within_the_window():
    day = timedelta(days=1)
    week = 7 * day
    assert first_cluster([T, T + day], 3, week) is None
    assert first_cluster([T, T + day, T + 2 * day], 3, week) == 0
    assert first_cluster([T, T + 7 * day], 2, week) == 0  # exactly 7 days apart: within
    assert first_cluster([T, T + 6 * day, T + 8 * day, T + 9 * day], 3, week) == 1
    assert first_cluster([T, T + 8 * day, T + 16 * day], 2, week) is None
