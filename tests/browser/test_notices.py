"""通知: a notice written on the page with its live preview (the WeChat message cut as WeChat cuts it),
published to building 1, reaches only building 1's owners who accepted the message; the page then shows
what was pushed and skipped, and how many households read it."""
from __future__ import annotations

import re

from tests.browser.conftest import RECEPTION, wait_for

TITLE = "1 号楼二次供水水箱清洗，全天停水的通知（请提前储水）"
CONTENT = "因二次供水水箱年度清洗消毒，1 号楼 12 月 5 日 9:00-17:00 停水。\n\n给您带来不便，敬请谅解。"


def _owner(client, login, openid, phone, building, unit, room, name, *, consent, reception=None):
    """An owner signed in through the API, phone verified, bound to the house (approved by the receptionist
    when the roster does not list them), and — if `consent` — accepting the notice message once."""
    headers = login(openid)
    assert client.post("/api/v1/me/phone", headers=headers, json={"code": f"dev:{phone}"}).status_code == 200
    res = client.post("/api/v1/me/houses", headers=headers, json={
        "community_code": "demo", "building": building, "unit": unit, "room": room, "name": name, "phone": phone,
        "role": "owner"})
    assert res.status_code == 201, res.get_json()
    if res.get_json()["status"] == "pending":
        approved = client.post(f"/api/v1/staff/bindings/{res.get_json()['id']}/approve", headers=reception)
        assert approved.status_code == 200, approved.get_json()
    if consent:
        res = client.post("/api/v1/me/subscriptions", headers=headers, json={"accepted": ["tpl-notice"]})
        assert res.status_code == 200, res.get_json()
    return headers


def test_a_notice_to_building_1_reaches_only_its_owners_with_consent(desk, client, login, zhangsan, sandbox):
    reception = login("demo-reception")
    assert client.post("/api/v1/me/subscriptions", headers=zhangsan.headers,
                       json={"accepted": ["tpl-notice"]}).status_code == 200  # 张三, 1-1-101
    _owner(client, login, "owner-lisi", "13800000002", "1", "1", "102", "李四", consent=False)  # no consent
    _owner(client, login, "owner-qianqi", "13800000009", "1", "2", "301", "钱七", consent=True, reception=reception)
    _owner(client, login, "owner-wangwu", "13800000003", "2", "1", "201", "王五", consent=True)  # building 2

    d = desk()
    d.sign_in(RECEPTION)
    d.page.wait_for_selector("h1:has-text('工作台')")
    d.open("通知")
    assert "还没有发布过通知" in d.page.inner_text("main")
    d.page.click("text=写通知")
    d.page.wait_for_selector("h1:has-text('写通知')")
    assert d.page.evaluate("document.activeElement.name") == "title"
    d.page.wait_for_selector("text=填好标题和内容后")  # the preview says what it needs
    form = d.page.locator("#notice-form")
    form.locator("select[name=kind]").select_option("water_cut")
    form.locator("input[name=title]").fill(TITLE)
    form.locator("textarea[name=content]").fill(CONTENT)
    form.locator("input[name=starts_at]").fill("2026-12-05T09:00")
    form.locator("input[name=ends_at]").fill("2026-12-05T17:00")
    form.locator("label:has-text('1栋') input").check()  # ticking a building chooses "these buildings"
    assert form.locator("input[name=scope][value=buildings]").is_checked()

    # The preview: the subscribe message as WeChat shows it (20 characters), the page as the owner sees it.
    d.page.wait_for_selector("#audience:has-text('1栋')")
    wx = d.page.locator("#wx-preview")
    assert wx.locator("dd[data-key=thing1]").inner_text() == "1 号楼二次供水水箱清洗，全天停水的通…"
    assert wx.locator("dd[data-key=thing2]").inner_text() == "因二次供水水箱年度清洗消毒，1 号楼 …"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", wx.locator("dd[data-key=time3]").inner_text())
    audience = d.page.inner_text("#audience")
    assert "共 3 人" in audience and "其中 2 人已订阅" in audience  # 张三, 钱七; 李四 has not accepted
    page_view = d.page.locator(".phone-screen.mp")
    assert TITLE in page_view.inner_text() and "停水通知" in page_view.inner_text()
    assert "停水时间：2026-12-05 09:00 至 17:00" in page_view.inner_text()
    assert "给您带来不便，敬请谅解。" in page_view.inner_text()
    d.shot("notice-form-preview")

    form.locator("button:has-text('发布并推送')").click()
    d.page.wait_for_selector("text=通知已发布")
    notice_id = int(re.search(r"/admin/notices/(\d+)", d.page.url).group(1))

    # The worker fans it out: exactly the building-1 owners who accepted the message.
    wait_for(lambda: d.page.inner_text("#figures").find("推送完成") >= 0, timeout=30)
    received = sandbox.messages(template_id="tpl-notice")
    assert sorted(m["touser"] for m in received) == ["owner-qianqi", "owner-zhangsan"]
    assert {m["page"] for m in received} == {f"pages/notices/detail?id={notice_id}"}
    assert received[0]["data"]["thing1"]["value"] == "1 号楼二次供水水箱清洗，全天停水的通…"  # as previewed
    assert d.page.inner_text("#push-recipients") == "3" and d.page.inner_text("#push-sent") == "2"
    assert d.page.inner_text("#push-skipped") == "1" and d.page.inner_text("#push-failed") == "0"
    assert d.page.inner_text("#read-households") == "0"

    # 张三 opens it in the mini-program: one household has read it.
    assert client.get(f"/api/v1/notices/{notice_id}", headers=zhangsan.headers).status_code == 200
    d.page.reload()
    assert d.page.inner_text("#read-households") == "1" and d.page.inner_text("#read-owners") == "1"
    assert "3 户有绑定住户" in d.page.inner_text("#figures")  # 1-1-101, 1-1-102, 1-2-301
    d.shot("notice-figures")

    d.page.click("nav.side >> text=通知")
    row = d.page.locator(f"#notice-{notice_id}")
    assert "停水通知" in row.inner_text() and "1栋" in row.inner_text() and "1 户" in row.inner_text()
    d.shot("notices-list")
    assert d.console_errors == []


def test_a_notice_that_cannot_be_published_says_why(desk, client, login, demo):
    d = desk()
    d.sign_in(RECEPTION)
    d.page.wait_for_selector("h1:has-text('工作台')")
    d.go("/admin/notices/new")
    form = d.page.locator("#notice-form")
    form.locator("input[name=title]").fill("停电通知")
    form.locator("textarea[name=content]").fill("3 号楼配电检修。")
    form.locator("input[name=starts_at]").fill("2026-12-05T17:00")
    form.locator("input[name=ends_at]").fill("2026-12-05T09:00")
    d.page.wait_for_selector(".notice-preview :text('结束时间：结束时间应晚于开始时间')")
    form.locator("input[name=scope][value=buildings]").check()  # but no building ticked
    form.locator("button:has-text('发布并推送')").click()
    d.page.wait_for_selector("fieldset.scope .field-error:has-text('必填')")
    assert form.locator("input[name=title]").input_value() == "停电通知"  # what was typed is kept
    assert form.locator("input[name=ends_at]").input_value() == "2026-12-05T09:00"
    form.locator("label:has-text('3栋') input").check()
    form.locator("button:has-text('发布并推送')").click()
    d.page.wait_for_selector(".field-error:has-text('结束时间应晚于开始时间')")
    assert client.get("/api/v1/staff/notices", headers=login("demo-reception")).get_json()["total"] == 0
    assert [e for e in d.console_errors if "status of 422" not in e] == []  # the refused form came back as 422
