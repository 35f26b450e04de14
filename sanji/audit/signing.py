"""The Ed25519 key that signs purge checkpoints, and the checkpoint's signed statement.

The private key lives in ``settings.KEY_DIR / "audit-ed25519.pem"`` (:mod:`sanji.core.signing`:
PKCS#8 PEM, mode 0600, created on first use; its id is the first 16 hex digits of the SHA-256 of
the raw public key). A checkpoint signs ``(seq, hash, purged_before, purged_count, created_at)``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from sanji.audit.chain import canonical_time
from sanji.core import signing
from sanji.core.signing import SigningKeyMissing, key_id

__all__ = [
    "KEY_FILE_NAME",
    "SigningKeyMissing",
    "checkpoint_payload",
    "key_id",
    "key_path",
    "private_key",
    "public_key",
    "sign",
    "signature_valid",
]

KEY_FILE_NAME = "audit-ed25519.pem"
_PAYLOAD_TAG = "sanji-audit-checkpoint-v1"


def key_path() -> Path:
    return signing.key_path(KEY_FILE_NAME)


def private_key() -> Ed25519PrivateKey:
    """The signing key, created (0600, never overwritten) on first use."""
    return signing.private_key(KEY_FILE_NAME)


def public_key() -> Ed25519PublicKey:
    return signing.public_key(KEY_FILE_NAME)


def checkpoint_payload(
    *, seq: int, hash: str, purged_before: dt.datetime, purged_count: int, created_at: dt.datetime
) -> bytes:
    body = [_PAYLOAD_TAG, seq, hash, canonical_time(purged_before), purged_count, canonical_time(created_at)]
    return json.dumps(body, separators=(",", ":")).encode()


def sign(payload: bytes) -> tuple[str, str]:
    """Sign with the audit key; returns ``(key_id, base64 signature)``."""
    return signing.sign(KEY_FILE_NAME, payload)


def signature_valid(payload: bytes, *, signed_key_id: str, signature: str) -> bool:
    """Does ``signature`` over ``payload`` verify with the current audit key (whose id must match)?"""
    return signing.verifies(public_key(), payload, signed_key_id=signed_key_id, signature=signature)
