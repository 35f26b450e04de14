"""Files that survive a crash: written in full and flushed, with their names flushed into their folder.

A file's data and its directory entry reach the disk separately: after ``fsync`` of the file, a
crash may still lose its name unless the folder is flushed too (``fsync`` of the directory).
"""

from __future__ import annotations

import os
from pathlib import Path


def fsync_directory(folder: Path) -> None:
    """Flush a folder's entries to disk (a new or renamed file's name is in its folder)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_new(path: Path, content: bytes, *, mode: int = 0o600, sync_folder: bool = True) -> None:
    """Write ``content`` to ``path``, which must not exist yet (another file is never overwritten),
    and flush it (and, with ``sync_folder``, its name) to disk before returning. A partly written
    file (disk full …) is removed."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        if sync_folder:
            fsync_directory(path.parent)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
