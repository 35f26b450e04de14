"""Field encryption (AES-GCM) and keyed blind indexes (HMAC-SHA256) for personal data.

Keys come from the environment (``SANJI_KEY_<NAME>``, base64) in production, or from 0600 files
under ``settings.KEY_DIR`` that the embedded set-up creates on first use. Ciphertexts name the key
that made them (``v1.<key id>.<base64>``), so a rotation can add a new current key while old rows
still decrypt, and re-encrypt them afterwards without downtime.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

_PREFIX = "v1"


def _key_file(name: str) -> Path:
    return Path(settings.KEY_DIR) / f"{name}.key"


def secret_key(name: str, *, create: bool = True) -> bytes:
    """The 32-byte secret called ``name`` (environment first, then the key directory)."""
    variable = f"SANJI_KEY_{name.upper().replace('-', '_')}"
    env = os.environ.get(variable, "").strip()
    if env:
        try:
            raw = base64.b64decode(env, validate=True)
        except binascii.Error:  # not base64: refused below, naming the variable
            raw = b""
        if len(raw) != 32:
            raise ValueError(f"{variable} must be 32 bytes, base64-encoded")
        return raw
    path = _key_file(name)
    if path.exists():
        return base64.b64decode(path.read_text().strip())
    if not create:
        raise FileNotFoundError(f"key {name!r} not found in {path.parent}")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    raw = secrets.token_bytes(32)
    # Written in full to a private temporary file, then linked into place: link() fails if the key
    # exists, so a reader never sees a half-written key and two creators agree on one key.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(base64.b64encode(raw).decode())
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:  # another process created it first: use theirs
            return base64.b64decode(path.read_text().strip())
    finally:
        tmp.unlink(missing_ok=True)
    return raw


def key_id(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:8]


@cache
def _cipher(name: str) -> tuple[str, AESGCM]:
    raw = secret_key(name)
    return key_id(raw), AESGCM(raw)


def encrypt(plaintext: str, *, key: str = "field") -> str:
    kid, aead = _cipher(key)
    nonce = secrets.token_bytes(12)
    sealed = aead.encrypt(nonce, plaintext.encode(), kid.encode())
    return f"{_PREFIX}.{kid}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def previous_keys(key: str = "field") -> tuple[str, ...]:
    """The names of the older keys still accepted for decryption during a rotation of ``key``:
    ``settings.SANJI_PREVIOUS_<KEY>_KEYS`` or the environment variable of that name, comma-separated
    (``SANJI_PREVIOUS_FIELD_KEYS=field-2025`` while the rows move to the new ``field`` key)."""
    name = f"SANJI_PREVIOUS_{key.upper().replace('-', '_')}_KEYS"
    raw = getattr(settings, name, None) or os.environ.get(name, "")
    if isinstance(raw, str):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return tuple(raw)


def decrypt(token: str, *, key: str = "field", previous: tuple[str, ...] | None = None) -> str:
    """Decrypt with the current key, or one of the ``previous`` key names during a rotation
    (by default those configured, :func:`previous_keys`), so every reader carries on meanwhile."""
    if previous is None:
        previous = previous_keys(key)
    prefix, kid, body = token.split(".", 2)
    if prefix != _PREFIX:
        raise ValueError("unknown ciphertext format")
    for name in (key, *previous):
        candidate_id, aead = _cipher(name)
        if candidate_id == kid:
            blob = base64.urlsafe_b64decode(body)
            return aead.decrypt(blob[:12], blob[12:], kid.encode()).decode()
    raise ValueError(f"no key with id {kid} is configured")


def is_current(token: str, *, key: str = "field") -> bool:
    """Was ``token`` made with the current ``key`` (nothing to re-encrypt)?"""
    parts = token.split(".", 2)
    return len(parts) == 3 and parts[0] == _PREFIX and parts[1] == _cipher(key)[0]


def reencrypt(token: str, *, key: str = "field", previous: tuple[str, ...] | None = None) -> str:
    """``token`` under the current ``key``: unchanged when it already is, else decrypted (with the
    current or a ``previous`` key) and encrypted again. An empty value stays empty."""
    if not token or is_current(token, key=key):
        return token
    return encrypt(decrypt(token, key=key, previous=previous), key=key)


@cache
def _index_key(name: str) -> bytes:
    return secret_key(name)


def blind_digest(value: str, *, purpose: str, key: str = "index") -> bytes:
    """A keyed, deterministic digest for exact look-ups of an encrypted value (e.g. an ID number).

    The 32 bytes of HMAC-SHA256 over ``purpose`` and ``value``. Columns that hold many of them
    under a unique index (``population.Person.id_index``) store these raw bytes: half the width of
    the hex text, compared with memcmp.
    """
    return hmac.digest(_index_key(key), f"{purpose}\x00{value}".encode(), "sha256")


def blind_index(value: str, *, purpose: str, key: str = "index") -> str:
    """:func:`blind_digest` as 64 hex characters (the form text columns keep)."""
    return blind_digest(value, purpose=purpose, key=key).hex()


def clear_cache() -> None:
    """Forget loaded keys (tests and key rotation)."""
    _cipher.cache_clear()
    _index_key.cache_clear()
