from datetime import date, datetime, timezone

import pytest

from server.wechat.values import InvalidValue, cut, shape, subscribe_data, template_data, value_type


def test_value_type_strips_digits():
    assert value_type("thing12") == "thing"
    assert value_type("character_string3") == "character_string"


@pytest.mark.parametrize("text,expected", [
    ("一" * 20, "一" * 20),
    ("一" * 21, "一" * 19 + "…"),
    ("  水管漏水  ", "水管漏水"),
])
def test_thing_is_cut_to_20(text, expected):
    assert shape("thing1", text) == expected
    assert len(shape("thing1", text)) <= 20


def test_character_string_drops_non_ascii_and_cuts_to_32():
    assert shape("character_string2", "BX20261122-0007号") == "BX20261122-0007"
    assert len(shape("character_string2", "A" * 40)) == 32
    with pytest.raises(InvalidValue):
        shape("character_string2", "全中文")


def test_phrase_must_be_chinese_and_at_most_5():
    assert shape("phrase3", "审核通过") == "审核通过"
    assert shape("phrase3", "一二三四五六") == "一二三四五"
    with pytest.raises(InvalidValue):
        shape("phrase3", "OK")


def test_name_limits_depend_on_script():
    assert shape("name1", "欧阳" * 6) == ("欧阳" * 6)[:10]
    assert shape("name1", "A" * 25) == "A" * 20


def test_time_and_date_from_datetimes_are_local():
    moment = datetime(2026, 11, 23, 16, 30, tzinfo=timezone.utc)
    assert shape("time4", moment) == "2026-11-24 00:30"
    assert shape("date5", moment) == "2026-11-24"
    assert shape("date5", date(2026, 1, 2)) == "2026-01-02"
    assert shape("time4", "2026-11-23 08:00") == "2026-11-23 08:00"
    with pytest.raises(InvalidValue):
        shape("time4", "明天上午")


def test_amount_from_fen():
    assert shape("amount1", 12345) == "123.45元"
    assert shape("amount1", 5) == "0.05元"
    with pytest.raises(InvalidValue):
        shape("amount1", "十二元")


def test_number_and_phone():
    assert shape("number1", "42") == "42"
    with pytest.raises(InvalidValue):
        shape("number1", "四十二")
    assert shape("phone_number1", "138-0000-0001") == "138-0000-0001"


def test_empty_values_are_invalid():
    with pytest.raises(InvalidValue):
        shape("thing1", "")
    with pytest.raises(InvalidValue):
        shape("thing1", None)


def test_subscribe_data_wraps_values():
    assert subscribe_data({"thing1": "1栋1单元101", "phrase2": "未通过"}) == {
        "thing1": {"value": "1栋1单元101"}, "phrase2": {"value": "未通过"}}


def test_template_data_cuts_every_value_to_20_and_fills_blanks():
    data = template_data({"thing1": "x" * 30, "thing2": None, "time3": datetime(2026, 1, 1, tzinfo=timezone.utc)})
    assert data["thing1"]["value"] == "x" * 19 + "…"
    assert data["thing2"]["value"] == "-"
    assert data["time3"]["value"] == "2026-01-01 08:00"


def test_cut_keeps_short_text():
    assert cut("abc", 5) == "abc"
