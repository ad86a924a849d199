"""A community's business calendar (hours, holidays, make-up working days) as the pure clock rules in
sla.py take it."""
from __future__ import annotations

from sqlalchemy import select

from ..accounts.models import CalendarDay, Community
from ..extensions import db
from . import sla


def calendar_for(community: Community) -> sla.Calendar:
    days = db.session.execute(
        select(CalendarDay.day, CalendarDay.kind).where(CalendarDay.community_id == community.id)
    ).all()
    return sla.Calendar.build(community.timezone, community.business_hours, [tuple(d) for d in days])
