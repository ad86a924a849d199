"""Complaints: handlers, emergencies, replies, important complaints, corrective action, ratings, and
the clocks (handler 10 min, on site 5 min, reply, weekly updates, 3-day follow-up) with moved time."""
from datetime import timedelta

from server.accounts.models import Staff
from server.extensions import db
from server.wechat.models import Message
from jobs import workorders as workorder_jobs
from server.workorders.models import SlaBreach, WorkOrder
from tests.workflow import first_house


def complain(client, headers, category="noise", description="楼上每晚装修到十一点", **extra):
    res = client.post("/api/v1/work-orders", headers=headers, json={
        "kind": "complaint", "house_id": first_house(client, headers), "category": category,
        "description": description, **extra})
    assert res.status_code == 201, res.get_json()
    return res.get_json()


def desk(client, headers, order_id, action, body=None, status=200):
    res = client.post(f"/api/v1/staff/work-orders/{order_id}/{action}", headers=headers, json=body or {})
    assert res.status_code == status, res.get_json()
    return res.get_json()


def order(app, order_id) -> WorkOrder:
    with app.app_context():
        row = db.session.get(WorkOrder, order_id)
        db.session.expunge(row)
        return row


def test_general_complaint_gets_the_receptionist_and_its_clocks(app, client, zhangsan, login, run_jobs, sandbox):
    body = complain(client, zhangsan.headers)
    assert body["number"].startswith("TS") and body["kind_label"] == "投诉" and body["category_label"] == "噪音"
    assert body["department"] == "service_center"
    deadlines = body["deadlines"]
    assert deadlines["handler_due_at"] and deadlines["reply_due_at"] and deadlines["onsite_due_at"] is None
    run_jobs()
    row = order(app, body["id"])
    assert row.status == "dispatched"
    assert [m["touser"] for m in sandbox.messages(template_id="tpl-order-assigned")] == ["oa-demo-reception"]
    # The receptionist acknowledges through their task list: the 10-minute clock is met.
    res = client.post(f"/api/v1/staff/tasks/{body['id']}/accept", headers=login("demo-reception"), json={})
    assert res.status_code == 200 and res.get_json()["status_label"] == "已接单"
    assert order(app, body["id"]).offer_expires_at is None  # complaints have no per-offer timeout


def test_replies_reach_the_owner_and_the_final_one_starts_the_followup(app, client, zhangsan, login, run_jobs,
                                                                         sandbox):
    client.post("/api/v1/me/subscriptions", headers=zhangsan.headers, json={"accepted": ["tpl-complaint-reply"] * 2})
    body = complain(client, zhangsan.headers)
    run_jobs()
    reception = login("demo-reception")
    desk(client, reception, body["id"], "replies", {"content": "已联系楼上住户，今晚起十点后停工"})
    done = desk(client, reception, body["id"], "replies", {"content": "已处理完毕，欢迎监督", "final": True})
    assert done["status"] == "completed"
    due = done["deadlines"]["callback_due_at"]
    assert due and done["completed_at"] < due
    run_jobs()
    replies = [m["data"]["thing2"]["value"] for m in sandbox.messages(template_id="tpl-complaint-reply")]
    assert replies == ["已联系楼上住户，今晚起十点后停工", "已处理完毕，欢迎监督"]
    owner_view = client.get(f"/api/v1/work-orders/{body['id']}", headers=zhangsan.headers).get_json()
    assert [e["note"] for e in owner_view["timeline"] if e["action"] in ("reply", "resolve")] == replies
    again = client.post(f"/api/v1/staff/work-orders/{body['id']}/replies", headers=reception,
                        json={"content": "补充"})
    assert again.status_code == 409
    assert client.post(f"/api/v1/staff/work-orders/{body['id']}/replies", headers=reception,
                       json={"content": ""}).get_json()["error"]["fields"] == {"content": ["必填"]}


def test_low_rating_reopens_it_with_the_manager(app, client, zhangsan, login, run_jobs):
    body = complain(client, zhangsan.headers)
    run_jobs()
    desk(client, login("demo-reception"), body["id"], "replies", {"content": "已处理", "final": True})
    rated = client.post(f"/api/v1/work-orders/{body['id']}/rating", headers=zhangsan.headers,
                        json={"score": 1, "comment": "还是很吵"}).get_json()
    assert rated["status"] == "submitted" and rated["important"] is True
    run_jobs()
    row = order(app, body["id"])
    with app.app_context():
        assert db.session.get(Staff, row.assignee_id).role == "manager"
    good = complain(client, zhangsan.headers, "parking", "车位被占")
    run_jobs()
    desk(client, login("demo-reception"), good["id"], "replies", {"content": "已挪车", "final": True})
    closed = client.post(f"/api/v1/work-orders/{good['id']}/rating", headers=zhangsan.headers,
                         json={"score": 5}).get_json()
    assert closed["status"] == "closed"


def test_emergency_alerts_everyone_on_duty_and_needs_an_approved_incident_report(app, client, zhangsan, login,
                                                                                 run_jobs, sandbox):
    body = complain(client, zhangsan.headers, "emergency", "地下车库进水")
    assert body["emergency"] and body["urgent"] and body["deadlines"]["onsite_due_at"]
    with app.app_context():
        alerted = {m.touser for m in db.session.query(Message).filter_by(template_key="order_alert")}
        on_duty = {s.oa_openid for s in db.session.query(Staff).filter(
            Staff.community_id == db.session.get(WorkOrder, body["id"]).community_id)}
    assert alerted == on_duty  # the manager and every on-duty member of every department
    run_jobs()
    assert order(app, body["id"]).assignee_id is not None
    cleaner = login("demo-clean-1")  # any staff member may be the first responder
    assert client.get(f"/api/v1/staff/work-orders/{body['id']}", headers=cleaner).status_code == 200
    arrived = desk(client, cleaner, body["id"], "arrival")
    assert arrived["arrived_at"] and arrived["timeline"][-1]["action"] == "responder_arrived"
    desk(client, cleaner, body["id"], "arrival", status=409)

    manager = login("demo-manager")
    refused = desk(client, manager, body["id"], "replies", {"content": "已排水", "final": True}, status=409)
    assert refused["error"]["code"] == "incident_report_required"
    report = {"cause": "暴雨倒灌", "actions": "抽水、设沙袋", "losses": "两辆车进水", "people_involved": "无人受伤"}
    desk(client, cleaner, body["id"], "incident-report", report)
    desk(client, cleaner, body["id"], "incident-report/review", {"approve": True}, status=403)
    rejected = desk(client, manager, body["id"], "incident-report/review", {"approve": False, "note": "补充损失金额"})
    assert rejected["incident_report"]["status"] == "rejected"
    desk(client, manager, body["id"], "replies", {"content": "已排水", "final": True}, status=409)
    desk(client, cleaner, body["id"], "incident-report", {**report, "losses": "两辆车进水，约 2 万元"})
    approved = desk(client, manager, body["id"], "incident-report/review", {"approve": True})
    assert approved["incident_report"]["status_label"] == "已批准"
    done = desk(client, manager, body["id"], "replies", {"content": "已排水，车库恢复使用", "final": True})
    assert done["status"] == "completed"
    owner_view = client.get(f"/api/v1/work-orders/{body['id']}", headers=zhangsan.headers).get_json()
    assert "incident_report" not in {e["action"] for e in owner_view["timeline"]}


def test_service_attitude_goes_to_the_manager_with_corrective_action(app, client, zhangsan, login, run_jobs):
    body = complain(client, zhangsan.headers, "service_attitude", "保安态度恶劣", about_staff_name="某保安")
    assert body["about_staff_name"] == "某保安"
    run_jobs()
    with app.app_context():
        assert db.session.get(Staff, order(app, body["id"]).assignee_id).role == "manager"
    manager = login("demo-manager")
    action = {"action": "批评教育，向业主道歉", "deadline": "2030-01-10", "penalty": "扣当月绩效 100 元"}
    assert client.post(f"/api/v1/staff/work-orders/{body['id']}/corrective-action", headers=login("demo-reception"),
                       json=action).status_code == 403
    res = desk(client, manager, body["id"], "corrective-action", action)
    assert res["corrective_action"] == "批评教育，向业主道歉" and res["corrective_deadline"] == "2030-01-10"
    owner_view = client.get(f"/api/v1/work-orders/{body['id']}", headers=zhangsan.headers).get_json()
    assert "corrective_action" not in [e["action"] for e in owner_view["timeline"]]
    assert "penalty" not in owner_view
    noise = complain(client, zhangsan.headers)
    desk(client, manager, noise["id"], "corrective-action", action, status=409)


def test_important_complaint_is_the_managers_with_two_working_days(app, client, zhangsan, login, run_jobs):
    body = complain(client, zhangsan.headers)
    run_jobs()
    manager = login("demo-manager")
    res = desk(client, manager, body["id"], "important")
    assert res["important"] is True and res["assignee"]["name"] == "王建国"
    assert res["deadlines"]["reply_due_at"] > body["deadlines"]["reply_due_at"]
    desk(client, manager, body["id"], "important", status=409)
    assert client.post(f"/api/v1/staff/work-orders/{body['id']}/important",
                       headers=login("demo-reception")).status_code == 403


def test_desk_registers_written_complaints(app, client, zhangsan, login):
    reception = login("demo-reception")
    house_id = first_house(client, zhangsan.headers)
    res = client.post("/api/v1/staff/work-orders", headers=reception, json={
        "kind": "complaint", "house_id": house_id, "category": "facilities", "description": "电梯经常停运",
        "channel": "written", "contact_name": "张三", "contact_phone": "13800000001"})
    assert res.status_code == 201
    body = res.get_json()
    assert body["written"] is True and body["channel_label"] == "书面" and body["received_by"]["name"] == "刘芳"


def test_complaint_access_rules(app, client, zhangsan, login, run_jobs):
    body = complain(client, zhangsan.headers)
    run_jobs()
    assert client.post(f"/api/v1/staff/work-orders/{body['id']}/replies", headers=zhangsan.headers,
                       json={"content": "x"}).status_code == 403
    assert client.post(f"/api/v1/staff/work-orders/{body['id']}/replies",
                       json={"content": "x"}).status_code == 401
    assert client.post(f"/api/v1/staff/work-orders/{body['id']}/replies", headers=login("other-manager"),
                       json={"content": "x"}).status_code == 404
    assert client.post(f"/api/v1/staff/work-orders/{body['id']}/replies", headers=login("demo-eng-1"),
                       json={"content": "x"}).status_code == 404  # not theirs, not an emergency
    assert client.get(f"/api/v1/work-orders/{body['id']}", headers=login("owner-stranger")).status_code == 404


# -- the clocks, with moved time -----------------------------------------------------------------------

def test_unacknowledged_complaint_escalates_to_the_manager(app, client, zhangsan, login, run_jobs, sandbox, clock):
    body = complain(client, zhangsan.headers, "environment", "垃圾桶满溢")
    run_jobs()
    row = order(app, body["id"])
    clock.freeze(row.handler_due_at + timedelta(minutes=1))
    with app.app_context():
        assert workorder_jobs.escalate_overdue() >= 1
        breach = db.session.query(SlaBreach).filter_by(clock="handler").one()
        assert breach.level == 1 and breach.responsible_id == row.assignee_id
        taken = db.session.get(WorkOrder, body["id"])
        assert taken.assignee.role == "manager" and taken.status == "dispatched"
    run_jobs()
    alerts = [(m["touser"], m["data"]["thing2"]["value"]) for m in sandbox.messages(template_id="tpl-order-alert")]
    assert ("oa-demo-manager", "投诉 10 分钟内受理已超时") in alerts


def test_emergency_without_anyone_on_site_in_5_minutes_is_a_breach(app, client, zhangsan, login, run_jobs, clock):
    body = complain(client, zhangsan.headers, "emergency", "燃气味很重")
    run_jobs()
    client.post(f"/api/v1/staff/tasks/{body['id']}/accept", headers=login("demo-manager"), json={})
    clock.shift(minutes=6)
    with app.app_context():
        workorder_jobs.escalate_overdue()
        assert [b.clock for b in db.session.query(SlaBreach)] == ["onsite"]


def test_missed_reply_is_a_breach_and_a_reply_in_time_is_not(app, client, zhangsan, login, run_jobs, clock):
    late, on_time = complain(client, zhangsan.headers), complain(client, zhangsan.headers, "parking", "乱停车")
    run_jobs()
    reception = login("demo-reception")
    for b in (late, on_time):
        client.post(f"/api/v1/staff/tasks/{b['id']}/accept", headers=reception, json={})
    desk(client, reception, on_time["id"], "replies", {"content": "已贴告示"})
    clock.freeze(order(app, late["id"]).reply_due_at + timedelta(minutes=1))
    with app.app_context():
        workorder_jobs.escalate_overdue()
        assert [(b.order_id, b.clock) for b in db.session.query(SlaBreach)] == [(late["id"], "reply")]


def test_weekly_updates_while_open(app, client, zhangsan, login, run_jobs, sandbox, clock):
    # Three credits: "处理中" and "已受理" take two, the weekly update the third.
    client.post("/api/v1/me/subscriptions", headers=zhangsan.headers, json={"accepted": ["tpl-order-status"] * 3})
    body = complain(client, zhangsan.headers, "facilities", "小区路灯坏了一半")
    run_jobs()
    client.post(f"/api/v1/staff/tasks/{body['id']}/accept", headers=login("demo-reception"), json={})
    run_jobs()
    sandbox.http.delete(sandbox.base + "sandbox/messages")
    with app.app_context():
        assert workorder_jobs.weekly_updates() == 0  # not a week old yet
    clock.shift(days=8)
    with app.app_context():
        assert workorder_jobs.weekly_updates() == 1
        assert workorder_jobs.weekly_updates() == 0  # once a week
    run_jobs()
    reminded = [(m["touser"], m["data"]["thing2"]["value"]) for m in sandbox.messages(template_id="tpl-order-alert")]
    assert reminded == [("oa-demo-reception", "投诉超过一周未结，请向业主通报进展")]
    told = sandbox.messages(template_id="tpl-order-status")
    assert [m["data"]["thing4"]["value"] for m in told] == ["您的投诉仍在处理中，我们每周向您通报进展"]
    clock.shift(days=7, minutes=1)
    with app.app_context():
        assert workorder_jobs.weekly_updates() == 1


def test_followup_due_within_3_days_then_overdue(app, client, zhangsan, login, run_jobs, clock):
    body = complain(client, zhangsan.headers)
    run_jobs()
    done = desk(client, login("demo-reception"), body["id"], "replies", {"content": "已处理", "final": True})
    clock.shift(days=2)
    with app.app_context():
        workorder_jobs.escalate_overdue()
        assert db.session.query(SlaBreach).count() == 0
    clock.shift(days=1, minutes=5)
    with app.app_context():
        workorder_jobs.escalate_overdue()
        assert [b.clock for b in db.session.query(SlaBreach)] == ["callback"]
    queue = client.get("/api/v1/staff/callbacks?status=overdue", headers=login("demo-reception")).get_json()
    assert [i["number"] for i in queue["items"]] == [done["number"]]


def test_the_followup_callback_is_in_the_queue_and_unsatisfied_reopens_it_with_the_manager(
        app, client, zhangsan, login, run_jobs, sandbox):
    client.post("/api/v1/me/subscriptions", headers=zhangsan.headers, json={"accepted": ["tpl-order-status"] * 5})
    reception = login("demo-reception")
    first, second = complain(client, zhangsan.headers), complain(client, zhangsan.headers, "parking", "车位被占")
    run_jobs()
    handled = desk(client, reception, first["id"], "replies", {"content": "已协调停工", "final": True})
    desk(client, reception, second["id"], "replies", {"content": "已挪车", "final": True})

    def queue(query=""):
        res = client.get(f"/api/v1/staff/callbacks{query}", headers=reception)
        assert res.status_code == 200, res.get_json()
        return res.get_json()["items"]

    due = queue()
    assert [i["id"] for i in due] == [first["id"], second["id"]]
    assert due[0]["kind"] == "complaint" and due[0]["kind_label"] == "投诉" and due[0]["overdue"] is False
    assert due[0]["callback_due_at"] == handled["deadlines"]["callback_due_at"]  # 3 days after the final reply
    assert [i["id"] for i in queue("?kind=complaint")] == [first["id"], second["id"]]
    assert queue("?kind=repair") == []
    assert client.get("/api/v1/staff/callbacks?kind=party", headers=reception).status_code == 422

    desk(client, reception, second["id"], "callback", {"result": "satisfied", "note": "业主满意"}, status=201)
    done = queue("?status=done&kind=complaint")
    assert [i["id"] for i in done] == [second["id"]] and done[0]["last_callback"]["result_label"] == "满意"

    reopened = desk(client, reception, first["id"], "callback", {"result": "unsatisfied", "note": "还是很吵"},
                    status=201)
    assert reopened["result_label"] == "不满意"
    row = order(app, first["id"])
    assert row.status == "submitted" and row.important is True and row.rework_count == 1
    assert row.needs_callback is True and row.callback_due_at is None  # called back again once handled again
    assert [i["id"] for i in queue()] == []
    run_jobs()
    with app.app_context():
        assert db.session.get(Staff, order(app, first["id"]).assignee_id).role == "manager"
    told = [(m["data"]["phrase3"]["value"], m["data"]["thing4"]["value"])
            for m in sandbox.messages(template_id="tpl-order-status")]
    assert ("重新处理", "服务中心经理将亲自跟进") in told
    timeline = client.get(f"/api/v1/staff/work-orders/{first['id']}", headers=reception).get_json()["timeline"]
    assert "回访不满意（还是很吵），重新打开，由经理处理" in [e["note"] for e in timeline]
