"""投诉: the manager handles an emergency from the board's red banner to an approved incident report and the
final reply; the complaints list marks emergencies and important complaints; a service-attitude complaint's
corrective action."""
from __future__ import annotations

from tests.browser.conftest import MANAGER, RECEPTION, wait_for
from tests.browser.helpers import (  # noqa: F401 - worker_idle is a fixture
    console_errors, house_id, no_inline_script, register, staff_view, worker_idle,
)
from tests.workflow import first_house


def complain(client, owner, category, description, **extra):
    res = client.post("/api/v1/work-orders", headers=owner, json={
        "kind": "complaint", "house_id": first_house(client, owner), "category": category,
        "description": description, **extra})
    assert res.status_code == 201, res.get_json()
    return res.get_json()


def test_manager_handles_an_emergency_through_an_approved_incident_report(desk, client, zhangsan, login, sandbox):
    client.post("/api/v1/me/subscriptions", headers=zhangsan.headers, json={"accepted": ["tpl-complaint-reply"]})
    fire = complain(client, zhangsan.headers, "emergency", "地下车库进水，已漫到车轮")
    d = desk()
    d.sign_in(MANAGER)
    banner = d.page.wait_for_selector(".banner-emergency")
    assert fire["number"] in banner.inner_text() and "尚无人到场" in banner.inner_text()
    d.shot("board-emergency")
    banner.click()
    d.page.wait_for_selector(f"h1:has-text('{fire['number']}')")
    assert "尚无人员到场" in d.page.inner_text("main")
    assert d.page.locator("#clock-onsite .countdown").count() == 1  # the 5-minute clock counts down
    d.shot("complaint-detail-emergency")
    no_inline_script(d.page)

    d.page.click("text=登记到场（我已到达现场）")
    d.page.wait_for_selector("text=已登记到场。")
    assert "尚无人员到场" not in d.page.inner_text("main")
    d.go("/admin/")  # the board refreshes every 15 s; a reload shows the same
    d.page.wait_for_selector("h1:has-text('工作台')")
    assert d.page.locator(".banner-emergency").count() == 0

    d.go(f"/admin/orders/{fire['id']}")
    assert d.page.locator("#reply-form input[name=final]").count() == 0  # no closing before the report
    assert "经经理批准后，才能发出最终答复" in d.page.inner_text("#reply-form")
    form = d.page.locator("#incident-form")
    assert form.is_visible()  # opened by itself: someone is on site, the report is due
    form.locator("textarea[name=cause]").fill("暴雨倒灌，排水泵故障")
    form.locator("textarea[name=actions]").fill("启用备用泵抽水，设沙袋")
    form.locator("textarea[name=losses]").fill("两辆车进水")
    form.locator("input[name=people_involved]").fill("无人受伤")
    form.locator("button[type=submit]").click()
    d.page.wait_for_selector("text=《突发事件处理表》已提交，等待经理审批。")
    d.page.fill("#review-form input[name=note]", "请补充损失金额")
    d.page.click("#review-form button:has-text('退回')")
    d.page.wait_for_selector("text=《突发事件处理表》已退回")
    assert "已退回" in d.page.inner_text("#complaint-h + dl") and "请补充损失金额" in d.page.inner_text("main")
    form = d.page.locator("#incident-form")
    assert form.locator("textarea[name=cause]").input_value() == "暴雨倒灌，排水泵故障"  # kept for the edit
    form.locator("textarea[name=losses]").fill("两辆车进水，约 2 万元")
    form.locator("button[type=submit]").click()
    d.page.wait_for_selector("text=等待经理审批")
    d.page.click("#review-form button:has-text('批准')")
    d.page.wait_for_selector("text=《突发事件处理表》已批准，可以结案。")
    assert "已批准" in d.page.inner_text("#complaint-h + dl")

    d.page.fill("#reply-form textarea[name=content]", "积水已排净，车库恢复使用，受损车辆正在协助理赔")
    d.page.check("#reply-form input[name=final][type=checkbox]")
    d.page.click("#reply-form button[type=submit]")
    d.page.wait_for_selector("text=答复已发送给业主。")
    assert "待确认" in d.page.inner_text(".order-head")
    wait_for(lambda: sandbox.messages(template_id="tpl-complaint-reply"))
    assert staff_view(client, login("demo-manager"), fire["id"])["incident_report"]["status"] == "approved"

    # the follow-up call within 3 days
    d.page.locator("#callback-form label", has_text="满意").first.click()
    d.page.fill("#callback-form textarea[name=note]", "业主表示满意")
    d.page.click("#callback-form button[type=submit]")
    d.page.wait_for_selector("text=回访已记录。")
    assert "业主表示满意" in d.page.inner_text(".callbacks")
    d.shot("complaint-detail-handled")
    assert console_errors(d) == []


def test_complaints_list_and_a_service_attitude_complaint(desk, app, client, zhangsan, login):
    noise = complain(client, zhangsan.headers, "noise", "楼上每晚装修到十一点")
    rude = complain(client, zhangsan.headers, "service_attitude", "保安对老人态度恶劣", about_staff_name="某保安")
    reception = login("demo-reception")
    wait_for(lambda: staff_view(client, reception, rude["id"])["status"] == "dispatched")
    register(client, reception, house_id(app, "2", "1", "201"), "电梯经常停运", "facilities", kind="complaint",
             name="王五", phone="13800000003")
    wait_for(lambda: staff_view(client, reception, noise["id"])["status"] == "dispatched")
    client.post(f"/api/v1/staff/work-orders/{noise['id']}/replies", headers=reception,
                json={"content": "已处理", "final": True})  # handled: listed after the open ones

    d = desk()
    d.sign_in(MANAGER)
    d.page.wait_for_selector("h1:has-text('工作台')")
    d.page.click("nav.side >> text=投诉")
    d.page.wait_for_selector("h1:has-text('投诉')")
    rows = d.page.locator("table.orders tbody tr")
    assert rows.count() == 3 and rows.last.get_attribute("id") == f"order-{noise['id']}"
    d.page.click(f"#order-{rude['id']} a")
    d.page.wait_for_selector(f"h1:has-text('{rude['number']}')")
    assert "某保安" in d.page.inner_text("dl.facts")
    d.page.click("form:has-text('标记为重要投诉') button")
    d.page.wait_for_selector("text=已标记为重要投诉")
    assert "重要投诉" in d.page.inner_text(".order-head")
    d.page.click("summary:has-text('整改措施')")
    form = d.page.locator("#corrective-form")
    form.locator("textarea[name=action]").fill("批评教育，向业主当面道歉")
    form.locator("input[name=deadline]").fill("2030-01-10")
    form.locator("input[name=penalty]").fill("扣当月绩效 100 元")
    form.locator("button[type=submit]").click()
    d.page.wait_for_selector("text=整改措施已记录。")
    assert "批评教育，向业主当面道歉" in d.page.inner_text("main") and "2030-01-10" in d.page.inner_text("main")
    d.shot("complaint-detail-actions")
    no_inline_script(d.page)
    d.page.click("#reply-form button[type=submit]")  # the browser asks for the reply first
    assert d.page.locator("#reply-form textarea:invalid").count() == 1

    d.go("/admin/complaints?important=true")
    assert d.page.locator("table.orders tbody tr").count() == 1
    assert "重要" in d.page.inner_text(f"#order-{rude['id']}")
    d.go("/admin/complaints")
    d.shot("complaints-list")
    assert console_errors(d) == []

    # a receptionist sees the list but not the manager's buttons
    r = desk()
    r.sign_in(RECEPTION)
    r.go(f"/admin/orders/{rude['id']}")
    assert r.page.locator("#reply-form").count() == 1
    assert r.page.locator("#corrective-form").count() == 0 and r.page.locator("button:has-text('标记为重要投诉')").count() == 0
