"""The desk's routes: house search (/api/v1/staff/houses/search), consultations
(/api/v1/staff/consultations) and the day's calls and visits (/api/v1/staff/calls). Parse -> one service
call -> commit -> dump."""
from __future__ import annotations

from ..api import BEARER, blueprint
from ..auth.access import requires
from ..auth.services import require_staff
from ..extensions import db
from ..pagination import paginate
from ..timeutil import local_today
from . import consultations, house_file, houses
from .schemas import (
    CallOut, CallsArgs, ConsultationArgs, ConsultationIn, ConsultationOut, ConsultationPage, HouseFileOut,
    HouseHitOut, HouseSearchArgs,
)

houses_blp = blueprint("house-search", "/api/v1/staff/houses", "接待：按房号、住户姓名或手机号查找房屋")
consultations_blp = blueprint("consultations", "/api/v1/staff/consultations",
                              "来电、来访咨询记录（接待员、经理；登记人即首问责任人）")
calls_blp = blueprint("calls", "/api/v1/staff/calls", "当日来电来访：咨询与服务中心登记的工单")


@houses_blp.get("/search")
@requires("find_houses")
@houses_blp.arguments(HouseSearchArgs, location="query")
@houses_blp.response(200, HouseHitOut(many=True))
@houses_blp.doc(security=BEARER)
def search_houses(args):
    """边输入边查找本小区的房屋：1-1-101 / 1-1 / 1、姓名开头、手机号（完整或前 5 位以上）"""
    return houses.search(require_staff(), args["q"], args["limit"])


@houses_blp.get("/<int:house_id>")
@requires("find_houses")
@houses_blp.response(200, HouseFileOut)
@houses_blp.doc(security=BEARER)
def get_house(house_id):
    """房屋档案：名册住户、小程序绑定（及其状态）、最近的工单与账单概况"""
    return house_file.house_file(require_staff(), house_id)


@consultations_blp.post("")
@requires("desk")
@consultations_blp.arguments(ConsultationIn)
@consultations_blp.response(201, ConsultationOut)
@consultations_blp.doc(security=BEARER)
def record_consultation(data):
    """登记一次咨询：来电或来访、问了什么、怎么答复的"""
    consultation = consultations.record(require_staff(), data)
    db.session.commit()
    return consultation


@consultations_blp.get("")
@requires("desk")
@consultations_blp.arguments(ConsultationArgs, location="query")
@consultations_blp.response(200, ConsultationPage)
@consultations_blp.doc(security=BEARER)
def list_consultations(args):
    """咨询记录，最新在前；可按日期、房屋、文字筛选"""
    return paginate(consultations.query(require_staff(), args), args["page"], args["per_page"])


@consultations_blp.get("/<int:consultation_id>")
@requires("desk")
@consultations_blp.response(200, ConsultationOut)
@consultations_blp.doc(security=BEARER)
def get_consultation(consultation_id):
    """一条咨询记录"""
    return consultations.staff_consultation(require_staff(), consultation_id)


@calls_blp.get("")
@requires("desk")
@calls_blp.arguments(CallsArgs, location="query")
@calls_blp.response(200, CallOut(many=True))
@calls_blp.doc(security=BEARER)
def list_calls(args):
    """某一天（默认今天）登记的来电来访，最新在前：咨询，以及在服务中心登记的报修、有偿服务、投诉"""
    staff = require_staff()
    return consultations.calls(staff, args["date"] or local_today(staff.community.timezone))


BLUEPRINTS = (houses_blp, consultations_blp, calls_blp)
