"""flask CLI: roster import (report, re-run, encodings), demo data, config, passwords."""
import pytest
from sqlalchemy import func, select

from server.accounts.models import Building, Community, House, RosterEntry, Staff
from server.extensions import db

HEADER = "community_code,building,unit,room,floor,area_m2,name,phone,role\n"


@pytest.fixture
def community(app):
    with app.app_context():
        db.session.add(Community(code="lake", name="湖畔花园"))
        db.session.commit()


def counts(app):
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Building, House, RosterEntry))


def run(app, *args, input=None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def test_roster_import_reports_rejected_rows_and_reruns_cleanly(app, community, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(HEADER +
                    "lake,1,1,101,1,89.5,张三,13800000001,owner\n"
                    "lake,1,1,102,1,89.5,,,\n"
                    "lake,1,1,103,1,abc,王五,13800000003,owner\n"
                    "lake,1,1,104,1,90,李四,1380000,owner\n"
                    "nowhere,1,1,101,1,90,赵六,13800000004,owner\n"
                    "lake,1,1,105,1,90,钱七,13800000005,boss\n"
                    "lake,2,1,101,,,孙八,,\n"
                    "lake,,1,101,1,90,周九,13800000009,owner\n", encoding="utf-8")
    res = run(app, "roster", "import", str(path))
    assert res.exit_code == 1
    assert "新增房屋 2" in res.output and "新增住户 1" in res.output and "拒绝 6" in res.output
    for line, reason in [(4, "建筑面积 abc 不是数字"), (5, "手机号 1380000 格式有误"), (6, "小区编码 nowhere 不存在"),
                         (7, "身份 boss 无法识别"), (8, "姓名和手机号须同时填写"), (9, "building 为空")]:
        assert f"第 {line} 行：{reason}" in res.output
    first = counts(app)
    assert first == (1, 2, 1)

    again = run(app, "roster", "import", str(path))
    assert "新增房屋 0" in again.output and "无变化 2" in again.output
    assert counts(app) == first


def test_roster_import_updates_in_place_and_reads_chinese_headers_and_gbk(app, community, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes(("小区编码,楼栋,单元,房号,楼层,建筑面积,姓名,手机号,身份\n"
                      "lake,3,2,601,6,120,张三,13800000001,业主\n").encode("gbk"))
    assert run(app, "roster", "import", str(path)).exit_code == 0
    path.write_bytes(("小区编码,楼栋,单元,房号,楼层,建筑面积,姓名,手机号,身份\n"
                      "lake,3,2,601,6,121.5,张三丰,13800000001,租户\n").encode("gbk"))
    res = run(app, "roster", "import", str(path))
    assert "更新房屋 1" in res.output and "更新住户 1" in res.output
    with app.app_context():
        entry = db.session.scalars(select(RosterEntry)).one()
        assert (entry.name, entry.role) == ("张三丰", "tenant")
        assert str(db.session.scalars(select(House)).one().area_m2) == "121.50"


def test_roster_import_dry_run_and_missing_columns(app, community, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(HEADER + "lake,1,1,101,1,89.5,张三,13800000001,owner\n", encoding="utf-8")
    res = run(app, "roster", "import", "--dry-run", str(path))
    assert "试运行" in res.output and counts(app) == (0, 0, 0)
    path.write_text("name,phone\n张三,13800000001\n", encoding="utf-8")
    res = run(app, "roster", "import", str(path))
    assert res.exit_code == 1 and "缺少列" in res.output


def test_roster_import_default_community(app, community, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("楼栋,单元,房号\n5,1,101\n", encoding="utf-8")
    assert run(app, "roster", "import", "--community", "lake", str(path)).exit_code == 0
    assert counts(app) == (1, 1, 0)


def test_demo_load_is_idempotent(app):
    assert "已载入" in run(app, "demo", "load").output
    assert "已存在" in run(app, "demo", "load").output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(House)) == 72
        assert db.session.scalar(select(func.count()).select_from(Staff)) == 9
        zhang = db.session.scalars(select(RosterEntry).where(RosterEntry.name == "张三")).one()
        assert (zhang.house.label, zhang.phone) == ("1栋1单元101", "13800000001")
        assert all(s.on_duty and s.oa_openid for s in db.session.scalars(select(Staff)))


def test_staff_set_password(app, client, demo):
    assert run(app, "staff", "set-password", "13900000001", input="new-password-1\n").exit_code == 0
    res = client.post("/api/v1/auth/staff-login", json={"phone": "13900000001", "password": "new-password-1"})
    assert res.status_code == 200
    assert run(app, "staff", "set-password", "13900000001", input="short\n").exit_code != 0


def test_config_show_hides_secrets(app):
    out = run(app, "config", "show").output
    assert "WUYE_SECRET_KEY=***" in out and "test-secret-key" not in out


def test_community_create(app):
    assert run(app, "community", "create", "hill", "山景苑").exit_code == 0
    assert run(app, "community", "create", "hill", "山景苑").exit_code != 0


def test_staff_create_makes_the_first_manager(app, client, community):
    res = run(app, "staff", "create", "lake", "13900000055", "湖畔经理", input="first-pass-1\n")
    assert res.exit_code == 0, res.output
    login = client.post("/api/v1/auth/staff-login", json={"phone": "13900000055", "password": "first-pass-1"})
    assert login.status_code == 200 and login.get_json()["staff"]["role"] == "manager"
    assert run(app, "staff", "create", "lake", "13900000055", "重复", input="first-pass-1\n").exit_code != 0
    assert run(app, "staff", "create", "nowhere", "13900000056", "某", input="first-pass-1\n").exit_code != 0


def test_a_half_loaded_demo_is_completed(app):
    from server.accounts.models import Community

    with app.app_context():
        db.session.add(Community(code="demo", name="示例小区"))  # as if an earlier load had stopped halfway
        db.session.commit()
    assert "已载入" in run(app, "demo", "load").output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(House)) == 72


def test_every_fee_command_is_under_bills(app):
    """One group name for fees: `flask bills generate|reconcile`; there is no `billing` group."""
    res = run(app, "bills", "--help")
    assert res.exit_code == 0 and "generate" in res.output and "reconcile" in res.output
    assert "billing" not in app.cli.list_commands(None)
    assert run(app, "billing", "reconcile").exit_code != 0
