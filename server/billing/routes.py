"""Owners' bills and payments, WeChat Pay's notification, and refunds at the desk."""
from __future__ import annotations

import logging

import marshmallow as ma
from flask import Response, request
from sqlalchemy import select

from ..api import BEARER, blueprint
from ..auth import access
from ..auth.access import requires
from ..accounts.models import Community
from ..auth.services import require_owner, require_staff
from ..errors import Conflict
from ..extensions import db
from ..rendering import render
from ..timeutil import local_text
from ..money import PAYMENT_METHODS
from . import refunds, services
from .errors import NotificationRejected
from .models import Payment, Refund
from .schemas import BillArgs, BillOut, FeePaymentIn, FeePaymentOut, RefundArgs, RefundIn, RefundOut, ReviewIn

log = logging.getLogger(__name__)

bills_blp = blueprint("bills", "/api/v1/bills", "业主账单")
payments_blp = blueprint("payments", "/api/v1/payments", "在线缴费（微信支付）与电子收据")
notify_blp = blueprint("pay-notify", "/api/v1/pay", "微信支付回调（微信调用）")
refunds_blp = blueprint("refunds", "/api/v1/staff", "退款：员工申请，经理审批")


@bills_blp.get("")
@bills_blp.arguments(BillArgs, location="query")
@bills_blp.response(200, BillOut(many=True))
@bills_blp.doc(security=BEARER)
def list_bills(args):
    """我的房屋的账单（可按房屋、状态筛选），最新期间在前"""
    stmt = services.owner_bills_query(require_owner(), args.get("house_id"), args.get("status"))
    return db.session.scalars(stmt).all()


@payments_blp.post("")
@payments_blp.arguments(FeePaymentIn)
@payments_blp.response(201, FeePaymentOut)
@payments_blp.doc(security=BEARER)
def create_payment(data):
    """发起支付：账单或有偿服务工单 -> 微信支付下单，返回 wx.requestPayment 参数"""
    payment = services.create_online(require_owner(), bill_ids=data.get("bill_ids"),
                                     work_order_id=data.get("work_order_id"))
    return payment


@payments_blp.get("")
@payments_blp.response(200, FeePaymentOut(many=True))
@payments_blp.doc(security=BEARER)
def list_payments():
    """我的支付记录（最近 100 笔）"""
    owner = require_owner()
    return db.session.scalars(select(Payment).where(Payment.owner_id == owner.id)
                              .order_by(Payment.id.desc()).limit(100)).all()


@payments_blp.post("/<int:payment_id>/cancel")
@payments_blp.response(200, FeePaymentOut)
@payments_blp.doc(security=BEARER)
def cancel_payment(payment_id):
    """取消未完成的支付（在微信支付关单后释放账单）"""
    payment = services.cancel_by_owner(services.owner_payment(require_owner(), payment_id))
    db.session.commit()
    return payment


@payments_blp.get("/<int:payment_id>")
@payments_blp.response(200, FeePaymentOut)
@payments_blp.doc(security=BEARER)
def get_payment(payment_id):
    """支付状态"""
    return services.owner_payment(require_owner(), payment_id)


@payments_blp.get("/<int:payment_id>/receipt")
@payments_blp.response(200, description="电子收据（HTML，可打印）", content_type="text/html")
@payments_blp.doc(security=BEARER)
def get_receipt(payment_id):
    """电子收据：本小区收据号，可打印"""
    payment = services.owner_payment(require_owner(), payment_id)
    if payment.receipt_no is None:
        raise Conflict("支付完成后才有收据", code="not_paid")
    return Response(receipt_html(payment), mimetype="text/html")


def receipt_html(payment: Payment) -> str:
    community = db.session.get(Community, payment.community_id)
    return render("server.billing", "receipt.html", payment=payment, community=community,
                  lines=services.payment_lines(payment),
                  paid_at=local_text(payment.paid_at, community.timezone) if payment.paid_at else "",
                  payer=payment.payer_name or (payment.owner.name if payment.owner and payment.owner.name
                                               else "业主"),
                  method=PAYMENT_METHODS.get(payment.method, payment.method))


class NotifyFailOut(ma.Schema):
    """WeChat Pay's own failure shape (not our envelope): WeChat Pay reads it and notifies again later."""
    code = ma.fields.String(metadata={"example": "FAIL"})
    message = ma.fields.String(metadata={"example": "通知校验失败"})


@notify_blp.post("/notify")
@notify_blp.response(204, description="已处理（或此前已处理）")
@notify_blp.alt_response(400, schema=NotifyFailOut, description="验签、时间戳或金额不符：不入账，微信支付稍后重发")
@notify_blp.doc(security=[])
def pay_notify():
    """微信支付通知（支付成功、退款结果）：验签、校验时间戳、解密、核对金额后只入账一次；失败返回 4xx"""
    try:
        result = services.handle_notification(request.headers, request.get_data())
    except NotificationRejected as exc:
        db.session.rollback()
        log.warning("payment notification rejected: %s", exc)
        # WeChat Pay's own failure shape; it retries a 4xx, and a forged one never gets through.
        return {"code": "FAIL", "message": "通知校验失败"}, 400
    log.info("payment notification: %s", result)
    return Response(status=204)


# -- refunds ------------------------------------------------------------------------------------------------------

@refunds_blp.post("/payments/<int:payment_id>/refunds")
@refunds_blp.arguments(RefundIn)
@refunds_blp.response(201, RefundOut)
@refunds_blp.doc(security=BEARER)
def request_refund(data, payment_id):
    """申请退款（收费员、接待员、财务、经理）；经理审批后发起"""
    staff = require_staff()
    refund = refunds.request(staff, access.scoped(Payment, payment_id, staff, "未找到该支付"), data["amount_fen"], data["reason"],
                             data["bill_ids"])
    db.session.commit()
    return refund


@refunds_blp.post("/refunds/<int:refund_id>/review")
@requires("approve_refunds")
@refunds_blp.arguments(ReviewIn)
@refunds_blp.response(200, RefundOut)
@refunds_blp.doc(security=BEARER)
def review_refund(data, refund_id):
    """经理审批退款：批准后微信支付原路退回（现金等线下退款即时完成）"""
    staff = require_staff()
    refund = refunds.review(staff, refunds.staff_refund(staff, refund_id), data["approve"], data["note"])
    db.session.commit()
    return refund


@refunds_blp.get("/refunds")
@refunds_blp.arguments(RefundArgs, location="query")
@refunds_blp.response(200, RefundOut(many=True))
@refunds_blp.doc(security=BEARER)
def list_refunds(args):
    """本小区的退款"""
    staff = require_staff()
    stmt = select(Refund).join(Payment).where(Payment.community_id == staff.community_id).order_by(Refund.id.desc())
    if "status" in args:
        stmt = stmt.where(Refund.status == args["status"])
    return db.session.scalars(stmt.limit(200)).all()


BLUEPRINTS = (bills_blp, payments_blp, notify_blp, refunds_blp)
