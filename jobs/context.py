"""The Flask app that jobs run in: built once per worker process (before forking), or lazily."""
from __future__ import annotations

import functools

from flask import Flask

_app: Flask | None = None


def set_app(app: Flask) -> None:
    global _app
    _app = app


def get_app() -> Flask:
    global _app
    if _app is None:
        from server.app import create_app

        _app = create_app()
    return _app


def with_app(fn):
    """Run a job function inside an app context (and drop its DB session afterwards)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with get_app().app_context():
            return fn(*args, **kwargs)

    return wrapper


def job(fn):
    """A periodic job: in an app context, committed at its end (services never commit for a job), rolled
    back if it raises."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from server.extensions import db

        with get_app().app_context():
            try:
                result = fn(*args, **kwargs)
                db.session.commit()
                return result
            except BaseException:
                db.session.rollback()
                raise

    return wrapper
