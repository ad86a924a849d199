"""Trade bills: ``GET /v3/bill/tradebill`` builds the day's CSV, ``/v3/billdownload/file`` serves it."""

from __future__ import annotations

import gzip
import hashlib
import re
import secrets
from datetime import date, datetime
from typing import Any

from flask import Response, request

from .records import PayState
from .wire import BILL_DOWNLOAD, CST, PayError, param_error

BILL_URL_TTL = 300  # seconds a download_url stays valid (WeChat Pay: 5 minutes)
FEE_RATE_PER_MILLE = 6  # 0.60 %, the usual rate for mini-program payments
BILL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

BILL_COLUMNS = {
    "ALL": "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,"
    "货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,"
    "商户数据包,手续费,费率,订单金额,申请退款金额,费率备注",
    "SUCCESS": "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,"
    "货币种类,应结订单金额,代金券金额,商品名称,商户数据包,手续费,费率,订单金额,费率备注",
    "REFUND": "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,"
    "货币种类,应结订单金额,代金券金额,退款申请时间,退款成功时间,微信退款单号,商户退款单号,退款金额,充值券退款金额,"
    "退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注",
}
BILL_SUMMARY_COLUMNS = {
    "ALL": "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额",
    "SUCCESS": "总交易单数,应结订单总金额,手续费总金额,订单总金额",
    "REFUND": "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额",
}


def _bill_time(timestamp: float | None) -> str:
    return "" if timestamp is None else datetime.fromtimestamp(timestamp, CST).strftime("%Y-%m-%d %H:%M:%S")


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def _fee(fen: int) -> int:
    """WeChat Pay's handling fee in fen, rounded half up."""
    return (fen * FEE_RATE_PER_MILLE + 500) // 1000


class Bills:
    """The bill endpoints; download tokens live in `PayState.bills` until they expire."""

    def __init__(self, state: PayState):
        self.state = state

    def trade_bill(self) -> tuple[int, dict[str, Any]]:
        args = request.args
        bill_date, bill_type, tar_type = (
            args.get("bill_date", ""),
            args.get("bill_type", "ALL"),
            args.get("tar_type"),
        )
        try:
            day = date.fromisoformat(bill_date) if BILL_DATE.fullmatch(bill_date) else None
        except ValueError:
            day = None
        if day is None:
            raise param_error("bill_date 须为 YYYY-MM-DD 格式的日期")
        if bill_type not in BILL_COLUMNS:
            raise param_error("bill_type 须为 ALL、SUCCESS 或 REFUND")
        if tar_type not in (None, "GZIP"):
            raise param_error("tar_type 只支持 GZIP")
        with self.state.lock:
            csv = self._csv(day, bill_type)
            if csv is None:
                raise PayError(400, "NO_STATEMENT_EXIST", "账单文件不存在（该日没有交易）")
            raw = csv.encode("utf-8")
            token = secrets.token_urlsafe(24)
            payload = gzip.compress(raw, mtime=0) if tar_type == "GZIP" else raw
            self.state.bills[token] = (payload, self.state.clock() + BILL_URL_TTL)
        return 200, {
            "hash_type": "SHA1",
            "hash_value": hashlib.sha1(raw).hexdigest(),
            "download_url": f"{request.host_url}{BILL_DOWNLOAD.lstrip('/')}?token={token}",
        }

    def download(self) -> Response:
        token = request.args.get("token", "")
        with self.state.lock:
            stored = self.state.bills.get(token)
            if stored is None or stored[1] <= self.state.clock():
                raise PayError(400, "INVALID_REQUEST", "账单下载地址无效或已过期")
            payload = stored[0]
        # WeChat Pay does not sign the bill file: the merchant checks hash_value instead.
        return Response(payload, status=200, mimetype="application/octet-stream")

    def _csv(self, day: date, bill_type: str) -> str | None:
        """The trade bill of `day` (Asia/Shanghai) in WeChat Pay's format, or None when it has no rows."""

        def on_day(timestamp: float | None) -> bool:
            return timestamp is not None and datetime.fromtimestamp(timestamp, CST).date() == day

        rows: list[tuple[float, dict[str, str]]] = []
        paid_total = refund_total = fee_total = 0
        for order in self.state.orders.values():
            common = {
                "公众账号ID": order.appid,
                "商户号": order.mchid,
                "特约商户号": "0",
                "设备号": "",
                "微信订单号": order.transaction_id or "",
                "商户订单号": order.out_trade_no,
                "用户标识": order.openid,
                "交易类型": "JSAPI",
                "付款银行": order.bank_type or "",
                "货币种类": order.currency,
                "代金券金额": "0.00",
                "充值券退款金额": "0.00",
                "商品名称": order.description,
                "商户数据包": order.attach or "",
                "费率": "0.60%",
                "费率备注": "",
            }
            if bill_type in ("ALL", "SUCCESS") and order.paid and on_day(order.paid_at):
                assert order.paid_at is not None
                fee = _fee(order.total)
                paid_total, fee_total = paid_total + order.total, fee_total + fee
                rows.append(
                    (
                        order.paid_at,
                        {
                            **common,
                            "交易时间": _bill_time(order.paid_at),
                            "交易状态": "SUCCESS",
                            "应结订单金额": _yuan(order.total),
                            "微信退款单号": "0",
                            "商户退款单号": "0",
                            "退款金额": "0.00",
                            "退款类型": "",
                            "退款状态": "",
                            "手续费": _yuan(fee),
                            "订单金额": _yuan(order.total),
                            "申请退款金额": "0.00",
                        },
                    )
                )
            if bill_type not in ("ALL", "REFUND"):
                continue
            for out_refund_no in order.refunds:
                refund = self.state.refunds[out_refund_no]
                if not on_day(refund.created_at):  # refunds are billed on the day they were accepted
                    continue
                fee = -_fee(refund.refund)
                refund_total, fee_total = refund_total + refund.refund, fee_total + fee
                rows.append(
                    (
                        refund.created_at,
                        {
                            **common,
                            "交易时间": _bill_time(refund.created_at),
                            "交易状态": "REFUND",
                            "应结订单金额": "0.00",
                            "退款申请时间": _bill_time(refund.created_at),
                            "退款成功时间": _bill_time(refund.succeeded_at),
                            "微信退款单号": refund.refund_id,
                            "商户退款单号": refund.out_refund_no,
                            "退款金额": _yuan(refund.refund),
                            "退款类型": "ORIGINAL",
                            "退款状态": refund.status,
                            "手续费": _yuan(fee),
                            "订单金额": "0.00",
                            "申请退款金额": _yuan(refund.refund),
                        },
                    )
                )
        if not rows:
            return None
        rows.sort(key=lambda row: row[0])
        summary = {
            "总交易单数": str(len(rows)),
            "应结订单总金额": _yuan(paid_total),
            "退款总金额": _yuan(refund_total),
            "充值券退款总金额": "0.00",
            "手续费总金额": _yuan(fee_total),
            "订单总金额": _yuan(paid_total),
            "申请退款总金额": _yuan(refund_total),
        }
        columns, summary_columns = BILL_COLUMNS[bill_type], BILL_SUMMARY_COLUMNS[bill_type]
        lines = [columns]
        lines += [",".join("`" + row[name] for name in columns.split(",")) for _, row in rows]
        lines.append(summary_columns)
        lines.append(",".join("`" + summary[name] for name in summary_columns.split(",")))
        return "\r\n".join(lines) + "\r\n"
