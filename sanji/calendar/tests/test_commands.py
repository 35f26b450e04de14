"""``sanji workdays``: output and exit status, in-process and as a real process."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from sanji.calendar import services
from sanji.calendar.models import CalendarYear
from sanji.core.actors import Actor


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("workdays", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_add_and_count(cli: Actor) -> None:
    services.calendar_seed_from_chinesecalendar(actor=cli, years=[2026])
    assert run("add", "2026-02-13", "5") == "2026-02-27\n"
    assert run("add", "2026-02-13", "0") == "2026-02-13\n"
    assert run("count", "2026-02-13", "2026-02-27") == "5\n"


@pytest.mark.django_db
def test_missing_year_is_status_3(cli: Actor) -> None:
    services.calendar_seed_from_chinesecalendar(actor=cli, years=[2026])
    with pytest.raises(CommandError) as caught:
        run("add", "2026-12-28", "5")
    assert caught.value.returncode == 3
    assert str(caught.value) == "calendar for 2027 not configured"


@pytest.mark.django_db
@pytest.mark.parametrize("args", [("add", "2026-02-30", "5"), ("count", "2026-02-13", "13.2.2026")])
def test_malformed_date_is_status_2(args: tuple[str, ...]) -> None:
    with pytest.raises(CommandError) as caught:
        run(*args)
    assert caught.value.returncode == 2
    assert "not a date (YYYY-MM-DD)" in str(caught.value)


@pytest.mark.django_db
def test_seed_reports_and_is_idempotent() -> None:
    assert run("seed", "--years", "2025", "2026") == "created: 2025, 2026\n"
    assert run("seed", "--years", "2025", "2026") == "unchanged: 2025, 2026\n"
    assert CalendarYear.objects.count() == 2


@pytest.mark.django_db
def test_seed_of_an_uncovered_year_fails_cleanly() -> None:
    with pytest.raises(CommandError, match="2030 is not covered") as caught:
        run("seed", "--years", "2030")
    assert caught.value.returncode == 1


def test_exit_statuses_of_the_real_command(tmp_path: Path) -> None:
    # A real process on its own throw-away SQLite database, so the exit status is the one a shell sees.
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"SANJI_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "sanji.settings"}

    def sanji(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "sanji.cli", *args], env=env, capture_output=True, text=True, timeout=120
        )

    for app in ("audit", "calendar"):
        assert sanji("migrate", app, "-v0").returncode == 0
    assert sanji("workdays", "seed", "--years", "2026").returncode == 0

    done = sanji("workdays", "add", "2026-02-13", "5")
    assert (done.returncode, done.stdout) == (0, "2026-02-27\n")

    missing = sanji("workdays", "add", "2026-12-28", "5")
    assert missing.returncode == 3
    assert missing.stdout == ""
    assert "calendar for 2027 not configured" in missing.stderr

    malformed = sanji("workdays", "add", "2026-02-30", "5")
    assert malformed.returncode == 2
    assert "not a date" in malformed.stderr
