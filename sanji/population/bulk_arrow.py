"""The batch path of the bulk import for PostgreSQL, in Apache Arrow: parse, check and format in C++.

:func:`arrow_batch` does what :func:`bulk._column_batch` does for a plain UTF-8 batch (no quotes,
no whitespace, every line 21 cells), with the same rules and the same result, which the tests pin
against the row-by-row path. Arrow's CSV reader cuts the batch into columns and its compute
functions check and map whole columns, so the per-row work left in Python is the keyed digest and
the encryption of each ID number. A value seen in many rows (a name, a code, a date) is checked
once in Python (:class:`records.FastCheck` and its caches) and the verdict is joined back.

A row that fails any check goes through :func:`records.check` on its own, which gives its errors or
its clean values (a 15-digit number, a lower-case ``x`` ...); those values are patched into the
columns. The COPY text is then one element-wise join: each row's fields with tabs, a line break
after it, and the array's data buffer is the text. Returns None (the caller takes the Python paths)
when the batch is anything else, or holds a person twice or a household in two buildings.

The cells of a batch that reaches here are Arrow strings: the CSV reader refuses a line with a
cell too many or too few and a blank line, and the batch goes the Python way.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from operator import attrgetter
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from sanji.population import bulk, records

_STRING = pa.string()
#: Every character ``str.isspace()`` (and so Python's ``\s``) takes, but the line break: a cell
#: holding one is not plain (``records.FastCheck.plain``).
_WHITESPACE = "[" + "".join(f"\\x{{{c:x}}}" for c in range(0x110000) if chr(c).isspace() and c != 10) + "]"
_HOUSEHOLD = "^[0-9A-Za-z-]{1,32}$"


class _Tables:
    """What a worker builds once: the date and building look-ups as Arrow arrays."""

    def __init__(self, fast: records.FastCheck, buildings: Mapping[str, records.PlaceRef]) -> None:
        self.fast = fast  # the worker's (bulk._init_worker): its context and caches
        self.birth_keys = pa.array(list(fast.birth_iso), _STRING)
        self.birth_values = pa.array(list(fast.birth_iso.values()), _STRING)
        self.iso_dates = pa.array(list(fast.iso), _STRING)
        codes = list(buildings)
        self.building_codes = pa.array(codes, _STRING)
        self.building_ids = pa.array([buildings[c].building_id for c in codes], pa.int64())
        self.region_paths = pa.array([buildings[c].region_path for c in codes], _STRING)
        self.communities = pa.array([buildings[c].community_code for c in codes], _STRING)


_TABLES: _Tables | None = None
_READ = pcsv.ReadOptions(column_names=list(records.KEYS), use_threads=False, block_size=1 << 28)
_PARSE = pcsv.ParseOptions(
    delimiter=",", quote_char=False, double_quote=False, escape_char=False, ignore_empty_lines=False
)
_CONVERT = pcsv.ConvertOptions(
    column_types=dict.fromkeys(records.KEYS, _STRING),
    strings_can_be_null=False,
    quoted_strings_can_be_null=False,
)


def _tables(fast: records.FastCheck, buildings: Mapping[str, records.PlaceRef]) -> _Tables:
    global _TABLES
    if _TABLES is None or _TABLES.fast is not fast:
        _TABLES = _Tables(fast, buildings)
    return _TABLES


def _mapped(column: pa.Array, verdict: Mapping[str, Any], kind: pa.DataType = _STRING) -> pa.Array:
    """``column`` through ``verdict`` (value → result, None for a bad value); null where bad."""
    keys = [k for k, v in verdict.items() if v is not None]
    return pc.take(pa.array([verdict[k] for k in keys], kind), pc.index_in(column, pa.array(keys, _STRING)))


def _per_value(column: pa.Array, judge: Any, kind: pa.DataType = _STRING) -> pa.Array:
    """``judge`` run once per distinct value of ``column`` (Python), the verdicts joined back."""
    return _mapped(column, {v: judge(v) for v in pc.unique(column).to_pylist()}, kind)


def _ok(*checks: pa.Array) -> pa.Array:
    """True where every check is true (a null counts as false)."""
    ok = checks[0]
    for check in checks[1:]:
        ok = pc.and_kleene(ok, check)
    return pc.fill_null(ok, False)


def _text(values: pa.Array) -> pa.Array:
    return pc.cast(values, _STRING)


def arrow_batch(batch: bulk.Batch, payload: bytes) -> bulk.BatchResult | None:
    setup, fast, sealer = bulk._SETUP, bulk._FAST, bulk._SEALER
    if setup is None or fast is None or sealer is None:
        raise RuntimeError("worker not initialised")
    if not fast.usable or setup.engine != "postgresql" or setup.encoding not in ("utf-8", "utf-8-sig"):
        return None
    try:
        table = pcsv.read_csv(
            io.BytesIO(payload), read_options=_READ, parse_options=_PARSE, convert_options=_CONVERT
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # a cell too many or too few, a blank line, not UTF-8
        return None
    n = table.num_rows
    if n == 0 or n != batch.rows:
        return None
    cols = {name: table.column(name).combine_chunks() for name in records.KEYS}
    for column in cols.values():
        if pc.any(pc.match_substring_regex(column, _WHITESPACE)).as_py():
            return None
    ctx = setup.context
    tables = _tables(fast, ctx.buildings)

    # ID numbers: 17 digits and the check character, a real birth date up to today, a known place.
    raw_id = cols["id_number"]
    shaped = pc.and_(pc.equal(pc.binary_length(raw_id), 18), pc.string_is_ascii(raw_id))
    numbers = pc.if_else(shaped, raw_id, "0" * 18)
    start = int(np.frombuffer(numbers.buffers()[1], dtype=np.int32)[numbers.offset])
    digits = np.frombuffer(numbers.buffers()[2], dtype=np.uint8)[start : start + 18 * n].reshape(n, 18)
    first17 = digits[:, :17].astype(np.int64) - 48
    good = ((first17 >= 0) & (first17 <= 9)).all(axis=1)
    good &= digits[:, 17] == bulk._CHECK_BYTES[(first17.clip(0, 9) @ bulk._WEIGHTS) % 11]
    birth = pc.take(
        tables.birth_values, pc.index_in(pc.utf8_slice_codeunits(numbers, 6, 14), tables.birth_keys)
    )
    address = pc.utf8_slice_codeunits(numbers, 0, 6)
    address_ok = _per_value(address, lambda c: fast.addresses.get(c) or fast._address(c) or None, pa.bool_())
    sex = pc.if_else(pa.array(digits[:, 16] & 1 == 1), "1", "2")
    checks = [shaped, pa.array(good), pc.is_valid(birth), address_ok]

    raw_name = cols["name"]
    distinct_names = pc.unique(raw_name).to_pylist()
    known = {raw: fast.names.get(raw, "") for raw in distinct_names}
    learned = fast.names_at_once([raw for raw, value in known.items() if value == ""])
    name = _mapped(raw_name, {**known, **learned})
    sex_pair = pc.binary_join_element_wise(cols["sex"], sex, "|")
    ethnicity = _mapped(cols["ethnicity"], records._ETHNICITY)
    raw_birth, raw_birthplace = cols["birth_date"], cols["birthplace_code"]
    marital = _mapped(cols["marital_status"], bulk._MARITAL_OR_DEFAULT)
    registered = cols["registered_code"]
    building = pc.index_in(cols["building_code"], tables.building_codes)
    building_id = pc.take(tables.building_ids, building)
    region_path = pc.take(tables.region_paths, building)
    community = pc.take(tables.communities, building)
    relation = _mapped(cols["relation"], records._RELATION)
    status = _mapped(cols["status"], bulk._STATUS_OR_DEFAULT)
    checks += [
        pc.is_valid(name),
        pc.is_in(sex_pair, pa.array(sorted(f"{a}|{b}" for a, b in bulk._SEX_PAIRS), _STRING)),
        pc.is_valid(ethnicity),
        pc.or_kleene(pc.equal(raw_birth, ""), pc.equal(raw_birth, birth)),
        pc.or_kleene(pc.equal(raw_birthplace, ""), pc.equal(raw_birthplace, address)),
        pc.is_valid(marital),
        _per_value(registered, lambda c: c in fast.registered or fast._registered(c) or None, pa.bool_()),
        pc.less_equal(pc.utf8_length(cols["registered_address"]), 200),
        pc.is_valid(building_id),
        _per_value(cols["unit_number"], lambda v: v in fast.short or fast._short(v) or None, pa.bool_()),
        _per_value(cols["room_number"], lambda v: v in fast.short or fast._short(v) or None, pa.bool_()),
        pc.match_substring_regex(cols["household_code"], _HOUSEHOLD),
        pc.is_valid(relation),
        pc.is_valid(status),
    ]
    raw_status_date = cols["status_date"]
    given = pc.not_equal(raw_status_date, "")
    checks.append(
        pc.if_else(
            given,
            _ok(pc.is_in(raw_status_date, tables.iso_dates), pc.greater_equal(raw_status_date, birth)),
            pc.equal(status, "living"),
        )
    )
    status_date = pc.if_else(given, raw_status_date, pa.scalar(None, _STRING))
    source = pc.if_else(pc.equal(cols["source"], ""), ctx.default_source, cols["source"])
    checks.append(pc.less_equal(pc.utf8_length(source), 40))

    def source_time(value: str) -> str | None:
        if not value:
            return setup.now_db
        day = fast.iso.get(value)
        return None if day is None else bulk._day_start(day, "postgresql")

    source_at = _per_value(cols["source_date"], source_time)
    verified = _per_value(
        cols["verified"],
        lambda v: fast.verified[v] if v in fast.verified else fast._verified(v),
        pa.bool_(),
    )
    checks += [
        pc.is_valid(source_at),
        pc.is_valid(verified),
        pc.and_(pc.equal(cols["lon"], ""), pc.equal(cols["lat"], "")),
    ]
    locally_pairs = pc.binary_join_element_wise(pc.fill_null(community, ""), registered, "|")

    def local(pair: str) -> bool:
        place, _, code = pair.partition("|")
        return place == code or (len(code) < 12 and place.startswith(code))

    locally = _per_value(locally_pairs, local, pa.bool_())

    # The rows a column check turned away: check() on their own (errors, or their clean values).
    ok = _ok(*checks)
    slow = np.flatnonzero(~ok.to_numpy(zero_copy_only=False))
    first_line = batch.first_line
    errors: list[records.RowError] = []
    keep = np.ones(n, dtype=bool)
    fixes: list[tuple[int, records.Clean]] = []
    for i in slow.tolist():
        cells = [cols[key][i].as_py() for key in records.KEYS]
        clean, row_errors = records.check(cells, first_line + i, setup.index, ctx, stripped=True)
        if clean is None:
            errors.extend(row_errors)
            keep[i] = False
        else:
            fixes.append((i, clean))
    original = pa.nulls(n, _STRING)
    lon = pa.nulls(n, pa.float64())
    lat = pa.nulls(n, pa.float64())
    columns: dict[str, pa.Array] = {  # keyed by the records.Clean field each holds
        "number": raw_id, "original": original, "name": name, "sex": sex, "ethnicity": ethnicity,
        "birth_date": birth, "birthplace_code": address, "marital_status": marital,
        "registered_code": registered, "registered_address": cols["registered_address"],
        "registered_locally": locally, "household_code": cols["household_code"], "relation": relation,
        "building_id": building_id, "region_path": region_path, "unit_number": cols["unit_number"],
        "room_number": cols["room_number"], "status": status, "status_date": status_date,
        "source": source, "source_at": source_at, "verified": verified, "lon": lon, "lat": lat,
    }  # fmt: skip
    if fixes:
        mask = np.zeros(n, dtype=bool)
        mask[[i for i, _ in fixes]] = True
        arrow_mask = pa.array(mask)
        derived: dict[str, Any] = {
            "number": lambda c: c.id.number,
            "original": lambda c: c.id.original if c.id.upgraded else None,
            "birth_date": lambda c: c.birth_date.isoformat(),
            "status_date": lambda c: c.status_date.isoformat() if c.status_date else None,
            "source_at": lambda c: (
                setup.now_db if c.source_date is None else bulk._day_start(c.source_date, "postgresql")
            ),
        }
        for key, column in columns.items():  # every other column is the Clean field of its name
            value = derived.get(key) or attrgetter(key)
            patch = pa.array([value(clean) for _, clean in fixes], column.type)
            columns[key] = pc.replace_with_mask(column, arrow_mask, patch)
    if not keep.all():
        kept = pa.array(keep)
        columns = {key: pc.filter(column, kept) for key, column in columns.items()}
    lines = pa.array(np.arange(first_line, first_line + n, dtype=np.int64)[keep])
    m = len(lines)
    if m == 0:
        return None
    numbers = columns["number"]
    household = columns["household_code"]
    # A person twice, or a household in two buildings: reported in row order by the row path.
    pairs = pc.binary_join_element_wise(household, _text(columns["building_id"]), "|")
    if (
        pc.count_distinct(numbers).as_py() != m
        or pc.count_distinct(pairs).as_py() != pc.count_distinct(household).as_py()
    ):
        return None
    errors.sort(key=lambda e: e.line)  # stable: a row's errors keep their order

    # Keyed digests and ciphertexts: the per-row work left in Python.
    number_list: list[str] = numbers.to_pylist()
    indexes = bulk._blind_all(number_list)
    encrypted = bulk._seal_all(sealer, number_list)
    originals = (
        [sealer.seal(o) if o else "" for o in columns["original"].to_pylist()]
        if columns["original"].null_count < m
        else None
    )
    digest_hex = b"".join(indexes).hex().encode()
    index_text = pa.StringArray.from_buffers(
        m, pa.py_buffer(np.arange(0, 64 * m + 1, 64, dtype=np.int32).tobytes()), pa.py_buffer(digest_hex)
    )
    masked = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(numbers, 0, 6), pc.utf8_slice_codeunits(numbers, 14, 18), "********"
    )
    status_out = columns["status"]
    living_building = pc.if_else(pc.equal(status_out, "living"), columns["building_id"], 0)
    counts = pc.value_counts(pc.filter(living_building, pc.not_equal(living_building, 0)))
    living = dict(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True))
    now_db = setup.now_db
    verified_out = columns["verified"]
    tf = pa.array(["f", "t"], _STRING)
    person = pc.binary_join_element_wise(
        pc.binary_join_element_wise("\\\\x", index_text, ""),
        pa.array(encrypted, _STRING),
        pa.array(originals, _STRING) if originals is not None else "",
        masked,
        columns["name"],
        columns["sex"],
        columns["ethnicity"],
        columns["birth_date"],
        columns["birthplace_code"],
        columns["marital_status"],
        columns["registered_code"],
        _escaped(columns["registered_address"]),
        pc.take(tf, pc.cast(columns["registered_locally"], pa.int8())),
        household,
        columns["relation"],
        _text(columns["building_id"]),
        columns["region_path"],
        status_out,
        columns["status_date"],
        _escaped(columns["source"]),
        bulk._copy_text(setup.source_ref),
        columns["source_at"],
        now_db,
        pc.take(tf, pc.cast(verified_out, pa.int8())),
        pc.if_else(verified_out, now_db, pa.scalar(None, _STRING)),
        "1",
        now_db,
        str(setup.job_id),
        pc.binary_join_element_wise(_text(lines), "\n", ""),
        "\t",
        null_handling="replace",
        null_replacement=bulk._NULL,
    )
    person_text = _data(person)
    household_text, household_order = _households(columns, now_db)
    result = bulk.BatchResult(batch.number, n, person_text, household_text, [], errors, 0, m, living)
    result.household_order = household_order
    result.packed_keys = (
        b"".join(indexes),
        lines.to_numpy(),
        pc.is_valid(columns["original"]).to_numpy(zero_copy_only=False),
        living_building.to_numpy(),
    )
    return result


def _escaped(column: pa.Array) -> pa.Array:
    """COPY text's escaping of a free-text column (only a backslash can occur: the batch has no
    tab, and no line break inside a cell)."""
    if pc.any(pc.match_substring(column, "\\")).as_py():
        return pc.replace_substring(column, "\\", "\\\\")
    return column


def _data(lines: pa.Array) -> bytes:
    """The bytes of a string array's values, one after another (each ends with its line break)."""
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)
    start, stop = offsets[lines.offset], offsets[lines.offset + len(lines)]
    data: bytes = lines.buffers()[2].slice(int(start), int(stop - start)).to_pybytes()
    return data


def _households(columns: Mapping[str, pa.Array], now_db: str) -> tuple[bytes, list[str]]:
    """The COPY text of each household where it is first met (HOUSEHOLD_COLUMNS), and the codes."""
    codes: list[str] = columns["household_code"].to_pylist()
    first = sorted(dict(zip(reversed(codes), range(len(codes) - 1, -1, -1), strict=True)).values())
    at = pa.array(first, pa.int64())
    keys = ("household_code", "building_id", "unit_number", "room_number", "region_path", "lon", "lat")
    picked: Sequence[pa.Array] = [pc.take(columns[key], at) for key in keys]
    text = pc.binary_join_element_wise(
        picked[0],
        _text(picked[1]),
        picked[2],
        picked[3],
        "family",
        picked[4],
        _text(picked[5]),
        _text(picked[6]),
        now_db + "\n",
        "\t",
        null_handling="replace",
        null_replacement=bulk._NULL,
    )
    return _data(text), [codes[i] for i in first]
