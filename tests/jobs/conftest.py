"""Fixtures of the job tests."""
from __future__ import annotations

import pytest

from server.accounts.models import Owner
from server.extensions import db
from server.outbox import OutboxJob
from server.timeutil import utcnow
from server.wechat import messages
from server.wechat.models import SubscribeCredit
from server.wechat.services import notify_owner


@pytest.fixture
def owner_with_credits(app, demo):
    """An owner with `n` credits for the binding_result template; returns a factory of queued messages."""
    with app.app_context():
        owner = Owner(openid="owner-jobs")
        db.session.add(owner)
        db.session.flush()
        db.session.add(SubscribeCredit(owner_id=owner.id, template_id="tpl-binding-result", credits=2))
        db.session.commit()
        owner_id = owner.id

    def queue_message(note="测试", **kwargs) -> tuple[int, int]:
        with app.app_context():
            msg = notify_owner(db.session.get(Owner, owner_id),
                               messages.binding_result(house="1栋1单元101", result="审核通过", note=note, at=utcnow()),
                               **kwargs)
            db.session.commit()
            row = db.session.query(OutboxJob).order_by(OutboxJob.id.desc()).first()
            return msg.id, row.id

    queue_message.owner_id = owner_id
    return queue_message
