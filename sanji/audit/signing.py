"""The Ed25519 key that signs purge checkpoints, and the checkpoint's signed statement.

The private key lives in ``settings.KEY_DIR / "audit-ed25519.pem"`` (PKCS#8 PEM, mode 0600),
created on first use. Its id is the first 16 hex digits of the SHA-256 of the raw public key.
A checkpoint signs ``(seq, hash, purged_before, purged_count, created_at)``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

from sanji.audit.chain import canonical_time

KEY_FILE_NAME = "audit-ed25519.pem"
_PAYLOAD_TAG = "sanji-audit-checkpoint-v1"


class SigningKeyMissing(Exception):
    """The audit signing key file does not exist (checkpoints cannot be checked)."""


def key_path() -> Path:
    return Path(settings.KEY_DIR) / KEY_FILE_NAME


def _load(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return key


def private_key() -> Ed25519PrivateKey:
    """The signing key, created (0600, never overwritten) on first use."""
    path = key_path()
    if path.exists():
        return _load(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return _load(path)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return key


def public_key() -> Ed25519PublicKey:
    path = key_path()
    if not path.exists():
        raise SigningKeyMissing(f"audit signing key {path} is missing")
    return _load(path).public_key()


def key_id(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def checkpoint_payload(
    *, seq: int, hash: str, purged_before: dt.datetime, purged_count: int, created_at: dt.datetime
) -> bytes:
    body = [_PAYLOAD_TAG, seq, hash, canonical_time(purged_before), purged_count, canonical_time(created_at)]
    return json.dumps(body, separators=(",", ":")).encode()


def sign(payload: bytes) -> tuple[str, str]:
    """Sign with the audit key; returns ``(key_id, base64 signature)``."""
    key = private_key()
    return key_id(key.public_key()), base64.b64encode(key.sign(payload)).decode("ascii")


def signature_valid(payload: bytes, *, signed_key_id: str, signature: str) -> bool:
    """Does ``signature`` over ``payload`` verify with the current audit key (whose id must match)?"""
    key = public_key()
    if key_id(key) != signed_key_id:
        return False
    try:
        key.verify(base64.b64decode(signature, validate=True), payload)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True
