"""营业时间与节假日: weekly hours, days, the State Council's schedule pre-filled per year (chinesecalendar),
the manager's overrides, and a pre-filled holiday moving a clock."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import chinese_calendar
from sqlalchemy import select

from server.accounts.models import Community
from server.extensions import db
from server.workorders import calendar, sla
from tests.workflow import report

BASE = "/api/v1/staff/calendar"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_the_library_knows_the_published_years_and_names_days_in_chinese():
    years = calendar.schedule_years()
    assert 2026 in years and 2004 in years
    schedule = {d.day: d for d in calendar.state_schedule(2026)}
    assert schedule[date(2026, 10, 1)].kind == "holiday" and schedule[date(2026, 10, 1)].name == "国庆节"
    assert schedule[date(2026, 2, 16)].name == "春节"
    assert schedule[date(2026, 2, 14)].kind == "workday" and schedule[date(2026, 2, 14)].name == "春节"  # 调休上班
    assert schedule[date(2026, 9, 25)].name == "中秋"
    assert chinese_calendar.is_workday(date(2026, 10, 10))  # a Saturday worked for National Day
    assert len([d for d in schedule.values() if d.kind == "holiday"]) == 33


def test_hours_are_read_and_replaced(client, login, demo):
    manager = login("demo-manager")
    assert client.get(f"{BASE}/hours", headers=manager).get_json()["7"] == ["08:30", "18:00"]
    week = {str(d): {"open": "08:00", "close": "17:30"} for d in range(1, 6)} | {"6": {"open": "09:00",
                                                                                       "close": "12:00"}, "7": None}
    res = client.put(f"{BASE}/hours", headers=manager, json=week)
    assert res.status_code == 200, res.get_json()
    assert res.get_json()["6"] == ["09:00", "12:00"] and res.get_json()["7"] is None
    bad = client.put(f"{BASE}/hours", headers=manager, json={**week, "1": {"open": "18:00", "close": "08:00"}})
    assert bad.status_code == 422 and bad.get_json()["error"]["fields"] == {"1.close": ["下班时间须晚于开门时间"]}
    bad = client.put(f"{BASE}/hours", headers=manager, json={**week, "2": {"open": "8点", "close": "17:30"}})
    assert bad.status_code == 422 and "2.open" in bad.get_json()["error"]["fields"]
    closed = client.put(f"{BASE}/hours", headers=manager, json={str(d): None for d in range(1, 8)})
    assert closed.status_code == 422
    missing = client.put(f"{BASE}/hours", headers=manager, json={"1": None})
    assert missing.status_code == 422 and "7" in missing.get_json()["error"]["fields"]
    assert client.put(f"{BASE}/hours", headers=login("demo-reception"), json=week).status_code == 403
    assert client.get(f"{BASE}/hours", headers=login("demo-reception")).get_json()["7"] is None


def test_prefill_adds_the_schedule_once_and_keeps_the_managers_days(app, client, login, demo):
    manager = login("demo-manager")
    # The manager already decided 2026-10-03: open as usual (a Saturday of the National Day holiday).
    kept = client.post(f"{BASE}/days", headers=manager, json={"day": "2026-10-03", "kind": "normal"})
    assert kept.status_code == 201 and kept.get_json()["source"] == "manual"
    res = client.post(f"{BASE}/prefill?year=2026", headers=manager)
    assert res.status_code == 200, res.get_json()
    body = res.get_json()
    assert len(body["added"]) == 33 + 6 - 1 and body["kept"] == ["2026-10-03"]
    assert body["source"].startswith("chinesecalendar")
    days = {d["day"]: d for d in client.get(f"{BASE}/days?year=2026", headers=manager).get_json()}
    assert days["2026-10-01"]["kind"] == "holiday" and days["2026-10-01"]["name"] == "国庆节"
    assert days["2026-10-01"]["source"] == "state" and days["2026-10-01"]["kind_label"] == "休息（节假日）"
    assert days["2026-10-10"]["kind"] == "workday" and days["2026-10-10"]["weekday"] == 6
    assert days["2026-10-03"]["kind"] == "normal"
    again = client.post(f"{BASE}/prefill?year=2026", headers=manager).get_json()
    assert again["added"] == [] and len(again["kept"]) == 39

    # removing a pre-filled day: the weekly hours again (until the next pre-fill brings it back)
    removed = client.delete(f"{BASE}/days/{days['2026-10-02']['id']}", headers=manager)
    assert removed.status_code == 204
    assert "2026-10-02" not in {d["day"] for d in client.get(f"{BASE}/days?year=2026", headers=manager).get_json()}
    assert client.delete(f"{BASE}/days/{days['2026-10-02']['id']}", headers=manager).status_code == 404
    assert client.delete(f"{BASE}/days/{days['2026-10-01']['id']}", headers=login("other-manager")).status_code == 404
    # a day of the community's own replaces what the schedule said
    own = client.post(f"{BASE}/days", headers=manager, json={"day": "2026-10-10", "kind": "holiday",
                                                             "name": "小区活动"}).get_json()
    assert own["id"] == days["2026-10-10"]["id"] and (own["kind"], own["source"]) == ("holiday", "manual")


def test_a_year_not_yet_published_is_refused_with_the_reason(client, login, demo):
    manager = login("demo-manager")
    future = max(calendar.schedule_years()) + 1
    res = client.post(f"{BASE}/prefill?year={future}", headers=manager)
    assert res.status_code == 409 and res.get_json()["error"]["code"] == "schedule_unavailable"
    assert f"尚无 {future} 年的国务院放假安排" in res.get_json()["error"]["message"]
    assert client.post(f"{BASE}/prefill?year=1999", headers=manager).status_code == 422
    assert client.post(f"{BASE}/prefill?year=2026", headers=login("demo-reception")).status_code == 403
    assert client.post(f"{BASE}/days", headers=manager, json={"day": "2026-13-01", "kind": "holiday"}).status_code == 422
    assert client.post(f"{BASE}/days", headers=manager, json={"day": "2026-10-01", "kind": "open"}).status_code == 422


def test_a_prefilled_holiday_moves_the_repair_clock(app, ctx, demo):
    """The evening before National Day a repair is due on the next business day: Oct 1 without the
    schedule, Oct 8 once 2026 is pre-filled (the week of Oct 1-7 is a holiday)."""
    from server.accounts.models import Staff

    community = db.session.scalar(select(Community).where(Community.code == "demo"))
    manager = db.session.scalar(select(Staff).where(Staff.mp_openid == "demo-manager"))
    evening = datetime(2026, 9, 30, 20, 0, tzinfo=SHANGHAI).astimezone(timezone.utc)
    before = sla.repair_complete_due(evening, calendar.calendar_for(community))
    assert before.astimezone(SHANGHAI) == datetime(2026, 10, 1, 18, 0, tzinfo=SHANGHAI)
    calendar.prefill(manager, 2026)
    after = sla.repair_complete_due(evening, calendar.calendar_for(community))
    assert after.astimezone(SHANGHAI) == datetime(2026, 10, 8, 18, 0, tzinfo=SHANGHAI)
    db.session.rollback()


def test_a_repair_reported_the_evening_before_a_prefilled_holiday_is_due_after_it(client, login, zhangsan, clock):
    assert client.post(f"{BASE}/prefill?year=2026", headers=login("demo-manager")).status_code == 200
    clock.freeze(datetime(2026, 9, 30, 20, 0, tzinfo=SHANGHAI).astimezone(timezone.utc))
    order = report(client, zhangsan.headers)
    due = client.get(f"/api/v1/work-orders/{order['id']}", headers=zhangsan.headers).get_json()
    assert due["deadlines"]["complete_due_at"] == "2026-10-08T18:00:00+08:00", due["deadlines"]
