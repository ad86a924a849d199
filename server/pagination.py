"""Page a SELECT into {"items", "total", "page", "per_page"}."""
from __future__ import annotations

from sqlalchemy import Select, func, select

from .extensions import db


def paginate(stmt: Select, page: int, per_page: int) -> dict:
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": items, "total": total, "page": page, "per_page": per_page}
