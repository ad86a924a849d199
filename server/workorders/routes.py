"""Work-order routes: owners (/api/v1/work-orders, /api/v1/catalog), workers (/api/v1/staff/tasks) and the
desk (/api/v1/staff/work-orders, catalog, callbacks). Parse -> one service call -> commit -> dump."""
from __future__ import annotations

from flask import Response

from ..api import BEARER, blueprint
from ..auth.access import requires
from ..auth.services import require_owner, require_staff
from ..extensions import db
from ..pagination import paginate
from ..reporting import BINARY, XLSX_MIMETYPE, xlsx_response
from . import access, calendar, catalog, complaints, dispatch, events, export, filters, intake, lifecycle, payments, rules
from .schemas import (
    AcceptIn, AssignIn, CalendarArgs, CalendarDayIn, CalendarDayOut, CallbackIn, CallbackOut, CatalogArgs,
    CatalogOut, CompleteIn, ConfirmIn, CorrectiveIn, DeskOrderIn, HoursIn, HoursOut, PrefillArgs, PrefillOut, IncidentReportIn, IncidentReviewIn, ItemIn, ItemPatch, MaterialIn, MaterialOut, MaterialPatch,
    OptionalReasonIn, OrderArgs, OrderIn, OrderOut, OrderPage, OrderSummaryOut, PaymentIn, PaymentOut, RatingIn,
    ReasonIn, ReplyIn, StaffItemOut, StaffOrderArgs, StaffOrderFilters, StaffOrderOut, StaffOrderPage, TaskArgs,
    WorkerLoadOut,
)

owner_blp = blueprint("work-orders", "/api/v1/work-orders", "业主工单：报修、有偿服务的提交、进度、确认与评价")
catalog_blp = blueprint("catalog", "/api/v1/catalog", "便民有偿服务目录")
tasks_blp = blueprint("tasks", "/api/v1/staff/tasks", "员工任务：接单、到场、暂停、完工")
desk_blp = blueprint("desk-orders", "/api/v1/staff/work-orders", "服务中心：登记、派单、回访、收款、通知单")
staff_catalog_blp = blueprint("staff-catalog", "/api/v1/staff/catalog", "服务目录维护（经理）")
calendar_blp = blueprint("calendar", "/api/v1/staff/calendar",
                         "营业时间与节假日（经理）：各项时限按此计算；每年可按国务院放假安排预填")


# -- catalog ---------------------------------------------------------------------------------------------

@catalog_blp.get("")
@catalog_blp.arguments(CatalogArgs, location="query")
@catalog_blp.response(200, CatalogOut)
@catalog_blp.doc(security=[])
def get_catalog(args):
    """小区的便民有偿服务项目（价格以分为单位）与报修类别"""
    community = catalog.community_by_code(args["community"])
    return {
        "community": {"code": community.code, "name": community.name},
        "items": catalog.bookable_items(community),
        "repair_categories": [{"key": k, "label": c.label, "urgent_allowed": c.urgent_allowed}
                              for k, c in rules.REPAIR_CATEGORIES.items()],
        "complaint_categories": [{"key": k, "label": c.label, "emergency": c.emergency}
                                 for k, c in rules.COMPLAINT_CATEGORIES.items()],
        "out_of_scope": catalog.OUT_OF_SCOPE,
    }


# -- owners -----------------------------------------------------------------------------------------------

@owner_blp.post("")
@owner_blp.arguments(OrderIn)
@owner_blp.response(201, OrderOut)
@owner_blp.doc(security=BEARER)
def create_order(data):
    """提交报修或预约有偿服务（报价由服务器按目录价格计算）"""
    order = intake.create_for_owner(require_owner(), data)
    db.session.commit()
    return order


@owner_blp.get("")
@owner_blp.arguments(OrderArgs, location="query")
@owner_blp.response(200, OrderPage)
@owner_blp.doc(security=BEARER)
def list_orders(args):
    """我的房屋的工单，最新在前"""
    stmt = access.owner_orders_query(require_owner(), args.get("kind"), args.get("status"))
    return paginate(stmt, args["page"], args["per_page"])


@owner_blp.get("/<int:order_id>")
@owner_blp.response(200, OrderOut)
@owner_blp.doc(security=BEARER)
def get_order(order_id):
    """工单详情：进度、时限与时间线"""
    return access.owner_order(require_owner(), order_id)


def _owner_action(order_id):
    owner = require_owner()
    return owner, access.owner_order(owner, order_id)


@owner_blp.post("/<int:order_id>/cancel")
@owner_blp.arguments(OptionalReasonIn)
@owner_blp.response(200, OrderOut)
@owner_blp.doc(security=BEARER)
def cancel_order(data, order_id):
    """取消（师傅到场前）"""
    owner, order = _owner_action(order_id)
    lifecycle.cancel(order, events.Actor.of_owner(owner), data["reason"] or "业主取消")
    db.session.commit()
    return order


@owner_blp.post("/<int:order_id>/urge")
@owner_blp.response(200, OrderOut)
@owner_blp.doc(security=BEARER)
def urge_order(order_id):
    """催单：通知部门主管（每单 10 分钟一次）"""
    owner, order = _owner_action(order_id)
    lifecycle.urge(owner, order)
    db.session.commit()
    return order


@owner_blp.post("/<int:order_id>/confirm")
@owner_blp.arguments(ConfirmIn)
@owner_blp.response(200, OrderOut)
@owner_blp.doc(security=BEARER)
def confirm_order(data, order_id):
    """确认完工（最终费用高于报价时须回传 accept_final_fen）"""
    owner, order = _owner_action(order_id)
    lifecycle.confirm(order, events.Actor.of_owner(owner), data["accept_final_fen"])
    db.session.commit()
    return order


@owner_blp.post("/<int:order_id>/reject-completion")
@owner_blp.arguments(ReasonIn)
@owner_blp.response(200, OrderOut)
@owner_blp.doc(security=BEARER)
def reject_completion(data, order_id):
    """不认可完工：免费返工"""
    owner, order = _owner_action(order_id)
    lifecycle.reject_completion(owner, order, data["reason"])
    db.session.commit()
    return order


@owner_blp.post("/<int:order_id>/rating")
@owner_blp.arguments(RatingIn)
@owner_blp.response(200, OrderOut)
@owner_blp.doc(security=BEARER)
def rate_order(data, order_id):
    """评价 1-5 分；2 分及以下免费返工并安排回访"""
    owner, order = _owner_action(order_id)
    lifecycle.rate(owner, order, data["score"], data["comment"])
    db.session.commit()
    return order


# -- workers ----------------------------------------------------------------------------------------------

@tasks_blp.get("")
@tasks_blp.arguments(TaskArgs, location="query")
@tasks_blp.response(200, OrderSummaryOut(many=True))
@tasks_blp.doc(security=BEARER)
def list_tasks(args):
    """派给我的工单（默认：未完成的）"""
    return db.session.scalars(access.tasks_query(require_staff(), args.get("status"))).all()


@tasks_blp.get("/<int:order_id>")
@tasks_blp.response(200, StaffOrderOut)
@tasks_blp.doc(security=BEARER)
def get_task(order_id):
    """任务详情（含业主联系方式）"""
    return access.worker_task(require_staff(), order_id)


def _task(order_id):
    staff = require_staff()
    return staff, access.worker_task(staff, order_id)


@tasks_blp.post("/<int:order_id>/accept")
@tasks_blp.arguments(AcceptIn)
@tasks_blp.response(200, StaffOrderOut)
@tasks_blp.doc(security=BEARER)
def accept_task(data, order_id):
    """接单并确认预约时间"""
    staff, order = _task(order_id)
    lifecycle.accept(staff, order, data["appointment_at"])
    db.session.commit()
    return order


@tasks_blp.post("/<int:order_id>/decline")
@tasks_blp.arguments(ReasonIn)
@tasks_blp.response(200, StaffOrderOut)
@tasks_blp.doc(security=BEARER)
def decline_task(data, order_id):
    """拒单（须说明原因），工单改派他人"""
    staff, order = _task(order_id)
    lifecycle.decline(staff, order, data["reason"])
    db.session.commit()
    return order


@tasks_blp.post("/<int:order_id>/arrive")
@tasks_blp.response(200, StaffOrderOut)
@tasks_blp.doc(security=BEARER)
def arrive_task(order_id):
    """到场"""
    staff, order = _task(order_id)
    lifecycle.arrive(staff, order)
    db.session.commit()
    return order


@tasks_blp.post("/<int:order_id>/pause")
@tasks_blp.arguments(ReasonIn)
@tasks_blp.response(200, StaffOrderOut)
@tasks_blp.doc(security=BEARER)
def pause_task(data, order_id):
    """暂停（如等待材料）"""
    staff, order = _task(order_id)
    lifecycle.pause(staff, order, data["reason"])
    db.session.commit()
    return order


@tasks_blp.post("/<int:order_id>/resume")
@tasks_blp.response(200, StaffOrderOut)
@tasks_blp.doc(security=BEARER)
def resume_task(order_id):
    """继续"""
    staff, order = _task(order_id)
    lifecycle.resume(staff, order)
    db.session.commit()
    return order


@tasks_blp.post("/<int:order_id>/complete")
@tasks_blp.arguments(CompleteIn)
@tasks_blp.response(200, StaffOrderOut)
@tasks_blp.doc(security=BEARER)
def complete_task(data, order_id):
    """完工：说明、照片、所用材料（按目录价计费）"""
    staff, order = _task(order_id)
    lifecycle.complete(staff, order, notes=data["notes"], photos=data["photos"], materials=data["materials"],
                      owner_signed=data["owner_signed"])
    db.session.commit()
    return order


# -- the desk ---------------------------------------------------------------------------------------------

@desk_blp.post("")
@requires("desk")
@desk_blp.arguments(DeskOrderIn)
@desk_blp.response(201, StaffOrderOut)
@desk_blp.doc(security=BEARER)
def register_order(data):
    """登记来电、来访的报修或有偿服务（登记人即首问责任人）"""
    order = intake.create_at_desk(require_staff(), data)
    db.session.commit()
    return order


@desk_blp.get("")
@desk_blp.arguments(StaffOrderArgs, location="query")
@desk_blp.response(200, StaffOrderPage)
@desk_blp.doc(security=BEARER)
def list_desk_orders(args):
    """本小区工单（主管：本部门；收费员：有偿服务）"""
    return filters.paged(access.staff_orders_query(require_staff(), args), args)


@desk_blp.get("/export")
@desk_blp.arguments(StaffOrderFilters, location="query")
@desk_blp.response(200, description="xlsx 文件；筛选结果超过 5000 条时只含前 5000 条（另有“说明”工作表），"
                                    "响应头 X-Export-Total 为筛选结果总数、X-Export-Rows 为文件中的条数")
@desk_blp.doc(security=BEARER, responses={200: {"content": {XLSX_MIMETYPE: {"schema": BINARY}}}})
def export_desk_orders(args):
    """导出工单（xlsx，中文表头）：筛选与排序同列表，单次最多 5000 条"""
    result = export.export(require_staff(), args)
    response = xlsx_response(result.data, *result.filenames)
    response.headers["X-Export-Total"] = str(result.total)
    response.headers["X-Export-Rows"] = str(result.rows)
    return response


@desk_blp.get("/<int:order_id>")
@desk_blp.response(200, StaffOrderOut)
@desk_blp.doc(security=BEARER)
def get_desk_order(order_id):
    """工单详情（员工视图：含超时记录与完整时间线）"""
    return access.staff_order(require_staff(), order_id)


@desk_blp.post("/<int:order_id>/assign")
@desk_blp.arguments(AssignIn)
@desk_blp.response(200, StaffOrderOut)
@desk_blp.doc(security=BEARER)
def assign_order(data, order_id):
    """手动派单或改派（接待员、经理、本部门主管）"""
    staff = require_staff()
    order = access.staff_order(staff, order_id)
    dispatch.assign(staff, order, data["assignee_id"], data["appointment_at"])
    db.session.commit()
    return order


@desk_blp.get("/<int:order_id>/workers")
@desk_blp.response(200, WorkerLoadOut(many=True))
@desk_blp.doc(security=BEARER)
def eligible_workers(order_id):
    """可派的员工（本部门在职员工、主管）：是否在岗、是否具备技能、手上未完工的工单数；在岗、有技能、工单少的在前"""
    staff = require_staff()
    return dispatch.eligible_workers(staff, access.staff_order(staff, order_id))


@desk_blp.post("/<int:order_id>/cancel")
@requires("desk")
@desk_blp.arguments(ReasonIn)
@desk_blp.response(200, StaffOrderOut)
@desk_blp.doc(security=BEARER)
def cancel_desk_order(data, order_id):
    """取消工单（须说明原因，业主会收到通知）"""
    staff = require_staff()
    order = access.staff_order(staff, order_id)
    lifecycle.cancel(order, events.Actor.of_staff(staff), data["reason"])
    db.session.commit()
    return order


@desk_blp.post("/<int:order_id>/callback")
@requires("desk")
@desk_blp.arguments(CallbackIn)
@desk_blp.response(201, CallbackOut)
@desk_blp.doc(security=BEARER)
def record_callback(data, order_id):
    """记录电话回访：满意 / 不满意（不满意即免费返工；投诉则重新打开，由经理处理）"""
    staff = require_staff()
    order = access.staff_order(staff, order_id)
    callback = lifecycle.record_callback(staff, order, data["result"], data["note"])
    db.session.commit()
    return callback


@desk_blp.post("/<int:order_id>/payments")
@desk_blp.arguments(PaymentIn)
@desk_blp.response(201, PaymentOut)
@desk_blp.doc(security=BEARER)
def record_payment(data, order_id):
    """登记现场收款（现金 / POS / 转账）"""
    staff = require_staff()
    order = access.staff_order(staff, order_id)
    payment = payments.record_on_site(staff, order, data)
    db.session.commit()
    return payment


@desk_blp.get("/<int:order_id>/payments/<int:payment_id>/receipt")
@desk_blp.response(200, description="收款收据（HTML，可打印）", content_type="text/html")
@desk_blp.doc(security=BEARER, responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}})
def payment_receipt(order_id, payment_id):
    """有偿服务收款收据：与物业费收据同一格式，可打印"""
    staff = require_staff()
    html = payments.receipt_html(access.staff_order(staff, order_id), payment_id)
    return Response(html, mimetype="text/html", headers={"Cache-Control": "no-store"})


# -- complaints ------------------------------------------------------------------------------------------

@desk_blp.post("/<int:order_id>/replies")
@desk_blp.arguments(ReplyIn)
@desk_blp.response(200, StaffOrderOut)
@desk_blp.doc(security=BEARER)
def reply_complaint(data, order_id):
    """答复投诉：进展或最终答复（业主收到订阅消息，在时间线中可见）"""
    staff = require_staff()
    order = complaints.complaint_for(staff, order_id)
    complaints.reply(staff, order, data["content"], data["final"])
    db.session.commit()
    return order


@desk_blp.post("/<int:order_id>/important")
@requires("manage_complaints")
@desk_blp.response(200, StaffOrderOut)
@desk_blp.doc(security=BEARER)
def mark_important(order_id):
    """标记重要投诉：经理亲自处理，2 个工作日内答复"""
    staff = require_staff()
    order = complaints.mark_important(staff, complaints.complaint_for(staff, order_id))
    db.session.commit()
    return order


@desk_blp.post("/<int:order_id>/corrective-action")
@requires("manage_complaints")
@desk_blp.arguments(CorrectiveIn)
@desk_blp.response(200, StaffOrderOut)
@desk_blp.doc(security=BEARER)
def record_corrective_action(data, order_id):
    """服务态度投诉：对相关员工的整改措施、期限与处罚（经理）"""
    staff = require_staff()
    order = complaints.complaint_for(staff, order_id)
    complaints.corrective_action(staff, order, data["action"], data["deadline"], data["penalty"])
    db.session.commit()
    return order


@desk_blp.post("/<int:order_id>/arrival")
@desk_blp.response(200, StaffOrderOut)
@desk_blp.doc(security=BEARER)
def record_arrival(order_id):
    """紧急事件：首位到场人员登记到场（5 分钟时限）"""
    staff = require_staff()
    order = complaints.record_arrival(staff, complaints.complaint_for(staff, order_id))
    db.session.commit()
    return order


@desk_blp.post("/<int:order_id>/incident-report")
@desk_blp.arguments(IncidentReportIn)
@desk_blp.response(200, StaffOrderOut)
@desk_blp.doc(security=BEARER)
def submit_incident_report(data, order_id):
    """提交《突发事件处理表》：原因、措施、损失、涉及人员"""
    staff = require_staff()
    order = complaints.complaint_for(staff, order_id)
    complaints.submit_incident_report(staff, order, data)
    db.session.commit()
    return order


@desk_blp.post("/<int:order_id>/incident-report/review")
@requires("manage_complaints")
@desk_blp.arguments(IncidentReviewIn)
@desk_blp.response(200, StaffOrderOut)
@desk_blp.doc(security=BEARER)
def review_incident_report(data, order_id):
    """经理审批《突发事件处理表》（批准后方可结案）"""
    staff = require_staff()
    order = complaints.complaint_for(staff, order_id)
    complaints.review_incident_report(staff, order, data["approve"], data["note"])
    db.session.commit()
    return order


# -- catalog upkeep ----------------------------------------------------------------------------------------

@staff_catalog_blp.get("/items")
@staff_catalog_blp.response(200, StaffItemOut(many=True))
@staff_catalog_blp.doc(security=BEARER)
def list_items():
    """全部服务项目（含已下架）"""
    return catalog.all_items(require_staff())


@staff_catalog_blp.post("/items")
@requires("manage_catalog")
@staff_catalog_blp.arguments(ItemIn)
@staff_catalog_blp.response(201, StaffItemOut)
@staff_catalog_blp.doc(security=BEARER)
def create_item(data):
    """新增服务项目（家电维修、装修不可添加）"""
    item = catalog.create_item(require_staff(), data)
    db.session.commit()
    return item


@staff_catalog_blp.patch("/items/<int:item_id>")
@requires("manage_catalog")
@staff_catalog_blp.arguments(ItemPatch)
@staff_catalog_blp.response(200, StaffItemOut)
@staff_catalog_blp.doc(security=BEARER)
def update_item(data, item_id):
    """修改服务项目（价格、上下架…）"""
    item = catalog.update_item(require_staff(), item_id, data)
    db.session.commit()
    return item


@staff_catalog_blp.get("/materials")
@staff_catalog_blp.response(200, MaterialOut(many=True))
@staff_catalog_blp.doc(security=BEARER)
def list_materials():
    """材料价目（员工完工时选择）"""
    return catalog.materials(require_staff().community_id)


@staff_catalog_blp.post("/materials")
@requires("manage_catalog")
@staff_catalog_blp.arguments(MaterialIn)
@staff_catalog_blp.response(201, MaterialOut)
@staff_catalog_blp.doc(security=BEARER)
def create_material(data):
    """新增材料"""
    material = catalog.create_material(require_staff(), data)
    db.session.commit()
    return material


@staff_catalog_blp.patch("/materials/<int:material_id>")
@requires("manage_catalog")
@staff_catalog_blp.arguments(MaterialPatch)
@staff_catalog_blp.response(200, MaterialOut)
@staff_catalog_blp.doc(security=BEARER)
def update_material(data, material_id):
    """修改材料价格或停用"""
    material = catalog.update_material(require_staff(), material_id, data)
    db.session.commit()
    return material


# -- the business calendar ---------------------------------------------------------------------------------

@calendar_blp.get("/hours")
@calendar_blp.response(200, HoursOut)
@calendar_blp.doc(security=BEARER)
def get_hours():
    """每周营业时间（1 为星期一；null 为不营业）"""
    return calendar.hours(require_staff())


@calendar_blp.put("/hours")
@requires("manage_calendar")
@calendar_blp.arguments(HoursIn)
@calendar_blp.response(200, HoursOut)
@calendar_blp.doc(security=BEARER)
def put_hours(data):
    """设置每周营业时间（七天都须给出，不营业为 null）"""
    week = calendar.set_hours(require_staff(), data)
    db.session.commit()
    return week


@calendar_blp.get("/days")
@calendar_blp.arguments(CalendarArgs, location="query")
@calendar_blp.response(200, CalendarDayOut(many=True))
@calendar_blp.doc(security=BEARER)
def list_days(args):
    """节假日、调休上班日与照常营业日"""
    return calendar.days(require_staff(), args.get("year"))


@calendar_blp.post("/days")
@requires("manage_calendar")
@calendar_blp.arguments(CalendarDayIn)
@calendar_blp.response(201, CalendarDayOut)
@calendar_blp.doc(security=BEARER)
def set_day(data):
    """设置某一天（覆盖该日原有设置，包括预填的国务院安排）"""
    row = calendar.set_day(require_staff(), data)
    db.session.commit()
    return row


@calendar_blp.delete("/days/<int:day_id>")
@requires("manage_calendar")
@calendar_blp.response(204)
@calendar_blp.doc(security=BEARER)
def delete_day(day_id):
    """删除某一天的设置（该日按每周营业时间；再次预填会恢复国务院安排）"""
    calendar.remove_day(require_staff(), day_id)
    db.session.commit()


@calendar_blp.post("/prefill")
@requires("manage_calendar")
@calendar_blp.arguments(PrefillArgs, location="query")
@calendar_blp.response(200, PrefillOut)
@calendar_blp.doc(security=BEARER)
def prefill(args):
    """按国务院公布的放假安排预填一年的节假日与调休上班日（已有设置的日期不变；可重复执行）；尚未收录该年时 409"""
    report = calendar.prefill(require_staff(), args["year"])
    db.session.commit()
    return report


BLUEPRINTS = (catalog_blp, owner_blp, tasks_blp, desk_blp, staff_catalog_blp, calendar_blp)
