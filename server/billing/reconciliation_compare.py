"""WeChat Pay's trade bill against our records, pure (微信支付对账：账单解析与逐笔核对). No Flask, no
database, no network: unit-tested directly (tests/jobs/test_reconciliation.py, "pure"); reconciliation.py
downloads the bill, loads our payments and refunds, and records the run.

The file: the download is GZIP (`unpack`), its uncompressed bytes must have the SHA1 WeChat gave as
`hash_value` (`verify_hash`). The CSV (UTF-8, every field prefixed with a backquote, amounts in yuan) is a
header line, one line per trade, the summary header and the summary line, whose count and totals must agree
with the rows (`parse_bill`; `read_bill` does all three). Anything else is a `BillError`.

The differences (`compare`), every row of the bill matched against our records:

- SUCCESS rows by out_trade_no against our payments: none -> `missing_here` (WeChat has it, we don't);
  amount (订单金额, yuan) not our `amount_fen` -> `amount`; ours not paid (pending or closed: the money
  arrived and we never settled), or another transaction_id -> `status`;
- REFUND rows by out_refund_no against our refunds: unknown, another amount, or WeChat SUCCESS while ours
  is not a success (or WeChat failed while ours succeeded) -> `refund`;
- our WeChat Pay payments paid that day (paid_at in Asia/Shanghai, `day_bounds`) that the bill lacks ->
  `missing_there`.

A row with no difference is matched. `diff_key` is what makes a difference "the same one" when a day is
run again; `describe` says a difference in one Chinese sentence for staff.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from ..money import yuan
from ..timeutil import to_local

WECHAT_ZONE = "Asia/Shanghai"  # WeChat Pay's bill days are Beijing days
DIFF_KINDS = {"missing_here": "微信有、本系统无", "missing_there": "本系统有、微信账单无", "amount": "金额不符",
              "status": "状态不符", "refund": "退款不符"}
PAID = ("paid", "refunding", "partially_refunded", "refunded")  # the money arrived
REFUND_OK = {"SUCCESS": ("success",), "PROCESSING": ("approved", "processing", "success")}
SUMMARY_FIRST = "总交易单数"


class BillError(ValueError):
    """The bill file cannot be trusted or read."""


# -- the file ------------------------------------------------------------------------------------------------

def unpack(payload: bytes) -> bytes:
    """The CSV bytes: gunzipped when the download is gzip (tar_type=GZIP), as is otherwise."""
    if payload[:2] != b"\x1f\x8b":
        return payload
    try:
        return gzip.decompress(payload)
    except (OSError, EOFError, zlib.error) as exc:
        raise BillError(f"账单文件解压失败：{exc}") from None


def verify_hash(raw: bytes, hash_type: str | None, hash_value: str | None) -> None:
    if (hash_type or "SHA1").upper() != "SHA1":
        raise BillError(f"不支持的校验方式 {hash_type}")
    actual = hashlib.sha1(raw).hexdigest()
    if not hash_value or actual != hash_value.lower():
        raise BillError(f"账单文件校验失败：SHA1 {actual} 与微信给出的 {hash_value} 不符")


def fen(text: str) -> int:
    """'12.34' (yuan) -> 1234; anything else than a whole number of fen is an error."""
    try:
        value = Decimal(text or "0") * 100
    except InvalidOperation:
        raise BillError(f"金额 {text!r} 不是数字") from None
    if value != value.to_integral_value():
        raise BillError(f"金额 {text!r} 不是整分")
    return int(value)


@dataclass(frozen=True)
class Trade:
    """One line of the trade bill."""
    time: str
    state: str  # SUCCESS | REFUND | REVOKED ...
    out_trade_no: str
    transaction_id: str
    amount_fen: int  # 订单金额 of a SUCCESS line (0 on refund lines)
    out_refund_no: str | None = None
    refund_id: str | None = None
    refund_fen: int = 0
    refund_status: str | None = None

    def remote(self) -> dict:
        out = {"time": self.time, "trade_state": self.state, "out_trade_no": self.out_trade_no,
               "transaction_id": self.transaction_id}
        if self.state == "REFUND":
            out.update(out_refund_no=self.out_refund_no, refund_id=self.refund_id, refund_fen=self.refund_fen,
                       refund_status=self.refund_status)
        else:
            out["amount_fen"] = self.amount_fen
        return out


@dataclass
class TradeBill:
    trades: list[Trade] = field(default_factory=list)
    summary: dict[str, str] = field(default_factory=dict)


def _clean(value: str) -> str:
    return value.strip().removeprefix("`").strip()


def parse_bill(text: str) -> TradeBill:
    """The CSV: a header line, one line per trade, the summary header and the summary line."""
    lines = [row for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))) if any(v.strip() for v in row)]
    if not lines:
        raise BillError("账单文件为空")
    header = [_clean(h) for h in lines[0]]
    if "商户订单号" not in header or "交易状态" not in header:
        raise BillError("账单表头不是微信支付交易账单的格式")
    end = next((i for i, row in enumerate(lines) if i and _clean(row[0]) == SUMMARY_FIRST), None)
    if end is None or end + 1 >= len(lines):
        raise BillError("账单缺少汇总行")
    bill = TradeBill(summary=dict(zip([_clean(h) for h in lines[end]], [_clean(v) for v in lines[end + 1]])))
    for number, row in enumerate(lines[1:end], start=2):
        if len(row) != len(header):
            raise BillError(f"账单第 {number} 行有 {len(row)} 列，表头 {len(header)} 列")
        r = dict(zip(header, [_clean(v) for v in row]))
        state = r.get("交易状态", "")
        refund = state == "REFUND"
        bill.trades.append(Trade(
            time=r.get("交易时间", ""), state=state, out_trade_no=r.get("商户订单号", ""),
            transaction_id=r.get("微信订单号", ""),
            amount_fen=0 if refund else fen(r.get("订单金额") or r.get("应结订单金额", "0")),
            out_refund_no=r.get("商户退款单号") if refund else None, refund_id=r.get("微信退款单号") if refund else None,
            refund_fen=fen(r.get("退款金额", "0")) if refund else 0,
            refund_status=r.get("退款状态") if refund else None))
    _check_summary(bill)
    return bill


def _check_summary(bill: TradeBill) -> None:
    s = bill.summary
    if s.get(SUMMARY_FIRST) != str(len(bill.trades)):
        raise BillError(f"汇总行的交易单数 {s.get(SUMMARY_FIRST)} 与明细 {len(bill.trades)} 行不符")
    paid = sum(t.amount_fen for t in bill.trades if t.state != "REFUND")
    if "订单总金额" in s and fen(s["订单总金额"]) != paid:
        raise BillError(f"汇总行的订单总金额 {s['订单总金额']} 与明细合计 {yuan(paid)} 不符")
    refunded = sum(t.refund_fen for t in bill.trades)
    if "退款总金额" in s and fen(s["退款总金额"]) != refunded:
        raise BillError(f"汇总行的退款总金额 {s['退款总金额']} 与明细合计 {yuan(refunded)} 不符")


def read_bill(payload: bytes, hash_type: str | None, hash_value: str | None) -> TradeBill:
    """The downloaded file -> the bill: gunzipped, SHA1 checked, decoded (UTF-8), parsed. Raises BillError
    (UnicodeDecodeError, csv.Error for a file that is not UTF-8 text or not CSV)."""
    raw = unpack(payload)
    verify_hash(raw, hash_type, hash_value)
    return parse_bill(raw.decode("utf-8"))


# -- matching ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LocalPayment:
    id: int
    community_id: int
    out_trade_no: str
    method: str
    status: str
    amount_fen: int
    paid_at: datetime | None = None
    transaction_id: str | None = None

    def local(self) -> dict:
        return {"payment_id": self.id, "method": self.method, "status": self.status, "amount_fen": self.amount_fen,
                "transaction_id": self.transaction_id,
                "paid_at": to_local(self.paid_at, WECHAT_ZONE).isoformat() if self.paid_at else None}


@dataclass(frozen=True)
class LocalRefund:
    id: int
    community_id: int
    out_refund_no: str
    out_trade_no: str | None
    status: str
    amount_fen: int

    def local(self) -> dict:
        return {"refund_id": self.id, "out_refund_no": self.out_refund_no, "status": self.status,
                "amount_fen": self.amount_fen}


@dataclass(frozen=True)
class Diff:
    kind: str
    community_id: int | None
    out_trade_no: str | None
    remote: dict
    local: dict

    @property
    def key(self) -> tuple:
        return diff_key(self.kind, self.out_trade_no, self.remote, self.local)


def diff_key(kind: str, out_trade_no: str | None, remote: dict, local: dict) -> tuple:
    """What makes a difference 'the same one' across re-runs of a day."""
    return kind, out_trade_no, (remote or {}).get("out_refund_no") or (local or {}).get("out_refund_no")


def _trade_diffs(t: Trade, payment: LocalPayment | None) -> list[Diff]:
    if payment is None:
        return [Diff("missing_here", None, t.out_trade_no, t.remote(), {})]
    diffs = []
    if t.amount_fen != payment.amount_fen:
        diffs.append(Diff("amount", payment.community_id, t.out_trade_no, t.remote(), payment.local()))
    other_tx = bool(payment.transaction_id and t.transaction_id and payment.transaction_id != t.transaction_id)
    if payment.status not in PAID or other_tx:
        diffs.append(Diff("status", payment.community_id, t.out_trade_no, t.remote(), payment.local()))
    return diffs


def _refund_diffs(t: Trade, refund: LocalRefund | None, payment: LocalPayment | None) -> list[Diff]:
    community = refund.community_id if refund else (payment.community_id if payment else None)
    local = refund.local() if refund else {}
    if refund is None or refund.amount_fen != t.refund_fen:
        return [Diff("refund", community, t.out_trade_no, t.remote(), local)]
    accepted = REFUND_OK.get(t.refund_status or "")
    if accepted is None:  # WeChat: CLOSED / ABNORMAL -- ours must not say it succeeded
        ok = refund.status != "success"
    else:
        ok = refund.status in accepted
    return [] if ok else [Diff("refund", community, t.out_trade_no, t.remote(), local)]


def compare(trades: Iterable[Trade], payments: dict[str, LocalPayment], refunds: dict[str, LocalRefund],
            paid_that_day: Iterable[LocalPayment]) -> tuple[int, list[Diff]]:
    """(rows matched, differences) for one day's bill against our records."""
    matched, diffs, seen = 0, [], set()
    for t in trades:
        payment = payments.get(t.out_trade_no)
        if t.state == "REFUND":
            found = _refund_diffs(t, refunds.get(t.out_refund_no or ""), payment)
        else:
            seen.add(t.out_trade_no)
            found = _trade_diffs(t, payment)
        diffs += found
        matched += not found
    for p in sorted(paid_that_day, key=lambda p: (p.paid_at or datetime.min, p.id)):
        if p.out_trade_no not in seen:
            diffs.append(Diff("missing_there", p.community_id, p.out_trade_no, {}, p.local()))
    return matched, diffs


def describe(kind: str, remote: dict, local: dict) -> str:
    """A difference in one Chinese sentence for staff."""
    if kind == "missing_here":
        return f"微信账单有这笔支付（{yuan(remote.get('amount_fen'))} 元），本系统没有对应的支付记录"
    if kind == "missing_there":
        return f"本系统记录已支付（{yuan(local.get('amount_fen'))} 元），微信当日账单中没有"
    if kind == "amount":
        return f"金额不符：微信 {yuan(remote.get('amount_fen'))} 元，本系统 {yuan(local.get('amount_fen'))} 元"
    if kind == "status":
        if local.get("transaction_id") and remote.get("transaction_id") != local.get("transaction_id"):
            return "微信支付单号与本系统记录的不同"
        return f"微信已支付成功，本系统状态为“{local.get('status')}”"
    if kind == "refund":
        if not local:
            return f"微信有退款 {remote.get('out_refund_no')}（{yuan(remote.get('refund_fen'))} 元），本系统没有该退款"
        if remote.get("refund_fen") != local.get("amount_fen"):
            return f"退款金额不符：微信 {yuan(remote.get('refund_fen'))} 元，本系统 {yuan(local.get('amount_fen'))} 元"
        return f"退款状态不符：微信 {remote.get('refund_status')}，本系统“{local.get('status')}”"
    return DIFF_KINDS.get(kind, kind)
