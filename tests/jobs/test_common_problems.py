"""Common problems: several complaints of one category in one building within 7 days open one problem and
alert the managers (periodic job); later complaints join it; a linked notice answers it; an unanswered one
reminds the managers once after a week."""
import pytest
from sqlalchemy import select

from jobs import feedback as feedback_jobs
from server.accounts.models import Building, Community, House
from server.extensions import db
from server.feedback.models import CommonProblem
from server.feedback.services import DETECTED_ALERT, OVERDUE_ALERT
from server.notices.models import Notice
from server.wechat.models import Message

PROBLEMS = "/api/v1/staff/common-problems"


def house_id(app, label: str, community: str = "demo") -> int:
    building, unit, room = label.split("-")
    with app.app_context():
        return db.session.scalar(
            select(House.id).join(Building, Building.id == House.building_id)
            .join(Community, Community.id == House.community_id)
            .where(Community.code == community, Building.code == building, House.unit == unit, House.room == room))


def complain(app, client, headers, house: str, category: str = "noise", community: str = "demo") -> dict:
    res = client.post("/api/v1/staff/work-orders", headers=headers, json={
        "kind": "complaint", "house_id": house_id(app, house, community), "category": category,
        "description": "晚上十一点后还有施工噪音", "channel": "phone", "contact_name": "业主",
        "contact_phone": "13800000009"})
    assert res.status_code == 201, res.get_json()
    return res.get_json()


def alerts(app, what: str) -> list[tuple[str, str, str]]:
    with app.app_context():
        return [(m.touser, m.payload["character_string1"]["value"], m.payload["thing3"]["value"])
                for m in db.session.scalars(select(Message).where(Message.template_key == "order_alert")
                                            .order_by(Message.id))
                if m.payload["thing2"]["value"] == what]


def problems(client, headers, query: str = "") -> list[dict]:
    res = client.get(f"{PROBLEMS}{query}", headers=headers)
    assert res.status_code == 200, res.get_json()
    return res.get_json()["items"]


@pytest.fixture
def desk(login, demo):
    return login("demo-reception")


def test_detected_at_the_threshold_and_later_complaints_join(app, client, desk, login, run_jobs, sandbox):
    manager = login("demo-manager")
    complain(app, client, desk, "1-1-101")
    complain(app, client, desk, "1-2-302")
    complain(app, client, desk, "1-1-102", category="environment")  # another category
    complain(app, client, desk, "2-1-201")  # another building
    assert feedback_jobs.detect_common_problems() == {"opened": 0, "joined": 0}
    assert problems(client, manager) == []

    third = complain(app, client, desk, "1-1-501")
    assert feedback_jobs.detect_common_problems() == {"opened": 1, "joined": 0}
    assert feedback_jobs.detect_common_problems() == {"opened": 0, "joined": 0}  # nothing new
    [problem] = problems(client, manager)
    assert problem["building"]["code"] == "1" and problem["category"] == "noise"
    assert problem["category_label"] == "噪音" and problem["status"] == "open" and problem["status_label"] == "待答复"
    assert problem["complaint_count"] == 3 and problem["notice_id"] is None and problem["overdue"] is False
    assert problem["answer_due_at"] > problem["detected_at"] and problem["answer_due_at"].endswith("+08:00")
    assert alerts(app, DETECTED_ALERT) == [("oa-demo-manager", third["number"], "1栋·噪音投诉3件")]

    fourth = complain(app, client, desk, "1-2-602")
    assert feedback_jobs.detect_common_problems() == {"opened": 0, "joined": 1}
    detail = client.get(f"{PROBLEMS}/{problem['id']}", headers=desk).get_json()
    assert detail["complaint_count"] == 4 and detail["complaints"][-1]["number"] == fourth["number"]
    assert detail["complaints"][0]["house"]["label"] == "1栋1单元101" and detail["notice"] is None
    assert len(alerts(app, DETECTED_ALERT)) == 1  # joining alerts nobody

    # A different building makes its own problem; a cancelled complaint does not count.
    cancelled = complain(app, client, desk, "2-1-202")
    res = client.post(f"/api/v1/staff/work-orders/{cancelled['id']}/cancel", headers=desk, json={"reason": "误报"})
    assert res.status_code == 200, res.get_json()
    complain(app, client, desk, "2-2-101")
    assert feedback_jobs.detect_common_problems() == {"opened": 0, "joined": 0}
    complain(app, client, desk, "2-2-102")
    assert feedback_jobs.detect_common_problems() == {"opened": 1, "joined": 0}
    listed = problems(client, manager)
    assert [(p["building"]["code"], p["complaint_count"]) for p in listed] == [("2", 3), ("1", 4)]
    assert problems(client, manager, "?status=answered") == []

    run_jobs()  # the alerts reach the manager's official account
    sent = [(m["touser"], m["data"]["thing3"]["value"]) for m in sandbox.messages(template_id="tpl-order-alert")
            if m["data"]["thing2"]["value"] == DETECTED_ALERT]
    assert sorted(sent) == [("oa-demo-manager", "1栋·噪音投诉3件"), ("oa-demo-manager", "2栋·噪音投诉3件")]


def test_only_complaints_within_the_window_count(app, client, desk, login, clock):
    complain(app, client, desk, "3-1-101", category="facilities")
    clock.shift(days=8)
    desk = login("demo-reception")  # tokens last 7 days
    complain(app, client, desk, "3-1-102", category="facilities")
    complain(app, client, desk, "3-1-201", category="facilities")
    assert feedback_jobs.detect_common_problems()["opened"] == 0  # the first is 8 days older
    third = complain(app, client, desk, "3-2-301", category="facilities")
    assert feedback_jobs.detect_common_problems()["opened"] == 1
    [problem] = problems(client, login("demo-manager"))
    detail = client.get(f"{PROBLEMS}/{problem['id']}", headers=desk).get_json()
    assert detail["complaint_count"] == 3 and detail["complaints"][-1]["number"] == third["number"]
    assert [c["house"]["label"] for c in detail["complaints"]] == ["3栋1单元102", "3栋1单元201", "3栋2单元301"]
    assert feedback_jobs.detect_common_problems() == {"opened": 0, "joined": 0}  # the old one never joins


def test_threshold_is_configurable(app, client, desk, monkeypatch):
    monkeypatch.setitem(app.config, "COMMON_PROBLEM_THRESHOLD", 2)
    complain(app, client, desk, "1-1-101", category="parking")
    complain(app, client, desk, "1-1-102", category="parking")
    assert feedback_jobs.detect_common_problems()["opened"] == 1


def three_noise_complaints(app, client, desk, building="1"):
    for room in ("101", "102", "201"):
        complain(app, client, desk, f"{building}-1-{room}")
    assert feedback_jobs.detect_common_problems()["opened"] == 1


def test_publishing_a_notice_from_the_problem_answers_it(app, client, desk, login, run_jobs):
    three_noise_complaints(app, client, desk)
    manager = login("demo-manager")
    [problem] = problems(client, manager)
    url = f"{PROBLEMS}/{problem['id']}/notice"
    res = client.post(url, headers=manager, json={})
    assert res.status_code == 422 and set(res.get_json()["error"]["fields"]) == {"title", "content"}
    res = client.post(url, headers=manager, json={"notice_id": 1, "title": "x"})
    assert res.status_code == 422 and "title" in res.get_json()["error"]["fields"]

    res = client.post(url, headers=manager, json={
        "title": "关于1栋夜间施工噪音的答复", "content": "已要求装修户严格遵守施工时间，晚上 8 点后禁止施工。"})
    assert res.status_code == 200, res.get_json()
    answered = res.get_json()
    assert answered["status"] == "answered" and answered["status_label"] == "已答复"
    assert answered["answered_by"]["name"] == "王建国" and answered["answered_at"].endswith("+08:00")
    notice = answered["notice"]
    assert notice["id"] == answered["notice_id"] and notice["kind"] == "common_problem"
    assert notice["scope_label"] == "1栋"  # scoped to the problem's building by default
    staff_view = client.get(f"/api/v1/staff/notices/{notice['id']}", headers=desk).get_json()
    assert staff_view["common_problem_id"] == problem["id"] and staff_view["kind_label"] == "问题答复"
    assert client.post(url, headers=manager, json={"title": "再答复", "content": "内容"}).status_code == 409
    assert problems(client, manager, "?status=open") == []
    assert [p["id"] for p in problems(client, manager, "?status=answered")] == [problem["id"]]

    # Answered problems are history: a new complaint does not join, three new ones open a new problem.
    complain(app, client, desk, "1-2-101")
    assert feedback_jobs.detect_common_problems() == {"opened": 0, "joined": 0}
    complain(app, client, desk, "1-2-102")
    complain(app, client, desk, "1-2-201")
    assert feedback_jobs.detect_common_problems() == {"opened": 1, "joined": 0}
    run_jobs()  # the notice's fan-out runs

    # Whole community on request.
    newest = problems(client, manager, "?status=open")[0]
    whole = client.post(f"{PROBLEMS}/{newest['id']}/notice", headers=desk,
                        json={"title": "噪音问题答复", "content": "全小区施工时间规定", "scope": None})
    assert whole.status_code == 200 and whole.get_json()["notice"]["scope_label"] == "全体住户"


def test_linking_an_existing_notice(app, client, desk, login):
    three_noise_complaints(app, client, desk)
    three_noise_complaints(app, client, desk, building="2")
    manager = login("demo-manager")
    second, first = problems(client, manager)
    published = client.post("/api/v1/staff/notices", headers=manager, json={
        "title": "施工噪音答复", "content": "已约谈装修户", "kind": "common_problem", "scope": {"buildings": ["1"]}})
    assert published.status_code == 201
    notice_id = published.get_json()["id"]
    res = client.post(f"{PROBLEMS}/{first['id']}/notice", headers=desk, json={"notice_id": notice_id})
    assert res.status_code == 200, res.get_json()
    assert res.get_json()["status"] == "answered" and res.get_json()["notice"]["id"] == notice_id
    with app.app_context():
        assert db.session.get(Notice, notice_id).common_problem_id == first["id"]
        assert db.session.get(CommonProblem, first["id"]).notice_id == notice_id
    taken = client.post(f"{PROBLEMS}/{second['id']}/notice", headers=desk, json={"notice_id": notice_id})
    assert taken.status_code == 409 and taken.get_json()["error"]["code"] == "notice_already_linked"
    missing = client.post(f"{PROBLEMS}/{second['id']}/notice", headers=desk, json={"notice_id": 99999})
    assert missing.status_code == 404


def test_roles_and_community_scoping(app, client, desk, login, zhangsan):
    three_noise_complaints(app, client, desk)
    [problem] = problems(client, desk)
    url = f"{PROBLEMS}/{problem['id']}"
    for openid in ("demo-eng-1", "demo-cashier", "demo-eng-lead"):
        headers = login(openid)
        assert client.get(PROBLEMS, headers=headers).status_code == 403, openid
        assert client.get(url, headers=headers).status_code == 403, openid
        assert client.post(f"{url}/notice", headers=headers, json={"notice_id": 1}).status_code == 403, openid
    assert client.get(PROBLEMS, headers=zhangsan.headers).status_code == 403
    assert client.get(PROBLEMS).status_code == 401
    other = login("other-manager")
    assert problems(client, other) == []
    assert client.get(url, headers=other).status_code == 404
    assert client.post(f"{url}/notice", headers=other, json={"title": "t", "content": "c"}).status_code == 404
    # A notice of another community cannot answer this problem.
    foreign = client.post("/api/v1/staff/notices", headers=other, json={"title": "通知", "content": "内容"})
    res = client.post(f"{url}/notice", headers=desk, json={"notice_id": foreign.get_json()["id"]})
    assert res.status_code == 404
    assert client.get(f"{PROBLEMS}?status=late", headers=desk).status_code == 422


def test_overdue_reminder_fires_once(app, client, desk, login, clock, run_jobs, sandbox):
    three_noise_complaints(app, client, desk)
    three_noise_complaints(app, client, desk, building="2")
    manager = login("demo-manager")
    second, first = problems(client, manager)
    assert feedback_jobs.remind_overdue_problems() == 0  # a week to answer
    client.post(f"{PROBLEMS}/{second['id']}/notice", headers=manager, json={"title": "答复", "content": "已处理"})
    clock.shift(days=6)
    assert feedback_jobs.remind_overdue_problems() == 0
    assert problems(client, manager, "?status=overdue") == []
    clock.shift(days=2)
    manager = login("demo-manager")  # tokens last 7 days
    assert [p["id"] for p in problems(client, manager, "?status=overdue")] == [first["id"]]
    assert feedback_jobs.remind_overdue_problems() == 1  # the answered one is not reminded
    assert feedback_jobs.remind_overdue_problems() == 0  # once per problem
    reminded = client.get(f"{PROBLEMS}/{first['id']}", headers=manager).get_json()
    assert reminded["reminded_at"] and reminded["overdue"] is True and reminded["status"] == "open"
    assert [(to, where) for to, _number, where in alerts(app, OVERDUE_ALERT)] == [("oa-demo-manager", "1栋·噪音投诉3件")]
    run_jobs()
    sent = [m["touser"] for m in sandbox.messages(template_id="tpl-order-alert")
            if m["data"]["thing2"]["value"] == OVERDUE_ALERT]
    assert sent == ["oa-demo-manager"]
    # Answering late still answers it; no more reminders.
    client.post(f"{PROBLEMS}/{first['id']}/notice", headers=manager, json={"title": "答复", "content": "已处理"})
    clock.shift(days=30)
    assert feedback_jobs.remind_overdue_problems() == 0


def test_an_open_problem_offers_a_draft_of_its_answer(app, client, desk, login):
    three_noise_complaints(app, client, desk)
    manager = login("demo-manager")
    [problem] = problems(client, manager)
    detail = client.get(f"{PROBLEMS}/{problem['id']}", headers=manager).get_json()
    draft = detail["notice_draft"]
    assert draft["kind"] == "common_problem" and draft["scope"] == {"buildings": ["1"]}
    assert draft["title"] == "关于1栋噪音问题的答复"
    assert draft["content"].startswith("近期1栋多位业主反映噪音方面的问题（共 3 件投诉）")
    assert "二、处理措施：" in draft["content"]
    # The draft is a valid notice as it stands.
    res = client.post(f"{PROBLEMS}/{problem['id']}/notice", headers=manager, json=draft)
    assert res.status_code == 200, res.get_json()
    answered = res.get_json()
    assert answered["notice_draft"] is None and answered["notice"]["scope_label"] == "1栋"
    assert answered["notice"]["title"] == "关于1栋噪音问题的答复"
