"""The monthly complaints report (投诉月报) and the satisfaction survey, pure: plain rows in, numbers out.
No Flask, no database (unit-tested directly); report.py fetches the rows and renders the xlsx.

Definitions (server/README.md: "Complaints", "Callbacks and satisfaction", "The manager's numbers"). Rates are
fractions 0..1, half-up to 3 decimals, null when there is nothing to divide; `met` is null when the value
is null or the figure has no target.

The month's complaints: work orders of kind "complaint" of the community whose `created_at` falls in the
month (local midnight to local midnight, Asia/Shanghai), cancelled ones excluded from every figure.

- received (受理投诉): the month's complaints.
- closed (已处理): of those, the ones handled by the time of the report: status completed (final reply
  given), confirmed or closed. A complaint reopened (low rating, unsatisfied callback) is not closed
  until it is handled again.
- closure_rate (投诉处理率): closed / received. Target >= 70% (the manager's numbers).
- satisfaction (投诉处理满意率): complaints judged satisfied / complaints judged. A complaint is judged
  when the owner rated it (then satisfied means a rating >= 4 of 5) or, unrated, when it was called back
  (then satisfied means the latest callback's result is "satisfied"). Target >= 80%.
- callback_rate (投诉回访率): closed complaints called back since their latest handling / closed
  complaints. Target 100% (every complaint is called back).
- on_time (及时率), per clock, met / due, where a clock counts once its deadline has passed or it has
  been met (a clock still running is "pending" and not counted):
  handler  -- acknowledged in time: accepted_at <= handler_due_at (10 minutes);
  onsite   -- emergencies only: arrived_at <= onsite_due_at (5 minutes);
  reply    -- first reply in time: replied_at <= reply_due_at (same day; important: 2 working days);
  followup -- called back in time: callback_at <= callback_due_at (3 days after handling).
  The on-time rates have no numeric target (every deadline is a rule); they are shown for the review.
- breaches_by_handler (超时记录): the recorded missed deadlines (sla_breaches) of the month's complaints,
  one per order, clock and round (escalation levels are not counted twice), grouped by the staff member
  responsible when it was recorded (the handler, or the receptionist who received it), then by clock.

The month's survey (满意度调查): survey records of the month (`month` = the local month of the survey).

- surveyed_households (调查户数): records of the month (one per house). Target >= 20.
- survey_satisfaction_rate (满意率): (satisfied + basically satisfied) / surveyed. Target >= 96%.
- survey_satisfaction_degree (满意度): the mean score / 100, scoring satisfied 100, basically satisfied
  60, dissatisfied 0 (SURVEY_SCORES). The source manuals set the target (>= 75%) but not the weights;
  100/60/0 is a common convention of property-management satisfaction surveys (基本满意 scores a pass
  mark), kept as constants here so a company can change them in one place.
- opinions / unanswered_opinions: records with comments, and those without a recorded response yet
  (every opinion is answered, reasonable or not).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from ..reporting import ratio
from ..timeutil import as_utc
from ..workorders.rules import COMPLAINT_CATEGORIES

HANDLED = ("completed", "confirmed", "closed")  # handled: the final reply was given (or later)
SATISFIED_RATING = 4  # owner ratings 4 and 5 of 5 count as satisfied

SURVEY_ANSWERS = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"}
SURVEY_SCORES = {"satisfied": 100, "basically_satisfied": 60, "dissatisfied": 0}
SURVEY_METHODS = {"phone": "电话", "visit": "走访"}
SURVEY_MONTHLY_TARGET = 20

TARGETS = {
    "closure_rate": 0.70,
    "satisfaction": 0.80,
    "callback_rate": 1.0,
    "surveyed_households": SURVEY_MONTHLY_TARGET,
    "survey_satisfaction_rate": 0.96,
    "survey_satisfaction_degree": 0.75,
}

CLOCKS = {
    "handler": "10 分钟内受理",
    "onsite": "紧急事件 5 分钟到场",
    "reply": "按时答复",
    "followup": "3 日内回访",
}
# sla_breaches.clock -> the report's clock (the follow-up is recorded as the generic "callback" clock)
BREACH_CLOCKS = {"handler": "handler", "onsite": "onsite", "reply": "reply", "callback": "followup"}
CLOCK_STATES = {"met": "按时", "missed": "超时", "pending": "未到期", None: "—"}

LABELS = {
    "received": "受理投诉（件）",
    "closed": "已处理（件）",
    "closure_rate": "投诉处理率",
    "satisfaction": "投诉处理满意率",
    "callback_rate": "投诉回访率",
    "on_time_handler": "及时率：10 分钟内受理",
    "on_time_onsite": "及时率：紧急事件 5 分钟到场",
    "on_time_reply": "及时率：按时答复",
    "on_time_followup": "及时率：3 日内回访",
    "surveyed_households": "调查户数",
    "survey_satisfaction_rate": "满意率（调查）",
    "survey_satisfaction_degree": "满意度（调查）",
}

DEFINITIONS = {
    "received": "本月（北京时间）登记的投诉件数，已取消的不计",
    "closed": "上述投诉中，截至统计时已处理完毕（已答复结案、已确认或已完成）的件数；重新打开的投诉再次处理完毕前不计",
    "closure_rate": "已处理 ÷ 受理投诉，目标 ≥ 70%",
    "satisfaction": "评价为满意的投诉 ÷ 已评价的投诉；业主评分 ≥ 4 分为满意，未评分时以最近一次回访结果为准，"
                    "既无评分也无回访的不计入，目标 ≥ 80%",
    "callback_rate": "已处理投诉中最近一次处理后已回访的 ÷ 已处理投诉，目标 100%",
    "on_time": "各时限按时完成数 ÷ 应完成数（时限已到或已完成的才计入）：受理（10 分钟）、紧急事件到场（5 分钟）、"
               "答复（当日，重要投诉 2 个工作日）、回访（处理后 3 日内）",
    "breaches_by_handler": "本月投诉的超时记录（每单每个时限每轮一次，升级不重复计），按记录时的责任人和时限汇总",
    "surveyed_households": "本月满意度调查（电话或走访）的户数，每户每月一条，目标 ≥ 20 户",
    "survey_satisfaction_rate": "（满意 + 基本满意）÷ 调查户数，目标 ≥ 96%",
    "survey_satisfaction_degree": "平均得分 ÷ 100，满意 100 分、基本满意 60 分、不满意 0 分（行业常用赋分），目标 ≥ 75%",
    "opinions": "有意见或建议的调查记录；每条意见都须记录答复",
}


def category_label(category: str) -> str:
    """The complaint category's short label (环境卫生, 紧急事件 ...)."""
    spec = COMPLAINT_CATEGORIES.get(category)
    return spec.label.split("（")[0] if spec else category


def definitions_text() -> str:
    """The definitions as one Chinese text (the endpoint's description)."""
    return "\n".join(f"- {LABELS.get(key, key)}（{key}）：{text}" for key, text in DEFINITIONS.items())


# -- rows ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ComplaintRow:
    """One complaint as the report needs it."""
    id: int
    number: str
    category: str
    status: str
    created_at: datetime
    handler_name: str | None = None
    emergency: bool = False
    handler_due_at: datetime | None = None
    accepted_at: datetime | None = None
    onsite_due_at: datetime | None = None
    arrived_at: datetime | None = None
    reply_due_at: datetime | None = None
    replied_at: datetime | None = None
    callback_due_at: datetime | None = None
    callback_at: datetime | None = None
    needs_callback: bool = False
    rating: int | None = None
    callback_result: str | None = None  # the latest callback's result

    @property
    def counted(self) -> bool:
        return self.status != "cancelled"

    @property
    def closed(self) -> bool:
        return self.status in HANDLED

    @property
    def called_back(self) -> bool:
        """Called back since the latest handling (a reopened complaint needs a new call)."""
        return self.callback_at is not None and not self.needs_callback

    @property
    def judged(self) -> bool:
        return self.rating is not None or self.callback_result is not None

    @property
    def satisfied(self) -> bool:
        if self.rating is not None:
            return self.rating >= SATISFIED_RATING
        return self.callback_result == "satisfied"

    def clock(self, name: str, now: datetime) -> str | None:
        """met | missed | pending, or None when the clock does not apply (no deadline, cancelled)."""
        due, done = {
            "handler": (self.handler_due_at, self.accepted_at),
            "onsite": (self.onsite_due_at if self.emergency else None, self.arrived_at),
            "reply": (self.reply_due_at, self.replied_at),
            "followup": (self.callback_due_at, self.callback_at),
        }[name]
        if due is None or not self.counted:
            return None
        if done is not None and as_utc(done) <= as_utc(due):
            return "met"
        if as_utc(due) < as_utc(now):
            return "missed"  # done late, or not done and the deadline has passed
        return "pending"


@dataclass(frozen=True)
class BreachRow:
    """One recorded missed deadline (an sla_breaches row) of a complaint."""
    order_id: int
    clock: str
    round: int
    level: int
    responsible_id: int | None
    responsible_name: str | None


@dataclass(frozen=True)
class SurveyRow:
    answer: str
    has_opinion: bool = False
    responded: bool = False


# -- numbers ---------------------------------------------------------------------------------------------

def metric(value, target=None, *, numerator: int | None = None, denominator: int | None = None) -> dict:
    """{value, target, met, numerator, denominator}; met is None without a value or a target."""
    met = None if value is None or target is None else value >= target
    return {"value": value, "target": target, "met": met, "numerator": numerator, "denominator": denominator}


def rate_metric(numerator: int, denominator: int, target: float | None = None) -> dict:
    return metric(ratio(numerator, denominator), target, numerator=numerator, denominator=denominator)


def survey_stats(surveys: Iterable[SurveyRow]) -> dict:
    """Counts per answer, the survey rate and degree with their targets, opinions and unanswered ones."""
    surveys = list(surveys)
    counts = {answer: 0 for answer in SURVEY_ANSWERS}
    for s in surveys:
        counts[s.answer] = counts.get(s.answer, 0) + 1
    surveyed = len(surveys)
    pleased = counts["satisfied"] + counts["basically_satisfied"]
    score = sum(SURVEY_SCORES.get(s.answer, 0) for s in surveys)
    opinions = [s for s in surveys if s.has_opinion]
    return {
        "surveyed_households": metric(surveyed, TARGETS["surveyed_households"]),
        "answers": [{"answer": a, "label": SURVEY_ANSWERS.get(a, a), "count": n} for a, n in counts.items()],
        "satisfaction_rate": rate_metric(pleased, surveyed, TARGETS["survey_satisfaction_rate"]),
        # mean of 0..100 scores, as a fraction: sum / (100 x surveyed)
        "satisfaction_degree": metric(ratio(score, 100 * surveyed), TARGETS["survey_satisfaction_degree"],
                                      numerator=score, denominator=100 * surveyed),
        "opinions": len(opinions),
        "unanswered_opinions": len([s for s in opinions if not s.responded]),
    }


def _breaches_by_handler(breaches: Iterable[BreachRow], counted_ids: set[int]) -> list[dict]:
    """One missed deadline per (order, clock, round), attributed as recorded at its lowest level."""
    first: dict[tuple, BreachRow] = {}
    for b in sorted(breaches, key=lambda b: b.level):
        if b.order_id in counted_ids:
            first.setdefault((b.order_id, b.clock, b.round), b)
    people: dict[int | None, dict] = {}
    for b in first.values():
        entry = people.setdefault(b.responsible_id, {
            "staff_id": b.responsible_id, "name": b.responsible_name or "未指定", "total": 0,
            "clocks": {clock: 0 for clock in CLOCKS}})
        clock = BREACH_CLOCKS.get(b.clock, b.clock)
        entry["clocks"][clock] = entry["clocks"].get(clock, 0) + 1
        entry["total"] += 1
    return sorted(people.values(), key=lambda e: (-e["total"], e["name"], e["staff_id"] or 0))


def complaint_metrics(complaints: Iterable[ComplaintRow], breaches: Iterable[BreachRow],
                      surveys: Iterable[SurveyRow], now: datetime) -> dict:
    """Every figure of the monthly complaints report (definitions: the module docstring)."""
    rows = [c for c in complaints if c.counted]
    closed = [c for c in rows if c.closed]
    judged = [c for c in rows if c.judged]
    satisfied = [c for c in judged if c.satisfied]
    called = [c for c in closed if c.called_back]
    on_time = []
    for clock, label in CLOCKS.items():
        states = [c.clock(clock, now) for c in rows]
        met, missed = states.count("met"), states.count("missed")
        on_time.append({"clock": clock, "label": label, "due": met + missed, "met": met, "missed": missed,
                        "pending": states.count("pending"), "rate": ratio(met, met + missed)})
    survey = survey_stats(surveys)
    out = {
        "received": len(rows),
        "closed": len(closed),
        "closure_rate": rate_metric(len(closed), len(rows), TARGETS["closure_rate"]),
        "satisfaction": rate_metric(len(satisfied), len(judged), TARGETS["satisfaction"]),
        "callback_rate": rate_metric(len(called), len(closed), TARGETS["callback_rate"]),
        "on_time": on_time,
        "breaches_by_handler": _breaches_by_handler(breaches, {c.id for c in rows}),
        "surveys": survey,
    }
    out["summary"] = _summary(out)
    return out


def _summary(out: dict) -> list[dict]:
    """The figures as table rows (key, label, value, target, met, kind): the 汇总 sheet and clients' tables."""
    survey = out["surveys"]
    rows = [
        ("received", metric(out["received"]), "count"),
        ("closed", metric(out["closed"]), "count"),
        ("closure_rate", out["closure_rate"], "rate"),
        ("satisfaction", out["satisfaction"], "rate"),
        ("callback_rate", out["callback_rate"], "rate"),
        *((f"on_time_{c['clock']}", rate_metric(c["met"], c["due"]), "rate") for c in out["on_time"]),
        ("surveyed_households", survey["surveyed_households"], "count"),
        ("survey_satisfaction_rate", survey["satisfaction_rate"], "rate"),
        ("survey_satisfaction_degree", survey["satisfaction_degree"], "rate"),
    ]
    return [{"key": key, "label": LABELS[key], "kind": kind, "value": m["value"], "target": m["target"],
             "met": m["met"]} for key, m, kind in rows]
