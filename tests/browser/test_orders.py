"""工单: the list with filters, paging and the xlsx export; an order's page: reassigning a worker (whose push
arrives), cancelling with a reason, taking an on-site payment and printing its receipt and the service
notice; another community's order is a 404 page."""
from __future__ import annotations

import io
import json
import re

import openpyxl

from tests.browser.conftest import CASHIER, RECEPTION, SHOTS, wait_for
from tests.browser.helpers import (  # noqa: F401 - worker_idle is a fixture
    console_errors, house_id, no_inline_script, register, staff_view, worker_idle,
)
from tests.api.test_uploads import tiny_png
from tests.workflow import book, report, work_through


def test_orders_list_filters_paging_and_export(desk, app, client, login):
    reception = login("demo-reception")
    made = [register(client, reception, house_id(app, "2", "1", "201"), f"2 栋第 {i} 处漏水") for i in range(22)]
    cleaning = register(client, reception, house_id(app, "3", "2", "602"), "楼道有垃圾", "public_cleaning",
                        name="赵六", phone="13800000004")
    d = desk()
    d.sign_in(RECEPTION)
    d.page.wait_for_selector("h1:has-text('工作台')")
    d.page.click("nav.side >> text=工单")
    d.page.wait_for_selector("h1:has-text('工单')")
    assert d.page.locator("table.orders tbody tr").count() == 20
    assert "共 23 条，第 1 / 2 页" in d.page.inner_text(".pager")
    assert d.page.locator("table.orders tbody tr").first.get_attribute("id") == f"order-{cleaning['id']}"
    d.shot("orders-list")
    no_inline_script(d.page)
    d.page.click(".pager >> text=下一页")
    d.page.wait_for_selector("text=第 2 / 2 页")
    assert d.page.locator("table.orders tbody tr").count() == 3
    assert d.page.locator("table.orders tbody tr").last.get_attribute("id") == f"order-{made[0]['id']}"

    # filters: the search box has the focus; a building and a department; they combine and stay in the links
    d.page.click(".filters >> text=清除")
    d.page.wait_for_url("**/admin/orders")
    d.page.wait_for_function("document.activeElement && document.activeElement.name === 'q'")
    d.page.fill("input[name=house]", "3")
    d.page.select_option("select[name=department]", "cleaning")
    d.page.click(".filters button[type=submit]")
    d.page.wait_for_selector("text=共 1 条")
    assert d.page.locator("table.orders tbody tr").count() == 1 and "赵六" in d.page.inner_text("table.orders")
    d.page.fill("input[name=house]", "")
    d.page.select_option("select[name=department]", "")
    d.page.fill("input[name=q]", "第 1")  # 第 1 处, 第 10 … 第 19 处
    d.page.click(".filters button[type=submit]")
    d.page.wait_for_selector("text=共 11 条")
    assert "q=" in d.page.url
    d.page.fill("input[name=created_from]", "2030-01-02")
    d.page.fill("input[name=created_to]", "2030-01-01")
    d.page.click(".filters button[type=submit]")
    d.page.wait_for_selector("text=结束日期不能早于开始日期")
    d.page.fill("input[name=created_from]", "")
    d.page.fill("input[name=created_to]", "")
    d.page.click(".filters button[type=submit]")
    d.page.wait_for_selector("text=共 11 条")

    # the export holds what the filter shows, newest first, with Chinese headers
    with d.page.expect_download() as download:
        d.page.click("text=导出 Excel")
    book_ = openpyxl.load_workbook(io.BytesIO(open(download.value.path(), "rb").read()))
    rows = list(book_["工单"].values)
    assert rows[0][0] == "工单号" and rows[0][7] == "房屋"
    expected = [o["number"] for o in reversed(made) if re.search(r"第 1\d? 处", o["description"])]
    assert [r[0] for r in rows[1:]] == expected
    assert {r[7] for r in rows[1:]} == {"2栋1单元201"} and {r[4] for r in rows[1:]} <= {"待派单", "已派单"}
    assert download.value.suggested_filename.endswith(".xlsx")
    assert console_errors(d) == []


def upload(client, headers) -> int:
    res = client.post("/api/v1/uploads", headers=headers, content_type="multipart/form-data",
                      data={"file": (io.BytesIO(tiny_png()), "leak.png", "image/png")})
    assert res.status_code == 201, res.get_json()
    return res.get_json()["id"]


def test_reassign_cancel_and_take_an_on_site_payment(desk, app, client, zhangsan, login, sandbox):
    photo = upload(client, zhangsan.headers)
    leak = report(client, zhangsan.headers, "water", "厨房水管漏水", photos=[photo])
    reception = login("demo-reception")
    wait_for(lambda: staff_view(client, reception, leak["id"])["status"] == "dispatched")  # the worker dispatched it
    first = staff_view(client, reception, leak["id"])["assignee"]["name"]
    d = desk()
    d.sign_in(RECEPTION)
    d.go(f"/admin/orders/{leak['id']}")
    d.page.wait_for_selector(f"h1:has-text('{leak['number']}')")
    rows = d.page.locator("#assign-form tbody tr")
    assert rows.count() == 3  # 周师傅, 吴师傅 and their supervisor, each with their state and load
    assert "在岗" in rows.first.inner_text() and first in d.page.inner_text("#assign-form")
    image = d.page.locator(".photos img").first
    image.wait_for()
    d.page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    d.shot("order-detail-repair")
    no_inline_script(d.page)
    other = "吴师傅" if first == "周师傅" else "周师傅"
    d.page.locator("#assign-form label", has_text=other).click()
    d.page.click("#assign-form button[type=submit]")
    d.page.wait_for_selector("text=已派单，员工会收到微信推送")
    assert d.page.url.endswith(f"/admin/orders/{leak['id']}?done=assigned")  # a reload shows the order again
    assert other in d.page.inner_text("dl.facts")
    openid = {"周师傅": "oa-demo-eng-1", "吴师傅": "oa-demo-eng-2"}[other]
    wait_for(lambda: [m for m in sandbox.messages(template_id="tpl-order-assigned") if m["touser"] == openid])
    assert "改派" in d.page.inner_text(".timeline")

    # cancel with a reason: a blank reason is refused, then the order is cancelled
    d.page.click("summary:has-text('取消工单')")
    d.page.click("#cancel-form button[type=submit]")  # the browser asks for the reason first
    assert d.page.locator("#cancel-form input[name=reason]:invalid").count() == 1
    d.page.fill("#cancel-form input[name=reason]", "业主来电说已自行修好")
    d.page.click("#cancel-form button[type=submit]")
    d.page.wait_for_selector("text=工单已取消，业主会收到通知")
    assert "已取消" in d.page.inner_text(".order-head") and "业主来电说已自行修好" in d.page.inner_text("dl.facts")
    assert d.page.locator("#assign-form").count() == 0 and d.page.locator("#cancel-form").count() == 0

    # a paid service, done: the cashier takes the money and prints the receipt and the service notice
    tap = book(client, zhangsan.headers)
    wait_for(lambda: staff_view(client, reception, tap["id"])["assignee"])
    worker = staff_view(client, reception, tap["id"])["assignee"]["name"]
    work_through(client, login({"周师傅": "demo-eng-1", "吴师傅": "demo-eng-2"}[worker]), tap["id"])
    cashier = desk()
    cashier.sign_in(CASHIER)
    cashier.go(f"/admin/orders/{tap['id']}")
    form = cashier.page.locator("#payment-form")
    assert form.locator("input[name=amount_yuan]").input_value() == "50.00"
    form.locator("input[name=amount_yuan]").fill("50.5")
    form.locator("input[name=receipt_no]").fill("SJ-2001")
    form.locator("button[type=submit]").click()
    cashier.page.wait_for_selector("text=收款超出应收金额")  # refused: 0.50 too much
    form.locator("input[name=amount_yuan]").fill("abc")
    form.locator("button[type=submit]").click()
    cashier.page.wait_for_selector("text=金额格式有误")
    form = cashier.page.locator("#payment-form")
    assert form.locator("input[name=receipt_no]").input_value() == "SJ-2001"  # kept for the retry
    form.locator("input[name=amount_yuan]").fill("50")
    form.locator("button[type=submit]").click()
    cashier.page.wait_for_selector("text=收款已登记")
    cashier.shot("order-detail-paid-service")
    assert cashier.page.locator("#payment-form").count() == 0  # fully paid
    # The printable documents bring their own inline style and print button, allowed by their own policy:
    # a policy refusing them would log here (screenshots are taken last: Playwright injects a style for them).
    printed = []
    cashier.page.context.on("console", lambda m: m.page != cashier.page and m.type == "error"
                            and not m.location.get("url", "").endswith("/favicon.ico") and printed.append(m.text))
    with cashier.page.context.expect_page() as opened:
        cashier.page.click("#flash >> text=打印收据 SJ-2001")
    receipt = opened.value
    receipt.wait_for_load_state()
    text = receipt.inner_text("body")
    assert "收款收据" in text and "SJ-2001" in text and "伍拾元整" in text and tap["number"] in text
    assert receipt.evaluate("getComputedStyle(document.querySelector('.receipt')).borderTopStyle") == "solid"
    with cashier.page.context.expect_page() as opened:
        cashier.page.click("text=打印服务通知单")
    notice = opened.value
    notice.wait_for_load_state()
    assert notice.locator(".stub").count() == 3 and "财务联" in notice.inner_text("body")
    assert notice.evaluate("getComputedStyle(document.querySelector('.cut')).borderTopStyle") == "dashed"
    notice.click("text=打印通知单")
    notice.wait_for_timeout(300)
    assert printed == [], "\n".join(printed)
    receipt.screenshot(path=str(SHOTS / "order-receipt.png"))
    notice.screenshot(path=str(SHOTS / "order-notice.png"), full_page=True)
    assert console_errors(cashier) == [] and console_errors(d) == []


def test_another_communitys_order_by_url_is_a_404_page(desk, app, client, login):
    other = login("other-manager")
    photo = upload(client, other)
    theirs = register(client, other, house_id(app, "9", "1", "101", community="other"), "外小区的漏水",
                      photos=[photo])
    d = desk()
    d.sign_in(RECEPTION)
    d.page.wait_for_selector("h1:has-text('工作台')")
    for path in (f"/admin/orders/{theirs['id']}", f"/admin/orders/{theirs['id']}/notice",
                 f"/admin/uploads/{photo}", "/admin/orders/999999"):
        response = d.go(path)
        assert response.status == 404, path
        assert "未找到" in d.page.inner_text("main")
    d.shot("order-404")
    assert theirs["number"] not in d.page.content()
    response = d.page.request.post(d.url(f"/admin/orders/{theirs['id']}/cancel"), form={
        "reason": "试试", "csrf_token": json.loads(d.page.get_attribute("body", "hx-headers"))["X-CSRF-Token"]})
    assert response.status == 404
    assert staff_view(client, login("other-manager"), theirs["id"])["status"] != "cancelled"
