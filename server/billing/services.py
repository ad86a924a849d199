"""Paying bills (and paid-service orders) with WeChat Pay, and settling any payment.

A payment holds its bills (`Bill.locked_payment_id`) while it is live, so nothing is paid twice. The
notification and the periodic query apply a success through one function, `apply_success`, under a row
lock on the payment: a replay or a concurrent duplicate finds it paid and changes nothing.
"""
from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from .. import counters
from ..accounts.queries import approved_house_ids
from ..accounts.models import Community, Owner
from ..errors import AppError, Conflict, NotFound, UpstreamError, ValidationFailed
from ..extensions import db, locked
from ..money import yuan
from ..timeutil import as_utc, to_local, utcnow
from ..wechat.pay import PayError, pay_client
from ..wechat import messages
from ..wechat.services import notify_owner
from ..workorders import payments as order_payments
from ..workorders.models import WorkOrder
from ..workorders.events import SYSTEM
from . import refunds
from .errors import NotificationRejected
from .models import Bill, Payment, PaymentItem, ReceiptCounter, Refund

log = logging.getLogger(__name__)

BILL_STATUSES = {"unpaid": "待缴", "paid": "已缴", "refunded": "已退款", "waived": "已减免"}
PAYMENT_STATUSES = {"pending": "待支付", "paid": "已支付", "closed": "已关闭", "refunding": "退款中",
                    "partially_refunded": "部分退款", "refunded": "已退款"}


# -- reading ------------------------------------------------------------------------------------------------

def owner_bills_query(owner: Owner, house_id: int | None, status: str | None):
    houses = approved_house_ids(owner)
    if house_id is not None:
        if house_id not in houses:
            raise NotFound("未找到该房屋")
        houses = {house_id}
    stmt = select(Bill).where(Bill.house_id.in_(houses)).order_by(Bill.period.desc(), Bill.id)
    if status:
        stmt = stmt.where(Bill.status == status)
    return stmt


def owner_payment(owner: Owner, payment_id: int) -> Payment:
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.owner_id != owner.id:
        raise NotFound("未找到该支付")
    return payment


# -- paying online ------------------------------------------------------------------------------------------------

def new_out_trade_no() -> str:
    """A fresh number per attempt: 26 characters of [A-Za-z0-9] (WeChat allows 6-32)."""
    return f"WY{utcnow():%Y%m%d%H%M%S}{secrets.token_hex(5).upper()}"


def create_online(owner: Owner, *, bill_ids: list[int] | None = None, work_order_id: int | None = None) -> Payment:
    """Record the payment first (its bills held), then place the JSAPI order at WeChat Pay. If WeChat Pay
    fails, the payment is closed and the bills released: the owner can simply try again."""
    items, community_id, description = (_bill_items(owner, bill_ids) if bill_ids
                                        else _order_items(owner, work_order_id))
    now = utcnow()
    payment = Payment(community_id=community_id, owner_id=owner.id, method="wechat", status="pending",
                      amount_fen=sum(i.amount_fen for i in items), out_trade_no=new_out_trade_no(),
                      description=description, payer_openid=owner.openid, created_at=now,
                      expires_at=now + timedelta(minutes=current_app.config["PAY_EXPIRE_MINUTES"]))
    payment.items = items
    db.session.add(payment)
    db.session.flush()
    for item in items:
        if item.bill_id:
            db.session.execute(update(Bill).where(Bill.id == item.bill_id).values(locked_payment_id=payment.id))
    db.session.commit()  # written before anything leaves for WeChat

    community = db.session.get(Community, community_id)
    try:
        payment.prepay_id = pay_client().jsapi(
            out_trade_no=payment.out_trade_no, description=payment.description, total_fen=payment.amount_fen,
            openid=owner.openid, expires_at=to_local(payment.expires_at, community.timezone))
    except PayError as err:
        log.warning("JSAPI order for payment %s failed: %s", payment.id, err)
        _close(payment, "下单失败")
        db.session.commit()
        raise UpstreamError("微信支付暂时不可用，请稍后再试") from err
    db.session.commit()
    return payment


def _bill_items(owner: Owner, bill_ids: list[int]) -> tuple[list[PaymentItem], int, str]:
    houses = approved_house_ids(owner)
    bills = lock_payable_bills(bill_ids, lambda b: b.house_id in houses)
    return [PaymentItem(bill_id=b.id, amount_fen=b.amount_fen) for b in bills], bills[0].community_id, \
        bills_description(bills)


def lock_payable_bills(bill_ids: list[int], visible: Callable[[Bill], bool]) -> list[Bill]:
    """The bills, row-locked, when every one is visible to the caller (else 404), of one community, unpaid
    and not held by a live payment (else 409). Shared by owners paying online and the desk."""
    ids = sorted(set(bill_ids))
    # Row locks in id order: two payments racing for the same bills wait, never deadlock.
    bills = list(db.session.scalars(select(Bill).where(Bill.id.in_(ids)).order_by(Bill.id).with_for_update()
                                    .execution_options(populate_existing=True)))
    found = {b.id for b in bills if visible(b)}
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound("未找到账单：" + "、".join(map(str, missing)))
    if len({b.community_id for b in bills}) > 1:
        raise ValidationFailed("不同小区的账单请分开缴纳", fields={"bill_ids": ["不同小区的账单请分开缴纳"]})
    paid = [b.id for b in bills if b.status != "unpaid"]
    if paid:
        raise Conflict("账单已缴或已处理：" + "、".join(map(str, paid)), code="bill_not_payable")
    held = [b.id for b in bills if b.locked_payment_id is not None and live(b.locked_payment_id)]
    if held:
        raise Conflict("账单正在另一笔支付中，请完成或稍后再试：" + "、".join(map(str, held)), code="bill_in_payment")
    return bills


def bills_description(bills: list[Bill]) -> str:
    names = sorted({b.fee_item.name for b in bills})
    return f"{'、'.join(names)}（{len(bills)} 笔）"


def live(payment_id: int) -> bool:
    """A payment that can still be paid (pending and not expired)."""
    payment = db.session.get(Payment, payment_id)
    return payment is not None and payment.status == "pending" and as_utc(payment.expires_at) > utcnow()


def _order_items(owner: Owner, work_order_id: int | None) -> tuple[list[PaymentItem], int, str]:
    order = locked(WorkOrder, work_order_id) if work_order_id else None
    if order is None or order.house_id not in approved_house_ids(owner):
        raise NotFound("未找到该工单")
    due = (order.final_fen or 0) - order.paid_fen
    if order.kind != "service" or order.final_fen is None or order.status == "cancelled":
        raise Conflict("该工单没有待付的费用", code="not_payable")
    if due <= 0:
        raise Conflict("该工单已付清", code="already_paid")
    if order_in_online_payment(order.id):
        raise Conflict("该工单正在支付中，请完成或稍后再试", code="order_in_payment")
    return [PaymentItem(work_order_id=order.id, amount_fen=due)], order.community_id, f"有偿服务 {order.number}"


def order_in_online_payment(order_id: int) -> bool:
    """A live (pending, unexpired) online payment for this paid-service order exists. Work orders ask this
    before the desk takes money for an order (registered in server/app.py)."""
    return db.session.scalar(select(Payment.id).join(PaymentItem).where(
        PaymentItem.work_order_id == order_id, Payment.status == "pending", Payment.expires_at > utcnow())
        .limit(1)) is not None


def pay_params(payment: Payment) -> dict | None:
    if payment.status != "pending" or not payment.prepay_id:
        return None
    return pay_client().pay_params(payment.prepay_id)


# -- settling ----------------------------------------------------------------------------------------------------

def next_receipt_no(community_id: int) -> str:
    """SJ2026-000123: per community and year."""
    year = to_local(utcnow()).year
    return f"SJ{year}-{counters.bump(ReceiptCounter, community_id=community_id, year=year):06d}"


def settle(payment: Payment, *, paid_at: datetime, transaction_id: str | None = None) -> None:
    """Mark a payment paid and what it pays settled: bills paid, a paid-service order's money recorded.
    A bill already paid by another payment (money arrived twice) gets an automatic refund request."""
    payment.status, payment.paid_at, payment.transaction_id = "paid", paid_at, transaction_id
    payment.receipt_no = payment.receipt_no or next_receipt_no(payment.community_id)
    doubled, overpaid = [], 0
    for item in payment.items:
        if item.bill_id:
            bill = locked(Bill, item.bill_id)
            if bill.status == "unpaid":
                bill.status, bill.paid_payment_id, bill.paid_at = "paid", payment.id, paid_at
            elif bill.paid_payment_id != payment.id:
                doubled.append(bill)
            if bill.locked_payment_id == payment.id:
                bill.locked_payment_id = None
        elif item.work_order_id:
            order = locked(WorkOrder, item.work_order_id)
            amount = min(item.amount_fen, (order.final_fen or 0) - order.paid_fen)
            try:
                if amount > 0:
                    order_payments.settle(order, method=payment.method, amount_fen=amount,
                                          receipt_no=payment.receipt_no, collector=payment.collector,
                                          external_ref=payment.out_trade_no, actor=SYSTEM)
            except AppError as exc:  # e.g. cancelled meanwhile: the money is real, give it back
                log.warning("payment %s: order %s not settled (%s)", payment.id, order.id, exc.message)
                amount = 0
            overpaid += item.amount_fen - max(amount, 0)
    refund_fen = sum(b.amount_fen for b in doubled) + overpaid
    if refund_fen:
        db.session.add(Refund(payment_id=payment.id, out_refund_no=f"RF{payment.out_trade_no or payment.id}D",
                              amount_fen=refund_fen, reason="重复或多余的付款，自动申请退款", bill_ids=[],
                              status="requested"))
        log.warning("payment %s: %s fen paid twice or for nothing (bills %s): refund requested", payment.id,
                    refund_fen, [b.id for b in doubled])
    if payment.owner is not None and payment.method == "wechat":
        db.session.flush()
        notify_owner(payment.owner, messages.payment_result(
            receipt_no=payment.receipt_no, amount_fen=payment.amount_fen,
            description=payment.description or "物业缴费", at=paid_at,
        ), community_id=payment.community_id, page=f"pages/payments/detail?id={payment.id}",
            dedupe_key=f"payment-paid:{payment.id}", queue="high")


def _close(payment: Payment, reason: str) -> None:
    payment.status, payment.closed_at = "closed", utcnow()
    db.session.execute(update(Bill).where(Bill.locked_payment_id == payment.id).values(locked_payment_id=None))
    log.info("payment %s closed: %s", payment.id, reason)


def _matches(payment: Payment, tx: dict) -> str | None:
    """Why a WeChat transaction does not belong to this payment, or None."""
    cfg = current_app.config
    if tx.get("out_trade_no") != payment.out_trade_no:
        return "out_trade_no"
    if tx.get("mchid") != cfg["PAY_MCHID"]:
        return "mchid"
    if tx.get("appid") != cfg["MP_APPID"]:
        return "appid"
    if (tx.get("amount") or {}).get("total") != payment.amount_fen:
        return "amount"
    return None


def apply_success(tx: dict) -> str:
    """A TRANSACTION.SUCCESS (from the notification or a query), applied once. Returns applied | duplicate."""
    # populate_existing: the periodic query and the owner's cancel loaded this payment before the lock.
    payment = db.session.scalar(select(Payment).where(Payment.out_trade_no == tx.get("out_trade_no"))
                                .with_for_update().execution_options(populate_existing=True))
    if payment is None:
        raise NotificationRejected(f"unknown out_trade_no {tx.get('out_trade_no')}")
    mismatch = _matches(payment, tx)
    if mismatch:
        raise NotificationRejected(f"payment {payment.id}: {mismatch} differs from our record")
    if payment.status != "pending" and payment.status != "closed":
        db.session.rollback()
        return "duplicate"
    if payment.status == "closed":
        log.warning("payment %s: success reported after we closed it; money is real, settling", payment.id)
    paid_at = datetime.fromisoformat(tx["success_time"]) if tx.get("success_time") else utcnow()
    settle(payment, paid_at=as_utc(paid_at), transaction_id=tx.get("transaction_id"))
    db.session.commit()
    return "applied"


def handle_notification(headers, body: bytes) -> str:
    """POST /api/v1/pay/notify: verify the signature over the raw body, refuse stale timestamps, decrypt,
    compare with our record, apply once."""
    try:
        sent_at = int(headers.get("Wechatpay-Timestamp", ""))
    except ValueError:
        raise NotificationRejected("missing timestamp") from None
    if abs(utcnow().timestamp() - sent_at) > current_app.config["PAY_NOTIFY_MAX_SKEW"]:
        raise NotificationRejected(f"stale timestamp {sent_at}")
    data = pay_client().verify_notification(headers, body)
    if not data:
        raise NotificationRejected("signature or decryption failed")
    event, resource = data.get("event_type", ""), data.get("resource") or {}
    if event == "TRANSACTION.SUCCESS":
        if resource.get("trade_state") != "SUCCESS":
            raise NotificationRejected("trade_state is not SUCCESS")
        return apply_success(resource)
    if event.startswith("REFUND."):
        return refunds.apply_refund_result(resource)
    log.info("payment notification %s ignored", event)
    return "ignored"


# -- the periodic check ------------------------------------------------------------------------------------------

def check_pending(limit: int = 200) -> dict:
    """Payments still pending after PAY_QUERY_AFTER_MINUTES are queried (a lost notification is applied
    now); expired unpaid ones are closed at WeChat Pay and here, releasing their bills."""
    cfg = current_app.config
    now = utcnow()
    ids = list(db.session.scalars(select(Payment.id).where(
        Payment.method == "wechat", Payment.status == "pending",
        Payment.created_at < now - timedelta(minutes=cfg["PAY_QUERY_AFTER_MINUTES"])).order_by(Payment.id).limit(limit)))
    db.session.rollback()
    counts = {"applied": 0, "closed": 0, "waiting": 0, "errors": 0}
    client = pay_client()
    for payment_id in ids:
        payment = db.session.get(Payment, payment_id)
        try:
            tx = client.query(payment.out_trade_no) if payment.prepay_id else {"trade_state": "NOTPAY"}
        except PayError as err:
            if err.code == "ORDER_NOT_EXIST":
                tx = {"trade_state": "NOTPAY"}
            else:
                counts["errors"] += 1
                log.warning("query of payment %s failed: %s", payment_id, err)
                continue
        state = tx.get("trade_state")
        if state == "SUCCESS":
            counts["applied"] += apply_success(tx) == "applied"
            continue
        expired = as_utc(payment.expires_at) <= now
        if state == "CLOSED" or (expired and state in ("NOTPAY", "PAYERROR", None)):
            try:
                if state != "CLOSED" and payment.prepay_id:
                    client.close(payment.out_trade_no)
            except PayError as err:
                counts["errors"] += 1
                log.warning("closing payment %s failed: %s", payment_id, err)
                continue
            payment = locked(Payment, payment_id)
            if payment.status == "pending":
                _close(payment, "超时未支付")
                counts["closed"] += 1
        else:
            payment.last_queried_at = now
            counts["waiting"] += 1
        db.session.commit()
    return counts


def payment_lines(payment: Payment) -> list[dict]:
    """What a payment pays, line by line (for the receipt and the payment's JSON)."""
    lines = []
    for item in payment.items:
        if item.bill_id:
            bill = db.session.get(Bill, item.bill_id)
            what, house = f"{bill.fee_item.name} {bill.period}", bill.house.label
        else:
            order = db.session.get(WorkOrder, item.work_order_id)
            what, house = f"有偿服务 {order.number} {order.title}", order.house.label
        lines.append({"what": what, "house": house, "amount_fen": item.amount_fen, "amount": yuan(item.amount_fen),
                      "bill_id": item.bill_id, "work_order_id": item.work_order_id})
    return lines


def cancel_by_owner(payment: Payment) -> Payment:
    """The owner gave up this attempt (e.g. to pay a different selection): close it at WeChat Pay first, so
    it can no longer be paid, then release its bills. A payment WeChat says is paid is applied instead."""
    if payment.status != "pending":
        raise Conflict("只有待支付的订单可以取消", code="not_pending")
    if payment.prepay_id:
        client = pay_client()
        try:
            tx = client.query(payment.out_trade_no)
            if tx.get("trade_state") == "SUCCESS":
                apply_success(tx)
                raise Conflict("该订单已支付成功", code="already_paid")
            client.close(payment.out_trade_no)
        except PayError as err:
            raise UpstreamError("微信支付暂时不可用，请稍后再试") from err
    payment = locked(Payment, payment.id)
    if payment.status == "pending":
        _close(payment, "业主取消")
    return payment
