"""The monthly complaints report on a hand-built October 2026: complaints created and handled through the API
with moved time (some on time, some late), ratings, callbacks, breaches recorded by the escalation job, and
20 surveys; the JSON figures, the xlsx, roles and validation."""
import io
from datetime import UTC, datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from server.extensions import db
from jobs import workorders as workorder_jobs
from server.workorders.models import WorkOrder
from tests.api.test_surveys import houses

SHANGHAI = ZoneInfo("Asia/Shanghai")
REPORT = "/api/v1/staff/reports/complaints"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BASE = datetime(2026, 10, 12, 10, 0, tzinfo=SHANGHAI)  # a Monday, the service center open 08:30-18:00


def post(client, path, headers, body=None, status=200):
    res = client.post(path, headers=headers, json=body or {})
    assert res.status_code == status, res.get_json()
    return res.get_json()


def owner_complaint(client, owner, house_id, category, description):
    return post(client, "/api/v1/work-orders", owner, {"kind": "complaint", "house_id": house_id,
                                                       "category": category, "description": description}, 201)


def desk_complaint(client, desk, house_id, category, description, phone="13900009999"):
    return post(client, "/api/v1/staff/work-orders", desk, {
        "kind": "complaint", "house_id": house_id, "category": category, "description": description,
        "channel": "phone", "contact_name": "业主", "contact_phone": phone}, 201)


def escalate(app):
    with app.app_context():
        workorder_jobs.escalate_overdue()


@pytest.fixture
def october(app, client, zhangsan, login, run_jobs, clock):
    """C1-C5 counted, C6 cancelled, C7 on 1 November; 20 surveys (18 satisfied, 1 basically, 1 not)."""
    clock.shift(seconds=(BASE - datetime.now(UTC)).total_seconds())
    owner, desk, manager = login("owner-zhangsan"), login("demo-reception"), login("demo-manager")
    ids = houses(app)
    mine = ids["1栋1单元101"]
    c1 = owner_complaint(client, owner, mine, "noise", "楼上装修噪音")
    # Registered at the desk with the owner's phone: the owner may rate it.
    c2 = desk_complaint(client, desk, mine, "parking", "车位被占", phone="13800000001")
    c3 = desk_complaint(client, desk, ids["2栋1单元201"], "environment", "垃圾桶满溢")
    c4 = desk_complaint(client, desk, ids["3栋1单元101"], "facilities", "路灯不亮")
    c5 = owner_complaint(client, owner, mine, "emergency", "地下车库进水")
    c6 = desk_complaint(client, desk, ids["2栋1单元202"], "noise", "误报")
    post(client, f"/api/v1/staff/work-orders/{c6['id']}/cancel", desk, {"reason": "业主撤回"})
    run_jobs()  # C1-C4 to the receptionist, the emergency to the manager

    clock.shift(minutes=3)
    post(client, f"/api/v1/staff/tasks/{c5['id']}/accept", manager)
    post(client, f"/api/v1/staff/work-orders/{c5['id']}/arrival", login("demo-eng-1"))  # on site in 3 minutes
    clock.shift(minutes=2)
    for order in (c1, c3, c4):
        post(client, f"/api/v1/staff/tasks/{order['id']}/accept", desk)  # acknowledged in 5 minutes
    clock.shift(minutes=6)
    escalate(app)  # C2 unacknowledged after 10 minutes: breach (刘芳), handed to the manager
    clock.shift(minutes=4)
    post(client, f"/api/v1/staff/tasks/{c2['id']}/accept", manager)  # late

    clock.shift(minutes=45)  # 11:00: final replies, in time
    for order, headers in ((c1, desk), (c3, desk), (c2, manager)):
        post(client, f"/api/v1/staff/work-orders/{order['id']}/replies", headers,
             {"content": "已处理完毕", "final": True})
    post(client, f"/api/v1/work-orders/{c1['id']}/rating", owner, {"score": 5})
    post(client, f"/api/v1/work-orders/{c2['id']}/rating", owner, {"score": 2, "comment": "还是被占"})  # reopened
    run_jobs()
    post(client, f"/api/v1/staff/tasks/{c2['id']}/accept", manager)

    clock.shift(hours=8)  # 19:00: C4 and C5 never replied the same day
    escalate(app)
    clock.shift(hours=15)  # next day 10:00: C1 called back in time
    post(client, f"/api/v1/staff/work-orders/{c1['id']}/callback", desk, {"result": "satisfied", "note": "满意"}, 201)
    clock.shift(days=3)  # 16 October 10:00: C3's follow-up (due 15 October 11:00) is late
    escalate(app)
    post(client, f"/api/v1/staff/work-orders/{c3['id']}/callback", desk, {"result": "satisfied", "note": "迟到的回访"},
         201)

    c7 = desk_complaint(client, desk, ids["1栋2单元101"], "noise", "十一月的投诉")
    with app.app_context():
        db.session.get(WorkOrder, c7["id"]).created_at = datetime(2026, 11, 1, 0, 0, tzinfo=SHANGHAI)
        db.session.commit()

    labels = list(ids)
    answers = ["satisfied"] * 18 + ["basically_satisfied", "dissatisfied"]
    for index, answer in enumerate(answers):
        post(client, "/api/v1/staff/surveys", desk, {
            "house_id": ids[labels[index]], "method": "visit" if index % 2 else "phone", "answer": answer,
            "respondent_name": f"住户{index}", "comments": "希望增加停车位" if answer == "dissatisfied" else "",
            "surveyed_at": "2026-10-14T15:00:00+08:00"}, 201)
    return {"c1": c1, "c2": c2, "c3": c3, "c4": c4, "c5": c5, "c6": c6, "c7": c7, "manager": manager, "desk": desk}


def test_the_months_figures(client, october, login):
    res = client.get(f"{REPORT}?month=2026-10", headers=october["manager"])
    assert res.status_code == 200, res.get_json()
    report = res.get_json()
    assert report["month"] == "2026-10" and report["community"]["name"] == "示例小区"
    assert report["generated_at"].startswith("2026-10-16T10:")
    assert report["received"] == 5 and report["closed"] == 2  # C1 closed, C3 handled; C2 reopened
    assert report["closure_rate"] == {"value": 0.4, "target": 0.7, "met": False, "numerator": 2, "denominator": 5}
    # Judged: C1 (rated 5), C2 (rated 2), C3 (unrated, called back satisfied).
    assert report["satisfaction"] == {"value": 0.667, "target": 0.8, "met": False, "numerator": 2,
                                      "denominator": 3}
    assert report["callback_rate"] == {"value": 1.0, "target": 1.0, "met": True, "numerator": 2, "denominator": 2}
    on_time = {c["clock"]: (c["met"], c["missed"], c["rate"]) for c in report["on_time"]}
    assert on_time == {"handler": (4, 1, 0.8), "onsite": (1, 0, 1.0), "reply": (3, 2, 0.6), "followup": (1, 1, 0.5)}
    assert report["breaches_by_handler"] == [
        {"staff_id": report["breaches_by_handler"][0]["staff_id"], "name": "刘芳", "total": 3,
         "clocks": {"handler": 1, "onsite": 0, "reply": 1, "followup": 1}},
        {"staff_id": report["breaches_by_handler"][1]["staff_id"], "name": "王建国", "total": 1,
         "clocks": {"handler": 0, "onsite": 0, "reply": 1, "followup": 0}},
    ]
    surveys = report["surveys"]
    assert surveys["surveyed_households"] == {"value": 20, "target": 20, "met": True, "numerator": None,
                                              "denominator": None}
    assert surveys["satisfaction_rate"]["value"] == 0.95 and surveys["satisfaction_rate"]["met"] is False
    assert surveys["satisfaction_degree"]["value"] == 0.93 and surveys["satisfaction_degree"]["met"] is True
    assert surveys["opinions"] == 1 and surveys["unanswered_opinions"] == 1
    summary = {row["key"]: row for row in report["summary"]}
    assert summary["closure_rate"] == {"key": "closure_rate", "label": "投诉处理率", "kind": "rate", "value": 0.4,
                                       "target": 0.7, "met": False}
    assert summary["survey_satisfaction_rate"]["target"] == 0.96
    assert summary["survey_satisfaction_degree"]["target"] == 0.75
    assert summary["received"]["value"] == 5 and summary["received"]["target"] is None
    assert "评分 ≥ 4" in report["definitions"]["satisfaction"] and "60" in report["definitions"][
        "survey_satisfaction_degree"]
    assert "rows" not in report and "survey_records" not in report

    november = client.get(f"{REPORT}?month=2026-11", headers=october["manager"]).get_json()
    assert november["received"] == 1 and november["closure_rate"]["value"] == 0.0
    assert november["surveys"]["surveyed_households"]["value"] == 0
    other = client.get(f"{REPORT}?month=2026-10", headers=login("other-manager")).get_json()
    assert other["received"] == 0 and other["breaches_by_handler"] == [] and other["closure_rate"]["value"] is None


def test_the_workbook(client, october):
    res = client.get(f"{REPORT}?month=2026-10&format=xlsx", headers=october["manager"])
    assert res.status_code == 200 and res.mimetype == XLSX
    disposition = res.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="complaints-2026-10.xlsx"')
    assert f"filename*=UTF-8''{quote('投诉月报-2026-10.xlsx')}" in disposition
    wb = openpyxl.load_workbook(io.BytesIO(res.data))
    assert wb.sheetnames == ["汇总", "明细", "调查"]

    summary = wb["汇总"]
    assert summary["A1"].value == "示例小区 投诉与满意度月报 2026年10月"
    assert [c.value for c in summary[4]][:5] == ["指标", "数值", "目标", "是否达标", "口径"]
    rows = {r[0]: r for r in summary.iter_rows(min_row=5, values_only=True) if r[0]}
    assert rows["受理投诉（件）"][:4] == ("受理投诉（件）", 5, None, "—")
    assert rows["投诉处理率"][:4] == ("投诉处理率", 0.4, 0.7, "未达标")
    assert rows["投诉处理满意率"][1:4] == (0.667, 0.8, "未达标")
    assert rows["投诉回访率"][1:4] == (1, 1, "达标")
    assert rows["及时率：10 分钟内受理"][1] == 0.8
    assert rows["调查户数"][1:4] == (20, 20, "达标")
    assert rows["满意率（调查）"][1:4] == (0.95, 0.96, "未达标")
    assert rows["满意度（调查）"][1:4] == (0.93, 0.75, "达标")
    assert "目标 ≥ 70%" in rows["投诉处理率"][4]
    assert summary["B7"].number_format == "0.0%" and summary["B7"].value == 0.4  # the closure rate
    assert rows["刘芳"][:6] == ("刘芳", 3, 1, 0, 1, 1) and rows["王建国"][:6] == ("王建国", 1, 0, 0, 1, 0)

    detail = wb["明细"]
    assert [c.value for c in detail[1]][:5] == ["投诉单号", "类别", "登记时间", "处理人", "状态"]
    by_number = {r[0]: r for r in detail.iter_rows(min_row=2, values_only=True)}
    c = {key: october[key]["number"] for key in ("c1", "c2", "c3", "c4", "c5", "c6")}
    assert set(by_number) == set(c.values())  # C7 is November's
    first = by_number[c["c1"]]
    assert first[1:2] == ("噪音",) and first[2].replace(second=0, microsecond=0) == datetime(2026, 10, 12, 10, 0)
    assert first[3:] == ("刘芳", "已完成", "按时", "—", "按时", "按时", 5, "满意")
    assert by_number[c["c2"]][3:] == ("王建国", "已接单", "超时", "—", "按时", "—", 2, "—")
    assert by_number[c["c3"]][3:] == ("刘芳", "待确认", "按时", "—", "按时", "超时", None, "满意")
    assert by_number[c["c4"]][3:] == ("刘芳", "已接单", "按时", "—", "超时", "—", None, "—")
    assert by_number[c["c5"]][1] == "紧急事件" and by_number[c["c5"]][5:9] == ("按时", "按时", "超时", "—")
    assert by_number[c["c6"]][4:9] == ("已取消", "—", "—", "—", "—")
    assert detail["C2"].number_format == "yyyy-mm-dd hh:mm"

    survey = wb["调查"]
    assert [c.value for c in survey[1]] == ["房屋", "受访人", "电话", "方式", "调查结果", "意见或建议", "答复", "调查人",
                                           "调查时间", "答复时间"]
    records = list(survey.iter_rows(min_row=2, values_only=True))
    assert len(records) == 20
    assert records[0][:7] == ("1栋1单元101", "住户0", None, "电话", "满意", None, None)  # empty cells
    unhappy = next(r for r in records if r[4] == "不满意")
    assert unhappy[5:8] == ("希望增加停车位", "待答复", "刘芳") and unhappy[8] == datetime(2026, 10, 14, 15, 0)


def test_managers_only_and_validation(client, demo, login, zhangsan, app):
    from tests.api.test_office import add_finance_clerk

    add_finance_clerk(app)
    for openid in ("demo-reception", "demo-cashier", "demo-eng-1", "demo-eng-lead", "demo-finance"):
        res = client.get(f"{REPORT}?month=2026-10", headers=login(openid))
        assert res.status_code == 403, openid
    assert client.get(f"{REPORT}?month=2026-10", headers=zhangsan.headers).status_code == 403
    assert client.get(f"{REPORT}?month=2026-10").status_code == 401
    manager = login("demo-manager")
    for query in ("month=2026-13", "month=2026-3", "month=oct", "", "month=2026-10&format=pdf"):
        res = client.get(f"{REPORT}?{query}", headers=manager)
        assert res.status_code == 422, query
        assert set(res.get_json()["error"]["fields"]) & {"month", "format"}
    assert client.get(f"{REPORT}?month=2026-13", headers=manager).get_json()["error"]["fields"]["month"] == [
        "月份格式应为 YYYY-MM（如 2026-11）"]
    empty = client.get(f"{REPORT}?month=2026-10", headers=manager).get_json()
    assert empty["received"] == 0 and all(c["rate"] is None for c in empty["on_time"])
    assert client.get(f"{REPORT}?month=2026-10&format=xlsx", headers=manager).status_code == 200


def test_the_description_documents_the_definitions(client, demo):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/staff/reports/complaints"]["get"]
    assert "投诉处理率（closure_rate）" in operation["description"]
    assert "满意度（调查）（survey_satisfaction_degree）" in operation["description"]
    assert XLSX in operation["responses"]["200"]["content"]
