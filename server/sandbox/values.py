"""Value rules of mini-program subscribe messages, as WeChat enforces them.

WeChat rejects a whole subscribe message (errcode 47003) when one field value
breaks the rule of its type.  The type is the data key without its trailing
digits: ``thing1`` -> ``thing``, ``character_string2`` -> ``character_string``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

_CJK = re.compile(r"[\u4e00-\u9fff]")
_ALL_CJK = re.compile(r"[\u4e00-\u9fff]+")
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]+")
_NUMBER = re.compile(r"-?\d+(\.\d+)?", re.ASCII)
_LETTERS = re.compile(r"[A-Za-z]+")
_LATIN_NAME = re.compile(r"[A-Za-z ]+")
_PHONE = re.compile(r"[0-9+\- ]+")
# An optional currency sign is allowed in front (WeChat's docs: "1个币种符号+数字").
_AMOUNT = re.compile(r"[¥￥$]?\d{1,11}(\.\d{1,2})?元?", re.ASCII)

# (shape, strptime format): the regex pins the exact shape (strptime alone
# would accept "2024-1-5"), strptime then rejects impossible dates such as 02-30.
# re.ASCII everywhere digits matter: plain \d would also accept full-width digits.
_Format = tuple[re.Pattern[str], str]


def _fmt(shape: str, strptime_format: str) -> _Format:
    return re.compile(shape, re.ASCII), strptime_format


_YMD_HM = _fmt(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", "%Y-%m-%d %H:%M")
_YMD_HMS = _fmt(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", "%Y-%m-%d %H:%M:%S")
_YMD = _fmt(r"\d{4}-\d{2}-\d{2}", "%Y-%m-%d")
_CN_YMD = _fmt(r"\d{4}年\d{1,2}月\d{1,2}日", "%Y年%m月%d日")
_CN_YMD_HM = _fmt(r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}", "%Y年%m月%d日 %H:%M")
_HM = _fmt(r"\d{2}:\d{2}", "%H:%M")

TIME_FORMATS = (_YMD_HM, _YMD_HMS, _CN_YMD_HM, _HM, _YMD)
DATE_FORMATS = (_YMD, _CN_YMD, _YMD_HM, _CN_YMD_HM)


def _matches_any(value: str, formats: tuple[_Format, ...]) -> bool:
    for shape, strptime_format in formats:
        if shape.fullmatch(value):
            try:
                datetime.strptime(value, strptime_format)
            except ValueError:
                return False
            return True
    return False


def _is_moment(value: str, formats: tuple[_Format, ...]) -> bool:
    # WeChat allows a period "A~B"; the end may be a bare time ("2024-05-01 09:00~11:00").
    parts = value.split("~")
    if len(parts) == 1:
        return _matches_any(value, formats)
    if len(parts) == 2:
        start, end = parts
        return _matches_any(start, formats) and _matches_any(end, formats + (_HM,))
    return False


def _is_name(value: str) -> bool:
    if _CJK.search(value):
        return len(value) <= 10
    return len(value) <= 20 and bool(_LATIN_NAME.fullmatch(value))


def _limited(max_len: int, pattern: re.Pattern[str] | None = None) -> Callable[[str], bool]:
    def check(value: str) -> bool:
        return len(value) <= max_len and (pattern is None or bool(pattern.fullmatch(value)))

    return check


RULES: dict[str, Callable[[str], bool]] = {
    "thing": _limited(20),
    "character_string": _limited(32, _PRINTABLE_ASCII),
    "number": _limited(32, _NUMBER),
    "letter": _limited(32, _LETTERS),
    "symbol": _limited(5),
    "phrase": _limited(5, _ALL_CJK),
    "name": _is_name,
    "phone_number": _limited(17, _PHONE),
    "car_number": _limited(8),
    "amount": lambda value: bool(_AMOUNT.fullmatch(value)),
    "time": lambda value: _is_moment(value, TIME_FORMATS),
    "date": lambda value: _is_moment(value, DATE_FORMATS),
}
_UNKNOWN_TYPE_RULE = _limited(20)


def value_type(key: str) -> str:
    """``thing12`` -> ``thing``."""
    return key.rstrip("0123456789")


def is_valid_subscribe_value(key: str, value: object) -> bool:
    """Whether WeChat would accept ``value`` for the data key ``key``."""
    if not isinstance(value, str) or not value.strip():
        return False
    return RULES.get(value_type(key), _UNKNOWN_TYPE_RULE)(value)
