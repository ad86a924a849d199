"""Satisfaction surveys and common problems.

Surveys (满意度调查): at least 20 households a month are asked (phone or visit) how satisfied they are;
staff record each answer, one per house per month, and every opinion (comments) gets a recorded response.

Common problems (同类投诉多发): detected by a periodic job (`detect_common_problems`, every few minutes),
not in the complaint's own request, so a complaint is never refused or slowed by this bookkeeping:

- the complaints considered: not cancelled, not yet part of a problem, created in the last
  2 x COMMON_PROBLEM_WINDOW_DAYS, grouped by (building of the house, complaint category);
- a group with an open problem joins it: complaints from the problem's first one on join the open
  problem however long it stays open (older ones left out of the cluster never do);
- otherwise a problem is opened when COMMON_PROBLEM_THRESHOLD of them fall within
  COMMON_PROBLEM_WINDOW_DAYS of each other; it takes the complaints from the first of those on;
- at most one open problem per (building, category): a partial unique index, so two overlapping runs
  cannot open two;
- on opening, the managers get an official-account alert; the answer is due ANSWER_DAYS (a week) later.

A problem is answered when a notice is linked to it (an existing notice, or one published from the
problem, scoped to its building unless told otherwise). `remind_overdue_problems` (periodic) reminds
the managers once per problem when the answer is overdue (`reminded_at` records it).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from ..accounts.models import House, Staff
from ..auth import access
from ..errors import Conflict, ValidationFailed
from ..extensions import db
from ..notices import services as notices
from ..notices.models import Notice
from ..reporting import month_of
from ..timeutil import as_utc, utcnow
from ..wechat import messages
from ..wechat.services import notify_staff
from ..workorders.models import WorkOrder
from ..workorders.notify import managers
from . import metrics
from .models import CommonProblem, CommonProblemComplaint, SatisfactionSurvey

ANSWER_DAYS = 7  # a common problem is answered with a written notice within one week (server/README.md)
PROBLEM_STATUSES = {"open": "待答复", "answered": "已答复"}
DETECTED_ALERT = "同类投诉多发，请一周内发布通知答复"
OVERDUE_ALERT = "同类投诉超一周未答复，请尽快发布通知"


# -- surveys ---------------------------------------------------------------------------------------------

def record_survey(staff: Staff, data: dict) -> SatisfactionSurvey:
    """One household's answer; one record per house per month (the local month of `surveyed_at`)."""
    access.require(staff, "surveys")
    house = db.session.get(House, data["house_id"])
    if house is None or house.community_id != staff.community_id:
        raise ValidationFailed("房屋不存在", fields={"house_id": ["房屋不存在"]})
    now = utcnow()
    surveyed_at = data.get("surveyed_at") or now
    if as_utc(surveyed_at) > now + timedelta(minutes=5):
        raise ValidationFailed("调查时间不能晚于现在", fields={"surveyed_at": ["调查时间不能晚于现在"]})
    month = month_of(surveyed_at, staff.community.timezone)
    taken = db.session.scalar(select(SatisfactionSurvey.id).where(
        SatisfactionSurvey.house_id == house.id, SatisfactionSurvey.month == month))
    if taken:
        raise Conflict(f"{house.label} 本月（{month}）已有调查记录", code="already_surveyed")
    survey = SatisfactionSurvey(
        community_id=staff.community_id, house=house, month=month, method=data["method"], answer=data["answer"],
        comments=(data.get("comments") or "").strip(), respondent_name=(data.get("respondent_name") or "").strip(),
        respondent_phone=data.get("respondent_phone") or "", surveyed_by_id=staff.id, surveyed_at=surveyed_at,
        created_at=now)
    db.session.add(survey)
    db.session.flush()  # a concurrent duplicate fails here: 409 from the unique constraint
    return survey


def surveys_query(staff: Staff, month: str | None, unanswered: bool | None, answer: str | None):
    access.require(staff, "surveys")
    stmt = (select(SatisfactionSurvey).where(SatisfactionSurvey.community_id == staff.community_id)
            .order_by(SatisfactionSurvey.surveyed_at.desc(), SatisfactionSurvey.id.desc()))
    if month:
        stmt = stmt.where(SatisfactionSurvey.month == month)
    if answer:
        stmt = stmt.where(SatisfactionSurvey.answer == answer)
    has_opinion = SatisfactionSurvey.comments != ""
    if unanswered is True:
        stmt = stmt.where(has_opinion, SatisfactionSurvey.responded_at.is_(None))
    elif unanswered is False:
        stmt = stmt.where(~(has_opinion & SatisfactionSurvey.responded_at.is_(None)))
    return stmt


def staff_survey(staff: Staff, survey_id: int) -> SatisfactionSurvey:
    access.require(staff, "surveys")
    return access.scoped(SatisfactionSurvey, survey_id, staff, "未找到该调查记录")


def respond(staff: Staff, survey_id: int, response: str) -> SatisfactionSurvey:
    """The service center's answer to the household's opinion (required for every record with comments)."""
    survey = staff_survey(staff, survey_id)
    response = response.strip()
    if not response:
        raise ValidationFailed(fields={"response": ["必填"]})
    if not survey.has_opinion:
        raise Conflict("该户没有提出意见，无需答复", code="no_opinion")
    if survey.responded_at is not None:
        raise Conflict("该意见已答复", code="already_responded")
    survey.response, survey.responded_by_id, survey.responded_at = response, staff.id, utcnow()
    return survey


def survey_summary(staff: Staff, month: str) -> dict:
    access.require(staff, "surveys")
    rows = db.session.execute(select(
        SatisfactionSurvey.answer, SatisfactionSurvey.comments, SatisfactionSurvey.responded_at,
    ).where(SatisfactionSurvey.community_id == staff.community_id, SatisfactionSurvey.month == month)).all()
    stats = metrics.survey_stats(metrics.SurveyRow(answer=a, has_opinion=bool((c or "").strip()),
                                                   responded=r is not None) for a, c, r in rows)
    return {"month": month, **stats, "all_opinions_answered": stats["unanswered_opinions"] == 0}


# -- common problems: detection (periodic job) -------------------------------------------------------------

def _settings() -> tuple[int, timedelta]:
    cfg = current_app.config
    return max(2, cfg["COMMON_PROBLEM_THRESHOLD"]), timedelta(days=cfg["COMMON_PROBLEM_WINDOW_DAYS"])


def first_cluster(times: list[datetime], threshold: int, window: timedelta) -> int | None:
    """Index of the first of `threshold` sorted moments within `window` of each other (None: no cluster)."""
    for start in range(len(times) - threshold + 1):
        if as_utc(times[start + threshold - 1]) - as_utc(times[start]) <= window:
            return start
    return None


def _candidates(now: datetime, window: timedelta) -> dict[tuple[int, int, str], list[WorkOrder]]:
    linked = exists().where(CommonProblemComplaint.order_id == WorkOrder.id)
    rows = db.session.execute(
        select(WorkOrder, House.building_id).join(House, House.id == WorkOrder.house_id)
        .where(WorkOrder.kind == "complaint", WorkOrder.status != "cancelled", ~linked,
               WorkOrder.created_at >= now - 2 * window, WorkOrder.created_at <= now)
        .order_by(WorkOrder.created_at, WorkOrder.id)).all()
    groups: dict[tuple[int, int, str], list[WorkOrder]] = defaultdict(list)
    for order, building_id in rows:
        groups[(order.community_id, building_id, order.category)].append(order)
    return groups


def _join(problem: CommonProblem, orders: list[WorkOrder]) -> None:
    for order in orders:
        problem.complaints.append(CommonProblemComplaint(order_id=order.id))
    problem.complaint_count += len(orders)
    problem.first_complaint_at = min([problem.first_complaint_at, *(o.created_at for o in orders)])
    problem.last_complaint_at = max([problem.last_complaint_at, *(o.created_at for o in orders)])


def _alert_managers(problem: CommonProblem, order: WorkOrder, what: str, dedupe: str) -> None:
    """Official-account alert (the work-order alert template) naming the building, category and count;
    it opens the latest complaint."""
    where = f"{problem.building.code}栋·{metrics.category_label(problem.category)}投诉{problem.complaint_count}件"
    for staff in managers(problem.community_id):
        notify_staff(staff, messages.order_alert(number=order.number, what=what, address=where, at=utcnow()),
                     page=f"pages/staff/orders/detail?id={order.id}", dedupe_key=f"{dedupe}:{staff.id}", queue="high")


def detect_common_problems() -> dict:
    """Periodic job: open common problems and add new complaints to open ones (see the module docstring)."""
    threshold, window = _settings()
    now = utcnow()
    opened = joined = 0
    for (community_id, building_id, category), orders in _candidates(now, window).items():
        problem = db.session.scalar(select(CommonProblem).where(
            CommonProblem.building_id == building_id, CommonProblem.category == category,
            CommonProblem.status == "open"))
        if problem is not None:
            later = [o for o in orders if as_utc(o.created_at) >= as_utc(problem.first_complaint_at)]
            if later:
                _join(problem, later)
                joined += len(later)
            continue
        start = first_cluster([o.created_at for o in orders], threshold, window)
        if start is None:
            continue
        members = orders[start:]
        try:
            with db.session.begin_nested():
                problem = CommonProblem(
                    community_id=community_id, building_id=building_id, category=category, status="open",
                    complaint_count=0, first_complaint_at=members[0].created_at,
                    last_complaint_at=members[-1].created_at, detected_at=now,
                    answer_due_at=now + timedelta(days=ANSWER_DAYS))
                db.session.add(problem)
                _join(problem, members)
                db.session.flush()
        except IntegrityError:  # another run opened it (or took these complaints) first
            continue
        opened += 1
        _alert_managers(problem, members[-1], DETECTED_ALERT, f"common-problem:{problem.id}")
    db.session.commit()
    return {"opened": opened, "joined": joined}


def remind_overdue_problems() -> int:
    """Periodic job: an open problem past its answer deadline reminds the managers, once (reminded_at)."""
    now = utcnow()
    due = db.session.scalars(select(CommonProblem).where(
        CommonProblem.status == "open", CommonProblem.answer_due_at < now, CommonProblem.reminded_at.is_(None))
        .with_for_update(skip_locked=True)).all()
    count = 0
    for problem in due:
        problem.reminded_at = now
        latest = db.session.scalar(
            select(WorkOrder).join(CommonProblemComplaint, CommonProblemComplaint.order_id == WorkOrder.id)
            .where(CommonProblemComplaint.problem_id == problem.id)
            .order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc()).limit(1))
        _alert_managers(problem, latest, OVERDUE_ALERT, f"common-problem-overdue:{problem.id}")
        count += 1
    db.session.commit()
    return count


# -- common problems: staff --------------------------------------------------------------------------------

def problems_query(staff: Staff, status: str | None):
    access.require(staff, "common_problems")
    stmt = (select(CommonProblem).where(CommonProblem.community_id == staff.community_id)
            .order_by(CommonProblem.detected_at.desc(), CommonProblem.id.desc()))
    if status == "overdue":
        stmt = stmt.where(CommonProblem.status == "open", CommonProblem.answer_due_at < utcnow())
    elif status:
        stmt = stmt.where(CommonProblem.status == status)
    return stmt


def staff_problem(staff: Staff, problem_id: int) -> CommonProblem:
    access.require(staff, "common_problems")
    return access.scoped(CommonProblem, problem_id, staff, "未找到该同类投诉")


def notice_draft(problem: CommonProblem) -> dict | None:
    """The notice answering an open problem, as a starting point for the manager (who fills in the cause,
    the measures and the dates): addressed to the problem's building."""
    if problem.status != "open":
        return None
    building, category = problem.building.name, metrics.category_label(problem.category)
    return {
        "kind": "common_problem",
        "title": f"关于{building}{category}问题的答复",
        "content": (f"近期{building}多位业主反映{category}方面的问题（共 {problem.complaint_count} 件投诉），"
                    "服务中心高度重视，现将情况与处理措施说明如下：\n"
                    "一、问题原因：\n二、处理措施：\n三、预计完成时间：\n"
                    "如有疑问，请联系服务中心。感谢各位业主的理解与支持！"),
        "scope": {"buildings": [problem.building.code]},
    }


def answer_with_notice(staff: Staff, problem_id: int, data: dict) -> CommonProblem:
    """Link a notice to the problem (answered): an existing notice (`notice_id`), or a new one published
    now (title, content...; scoped to the problem's building unless `scope` is given, null: everyone)."""
    problem = staff_problem(staff, problem_id)
    access.require(staff, "publish_notices")
    if problem.status != "open":
        raise Conflict("该问题已发布通知答复", code="already_answered")
    if data.get("notice_id") is not None:
        notice = access.scoped(Notice, data["notice_id"], staff, "未找到该通知")
        if notice.common_problem_id is not None and notice.common_problem_id != problem.id:
            raise Conflict("该通知已用于答复另一个问题", code="notice_already_linked")
        notice.common_problem_id = problem.id
    else:
        fields = {k: data[k] for k in ("title", "content", "kind", "starts_at", "ends_at") if k in data}
        fields["scope"] = data.get("scope", {"buildings": [problem.building.code]})  # null: everyone
        notice = notices.publish(staff, fields, common_problem_id=problem.id).notice
    problem.notice = notice
    problem.status, problem.answered_at, problem.answered_by_id = "answered", utcnow(), staff.id
    return problem
