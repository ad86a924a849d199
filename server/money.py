"""Money, one home: amounts are integer fen everywhere; the one rounding rule; how money is paid; how
amounts read for people (yuan, capital characters on receipts)."""
from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

PAYMENT_METHODS = {"cash": "现金", "pos": "POS 刷卡", "transfer": "转账", "wechat": "微信支付"}
OFFLINE_METHODS = ("cash", "pos", "transfer")  # taken in person, handed to finance daily


def round_fen(value: Decimal) -> int:
    """The rounding rule for every amount the product computes: exact decimal arithmetic, rounded once,
    half up, to the fen (8.375 yuan -> 838 fen)."""
    return int(Decimal(value).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def yuan_number(fen: int | None) -> float | None:
    """12345 -> 123.45 as a number for a spreadsheet cell (formatted "0.00" there). None -> None."""
    return None if fen is None else float(Decimal(fen) / 100)


def parse_yuan(text: str) -> int | None:
    """What a person types as yuan -> fen: "123.45" -> 12345, "50" -> 5000, "0.5" -> 50; None when it is not
    an amount with at most two decimals."""
    match = _YUAN_RE.match((text or "").strip().replace(",", "").replace("，", ""))
    if not match:
        return None
    return int(match.group(1)) * 100 + int((match.group(2) or "").ljust(2, "0"))


_YUAN_RE = re.compile(r"^([0-9]{1,9})(?:\.([0-9]{1,2}))?$")


DIGITS = "零壹贰叁肆伍陆柒捌玖"
UNITS = ["", "拾", "佰", "仟"]
SECTIONS = ["", "万", "亿", "万亿"]


def yuan(fen: int | None) -> str:
    """12345 -> "123.45", -150 -> "-1.50" (exact: no float). None -> ""."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def _section(number: int) -> str:
    """0 < number < 10000 in capital digits, with inner zeros (1005 -> 壹仟零伍)."""
    out, zero = "", False
    for position in range(3, -1, -1):
        digit = number // 10 ** position % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out += DIGITS[0]
            zero = False
        out += DIGITS[digit] + UNITS[position]
    return out


def capital(fen: int) -> str:
    """The amount in capital Chinese as receipts require (大写): 21033 -> 贰佰壹拾元叁角叁分."""
    if fen < 0:
        return "负" + capital(-fen)
    whole, jiao, fen_part = fen // 100, fen // 10 % 10, fen % 10
    sections = []  # groups of four digits, lowest first
    while whole:
        sections.append(whole % 10000)
        whole //= 10000
    words, gap = "", False
    for index in reversed(range(len(sections))):
        section = sections[index]
        if section == 0:
            gap = bool(words)
            continue
        if words and (gap or section < 1000):
            words += DIGITS[0]  # 壹万零壹, 壹拾万零壹佰
        words += _section(section) + SECTIONS[index]
        gap = False
    head = (words + "元") if words else ""
    if not jiao and not fen_part:
        return (head or "零元") + "整"
    tail = (DIGITS[jiao] + "角" if jiao else ("零" if head else "")) + (DIGITS[fen_part] + "分" if fen_part else "")
    return head + tail
