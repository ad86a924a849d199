"""满意度调查 and 常见问题: recording a survey (the house picked by typing its number), the month's progress
towards 20 households, answering an opinion; a common problem answered with a notice prefilled from it."""
from __future__ import annotations

from jobs import feedback as feedback_jobs
from tests.browser.conftest import MANAGER, RECEPTION, wait_for


def _house(client, headers, q):
    [found] = client.get("/api/v1/staff/houses/search", headers=headers, query_string={"q": q}).get_json()
    return found["house"]["id"]


def test_recording_a_survey_and_answering_its_opinion(desk, client, login, demo):
    reception = login("demo-reception")
    for room, answer in (("201", "satisfied"), ("202", "satisfied"), ("301", "basically_satisfied")):
        res = client.post("/api/v1/staff/surveys", headers=reception, json={
            "house_id": _house(client, reception, f"2-1-{room}"), "method": "visit", "answer": answer})
        assert res.status_code == 201, res.get_json()

    d = desk()
    d.sign_in(RECEPTION)
    d.page.wait_for_selector("h1:has-text('工作台')")
    d.open("满意度调查")
    assert d.page.inner_text("#surveyed") == "3" and "还差 17 户" in d.page.inner_text("#progress")
    assert d.page.evaluate("document.activeElement.name") == "q"  # the house search box

    form = d.page.locator("#survey-form")
    d.page.keyboard.type("1-1-10")
    pick = d.page.locator("#house-suggestions button:has-text('1栋1单元101')")
    pick.wait_for()
    assert "张三（业主） 13800000001" in pick.inner_text()
    d.page.keyboard.press("ArrowDown")  # into the suggestions, then pick with Enter
    d.page.keyboard.press("Enter")
    assert form.locator("input[name=q]").input_value() == "1栋1单元101"
    assert form.locator("input[name=respondent_name]").input_value() == "张三"  # from the roster
    assert form.locator("input[name=respondent_phone]").input_value() == "13800000001"
    form.locator("label:has-text('基本满意') input").check()
    form.locator("textarea[name=comments]").fill("电梯经常停运，希望尽快维修")
    form.locator("button:has-text('登记')").click()
    d.page.wait_for_selector("text=已登记 1栋1单元101 的调查结果")
    assert d.page.inner_text("#surveyed") == "4" and d.page.inner_text("#unanswered") == "1"
    row = d.page.locator("tr.awaiting")
    assert "1栋1单元101" in row.inner_text() and "电梯经常停运" in row.inner_text()
    d.shot("surveys-progress")

    # The same house again this month: refused, what was typed stays.
    form = d.page.locator("#survey-form")
    form.locator("input[name=q]").fill("1-1-101")
    d.page.locator("#house-suggestions button:has-text('1栋1单元101')").click()
    form.locator("label:has-text('不满意') input").check()
    form.locator("button:has-text('登记')").click()
    d.page.wait_for_selector(".flash-error:has-text('本月')")
    assert d.page.locator("#survey-form input[name=q]").input_value() == "1栋1单元101"

    d.page.click("text=1 条未答复")
    row = d.page.locator("tr.awaiting")
    assert row.count() == 1
    row.locator("textarea[name=response]").fill("已联系电梯公司，本周内完成检修，届时通知您")
    row.locator("button:has-text('答复')").click()
    d.page.wait_for_selector("text=已记录对 1栋1单元101 意见的答复")
    assert d.page.inner_text("#unanswered") == "全部已答复"
    assert "没有未答复的意见" in d.page.inner_text("main")
    surveys = client.get("/api/v1/staff/surveys", headers=reception).get_json()["items"]
    answered = next(s for s in surveys if s["house"]["label"] == "1栋1单元101")
    assert answered["response"] == "已联系电梯公司，本周内完成检修，届时通知您" and answered["responded_by"]["name"] == "刘芳"
    assert [e for e in d.console_errors if "status of 409" not in e] == []


def _noise_problem(client, reception) -> int:
    """Three noise complaints in building 1, registered at the desk: the periodic job opens a problem."""
    for room in ("101", "102", "201"):
        res = client.post("/api/v1/staff/work-orders", headers=reception, json={
            "kind": "complaint", "house_id": _house(client, reception, f"1-1-{room}"), "category": "noise",
            "description": "晚上十一点后还有施工噪音", "channel": "phone", "contact_name": "业主",
            "contact_phone": "13800000009"})
        assert res.status_code == 201, res.get_json()
    assert feedback_jobs.detect_common_problems()["opened"] == 1
    return client.get("/api/v1/staff/common-problems", headers=reception).get_json()["items"][0]["id"]


def test_answering_a_common_problem_with_a_notice(desk, client, login, demo):
    reception = login("demo-reception")
    _noise_problem(client, reception)

    d = desk()
    d.sign_in(MANAGER)
    d.page.wait_for_selector("h1:has-text('工作台')")
    d.open("常见问题")
    d.page.click("text=1栋 · 噪音")
    d.page.wait_for_selector("h1:has-text('1栋 · 噪音问题')")
    assert d.page.locator("section:has-text('涉及的投诉') tbody tr").count() == 3
    form = d.page.locator("#notice-form")
    assert form.locator("input[name=title]").input_value() == "关于1栋噪音问题的答复"
    assert "共 3 件投诉" in form.locator("textarea[name=content]").input_value()
    assert form.locator("select[name=kind]").input_value() == "common_problem"
    assert form.locator("label:has-text('1栋') input").is_checked()
    assert not form.locator("label:has-text('2栋') input").is_checked()
    d.page.wait_for_selector("#audience:has-text('1栋')")
    d.shot("problem")

    content = form.locator("textarea[name=content]")
    content.fill(content.input_value().replace("一、问题原因：", "一、问题原因：1 单元 301 室装修超时施工。"))
    form.locator("button:has-text('发布通知并答复')").click()
    d.page.wait_for_selector("text=已发布通知答复此问题")
    assert "已答复" in d.page.inner_text("h1") and d.page.locator("#notice-form").count() == 0
    d.page.click("a:has-text('关于1栋噪音问题的答复')")
    d.page.wait_for_selector("h1:has-text('关于1栋噪音问题的答复')")
    notice_id = int(d.page.url.rsplit("/", 1)[1])
    notice = client.get(f"/api/v1/staff/notices/{notice_id}", headers=reception).get_json()
    assert notice["scope_label"] == "1栋" and notice["kind"] == "common_problem" and notice["common_problem_id"]
    assert "装修超时施工" in notice["content"]
    wait_for(lambda: "推送完成" in d.page.inner_text("#figures"), timeout=30)
    d.open("常见问题")
    assert "已答复" in d.page.inner_text("table.list")
    d.shot("problems")
    assert d.console_errors == []


def test_who_may_open_these_pages(desk, client, login, demo):
    """Another community's records are "not found"; staff without the permission are refused; no page
    carries inline script or style."""
    from tests.browser.conftest import OTHER_MANAGER

    reception = login("demo-reception")
    notice = client.post("/api/v1/staff/notices", headers=reception, json={"title": "通知", "content": "内容"})
    survey = client.post("/api/v1/staff/surveys", headers=reception, json={
        "house_id": _house(client, reception, "1-1-101"), "method": "phone", "answer": "satisfied",
        "comments": "希望增加快递柜"})
    notice_id, survey_id = notice.get_json()["id"], survey.get_json()["id"]
    problem_id = _noise_problem(client, reception)

    d = desk()
    d.sign_in(RECEPTION)
    d.page.wait_for_selector("h1:has-text('工作台')")
    for path in ("/admin/callbacks", "/admin/surveys", "/admin/problems", f"/admin/problems/{problem_id}",
                 "/admin/notices", "/admin/notices/new", f"/admin/notices/{notice_id}"):
        res = d.go(path)
        assert res.status == 200, path
        html = d.page.content()
        assert "<script>" not in html and " style=" not in html and " onclick=" not in html, path

    other = desk()
    other.sign_in(OTHER_MANAGER)
    other.page.wait_for_selector("h1:has-text('工作台')")
    assert other.go(f"/admin/notices/{notice_id}").status == 404
    assert "未找到该通知" in other.page.inner_text("main")
    assert other.go(f"/admin/problems/{problem_id}").status == 404
    assert other.go("/admin/surveys").status == 200 and "希望增加快递柜" not in other.page.inner_text("main")

    cashier = desk()
    cashier.sign_in("13900000002")  # 收费员: no callbacks, surveys or notices to publish
    cashier.page.wait_for_selector("h1:has-text('工作台')")
    menu = cashier.page.inner_text("nav.side")
    assert "回访" not in menu and "满意度调查" not in menu and "常见问题" not in menu
    for path in ("/admin/callbacks", "/admin/surveys", "/admin/problems", "/admin/notices/new"):
        assert cashier.go(path).status == 403, path
    # A form posted anyway is refused by the server too.
    token = cashier.page.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']")
    res = cashier.page.request.post(cashier.url(f"/admin/surveys/{survey_id}/response"),
                                    form={"csrf_token": token, "response": "好的"})
    assert res.status == 403
