"""What billing's modules share without importing each other (payments and refunds both apply WeChat Pay
notifications; neither depends on the other for this)."""
from __future__ import annotations


class NotificationRejected(Exception):
    """A notification that fails verification or does not match our record: 4xx, nothing changes."""
