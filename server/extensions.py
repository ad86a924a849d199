"""Unbound extensions; bound to an app in create_app(). Nothing here connects at import time."""
from __future__ import annotations

import redis
from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names keep Alembic migrations identical on SQLite (batch mode) and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()


def locked(model, record_id):
    """The row `record_id` locked FOR UPDATE until the transaction ends, and read afresh. Without
    populate_existing, session.get(..., with_for_update=True) takes the lock but keeps the values of an
    instance the session loaded earlier (before the lock): a check or an increment made on them is a lost
    update. None when there is no such row."""
    return db.session.get(model, record_id, with_for_update=True, populate_existing=True)


def init_redis(app: Flask) -> None:
    # Short timeouts: a Redis outage must fail fast (and be survived) instead of hanging requests.
    app.extensions["redis"] = redis.Redis.from_url(
        app.config["REDIS_URL"], socket_connect_timeout=1.0, socket_timeout=3.0, health_check_interval=30
    )


def get_redis() -> redis.Redis:
    from flask import current_app

    return current_app.extensions["redis"]
