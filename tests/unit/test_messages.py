"""Every template has one builder, and each builder fills exactly its template's declared fields with values
WeChat's formats accept (a typo in a key fails here, not at WeChat)."""
from __future__ import annotations

import inspect
from datetime import date, datetime, timezone

import pytest

from server.wechat import messages, templates
from server.wechat.values import subscribe_data, template_data

SAMPLES = {"str": "BX1 示例", "int": 12345, "datetime": datetime(2026, 12, 1, 2, 30, tzinfo=timezone.utc),
           "date": date(2026, 12, 31)}
BY_NAME = {"result": "审核通过", "status": "已派单"}  # phrase fields: Chinese only, at most 5 characters
ALL = {**templates.SUBSCRIBE, **templates.OFFICIAL}


def _build(name: str) -> messages.Content:
    builder = messages.BUILDERS[name]
    args = {p.name: BY_NAME.get(p.name, SAMPLES[p.annotation]) for p in inspect.signature(builder).parameters.values()}
    return builder(**args)


def test_one_builder_per_template():
    assert set(messages.BUILDERS) == set(ALL)


@pytest.mark.parametrize("key", sorted(ALL))
def test_builder_fills_exactly_the_templates_fields(key):
    content = _build(key)
    assert content.key == key
    assert set(content.values) == set(ALL[key].fields)
    shaped = (subscribe_data if key in templates.SUBSCRIBE else template_data)(content.values, "Asia/Shanghai")
    assert set(shaped) == set(ALL[key].fields) and all(v["value"] for v in shaped.values())


def test_a_wrong_key_is_refused_before_anything_is_stored(app, ctx):
    from server.accounts.models import Owner
    from server.wechat.services import notify_owner

    typo = messages.Content("order_status", {"character_string1": "BX1", "thing2": "x", "phrase3": "已派单",
                                             "thing4": "-", "time6": datetime.now(timezone.utc)})
    with pytest.raises(ValueError, match="time6"):
        notify_owner(Owner(openid="o"), typo)
