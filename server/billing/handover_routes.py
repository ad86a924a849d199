"""The daily cash handover (/api/v1/staff/cash-handover): each collector's takings of a day, paid services
and fees alike, and finance confirming receipt. Parse -> one service call -> commit -> dump."""
from __future__ import annotations

import marshmallow as ma

from ..api import BEARER, blueprint
from ..auth.services import require_staff
from ..extensions import db
from ..money import OFFLINE_METHODS, PAYMENT_METHODS
from ..schemas import Day, Int, LocalDateTime, PersonOut, Text
from ..timeutil import local_today
from . import handover

handover_blp = blueprint("cash-handover", "/api/v1/staff/cash-handover",
                         "收款员每日交款：有偿服务与物业缴费（财务、经理确认）")


# -- schemas -----------------------------------------------------------------------------------------------

class HandoverArgs(ma.Schema):
    date = Day(load_default=None, metadata={"description": "YYYY-MM-DD，默认为小区时区的今天"})


class HandoverIn(ma.Schema):
    collector_id = Int(required=True, strict=True, metadata={"description": "收款员工 id"})
    date = Day(required=True, metadata={"description": "收款日期 YYYY-MM-DD"})
    note = Text(200, load_default="")


class HandoverOut(ma.Schema):
    id = Int()
    collector = ma.fields.Nested(PersonOut)
    day = Day()
    total_fen = Int()
    cash_fen = Int()
    received_by = ma.fields.Nested(PersonOut)
    received_at = LocalDateTime()
    note = ma.fields.String()


class MethodAmountOut(ma.Schema):
    method = ma.fields.String()
    method_label = ma.fields.String()
    amount_fen = Int()


def _by_method(sheet: dict) -> list[dict]:
    return [{"method": m, "method_label": PAYMENT_METHODS[m],
             "amount_fen": sheet["by_method"].get(m, 0)} for m in OFFLINE_METHODS]


TAKING_KINDS = {"service": "有偿服务", "fee": "物业收费"}


class TakingOut(ma.Schema):
    """One sum taken in person: a paid-service payment (kind service) or a fee payment at the desk (kind fee)."""
    id = Int(metadata={"description": "service: 工单收款记录 id；fee: 缴费记录 id（/staff/payments/{id}）"})
    kind = ma.fields.String(metadata={"description": "service | fee"})
    kind_label = ma.fields.Function(lambda t: TAKING_KINDS[t.kind])
    order_id = ma.fields.Function(lambda t: t.order.id if t.order else None)
    order_number = ma.fields.Function(lambda t: t.order.number if t.order else None)
    description = ma.fields.String()
    method = ma.fields.String()
    method_label = ma.fields.Function(lambda t: PAYMENT_METHODS[t.method])
    amount_fen = Int()
    receipt_no = ma.fields.String()
    collector = ma.fields.Nested(PersonOut, allow_none=True)
    collected_at = LocalDateTime()


class HandoverSheetOut(ma.Schema):
    collector = ma.fields.Nested(PersonOut, allow_none=True)
    day = Day()
    total_fen = Int()
    by_method = ma.fields.Function(lambda s: MethodAmountOut(many=True).dump(_by_method(s)),
                                   metadata={"description": "现金 / POS 刷卡 / 转账 各自金额（分）"})
    payments = ma.fields.List(ma.fields.Nested(TakingOut),
                              metadata={"description": "当日收款：有偿服务收款与前台物业缴费"})
    pending_fen = Int(metadata={"description": "尚未交给财务的金额（分）"})
    handed_over = ma.fields.Function(lambda s: s["pending_fen"] == 0)
    handovers = ma.fields.List(ma.fields.Nested(HandoverOut))


# -- cash handover -------------------------------------------------------------------------------------------

@handover_blp.get("")
@handover_blp.arguments(HandoverArgs, location="query")
@handover_blp.response(200, HandoverSheetOut(many=True))
@handover_blp.doc(security=BEARER)
def handover_sheet(args):
    """某日各收款人的收款（按方式汇总）与交款确认情况（财务、收费员、经理）"""
    staff = require_staff()
    zone = staff.community.timezone
    day = args["date"] or local_today(zone)
    return handover.handover_sheet(staff, day, zone)


@handover_blp.post("")
@handover_blp.arguments(HandoverIn)
@handover_blp.response(201, HandoverOut)
@handover_blp.doc(security=BEARER)
def receive_handover(data):
    """财务或经理确认收到某收款人当天的款项（每人每天一次）"""
    staff = require_staff()
    row = handover.receive_handover(staff, data["collector_id"], data["date"], staff.community.timezone,
                                    data["note"])
    db.session.commit()
    return row


BLUEPRINTS = (handover_blp,)
