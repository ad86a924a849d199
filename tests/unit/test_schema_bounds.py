"""Every number or date a request can carry is bounded before it reaches the database: a loadable Integer
field is the bounded `Int` (or has a range of its own), a Date is `Day`, a DateTime is `LocalDateTime`."""
from __future__ import annotations

import marshmallow as ma

from server.schemas import Day, Int, LocalDateTime


def _all_schemas(cls=ma.Schema):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_schemas(sub)


def _fields(field):
    yield field
    for inner in (getattr(field, "inner", None), getattr(field, "value_field", None)):
        if inner is not None:
            yield from _fields(inner)


def test_request_fields_are_bounded(app):
    unbounded = []
    for schema in set(_all_schemas()):
        if not schema.__module__.startswith("server."):
            continue
        for name, declared in schema._declared_fields.items():
            for field in _fields(declared):
                if field.dump_only:
                    continue
                if isinstance(field, ma.fields.Integer) and not isinstance(field, Int) and not any(
                        isinstance(v, ma.validate.Range) for v in field.validators):
                    unbounded.append(f"{schema.__module__}.{schema.__name__}.{name}: Integer")
                if type(field) is ma.fields.Date:
                    unbounded.append(f"{schema.__module__}.{schema.__name__}.{name}: Date")
                if type(field) is ma.fields.DateTime and not isinstance(field, LocalDateTime):
                    unbounded.append(f"{schema.__module__}.{schema.__name__}.{name}: DateTime")
    assert unbounded == []


def test_the_bounds():
    assert Int().deserialize(2**31 - 1) == 2**31 - 1
    for bad in (2**31, -(2**31) - 1):
        try:
            Int().deserialize(bad)
        except ma.ValidationError as exc:
            assert exc.messages == ["超出范围"]
        else:
            raise AssertionError(bad)
    try:
        Day().deserialize("0001-01-01")
    except ma.ValidationError as exc:
        assert "2000-2099" in exc.messages[0]
    else:
        raise AssertionError("year 1")
