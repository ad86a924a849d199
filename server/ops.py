"""Health endpoint for load balancers and monitoring."""
from __future__ import annotations

import marshmallow as ma
from sqlalchemy import func, select, text

from . import outbox
from .api import blueprint
from .schemas import Int
from .extensions import db, get_redis

health_blp = blueprint("health", "/api/v1/health", "健康检查")


class CheckOut(ma.Schema):
    ok = ma.fields.Boolean()
    error = ma.fields.String(allow_none=True)


class HealthOut(ma.Schema):
    status = ma.fields.String(metadata={"description": "ok | degraded (Redis down: requests still work, "
                                                       "background work waits) | down (database down)"})
    database = ma.fields.Nested(CheckOut)
    redis = ma.fields.Nested(CheckOut)
    pending_jobs = Int(allow_none=True)


def _check(fn) -> dict:
    try:
        fn()
        return {"ok": True, "error": None}
    except Exception as exc:  # noqa: BLE001 - any failure is reported, not raised
        return {"ok": False, "error": exc.__class__.__name__}


@health_blp.get("")
@health_blp.response(200, HealthOut)
@health_blp.alt_response(503, schema=HealthOut, description="数据库不可用")
@health_blp.doc(security=[])
def health():
    """数据库与 Redis 状态"""
    database = _check(lambda: db.session.execute(text("SELECT 1")))
    pending = None
    if database["ok"]:
        pending = db.session.scalar(
            select(func.count()).select_from(outbox.OutboxJob).where(outbox.OutboxJob.status == "pending"))
    db.session.rollback()
    red = _check(lambda: get_redis().ping())
    status = "ok" if database["ok"] and red["ok"] else ("down" if not database["ok"] else "degraded")
    body = {"status": status, "database": database, "redis": red, "pending_jobs": pending}
    return body, (503 if status == "down" else 200)
