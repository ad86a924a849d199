"""Surveys (/api/v1/staff/surveys), common problems (/api/v1/staff/common-problems) and the monthly
complaints report (/api/v1/staff/reports/complaints). Parse -> one service call -> commit -> dump."""
from __future__ import annotations

from ..api import BEARER, blueprint
from ..auth.access import requires
from ..auth.services import require_staff
from ..extensions import db
from ..pagination import paginate
from ..reporting import BINARY, XLSX_MIMETYPE, ReportArgs, parse_month, xlsx_response
from . import metrics, report, services
from .schemas import (
    ComplaintReportOut, ProblemArgs, ProblemDetailOut, ProblemNoticeIn, ProblemPage, ResponseIn, SummaryArgs,
    SurveyArgs, SurveyIn, SurveyOut, SurveyPage, SurveySummaryOut,
)

surveys_blp = blueprint("surveys", "/api/v1/staff/surveys", "满意度调查：每月至少 20 户，每条意见都要答复（接待员、经理）")
problems_blp = blueprint("common-problems", "/api/v1/staff/common-problems",
                         "同类投诉多发：一周内发布通知答复（经理、接待员）")
report_blp = blueprint("complaint-report", "/api/v1/staff/reports", "投诉与满意度月报（经理）")

# -- surveys ---------------------------------------------------------------------------------------------

@surveys_blp.post("")
@requires("surveys")
@surveys_blp.arguments(SurveyIn)
@surveys_blp.response(201, SurveyOut)
@surveys_blp.doc(security=BEARER)
def record_survey(data):
    """登记一户的满意度调查结果（每户每月一条，重复登记 409）"""
    survey = services.record_survey(require_staff(), data)
    db.session.commit()
    return survey


@surveys_blp.get("")
@requires("surveys")
@surveys_blp.arguments(SurveyArgs, location="query")
@surveys_blp.response(200, SurveyPage)
@surveys_blp.doc(security=BEARER)
def list_surveys(args):
    """调查记录，最新在前；unanswered=true 只看有意见尚未答复的"""
    stmt = services.surveys_query(require_staff(), args["month"], args["unanswered"], args["answer"])
    return paginate(stmt, args["page"], args["per_page"])


@surveys_blp.get("/summary")
@requires("surveys")
@surveys_blp.arguments(SummaryArgs, location="query")
@surveys_blp.response(200, SurveySummaryOut)
@surveys_blp.doc(security=BEARER)
def survey_summary(args):
    """某月调查汇总：调查户数（目标 20 户）、各结果户数、满意率、满意度、意见及未答复的意见"""
    return services.survey_summary(require_staff(), args["month"])


@surveys_blp.get("/<int:survey_id>")
@requires("surveys")
@surveys_blp.response(200, SurveyOut)
@surveys_blp.doc(security=BEARER)
def get_survey(survey_id):
    """调查记录详情"""
    return services.staff_survey(require_staff(), survey_id)


@surveys_blp.post("/<int:survey_id>/response")
@requires("surveys")
@surveys_blp.arguments(ResponseIn)
@surveys_blp.response(200, SurveyOut)
@surveys_blp.doc(security=BEARER)
def respond(data, survey_id):
    """记录对住户意见的答复（有意见的记录必须答复；没有意见的无需答复，409）"""
    survey = services.respond(require_staff(), survey_id, data["response"])
    db.session.commit()
    return survey


# -- common problems -----------------------------------------------------------------------------------------

@problems_blp.get("")
@requires("common_problems")
@problems_blp.arguments(ProblemArgs, location="query")
@problems_blp.response(200, ProblemPage)
@problems_blp.doc(security=BEARER)
def list_problems(args):
    """同类投诉多发的问题（同一楼栋、同一类别，7 天内达到阈值），最新在前"""
    return paginate(services.problems_query(require_staff(), args["status"]), args["page"], args["per_page"])


@problems_blp.get("/<int:problem_id>")
@requires("common_problems")
@problems_blp.response(200, ProblemDetailOut)
@problems_blp.doc(security=BEARER)
def get_problem(problem_id):
    """问题详情：涉及的投诉与答复的通知"""
    return services.staff_problem(require_staff(), problem_id)


@problems_blp.post("/<int:problem_id>/notice")
@requires("publish_notices")
@problems_blp.arguments(ProblemNoticeIn)
@problems_blp.response(200, ProblemDetailOut)
@problems_blp.doc(security=BEARER)
def answer_problem(data, problem_id):
    """以通知答复：关联已发布的通知（notice_id），或直接发布一条新通知（默认只发给问题所在楼栋）"""
    problem = services.answer_with_notice(require_staff(), problem_id, data)
    db.session.commit()
    return problem


# -- the monthly complaints report ----------------------------------------------------------------------------

@report_blp.get("/complaints")
@requires("complaint_report")
@report_blp.arguments(ReportArgs, location="query")
@report_blp.response(200, ComplaintReportOut,
                     description="月报（JSON）；format=xlsx 时为 Excel 文件（汇总、明细、调查三个工作表）")
@report_blp.doc(security=BEARER, description="统计口径：\n" + metrics.definitions_text(),
                responses={200: {"content": {XLSX_MIMETYPE: {"schema": BINARY}}}})
def complaints_report(args):
    """投诉月报：受理、处理率、满意率、回访率、各时限及时率、超时责任人，及满意度调查（满意率、满意度）"""
    result = report.monthly_complaints(require_staff(), *parse_month(args["month"]))
    if args["format"] != "xlsx":
        return result
    return xlsx_response(report.workbook(result), *report.xlsx_filenames(result["month"]))


BLUEPRINTS = (surveys_blp, problems_blp, report_blp)
