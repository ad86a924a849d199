"""Monthly satisfaction surveys: recording (one per house per month), answering every opinion, the monthly
summary (20 households, rate, degree, unanswered opinions), roles and community scoping."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from server.accounts.models import Building, Community, House
from server.extensions import db

SURVEYS = "/api/v1/staff/surveys"
OCTOBER = "2026-10-15T10:00:00+08:00"


def houses(app, community="demo") -> dict[str, int]:
    """House label (1栋1单元101) -> id."""
    with app.app_context():
        rows = db.session.execute(
            select(House.id, Building.code, House.unit, House.room).join(Building, Building.id == House.building_id)
            .join(Community, Community.id == House.community_id).where(Community.code == community)
            .order_by(House.id)).all()
        return {f"{b}栋{u}单元{r}": i for i, b, u, r in rows}


def survey(client, headers, house_id, status=201, **body):
    data = {"house_id": house_id, "method": "phone", "answer": "satisfied", "respondent_name": "张三",
            "surveyed_at": OCTOBER, **body}
    res = client.post(SURVEYS, headers=headers, json=data)
    assert res.status_code == status, res.get_json()
    return res.get_json()


@pytest.fixture
def desk(login, demo):
    return login("demo-reception")


def test_record_one_per_house_per_month_and_answer_every_opinion(app, client, desk, login):
    ids = houses(app)
    first = survey(client, desk, ids["1栋1单元101"], respondent_phone="13800000001")
    assert first["house"] == {"id": ids["1栋1单元101"], "label": "1栋1单元101"}
    assert first["month"] == "2026-10" and first["surveyed_at"] == "2026-10-15T10:00:00+08:00"
    assert first["method_label"] == "电话" and first["answer_label"] == "满意"
    assert first["has_opinion"] is False and first["awaiting_response"] is False and first["response"] is None
    assert first["surveyed_by"]["name"] == "刘芳" and first["respondent_phone"] == "13800000001"

    again = client.post(SURVEYS, headers=login("demo-manager"), json={
        "house_id": ids["1栋1单元101"], "method": "visit", "answer": "dissatisfied",
        "surveyed_at": "2026-10-31T23:59:00+08:00"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_surveyed"
    assert "1栋1单元101" in again.get_json()["error"]["message"]
    # The month is the local one: 1 November 00:30 in Shanghai is still 31 October in UTC.
    november = survey(client, desk, ids["1栋1单元101"], surveyed_at="2026-11-01T00:30:00+08:00")
    assert november["month"] == "2026-11"

    manager = login("demo-manager")
    opinion = survey(client, manager, ids["1栋1单元102"], method="visit", answer="dissatisfied",
                     comments="  电梯经常停运，希望尽快维修  ", respondent_name="李四")
    assert opinion["comments"] == "电梯经常停运，希望尽快维修" and opinion["method_label"] == "走访"
    assert opinion["has_opinion"] is True and opinion["awaiting_response"] is True

    listed = client.get(f"{SURVEYS}?month=2026-10", headers=desk).get_json()
    assert listed["total"] == 2 and listed["page"] == 1 and listed["per_page"] == 20
    waiting = client.get(f"{SURVEYS}?month=2026-10&unanswered=true", headers=desk).get_json()
    assert [i["id"] for i in waiting["items"]] == [opinion["id"]]
    rest = client.get(f"{SURVEYS}?unanswered=false", headers=desk).get_json()
    assert {i["id"] for i in rest["items"]} == {first["id"], november["id"]}
    assert client.get(f"{SURVEYS}?answer=dissatisfied", headers=desk).get_json()["total"] == 1
    assert client.get(SURVEYS, headers=desk).get_json()["total"] == 3

    # A record without an opinion needs no answer; an opinion gets exactly one.
    none = client.post(f"{SURVEYS}/{first['id']}/response", headers=desk, json={"response": "谢谢"})
    assert none.status_code == 409 and none.get_json()["error"]["code"] == "no_opinion"
    blank = client.post(f"{SURVEYS}/{opinion['id']}/response", headers=desk, json={"response": ""})
    assert blank.status_code == 422 and blank.get_json()["error"]["fields"] == {"response": ["必填"]}
    spaces = client.post(f"{SURVEYS}/{opinion['id']}/response", headers=desk, json={"response": "   "})
    assert spaces.status_code == 422
    answered = client.post(f"{SURVEYS}/{opinion['id']}/response", headers=desk,
                           json={"response": "已报工程部，电梯本周内完成检修"})
    assert answered.status_code == 200, answered.get_json()
    body = answered.get_json()
    assert body["response"] == "已报工程部，电梯本周内完成检修" and body["responded_by"]["name"] == "刘芳"
    assert body["responded_at"].endswith("+08:00") and body["awaiting_response"] is False
    twice = client.post(f"{SURVEYS}/{opinion['id']}/response", headers=manager, json={"response": "补充"})
    assert twice.status_code == 409 and twice.get_json()["error"]["code"] == "already_responded"
    assert client.get(f"{SURVEYS}?unanswered=true", headers=desk).get_json()["total"] == 0
    assert client.get(f"{SURVEYS}/{opinion['id']}", headers=manager).get_json()["response"] == body["response"]


def test_default_time_is_now_and_never_in_the_future(app, client, desk):
    ids = houses(app)
    res = client.post(SURVEYS, headers=desk, json={"house_id": ids["2栋1单元201"], "method": "phone",
                                                  "answer": "basically_satisfied"})
    assert res.status_code == 201, res.get_json()
    this_month = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    assert res.get_json()["month"] == this_month and res.get_json()["respondent_name"] == ""
    future = client.post(SURVEYS, headers=desk, json={"house_id": ids["2栋1单元202"], "method": "phone",
                                                     "answer": "satisfied", "surveyed_at": "2099-01-01T10:00:00+08:00"})
    assert future.status_code == 422 and "surveyed_at" in future.get_json()["error"]["fields"]


def test_monthly_summary_counts_households_and_unanswered_opinions(app, client, desk, login):
    ids = list(houses(app).values())
    answers = ["satisfied"] * 17 + ["basically_satisfied"] * 2
    made = [survey(client, desk, house_id, answer=answer) for house_id, answer in zip(ids, answers)]
    summary = client.get(f"{SURVEYS}/summary?month=2026-10", headers=desk).get_json()
    assert summary["month"] == "2026-10"
    assert summary["surveyed_households"] == {"value": 19, "target": 20, "met": False, "numerator": None,
                                              "denominator": None}
    opinion = survey(client, desk, ids[19], answer="dissatisfied", comments="垃圾清运不及时")
    survey(client, desk, ids[20], surveyed_at="2026-09-30T10:00:00+08:00", comments="九月的意见")  # other month
    summary = client.get(f"{SURVEYS}/summary?month=2026-10", headers=login("demo-manager")).get_json()
    assert summary["surveyed_households"]["value"] == 20 and summary["surveyed_households"]["met"] is True
    assert summary["answers"] == [{"answer": "satisfied", "label": "满意", "count": 17},
                                  {"answer": "basically_satisfied", "label": "基本满意", "count": 2},
                                  {"answer": "dissatisfied", "label": "不满意", "count": 1}]
    assert summary["satisfaction_rate"] == {"value": 0.95, "target": 0.96, "met": False, "numerator": 19,
                                            "denominator": 20}
    # (17 x 100 + 2 x 60 + 0) / 2000
    assert summary["satisfaction_degree"]["value"] == 0.91 and summary["satisfaction_degree"]["met"] is True
    assert summary["opinions"] == 1 and summary["unanswered_opinions"] == 1
    assert summary["all_opinions_answered"] is False
    client.post(f"{SURVEYS}/{opinion['id']}/response", headers=desk, json={"response": "已增加清运频次"})
    summary = client.get(f"{SURVEYS}/summary?month=2026-10", headers=desk).get_json()
    assert summary["unanswered_opinions"] == 0 and summary["all_opinions_answered"] is True
    assert made[0]["month"] == "2026-10"
    empty = client.get(f"{SURVEYS}/summary?month=2026-01", headers=desk).get_json()
    assert empty["surveyed_households"]["value"] == 0 and empty["satisfaction_rate"]["value"] is None
    assert empty["all_opinions_answered"] is True


def test_roles_scoping_and_validation(app, client, desk, login, zhangsan):
    ids = houses(app)
    mine = survey(client, desk, ids["1栋1单元101"], comments="门禁卡不好用")
    for openid in ("demo-eng-1", "demo-cashier", "demo-eng-lead"):
        headers = login(openid)
        assert client.get(SURVEYS, headers=headers).status_code == 403, openid
        res = client.post(SURVEYS, headers=headers, json={"house_id": "x"})
        assert res.status_code == 403, openid  # the role is checked before the body
        assert client.get(f"{SURVEYS}/summary?month=2026-10", headers=headers).status_code == 403
    assert client.get(SURVEYS, headers=zhangsan.headers).status_code == 403
    assert client.get(SURVEYS).status_code == 401

    other = login("other-manager")
    assert client.get(SURVEYS, headers=other).get_json()["total"] == 0
    assert client.get(f"{SURVEYS}/{mine['id']}", headers=other).status_code == 404
    res = client.post(f"{SURVEYS}/{mine['id']}/response", headers=other, json={"response": "好的"})
    assert res.status_code == 404
    assert client.get(f"{SURVEYS}/summary?month=2026-10", headers=other).get_json()["surveyed_households"][
        "value"] == 0
    theirs = houses(app, "other")["9栋1单元101"]
    res = client.post(SURVEYS, headers=desk, json={"house_id": theirs, "method": "phone", "answer": "satisfied"})
    assert res.status_code == 422 and res.get_json()["error"]["fields"] == {"house_id": ["房屋不存在"]}
    assert survey(client, other, theirs)["house"]["label"] == "9栋1单元101"  # theirs to survey

    bad = client.post(SURVEYS, headers=desk, json={"house_id": ids["3栋1单元101"], "method": "email",
                                                  "answer": "ok", "respondent_phone": "123"})
    assert bad.status_code == 422
    assert set(bad.get_json()["error"]["fields"]) == {"method", "answer", "respondent_phone"}
    missing = client.post(SURVEYS, headers=desk, json={})
    assert set(missing.get_json()["error"]["fields"]) == {"house_id", "method", "answer"}
    for query in ("month=2026-13", "month=2026-3", ""):
        res = client.get(f"{SURVEYS}/summary?{query}", headers=desk)
        assert res.status_code == 422 and "month" in res.get_json()["error"]["fields"], query
    assert client.get(f"{SURVEYS}?month=10-2026", headers=desk).status_code == 422
    assert client.get(f"{SURVEYS}?unanswered=maybe", headers=desk).status_code == 422
    assert client.get(f"{SURVEYS}/99999", headers=desk).status_code == 404
