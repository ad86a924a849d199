"""Daily reconciliation with WeChat Pay's trade bill (微信支付对账).

`run(day)` asks WeChat Pay for the trade bill of `day` (a Beijing-time date; GZIP), downloads it,
gunzips it and checks the SHA1 of the uncompressed CSV against `hash_value` (a mismatch or an unreadable
file: run status `failed` with the error, nothing matched). The CSV (UTF-8, every field prefixed with a
backquote, amounts in yuan) is parsed into trade rows and the summary line, whose count and totals must
agree with the rows. Every row is then matched against our records:

- SUCCESS rows by out_trade_no against our payments: none -> `missing_here` (WeChat has it, we don't);
  amount (订单金额, yuan) not our `amount_fen` -> `amount`; ours not paid (pending or closed: the money
  arrived and we never settled), or another transaction_id -> `status`;
- REFUND rows by out_refund_no against our refunds: unknown, another amount, or WeChat SUCCESS while ours
  is not a success (or WeChat failed while ours succeeded) -> `refund`;
- our WeChat Pay payments paid that day (paid_at in Asia/Shanghai) that the bill lacks -> `missing_there`.

A row with no difference is `matched`. One run per day (`reconciliation_runs.day` is unique): re-running
a day replaces that day's run and its differences (a difference found again keeps its resolution note).
`NO_STATEMENT_EXIST` (WeChat had no trade that day) -> status `no_bill`, with `missing_there` differences
only if we recorded WeChat payments that day. Run statuses: matched | differences | no_bill | failed.

Who sees what (managers and finance, the `reports` permission): a difference belongs to the community of
its payment. `missing_here` rows (and refunds we cannot place) have no community: the merchant account is
the company's, so they are shown to finance-department staff only (every community's finance sees them),
never to a community's manager, who would otherwise see other communities' trades. Run totals (trades,
matched, differences) are the merchant's; each viewer also gets the count of differences they can see.

`parse_bill`, `unpack`, `verify_hash` and `compare` are pure (unit-tested without a database or network).
The periodic job (`jobs.billing.reconcile_previous_day`, after 10:00 when WeChat's bill is ready) runs
yesterday and re-runs failed days of the past week; `flask billing reconcile --day YYYY-MM-DD` by hand.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import logging
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

import click
from flask.cli import AppGroup
from sqlalchemy import delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from ..accounts.models import Staff
from ..errors import Conflict, NotFound
from ..extensions import db
from ..money import yuan
from ..timeutil import as_utc, to_local, utcnow
from ..wechat.pay import PayError, pay_client
from .models import Payment, ReconciliationDiff, ReconciliationRun, Refund
from .reports import require_reports

log = logging.getLogger(__name__)

WECHAT_ZONE = "Asia/Shanghai"  # WeChat Pay's bill days are Beijing days
RUN_STATUSES = {"matched": "一致", "differences": "有差异", "no_bill": "当日无账单", "failed": "对账失败"}
DIFF_KINDS = {"missing_here": "微信有、本系统无", "missing_there": "本系统有、微信账单无", "amount": "金额不符",
              "status": "状态不符", "refund": "退款不符"}
PAID = ("paid", "refunding", "partially_refunded", "refunded")  # the money arrived
REFUND_OK = {"SUCCESS": ("success",), "PROCESSING": ("approved", "processing", "success")}
SUMMARY_FIRST = "总交易单数"
RETRY_DAYS = 7


class BillError(ValueError):
    """The bill file cannot be trusted or read."""


# -- pure: the file --------------------------------------------------------------------------------------------

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


# -- pure: matching ----------------------------------------------------------------------------------------------

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


# -- running a day ------------------------------------------------------------------------------------------------

def day_bounds(day: date) -> tuple[datetime, datetime]:
    tz = ZoneInfo(WECHAT_ZONE)
    return datetime.combine(day, time(0), tzinfo=tz), datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)


def _local_payment(p: Payment) -> LocalPayment:
    return LocalPayment(id=p.id, community_id=p.community_id, out_trade_no=p.out_trade_no or "", method=p.method,
                        status=p.status, amount_fen=p.amount_fen, paid_at=as_utc(p.paid_at) if p.paid_at else None,
                        transaction_id=p.transaction_id)


def _chunks(values: list[str], size: int = 1000):
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _local_payments(out_trade_nos: set[str]) -> dict[str, LocalPayment]:
    found = {}
    for chunk in _chunks(sorted(n for n in out_trade_nos if n)):
        for p in db.session.scalars(select(Payment).where(Payment.out_trade_no.in_(chunk))):
            found[p.out_trade_no] = _local_payment(p)
    return found


def _local_refunds(out_refund_nos: set[str]) -> dict[str, LocalRefund]:
    found = {}
    for chunk in _chunks(sorted(n for n in out_refund_nos if n)):
        stmt = (select(Refund, Payment.community_id, Payment.out_trade_no).join(Payment)
                .where(Refund.out_refund_no.in_(chunk)))
        for r, community_id, out_trade_no in db.session.execute(stmt):
            found[r.out_refund_no] = LocalRefund(id=r.id, community_id=community_id, out_refund_no=r.out_refund_no,
                                                 out_trade_no=out_trade_no, status=r.status, amount_fen=r.amount_fen)
    return found


def _paid_on(day: date) -> list[LocalPayment]:
    start, end = day_bounds(day)
    stmt = select(Payment).where(Payment.method == "wechat", Payment.status.in_(PAID), Payment.paid_at >= start,
                                 Payment.paid_at < end)
    return [_local_payment(p) for p in db.session.scalars(stmt)]


def run(day: date) -> ReconciliationRun:
    """Reconcile one day (idempotent: a re-run replaces the day's run and differences). Commits."""
    client = pay_client()
    hash_value = None
    try:
        info = client.trade_bill(day.isoformat())
    except PayError as err:
        if err.code != "NO_STATEMENT_EXIST":
            return _save(day, "failed", error=f"申请交易账单失败：{err.code} {err.message}".strip())
        bill = None
    else:
        hash_value = info.get("hash_value")
        try:
            if not info.get("download_url"):
                raise BillError("微信未返回账单下载地址")
            raw = unpack(client.download(info["download_url"]))
            verify_hash(raw, info.get("hash_type"), hash_value)
            bill = parse_bill(raw.decode("utf-8"))
        except PayError as err:
            return _save(day, "failed", hash_value=hash_value,
                         error=f"下载交易账单失败：{err.code} {err.message}".strip())
        except (BillError, UnicodeDecodeError, csv.Error) as err:
            return _save(day, "failed", hash_value=hash_value, error=str(err))
    trades = bill.trades if bill else []
    payments = _local_payments({t.out_trade_no for t in trades})
    refunds = _local_refunds({t.out_refund_no for t in trades if t.out_refund_no})
    matched, diffs = compare(trades, payments, refunds, _paid_on(day))
    status = "no_bill" if bill is None else ("differences" if diffs else "matched")
    return _save(day, status, trades=len(trades), matched=matched, diffs=diffs, hash_value=hash_value)


def _save(day: date, status: str, *, trades: int = 0, matched: int = 0, diffs: Iterable[Diff] = (),
          hash_value: str | None = None, error: str | None = None) -> ReconciliationRun:
    """Write the day's run in one transaction: the row (created once, even by concurrent runs), its new
    differences replacing the old ones, resolutions carried over to a difference found again."""
    now = utcnow()
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    db.session.execute(insert(ReconciliationRun).values(day=day, status=status, trades=0, matched=0, differences=0,
                                                        ran_at=now).on_conflict_do_nothing(index_elements=["day"]))
    record = db.session.scalar(select(ReconciliationRun).where(ReconciliationRun.day == day).with_for_update())
    resolved = {diff_key(d.kind, d.out_trade_no, d.remote, d.local): d for d in db.session.scalars(
        select(ReconciliationDiff).where(ReconciliationDiff.run_id == record.id,
                                         ReconciliationDiff.resolved_at.is_not(None)))}
    db.session.execute(delete(ReconciliationDiff).where(ReconciliationDiff.run_id == record.id))
    diffs = list(diffs)
    for d in diffs:
        old = resolved.get(d.key)
        db.session.add(ReconciliationDiff(
            run_id=record.id, community_id=d.community_id, out_trade_no=d.out_trade_no, kind=d.kind, remote=d.remote,
            local=d.local, resolved_at=old.resolved_at if old else None,
            resolved_by_id=old.resolved_by_id if old else None, note=old.note if old else None))
    record.status, record.trades, record.matched, record.differences = status, trades, matched, len(diffs)
    record.hash_value, record.error, record.ran_at = hash_value, error, now
    db.session.commit()
    log.log(logging.WARNING if status in ("failed", "differences") else logging.INFO,
            "reconciliation %s: %s, %d trades, %d matched, %d differences%s", day, status, trades, matched,
            len(diffs), f" ({error})" if error else "")
    return record


def reconcile_recent(today: date | None = None, retry_days: int = RETRY_DAYS) -> list[ReconciliationRun]:
    """The periodic job: yesterday (Beijing time), plus the failed runs of the `retry_days` before it."""
    today = today or to_local(utcnow(), WECHAT_ZONE).date()
    yesterday = today - timedelta(days=1)
    failed = db.session.scalars(select(ReconciliationRun.day).where(
        ReconciliationRun.status == "failed", ReconciliationRun.day >= yesterday - timedelta(days=retry_days),
        ReconciliationRun.day < yesterday).order_by(ReconciliationRun.day)).all()
    db.session.rollback()
    return [run(day) for day in [*failed, yesterday]]


# -- staff views ---------------------------------------------------------------------------------------------------

def _visible(staff: Staff):
    """SQL: the differences this staff member may see (see the module docstring)."""
    own = ReconciliationDiff.community_id == staff.community_id
    if staff.department == "finance":
        return or_(own, ReconciliationDiff.community_id.is_(None))
    return own


def runs_query(staff: Staff, status: str | None = None):
    require_reports(staff)
    stmt = select(ReconciliationRun).order_by(ReconciliationRun.day.desc())
    if status:
        stmt = stmt.where(ReconciliationRun.status == status)
    return stmt


def with_counts(staff: Staff, runs: list[ReconciliationRun]) -> list[dict]:
    """Each run with the differences the viewer can see, and how many of those are still open."""
    ids = [r.id for r in runs]
    counts: dict[int, tuple[int, int]] = {}
    if ids:
        stmt = (select(ReconciliationDiff.run_id, func.count(),
                       func.count(ReconciliationDiff.id).filter(ReconciliationDiff.resolved_at.is_(None)))
                .where(ReconciliationDiff.run_id.in_(ids), _visible(staff)).group_by(ReconciliationDiff.run_id))
        counts = {run_id: (n, open_) for run_id, n, open_ in db.session.execute(stmt)}
    return [{"run": r, "visible_differences": counts.get(r.id, (0, 0))[0],
             "open_differences": counts.get(r.id, (0, 0))[1]} for r in runs]


def run_detail(staff: Staff, run_id: int) -> dict:
    require_reports(staff)
    record = db.session.get(ReconciliationRun, run_id)
    if record is None:
        raise NotFound("未找到该对账记录")
    diffs = list(db.session.scalars(select(ReconciliationDiff).where(ReconciliationDiff.run_id == record.id,
                                                                     _visible(staff))
                                    .order_by(ReconciliationDiff.kind, ReconciliationDiff.id)))
    return {**with_counts(staff, [record])[0], "diffs": diffs}


def resolve(staff: Staff, diff_id: int, note: str) -> ReconciliationDiff:
    require_reports(staff)
    diff = db.session.scalar(select(ReconciliationDiff).where(ReconciliationDiff.id == diff_id, _visible(staff))
                             .with_for_update())
    if diff is None:
        raise NotFound("未找到该对账差异")
    if diff.resolved_at is not None:
        raise Conflict("该差异已处理", code="already_resolved")
    diff.resolved_at, diff.resolved_by_id, diff.note = utcnow(), staff.id, note
    return diff


# -- CLI -----------------------------------------------------------------------------------------------------------

billing_cli = AppGroup("billing", help="收费：微信支付对账")


@billing_cli.command("reconcile")
@click.option("--day", "day_text", help="YYYY-MM-DD (Beijing time); default: yesterday.")
def reconcile_command(day_text: str | None) -> None:
    """Reconcile one day's WeChat Pay trade bill with our payments (safe to re-run)."""
    try:
        day = date.fromisoformat(day_text) if day_text else to_local(utcnow(), WECHAT_ZONE).date() - timedelta(days=1)
    except ValueError:
        raise click.ClickException("日期应为 YYYY-MM-DD") from None
    record = run(day)
    click.echo(f"{day}：{RUN_STATUSES[record.status]}，交易 {record.trades} 笔，一致 {record.matched} 笔，"
               f"差异 {record.differences} 条" + (f"；{record.error}" if record.error else ""))
    for d in db.session.scalars(select(ReconciliationDiff).where(ReconciliationDiff.run_id == record.id)
                                .order_by(ReconciliationDiff.id)):
        click.echo(f"  [{DIFF_KINDS[d.kind]}] {d.out_trade_no or ''} {describe(d.kind, d.remote, d.local)}")
    if record.status == "failed":
        raise SystemExit(1)
