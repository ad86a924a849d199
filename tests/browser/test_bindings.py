"""绑定审核: a waiting binding beside the roster; approve one, reject another with a reason."""
from __future__ import annotations

from tests.browser.conftest import RECEPTION, wait_for


def _request(client, login, openid, room, name, phone):
    headers = login(openid)
    res = client.post("/api/v1/me/houses", headers=headers, json={
        "community_code": "demo", "building": "1", "unit": "1", "room": room, "name": name, "phone": phone,
        "role": "owner"})
    assert res.status_code == 201 and res.get_json()["status"] == "pending", res.get_json()
    return res.get_json()["id"]


def test_receptionist_reviews_bindings_beside_the_roster(desk, client, login, sandbox):
    first = _request(client, login, "owner-a", "102", "张三", "13800000001")  # 102's roster owner is 李四
    second = _request(client, login, "owner-b", "201", "钱七", "13800000009")
    d = desk()
    d.sign_in(RECEPTION)
    d.go("/admin/bindings")
    row = d.page.locator(f"#binding-{first}")
    assert "李四" in row.inner_text() and "张三" in row.inner_text()
    d.shot("bindings")
    row.locator("button:has-text('通过')").click()
    d.page.wait_for_selector("text=已通过")
    assert d.page.locator(f"#binding-{first}").count() == 0  # no longer waiting
    other = d.page.locator(f"#binding-{second}")
    other.locator("summary").click()
    other.locator("input[name=reason]").fill("名册中无此人，请带房产证到服务中心办理")
    other.locator("button:has-text('驳回')").click()
    d.page.wait_for_selector("text=已驳回")
    assert "没有待审核的绑定申请" in d.page.inner_text("main")
    mine = client.get("/api/v1/me", headers=login("owner-b")).get_json()["houses"]
    assert mine[0]["status"] == "rejected"
    wait_for(lambda: sandbox.messages(template_id="tpl-binding-review"))  # the worker pushed the reviewers
