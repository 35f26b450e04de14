"""Re-encryption of a model's encrypted columns under the current key, for a key rotation.

A rotation without downtime: the operator makes a new current key, names the old one in
``SANJI_PREVIOUS_<KEY>_KEYS`` so every reader still decrypts old values (:func:`crypto.decrypt`),
and runs ``sanji rekey``, which calls each app's rekey service, which calls :func:`rekey_model`
for its tables. Rows are walked by primary key in batches; each batch is one short transaction
that locks its rows (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's writer lock), so writers
meanwhile wait at most one batch and never write back an old value over a new one. Values already
under the current key are left alone, so an interrupted run simply continues when run again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction

from sanji.core import crypto


@dataclass(frozen=True, slots=True)
class RekeyCount:
    table: str
    examined: int
    reencrypted: int


def rekey_model(
    model: type[models.Model],
    fields: Sequence[str],
    *,
    previous: tuple[str, ...],
    key: str = "field",
    batch: int = 1000,
    extra: Callable[[Any], list[str]] | None = None,
    extra_fields: Sequence[str] = (),
) -> RekeyCount:
    """Re-encrypt ``fields`` (text columns of ``crypto`` tokens, empty allowed) of every row.

    ``extra(row)`` may rewrite values held elsewhere in the row (e.g. a token inside a JSON
    column, loaded through ``extra_fields``) and answers the names of the fields it changed.
    """
    if batch < 1:
        raise ValueError("batch must be at least 1")
    crypto.clear_cache()  # the keys as they are now, not as this process first loaded them
    for name in previous:  # a misspelt name must not create a fresh (useless) key
        try:
            crypto.secret_key(name, create=False)
        except FileNotFoundError:
            raise ValueError(f"key {name!r} is neither in the environment nor in the key directory") from None
    loaded = ["pk", *fields, *extra_fields]
    last: Any = None
    examined = changed = 0
    while True:
        with transaction.atomic():
            rows = model._default_manager.select_for_update().order_by("pk").only(*loaded)
            if last is not None:
                rows = rows.filter(pk__gt=last)
            chunk = list(rows[:batch])
            if not chunk:
                break
            last = chunk[-1].pk
            examined += len(chunk)
            dirty: list[models.Model] = []
            written: set[str] = set()
            for row in chunk:
                names = []
                for name in fields:
                    token = getattr(row, name)
                    fresh = crypto.reencrypt(token, key=key, previous=previous)
                    if fresh != token:
                        setattr(row, name, fresh)
                        names.append(name)
                if extra is not None:
                    names += extra(row)
                if names:
                    dirty.append(row)
                    written.update(names)
            if dirty:
                model._default_manager.bulk_update(dirty, sorted(written))
                changed += len(dirty)
    return RekeyCount(table=model._meta.db_table, examined=examined, reencrypted=changed)
