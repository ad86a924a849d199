"""Fee formulas, pure. Amounts are integer fen.

The rounding rule (one for every fee): a line is computed exactly in decimal (area 2 decimals x price in
fen, or consumption x price) and rounded once, half up, to the fen. Splitting a shared total among houses
uses the largest-remainder method, so the parts always add up to the total to the fen (the houses with
the largest fractional remainders get the leftover fen; ties go to the lower house id).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..money import round_fen

KINDS = {
    "area": "按面积（物业费）", "shared": "公摊", "heating": "采暖费", "fixed": "固定月费",
    "metered": "抄表计费（代收）", "one_off": "一次性收费",
}
METER_KINDS = {"water": "水", "electricity": "电", "gas": "燃气"}


class ReadingError(ValueError):
    pass


def area_fee(area_m2: Decimal, price_fen_per_m2: int, months: int = 1) -> int:
    """Property management / heating: floor area x price per m2 (x months)."""
    return round_fen(Decimal(area_m2) * price_fen_per_m2 * months)


def metered_fee(consumption: Decimal, price_fen_per_unit: int) -> int:
    return round_fen(Decimal(consumption) * price_fen_per_unit)


def fixed_fee(price_fen: int, quantity: int = 1) -> int:
    return price_fen * quantity


def consumption(previous: Decimal | None, current: Decimal, *, replaced: bool = False,
                old_final: Decimal | None = None) -> Decimal:
    """Units used since the previous reading. A reading below the previous one is an error unless the meter
    was replaced: then it is what the old meter ran up to its final reading plus the new meter's reading."""
    current = Decimal(current)
    if current < 0:
        raise ReadingError("读数不能为负")
    if replaced:
        if old_final is None:
            raise ReadingError("换表须填写旧表止码")
        old_final = Decimal(old_final)
        if previous is not None and old_final < previous:
            raise ReadingError(f"旧表止码 {old_final} 小于上期读数 {previous}")
        return (old_final - (previous or Decimal(0))) + current
    if previous is None:
        return Decimal(0)  # the first reading only sets the baseline
    if current < previous:
        raise ReadingError(f"读数 {current} 小于上期读数 {previous}（如已换表请标注）")
    return current - Decimal(previous)


def split_largest_remainder(total_fen: int, weights: dict[int, Decimal]) -> dict[int, int]:
    """Split `total_fen` among keys in proportion to weights; the parts sum to the total exactly."""
    positive = {k: Decimal(w) for k, w in weights.items() if Decimal(w) > 0}
    if total_fen == 0 or not positive:
        return {k: 0 for k in weights}
    whole = sum(positive.values())
    exact = {k: Decimal(total_fen) * w / whole for k, w in positive.items()}
    parts = {k: int(v) for k, v in exact.items()}  # floor (total and weights are non-negative)
    leftover = total_fen - sum(parts.values())
    for k in sorted(positive, key=lambda k: (-(exact[k] - parts[k]), k))[:leftover]:
        parts[k] += 1
    return {k: parts.get(k, 0) for k in weights}


def shared_split(total_fen: int, houses: dict[int, Decimal], by: str) -> dict[int, int]:
    """公摊: by floor area, or per household (equal shares)."""
    if by == "household":
        return split_largest_remainder(total_fen, {h: Decimal(1) for h in houses})
    return split_largest_remainder(total_fen, houses)


def heating_applies(period: str, season_months: list[int]) -> bool:
    return int(period[5:7]) in set(season_months)


@dataclass(frozen=True)
class Line:
    house_id: int
    amount_fen: int
    details: dict
