"""WeChat Pay's signatures and encryption, the sandbox's side of them.

The sandbox checks the merchant's signed ``Authorization`` header with the merchant's public key,
signs its answers and notifications with the platform's private key (keys in
``server/sandbox/keys/``, named by ``server.sandbox.pay_defaults``), and encrypts notification
resources with the APIv3 key.
"""

from __future__ import annotations

import base64
import functools
import re
import secrets
import string
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key
from flask import request

from .. import pay_defaults
from .wire import PayError

SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
AUTH_TIMESTAMP_TOLERANCE = 300  # seconds; WeChat Pay rejects requests signed more than 5 minutes off
AUTH_FIELD = re.compile(r'(\w+)="([^"]*)"')
NONCE_ALPHABET = string.ascii_letters + string.digits


class Signer:
    """The sandbox's side of WeChat Pay's signatures."""

    def __init__(self, merchant_public: RSAPublicKey, platform_private: RSAPrivateKey, public_key_id: str):
        self.merchant_public = merchant_public
        self.platform_private = platform_private
        self.public_key_id = public_key_id

    @classmethod
    @functools.cache  # loading (and checking) an RSA private key takes tens of milliseconds
    def from_key_dir(cls) -> Signer:
        merchant_public = load_pem_public_key(pay_defaults.MERCHANT_PUBLIC_KEY_PATH.read_bytes())
        platform_private = load_pem_private_key(pay_defaults.PLATFORM_PRIVATE_KEY_PATH.read_bytes(), None)
        assert isinstance(merchant_public, RSAPublicKey) and isinstance(platform_private, RSAPrivateKey)
        return cls(merchant_public, platform_private, pay_defaults.PUBLIC_KEY_ID)

    def sign(self, message: str) -> str:
        signature = self.platform_private.sign(message.encode("utf-8"), PKCS1v15(), SHA256())
        return base64.b64encode(signature).decode("ascii")

    def headers(
        self, body: str, *, timestamp: int | None = None, break_signature: bool = False
    ) -> dict[str, str]:
        """The ``Wechatpay-*`` headers WeChat Pay puts on answers and notifications."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        nonce = secrets.token_hex(16).upper()
        signed = f"{stamp}\n{nonce}\n{body}\n"
        if break_signature:
            signed += "tampered"  # a well-formed signature, but over something else
        return {
            "Wechatpay-Timestamp": stamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Serial": self.public_key_id,
            "Wechatpay-Signature": self.sign(signed),
            "Wechatpay-Signature-Type": SIGNATURE_TYPE,
        }

    def verify_merchant(self, message: str, signature: str) -> bool:
        try:
            raw = base64.b64decode(signature, validate=True)
            self.merchant_public.verify(raw, message.encode("utf-8"), PKCS1v15(), SHA256())
        except (ValueError, InvalidSignature):
            return False
        return True


def authenticate(signer: Signer, mchid: str) -> None:
    """Check the current request's ``Authorization`` header the way WeChat Pay does."""
    header = request.headers.get("Authorization", "")
    scheme, _, params = header.partition(" ")
    if scheme != SIGNATURE_TYPE:
        raise PayError(401, "SIGN_ERROR", f"Authorization 缺失或不是 {SIGNATURE_TYPE}")
    fields = dict(AUTH_FIELD.findall(params))
    missing = [
        name for name in ("mchid", "nonce_str", "signature", "timestamp", "serial_no") if not fields.get(name)
    ]
    if missing:
        raise PayError(401, "SIGN_ERROR", f"Authorization 缺少 {', '.join(missing)}")
    if fields["mchid"] != mchid:
        raise PayError(400, "MCH_NOT_EXISTS", "商户号不存在")
    if fields["serial_no"] != pay_defaults.MERCHANT_SERIAL_NO:
        raise PayError(401, "SIGN_ERROR", "商户证书序列号有误")
    if (
        not fields["timestamp"].isdigit()
        or abs(time.time() - int(fields["timestamp"])) > AUTH_TIMESTAMP_TOLERANCE
    ):
        raise PayError(401, "SIGN_ERROR", "Authorization 的 timestamp 与当前时间相差超过 5 分钟")
    body = request.get_data().decode("utf-8", errors="replace")
    for url in _signed_url_candidates():
        message = f"{request.method}\n{url}\n{fields['timestamp']}\n{fields['nonce_str']}\n{body}\n"
        if signer.verify_merchant(message, fields["signature"]):
            return
    raise PayError(401, "SIGN_ERROR", "签名错误")


def _signed_url_candidates() -> list[str]:
    # WeChat Pay signs the URL as sent; SDKs sign it before percent-encoding, so accept both spellings.
    query = request.query_string.decode("latin-1")
    decoded = request.path + (f"?{query}" if query else "")
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or decoded
    return list(dict.fromkeys([raw, decoded]))


def encrypt_resource(apiv3_key: str, plaintext: str, associated_data: str) -> dict[str, str]:
    """AEAD_AES_256_GCM with the APIv3 key, as in WeChat Pay's notifications (12-character nonce)."""
    nonce = "".join(secrets.choice(NONCE_ALPHABET) for _ in range(12))
    ciphertext = AESGCM(apiv3_key.encode("utf-8")).encrypt(
        nonce.encode("utf-8"), plaintext.encode("utf-8"), associated_data.encode("utf-8")
    )
    return {
        "ciphertext": base64.b64encode(ciphertext).decode("ascii"),
        "associated_data": associated_data,
        "nonce": nonce,
    }
