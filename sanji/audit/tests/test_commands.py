import csv
import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from sanji.audit.models import Checkpoint, Entry
from sanji.audit.tests.conftest import make_trail, newest
from sanji.core import clock

pytestmark = pytest.mark.django_db


def test_purge_command(capsys):
    start = clock.now() - dt.timedelta(days=400)
    make_trail(4, start=start, step=dt.timedelta(days=1))
    make_trail(2)
    day = (start + dt.timedelta(days=10)).astimezone(clock.CITY_TZ).date().isoformat()
    call_command("audit", "purge", "--before", day)
    assert "purged 4 entries up to #4" in capsys.readouterr().out
    checkpoint = Checkpoint.objects.get()
    assert checkpoint.created_by == "sanji audit purge"
    purge_entry = Entry.objects.get(action="audit.purged")
    assert purge_entry.channel == "cli"
    assert purge_entry.actor_id is None
    call_command("audit", "verify")
    assert "checkpoint #4" in capsys.readouterr().out


def test_purge_command_refuses_recent_cutoff():
    make_trail(2)
    with pytest.raises(CommandError, match="at least 180 days"):
        call_command("audit", "purge", "--before", clock.today().isoformat())


def test_purge_command_bad_date():
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("audit", "purge", "--before", "yesterday")


def test_export_command(tmp_path, trail, capsys):
    out = tmp_path / "trail.csv"
    call_command("audit", "export", "--out", str(out))
    assert f"wrote {len(trail)} entries" in capsys.readouterr().out
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[0][0] == "seq"
    assert len(rows) == 1 + len(trail)
    assert int(rows[1][0]) == trail[0].seq  # oldest first
    exported = newest()
    assert exported.action == "audit.exported"
    assert exported.data["rows"] == len(trail)
