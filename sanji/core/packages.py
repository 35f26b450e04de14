"""Exchange packages (交换包): what the platform and the departments' front-end processors pass as files.

A front-end processor (前置机) is the exchange server between a department's own network and the
platform; where a department system cannot call the API, files go through it (DESIGN §6). A
package is one zip file holding its entries and ``manifest.json``::

    {"format": "sanji-package/1", "package_id": "...", "type": "population.feed",
     "sender": "...", "recipient": "...", "created": "2026-11-27T08:00:00Z",
     "records": {"changes.jsonl": 1000}, "sha256": {"changes.jsonl": "<hex>"},
     ...type-specific members..., "key_id": "<16 hex>", "signature": "<base64>"}

The signature is Ed25519 (:mod:`sanji.core.signing`) over the canonical manifest: every member
but ``signature``, JSON with sorted keys, no spaces, UTF-8. A receiver checks the signature with
the sender's public key, then each entry against its SHA-256, and takes nothing from a package
that fails either. Packages are built byte for byte the same from the same content (fixed zip
timestamps and order; Ed25519 signatures are deterministic), so a package written again after a
crash is the package that was recorded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sanji.core import signing

FORMAT = "sanji-package/1"
MANIFEST = "manifest.json"
#: The members every manifest has (``records`` and ``sha256`` name the same entries).
REQUIRED = ("format", "package_id", "type", "sender", "recipient", "created", "records", "sha256")
#: The most a package may hold once unpacked (a zip bomb is refused before it is inflated).
MAX_UNPACKED_BYTES = 512 * 1024 * 1024


class PackageInvalid(Exception):
    """The file is not a package, or its signature or an entry's digest does not check out."""


@dataclass(frozen=True, slots=True)
class Package:
    manifest: dict[str, Any]
    entries: dict[str, bytes]


def canonical(manifest: Mapping[str, Any]) -> bytes:
    """The bytes the signature covers: every member but ``signature``."""
    body = {k: v for k, v in manifest.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def utc_text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def package_build(
    *,
    package_id: str,
    type: str,
    sender: str,
    recipient: str,
    created: dt.datetime,
    entries: Mapping[str, bytes],
    records: Mapping[str, int],
    key_file: str,
    extra: Mapping[str, Any] | None = None,
) -> bytes:
    """The zip file of a package, signed with the key in ``key_file`` (created on first use)."""
    if set(records) != set(entries) or MANIFEST in entries:
        raise ValueError("records must name exactly the entries, and no entry may be the manifest")
    manifest: dict[str, Any] = {
        **(extra or {}),
        "format": FORMAT,
        "package_id": package_id,
        "type": type,
        "sender": sender,
        "recipient": recipient,
        "created": utc_text(created),
        "records": dict(records),
        "sha256": {name: hashlib.sha256(data).hexdigest() for name, data in entries.items()},
        "key_id": signing.key_id(signing.private_key(key_file).public_key()),
    }
    manifest["signature"] = signing.sign(key_file, canonical(manifest))[1]
    stamp = created.astimezone(dt.UTC).timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(entries):
            archive.writestr(_member(name, stamp), entries[name])
        text = json.dumps(manifest, sort_keys=True, ensure_ascii=False, indent=1)
        archive.writestr(_member(MANIFEST, stamp), text.encode("utf-8"))
    return buffer.getvalue()


def _member(name: str, stamp: tuple[int, ...]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(stamp[0], stamp[1], stamp[2], stamp[3], stamp[4], stamp[5]))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def package_read(data: bytes, *, public_key: Ed25519PublicKey) -> Package:
    """The manifest and entries of a package whose signature and digests check out.

    Raises :class:`PackageInvalid` naming the first problem: not a zip file, no or bad manifest,
    entries that differ from the manifest's list, an unknown format, a signature that does not
    verify with ``public_key``, an entry whose SHA-256 differs.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise PackageInvalid("not a zip file") from None
    with archive:
        infos = archive.infolist()
        if sum(info.file_size for info in infos) > MAX_UNPACKED_BYTES:
            raise PackageInvalid("the package unpacks to more than the limit")
        names = [info.filename for info in infos]
        if len(set(names)) != len(names):
            raise PackageInvalid("an entry name appears twice")
        if MANIFEST not in names:
            raise PackageInvalid(f"no {MANIFEST}")
        try:
            manifest = json.loads(archive.read(MANIFEST).decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise PackageInvalid(f"{MANIFEST} is not JSON") from None
        if not isinstance(manifest, dict) or any(key not in manifest for key in REQUIRED):
            raise PackageInvalid(f"{MANIFEST} lacks a required member")
        if manifest["format"] != FORMAT:
            raise PackageInvalid(f"unknown format {manifest['format']!r}")
        digests = manifest["sha256"]
        if not isinstance(digests, dict) or not isinstance(manifest["records"], dict):
            raise PackageInvalid(f"{MANIFEST}: records and sha256 must be objects")
        listed = sorted(digests)
        if listed != sorted(n for n in names if n != MANIFEST) or listed != sorted(manifest["records"]):
            raise PackageInvalid("the entries differ from the manifest's list")
        if not signing.verifies(
            public_key,
            canonical(manifest),
            signed_key_id=str(manifest.get("key_id", "")),
            signature=str(manifest.get("signature", "")),
        ):
            raise PackageInvalid("the signature does not verify")
        entries: dict[str, bytes] = {}
        for name in listed:
            content = archive.read(name)
            if hashlib.sha256(content).hexdigest() != digests[name]:
                raise PackageInvalid(f"{name}: SHA-256 differs from the manifest")
            entries[name] = content
    return Package(manifest=manifest, entries=entries)
