"""Person.id_index and PersonChange.id_index: the blind index as 32 raw bytes, not 64 hex characters.

The unique index on the person's blind index is the largest part of a bulk import's cost; raw
bytes halve its width and compare with memcmp (no collation), and PostgreSQL no longer keeps a
second ``varchar_pattern_ops`` index on the column. The uniqueness becomes an index of its own
(``population_person_id_index``), which a bulk load can drop and build after the rows on both
engines. The values are the same digests
(:func:`sanji.core.crypto.blind_digest`): converted in place, both ways.
"""

from typing import Any

from django.db import migrations, models

TABLES = ("population_person", "population_personchange")


def _hex_to_bytes(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            to_bytes = "decode(id_index_hex, 'hex')"
        else:  # SQLite 3.40 has no unhex(): lend it Python's for this connection
            connection.connection.create_function("sanji_unhex", 1, bytes.fromhex, deterministic=True)
            to_bytes = "sanji_unhex(id_index_hex)"
        for table in TABLES:
            cursor.execute(f"UPDATE {table} SET id_index = {to_bytes}")  # noqa: S608


def _bytes_to_hex(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    to_hex = "encode(id_index, 'hex')" if connection.vendor == "postgresql" else "lower(hex(id_index))"
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"UPDATE {table} SET id_index_hex = {to_hex}")  # noqa: S608


class Migration(migrations.Migration):
    dependencies = [
        ("population", "0002_changes"),
    ]

    operations = [
        # The hex columns step aside (no longer unique, nullable so the way back can add them empty).
        migrations.RenameField("person", "id_index", "id_index_hex"),
        migrations.AlterField("person", "id_index_hex", models.CharField(max_length=64, null=True)),
        migrations.RenameField("personchange", "id_index", "id_index_hex"),
        migrations.AddField("person", "id_index", models.BinaryField(max_length=32, null=True)),
        migrations.AddField(
            "personchange",
            "id_index",
            models.BinaryField(max_length=32, blank=True, default=b"", db_index=True),
        ),
        migrations.RunPython(_hex_to_bytes, _bytes_to_hex),
        migrations.RemoveField("person", "id_index_hex"),
        migrations.RemoveField("personchange", "id_index_hex"),
        migrations.AlterField("person", "id_index", models.BinaryField(max_length=32)),
        # Unique through an index of its own (on SQLite a UNIQUE column is part of the table and
        # cannot be dropped): a bulk load into an empty registry builds it after the rows.
        migrations.AddConstraint(
            "person", models.UniqueConstraint(models.F("id_index"), name="population_person_id_index")
        ),
    ]
