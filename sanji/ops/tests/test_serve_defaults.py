"""``sanji serve``'s default number of worker processes follows where the database runs."""

from __future__ import annotations

import pytest
from django.conf import settings

from sanji.ops.gunicorn_config import default_workers
from sanji.ops.management.commands.serve import Command

PG = "django.db.backends.postgresql"


@pytest.mark.parametrize(
    ("database", "cores", "expected"),
    [
        # A database on this machine (SQLite, or a PostgreSQL server here): one worker per core.
        ({"ENGINE": "sanji.core.sqlite", "NAME": "/var/sanji.sqlite3"}, 2, 2),
        ({"ENGINE": "sanji.core.sqlite", "NAME": "/var/sanji.sqlite3"}, 8, 8),
        ({"ENGINE": PG, "HOST": "127.0.0.1"}, 2, 2),
        ({"ENGINE": PG, "HOST": "localhost"}, 8, 8),
        ({"ENGINE": PG, "HOST": ""}, 4, 4),
        ({"ENGINE": PG, "HOST": "/var/run/postgresql"}, 4, 4),
        # A database elsewhere leaves this machine's cores to the workers.
        ({"ENGINE": PG, "HOST": "db.gov.internal"}, 2, 4),
        # Never fewer than two, so a worker's restart never leaves the platform unserved.
        ({"ENGINE": PG, "HOST": "127.0.0.1"}, 1, 2),
        ({"ENGINE": "sanji.core.sqlite"}, 1, 2),
    ],
)
def test_default_workers(database: dict[str, str], cores: int, expected: int) -> None:
    assert default_workers(database, cores) == expected


def test_serve_defaults_to_the_databases_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SANJI_WORKERS", raising=False)
    options = Command().create_parser("sanji", "serve").parse_args([])
    assert options.workers == default_workers(settings.DATABASES["default"])
    assert options.threads == 2


def test_serve_environment_overrides_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANJI_WORKERS", "3")
    options = Command().create_parser("sanji", "serve").parse_args([])
    assert options.workers == 3
