"""The endpoints behind the admin page's 房屋与住户 and 员工: the roster import with its preview (dry run,
then the file previewed), a house's file, the official-account binding code's QR content."""
from __future__ import annotations

import io

from sqlalchemy import func, select

from server.accounts.models import Building, House, RosterEntry, Staff
from server.auth.models import AuthSession
from server.extensions import db
from tests.workflow import report

IMPORT = "/api/v1/staff/roster/import"
def upload(text: str, name: str = "roster.csv") -> dict:
    return {"file": (io.BytesIO(text.encode("utf-8")), name, "text/csv")}


def house_id(app, building: str, unit: str, room: str) -> int:
    with app.app_context():
        return db.session.scalar(select(House.id).join(Building).where(
            Building.code == building, House.unit == unit, House.room == room, House.community.has(code="demo")))


def counts(app) -> tuple[int, int]:
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(House)),
                db.session.scalar(select(func.count()).select_from(RosterEntry)))


CSV = ("community_code,building,unit,room,floor,area_m2,name,phone,role\n"
       "demo,7,1,101,1,88.00,钱七,13600000007,owner\n"
       "demo,1,1,101,1,89.50,张小三,13600000008,family\n"
       "demo,7,1,102,1,88.00,孙八,1360000,owner\n"
       "other,9,1,102,1,,,,\n")


def test_preview_reports_refused_rows_keeps_nothing_then_imports_the_file_previewed(app, client, login, demo):
    manager = login("demo-manager")
    before = counts(app)
    res = client.post(IMPORT + "?dry_run=true", headers=manager, data=upload(CSV),
                      content_type="multipart/form-data")
    assert res.status_code == 200, res.get_json()
    preview = res.get_json()
    assert preview["dry_run"] is True and preview["rows"] == 4
    assert (preview["houses_created"], preview["entries_created"]) == (1, 2)
    assert preview["rejected"] == [{"line": 4, "reason": "手机号 1360000 格式有误"},
                                   {"line": 5, "reason": "小区编码 other 不是本小区（demo）"}]
    assert counts(app) == before  # nothing kept

    done = client.post(IMPORT + f"?preview_id={preview['preview_id']}", headers=manager)
    assert done.status_code == 200, done.get_json()
    result = done.get_json()
    assert result["dry_run"] is False and result["preview_id"] is None
    assert (result["houses_created"], result["entries_created"], len(result["rejected"])) == (1, 2, 2)
    assert counts(app) == (before[0] + 1, before[1] + 2)
    with app.app_context():  # the other community's house was not created
        assert db.session.scalar(select(func.count()).select_from(House).where(House.room == "102",
                                                                                House.unit == "1")) == 3

    again = client.post(IMPORT + f"?preview_id={preview['preview_id']}", headers=manager)
    assert again.status_code == 404 and again.get_json()["error"]["code"] == "preview_expired"
    rerun = client.post(IMPORT, headers=manager, data=upload(CSV), content_type="multipart/form-data").get_json()
    assert (rerun["houses_created"], rerun["entries_created"], rerun["unchanged"]) == (0, 0, 2)


def test_only_the_manager_imports_and_a_preview_is_theirs(app, client, login, demo):
    reception = login("demo-reception")
    res = client.post(IMPORT + "?dry_run=true", headers=reception, data=upload(CSV),
                      content_type="multipart/form-data")
    assert res.status_code == 403 and res.get_json()["error"]["message"] == "只有经理可以导入业主名册"
    preview = client.post(IMPORT + "?dry_run=true", headers=login("demo-manager"), data=upload(CSV),
                          content_type="multipart/form-data").get_json()
    other = client.post(IMPORT + f"?preview_id={preview['preview_id']}", headers=login("other-manager"))
    assert other.status_code == 404  # another manager cannot import it
    missing = client.post(IMPORT, headers=login("demo-manager"))
    assert missing.status_code == 422 and "file" in missing.get_json()["error"]["fields"]
    gbk = client.post(IMPORT + "?dry_run=true", headers=login("demo-manager"), content_type="multipart/form-data",
                      data={"file": (io.BytesIO("楼栋,单元,房号\n8,1,101\n".encode("gbk")), "r.csv")}).get_json()
    assert gbk["houses_created"] == 1 and gbk["rejected"] == []
    columns = client.post(IMPORT + "?dry_run=true", headers=login("demo-manager"), content_type="multipart/form-data",
                          data=upload("姓名,手机号\n张三,13800000001\n")).get_json()
    assert columns["rejected"] == [{"line": 1, "reason": "缺少列：building、unit、room"}]


def test_a_house_file_shows_roster_bindings_orders_and_account(app, client, login, zhangsan):
    order = report(client, zhangsan.headers)
    house = house_id(app, "1", "1", "101")
    res = client.get(f"/api/v1/staff/houses/{house}", headers=login("demo-reception"))
    assert res.status_code == 200, res.get_json()
    body = res.get_json()
    assert body["house"]["label"] == "1栋1单元101"
    assert [(e["name"], e["role"]) for e in body["roster"]] == [("张三", "owner")]
    assert [(m["name"], m["status"]) for m in body["memberships"]] == [("张三", "approved")]
    assert body["orders_total"] == 1 and body["orders"][0]["number"] == order["number"]
    account = body["account"]  # the demo generated this month's bills for 1-1-101
    assert account["unpaid_count"] >= 1 and account["unpaid_fen"] > 0 and account["latest"]

    # a worker sees only their own orders and no account
    assert client.get(f"/api/v1/staff/houses/{house}", headers=login("demo-eng-1")).status_code == 403
    other = client.get(f"/api/v1/staff/houses/{house}", headers=login("other-manager"))
    assert other.status_code == 404
    finance_view = client.get(f"/api/v1/staff/houses/{house}", headers=login("demo-cashier")).get_json()
    assert finance_view["account"] is not None and finance_view["orders"] == []  # repairs are not a cashier's


def test_the_binding_code_carries_what_its_qr_code_holds(app, client, login, demo, sandbox):
    with app.app_context():
        worker = db.session.scalar(select(Staff.id).where(Staff.mp_openid == "demo-eng-1"))
    body = client.post(f"/api/v1/staff/members/{worker}/oa-binding", headers=login("demo-manager")).get_json()
    assert body["qr_content"].startswith("http://weixin.qq.com/q/")
    assert "showqrcode?ticket=" in body["qr_url"]


def test_a_password_reset_ends_that_persons_sessions(app, client, login, demo):
    worker_headers = login("demo-eng-1")
    with app.app_context():
        worker = db.session.scalar(select(Staff.id).where(Staff.mp_openid == "demo-eng-1"))
    assert client.get("/api/v1/staff/me", headers=worker_headers).status_code == 200
    res = client.patch(f"/api/v1/staff/members/{worker}", headers=login("demo-manager"),
                       json={"password": "new-password-1"})
    assert res.status_code == 200
    assert client.get("/api/v1/staff/me", headers=worker_headers).status_code == 401
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuthSession).where(
            AuthSession.staff_id == worker, AuthSession.revoked_at.is_(None))) == 0
    supervisor = client.patch(f"/api/v1/staff/members/{worker}", headers=login("demo-eng-lead"),
                              json={"password": "new-password-2"})
    assert supervisor.status_code == 403


def test_a_phone_another_member_of_staff_has_is_refused(app, client, login, demo):
    with app.app_context():
        worker = db.session.scalar(select(Staff.id).where(Staff.mp_openid == "demo-eng-1"))
    res = client.patch(f"/api/v1/staff/members/{worker}", headers=login("demo-manager"), json={"phone": "13900000006"})
    assert res.status_code == 409 and res.get_json()["error"]["code"] == "phone_taken"
    same = client.patch(f"/api/v1/staff/members/{worker}", headers=login("demo-manager"), json={"phone": "13900000005"})
    assert same.status_code == 200
