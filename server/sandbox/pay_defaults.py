"""The sandbox's WeChat Pay identity: merchant id, APIv3 key, serial numbers and test keys.

Plain constants (no Flask, no app import), so the product's configuration can use them as its
development defaults.  The keys in ``KEY_DIR`` are public test keys committed to the repository:
they are never valid for the real WeChat Pay, and production must refuse them (``is_sandbox_key``).
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm

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
    text = re.sub(r"-----(BEGIN|END) [A-Z0-9 ]+-----", "", text)
    return re.sub(r"\s+", "", text)


def public_fingerprint(text: str | bytes) -> str | None:
    """SHA-256 (hex) of the DER SubjectPublicKeyInfo of the key in `text`: a private key (PKCS#8 or PKCS#1),
    a public key (SubjectPublicKeyInfo or PKCS#1) or a certificate, PEM with or without its header lines,
    however wrapped. A key pair has one fingerprint, so its every encoding is recognised. None when `text`
    holds none of these (or an encrypted private key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization

    if isinstance(text, bytes):
        text = text.decode("ascii", errors="replace")
    try:
        der = base64.b64decode(_key_body(text), validate=True)
    except (binascii.Error, ValueError):
        return None
    public = None
    # Only the public half is wanted: skip the (slow) consistency check of the private key's numbers.
    for load in (lambda d: serialization.load_der_private_key(d, None, unsafe_skip_rsa_key_validation=True)
                 .public_key(),
                 serialization.load_der_public_key,
                 lambda d: x509.load_der_x509_certificate(d).public_key()):
        try:
            public = load(der)
            break
        except (ValueError, TypeError, UnsupportedAlgorithm):
            continue
    if public is None:
        return None
    spki = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    digest = hashes.Hash(hashes.SHA256())
    digest.update(spki)
    return digest.finalize().hex()


def is_sandbox_key(text: str | bytes) -> bool:
    """True when `text` is one of the committed sandbox keys, or the other half of one: compared by the
    fingerprint of the public key, so no re-encoding (PKCS#1 for PKCS#8, no PEM lines, other line breaks)
    gets a test key past the production check."""
    fingerprint = public_fingerprint(text)
    return fingerprint is not None and fingerprint in _sandbox_fingerprints()


@functools.cache
def _sandbox_fingerprints() -> frozenset[str]:
    return frozenset(filter(None, (public_fingerprint(read_key(path)) for path in sorted(KEY_DIR.glob("*.pem")))))
