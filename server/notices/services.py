"""Notices: publishing (staff), reading (owners), and pushing them to the affected owners in batches.

Publishing writes the notice and ONE outbox row (`jobs.notices.fan_out`). That job computes the recipients
(distinct owners with an approved membership on an affected house) once, under a row lock on the notice,
and splits them into `send_batch` jobs of NOTICE_BATCH_SIZE owners on the `low` queue, so every worker takes
a share. A batch creates its Message rows, spends credits and sends concurrently
(server.wechat.services.send_subscribe_batch); transient failures leave messages pending and make the batch
job fail, so the outbox retries it and the retry sends only those.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from flask import current_app
from sqlalchemy import Select, and_, exists, false, func, literal, or_, select, update

from .. import outbox
from ..accounts.models import Building, House, HouseMembership, Owner, Staff
from ..accounts.queries import APPROVED, approved_house_ids_query
from ..auth import access
from ..db_types import UTCDateTime
from ..errors import NotFound, ValidationFailed
from ..extensions import db
from ..pagination import paginate
from ..timeutil import utcnow
from ..wechat import messages
from ..wechat import services as wechat
from ..wechat.messages import Content
from ..wechat.values import ELLIPSIS
from .models import Notice, NoticeBuilding, NoticeRead

KINDS = {
    "general": "通知",
    "water_cut": "停水通知",
    "power_cut": "停电通知",
    "reminder": "温馨提示",
    "common_problem": "问题答复",
}
WHOLE_COMMUNITY = "全体住户"
SUMMARY_LENGTH = 60


# -- pure helpers -------------------------------------------------------------------------------------

def summary(content: str, limit: int = SUMMARY_LENGTH) -> str:
    """The first `limit` characters of the content on one line (whitespace collapsed)."""
    text = re.sub(r"\s+", " ", content or "").strip()
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def scope_label(scope: dict | None) -> str:
    if not scope:
        return WHOLE_COMMUNITY
    return "、".join(f"{code}栋" for code in scope.get("buildings", []))


def _insert_ignoring_duplicates(table):
    """INSERT ... ON CONFLICT DO NOTHING (PostgreSQL and SQLite): marking read twice is not an error."""
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table).on_conflict_do_nothing()


class NoticeView:
    """A notice plus what one reader needs next to it (read state, the publish counts); dumped by the
    schemas like the notice itself."""

    def __init__(self, notice: Notice, **extra: Any) -> None:
        self.notice = notice
        self.__dict__.update(extra)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.notice, name)


# -- staff ----------------------------------------------------------------------------------------------

def push_content(notice: Notice) -> Content:
    """The subscribe message a notice pushes: its title, the start of its content, when it was published."""
    return messages.notice(title=notice.title, summary=summary(notice.content), published_at=notice.published_at)


def _draft(staff: Staff, data: dict) -> tuple[Notice, dict[str, int] | None]:
    """The notice `data` describes, checked, not yet stored; and its buildings (code -> id; None: everyone)."""
    access.require(staff, "publish_notices")
    title, content = data["title"].strip(), data["content"].strip()
    blank = {name: ["必填"] for name, value in (("title", title), ("content", content)) if not value}
    if blank:
        raise ValidationFailed(fields=blank)
    buildings = _scope_buildings(staff.community_id, data.get("scope"))
    notice = Notice(community_id=staff.community_id, kind=data["kind"], title=title, content=content,
                    scope={"buildings": list(buildings)} if buildings is not None else None,
                    starts_at=data.get("starts_at"), ends_at=data.get("ends_at"), published_at=utcnow())
    return notice, buildings


def publish(staff: Staff, data: dict, *, common_problem_id: int | None = None) -> NoticeView:
    """Publish a notice to the staff member's community (or some of its buildings) and queue its push."""
    notice, buildings = _draft(staff, data)
    notice.common_problem_id, notice.published_by = common_problem_id, staff
    notice.buildings = [NoticeBuilding(building_id=b) for b in (buildings or {}).values()]
    db.session.add(notice)
    db.session.flush()
    affected = _affected(_in_scope(notice))
    notice.push_recipients = affected["owners"]  # the fan-out job records the final number
    outbox.add("jobs.notices.fan_out", queue="default", notice_id=notice.id)
    return NoticeView(notice, affected=affected, reads={"owners": 0, "households": 0})


def preview(staff: Staff, data: dict) -> NoticeView:
    """What publishing `data` now would do, without storing anything: the notice as owners will read it, the
    subscribe message as their WeChat will show it (shaped and cut exactly as it will be sent), and whom it
    reaches."""
    notice, buildings = _draft(staff, data)
    return NoticeView(notice, message=wechat.subscribe_preview(push_content(notice)),
                      affected=_affected(_houses_in(staff.community_id,
                                                    None if buildings is None else buildings.values())))


def _scope_buildings(community_id: int, scope: dict | None) -> dict[str, int] | None:
    """Building code -> id for a scoped notice (None: the whole community); unknown codes are a 422."""
    if scope is None:
        return None
    codes = list(dict.fromkeys(code.strip() for code in scope["buildings"]))
    known = dict(db.session.execute(select(Building.code, Building.id).where(
        Building.community_id == community_id, Building.code.in_(codes))).all())
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise ValidationFailed(f"未知的楼栋：{'、'.join(unknown)}",
                               fields={"scope.buildings": [f"未知的楼栋：{'、'.join(unknown)}"]})
    return {code: known[code] for code in codes}


def _houses_in(community_id: int, building_ids: Iterable[int] | Select | None):
    """Condition on House: the houses of a community, or of some of its buildings (ids or a subquery)."""
    cond = House.community_id == community_id
    if building_ids is not None:
        cond = and_(cond, House.building_id.in_(
            building_ids if isinstance(building_ids, Select) else list(building_ids)))
    return cond


def _in_scope(notice: Notice):
    """Condition on House: the houses a notice is for."""
    return _houses_in(notice.community_id, None if notice.scope is None else
                      select(NoticeBuilding.building_id).where(NoticeBuilding.notice_id == notice.id))


def _affected(in_scope) -> dict:
    """Houses in scope, those with bound residents (households), the residents, and those of them a push
    reaches now (holding a credit for the notice message)."""
    houses = db.session.scalar(select(func.count()).select_from(House).where(in_scope))
    consenting = HouseMembership.owner_id.in_(wechat.owners_with_credit("notice"))
    households, owners, with_consent = db.session.execute(
        select(func.count(HouseMembership.house_id.distinct()), func.count(HouseMembership.owner_id.distinct()),
               func.count(HouseMembership.owner_id.distinct()).filter(consenting))
        .join(House, House.id == HouseMembership.house_id)
        .where(APPROVED, in_scope)
    ).one()
    return {"houses": houses, "households": households, "owners": owners, "with_consent": with_consent}


def read_counts(notices: list[Notice]) -> dict[int, dict]:
    """Per notice: the owners who read it, and the households (houses in its scope) where someone bound to
    the house read it."""
    ids = [n.id for n in notices]
    if not ids:
        return {}
    owners = dict(db.session.execute(select(NoticeRead.notice_id, func.count()).where(
        NoticeRead.notice_id.in_(ids)).group_by(NoticeRead.notice_id)).all())
    in_scope = and_(House.community_id == Notice.community_id, or_(
        Notice.scope.is_(None),
        House.building_id.in_(select(NoticeBuilding.building_id).where(NoticeBuilding.notice_id == Notice.id))))
    households = dict(db.session.execute(
        select(NoticeRead.notice_id, func.count(House.id.distinct()))
        .join(Notice, Notice.id == NoticeRead.notice_id)
        .join(HouseMembership, HouseMembership.owner_id == NoticeRead.owner_id)
        .join(House, House.id == HouseMembership.house_id)
        .where(NoticeRead.notice_id.in_(ids), APPROVED, in_scope)
        .group_by(NoticeRead.notice_id)).all())
    return {i: {"owners": owners.get(i, 0), "households": households.get(i, 0)} for i in ids}


def staff_notices_page(staff: Staff, page: int, per_page: int) -> dict:
    """The community's notices, newest first, with their push and read figures."""
    data = paginate(select(Notice).where(Notice.community_id == staff.community_id)
                    .order_by(Notice.published_at.desc(), Notice.id.desc()), page, per_page)
    reads = read_counts(data["items"])
    data["items"] = [NoticeView(n, reads=reads[n.id]) for n in data["items"]]
    return data


def staff_notice(staff: Staff, notice_id: int) -> NoticeView:
    """One notice of the community with its push figures, whom it is for now, and who read it."""
    notice = access.scoped(Notice, notice_id, staff, "未找到该通知")
    return NoticeView(notice, affected=_affected(_in_scope(notice)), reads=read_counts([notice])[notice.id])


# -- owners ---------------------------------------------------------------------------------------------

def _addressed_to(owner: Owner):
    """Condition on Notice: notices for the communities or buildings of the owner's approved houses."""
    places = db.session.execute(
        select(House.community_id, House.building_id)
        .where(House.id.in_(approved_house_ids_query(owner.id)))
    ).all()
    if not places:
        return false()
    communities = {c for c, _ in places}
    buildings = {b for _, b in places}
    return or_(
        and_(Notice.community_id.in_(communities), Notice.scope.is_(None)),
        Notice.id.in_(select(NoticeBuilding.notice_id).where(NoticeBuilding.building_id.in_(buildings))),
    )


def _unread(owner: Owner):
    return ~exists().where(NoticeRead.notice_id == Notice.id, NoticeRead.owner_id == owner.id)


def owner_page(owner: Owner, page: int, per_page: int) -> dict:
    """My notices, newest first, each with its read state, and how many are unread."""
    addressed = _addressed_to(owner)
    stmt = select(Notice).where(addressed)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    notices = db.session.scalars(stmt.order_by(Notice.published_at.desc(), Notice.id.desc())
                                 .limit(per_page).offset((page - 1) * per_page)).all()
    read_at = dict(db.session.execute(select(NoticeRead.notice_id, NoticeRead.read_at).where(
        NoticeRead.owner_id == owner.id, NoticeRead.notice_id.in_([n.id for n in notices]))).all())
    unread = db.session.scalar(select(func.count()).select_from(Notice).where(addressed, _unread(owner)))
    return {"items": [NoticeView(n, read=n.id in read_at, read_at=read_at.get(n.id)) for n in notices],
            "total": total, "page": page, "per_page": per_page, "unread_count": unread}


def read_notice(owner: Owner, notice_id: int) -> NoticeView:
    """One of my notices (404 for any other), marked read."""
    notice = db.session.scalar(select(Notice).where(Notice.id == notice_id, _addressed_to(owner)))
    if notice is None:
        raise NotFound("未找到该通知")
    db.session.execute(_insert_ignoring_duplicates(NoticeRead.__table__).values(
        notice_id=notice.id, owner_id=owner.id, read_at=utcnow()))
    read_at = db.session.scalar(select(NoticeRead.read_at).where(NoticeRead.notice_id == notice.id,
                                                                 NoticeRead.owner_id == owner.id))
    return NoticeView(notice, read=True, read_at=read_at)


def read_all(owner: Owner) -> dict:
    """Mark every notice addressed to me read."""
    now = utcnow()
    unread = select(Notice.id, literal(owner.id), literal(now, UTCDateTime())).where(
        _addressed_to(owner), _unread(owner))
    table = NoticeRead.__table__
    marked = db.session.execute(_insert_ignoring_duplicates(table).from_select(
        ["notice_id", "owner_id", "read_at"], unread).returning(table.c.notice_id)).all()
    return {"marked": len(marked), "unread_count": 0}


# -- pushing (called by jobs) ----------------------------------------------------------------------------

class BatchIncomplete(Exception):
    """Some sends of a batch failed transiently; the outbox retries the batch (only those are sent again)."""


def recipients(notice: Notice) -> list[int]:
    """Distinct owners with an approved membership on a house the notice is for."""
    return list(db.session.scalars(
        select(HouseMembership.owner_id).distinct()
        .join(House, House.id == HouseMembership.house_id)
        .where(APPROVED, _in_scope(notice))
        .order_by(HouseMembership.owner_id)
    ))


def fan_out(notice_id: int) -> str:
    """Split the recipients into send_batch jobs. Safe to run twice: the notice row is locked and
    `fanned_out_at` is set in the same transaction as the batch rows are written."""
    notice = db.session.get(Notice, notice_id, with_for_update=True)
    if notice is None:
        return "missing"
    if notice.fanned_out_at is not None:
        db.session.rollback()
        return "already"
    owner_ids = recipients(notice)
    size = max(1, current_app.config["NOTICE_BATCH_SIZE"])
    # The batches go through RQ so that every worker takes a share, instead of running one after another
    # as this job's follow-ups: collect their ids here, commit, then push them.
    with outbox.collecting_follow_ups() as batches:
        for start in range(0, len(owner_ids), size):
            outbox.add("jobs.notices.send_batch", queue="low", notice_id=notice.id,
                       owner_ids=owner_ids[start:start + size])
    notice.fanned_out_at = utcnow()
    notice.push_recipients = len(owner_ids)
    db.session.commit()
    outbox.push_ids(batches)  # if Redis is down now, the sweeper pushes them later
    return f"{len(batches)} batch(es)"


def send_batch(notice_id: int, owner_ids: list[int]) -> str:
    """Push the notice to these owners (one Message each). Safe to run twice: see send_subscribe_batch."""
    notice = db.session.get(Notice, notice_id)
    if notice is None:
        return "missing"
    openids = dict(db.session.execute(select(Owner.id, Owner.openid).where(Owner.id.in_(owner_ids))).all())

    def tally(change: wechat.BatchOutcome) -> None:
        if change.sent or change.skipped or change.failed:
            db.session.execute(update(Notice).where(Notice.id == notice_id).values(
                push_sent=Notice.push_sent + change.sent, push_skipped=Notice.push_skipped + change.skipped,
                push_failed=Notice.push_failed + change.failed).execution_options(synchronize_session=False))

    cfg = current_app.config
    outcome = wechat.send_subscribe_batch(
        push_content(notice), openids,
        dedupe_prefix=f"notice:{notice.id}:", community_id=notice.community_id, page=f"pages/notices/detail?id={notice.id}",
        threads=cfg["NOTICE_SEND_THREADS"], tally=tally)
    if outcome.pending:
        raise BatchIncomplete(f"notice {notice_id}: {outcome.pending} of {len(owner_ids)} send(s) failed "
                              f"transiently; retrying those")
    return f"sent {outcome.sent}, skipped {outcome.skipped}, failed {outcome.failed}"
