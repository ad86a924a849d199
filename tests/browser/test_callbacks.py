"""回访: the queue of done work (a repair, a handled complaint) and a callback marked unsatisfied, which sends
the repair back for free rework: dispatched again and its worker pushed again."""
from __future__ import annotations

from tests.browser.conftest import RECEPTION, wait_for
from tests.workflow import first_house, report, work_through


def _order(client, headers, order_id):
    return client.get(f"/api/v1/staff/work-orders/{order_id}", headers=headers).get_json()


def _handled_complaint(client, zhangsan, reception):
    res = client.post("/api/v1/work-orders", headers=zhangsan.headers, json={
        "kind": "complaint", "house_id": first_house(client, zhangsan.headers), "category": "noise",
        "description": "楼上每晚装修到十一点"})
    assert res.status_code == 201, res.get_json()
    complaint = res.get_json()
    wait_for(lambda: _order(client, reception, complaint["id"])["status"] == "dispatched")  # the worker process
    res = client.post(f"/api/v1/staff/work-orders/{complaint['id']}/replies", headers=reception,
                      json={"content": "已与装修户沟通，晚八点后停工", "final": True})
    assert res.status_code == 200, res.get_json()
    return complaint


def test_a_callback_marked_unsatisfied_opens_rework(desk, client, login, zhangsan, sandbox):
    reception, worker = login("demo-reception"), login("demo-eng-1")
    repair = report(client, zhangsan.headers, description="厨房水管接口漏水")
    wait_for(lambda: _order(client, reception, repair["id"])["status"] == "dispatched")
    work_through(client, worker, repair["id"], {"notes": "已更换接口密封圈"})
    complaint = _handled_complaint(client, zhangsan, reception)
    assigned = wait_for(lambda: [m for m in sandbox.messages(template_id="tpl-order-assigned")
                                 if m["touser"] == "oa-demo-eng-1"])
    assert len(assigned) == 1

    d = desk()
    d.sign_in(RECEPTION)
    d.page.wait_for_selector("h1:has-text('工作台')")
    d.open("回访")
    row = d.page.locator(f"#callback-{repair['id']}")
    assert repair["number"] in row.inner_text() and "报修" in row.inner_text() and "张三" in row.inner_text()
    complaint_row = d.page.locator(f"#callback-{complaint['id']}")
    assert "投诉" in complaint_row.inner_text() and "重新打开，经理处理" in complaint_row.inner_text()
    link = row.locator(f"a:has-text('{repair['number']}')")
    assert link.count() == 1  # to the order's page once it exists
    assert "2" in d.page.locator("nav.tabs a[aria-current=page] .count").inner_text()
    d.shot("callbacks-queue")

    row.locator("input[value=unsatisfied]").check()
    row.locator("input[name=note]").fill("水管接口还在渗水")
    row.locator("button:has-text('记录回访')").click()
    d.page.wait_for_selector("text=已安排免费返工")
    assert d.page.locator(f"#callback-{repair['id']}").count() == 0  # no longer due: back in the works

    after = _order(client, reception, repair["id"])
    assert after["status"] in ("submitted", "dispatched") and after["rework_count"] == 1
    assert any(e["note"] == "回访不满意（水管接口还在渗水），免费返工" for e in after["timeline"])
    # The rework is dispatched again by the worker process: the same worker is pushed a second time.
    wait_for(lambda: len([m for m in sandbox.messages(template_id="tpl-order-assigned")
                          if m["touser"] == "oa-demo-eng-1"]) == 2)
    assert _order(client, reception, repair["id"])["status"] == "dispatched"

    # The complaint: satisfied, from the keyboard.
    form = d.page.locator(f"#callback-{complaint['id']} form")
    form.locator("input[value=satisfied]").focus()
    d.page.keyboard.press("Space")
    form.locator("input[name=note]").fill("业主表示满意")
    form.locator("input[name=note]").press("Enter")
    d.page.wait_for_selector("text=回访：满意")
    assert _order(client, reception, complaint["id"])["needs_callback"] is False
    assert "没有待回访的工单" in d.page.inner_text("main")

    # Called back: the complaint (the repair is being redone, so it waits for its next callback).
    d.page.click("nav.tabs >> text=已回访")
    done = d.page.locator(f"#callback-{complaint['id']}")
    done.wait_for()
    assert "满意" in done.inner_text() and "业主表示满意" in done.inner_text() and "刘芳" in done.inner_text()
    assert done.locator("form").count() == 0
    assert d.page.locator(f"#callback-{repair['id']}").count() == 0
    d.shot("callbacks-done")
    assert d.console_errors == []
