"""Dunning reminders (the daily job) with the product's clock: one reminder before the due date, then every
7 days while overdue, at most DUNNING_MAX_REMINDERS; one message per house listing the total, to each approved
owner-role member, only with consent (no credit: a skipped message and nothing sent); twice a day sends once."""
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from jobs import billing as billing_jobs
from jobs import cron
from server.accounts.models import Building, Community, House, HouseMembership, Owner
from server.billing.models import Bill, DunningContact
from server.extensions import db
from server.wechat.models import Message, SubscribeCredit
from server.wechat.services import NO_CREDIT

SHANGHAI = ZoneInfo("Asia/Shanghai")
TEMPLATE = "tpl-bill-reminder"


def house_101(app) -> int:
    with app.app_context():
        return db.session.scalar(select(House.id).join(Building, Building.id == House.building_id)
                                 .join(Community, Community.id == House.community_id)
                                 .where(Community.code == "demo", Building.code == "1", House.unit == "1",
                                        House.room == "101"))


class Days:
    """The product's clock at 10:00 Beijing time on day n (day 0: today); bills of 1-1-101 due on a chosen day,
    every other bill of the demo far away."""

    def __init__(self, app, clock):
        self.app, self.clock = app, clock
        self.today = datetime.now(SHANGHAI).date()
        self.house = house_101(app)

    def at(self, n: int) -> None:
        moment = datetime.combine(self.today + timedelta(days=n), time(10), tzinfo=SHANGHAI).astimezone(UTC)
        self.clock.freeze(moment)

    def due(self, n: int) -> None:
        with self.app.app_context():
            db.session.execute(update(Bill).values(due_date=self.today + timedelta(days=60)))
            db.session.execute(update(Bill).where(Bill.house_id == self.house)
                               .values(due_date=self.today + timedelta(days=n)))
            db.session.commit()

    def run(self, n: int) -> dict:
        self.at(n)
        return billing_jobs.send_bill_reminders()


@pytest.fixture
def days(app, clock, demo):
    return Days(app, clock)


def consent(client, owner, times: int = 1):
    for _ in range(times):
        res = client.post("/api/v1/me/subscriptions", headers=owner.headers, json={"accepted": [TEMPLATE]})
        assert res.status_code == 200, res.get_json()


def reminders(app) -> list[Message]:
    with app.app_context():
        rows = list(db.session.scalars(select(Message).where(Message.template_key == "bill_reminder")
                                       .order_by(Message.id)))
        db.session.expunge_all()
        return rows


def bills_101(app, house: int) -> list[Bill]:
    with app.app_context():
        rows = list(db.session.scalars(select(Bill).where(Bill.house_id == house).order_by(Bill.id)))
        db.session.expunge_all()
        return rows


def contacts(app) -> list[DunningContact]:
    with app.app_context():
        rows = list(db.session.scalars(select(DunningContact).order_by(DunningContact.id)))
        db.session.expunge_all()
        return rows


def test_the_job_is_scheduled_daily():
    entry = next(p for p in cron.PERIODIC if p.func == "jobs.billing.send_bill_reminders")
    assert entry.cron == "0 10 * * *" and entry.interval is None


def test_before_due_once_then_every_seven_days_while_overdue(app, client, zhangsan, days, run_jobs, sandbox):
    consent(client, zhangsan, times=5)
    days.due(2)
    owed = sum(b.amount_fen for b in bills_101(app, days.house))
    first = days.run(0)
    assert first == {"houses": 1, "queued": 1, "skipped": 0}
    [message] = reminders(app)
    assert message.status == "pending" and message.page == f"pages/bills/index?house_id={days.house}"
    assert message.payload["thing1"]["value"] == "1栋1单元101"
    assert message.payload["amount2"]["value"] == f"{owed // 100}.{owed % 100:02d}元"
    assert message.payload["date3"]["value"] == (days.today + timedelta(days=2)).isoformat()
    assert message.payload["thing4"]["value"].endswith("请在期限前缴纳")
    assert all(b.reminder_stage == 1 and b.last_reminded_at is not None for b in bills_101(app, days.house))
    [contact] = contacts(app)
    assert contact.method == "message" and contact.staff_id is None and "已推送 1 人" in contact.note

    # The message really goes out (one credit spent).
    run_jobs()
    sent = sandbox.messages(template_id=TEMPLATE)
    assert len(sent) == 1 and sent[0]["touser"] == "owner-zhangsan"
    assert sent[0]["data"]["thing1"]["value"] == "1栋1单元101"

    # Twice the same day: nothing more. Before and on the due date: nothing (the one before-due reminder).
    assert days.run(0) == {"houses": 0, "queued": 0, "skipped": 0}
    assert days.run(1)["houses"] == 0 and days.run(2)["houses"] == 0
    assert len(reminders(app)) == 1

    # Overdue: at once the day after the due date, then every 7 days.
    assert days.run(3)["queued"] == 1
    assert reminders(app)[-1].payload["thing4"]["value"].endswith("已逾期，请尽快缴纳")
    for day in range(4, 10):
        assert days.run(day)["houses"] == 0, day
    assert days.run(10)["queued"] == 1
    assert days.run(10)["houses"] == 0
    assert [m.dedupe_key for m in reminders(app)] == [
        f"dunning:{days.house}:{(days.today + timedelta(days=d)).isoformat()}:{m.owner_id}"
        for d, m in zip((0, 3, 10), reminders(app), strict=True)]
    assert {b.reminder_stage for b in bills_101(app, days.house)} == {3}
    assert len(contacts(app)) == 3


def test_at_most_the_configured_number_of_reminders(app, client, zhangsan, days, login, monkeypatch):
    monkeypatch.setitem(app.config, "DUNNING_MAX_REMINDERS", 3)
    consent(client, zhangsan, times=5)
    days.due(-1)  # overdue already: the first reminder at once
    for day in range(30):
        days.run(day)
    sent_on = sorted({m.created_at.astimezone(SHANGHAI).date() for m in reminders(app)})
    assert sent_on == [days.today, days.today + timedelta(days=7), days.today + timedelta(days=14)]
    assert {b.reminder_stage for b in bills_101(app, days.house)} == {3}
    # The arrears list counts them (a fresh login: the clock is 29 days on).
    arrears = client.get("/api/v1/staff/arrears", headers=login("demo-cashier")).get_json()
    [row] = arrears["items"]
    assert row["reminders_sent"] == 3 and row["last_contact"]["method"] == "message"
    assert row["last_contact"]["staff"] is None and row["days_overdue"] == 30


def test_without_consent_the_message_is_skipped_and_nothing_is_sent(app, client, zhangsan, days, run_jobs,
                                                                    sandbox):
    days.due(1)
    assert days.run(0) == {"houses": 1, "queued": 0, "skipped": 1}
    [message] = reminders(app)
    assert message.status == "skipped" and message.error_message == NO_CREDIT
    run_jobs()
    assert sandbox.messages(template_id=TEMPLATE) == []
    assert sandbox.calls("/cgi-bin/message/subscribe/send") == []
    assert contacts(app) == []  # nothing reached the owner: no contact recorded
    assert days.run(0)["houses"] == 0 and len(reminders(app)) == 1  # and not again today


def test_each_approved_owner_gets_one_family_and_pending_members_none(app, client, zhangsan, days):
    consent(client, zhangsan)
    with app.app_context():
        co_owner, family, pending = (Owner(openid="owner-co"), Owner(openid="owner-family"),
                                     Owner(openid="owner-pending"))
        db.session.add_all([co_owner, family, pending])
        db.session.flush()
        for owner, role, status in ((co_owner, "owner", "approved"), (family, "family", "approved"),
                                    (pending, "owner", "pending")):
            db.session.add(HouseMembership(house_id=days.house, owner_id=owner.id, role=role, status=status,
                                           name="成员", phone="13800000009"))
            db.session.add(SubscribeCredit(owner_id=owner.id, template_id=TEMPLATE, credits=1))
        db.session.commit()
        co_owner_id = co_owner.id
    days.due(3)
    assert days.run(0) == {"houses": 1, "queued": 2, "skipped": 0}
    assert sorted(m.touser for m in reminders(app)) == ["owner-co", "owner-zhangsan"]
    assert any(m.owner_id == co_owner_id for m in reminders(app))
    assert "已推送 2 人" in contacts(app)[0].note


def test_houses_without_members_and_paid_bills_are_left_alone(app, client, zhangsan, days, login):
    consent(client, zhangsan, times=3)
    days.due(-3)
    with app.app_context():  # every other demo house is overdue too, but nobody there is bound
        db.session.execute(update(Bill).where(Bill.house_id != days.house)
                           .values(due_date=days.today - timedelta(days=3)))
        db.session.commit()
    assert days.run(0) == {"houses": 1, "queued": 1, "skipped": 0}
    # Paid at the desk: no more reminders for that house.
    cashier = login("demo-cashier")
    ids = [b.id for b in bills_101(app, days.house)]
    res = client.post("/api/v1/staff/payments", headers=cashier, json={"bill_ids": ids, "method": "cash"})
    assert res.status_code == 201, res.get_json()
    assert days.run(7) == {"houses": 0, "queued": 0, "skipped": 0}
    assert len(reminders(app)) == 1
