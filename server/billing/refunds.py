"""Refunds: requested by staff, approved by the manager, sent by a job with a stable out_refund_no (a retry
is the same refund at WeChat Pay), finished by the REFUND notification or a query.

Never more back than was paid: requesting and approving a refund lock the payment row (and approving and
finishing one lock the refund row first, always refund before payment, so two of these never deadlock),
re-read what they decide on under the lock, and the database refuses a refunded total outside
0..amount (CHECK constraint on payments, migration 0014)."""
from __future__ import annotations

import logging

from sqlalchemy import func, select

from .. import outbox
from ..accounts.models import Staff
from ..auth import access
from ..errors import Conflict, ValidationFailed
from ..extensions import db, locked
from ..timeutil import utcnow
from ..wechat.pay import PayError, pay_client
from .errors import NotificationRejected
from .models import Bill, Payment, Refund

log = logging.getLogger(__name__)

STATUSES = {"requested": "待审批", "approved": "已批准", "rejected": "已驳回", "processing": "退款中",
            "success": "已退款", "failed": "退款失败"}
OPEN = ("requested", "approved", "processing")
IN_FLIGHT = ("approved", "processing")  # approved, money not yet confirmed back


def _refunds_total(payment_id: int, statuses: tuple[str, ...]) -> int:
    """Sum of this payment's refunds in these states, counted in the database (not the session's copies)."""
    return db.session.scalar(select(func.coalesce(func.sum(Refund.amount_fen), 0))
                             .where(Refund.payment_id == payment_id, Refund.status.in_(statuses)))


def request(staff: Staff, payment: Payment, amount_fen: int, reason: str, bill_ids: list[int]) -> Refund:
    access.require(staff, "request_refunds", payment)
    # Under the payment's lock: two requests at once cannot both count the same refundable money.
    payment = locked(Payment, payment.id)
    if payment.status not in ("paid", "partially_refunded"):
        raise Conflict("只有已支付的款项可以退款", code="not_refundable")
    pending = _refunds_total(payment.id, OPEN)
    if amount_fen > payment.amount_fen - payment.refunded_fen - pending:
        raise Conflict("退款金额超过可退金额", code="refund_too_large")
    items = {i.bill_id for i in payment.items if i.bill_id}
    unknown = [b for b in bill_ids if b not in items]
    if unknown:
        raise ValidationFailed(fields={"bill_ids": [f"账单 {b} 不在这笔支付中" for b in unknown]})
    if bill_ids and sum(db.session.get(Bill, b).amount_fen for b in bill_ids) != amount_fen:
        raise ValidationFailed(fields={"amount_fen": ["退还整笔账单时，金额须等于这些账单的合计"]})
    so_far = db.session.scalar(select(func.count()).select_from(Refund).where(Refund.payment_id == payment.id))
    refund = Refund(payment=payment, amount_fen=amount_fen, reason=reason, bill_ids=bill_ids, status="requested",
                    requested_by_id=staff.id, requested_at=utcnow(),
                    out_refund_no=f"RF{payment.id:08d}{so_far + 1:03d}")
    db.session.add(refund)
    db.session.flush()
    return refund


def review(staff: Staff, refund: Refund, approve: bool, note: str) -> Refund:
    access.require(staff, "approve_refunds")
    # The refund's lock first (ten managers' clicks: one decides, the others find it decided), then the
    # payment's (two refunds of one payment approved at once are counted one after the other).
    refund = locked(Refund, refund.id)
    if refund.status != "requested":
        raise Conflict(f"该退款{STATUSES[refund.status]}，不能再审批", code="not_requested")
    if approve:
        payment = locked(Payment, refund.payment_id)
        if payment.refunded_fen + _refunds_total(payment.id, IN_FLIGHT) + refund.amount_fen > payment.amount_fen:
            raise Conflict("退款金额超过可退金额", code="refund_too_large")
    refund.status = "approved" if approve else "rejected"
    refund.reviewed_by_id, refund.reviewed_at, refund.review_note = staff.id, utcnow(), note or None
    if approve:
        if payment.method == "wechat":
            outbox.add("jobs.billing.send_refund", queue="high", refund_id=refund.id)
        else:  # cash, POS, transfer: the money goes back at the desk, so it is done when approved
            _succeeded(refund)
    return refund


def send(refund_id: int) -> str:
    """Job: ask WeChat Pay for an approved refund. Safe to repeat: the out_refund_no makes it one refund."""
    refund = locked(Refund, refund_id)
    if refund is None or refund.status not in ("approved", "processing"):
        return "skipped"
    payment = refund.payment
    from flask import current_app

    try:
        result = pay_client().refund(out_trade_no=payment.out_trade_no, out_refund_no=refund.out_refund_no,
                                     refund_fen=refund.amount_fen, total_fen=payment.amount_fen,
                                     reason=refund.reason[:80], notify_url=current_app.config["PAY_NOTIFY_URL"])
    except PayError as err:
        refund.last_error = f"{err.code}: {err.message}"
        if err.transient:
            db.session.commit()
            raise
        refund.status = "failed"
        db.session.commit()
        return "failed"
    refund.refund_id = result.get("refund_id")
    refund.status = "processing"
    if result.get("status") == "SUCCESS":
        _succeeded(refund)
    db.session.commit()
    return refund.status


def apply_refund_result(resource: dict) -> str:
    """REFUND.* notification (verified and decrypted by the caller) or a query result."""
    # populate_existing: check_processing loaded this refund before the lock; its status must be re-read.
    refund = db.session.scalar(select(Refund).where(Refund.out_refund_no == resource.get("out_refund_no"))
                               .with_for_update().execution_options(populate_existing=True))
    if refund is None:
        raise NotificationRejected(f"unknown out_refund_no {resource.get('out_refund_no')}")
    status = resource.get("refund_status") or resource.get("status")
    if refund.status == "success":
        db.session.rollback()
        return "duplicate"
    if status == "SUCCESS":
        refund.refund_id = refund.refund_id or resource.get("refund_id")
        _succeeded(refund)
    elif status in ("CLOSED", "ABNORMAL"):
        refund.status, refund.last_error = "failed", status
    db.session.commit()
    return "applied"


def _succeeded(refund: Refund) -> None:
    refund.status, refund.succeeded_at = "success", utcnow()
    payment = locked(Payment, refund.payment_id)  # after the refund's lock, as everywhere
    payment.refunded_fen += refund.amount_fen
    payment.status = "refunded" if payment.refunded_fen >= payment.amount_fen else "partially_refunded"
    for bill_id in refund.bill_ids:
        bill = db.session.get(Bill, bill_id)
        if bill.paid_payment_id == payment.id:
            bill.status = "refunded"


def check_processing(limit: int = 100) -> int:
    """Periodic: refunds still processing are queried (in case the notification was lost)."""
    done = 0
    for refund_id in list(db.session.scalars(select(Refund.id).where(Refund.status == "processing").limit(limit))):
        refund = db.session.get(Refund, refund_id)
        try:
            result = pay_client().query_refund(refund.out_refund_no)
        except PayError as err:
            log.warning("refund %s query failed: %s", refund_id, err)
            continue
        if apply_refund_result(result) == "applied" and refund.status != "processing":
            done += 1
    return done


def staff_refund(staff: Staff, refund_id: int) -> Refund:
    return access.scoped(Refund, refund_id, staff, "未找到该退款", community_of=lambda r: r.payment.community_id)
