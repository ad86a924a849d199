"""来电来访登记: a receptionist registers calls and visits with the keyboard, and the work they create is
dispatched and pushed like any order (the real RQ worker process does it)."""
from __future__ import annotations

import re

import pytest
import requests
from sqlalchemy import func, or_, select

from tests.browser.conftest import CASHIER, MANAGER, RECEPTION, wait_for

# One pixel of PNG: a photo for the complaint.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
HUMAN = 60  # ms between keys: a quick typist, not a machine


@pytest.fixture(autouse=True)
def settled(app):
    """After each test, wait until the worker has done the jobs the test caused: emptying the tables while
    it still dispatches would deadlock with it."""
    yield
    from server.extensions import db
    from server.outbox import OutboxJob
    from server.timeutil import utcnow

    def idle() -> bool:
        with app.app_context():
            busy = db.session.scalar(select(func.count()).select_from(OutboxJob).where(or_(
                OutboxJob.status == "running",
                (OutboxJob.status == "pending") & (OutboxJob.available_at <= utcnow()))))
            db.session.remove()
        return busy == 0

    wait_for(idle)


def open_intake(d, phone: str = RECEPTION):
    d.sign_in(phone)
    d.page.wait_for_selector("h1:has-text('工作台')")
    d.page.click("nav.side >> text=来电来访登记")
    d.page.wait_for_selector("h1:has-text('来电来访登记')")
    return d.page


def focused(page) -> str:
    return page.evaluate("(() => { const e = document.activeElement; return e.id || e.name || e.tagName })()")


def pick(page, q: str, label: str) -> None:
    """Type into the house search, wait for `label` among the suggestions, choose it with the keyboard."""
    page.fill("#house-q", "")
    page.type("#house-q", q, delay=HUMAN)
    page.wait_for_selector(f"#house-suggestions [data-pick]:has-text('{label}')")
    page.keyboard.press("ArrowDown")
    while label not in page.evaluate("document.activeElement.textContent"):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelector('[name=house_id]').value !== ''")


def desk_order(client, login, number: str) -> dict:
    headers = login("demo-reception")
    listed = client.get("/api/v1/staff/work-orders", headers=headers).get_json()["items"]
    order_id = next(o["id"] for o in listed if o["number"] == number)
    return client.get(f"/api/v1/staff/work-orders/{order_id}", headers=headers).get_json()


def test_a_phone_repair_in_seconds_reaches_the_engineer(desk, sandbox, client, login, live_server):
    d = desk()
    page = open_intake(d)
    assert focused(page) == "house-q"  # ready for the first call
    assert "今天还没有登记来电或来访" in page.inner_text("main")
    d.shot("intake-empty")

    started = page.evaluate("Date.now()")
    page.keyboard.type("1-1-101", delay=HUMAN)
    page.wait_for_selector("#house-suggestions [data-pick]")
    d.shot("intake-suggestions")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_function("document.activeElement.name === 'kind'")  # the caller is known: on to the kind
    assert page.input_value("[name=contact_name]") == "张三"
    assert page.input_value("[name=contact_phone]") == "13800000001"
    assert page.input_value("#house-q") == "1栋1单元101"
    page.keyboard.press("Tab")  # the repair categories
    page.keyboard.press("Enter")  # the first: 给排水 (Enter chooses it and moves on)
    assert focused(page) == "urgent"  # leaks may be urgent
    page.keyboard.press("Tab")
    page.keyboard.type("厨房水管漏水，阀门关不上", delay=HUMAN)
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#done")
    elapsed = (page.evaluate("Date.now()") - started) / 1000
    print(f"keyboard-only phone repair registered in {elapsed:.1f} s of browser time")
    assert elapsed < 15, f"the keyboard-only registration took {elapsed:.1f} s"

    done = page.inner_text("#done")
    number = re.search(r"BX\d{8}-\d{4}", done).group(0)
    assert "1栋1单元101" in done and "张三" in done
    assert focused(page) == "house-q"  # ready for the next call
    assert page.input_value("#house-q") == "" and page.input_value("[name=contact_name]") == ""
    row = page.locator(".today tbody tr").first
    assert number in row.inner_text() and "报修" in row.inner_text() and "刘芳" in row.inner_text()
    d.shot("intake-confirmed")

    order = desk_order(client, login, number)
    assert (order["channel"], order["category"], order["contact_name"], order["received_by"]["name"]) == \
        ("phone", "water", "张三", "刘芳")
    pushed = wait_for(lambda: sandbox.messages(template_id="tpl-order-assigned"))  # through the worker
    assert pushed[0]["touser"] == "oa-demo-eng-1"  # 周师傅: water
    assert d.console_errors == []
    html = requests.get(f"{live_server}/admin/intake", cookies={c["name"]: c["value"] for c in
                                                              page.context.cookies()}).text
    assert "<script>" not in html and " style=" not in html and " on" + "click=" not in html


def test_a_consultation_is_recorded(desk, client, login):
    d = desk()
    page = open_intake(d)
    pick(page, "李四", "1栋1单元102")
    page.keyboard.press("ArrowRight")  # 报修 -> 有偿服务
    page.keyboard.press("ArrowRight")  # -> 投诉
    page.keyboard.press("ArrowRight")  # -> 咨询
    assert page.is_visible("[name=question]") and not page.is_visible("[name=description]")
    page.keyboard.press("Tab")
    assert focused(page) == "question"
    page.keyboard.type("下周停水吗？", delay=HUMAN)
    page.keyboard.press("Tab")
    page.keyboard.type("下周二 9:00-12:00 二次供水水箱清洗，已发通知。", delay=HUMAN)
    page.check("[name=channel][value=visit]")
    page.click("button:has-text('登记')")
    page.wait_for_selector("#done")
    assert "已记录咨询（李四 · 1栋1单元102）" in page.inner_text("#done")
    row = page.locator(".today tbody tr").first.inner_text()
    assert "咨询" in row and "来访" in row and "下周停水吗" in row and "二次供水" in row
    d.shot("intake-consultation")
    listed = client.get("/api/v1/staff/consultations", headers=login("demo-reception")).get_json()
    assert listed["total"] == 1
    item = listed["items"][0]
    assert (item["channel"], item["house"]["label"], item["contact_name"], item["received_by"]["name"]) == \
        ("visit", "1栋1单元102", "李四", "刘芳")


def test_a_paid_service_and_a_complaint(desk, client, login, sandbox):
    d = desk()
    page = open_intake(d, MANAGER)
    pick(page, "13800000003", "2栋1单元201")
    assert page.input_value("[name=contact_name]") == "王五"
    page.check("[name=kind][value=service]")
    page.select_option("[name=service_item_id]", label="疏通下水道 · ¥80.00/次")
    page.fill("[name=quantity]", "2")
    page.press("[name=quantity]", "Tab")
    page.wait_for_selector("#quote:has-text('¥160.00')")
    page.fill("[name=preferred_time]", "2030-01-02T15:30")
    page.fill("[name=description]", "厨房、卫生间各一处")
    d.shot("intake-service")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#done")
    number = re.search(r"FW\d{8}-\d{4}", page.inner_text("#done")).group(0)
    order = desk_order(client, login, number)
    assert (order["quote_fen"], order["quantity"], order["title"], order["preferred_time"]) == \
        (16000, 2, "疏通下水道", "2030-01-02T15:30:00+08:00")

    pick(page, "赵", "3栋2单元602")
    assert page.input_value("[name=contact_name]") == "赵六"
    page.check("[name=kind][value=complaint]")
    assert page.is_visible("text=投诉类别") and not page.is_visible("[name=service_item_id]")
    page.check("fieldset[data-kinds=complaint] [name=category][value=noise]")
    page.check("input[type=checkbox][name=written]")
    page.select_option("[name=about_staff_id]", label="冯阿姨（保洁部 员工）")
    page.fill("[name=description]", "保洁清晨 6 点用吹风机，太吵")
    page.set_input_files("input[type=file][name=file]", files=[
        {"name": "现场.png", "mimeType": "image/png", "buffer": PNG}])
    page.wait_for_selector("#photo-list li:has-text('现场.png')")
    d.shot("intake-complaint")
    page.click("button:has-text('登记')")
    page.wait_for_selector("#done")
    number = re.search(r"TS\d{8}-\d{4}", page.inner_text("#done")).group(0)
    order = desk_order(client, login, number)
    assert (order["category"], order["written"], order["about_staff_name"], len(order["photos"])) == \
        ("noise", True, "冯阿姨", 1)
    assert order["received_by"]["name"] == "王建国"
    assert [r.split("\t")[2] for r in page.locator(".today tbody tr").all_inner_texts()] == ["投诉", "有偿服务"]
    assert d.console_errors == []


def test_suggestions_for_a_name_and_a_phone(desk):
    d = desk()
    page = open_intake(d)
    page.type("#house-q", "张", delay=HUMAN)
    page.wait_for_selector("#house-suggestions [data-pick]:has-text('张三')")
    assert "1栋1单元101" in page.inner_text("#house-suggestions") and "业主" in page.inner_text("#house-suggestions")
    d.shot("intake-suggest-name")
    page.fill("#house-q", "")
    page.type("#house-q", "138000", delay=HUMAN)  # the first digits of a phone
    page.wait_for_selector("#house-suggestions [data-pick]:has-text('赵六')")
    assert page.locator("#house-suggestions [data-pick]").count() == 4
    d.shot("intake-suggest-phone")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    assert focused(page) == "house-q"  # back up into the search box
    page.keyboard.press("Escape")
    assert page.locator("#house-suggestions [data-pick]").count() == 0
    page.fill("#house-q", "")
    page.type("#house-q", "9-1-101", delay=HUMAN)  # another community's house
    page.wait_for_selector("#house-suggestions:has-text('没有找到')")
    d.shot("intake-suggest-none")
    page.keyboard.press("Enter")  # nothing to pick, and the form is not submitted
    assert page.url.endswith("/admin/intake") and page.input_value("[name=house_id]") == ""
    # A new search forgets the picked house and the name it brought, not what the receptionist typed.
    pick(page, "1-1-102", "1栋1单元102")
    page.fill("[name=contact_phone]", "13912345678")
    page.click("#house-q")
    page.keyboard.press("End")
    page.keyboard.press("Backspace")
    assert page.input_value("[name=house_id]") == "" and page.input_value("[name=contact_name]") == ""
    assert page.input_value("[name=contact_phone]") == "13912345678"


def test_a_bad_submission_shows_chinese_field_errors(desk):
    d = desk()
    page = open_intake(d)
    page.fill("[name=contact_phone]", "12345")
    page.click("button:has-text('登记')")
    page.wait_for_selector(".flash-error")
    text = page.inner_text("main")
    assert "提交的内容有误，请检查后重试" in text
    for message in ("手机号格式有误（11 位手机号）", "请描述需要维修的问题"):
        assert message in text
    assert page.locator(".house-search .field-error").inner_text().startswith("必填：请输入房号")
    assert focused(page) == "house-q"  # the first field to fix
    assert page.locator("fieldset[data-kinds=repair] .field-error").inner_text() == "必填"
    assert page.input_value("[name=contact_phone]") == "12345"  # what was typed stays
    d.shot("intake-errors")
    # Fixed and sent again: the house picked, the rest as it was, a consultation this time.
    pick(page, "1-1-101", "1栋1单元101")
    page.fill("[name=contact_phone]", "13800000001")
    page.check("[name=kind][value=consultation]")
    page.fill("[name=question]", "问")
    page.click("button:has-text('登记')")
    page.wait_for_selector(".flash-error")
    assert page.locator("fieldset[data-kinds=consultation] .field-error").inner_text() == "必填"  # the answer
    assert focused(page) == "answer"
    assert page.is_checked("[name=kind][value=consultation]") and page.input_value("#house-q") == "1栋1单元101"
    page.fill("[name=answer]", "答")
    page.click("button:has-text('登记')")
    page.wait_for_selector("#done")


def test_only_the_desk_registers_calls(desk):
    d = desk()
    d.sign_in(CASHIER)
    d.page.wait_for_selector("h1:has-text('工作台')")
    assert d.page.locator("nav.side >> text=来电来访登记").count() == 0
    response = d.go("/admin/intake")
    assert response.status == 403 and "只有服务中心接待员或经理可以办理" in d.page.inner_text("main")
