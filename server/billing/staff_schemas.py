"""Fees as staff see and administer them: desk payments, bills, arrears and dunning contacts, fee items,
subscriptions, meters and readings, one-off charges, generation reports."""
from __future__ import annotations

import marshmallow as ma
from flask_smorest.fields import Upload as UploadField
from marshmallow import ValidationError, validate, validates_schema

from ..reporting import MonthField
from ..schemas import Day, DecimalText, Int, LocalDateTime, PageArgs, Text, page_of
from ..money import OFFLINE_METHODS, PAYMENT_METHODS
from . import admin, dunning, formulas, services
from .schemas import BillOut, FeePaymentOut


class FeeStaffOut(ma.Schema):
    id = Int()
    name = ma.fields.String()


class FeeHouseOut(ma.Schema):
    id = Int()
    label = ma.fields.String()
    area_m2 = DecimalText(allow_none=True)


# -- desk payments ------------------------------------------------------------------------------------------------

class DeskPaymentIn(ma.Schema):
    bill_ids = ma.fields.List(Int(strict=True), required=True,
                              validate=validate.Length(min=1, max=100), metadata={"description": "所缴账单"})
    method = ma.fields.String(required=True, validate=validate.OneOf(list(OFFLINE_METHODS)),
                              metadata={"description": "cash 现金 | pos POS 刷卡 | transfer 转账"})
    reference = Text(64, load_default=None, allow_none=True, metadata={"description": "POS 签购单号、转账流水号"})
    payer_name = Text(50, load_default=None, allow_none=True, metadata={"description": "缴费人（印在收据上）"})


class StaffPaymentOut(FeePaymentOut):
    method_label = ma.fields.Function(lambda p: PAYMENT_METHODS.get(p.method, p.method))
    reference = ma.fields.String(allow_none=True)
    payer_name = ma.fields.String(allow_none=True)
    collector = ma.fields.Nested(FeeStaffOut, allow_none=True)
    handed_over = ma.fields.Function(lambda p: p.handover_id is not None,
                                     metadata={"description": "已交财务（前台收款）"})
    receipt_url = ma.fields.Function(lambda p: f"/api/v1/staff/payments/{p.id}/receipt" if p.receipt_no else None)
    houses = ma.fields.Function(lambda p: sorted({i.bill.house.label for i in p.items if i.bill_id}))

    class Meta:
        exclude = ("pay_params",)


StaffPaymentPage = page_of(StaffPaymentOut, "StaffFeePaymentPage")


class PaymentArgs(PageArgs):
    date = Day(metadata={"description": "收款日期 YYYY-MM-DD（小区时区）"})
    collector_id = Int(metadata={"description": "收款员工 id"})
    method = ma.fields.String(validate=validate.OneOf(list(PAYMENT_METHODS)))


# -- bills and arrears -----------------------------------------------------------------------------------------

class StaffBillArgs(PageArgs):
    house_id = Int()
    building = ma.fields.String(validate=validate.Length(max=20), metadata={"description": "楼栋编号，如 1"})
    period = MonthField(metadata={"description": "账期 YYYY-MM"})
    status = ma.fields.String(validate=validate.OneOf(list(services.BILL_STATUSES)))
    overdue = ma.fields.Boolean(load_default=False, metadata={"description": "只看已过缴费期限的未缴账单"})


class StaffBillOut(BillOut):
    house = ma.fields.Function(lambda b: {"id": b.house_id, "label": b.house.label})
    fee_item_id = Int()
    reminder_stage = Int(metadata={"description": "已发出的催缴提醒次数"})
    last_reminded_at = LocalDateTime(allow_none=True)
    paid_payment_id = Int(allow_none=True)
    created_at = LocalDateTime()


StaffBillPage = page_of(StaffBillOut, "StaffBillPage")


class ChargeIn(ma.Schema):
    house_id = Int(required=True, strict=True)
    fee_item_id = Int(required=True, strict=True, metadata={"description": "一次性收费项目"})
    amount_fen = Int(required=True, strict=True, validate=validate.Range(min=1, max=100_000_000))
    period = MonthField(required=True)
    note = Text(200, required=True, min_length=1, metadata={"description": "收费事由，业主可见"})


class GenerateIn(ma.Schema):
    period = MonthField(required=True)


class GenerationOut(ma.Schema):
    period = ma.fields.String()
    computed = Int(metadata={"description": "按公式算出的账单数"})
    created = Int(metadata={"description": "新建的账单数"})
    existing = Int(metadata={"description": "已存在（未重复生成）的账单数"})
    seconds = ma.fields.Float()
    skipped = ma.fields.List(ma.fields.String(), metadata={"description": "未产生账单的项目及原因"})


class ArrearsArgs(PageArgs):
    building = ma.fields.String(validate=validate.Length(max=20))
    min_days = Int(load_default=0, validate=validate.Range(min=0, max=10000),
                                 metadata={"description": "至少逾期天数"})


class ContactOut(ma.Schema):
    id = Int()
    house_id = Int()
    method = ma.fields.String()
    method_label = ma.fields.Function(lambda c: dunning.CONTACT_METHODS[c.method])
    note = ma.fields.String()
    promised_date = Day(allow_none=True)
    staff = ma.fields.Nested(FeeStaffOut, allow_none=True, metadata={"description": "系统自动提醒时为 null"})
    at = LocalDateTime()


ContactPage = page_of(ContactOut, "DunningContactPage")


class ContactIn(ma.Schema):
    method = ma.fields.String(required=True, validate=validate.OneOf(list(dunning.STAFF_CONTACT_METHODS)),
                              metadata={"description": "phone 电话 | visit 上门 | letter 催缴函"})
    note = Text(1000, required=True, min_length=1, metadata={"description": "沟通情况"})
    promised_date = Day(load_default=None, allow_none=True, metadata={"description": "业主承诺缴费日期"})


class ArrearsOwnerOut(ma.Schema):
    name = ma.fields.String()
    phone = ma.fields.String(metadata={"description": "已脱敏"})
    bound = ma.fields.Boolean(metadata={"description": "已在小程序绑定（可收到提醒）"})


class HouseArrearsOut(ma.Schema):
    house = ma.fields.Nested(FeeHouseOut)
    owners = ma.fields.List(ma.fields.Nested(ArrearsOwnerOut))
    overdue_fen = Int(metadata={"description": "逾期未缴合计（分）"})
    oldest_due_date = Day()
    days_overdue = Int()
    bills = Int(metadata={"description": "逾期账单数"})
    reminders_sent = Int(metadata={"description": "已推送的缴费提醒次数"})
    last_contact = ma.fields.Nested(ContactOut, allow_none=True)


ArrearsPage = page_of(HouseArrearsOut, "ArrearsPage")


# -- fee items -------------------------------------------------------------------------------------------------

CODE = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,29}$", error="编码为字母、数字、- 或 _，最长 30 位")


class FeeItemPatch(ma.Schema):
    code = ma.fields.String(validate=CODE)
    name = Text(50, min_length=1)
    price_fen = Int(strict=True, validate=validate.Range(min=0, max=100_000_000), metadata={
        "description": "分：area/heating 每㎡每月，shared/metered 每单位用量，fixed 每月，one_off 可为 0"})
    unit = Text(20, metadata={"description": "显示用单位，如 元/㎡·月；不填按类型默认"})
    meter_kind = ma.fields.String(allow_none=True, validate=validate.OneOf(list(formulas.METER_KINDS)))
    split = ma.fields.String(allow_none=True, validate=validate.OneOf(list(admin.SPLITS)))
    season_months = ma.fields.List(Int(strict=True, validate=validate.Range(min=1, max=12)),
                                   validate=validate.Length(max=12), metadata={"description": "采暖月份"})
    advance = ma.fields.Boolean(metadata={"description": "代垫费用（水电气），须当期收回"})
    due_days = Int(strict=True, validate=validate.Range(min=0, max=365),
                                 metadata={"description": "账期开始后多少天到期"})
    active = ma.fields.Boolean()


class FeeItemIn(FeeItemPatch):
    code = ma.fields.String(required=True, validate=CODE)
    name = Text(50, required=True, min_length=1)
    kind = ma.fields.String(required=True, validate=validate.OneOf(list(formulas.KINDS)),
                            metadata={"description": "area | shared | heating | fixed | metered | one_off"})


class FeeItemOut(ma.Schema):
    id = Int()
    code = ma.fields.String()
    name = ma.fields.String()
    kind = ma.fields.String()
    kind_label = ma.fields.Function(lambda i: formulas.KINDS[i.kind])
    price_fen = Int()
    unit = ma.fields.String()
    meter_kind = ma.fields.String(allow_none=True)
    split = ma.fields.String(allow_none=True)
    season_months = ma.fields.List(Int())
    advance = ma.fields.Boolean()
    due_days = Int()
    active = ma.fields.Boolean()


class FeeSubscriptionIn(ma.Schema):
    house_id = Int(required=True, strict=True)
    quantity = Int(load_default=1, strict=True, validate=validate.Range(min=1, max=100))
    note = Text(100, load_default="", metadata={"description": "如车位号"})


class FeeSubscriptionArgs(ma.Schema):
    house_id = Int(required=True)


class FeeSubscriptionOut(ma.Schema):
    id = Int()
    fee_item_id = Int()
    house = ma.fields.Function(lambda s: {"id": s.house_id, "label": _house_label(s.house_id)})
    quantity = Int()
    note = ma.fields.String()


def _house_label(house_id: int) -> str:
    from ..accounts.models import House
    from ..extensions import db

    return db.session.get(House, house_id).label


# -- meters ------------------------------------------------------------------------------------------------------

class MeterIn(ma.Schema):
    number = Text(40, required=True, min_length=1, metadata={"description": "表号（小区内唯一）"})
    kind = ma.fields.String(required=True, validate=validate.OneOf(list(formulas.METER_KINDS)))
    house_id = Int(strict=True, metadata={"description": "户表：所属房屋"})
    building = ma.fields.String(validate=validate.Length(min=1, max=20),
                                metadata={"description": "公共表：楼栋编号（公摊）"})

    @validates_schema
    def house_or_building(self, data, **kwargs):
        if ("house_id" in data) == ("building" in data):
            raise ValidationError("请提供 house_id（户表）或 building（楼栋公共表）之一", "house_id")


class ReadingOut(ma.Schema):
    period = ma.fields.String()
    reading = DecimalText()
    consumption = DecimalText()
    replaced = ma.fields.Boolean()
    old_final = DecimalText(allow_none=True)
    created_at = LocalDateTime()


class MeterOut(ma.Schema):
    id = Int(attribute="meter.id")
    number = ma.fields.String(attribute="meter.number")
    kind = ma.fields.String(attribute="meter.kind")
    kind_label = ma.fields.Function(lambda m: formulas.METER_KINDS[m["meter"].kind])
    house = ma.fields.Function(lambda m: {"id": m["meter"].house_id, "label": m["meter"].house.label}
                               if m["meter"].house_id else None)
    building = ma.fields.Function(lambda m: m["meter"].building.code if m["meter"].building_id else None)
    last_reading = ma.fields.Nested(ReadingOut, allow_none=True)


MeterPage = page_of(MeterOut, "MeterPage")


class MeterArgs(PageArgs):
    kind = ma.fields.String(validate=validate.OneOf(list(formulas.METER_KINDS)))
    house_id = Int()
    building = ma.fields.String(validate=validate.Length(max=20))


class ReadingsUploadIn(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    file = UploadField(required=True, metadata={
        "description": "CSV（UTF-8 或 GBK）：表号/meter, 期间/period (YYYY-MM), 读数/reading[, 换表/replaced (1/是), "
                       "旧表止码/old_final]"})


class ReadingReportOut(ma.Schema):
    rows = Int()
    imported = Int()
    updated = Int(metadata={"description": "更正的读数（同一期间重新导入了不同读数）"})
    rejected = ma.fields.Function(lambda r: [{"line": line, "reason": reason} for line, reason in r.rejected],
                                  metadata={"description": "被拒绝的行：行号与原因"})


# -- settings ------------------------------------------------------------------------------------------------------

class FeeSettingsIn(ma.Schema):
    reception_collects_fees = ma.fields.Boolean(required=True,
                                                metadata={"description": "收费员不在时接待员可收取物业费"})


class FeeSettingsOut(ma.Schema):
    reception_collects_fees = ma.fields.Boolean()
