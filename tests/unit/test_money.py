import pytest

from server.money import capital, yuan


def test_yuan():
    assert yuan(12345) == "123.45"
    assert yuan(5) == "0.05"
    assert yuan(-150) == "-1.50"
    assert yuan(None) == ""


@pytest.mark.parametrize("fen,words", [
    (0, "零元整"),
    (5, "伍分"),
    (50, "伍角"),
    (100, "壹元整"),
    (21033, "贰佰壹拾元叁角叁分"),
    (100005, "壹仟元零伍分"),
    (100500, "壹仟零伍元整"),
    (1000000, "壹万元整"),
    (1000100, "壹万零壹元整"),
    (10010000, "壹拾万零壹佰元整"),
    (12345678900, "壹亿贰仟叁佰肆拾伍万陆仟柒佰捌拾玖元整"),
    (10000000000, "壹亿元整"),
])
def test_capital(fen, words):
    assert capital(fen) == words
