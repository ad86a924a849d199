"""员工: a supervisor manages only their own department's workers (no button for the others, and a forged
POST is refused with a 403 page); a worker added on the page binds the official account by scanning the
one-time QR code in the sandbox and then receives the order dispatched to them; a password reset."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from sqlalchemy import select

from server.accounts.models import Staff
from server.extensions import db
from tests.browser.conftest import ENG_LEAD, MANAGER, wait_for
from tests.browser.helpers import console_errors, no_inline_script, worker_idle  # noqa: F401
from tests.workflow import report


def staff_id(app, phone: str) -> int:
    with app.app_context():
        out = db.session.scalar(select(Staff.id).where(Staff.phone == phone))
        db.session.remove()
        return out


def person(app, phone: str) -> Staff:
    with app.app_context():
        out = db.session.scalar(select(Staff).where(Staff.phone == phone))
        db.session.expunge_all()
        db.session.remove()
        return out


def csrf(d) -> str:
    return d.page.locator("input[name=csrf_token]").first.get_attribute("value")  # the sign-out form's


def test_a_supervisor_cannot_edit_another_departments_worker(desk, app, live_server):
    cleaner, own = staff_id(app, "13900000008"), staff_id(app, "13900000005")  # 冯阿姨 (保洁), 周师傅 (工程)
    d = desk()
    d.sign_in(ENG_LEAD)
    d.open("员工")
    assert d.page.locator(f"#staff-{cleaner} >> text=编辑").count() == 0
    assert d.page.locator(f"#staff-{cleaner} form").count() == 0
    assert d.page.locator(f"#staff-{own} >> text=编辑").count() == 1
    assert d.page.locator("#new-staff").count() == 0  # adding people is the manager's
    no_inline_script(d.page)
    d.shot("staff-supervisor")

    forged = d.page.request.post(f"{live_server}/admin/staff/{cleaner}", form={
        "csrf_token": csrf(d), "on_duty": "false", "skills": ""})
    assert forged.status == 403 and "没有权限管理该员工" in forged.text()
    assert person(app, "13900000008").on_duty is True
    page = d.go(f"/admin/staff/{cleaner}")
    assert page.status == 403 and "没有权限管理该员工" in d.page.inner_text("main")
    d.shot("staff-forbidden")

    # their own worker: skills and on duty, nothing else
    d.go(f"/admin/staff/{own}")
    assert d.page.locator("select[name=department]").count() == 0 and d.page.locator("text=重置密码").count() == 0
    d.page.uncheck("input[name=skills][value=electricity]")
    d.page.click("button:has-text('保存')")
    d.page.wait_for_selector("text=已保存")
    assert person(app, "13900000005").skills == ["water"]
    assert [e for e in console_errors(d) if "status of 403" not in e] == []  # the refused page itself


def test_a_new_worker_scans_the_qr_code_and_receives_a_dispatched_order(desk, app, client, zhangsan, sandbox,
                                                                        live_server):
    d = desk()
    d.sign_in(MANAGER)
    d.open("员工")
    form = d.page.locator("#new-staff form")
    form.locator("input[name=name]").fill("郭师傅")
    form.locator("input[name=phone]").fill("13900000010")
    form.locator("select[name=department]").select_option("engineering")
    form.locator("select[name=role]").select_option("worker")
    form.locator("input[name=skills][value=water]").check()
    d.shot("staff-new")
    form.locator("button:has-text('添加员工')").click()
    d.page.wait_for_selector("h1:has-text('郭师傅')")
    assert "请生成公众号绑定二维码" in d.page.inner_text("#flash")
    guo = person(app, "13900000010")
    assert (guo.department, guo.role, guo.skills, guo.on_duty, guo.oa_openid) == (
        "engineering", "worker", ["water"], True, None)
    d.shot("staff-member")

    d.page.click("a:has-text('公众号绑定二维码')")
    d.page.wait_for_selector("text=公众号未绑定")
    no_inline_script(d.page)
    d.shot("staff-qr-start")
    d.page.click("button:has-text('生成绑定二维码')")
    d.page.wait_for_selector("#oa-qr svg")
    d.shot("staff-qr")
    ticket = parse_qs(urlparse(d.page.get_attribute("#qr-image-link", "href")).query)["ticket"][0]
    scan = sandbox.post("/sandbox/oa/scan", json={"openid": "oa-guo", "ticket": ticket,
                                                   "callback_url": live_server + "/wechat/official/events"}).json()
    assert scan["delivered"] and "绑定成功：郭师傅（工程部）" in scan["reply"], scan
    d.page.wait_for_selector("#oa-state >> text=公众号已绑定", timeout=10000)  # the page polls
    d.shot("staff-qr-bound")

    # the only on-duty engineering worker with the water skill: the others go off duty on the page
    d.open("员工")
    for phone in ("13900000005", "13900000006"):  # 周师傅, 吴师傅
        d.page.locator(f"#staff-{staff_id(app, phone)} >> text=设为不在岗").click()
        d.page.wait_for_selector("text=的在岗状态")
    assert not person(app, "13900000005").on_duty and not person(app, "13900000006").on_duty
    row = d.page.inner_text(f"#staff-{guo.id}")
    assert "在岗" in row and "已绑定" in row and "给排水" in row
    d.shot("staff-list")

    order = report(client, zhangsan.headers, description="厨房水管漏水")
    pushed = wait_for(lambda: sandbox.messages(template_id="tpl-order-assigned", touser="oa-guo"))
    assert order["number"] in str(pushed[0]["data"])
    assert console_errors(d) == []


def test_the_manager_resets_a_password(desk, app, live_server):
    worker = staff_id(app, "13900000006")
    other = desk()
    other.sign_in("13900000006")  # 吴师傅 is signed in elsewhere
    other.page.wait_for_selector("h1:has-text('工作台')")
    d = desk()
    d.sign_in(MANAGER)
    d.go(f"/admin/staff/{worker}")
    d.page.fill("input[name=password]", "new-password-9")
    d.page.click("button:has-text('重置密码')")
    d.page.wait_for_selector("text=密码已重置")
    other.go("/admin/")
    assert "/admin/login" in other.page.url  # their session ended
    other.sign_in("13900000006", "new-password-9")
    other.page.wait_for_selector("h1:has-text('工作台')")
