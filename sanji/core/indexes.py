"""Index helpers shared by the apps' models."""

from __future__ import annotations

from django.db import models


def prefix_index(field: str, name: str) -> models.Index:
    """One index on a text column that is matched whole and by prefix (``LIKE 'prefix%'``).

    On PostgreSQL, ``db_index=True`` on a text field builds two indexes: one in the database's
    collation and one with the pattern operators for prefix matching. Equality uses either, so
    where nothing sorts or ranges by the column, one index with the pattern operators serves both
    (on SQLite the operator class is ignored: a plain index). One index fewer to keep on every
    write.
    """
    return models.Index(fields=[field], name=name, opclasses=["varchar_pattern_ops"])
