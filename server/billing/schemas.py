"""Bills, payments and refunds as owners and staff see them."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import ValidationError, validate, validates_schema

from ..schemas import Day, Int, LocalDateTime, Text
from . import refunds, services


class BillArgs(ma.Schema):
    house_id = Int()
    status = ma.fields.String(validate=validate.OneOf(list(services.BILL_STATUSES)))


class BillOut(ma.Schema):
    id = Int()
    house = ma.fields.Function(lambda b: {"id": b.house_id, "label": b.house.label})
    item = ma.fields.Function(lambda b: b.fee_item.name)
    item_code = ma.fields.Function(lambda b: b.fee_item.code)
    item_kind = ma.fields.Function(lambda b: b.fee_item.kind, metadata={"description": "area/shared/heating/fixed/metered/one_off"})
    unit = ma.fields.Function(lambda b: b.fee_item.unit, metadata={"description": "计价单位，如 元/㎡·月、元/吨"})
    meter_kind = ma.fields.Function(lambda b: b.fee_item.meter_kind)
    period = ma.fields.String()
    amount_fen = Int()
    status = ma.fields.String()
    status_label = ma.fields.Function(lambda b: services.BILL_STATUSES[b.status])
    due_date = Day()
    details = ma.fields.Dict(metadata={"description": "计费依据：面积、单价、读数…"})
    in_payment = ma.fields.Function(lambda b: b.locked_payment_id is not None and services.live(b.locked_payment_id),
                                    metadata={"description": "正在一笔未完成的支付中"})
    paid_payment_id = Int(allow_none=True)
    paid_at = LocalDateTime(allow_none=True)


class FeePaymentIn(ma.Schema):
    bill_ids = ma.fields.List(Int(strict=True), validate=validate.Length(min=1, max=100))
    work_order_id = Int(strict=True, metadata={"description": "有偿服务工单（与 bill_ids 二选一）"})

    @validates_schema
    def one_of(self, data, **kwargs):
        if ("bill_ids" in data) == ("work_order_id" in data):
            raise ValidationError("请提供 bill_ids 或 work_order_id 之一", "bill_ids")


class FeePaymentOut(ma.Schema):
    id = Int()
    out_trade_no = ma.fields.String(allow_none=True)
    method = ma.fields.String()
    amount_fen = Int()
    refunded_fen = Int()
    status = ma.fields.String()
    status_label = ma.fields.Function(lambda p: services.PAYMENT_STATUSES[p.status])
    description = ma.fields.String()
    receipt_no = ma.fields.String(allow_none=True)
    expires_at = LocalDateTime(allow_none=True)
    paid_at = LocalDateTime(allow_none=True)
    created_at = LocalDateTime()
    items = ma.fields.Function(lambda p: services.payment_lines(p),
                               metadata={"description": "缴费明细：项目、房屋、金额（分）"})
    bill_ids = ma.fields.Function(lambda p: [i.bill_id for i in p.items if i.bill_id])
    work_order_ids = ma.fields.Function(lambda p: [i.work_order_id for i in p.items if i.work_order_id])
    pay_params = ma.fields.Function(lambda p: services.pay_params(p),
                                    metadata={"description": "wx.requestPayment 的参数（待支付时）"})


class RefundIn(ma.Schema):
    amount_fen = Int(required=True, strict=True, validate=validate.Range(min=1))
    reason = Text(80, required=True, min_length=1)
    bill_ids = ma.fields.List(Int(strict=True), load_default=list,
                              metadata={"description": "整笔退还的账单（退款成功后账单标记为已退款）"})


class ReviewIn(ma.Schema):
    approve = ma.fields.Boolean(required=True)
    note = Text(200, load_default="")


class RefundArgs(ma.Schema):
    status = ma.fields.String(validate=validate.OneOf(list(refunds.STATUSES)))


class RefundOut(ma.Schema):
    id = Int()
    payment_id = Int()
    out_refund_no = ma.fields.String()
    amount_fen = Int()
    reason = ma.fields.String()
    bill_ids = ma.fields.List(Int())
    status = ma.fields.String()
    status_label = ma.fields.Function(lambda r: refunds.STATUSES[r.status])
    requested_by = ma.fields.Function(lambda r: r.requested_by.name if r.requested_by else None)
    requested_at = LocalDateTime()
    reviewed_by = ma.fields.Function(lambda r: r.reviewed_by.name if r.reviewed_by else None)
    reviewed_at = LocalDateTime(allow_none=True)
    review_note = ma.fields.String(allow_none=True)
    succeeded_at = LocalDateTime(allow_none=True)
    last_error = ma.fields.String(allow_none=True)
