"""Signed API tokens: itsdangerous over the session id. The signature stops forgery; the session row
gives expiry and revocation."""
from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer

SALT = "wuye.auth.v1"


def sign(secret_key: str, session_id: str) -> str:
    return URLSafeSerializer(secret_key, salt=SALT).dumps({"sid": session_id})


def unsign(secret_key: str, token: str) -> str | None:
    """The session id inside a token, or None if the token is forged or malformed."""
    try:
        data = URLSafeSerializer(secret_key, salt=SALT).loads(token)
    except BadSignature:
        return None
    sid = data.get("sid") if isinstance(data, dict) else None
    return sid if isinstance(sid, str) else None
