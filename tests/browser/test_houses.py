"""房屋与住户: the roster import previews every refused row before anything is kept, then imports the file
previewed; finding a house as you type; a house's page with its residents, bindings, orders and account."""
from __future__ import annotations

from sqlalchemy import func, select

from server.accounts.models import House, RosterEntry
from server.extensions import db
from tests.browser.conftest import MANAGER, RECEPTION, SHOTS
from tests.browser.helpers import console_errors, house_id, no_inline_script, worker_idle  # noqa: F401
from tests.workflow import report

CSV = ("楼栋,单元,房号,楼层,建筑面积,姓名,手机号,身份\n"
       "8,1,101,1,95.00,钱七,13600000007,业主\n"
       "8,1,102,1,95.00,孙八,1360000,业主\n"
       "8,1,103,1,九十,周九,13600000009,业主\n"
       "1,1,101,1,89.50,张小三,13600000008,家庭成员\n")


def counts(app) -> tuple[int, int]:
    with app.app_context():
        out = (db.session.scalar(select(func.count()).select_from(House)),
               db.session.scalar(select(func.count()).select_from(RosterEntry)))
        db.session.remove()
        return out


def test_roster_import_previews_refused_rows_then_imports(desk, app, tmp_path):
    path = tmp_path / "名册.csv"
    path.write_bytes(CSV.encode("gbk"))  # as Excel saves it
    before = counts(app)
    d = desk()
    d.sign_in(MANAGER)
    d.open("房屋与住户")
    no_inline_script(d.page)
    d.page.set_input_files("input[name=file]", str(path))
    d.page.click("text=上传并预览")
    d.page.wait_for_selector("#roster-preview")
    text = d.page.inner_text("#roster-preview")
    assert "预览（尚未写入）" in text and "新增房屋 1 套" in text and "新增住户 2 人" in text
    rows = d.page.locator("#rejected-rows tbody tr")
    assert rows.count() == 2
    assert "第 3 行" in rows.nth(0).inner_text() and "手机号 1360000 格式有误" in rows.nth(0).inner_text()
    assert "第 4 行" in rows.nth(1).inner_text() and "建筑面积 九十 不是数字" in rows.nth(1).inner_text()
    assert counts(app) == before  # nothing kept yet
    d.shot("houses-import-preview")
    d.page.click("text=确认导入其余 2 行")
    d.page.wait_for_selector("text=名册已导入")
    assert "新增房屋 1 套" in d.page.inner_text("#flash") and "2 行被拒绝" in d.page.inner_text("#flash")
    assert counts(app) == (before[0] + 1, before[1] + 2)
    d.shot("houses-imported")
    assert console_errors(d) == []


def test_a_receptionist_finds_a_house_and_reads_its_page(desk, app, client, login, zhangsan):
    order = report(client, zhangsan.headers, description="卫生间漏水")
    d = desk()
    d.sign_in(RECEPTION)
    d.open("房屋与住户")
    assert d.page.locator("text=导入业主名册").count() == 0  # the manager's
    d.page.fill("input[name=q]", "张三")
    d.page.wait_for_selector("#house-suggestions .suggestions button")
    d.shot("houses-suggestions")
    d.page.keyboard.press("ArrowDown")
    d.page.keyboard.press("Enter")  # the first suggestion: its house's page
    d.page.wait_for_selector("h1:has-text('1栋1单元101')")
    assert d.page.url.endswith(f"/admin/houses/{house_id(app, '1', '1', '101')}")
    roster = d.page.inner_text("#roster")
    assert "张三" in roster and "业主" in roster and "已绑定" in roster
    assert "已通过" in d.page.inner_text("#memberships")
    assert order["number"] in d.page.inner_text("#house-orders")
    assert d.page.locator("#account-title").count() == 1 and "待缴" in d.page.inner_text(".figures")
    no_inline_script(d.page)
    d.shot("house-page")
    d.page.click(f"text={order['number']}")
    d.page.wait_for_url(f"**/admin/orders/{order['id']}")

    d.go("/admin/houses?q=1-2")  # a whole unit, by number, with Enter
    assert d.page.locator("#house-hits tbody tr").count() == 12
    d.shot("houses-search")
    d.go("/admin/houses?q=王麻子")
    assert "没有找到与“王麻子”相符的房屋或住户" in d.page.inner_text("main")
    other = d.go(f"/admin/houses/{house_id(app, '9', '1', '101', community='other')}")
    assert other.status == 404 and "未找到该房屋" in d.page.inner_text("main")
    assert console_errors(d) == []
    assert SHOTS.joinpath("house-page.png").exists()
