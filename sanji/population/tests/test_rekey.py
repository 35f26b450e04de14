"""Key rotation: rows move to the new field key, in batches, and still decrypt to the same numbers."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from sanji.core import crypto
from sanji.core.errors import Forbidden
from sanji.population import services
from sanji.population.models import Person
from sanji.population.tests.conftest import SYSTEM, WriteCsv, many_rows, officer_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def rotated_keys() -> Iterator[None]:
    key_dir = Path(settings.KEY_DIR)
    crypto.secret_key("field")  # make sure the current key exists
    current = (key_dir / "field.key").read_text()
    yield
    (key_dir / "field.key").write_text(current)
    (key_dir / "field-old.key").unlink(missing_ok=True)
    crypto.clear_cache()


def rotate() -> None:
    key_dir = Path(settings.KEY_DIR)
    (key_dir / "field-old.key").write_text((key_dir / "field.key").read_text())
    (key_dir / "field.key").write_text(base64.b64encode(secrets.token_bytes(32)).decode())
    crypto.clear_cache()


def test_rekey_moves_every_row_to_the_current_key(
    buildings, write_csv: WriteCsv, rotated_keys, capsys
) -> None:
    rows = many_rows(buildings, 30)
    rows[0]["id_number"] = rows[0]["id_number"][:6] + rows[0]["id_number"][8:17]  # a 15-digit original too
    services.population_import(actor=SYSTEM, path=write_csv(rows), workers=0)
    clear = {p.pk: crypto.decrypt(p.id_number_encrypted) for p in Person.objects.all()}
    index_before = dict(Person.objects.values_list("pk", "id_index"))
    rotate()
    with pytest.raises(ValueError, match="no key"):
        crypto.decrypt(Person.objects.all()[0].id_number_encrypted)  # old rows need the previous key
    report = services.population_rekey(actor=SYSTEM, previous=["field-old"], batch=7)
    assert (report.examined, report.reencrypted) == (30, 30)
    for person in Person.objects.all():
        assert person.id_number_encrypted.split(".")[1] == report.key_id
        assert crypto.decrypt(person.id_number_encrypted) == clear[person.pk]
    upgraded = Person.objects.exclude(id_number_original_encrypted="").get()
    assert crypto.decrypt(upgraded.id_number_original_encrypted) == rows[0]["id_number"]
    assert dict(Person.objects.values_list("pk", "id_index")) == index_before  # the blind index stays
    call_command("population", "rekey", "--previous", "field-old")
    assert "30 people examined, 0 re-encrypted" in capsys.readouterr().out


def test_only_the_platform_rekeys(places) -> None:
    with pytest.raises(Forbidden):
        services.population_rekey(actor=officer_at(places["150102"], role="system_admin"), previous=["x"])
