"""Gap-free sequences kept in counter rows (order numbers, receipt numbers): the increment happens under
the counter row's lock, inside the caller's transaction, so a rolled-back request gives its number back."""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from .extensions import db


def bump(model, **key) -> int:
    """The next value of the counter row `key` of `model` (which has a `last` column), creating it at 1."""
    where = [getattr(model, name) == value for name, value in key.items()]
    for _ in range(3):
        if db.session.execute(update(model).where(*where).values(last=model.last + 1)).rowcount:
            return db.session.scalar(select(model.last).where(*where))
        try:
            with db.session.begin_nested():
                db.session.add(model(last=1, **key))
            return 1
        except IntegrityError:  # another transaction created it first: bump that one
            continue
    raise RuntimeError(f"could not take the next {model.__tablename__} value")
