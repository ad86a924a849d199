"""Fee formulas and the rounding rule."""
from decimal import Decimal

import pytest

from server.billing import formulas as f


@pytest.mark.parametrize("area,price,expected", [
    ("89.50", 235, 21033),  # 21032.5 -> half up
    ("120.00", 235, 28200),
    ("0.01", 49, 0),  # 0.49 fen
    ("0.01", 50, 1),  # 0.50 fen: half up
    ("100.33", 199, 19966),  # 19965.67
])
def test_area_fee_rounds_half_up_once(area, price, expected):
    assert f.area_fee(Decimal(area), price) == expected


def test_area_fee_months():
    assert f.area_fee(Decimal("89.50"), 235, months=3) == 63098  # 63097.5


def test_metered_and_fixed():
    assert f.metered_fee(Decimal("12.5"), 350) == 4375
    assert f.metered_fee(Decimal("0.3"), 335) == 101  # 100.5
    assert f.fixed_fee(30000, 2) == 60000


def test_consumption_and_meter_replacement():
    assert f.consumption(Decimal("100"), Decimal("112.5")) == Decimal("12.5")
    assert f.consumption(None, Decimal("50")) == 0  # baseline
    with pytest.raises(f.ReadingError, match="小于上期读数"):
        f.consumption(Decimal("100"), Decimal("99"))
    # Replaced: the old meter ran from 100 to 130, the new one from 0 to 8.
    assert f.consumption(Decimal("100"), Decimal("8"), replaced=True, old_final=Decimal("130")) == Decimal("38")
    with pytest.raises(f.ReadingError, match="旧表止码"):
        f.consumption(Decimal("100"), Decimal("8"), replaced=True)
    with pytest.raises(f.ReadingError):
        f.consumption(Decimal("100"), Decimal("8"), replaced=True, old_final=Decimal("90"))
    with pytest.raises(f.ReadingError):
        f.consumption(None, Decimal("-1"))


def test_split_adds_up_exactly():
    parts = f.split_largest_remainder(10000, {1: Decimal("89.5"), 2: Decimal("120"), 3: Decimal("89.5")})
    assert sum(parts.values()) == 10000
    assert parts == {1: 2993, 2: 4014, 3: 2993}  # 2993.31, 4013.38, 2993.31: the leftover fen to 4013.38
    equal = f.shared_split(100, {5: Decimal("1"), 6: Decimal("2"), 7: Decimal("3")}, "household")
    assert equal == {5: 34, 6: 33, 7: 33} and sum(equal.values()) == 100  # tie: lower id first
    assert f.shared_split(0, {1: Decimal("1")}, "area") == {1: 0}
    assert f.split_largest_remainder(5, {1: Decimal("0"), 2: Decimal("3")}) == {1: 0, 2: 5}


def test_heating_season():
    assert f.heating_applies("2026-12", [11, 12, 1, 2, 3])
    assert not f.heating_applies("2026-07", [11, 12, 1, 2, 3])
