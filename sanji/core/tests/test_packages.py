"""Exchange packages: built, signed, read back; every kind of damage is refused with its reason."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import stat
import zipfile
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sanji.core import packages, signing
from sanji.core.packages import MANIFEST, PackageInvalid, package_build, package_read

KEY = "test-exchange-ed25519.pem"
CREATED = dt.datetime(2026, 11, 27, 16, 5, 9, 123456, tzinfo=dt.UTC)
LINES = '{"name": "其其格", "seq": 1}\n{"name": "张卫", "seq": 2}\n'.encode()


@pytest.fixture(autouse=True)
def _keys(tmp_path: Any, settings: Any) -> None:
    settings.KEY_DIR = tmp_path / "keys"


def _build(**overrides: Any) -> bytes:
    arguments: dict[str, Any] = {
        "package_id": "popfeed-u7-000000000000-000000000002",
        "type": "population.feed",
        "sender": "sanji-150100",
        "recipient": "civil-saihan",
        "created": CREATED,
        "entries": {"changes.jsonl": LINES},
        "records": {"changes.jsonl": 2},
        "key_file": KEY,
        "extra": {"cursor": {"after": 0, "last": 2}},
    }
    return package_build(**{**arguments, **overrides})


def _rezip(data: bytes, change: Any) -> bytes:
    """The package with its members passed through ``change(name, bytes) -> bytes | None``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = change(info.filename, source.read(info.filename))
            if content is not None:
                target.writestr(info.filename, content)
    return out.getvalue()


def _manifest_changed(data: bytes, edit: Any) -> bytes:
    def change(name: str, content: bytes) -> bytes:
        if name != MANIFEST:
            return content
        manifest = json.loads(content)
        edit(manifest)
        return json.dumps(manifest).encode()

    return _rezip(data, change)


def test_round_trip_signed_with_a_key_made_on_first_use() -> None:
    data = _build()
    key_path = signing.key_path(KEY)
    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
    package = package_read(data, public_key=signing.public_key(KEY))
    assert package.entries == {"changes.jsonl": LINES}
    manifest = package.manifest
    assert manifest["format"] == "sanji-package/1"
    assert manifest["created"] == "2026-11-27T16:05:09Z"
    assert manifest["records"] == {"changes.jsonl": 2}
    assert manifest["cursor"] == {"after": 0, "last": 2}
    assert manifest["key_id"] == signing.key_id(signing.public_key(KEY))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == ["changes.jsonl", MANIFEST]


def test_the_same_content_builds_the_same_bytes() -> None:
    assert _build() == _build()
    assert _build() != _build(created=CREATED + dt.timedelta(seconds=1))


def test_a_public_key_pem_verifies_what_the_key_signed() -> None:
    data = _build()
    pem = signing.public_pem(signing.public_key(KEY))
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    loaded = load_pem_public_key(pem.encode())
    assert package_read(data, public_key=loaded).entries["changes.jsonl"] == LINES  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda d: b"PK\x03\x04 not really", "not a zip file"),
        (lambda d: _rezip(d, lambda n, c: None if n == MANIFEST else c), "no manifest.json"),
        (lambda d: _rezip(d, lambda n, c: b"{" if n == MANIFEST else c), "is not JSON"),
        (lambda d: _rezip(d, lambda n, c: c.replace(b"\xe5\xbc\xa0", b"\xe7\x8e\x8b")), "SHA-256 differs"),
        (lambda d: _manifest_changed(d, lambda m: m.update(recipient="other")), "signature does not verify"),
        (lambda d: _manifest_changed(d, lambda m: m.update(format="x/2")), "unknown format"),
        (lambda d: _manifest_changed(d, lambda m: m.pop("sender")), "lacks a required member"),
        (lambda d: _rezip(d, lambda n, c: c), None),  # re-zipped unchanged: still valid
    ],
)
def test_damage_is_refused_with_its_reason(damage: Any, reason: str | None) -> None:
    data = damage(_build())
    if reason is None:
        package_read(data, public_key=signing.public_key(KEY))
        return
    with pytest.raises(PackageInvalid, match=reason):
        package_read(data, public_key=signing.public_key(KEY))


def test_an_entry_added_or_dropped_is_refused() -> None:
    data = _build()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info.filename))
        target.writestr("extra.txt", b"smuggled")
    with pytest.raises(PackageInvalid, match="differ from the manifest"):
        package_read(out.getvalue(), public_key=signing.public_key(KEY))
    dropped = _rezip(data, lambda n, c: None if n == "changes.jsonl" else c)
    with pytest.raises(PackageInvalid, match="differ from the manifest"):
        package_read(dropped, public_key=signing.public_key(KEY))


def test_another_key_does_not_verify() -> None:
    data = _build()
    with pytest.raises(PackageInvalid, match="signature"):
        package_read(data, public_key=Ed25519PrivateKey.generate().public_key())


def test_a_package_that_unpacks_too_large_is_refused_before_inflating(monkeypatch: Any) -> None:
    monkeypatch.setattr(packages, "MAX_UNPACKED_BYTES", len(LINES))
    with pytest.raises(PackageInvalid, match="more than the limit"):
        package_read(_build(), public_key=signing.public_key(KEY))


def test_records_must_name_the_entries() -> None:
    with pytest.raises(ValueError, match="records"):
        _build(records={"other.jsonl": 2})
