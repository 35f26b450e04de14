"""Ed25519 signing keys of the platform, one PEM file per purpose under ``settings.KEY_DIR``.

Each purpose has its own key (``audit-ed25519.pem`` signs audit purge checkpoints,
``exchange-ed25519.pem`` signs the packages the platform writes for departments' front-end
processors), so one can be rotated or handed to a verifier without the other. A private key is a
PKCS#8 PEM file, mode 0600, created on first use and never overwritten. A key's id is the first 16
hex digits of the SHA-256 of its raw public key; signatures travel as base64 with that id.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings


class SigningKeyMissing(Exception):
    """The key file does not exist (signatures made with it cannot be checked here)."""


def key_path(file_name: str) -> Path:
    return Path(settings.KEY_DIR) / file_name


def _load(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return key


def private_key(file_name: str) -> Ed25519PrivateKey:
    """The key in ``file_name``, created (0600, never overwritten) on first use."""
    path = key_path(file_name)
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


def public_key(file_name: str) -> Ed25519PublicKey:
    path = key_path(file_name)
    if not path.exists():
        raise SigningKeyMissing(f"signing key {path} is missing")
    return _load(path).public_key()


def public_pem(key: Ed25519PublicKey) -> str:
    """The public key as SubjectPublicKeyInfo PEM: what a receiving system is given to verify with."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def key_id(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def sign(file_name: str, payload: bytes) -> tuple[str, str]:
    """Sign ``payload`` with the key in ``file_name``; returns ``(key_id, base64 signature)``."""
    key = private_key(file_name)
    return key_id(key.public_key()), base64.b64encode(key.sign(payload)).decode("ascii")


def verifies(key: Ed25519PublicKey, payload: bytes, *, signed_key_id: str, signature: str) -> bool:
    """Does ``signature`` over ``payload`` verify with ``key`` (whose id must be ``signed_key_id``)?"""
    if key_id(key) != signed_key_id:
        return False
    try:
        key.verify(base64.b64decode(signature, validate=True), payload)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True
