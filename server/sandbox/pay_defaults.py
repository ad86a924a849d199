"""The sandbox's WeChat Pay identity: merchant id, APIv3 key, serial numbers and test keys.

Plain constants (no Flask, no app import), so the product's configuration can use them as its
development defaults.  The keys in ``KEY_DIR`` are public test keys committed to the repository:
they are never valid for the real WeChat Pay, and production must refuse them (``is_sandbox_key``).
"""

from __future__ import annotations

import re
from pathlib import Path

MCHID = "1900000001"
APIV3_KEY = "sandbox-apiv3-key-0123456789abcd"  # AES-256-GCM key: exactly 32 bytes
MERCHANT_SERIAL_NO = "5AFE0000000000000000000000000001"  # the serial_no the product puts in Authorization
PUBLIC_KEY_ID = "PUB_KEY_ID_0000000000000000000000000000000000SANDBOX"  # Wechatpay-Serial both ways

KEY_DIR = Path(__file__).resolve().parent / "keys"
MERCHANT_PRIVATE_KEY_PATH = KEY_DIR / "merchant_private.pem"  # the product signs requests with it
MERCHANT_PUBLIC_KEY_PATH = KEY_DIR / "merchant_public.pem"  # the sandbox verifies them with it
PLATFORM_PRIVATE_KEY_PATH = KEY_DIR / "platform_private.pem"  # the sandbox signs answers and notifications
PLATFORM_PUBLIC_KEY_PATH = KEY_DIR / "platform_public.pem"  # the product verifies them with it

assert len(APIV3_KEY.encode()) == 32


def read_key(path: Path) -> str:
    return path.read_text(encoding="ascii")


def _key_body(text: str) -> str:
    """The base64 body of a PEM key, without header, footer or whitespace (wechatpayv3 accepts both)."""
    text = re.sub(r"-----(BEGIN|END) [A-Z ]+-----", "", text)
    return re.sub(r"\s+", "", text)


def is_sandbox_key(text: str | bytes) -> bool:
    """True when `text` is one of the committed sandbox keys (PEM, with or without header lines)."""
    if isinstance(text, bytes):
        text = text.decode("ascii", errors="replace")
    body = _key_body(text)
    return bool(body) and any(_key_body(read_key(path)) == body for path in sorted(KEY_DIR.glob("*.pem")))
