"""Append-only models: rows are inserted and read; the ORM refuses to change or delete them.

Used for the records that must never be rewritten: audit entries, case events, shared-read
records. This guards against mistakes in code; the guarantee against anyone with database access
is the audit hash chain (:mod:`sanji.audit.verify`). A model states its own refusal message
(``append_only_message``), naming the one sanctioned way its rows ever go, if there is one.
"""

from __future__ import annotations

from typing import Any, ClassVar, NoReturn, TypeVar

from django.db import models

M = TypeVar("M", bound=models.Model)


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete append-only rows through the ORM."""


def _refuse(model: type[models.Model]) -> NoReturn:
    message = getattr(model, "append_only_message", "rows of this model are append-only")
    raise AppendOnlyError(message)


class AppendOnlyQuerySet(models.QuerySet[M]):
    """Inserts and reads; ``update()`` and ``delete()`` are refused."""

    def update(self, **kwargs: Any) -> int:
        _refuse(self.model)

    def delete(self) -> tuple[int, dict[str, int]]:
        _refuse(self.model)


AppendOnlyManager = models.Manager.from_queryset(AppendOnlyQuerySet)


class AppendOnlyModel(models.Model):
    """A model whose instances are saved once (insert) and never saved again or deleted."""

    append_only_message: ClassVar[str] = "rows of this model are append-only"

    objects = AppendOnlyManager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            _refuse(type(self))
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        _refuse(type(self))
