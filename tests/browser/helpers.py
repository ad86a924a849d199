"""Helpers of the 工单 / 投诉 browser tests: orders registered through the real API, waiting for the
worker process, reading console errors."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import and_, or_

from server.accounts.models import Building, Community, House
from server.extensions import db
from server.outbox import OutboxJob
from server.timeutil import utcnow
from tests.browser.conftest import wait_for

DESK_ORDERS = "/api/v1/staff/work-orders"


def house_id(app, building, unit, room, community="demo") -> int:
    with app.app_context():
        return db.session.query(House.id).join(Building, House.building_id == Building.id).join(
            Community, Building.community_id == Community.id).filter(
            Community.code == community, Building.code == building, House.unit == unit,
            House.room == room).scalar()


def register(client, headers, house, description, category="water", kind="repair", name="李四",
             phone="13800000002", **extra):
    res = client.post(DESK_ORDERS, headers=headers, json={
        "kind": kind, "house_id": house, "category": category, "description": description, "channel": "phone",
        "contact_name": name, "contact_phone": phone, **extra})
    assert res.status_code == 201, res.get_json()
    return res.get_json()


def staff_view(client, headers, order_id) -> dict:
    return client.get(f"{DESK_ORDERS}/{order_id}", headers=headers).get_json()


def no_inline_script(page) -> None:
    """The page as the server sent it has no inline script, handler, style attribute or javascript: URL
    (the live DOM carries what htmx sets on elements)."""
    html = page.request.get(page.url).text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert not re.search(r"\son[a-z]+=", html) and ' style="' not in html and "javascript:" not in html


def console_errors(d) -> list[str]:
    """Console errors other than the notes (the browser's, htmx's) that a refused form came back as a 4xx."""
    return [e for e in d.console_errors
            if not re.search(r"status of 4(22|09|04)|Response Status Error Code 4(22|09|04)", e)]


@pytest.fixture(autouse=True)
def worker_idle(app):
    """After the test, wait until the worker process has finished what is due (dispatches, pushes): the
    tables are emptied next, and must not be emptied under a running job."""
    yield

    def idle() -> bool:
        with app.app_context():
            busy = db.session.query(OutboxJob.id).filter(or_(
                OutboxJob.status == "running",
                and_(OutboxJob.status == "pending", OutboxJob.available_at <= utcnow()))).first()
            db.session.remove()
            return busy is None

    wait_for(idle, timeout=30)
