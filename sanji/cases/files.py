"""What an uploaded file really is, judged by its content (magic bytes), not its name — pure.

Accepted: PDF, JPEG, PNG and OFD (the Chinese fixed-layout format, GB/T 33190: a zip whose root holds
``OFD.xml``). A declared extension that disagrees with the content is refused: an ``.exe`` renamed
``.pdf`` is not a PDF, and a PNG named ``.pdf`` is refused too, because clerks and the applicant's
next viewer trust the name.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from django.utils.translation import gettext as _

from sanji.core.errors import ValidationFailed

MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class FileKind:
    name: str
    content_type: str
    extensions: tuple[str, ...]


PDF = FileKind("pdf", "application/pdf", (".pdf",))
JPEG = FileKind("jpeg", "image/jpeg", (".jpg", ".jpeg"))
PNG = FileKind("png", "image/png", (".png",))
OFD = FileKind("ofd", "application/ofd", (".ofd",))
KINDS = (PDF, JPEG, PNG, OFD)


def _is_ofd(content: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return "OFD.xml" in archive.namelist()
    except (zipfile.BadZipFile, ValueError):
        return False


def sniff(content: bytes) -> FileKind | None:
    if content.startswith(b"%PDF-"):
        return PDF
    if content.startswith(b"\xff\xd8\xff"):
        return JPEG
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if content.startswith(b"PK\x03\x04") and _is_ofd(content):
        return OFD
    return None


def check_upload(filename: str, content: bytes) -> FileKind:
    """The file's kind, or :class:`ValidationFailed` saying why it is refused."""
    if not content:
        raise ValidationFailed(_("文件是空的。"), details=[{"field": "file", "reason": "empty"}])
    if len(content) > MAX_BYTES:
        raise ValidationFailed(
            _("文件超过 %(mb)s MB。") % {"mb": MAX_BYTES // (1024 * 1024)},
            details=[{"field": "file", "reason": "size"}],
        )
    kind = sniff(content)
    if kind is None:
        raise ValidationFailed(
            _("只接受 PDF、JPEG、PNG 和 OFD 文件；此文件都不是。"),
            details=[{"field": "file", "reason": "type"}],
        )
    name = filename.strip().lower()
    if not any(name.endswith(ext) for ext in kind.extensions):
        raise ValidationFailed(
            _("此文件是 %(kind)s 文件，文件名却是“%(name)s”；请将扩展名改为 %(extension)s。")
            % {"kind": kind.name.upper(), "name": filename, "extension": kind.extensions[0]},
            details=[{"field": "file", "reason": "extension_mismatch"}],
        )
    return kind
