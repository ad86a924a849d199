"""Daily reconciliation with WeChat Pay's trade bill (微信支付对账): running a day and what staff see of it.

`run(day)` asks WeChat Pay for the trade bill of `day` (a Beijing-time date; GZIP), downloads it, checks
and parses it, loads the payments and refunds it names and our WeChat Pay payments of that day, and
records the differences. Reading the bill and every rule of the comparison (the kinds of difference:
`missing_here`, `missing_there`, `amount`, `status`, `refund`): reconciliation_compare.py (pure). A bill
that cannot be trusted or read (SHA1 mismatch, unreadable file, totals that do not add up) or a WeChat
error: run status `failed` with the error, nothing matched.

One run per day (`reconciliation_runs.day` is unique): re-running a day replaces that day's run and its
differences (a difference found again keeps its resolution note). `NO_STATEMENT_EXIST` (WeChat had no
trade that day) -> status `no_bill`, with `missing_there` differences only if we recorded WeChat payments
that day. Run statuses: matched | differences | no_bill | failed.

Who sees what (managers and finance, the `reports` permission): a difference belongs to the community of
its payment. `missing_here` rows (and refunds we cannot place) have no community: the merchant account is
the company's, so they are shown to finance-department staff only (every community's finance sees them),
never to a community's manager, who would otherwise see other communities' trades. Run totals (trades,
matched, differences) are the merchant's; each viewer also gets the count of differences they can see.

The periodic job (`jobs.billing.reconcile_previous_day`, after 10:00 when WeChat's bill is ready) runs
yesterday and re-runs failed days of the past week; `flask bills reconcile --day YYYY-MM-DD` by hand
(server/cli.py).
"""
from __future__ import annotations

import csv
import logging
from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from ..accounts.models import Staff
from ..auth import access
from ..errors import Conflict, NotFound
from ..extensions import db
from ..timeutil import as_utc, day_bounds, local_today, utcnow
from ..wechat.pay import PayError, pay_client
from .models import Payment, ReconciliationDiff, ReconciliationRun, Refund
from .reconciliation_compare import (
    PAID,
    WECHAT_ZONE,
    BillError,
    Diff,
    LocalPayment,
    LocalRefund,
    compare,
    diff_key,
    read_bill,
)

log = logging.getLogger(__name__)

RUN_STATUSES = {"matched": "一致", "differences": "有差异", "no_bill": "当日无账单", "failed": "对账失败"}
RETRY_DAYS = 7


# -- our records ---------------------------------------------------------------------------------------------

def _local_payment(p: Payment) -> LocalPayment:
    return LocalPayment(id=p.id, community_id=p.community_id, out_trade_no=p.out_trade_no or "", method=p.method,
                        status=p.status, amount_fen=p.amount_fen, paid_at=as_utc(p.paid_at) if p.paid_at else None,
                        transaction_id=p.transaction_id)


def _chunks(values: set[str], size: int = 1000):
    """The non-empty values, sorted, `size` at a time (one IN (...) each)."""
    values = sorted(v for v in values if v)
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _local_payments(out_trade_nos: set[str]) -> dict[str, LocalPayment]:
    found = {}
    for chunk in _chunks(out_trade_nos):
        for p in db.session.scalars(select(Payment).where(Payment.out_trade_no.in_(chunk))):
            found[p.out_trade_no] = _local_payment(p)
    return found


def _local_refunds(out_refund_nos: set[str]) -> dict[str, LocalRefund]:
    found = {}
    for chunk in _chunks(out_refund_nos):
        stmt = (select(Refund, Payment.community_id, Payment.out_trade_no).join(Payment)
                .where(Refund.out_refund_no.in_(chunk)))
        for r, community_id, out_trade_no in db.session.execute(stmt):
            found[r.out_refund_no] = LocalRefund(id=r.id, community_id=community_id, out_refund_no=r.out_refund_no,
                                                 out_trade_no=out_trade_no, status=r.status, amount_fen=r.amount_fen)
    return found


def _paid_on(day: date) -> list[LocalPayment]:
    start, end = day_bounds(day, WECHAT_ZONE)  # bill days are Beijing days
    stmt = select(Payment).where(Payment.method == "wechat", Payment.status.in_(PAID), Payment.paid_at >= start,
                                 Payment.paid_at < end)
    return [_local_payment(p) for p in db.session.scalars(stmt)]


# -- running a day -------------------------------------------------------------------------------------------

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
            bill = read_bill(client.download(info["download_url"]), info.get("hash_type"), hash_value)
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


def yesterday(today: date | None = None) -> date:
    """The day before `today` (default: today in Beijing time), the latest day WeChat has a bill for."""
    return (today or local_today(WECHAT_ZONE)) - timedelta(days=1)


def reconcile_recent(today: date | None = None, retry_days: int = RETRY_DAYS) -> list[ReconciliationRun]:
    """The periodic job: yesterday (Beijing time), plus the failed runs of the `retry_days` before it."""
    last = yesterday(today)
    failed = db.session.scalars(select(ReconciliationRun.day).where(
        ReconciliationRun.status == "failed", ReconciliationRun.day >= last - timedelta(days=retry_days),
        ReconciliationRun.day < last).order_by(ReconciliationRun.day)).all()
    db.session.rollback()
    return [run(day) for day in [*failed, last]]


def run_diffs(record: ReconciliationRun) -> list[ReconciliationDiff]:
    """Every difference of a run, in the order found (for the CLI; staff views filter: run_detail)."""
    return list(db.session.scalars(select(ReconciliationDiff).where(ReconciliationDiff.run_id == record.id)
                                   .order_by(ReconciliationDiff.id)))


# -- staff views ---------------------------------------------------------------------------------------------

def _visible(staff: Staff):
    """SQL: the differences this staff member may see (see the module docstring)."""
    own = ReconciliationDiff.community_id == staff.community_id
    if staff.department == "finance":
        return or_(own, ReconciliationDiff.community_id.is_(None))
    return own


def runs_query(staff: Staff, status: str | None = None):
    access.require(staff, "reports")
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
    access.require(staff, "reports")
    record = db.session.get(ReconciliationRun, run_id)
    if record is None:
        raise NotFound("未找到该对账记录")
    diffs = list(db.session.scalars(select(ReconciliationDiff).where(ReconciliationDiff.run_id == record.id,
                                                                     _visible(staff))
                                    .order_by(ReconciliationDiff.kind, ReconciliationDiff.id)))
    return {**with_counts(staff, [record])[0], "diffs": diffs}


def resolve(staff: Staff, diff_id: int, note: str) -> ReconciliationDiff:
    access.require(staff, "reports")
    diff = db.session.scalar(select(ReconciliationDiff).where(ReconciliationDiff.id == diff_id, _visible(staff))
                             .with_for_update())
    if diff is None:
        raise NotFound("未找到该对账差异")
    if diff.resolved_at is not None:
        raise Conflict("该差异已处理", code="already_resolved")
    diff.resolved_at, diff.resolved_by_id, diff.note = utcnow(), staff.id, note
    return diff
