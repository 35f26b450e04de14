"""Project-wide test fixtures: real services reach every state (STYLE.md, Tests)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

# (`make test` points SANJI_DATA_DIR at a throw-away directory before settings are loaded.)
# Playwright's sync API runs an event loop in the test thread; Django's ORM calls in that same
# thread are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# Tests that seed the demo people get no demo residents (≈ 25 s each); sanji/ops/tests/
# test_demo_population.py seeds them explicitly.
os.environ.setdefault("SANJI_DEMO_RESIDENTS", "0")
# Tests write configuration rows (calendar, supervision rules) directly and roll every test back:
# the platform's copies are checked against the database on every use (sanji.core.configcache).
os.environ.setdefault("SANJI_CONFIG_RECHECK_SECONDS", "0")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def chromium_path() -> str:
    path = os.environ.get("SANJI_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise RuntimeError("Debian's Chromium is needed for browser tests: run `make browsers`.")
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(10_000)
    pg = context.new_page()
    yield pg
    context.close()


class FieldKeyRotation:
    """A rotation of the ``field`` key in the test key directory, as an operator does it."""

    OLD = "field-old"

    def __init__(self, settings: Any) -> None:
        from django.conf import settings as django_settings

        from sanji.core import crypto

        self._settings = settings
        self._dir = django_settings.KEY_DIR
        crypto.secret_key("field")  # the current key exists
        self._original = (self._dir / "field.key").read_text()

    def rotate(self, *, tell_readers: bool = True) -> None:
        """Keep the current key as ``field-old``, install a new ``field``; with ``tell_readers``,
        name the old key in ``SANJI_PREVIOUS_FIELD_KEYS`` (the processes' setting meanwhile)."""
        import base64
        import secrets

        from sanji.core import crypto

        (self._dir / f"{self.OLD}.key").write_text((self._dir / "field.key").read_text())
        (self._dir / "field.key").write_text(base64.b64encode(secrets.token_bytes(32)).decode())
        if tell_readers:
            self._settings.SANJI_PREVIOUS_FIELD_KEYS = self.OLD
        crypto.clear_cache()

    def retire_old_key(self) -> None:
        """Remove the old key and the setting: only values under the new key decrypt now."""
        from sanji.core import crypto

        (self._dir / f"{self.OLD}.key").unlink(missing_ok=True)
        self._settings.SANJI_PREVIOUS_FIELD_KEYS = ""
        crypto.clear_cache()

    def restore(self) -> None:
        from sanji.core import crypto

        (self._dir / "field.key").write_text(self._original)
        (self._dir / f"{self.OLD}.key").unlink(missing_ok=True)
        crypto.clear_cache()


@pytest.fixture
def field_key_rotation(settings: Any) -> Iterator[FieldKeyRotation]:
    rotation = FieldKeyRotation(settings)
    yield rotation
    rotation.restore()
