"""Project-wide test fixtures: real services reach every state (STYLE.md, Tests)."""

from __future__ import annotations

import os
import tempfile

# Each test run keeps its data (keys, files) in a throw-away directory.
os.environ.setdefault("SANJI_DATA_DIR", tempfile.mkdtemp(prefix="sanji-test-"))
