"""Dispatch, re-offer on timeout, escalation of missed deadlines, auto-confirm/close: real RQ workers."""
from datetime import timedelta

from server.accounts.models import Staff
from server.extensions import db
from server.outbox import OutboxJob
from server.timeutil import utcnow
from jobs import workorders as workorder_jobs
from server.workorders import dispatch as dispatching
from server.workorders.models import SlaBreach, WorkOrder
from tests.workflow import book, report, task_action, work_through


def order_row(app, order_id) -> WorkOrder:
    with app.app_context():
        order = db.session.get(WorkOrder, order_id)
        db.session.expunge(order)
        return order


def assignee_name(app, order_id):
    with app.app_context():
        order = db.session.get(WorkOrder, order_id)
        return order.assignee.name if order.assignee else None


def test_dispatch_picks_right_department_skill_and_load(app, client, zhangsan, run_jobs, sandbox):
    first = report(client, zhangsan.headers, "water")  # water: only 周师傅 has the skill
    second = report(client, zhangsan.headers, "electricity", "跳闸")  # both have it; 吴师傅 has fewer orders
    third = report(client, zhangsan.headers, "greening", "树枝折断")  # cleaning: 何阿姨 is the gardener
    run_jobs()
    assert [assignee_name(app, o["id"]) for o in (first, second, third)] == ["周师傅", "吴师傅", "何阿姨"]
    pushed = {m["touser"]: m for m in sandbox.messages(template_id="tpl-order-assigned")}
    assert set(pushed) == {"oa-demo-eng-1", "oa-demo-eng-2", "oa-demo-clean-2"}
    assert pushed["oa-demo-eng-1"]["miniprogram"]["pagepath"] == f"pages/staff/tasks/detail?id={first['id']}"


def test_owner_is_told_who_comes_when_they_have_a_credit(app, client, zhangsan, run_jobs, sandbox):
    client.post("/api/v1/me/subscriptions", headers=zhangsan.headers, json={"accepted": ["tpl-order-status"]})
    order = report(client, zhangsan.headers)
    run_jobs()
    status = sandbox.messages(template_id="tpl-order-status")
    assert len(status) == 1 and status[0]["touser"] == "owner-zhangsan"
    assert status[0]["data"]["phrase3"]["value"] == "已派单"
    assert status[0]["data"]["thing4"]["value"] == "周师傅 13900000005"
    assert status[0]["data"]["character_string1"]["value"] == order["number"]
    assert status[0]["page"] == f"pages/orders/detail?id={order['id']}"


def test_decline_goes_to_the_next_worker(app, client, zhangsan, login, run_jobs):
    order = report(client, zhangsan.headers, "electricity", "跳闸")
    run_jobs()
    first = assignee_name(app, order["id"])
    worker = login({"周师傅": "demo-eng-1", "吴师傅": "demo-eng-2"}[first])
    task_action(client, worker, order["id"], "decline", {"reason": "不在小区"})
    run_jobs()
    second = assignee_name(app, order["id"])
    assert second and second != first
    assert order_row(app, order["id"]).status == "dispatched"


def test_unaccepted_offer_goes_to_the_next_worker_then_the_supervisor(app, client, zhangsan, run_jobs, sandbox,
                                                                        monkeypatch):
    monkeypatch.setitem(app.config, "DISPATCH_ACCEPT_MINUTES", 0)  # every offer times out at once
    order = report(client, zhangsan.headers, "electricity", "跳闸")
    run_jobs()
    row = order_row(app, order["id"])
    assert row.status == "dispatched" and row.offer_no == 2  # offered twice, the second offer stays open
    with app.app_context():
        events = [e.action for e in db.session.get(WorkOrder, order["id"]).events]
        assert events.count("offer_timeout") == 1 and events.count("breach") == 1
        breach = db.session.query(SlaBreach).one()
        assert (breach.clock, breach.level) == ("accept", 1)
    offered = [m["touser"] for m in sandbox.messages(template_id="tpl-order-assigned")]
    assert offered == ["oa-demo-eng-1", "oa-demo-eng-2"]
    alerts = [(m["touser"], m["data"]["thing2"]["value"]) for m in sandbox.messages(template_id="tpl-order-alert")]
    assert ("oa-demo-eng-1", "超时未接单，已改派他人") in alerts
    assert ("oa-demo-eng-lead", "超时无人接单，请手动派单") in alerts


def test_timeout_after_accept_does_nothing(app, client, zhangsan, login, run_jobs):
    order = report(client, zhangsan.headers)
    run_jobs()
    task_action(client, login("demo-eng-1"), order["id"], "accept")
    with app.app_context():
        assert dispatching.offer_timeout(order["id"], 1) == "skipped"
        row = db.session.query(OutboxJob).filter_by(func="jobs.workorders.offer_timeout").one()
        assert row.status == "pending" and row.available_at > utcnow()  # scheduled for later, harmless then


def test_no_worker_on_duty_alerts_the_supervisor(app, client, zhangsan, run_jobs, sandbox):
    with app.app_context():
        db.session.query(Staff).filter(Staff.department == "cleaning", Staff.role == "worker").update({"on_duty": False})
        db.session.commit()
    order = report(client, zhangsan.headers, "public_cleaning", "电梯厅脏")
    run_jobs()
    assert order_row(app, order["id"]).status == "submitted"
    alerts = sandbox.messages(template_id="tpl-order-alert")
    assert [(m["touser"], m["data"]["thing2"]["value"]) for m in alerts] == [
        ("oa-demo-clean-lead", "无在岗员工可派，请手动派单")]


def test_dispatch_job_run_twice_dispatches_once(app, client, zhangsan, run_jobs, sandbox):
    order = report(client, zhangsan.headers)
    run_jobs()
    with app.app_context():
        assert dispatching.dispatch(order["id"]) == "skipped"
    run_jobs()
    assert len(sandbox.messages(template_id="tpl-order-assigned")) == 1


def test_missed_deadlines_go_to_supervisor_then_manager_once(app, client, zhangsan, run_jobs, sandbox):
    order = report(client, zhangsan.headers)
    run_jobs()
    with app.app_context():
        db.session.get(WorkOrder, order["id"]).complete_due_at = utcnow() - timedelta(minutes=5)
        db.session.commit()
        assert workorder_jobs.escalate_overdue() == 1
        assert workorder_jobs.escalate_overdue() == 0  # idempotent
        db.session.get(WorkOrder, order["id"]).complete_due_at = utcnow() - timedelta(hours=1)
        db.session.commit()
        assert workorder_jobs.escalate_overdue() == 1
        levels = [(b.clock, b.level) for b in db.session.query(SlaBreach).order_by(SlaBreach.level)]
        assert levels == [("complete", 1), ("complete", 2)]
    run_jobs()
    alerts = [(m["touser"], m["data"]["thing2"]["value"]) for m in sandbox.messages(template_id="tpl-order-alert")]
    assert alerts == [("oa-demo-eng-lead", "当日完工已超时"), ("oa-demo-manager", "当日完工超时未处理，请督办")]
    staff_view = client.get(f"/api/v1/staff/work-orders/{order['id']}", headers={
        **zhangsan.headers})
    assert staff_view.status_code == 403  # owners never see the staff view


def test_breaches_are_on_the_staff_view(app, client, zhangsan, login, run_jobs):
    order = book(client, zhangsan.headers)
    with app.app_context():
        db.session.get(WorkOrder, order["id"]).confirm_due_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
        workorder_jobs.escalate_overdue()
    view = client.get(f"/api/v1/staff/work-orders/{order['id']}", headers=login("demo-manager")).get_json()
    assert [(b["clock"], b["clock_label"]) for b in view["breaches"]] == [("confirm", "预约确认（10 分钟）")]


def test_callback_clock_goes_to_receptionists(app, client, zhangsan, login, run_jobs, sandbox):
    order = report(client, zhangsan.headers)
    run_jobs()
    work_through(client, login("demo-eng-1"), order["id"])
    with app.app_context():
        db.session.get(WorkOrder, order["id"]).callback_due_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
        workorder_jobs.escalate_overdue()
        assert db.session.query(SlaBreach).one().clock == "callback"
    run_jobs()
    assert [m["touser"] for m in sandbox.messages(template_id="tpl-order-alert")] == ["oa-demo-reception"]


def test_auto_confirm_and_close(app, client, zhangsan, login, run_jobs, monkeypatch):
    quiet, pricier = report(client, zhangsan.headers), book(client, zhangsan.headers)
    run_jobs()
    worker = login("demo-eng-1")
    work_through(client, worker, quiet["id"])
    tap = next(m["id"] for m in client.get("/api/v1/staff/catalog/materials", headers=worker).get_json())
    work_through(client, worker, pricier["id"], {"materials": [{"material_id": tap, "quantity": 1}]})
    with app.app_context():
        for oid in (quiet["id"], pricier["id"]):
            db.session.get(WorkOrder, oid).completed_at = utcnow() - timedelta(hours=73)
        db.session.commit()
        assert workorder_jobs.auto_finish() == {"confirmed": 1, "closed": 0}  # a higher amount waits for the owner
        db.session.get(WorkOrder, quiet["id"]).confirmed_at = utcnow() - timedelta(days=8)
        db.session.commit()
        assert workorder_jobs.auto_finish() == {"confirmed": 0, "closed": 1}
        assert db.session.get(WorkOrder, quiet["id"]).status == "closed"
        assert db.session.get(WorkOrder, pricier["id"]).status == "completed"
