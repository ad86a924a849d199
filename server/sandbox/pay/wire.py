"""WeChat Pay's wire conventions, shared by every part of the pay stand-in.

The endpoint paths (as WeChat Pay documents them), the error answer, and how JSON and times are
written on the wire.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

CST = timezone(timedelta(hours=8), "Asia/Shanghai")  # China has no DST: a fixed offset is exact

# The pay endpoints, as WeChat Pay documents their paths (also the names faults and the call log use).
JSAPI = "/v3/pay/transactions/jsapi"
QUERY_BY_OUT_TRADE_NO = "/v3/pay/transactions/out-trade-no/{out_trade_no}"
QUERY_BY_ID = "/v3/pay/transactions/id/{transaction_id}"
CLOSE = "/v3/pay/transactions/out-trade-no/{out_trade_no}/close"
REFUNDS = "/v3/refund/domestic/refunds"
REFUND_QUERY = "/v3/refund/domestic/refunds/{out_refund_no}"
TRADE_BILL = "/v3/bill/tradebill"
BILL_DOWNLOAD = "/v3/billdownload/file"
PAY_PATHS = (
    JSAPI,
    QUERY_BY_OUT_TRADE_NO,
    QUERY_BY_ID,
    CLOSE,
    REFUNDS,
    REFUND_QUERY,
    TRADE_BILL,
    BILL_DOWNLOAD,
)
_PATH_PATTERNS = {rule: re.compile(re.sub(r"\\\{\w+\\\}", r"[^/]+", re.escape(rule))) for rule in PAY_PATHS}


def is_pay_path(path: str) -> bool:
    """A fault may name a pay endpoint by its documented path or by one concrete request path."""
    return any(pattern.fullmatch(path) for pattern in _PATH_PATTERNS.values())


class PayError(Exception):
    """An error answer the way WeChat Pay gives it: HTTP status and ``{"code", "message"}``."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def param_error(message: str) -> PayError:
    return PayError(400, "PARAM_ERROR", message)


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def dumps(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def rfc3339(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, CST).isoformat(timespec="seconds")
