"""The API's HTML under its Content-Security-Policy, in a real browser: the Swagger UI still runs, the
printable service notice still gets its styles, and neither reports a policy violation."""
from __future__ import annotations

import pytest

from tests.workflow import book


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15000)
    page.errors = []  # console errors: a CSP violation is one (the browser's own /favicon.ico 404 is not ours)
    page.on("console", lambda msg: msg.type == "error" and not msg.location.get("url", "").endswith("/favicon.ico")
            and page.errors.append(msg.text))
    yield page
    context.close()


def test_the_swagger_ui_runs_under_its_policy(page, live_server):
    res = page.goto(f"{live_server}/api/v1/docs")
    assert "script-src 'self' 'sha256-" in res.headers["content-security-policy"]
    page.wait_for_selector(".swagger-ui .info .title")
    assert "物业服务中心 API" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector(".opblock-tag")  # the spec was fetched (connect-src 'self') and rendered
    assert page.errors == []


def test_the_service_notice_keeps_its_styles(page, live_server, client, zhangsan, login):
    order = book(client, zhangsan.headers)
    page.context.set_extra_http_headers(login("demo-reception"))
    res = page.goto(f"{live_server}/api/v1/staff/work-orders/{order['id']}/notice")
    assert res.status == 200 and "default-src 'none'" in res.headers["content-security-policy"]
    # The inline <style> applies: three stubs laid out as the stylesheet says (88 mm high each); the print
    # button's one handler is allowed (no violation reported when it is clicked).
    heights = page.eval_on_selector_all(".stub", "els => els.map(e => e.getBoundingClientRect().height)")
    assert len(heights) == 3 and all(abs(h - 88 * 96 / 25.4) < 2 for h in heights), heights
    page.evaluate("window.print = () => { window.printed = true }")
    page.click(".toolbar button")
    assert page.evaluate("window.printed") is True
    assert page.errors == []
