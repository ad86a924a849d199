"""Fees for staff: the desk (offline payments, receipts, bills), arrears and dunning contacts, and fee
administration (fee items, subscriptions, meters, readings import, one-off charges, generation).

Parse -> one service call -> commit -> dump. Who may is checked before the body is parsed (`@requires` above
@blp.arguments), so a caller without the right learns nothing about the endpoint's shape.
"""
from __future__ import annotations

from flask import Response

from ..api import BEARER, blueprint
from ..auth.access import requires
from ..auth.services import require_staff
from ..extensions import db
from ..schemas import PageArgs
from . import admin, desk, dunning
from .routes import receipt_html
from .staff_schemas import (
    ArrearsArgs,
    ArrearsPage,
    ChargeIn,
    ContactIn,
    ContactOut,
    ContactPage,
    DeskPaymentIn,
    FeeItemIn,
    FeeItemOut,
    FeeItemPatch,
    FeeSettingsIn,
    FeeSettingsOut,
    FeeSubscriptionArgs,
    FeeSubscriptionIn,
    FeeSubscriptionOut,
    GenerateIn,
    GenerationOut,
    MeterArgs,
    MeterIn,
    MeterOut,
    MeterPage,
    PaymentArgs,
    ReadingOut,
    ReadingReportOut,
    ReadingsUploadIn,
    StaffBillArgs,
    StaffBillOut,
    StaffBillPage,
    StaffPaymentOut,
    StaffPaymentPage,
)

payments_blp = blueprint("staff-fee-payments", "/api/v1/staff/payments", "前台收费：现金、POS、转账与收据")
bills_blp = blueprint("staff-bills", "/api/v1/staff/bills", "账单：查询、一次性收费、按期生成")
arrears_blp = blueprint("arrears", "/api/v1/staff", "欠费与催收：欠费清单、催收记录")
fee_items_blp = blueprint("fee-items", "/api/v1/staff/fee-items", "收费项目与固定月费登记（经理）")
fees_admin_blp = blueprint("fees-admin", "/api/v1/staff", "表具、抄表导入与收费设置（经理）")


# -- desk payments -----------------------------------------------------------------------------------------------

@payments_blp.post("")
@requires("collect_fees")
@payments_blp.arguments(DeskPaymentIn)
@payments_blp.response(201, StaffPaymentOut)
@payments_blp.doc(security=BEARER)
def collect(data):
    """前台收取物业费（现金、POS、转账）：账单即时销账，生成收据号（收费员、经理；小区允许时接待员）"""
    payment = desk.collect(require_staff(), data["bill_ids"], data["method"], data.get("reference"),
                           data.get("payer_name"))
    db.session.commit()
    return payment


@payments_blp.get("")
@payments_blp.arguments(PaymentArgs, location="query")
@payments_blp.response(200, StaffPaymentPage)
@payments_blp.doc(security=BEARER)
def list_payments(args):
    """本小区已完成的缴费（在线与前台），可按日期、收款人、方式筛选，最新在前"""
    return desk.payments_page(require_staff(), args)


@payments_blp.get("/<int:payment_id>")
@payments_blp.response(200, StaffPaymentOut)
@payments_blp.doc(security=BEARER)
def get_payment(payment_id):
    """缴费详情"""
    return desk.staff_payment(require_staff(), payment_id)


@payments_blp.get("/<int:payment_id>/receipt")
@payments_blp.response(200, description="收款收据（HTML，可打印）", content_type="text/html")
@payments_blp.doc(security=BEARER, responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}})
def get_receipt(payment_id):
    """收款收据：与业主在小程序中看到的相同，可打印"""
    response = Response(receipt_html(desk.receipt_payment(require_staff(), payment_id)), mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


# -- bills --------------------------------------------------------------------------------------------------------

@bills_blp.get("")
@bills_blp.arguments(StaffBillArgs, location="query")
@bills_blp.response(200, StaffBillPage)
@bills_blp.doc(security=BEARER)
def list_bills(args):
    """本小区的账单：按房屋、楼栋、账期、状态筛选"""
    return desk.bills_page(require_staff(), args)


@bills_blp.post("")
@requires("manage_fees")
@bills_blp.arguments(ChargeIn)
@bills_blp.response(201, StaffBillOut)
@bills_blp.doc(security=BEARER)
def charge(data):
    """一次性收费：为某房屋开一笔待缴账单（同一房屋、项目、账期只能一笔）"""
    bill = admin.charge(require_staff(), data)
    db.session.commit()
    return bill


@bills_blp.post("/generate")
@requires("manage_fees")
@bills_blp.arguments(GenerateIn)
@bills_blp.response(200, GenerationOut)
@bills_blp.doc(security=BEARER)
def generate(data):
    """立即生成本小区某账期的账单（可重复执行：已有账单不会重复生成）"""
    report = admin.generate(require_staff(), data["period"])
    db.session.commit()
    return report


# -- arrears and dunning -------------------------------------------------------------------------------------------

@arrears_blp.get("/arrears")
@arrears_blp.arguments(ArrearsArgs, location="query")
@arrears_blp.response(200, ArrearsPage)
@arrears_blp.doc(security=BEARER)
def arrears(args):
    """欠费清单：逾期未缴的房屋（逾期最久在前），含业主、欠费合计、逾期天数、提醒次数与最近一次催收"""
    return dunning.arrears_page(require_staff(), building=args.get("building"), min_days=args["min_days"],
                                page=args["page"], per_page=args["per_page"])


@arrears_blp.post("/houses/<int:house_id>/dunning-contacts")
@requires("dunning")
@arrears_blp.arguments(ContactIn)
@arrears_blp.response(201, ContactOut)
@arrears_blp.doc(security=BEARER)
def record_contact(data, house_id):
    """登记催收：电话、上门或催缴函，可记录业主承诺的缴费日期"""
    contact = dunning.record_contact(require_staff(), house_id, data)
    db.session.commit()
    return contact


@arrears_blp.get("/houses/<int:house_id>/dunning-contacts")
@arrears_blp.arguments(PageArgs, location="query")
@arrears_blp.response(200, ContactPage)
@arrears_blp.doc(security=BEARER)
def list_contacts(args, house_id):
    """某房屋的催收记录（含系统推送的缴费提醒），最新在前"""
    return dunning.contacts_page(require_staff(), house_id, args["page"], args["per_page"])


# -- fee items and subscriptions ---------------------------------------------------------------------------------

@fee_items_blp.get("")
@fee_items_blp.response(200, FeeItemOut(many=True))
@fee_items_blp.doc(security=BEARER)
def list_items():
    """本小区的收费项目（启用的在前）"""
    return admin.items(require_staff())


@fee_items_blp.post("")
@requires("manage_fees")
@fee_items_blp.arguments(FeeItemIn)
@fee_items_blp.response(201, FeeItemOut)
@fee_items_blp.doc(security=BEARER)
def create_item(data):
    """新增收费项目：按类型校验（面积/采暖须单价，采暖须月份，公摊须表种类与分摊方式，抄表须表种类，固定须月费）"""
    fee_item = admin.create_item(require_staff(), data)
    db.session.commit()
    return fee_item


@fee_items_blp.get("/<int:item_id>")
@fee_items_blp.response(200, FeeItemOut)
@fee_items_blp.doc(security=BEARER)
def get_item(item_id):
    """收费项目详情"""
    return admin.item(require_staff(), item_id)


@fee_items_blp.patch("/<int:item_id>")
@requires("manage_fees")
@fee_items_blp.arguments(FeeItemPatch)
@fee_items_blp.response(200, FeeItemOut)
@fee_items_blp.doc(security=BEARER)
def update_item(data, item_id):
    """修改收费项目（类型不可改；停用：active=false）；新单价从下一次生成起生效"""
    fee_item = admin.update_item(require_staff(), item_id, data)
    db.session.commit()
    return fee_item


@fee_items_blp.delete("/<int:item_id>")
@fee_items_blp.response(204)
@fee_items_blp.doc(security=BEARER)
def delete_item(item_id):
    """删除未开过账单的收费项目（已有账单的请停用）"""
    admin.delete_item(require_staff(), item_id)
    db.session.commit()


@fee_items_blp.get("/<int:item_id>/subscriptions")
@fee_items_blp.response(200, FeeSubscriptionOut(many=True))
@fee_items_blp.doc(security=BEARER)
def list_subscriptions(item_id):
    """固定月费项目登记的房屋（如租用车位的房屋）"""
    return admin.subscriptions(require_staff(), item_id)


@fee_items_blp.post("/<int:item_id>/subscriptions")
@requires("manage_fees")
@fee_items_blp.arguments(FeeSubscriptionIn)
@fee_items_blp.response(201, FeeSubscriptionOut)
@fee_items_blp.doc(security=BEARER)
def subscribe(data, item_id):
    """为房屋登记固定月费项目（数量、备注如车位号）"""
    subscription = admin.subscribe(require_staff(), item_id, data)
    db.session.commit()
    return subscription


@fee_items_blp.delete("/<int:item_id>/subscriptions")
@requires("manage_fees")
@fee_items_blp.arguments(FeeSubscriptionArgs, location="query")
@fee_items_blp.response(204)
@fee_items_blp.doc(security=BEARER)
def unsubscribe(args, item_id):
    """取消房屋的固定月费登记（?house_id=）；已生成的账单不变"""
    admin.unsubscribe(require_staff(), item_id, args["house_id"])
    db.session.commit()


# -- meters, readings, settings ------------------------------------------------------------------------------------

@fees_admin_blp.get("/meters")
@fees_admin_blp.arguments(MeterArgs, location="query")
@fees_admin_blp.response(200, MeterPage)
@fees_admin_blp.doc(security=BEARER)
def list_meters(args):
    """表具（户表与楼栋公共表）及最近一次读数"""
    return admin.meters_page(require_staff(), args)


@fees_admin_blp.post("/meters")
@requires("manage_fees")
@fees_admin_blp.arguments(MeterIn)
@fees_admin_blp.response(201, MeterOut)
@fees_admin_blp.doc(security=BEARER)
def create_meter(data):
    """新增表具：户表（house_id）或楼栋公共表（building，用于公摊）"""
    meter = admin.create_meter(require_staff(), data)
    db.session.commit()
    return {"meter": meter, "last_reading": None}


@fees_admin_blp.get("/meters/<int:meter_id>/readings")
@fees_admin_blp.response(200, ReadingOut(many=True))
@fees_admin_blp.doc(security=BEARER)
def list_readings(meter_id):
    """某表的历次读数（最新期间在前）"""
    return admin.readings(require_staff(), meter_id)


@fees_admin_blp.post("/meter-readings")
@requires("manage_fees")
@fees_admin_blp.arguments(ReadingsUploadIn, location="files")
@fees_admin_blp.response(200, ReadingReportOut)
@fees_admin_blp.doc(security=BEARER)
def import_readings(files):
    """导入抄表读数（CSV，同 flask meters import）：逐行报告；读数小于上期须标注换表；一行都不能导入时 422"""
    report = admin.import_readings(require_staff(), files["file"].read())
    db.session.commit()
    return report


@fees_admin_blp.get("/fee-settings")
@fees_admin_blp.response(200, FeeSettingsOut)
@fees_admin_blp.doc(security=BEARER)
def get_settings():
    """收费设置：接待员是否可收物业费"""
    return admin.settings(require_staff())


@fees_admin_blp.patch("/fee-settings")
@requires("manage_fees")
@fees_admin_blp.arguments(FeeSettingsIn)
@fees_admin_blp.response(200, FeeSettingsOut)
@fees_admin_blp.doc(security=BEARER)
def update_settings(data):
    """修改收费设置（经理）"""
    community = admin.update_settings(require_staff(), data)
    db.session.commit()
    return community


BLUEPRINTS = (payments_blp, bills_blp, arrears_blp, fee_items_blp, fees_admin_blp)
