"""The admin shell: signing in and out, the lock-out, CSRF, who may open what, headers."""
from __future__ import annotations

import re

import requests

from tests.browser.conftest import MANAGER, RECEPTION


def test_receptionist_signs_in_sees_the_board_and_signs_out(desk):
    d = desk()
    d.go("/admin/")
    assert "/admin/login" in d.page.url
    d.shot("login")
    d.sign_in(RECEPTION)
    d.page.wait_for_selector("h1:has-text('工作台')")
    assert "刘芳" in d.page.inner_text(".top")
    d.shot("board-empty")
    d.page.click("text=退出")
    d.page.wait_for_selector("input[name=phone]")
    d.go("/admin/")
    assert "/admin/login" in d.page.url
    assert d.console_errors == []


def test_the_sixth_wrong_password_waits(desk):
    d = desk()
    for _ in range(5):
        d.sign_in(MANAGER, "wrong-password")
        assert "手机号或密码错误" in d.page.inner_text(".flash") or "分钟后再试" in d.page.inner_text(".flash")
    d.sign_in(MANAGER)  # the right password, but the account waits now
    assert "分钟后再试" in d.page.inner_text(".flash")
    d.shot("login-locked")
    assert "/admin/login" in d.page.url


def test_a_post_without_the_csrf_token_is_refused(desk, live_server):
    d = desk()
    d.sign_in(RECEPTION)
    d.page.wait_for_selector("h1:has-text('工作台')")
    cookies = {c["name"]: c["value"] for c in d.page.context.cookies()}
    session = requests.Session()
    session.trust_env = False
    session.cookies.update(cookies)
    res = session.post(f"{live_server}/admin/logout", allow_redirects=False)
    assert res.status_code == 400 and "页面已过期" in res.text
    assert session.get(f"{live_server}/admin/", allow_redirects=False).status_code == 200  # still signed in
    token = re.search(r'"X-CSRF-Token": "([0-9a-f]+)"', session.get(f"{live_server}/admin/").text).group(1)
    ok = session.post(f"{live_server}/admin/logout", data={"csrf_token": token}, allow_redirects=False)
    assert ok.status_code == 302


def test_an_owner_token_never_opens_the_admin_page(desk, live_server, client, login):
    headers = login("owner-zhangsan")
    res = requests.get(f"{live_server}/admin/", headers=headers, allow_redirects=False)
    assert res.status_code == 302 and "/admin/login" in res.headers["Location"]
    staff_token = login("demo-manager")  # a staff member's API token is no cookie either
    assert requests.get(f"{live_server}/admin/", headers=staff_token, allow_redirects=False).status_code == 302


def test_pages_carry_a_strict_policy(desk, live_server):
    res = requests.get(f"{live_server}/admin/login")
    assert "script-src 'self'" in res.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in res.headers["Content-Security-Policy"]
    assert res.headers["X-Frame-Options"] == "DENY" and res.headers["Referrer-Policy"]
    assert "<script>" not in res.text and " style=" not in res.text
