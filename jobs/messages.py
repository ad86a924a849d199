"""Delivering WeChat messages (subscribe to owners, template to staff)."""
from __future__ import annotations

from server.wechat import services


def send_message(message_id: int) -> str:
    return services.deliver(message_id)
