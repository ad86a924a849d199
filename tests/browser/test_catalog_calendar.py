"""服务目录: the manager changes a price in yuan (a typo is refused in Chinese) and the next booking is quoted
at it; 营业时间与节假日: the year pre-filled from the State Council's schedule, one of its days overridden,
another set by hand, the weekly hours saved; only the manager sees either page."""
from __future__ import annotations

from sqlalchemy import select

from server.accounts.models import CalendarDay, Community
from server.extensions import db
from server.timeutil import local_today
from tests.browser.conftest import MANAGER, RECEPTION
from tests.browser.helpers import console_errors, no_inline_script, worker_idle  # noqa: F401
from tests.workflow import book


def row(d, table: str, name: str):
    """The row of the item or material named `name` (its name is an input: the row is its form)."""
    return d.page.locator(f"#{table} tr:has(input[name=name][value='{name}'])")


def test_the_manager_edits_a_price_and_the_next_booking_uses_it(desk, client, zhangsan):
    d = desk()
    d.sign_in(MANAGER)
    d.open("服务目录")
    no_inline_script(d.page)
    item = row(d, "item-list", "更换水龙头")
    assert item.locator("input[name=price_yuan]").input_value() == "50.00"
    d.shot("catalog")
    item.locator("input[name=price_yuan]").fill("12.3.4")
    item.locator("button:has-text('保存')").click()
    d.page.wait_for_selector("text=金额格式有误")
    item = row(d, "item-list", "更换水龙头")
    assert item.locator("input[name=price_yuan]").input_value() == "12.3.4"  # what was typed, shown again
    item.locator("input[name=price_yuan]").fill("65.5")
    item.locator("button:has-text('保存')").click()
    d.page.wait_for_selector("text=已保存服务项目：更换水龙头")
    assert row(d, "item-list", "更换水龙头").locator("input[name=price_yuan]").input_value() \
        == "65.50"
    assert book(client, zhangsan.headers)["quote_fen"] == 6550

    material = row(d, "material-list", "生料带")
    material.locator("input[name=price_yuan]").fill("2.5")
    material.locator("button:has-text('保存')").click()
    d.page.wait_for_selector("text=已保存材料价格：生料带")
    d.page.click("summary:has-text('添加服务项目')")
    form = d.page.locator("#new-item")
    form.locator("input[name=category]").fill("家电")
    form.locator("input[name=name]").fill("空调家电维修")
    form.locator("input[name=price_yuan]").fill("80")
    form.locator("input[name=unit]").fill("次")
    form.locator("button:has-text('添加')").click()
    d.page.wait_for_selector("text=不在服务范围内")
    d.shot("catalog-refused")
    assert console_errors(d) == []

    r = desk()
    r.sign_in(RECEPTION)
    r.page.wait_for_selector("h1:has-text('工作台')")
    assert r.page.locator("nav.side >> text=服务目录").count() == 0
    assert r.go("/admin/catalog").status == 403


def test_the_year_is_prefilled_and_the_manager_overrides_a_day(desk, app):
    with app.app_context():
        year = local_today("Asia/Shanghai").year
        db.session.remove()
    d = desk()
    d.sign_in(MANAGER)
    d.open("营业时间与节假日")
    no_inline_script(d.page)
    d.go("/admin/calendar?year=2026")
    d.page.click("button:has-text('按国务院放假安排预填 2026 年')")
    d.page.wait_for_selector("text=已按国务院放假安排预填 2026 年：新加入 39 天")
    national = d.page.inner_text("#day-2026-10-01")
    assert "休息（节假日）" in national and "国庆节" in national and "国务院安排" in national
    assert "调休上班" in d.page.inner_text("#day-2026-10-10")
    d.shot("calendar-prefilled")

    # override: the center opens as usual on 2026-10-03; a community day of its own; removing one
    d.page.locator("#day-2026-10-03 >> button:has-text('照常营业')").click()
    d.page.wait_for_selector("text=已设置 2026-10-03")
    assert "照常营业" in d.page.inner_text("#day-2026-10-03") and "本小区设置" in d.page.inner_text("#day-2026-10-03")
    d.page.fill("#day-form input[name=day]", "2026-12-31")
    d.page.select_option("#day-form select[name=kind]", "holiday")
    d.page.fill("#day-form input[name=name]", "小区年终盘点")
    d.page.click("#day-form button[type=submit]")
    d.page.wait_for_selector("#day-2026-12-31")
    d.page.locator("#day-2026-10-02 >> button:has-text('删除')").click()
    d.page.wait_for_selector("text=已删除 2026-10-02 的设置")
    assert d.page.locator("#day-2026-10-02").count() == 0
    with app.app_context():
        community = db.session.scalar(select(Community).where(Community.code == "demo"))
        rows = {r.day.isoformat(): r for r in db.session.scalars(select(CalendarDay).where(
            CalendarDay.community_id == community.id))}
        assert (rows["2026-10-03"].kind, rows["2026-10-03"].source) == ("normal", "manual")
        assert rows["2026-12-31"].name == "小区年终盘点" and "2026-10-02" not in rows
        db.session.remove()

    # again: nothing the manager decided changes
    d.page.click("button:has-text('按国务院放假安排预填 2026 年')")
    d.page.wait_for_selector("text=新加入 1 天")  # 2026-10-02, removed, comes back; 10-03 stays open
    assert "照常营业" in d.page.inner_text("#day-2026-10-03")
    d.shot("calendar-overridden")

    # the weekly hours: Sunday closed, Saturday mornings
    d.page.uncheck("#hours-form input[name='7'][type=checkbox]")
    d.page.fill("#hours-form input[name='6.close']", "12:00")
    d.page.click("button:has-text('保存营业时间')")
    d.page.wait_for_selector("text=营业时间已保存")
    with app.app_context():
        hours = db.session.scalar(select(Community).where(Community.code == "demo")).business_hours
        assert hours["7"] is None and hours["6"] == ["08:30", "12:00"] and hours["1"] == ["08:30", "18:00"]
        db.session.remove()
    d.page.fill("#hours-form input[name='1.close']", "07:00")
    d.page.click("button:has-text('保存营业时间')")
    d.page.wait_for_selector("text=下班时间须晚于开门时间")

    # a year the installed schedule does not have yet: said so, with what to do
    d.go(f"/admin/calendar?year={year + 1}")
    if year + 1 > 2026:
        assert f"尚无 {year + 1} 年的国务院放假安排" in d.page.inner_text("#days")
    d.shot("calendar-next-year")
    assert console_errors(d) == []
