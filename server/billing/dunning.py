"""Arrears and dunning (欠费与催收).

- The arrears list: per house with unpaid bills past their due date, with its owners, what is owed, how long,
  the reminders sent and the last contact.
- Contacts staff record (phone, visit, letter), with a promised payment date.
- Reminders (a periodic job, daily): one subscribe message per house, listing the total, to each approved
  owner-role member of the house. Only with consent: `notify_owner` spends a credit, and an owner without one
  gets a message recorded as skipped and nothing sent. A bill is reminded once when it falls due within
  DUNNING_BEFORE_DAYS days, then every DUNNING_EVERY_DAYS days while overdue (the first on the day after its
  due date), at most DUNNING_MAX_REMINDERS times in all. The schedule advances whether or not an owner had a
  credit (`Bill.reminder_stage`: reminders made); a DunningContact(method="message") is recorded when at
  least one message was queued. Running twice a day sends nothing twice (the bills say they were reminded
  today; the messages carry dedupe keys dunning:<house>:<date>:<owner>).
"""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from ..accounts.queries import house_owners
from ..accounts.models import Building, Community, House, RosterEntry, Staff
from ..auth import access
from ..extensions import db
from ..money import yuan
from ..pagination import paginate
from ..schemas import mask_phone
from ..timeutil import local_today, to_local, utcnow
from ..wechat import messages
from ..wechat.services import notify_owner
from .models import Bill, DunningContact

log = logging.getLogger(__name__)

CONTACT_METHODS = {"phone": "电话", "visit": "上门", "letter": "催缴函", "message": "订阅消息提醒"}
STAFF_CONTACT_METHODS = ("phone", "visit", "letter")


def _house(staff: Staff, house_id: int) -> House:
    return access.scoped(House, house_id, staff, "未找到该房屋")


# -- the arrears list --------------------------------------------------------------------------------------------

def arrears_page(staff: Staff, *, building: str | None, min_days: int, page: int, per_page: int) -> dict:
    """Houses with overdue unpaid bills, the longest overdue first."""
    access.require(staff, "view_bills")
    today = local_today(staff.community.timezone)
    oldest = func.min(Bill.due_date)
    stmt = (select(Bill.house_id, func.sum(Bill.amount_fen), oldest, func.count(Bill.id), func.min(Bill.created_at))
            .join(House, House.id == Bill.house_id).join(Building, Building.id == House.building_id)
            .where(Bill.community_id == staff.community_id, Bill.status == "unpaid", Bill.due_date < today)
            .group_by(Bill.house_id).order_by(oldest, Bill.house_id))
    if building:
        stmt = stmt.where(Building.code == building)
    if min_days:
        stmt = stmt.having(oldest <= today - timedelta(days=min_days))
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    house_ids = [r[0] for r in rows]
    houses = {h.id: h for h in db.session.scalars(select(House).where(House.id.in_(house_ids)))}
    owners = _owners(house_ids)
    last = _last_contacts(house_ids)
    items = []
    for house_id, owed, oldest_due, count, first_created in rows:
        items.append({
            "house": houses[house_id], "owners": owners.get(house_id, []), "overdue_fen": int(owed),
            "oldest_due_date": oldest_due, "days_overdue": (today - oldest_due).days, "bills": count,
            "reminders_sent": _reminders_sent(house_id, first_created), "last_contact": last.get(house_id),
        })
    return {"items": items, "total": total, "page": page, "per_page": per_page}


def _owners(house_ids: list[int]) -> dict[int, list[dict]]:
    """Owners of each house: approved owner-role members (bound in the mini-program), then roster owners not
    bound yet. Phones masked."""
    out: dict[int, list[dict]] = {h: [] for h in house_ids}
    seen: dict[int, set[str]] = {h: set() for h in house_ids}
    for membership in db.session.scalars(house_owners(house_ids)):
        house_id, name, phone = membership.house_id, membership.name, membership.phone
        out[house_id].append({"name": name, "phone": mask_phone(phone), "bound": True})
        seen[house_id].add(phone)
    roster = db.session.execute(select(RosterEntry.house_id, RosterEntry.name, RosterEntry.phone).where(
        RosterEntry.house_id.in_(house_ids), RosterEntry.role == "owner").order_by(RosterEntry.id)).all()
    for house_id, name, phone in roster:
        if phone not in seen[house_id]:
            out[house_id].append({"name": name, "phone": mask_phone(phone), "bound": False})
            seen[house_id].add(phone)
    return out


def _last_contacts(house_ids: list[int]) -> dict[int, DunningContact]:
    if not house_ids:
        return {}
    ranked = select(DunningContact.id, func.row_number().over(
        partition_by=DunningContact.house_id, order_by=(DunningContact.at.desc(), DunningContact.id.desc()))
        .label("n")).where(DunningContact.house_id.in_(house_ids)).subquery()
    contacts = db.session.scalars(select(DunningContact).join(ranked, ranked.c.id == DunningContact.id)
                                  .where(ranked.c.n == 1))
    return {c.house_id: c for c in contacts}


def _reminders_sent(house_id: int, since: datetime) -> int:
    """Reminder messages queued to the house since its oldest overdue bill was issued."""
    return db.session.scalar(select(func.count(DunningContact.id)).where(
        DunningContact.house_id == house_id, DunningContact.method == "message", DunningContact.at >= since)) or 0


# -- contacts ------------------------------------------------------------------------------------------------------

def record_contact(staff: Staff, house_id: int, data: dict) -> DunningContact:
    access.require(staff, "dunning")
    house = _house(staff, house_id)
    contact = DunningContact(community_id=staff.community_id, house_id=house.id, method=data["method"],
                             note=data.get("note") or "", promised_date=data.get("promised_date"),
                             staff_id=staff.id, at=utcnow())
    db.session.add(contact)
    db.session.flush()
    return contact


def contacts_page(staff: Staff, house_id: int, page: int, per_page: int) -> dict:
    access.require(staff, "view_bills")
    house = _house(staff, house_id)
    stmt = select(DunningContact).where(DunningContact.house_id == house.id) \
        .order_by(DunningContact.at.desc(), DunningContact.id.desc())
    return paginate(stmt, page, per_page)


# -- reminders (the periodic job) ----------------------------------------------------------------------------------

def reminder_due(bill: Bill, today: date, zone: str, *, every_days: int, max_reminders: int) -> bool:
    """Does this unpaid bill call for a reminder today? (It is due within the window or overdue.)"""
    if bill.reminder_stage >= max_reminders:
        return False
    last = to_local(bill.last_reminded_at, zone).date() if bill.last_reminded_at else None
    if last is not None and last >= today:
        return False  # reminded today already
    if bill.due_date >= today:  # not overdue yet: the one reminder before the due date
        return bill.reminder_stage == 0
    # Overdue: at once (unless reminded since it fell due), then every `every_days` days.
    return last is None or last <= bill.due_date or (today - last).days >= every_days


def send_reminders() -> dict:
    """Periodic (daily): the reminders due today, per house, in every community. Each house is its own
    transaction, so one failure does not hold back the others."""
    counts = {"houses": 0, "queued": 0, "skipped": 0}
    cfg = current_app.config
    communities = list(db.session.scalars(select(Community).order_by(Community.id)))
    for community in communities:
        today = local_today(community.timezone)
        horizon = today + timedelta(days=cfg["DUNNING_BEFORE_DAYS"])
        house_ids = list(db.session.scalars(select(Bill.house_id).where(
            Bill.community_id == community.id, Bill.status == "unpaid", Bill.due_date <= horizon,
            Bill.reminder_stage < cfg["DUNNING_MAX_REMINDERS"]).distinct().order_by(Bill.house_id)))
        for house_id in house_ids:
            try:
                result = _remind_house(community, house_id, today, horizon)
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("dunning reminder for house %s failed", house_id)
                continue
            if result is not None:
                counts["houses"] += 1
                counts["queued"] += result[0]
                counts["skipped"] += result[1]
    return counts


def _remind_house(community: Community, house_id: int, today: date, horizon: date) -> tuple[int, int] | None:
    cfg = current_app.config
    bills = list(db.session.scalars(select(Bill).where(
        Bill.house_id == house_id, Bill.community_id == community.id, Bill.status == "unpaid",
        Bill.due_date <= horizon).order_by(Bill.id).with_for_update()))
    if not any(reminder_due(b, today, community.timezone, every_days=cfg["DUNNING_EVERY_DAYS"],
                            max_reminders=cfg["DUNNING_MAX_REMINDERS"]) for b in bills):
        return None
    owners = [m.owner for m in db.session.scalars(house_owners([house_id]))]
    if not owners:
        return None  # nobody to message: staff phone, visit or write (the arrears list shows the house)
    house = db.session.get(House, house_id)
    total = sum(b.amount_fen for b in bills)
    overdue = [b for b in bills if b.due_date < today]
    explain = f"共{len(bills)}笔已逾期，请尽快缴纳" if len(overdue) == len(bills) else \
        (f"共{len(bills)}笔（{len(overdue)}笔已逾期），请尽快缴纳" if overdue else f"共{len(bills)}笔，请在期限前缴纳")
    content = messages.bill_reminder(house=house.label, amount_fen=total, due=min(b.due_date for b in bills),
                                     note=explain)
    queued = skipped = 0
    for owner in owners:
        message = notify_owner(owner, content, community_id=community.id,
                               page=f"pages/bills/index?house_id={house_id}",
                               dedupe_key=f"dunning:{house_id}:{today.isoformat()}:{owner.id}", queue="low")
        if message.status == "pending":
            queued += 1
        else:
            skipped += 1
    now = utcnow()
    stage = 0
    for bill in bills:
        if bill.reminder_stage < cfg["DUNNING_MAX_REMINDERS"]:
            bill.reminder_stage += 1
            bill.last_reminded_at = now
        stage = max(stage, bill.reminder_stage)
    if queued:
        note = f"第 {stage} 次缴费提醒：待缴 {yuan(total)} 元（{len(bills)} 笔），已推送 {queued} 人"
        if skipped:
            note += f"，{skipped} 人未订阅提醒"
        db.session.add(DunningContact(community_id=community.id, house_id=house_id, method="message", note=note,
                                      staff_id=None, at=now))
    log.info("dunning: house %s reminded (%s queued, %s without consent)", house_id, queued, skipped)
    return queued, skipped
