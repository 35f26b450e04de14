"""The change pages' form: which inputs a kind of change shows, and reading them back. No checks here:
the values go to :func:`sanji.population.services.change_submit`, which reports every problem."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sanji.population import change_values, codes
from sanji.population.models import ChangeKind, Person


@dataclass(frozen=True, slots=True)
class Input:
    key: str
    label: str
    required: bool
    kind: str  # "text" | "date" | "select" | "number"
    choices: tuple[tuple[str, str], ...] = ()
    value: str = ""
    error: str = ""
    current: str = ""  # what the registry holds now, for a change to an existing person


_CHOICES: dict[str, dict[str, str]] = {
    "ethnicity": codes.ETHNICITY,
    "marital_status": codes.MARITAL_STATUS,
    "relation": codes.RELATION,
}
_KIND_OF_INPUT = {"effective_date": "date", "lon": "number", "lat": "number"}


def kinds() -> list[tuple[str, str]]:
    return [(k.value, str(k.label)) for k in ChangeKind]


def current_values(person: Person) -> dict[str, str]:
    """What the registry holds now for the fields a change may set, as the form shows them (codes
    with their names); the ID number is not among them (the page shows it masked)."""
    values = {
        "name": person.name,
        "ethnicity": person.ethnicity,
        "marital_status": person.marital_status,
        "relation": person.relation,
        "registered_code": person.registered_code,
        "registered_address": person.registered_address,
        "household_code": person.household.code if person.household is not None else "",
        "building_code": person.building.code if person.building is not None else "",
    }
    for key, table in _CHOICES.items():
        code = values.get(key, "")
        if code:
            values[key] = f"{code} {table.get(code, '')}".strip()
    return {key: value for key, value in values.items() if value}


def inputs_for(
    kind: str,
    data: Mapping[str, str],
    errors: Mapping[str, str],
    current: Mapping[str, str] | None = None,
) -> list[Input]:
    """The inputs of a kind of change, filled with ``data`` and each with its problem, and with
    ``current``: what the registry holds now (:func:`current_values`), shown beside the input."""
    if kind not in change_values.KIND_FIELDS:
        return []
    current = current or {}
    required, optional = change_values.KIND_FIELDS[kind]
    out = []
    for key in (*required, *optional):
        table = _CHOICES.get(key)
        out.append(
            Input(
                key=key,
                label=str(change_values.LABELS.get(key, key)),
                required=key in required,
                kind="select" if table else _KIND_OF_INPUT.get(key, "text"),
                choices=tuple((code, f"{code} {name}") for code, name in table.items()) if table else (),
                value=str(data.get(key, "")),
                error=str(errors.get(key, "")),
                current=str(current.get(key, "")),
            )
        )
    return out


def values_from(kind: str, data: Mapping[str, str]) -> dict[str, str]:
    """The non-empty values of the kind's inputs in a submitted form."""
    if kind not in change_values.KIND_FIELDS:
        return {}
    required, optional = change_values.KIND_FIELDS[kind]
    return {key: data[key].strip() for key in (*required, *optional) if data.get(key, "").strip()}
