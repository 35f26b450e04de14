"""A field key rotation reaches the changes waiting for the police: one submitted before the rotation
is verified after the old key is gone, and the person it creates holds the new key only."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import call_command

from sanji.core import crypto, idnumber
from sanji.population import services
from sanji.population.models import ChangeState, Person, PersonChange
from sanji.population.tests.changes.conftest import World

pytestmark = pytest.mark.django_db

FIFTEEN = idnumber.make("110105", dt.date(1965, 6, 6), 78)
OLD_NUMBER = FIFTEEN[:6] + FIFTEEN[8:17]  # a 15-digit number: the change keeps the original too


def _move_in(world: World) -> PersonChange:
    target = world.buildings["150105001001"][2]
    return services.change_submit(
        actor=world.worker,
        kind="move_in",
        person_id=None,
        values={
            "id_number": OLD_NUMBER,
            "name": "刘洋",
            "ethnicity": "01",
            "registered_code": "110105",
            "registered_address": "北京市朝阳区",
            "household_code": "H-MI-1",
            "building_code": target.code,
            "relation": "02",
            "effective_date": "2025-05-01",
        },
    )


def _verify(world: World, change: PersonChange) -> PersonChange:
    return services.change_verify(
        actor=world.police, change_id=change.pk, expected_state=ChangeState.SUBMITTED
    )


def _all_current(tokens: list[str]) -> bool:
    return all(crypto.is_current(token) for token in tokens if token)


def test_rekey_moves_pending_changes_and_a_change_verified_later_needs_only_the_new_key(
    world: World, field_key_rotation: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    number = crypto.decrypt(world.person(0).id_number_encrypted)
    change = _move_in(world)
    assert change.values["id_original"]  # the 15-digit original, encrypted inside the values
    field_key_rotation.rotate()
    # Meanwhile readers carry on: the old values decrypt with the old key named in the setting.
    assert crypto.decrypt(world.person(0).id_number_encrypted) == number

    call_command("rekey", "--previous", field_key_rotation.OLD)
    lines = capsys.readouterr().out.splitlines()
    people = Person.objects.count()
    assert lines[0].startswith(f"people: {people} examined, {people} re-encrypted")
    assert lines[1].startswith("population changes: 1 examined, 1 re-encrypted")
    change.refresh_from_db()
    assert _all_current([change.id_number_encrypted, change.values["id_original"]])
    call_command("rekey", "--previous", field_key_rotation.OLD)  # a second run: nothing left to do
    again = capsys.readouterr().out.splitlines()
    assert len(again) == 4
    assert all(", 0 re-encrypted" in line for line in again)
    field_key_rotation.retire_old_key()

    _verify(world, change)  # decrypts the change's number: only the new key exists now
    newcomer = Person.objects.get(household_id="H-MI-1")
    assert crypto.decrypt(newcomer.id_number_encrypted) == FIFTEEN
    assert crypto.decrypt(newcomer.id_number_original_encrypted) == OLD_NUMBER
    for person in Person.objects.all():
        crypto.decrypt(person.id_number_encrypted)  # every person: no old key needed


def test_a_change_verified_during_the_rotation_writes_the_person_under_the_new_key(
    world: World, field_key_rotation: Any
) -> None:
    change = _move_in(world)
    field_key_rotation.rotate()
    _verify(world, change)  # before any rekey: the change still holds the old key's values
    newcomer = Person.objects.get(household_id="H-MI-1")
    assert _all_current([newcomer.id_number_encrypted, newcomer.id_number_original_encrypted])
    assert crypto.decrypt(newcomer.id_number_original_encrypted) == OLD_NUMBER


def test_readers_decrypt_old_values_once_the_old_key_is_named(
    world: World, field_key_rotation: Any, settings: Any
) -> None:
    number = crypto.decrypt(world.person(0).id_number_encrypted)
    field_key_rotation.rotate(tell_readers=False)
    with pytest.raises(ValueError, match="no key"):
        crypto.decrypt(world.person(0).id_number_encrypted)
    settings.SANJI_PREVIOUS_FIELD_KEYS = field_key_rotation.OLD
    assert crypto.decrypt(world.person(0).id_number_encrypted) == number
    assert services.previous_field_keys() == (field_key_rotation.OLD,)


def test_rekey_reaches_the_number_a_verified_correction_replaced(
    world: World, field_key_rotation: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    person = world.person(1)
    old = crypto.decrypt(person.id_number_encrypted)
    corrected = idnumber.make("150105", dt.date(1982, 3, 5), 47)
    change = services.change_submit(
        actor=world.worker, kind="correction", person_id=person.pk, values={"id_number": corrected}
    )
    _verify(world, change)
    field_key_rotation.rotate()
    call_command("rekey", "--previous", field_key_rotation.OLD)
    capsys.readouterr()
    field_key_rotation.retire_old_key()
    change.refresh_from_db()
    assert crypto.is_current(change.previous_id_encrypted)
    assert crypto.decrypt(change.previous_id_encrypted) == old
