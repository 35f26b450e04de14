"""Bulk import: good, bad and duplicate rows, 15 vs 18 digits, resume after a crash, reruns, formats."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import ProgrammingError

from sanji.audit.models import Entry
from sanji.core import clock, crypto, idnumber
from sanji.core.errors import Forbidden, ValidationFailed
from sanji.population import bulk, services
from sanji.population.models import Building, Household, ImportJob, ImportStatus, Person
from sanji.population.tests.conftest import HEADER, SYSTEM, WriteCsv, many_rows, officer_at, person_row

pytestmark = pytest.mark.django_db
AT = dt.datetime(2025, 6, 1, 4, 0, tzinfo=dt.UTC)


def report_rows(path: str) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_good_rows_are_stored_encrypted_with_households_and_counts(buildings, write_csv: WriteCsv) -> None:
    rows = many_rows(buildings, 40)
    with clock.frozen(AT):
        report = services.population_import(actor=SYSTEM, path=write_csv(rows), workers=0)
    assert (report.rows, report.imported, report.rejected, report.duplicates) == (40, 40, 0, 0)
    assert Person.objects.count() == 40
    person = Person.objects.get(import_line=2)
    number = rows[0]["id_number"]
    assert number not in person.id_number_encrypted
    assert crypto.decrypt(person.id_number_encrypted) == number
    assert person.id_index == crypto.blind_digest(number, purpose="person")
    assert person.id_masked == idnumber.mask(number)
    assert person.building is not None
    assert person.household is not None
    assert person.building.code == rows[0]["building_code"]
    assert person.region_path == person.building.region_path
    assert person.registered_locally
    assert person.verified
    assert person.source == "测试"
    assert person.household.members.count() == 2
    assert Household.objects.count() == 20
    assert sum(Building.objects.values_list("resident_count", flat=True)) == 40
    assert Entry.objects.filter(action="population.imported").count() == 1
    assert Path(report.report_path).exists()
    assert report_rows(report.report_path) == []
    assert "40 imported, 0 rejected" in report.summary()


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"id_number": "150102198005170011"}, "id_number", "校验码"),
        (
            {"id_number": idnumber.make("150102", dt.date(1980, 2, 1), 1)[:10] + "0230" + "0011"},
            "id_number",
            "",
        ),
        ({"id_number": idnumber.make("150102", dt.date(2031, 1, 1), 1)}, "id_number", "晚于今天"),
        ({"name": "张3"}, "name", "汉字和“·”以外的字符"),
        ({"name": "John Smith"}, "name", "汉字和“·”以外的字符"),
        ({"name": "阿拉坦··其其格"}, "name", "两部分之间"),
        ({"name": "·其其格"}, "name", "两部分之间"),
        ({"sex": "1"}, "sex", "与公民身份号码（女）不符"),  # sequence 2: a woman
        ({"ethnicity": "火星族"}, "ethnicity", "无法识别的民族"),
        ({"birth_date": "1980-05-18"}, "birth_date", "与公民身份号码不符"),
        ({"marital_status": "77"}, "marital_status", "无法识别的婚姻状况"),
        ({"registered_code": "1501"}, "registered_code", "6、9 或 12 位数字"),
        ({"registered_code": "999999"}, "registered_code", "GB/T 2260"),
        ({"registered_code": "150102999999"}, "registered_code", "不是本市的行政区划代码"),
        ({"building_code": "15010200100199999999"}, "building_code", "未知的楼栋编码"),
        ({"relation": "户长"}, "relation", "无法识别的与户主关系"),
        ({"status": "deceased"}, "status_date", "人员状态为“死亡”时须填写状态日期"),
        ({"lon": "116.40", "lat": "39.90"}, "lon", "不在本市范围内"),
        ({"lon": "abc", "lat": "40.8"}, "lon", "十进制度数"),
        ({"verified": "maybe"}, "verified", "是/否"),
        ({"source_date": "2999-01-01"}, "source_date", "晚于今天"),
    ],
)
def test_bad_rows_are_reported_with_line_and_field(
    buildings, write_csv: WriteCsv, change, field, reason
) -> None:
    good = person_row(buildings[0], seq=1)
    bad = person_row(buildings[1], seq=2, **change)
    report = services.population_import(actor=SYSTEM, path=write_csv([good, bad]), workers=0)
    assert (report.imported, report.rejected) == (1, 1)
    errors = report_rows(report.report_path)
    assert {e["line"] for e in errors} == {"3"}
    assert any(e["field"] == field and reason in e["reason"] for e in errors), errors


@pytest.mark.parametrize(
    ("sex", "seq", "accepted"),
    [
        ("1", 1, True),
        ("男", 1, True),
        ("2", 1, False),
        ("5", 1, True),  # 女性改(变)为男性: a male ID number (re-issued after the change)
        ("女性改(变)为男性", 1, True),
        ("5", 2, False),
        ("6", 2, True),  # 男性改(变)为女性: a female ID number
        ("6", 1, False),
        ("0", 1, True),  # 未知的性别: contradicts nothing
        ("9", 2, True),  # 未说明的性别
        ("7", 1, False),  # no such code
    ],
)
def test_sex_codes_of_gb_t_2261_1_are_checked_against_the_id(
    buildings, write_csv: WriteCsv, sex: str, seq: int, accepted: bool
) -> None:
    """GB/T 2261.1 codes 0, 1, 2, 5, 6 and 9: the stated code must agree with the ID number's sex
    (odd sequence: male), which is the sex the registry keeps."""
    row = person_row(buildings[0], seq=seq, sex=sex)
    report = services.population_import(actor=SYSTEM, path=write_csv([row]), workers=0)
    assert (report.imported, report.rejected) == ((1, 0) if accepted else (0, 1))
    if accepted:
        assert Person.objects.get().sex == ("1" if seq % 2 else "2")
    else:
        assert [e["field"] for e in report_rows(report.report_path)] == ["sex"]


@pytest.mark.parametrize(
    "code",
    ["110105", "110105001", "110105001001", "310115", "150102"],  # Beijing, Shanghai, a Hohhot district
)
def test_registered_residence_elsewhere_or_in_the_city_is_accepted(
    buildings, write_csv: WriteCsv, code: str
) -> None:
    """People registered anywhere in China live here: outside the city only the county code is
    checked (GB/T 2260); inside it the code must be one of the city's divisions."""
    row = person_row(buildings[0], registered_code=code)
    report = services.population_import(actor=SYSTEM, path=write_csv([row]), workers=0)
    assert (report.imported, report.rejected) == (1, 0), report_rows(report.report_path)
    assert Person.objects.get().registered_code == code


def test_normalised_inputs_are_accepted(buildings, write_csv: WriteCsv) -> None:
    number = idnumber.make("110105", dt.date(1949, 12, 31), 2)  # ends in X
    assert number.endswith("X")
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in number[:6]) + " " + number[6:-1] + "x"
    row = person_row(
        buildings[0],
        number=full_width,
        name=" 阿拉坦•其其格 ",
        sex="女",
        ethnicity="蒙古族",
        birth_date="1949/12/31",
        relation="户主",
        status="正常",
        verified="1",
    )
    report = services.population_import(actor=SYSTEM, path=write_csv([row]), workers=0)
    assert report.imported == 1, report_rows(report.report_path)
    person = Person.objects.get()
    assert person.name == "阿拉坦·其其格"
    assert (person.ethnicity, person.sex, person.relation) == ("02", "2", "02")
    assert crypto.decrypt(person.id_number_encrypted) == number


def test_duplicates_in_one_file_including_15_and_18_digit_forms(buildings, write_csv: WriteCsv) -> None:
    eighteen = idnumber.make("150102", dt.date(1970, 3, 7), 15)
    fifteen = eighteen[:6] + eighteen[8:17]
    rows = [
        person_row(buildings[0], number=eighteen, seq=15, birth=dt.date(1970, 3, 7)),
        person_row(buildings[0], number=eighteen, seq=15, birth=dt.date(1970, 3, 7)),
        person_row(buildings[0], number=fifteen, seq=15, birth=dt.date(1970, 3, 7)),
        person_row(buildings[1], seq=3),
    ]
    report = services.population_import(actor=SYSTEM, path=write_csv(rows), workers=0)
    assert (report.imported, report.rejected, report.duplicates) == (2, 2, 2)
    reasons = {e["line"]: e["reason"] for e in report_rows(report.report_path)}
    assert reasons["3"] == "重复人员：与第 2 行的公民身份号码相同"
    assert reasons["4"] == "重复人员：与第 2 行的公民身份号码相同（同一号码的 15 位与 18 位形式）"


def test_fifteen_digit_number_is_upgraded_and_original_kept(buildings, write_csv: WriteCsv) -> None:
    eighteen = idnumber.make("150102", dt.date(1970, 3, 7), 15)
    fifteen = eighteen[:6] + eighteen[8:17]
    services.population_import(
        actor=SYSTEM, path=write_csv([person_row(buildings[0], number=fifteen)]), workers=0
    )
    person = Person.objects.get()
    assert crypto.decrypt(person.id_number_encrypted) == eighteen
    assert crypto.decrypt(person.id_number_original_encrypted) == fifteen
    # A later file with the 18-digit form is the same person: reported, not stored twice.
    report = services.population_import(
        actor=SYSTEM, path=write_csv([person_row(buildings[0], number=eighteen)], name="later.csv"), workers=0
    )
    assert (report.imported, report.duplicates) == (0, 1)
    assert report_rows(report.report_path)[0]["reason"] == (
        "重复人员：已在人口库中（同一号码的 15 位与 18 位形式）"
    )
    assert Person.objects.count() == 1
    assert Building.objects.get(code=buildings[0].code).resident_count == 1


def test_rerun_of_the_same_file_adds_nothing(buildings, write_csv: WriteCsv) -> None:
    path = write_csv(many_rows(buildings, 25))
    first = services.population_import(actor=SYSTEM, path=path, workers=0)
    again = services.population_import(actor=SYSTEM, path=path, workers=0)
    assert first.imported == 25
    assert again.already_done
    assert again.imported == 25
    assert again.job_id == first.job_id
    assert Person.objects.count() == 25
    # The same rows in another file (another SHA-256) are all turned away by the blind index.
    copy = path.with_name("copy.csv")
    copy.write_bytes(path.read_bytes() + b"\n")
    third = services.population_import(actor=SYSTEM, path=copy, workers=0)
    assert (third.imported, third.duplicates) == (0, 25)
    assert Person.objects.count() == 25
    assert sum(Building.objects.values_list("resident_count", flat=True)) == 25


def test_crash_part_way_leaves_a_resumable_job(buildings, write_csv: WriteCsv) -> None:
    path = write_csv([*many_rows(buildings, 35), person_row(buildings[0], name="x")])
    bulk.CRASH_AFTER_BATCHES = 2
    with pytest.raises(bulk.SimulatedCrash):
        services.population_import(actor=SYSTEM, path=path, batch_rows=10, workers=0)
    job = ImportJob.objects.get()
    assert (job.status, job.done_batches, job.imported) == ("failed", 2, 20)
    assert Person.objects.count() == 20
    assert bulk.secondary_indexes(bulk.PERSON_TABLE)  # dropped for the load, back after the crash
    bulk.CRASH_AFTER_BATCHES = None
    report = services.population_import(actor=SYSTEM, path=path, batch_rows=50_000, workers=0)
    assert report.resumed_batches == 2
    assert (report.rows, report.imported, report.rejected, report.duplicates) == (36, 35, 1, 0)
    assert Person.objects.count() == 35
    assert sum(Building.objects.values_list("resident_count", flat=True)) == 35
    assert [e["line"] for e in report_rows(report.report_path)] == ["37"]


def test_worker_processes_give_the_same_result(buildings, write_csv: WriteCsv) -> None:
    rows = many_rows(buildings, 60)
    rows[7]["name"] = "王5"
    rows[30]["id_number"] = rows[3]["id_number"]  # a duplicate across batches
    report = services.population_import(actor=SYSTEM, path=write_csv(rows), batch_rows=20, workers=2)
    assert (report.rows, report.imported, report.rejected, report.duplicates) == (60, 58, 2, 1)
    assert {e["line"] for e in report_rows(report.report_path)} == {"9", "32"}
    assert bulk.secondary_indexes(bulk.PERSON_TABLE)


def test_gb18030_and_quoted_fields(buildings, write_csv: WriteCsv) -> None:
    rows = many_rows(buildings, 5)
    rows[1]["registered_address"] = '内蒙古呼和浩特市新城区"东风路",\n3号'
    path = write_csv(rows, name="gbk.csv", encoding="gb18030")
    report = services.population_import(actor=SYSTEM, path=path, workers=0)
    assert report.imported == 5, report_rows(report.report_path)
    assert Person.objects.get(import_line=3).registered_address == '内蒙古呼和浩特市新城区"东风路",\n3号'
    assert Person.objects.get(import_line=5).name == "李强"  # line numbers count the embedded newline


def test_chinese_headers_and_xlsx(buildings, tmp_path: Path) -> None:
    from sanji.population.records import COLUMNS

    rows = many_rows(buildings, 6)
    rows[2]["id_number"] = "123"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([title for _, title, _ in COLUMNS])
    for row in rows:
        values: list[object] = [row[key] for key in HEADER]
        values[HEADER.index("source_date")] = dt.datetime(2025, 1, 2)  # a real Excel date cell
        sheet.append(values)
    path = tmp_path / "people.xlsx"
    book.save(path)
    report = services.population_import(actor=SYSTEM, path=path, workers=0)
    assert (report.imported, report.rejected) == (5, 1)
    assert report_rows(report.report_path)[0]["line"] == "4"


def test_unusable_header_is_refused(buildings, write_csv: WriteCsv) -> None:
    path = write_csv([], header=["姓名", "血型"])
    with pytest.raises(ValidationFailed, match="缺少必填列"):
        services.population_import(actor=SYSTEM, path=path, workers=0)
    assert not ImportJob.objects.exists()


def test_officer_imports_only_within_reach(places, buildings, write_csv: WriteCsv) -> None:
    xincheng = [b for b in buildings if b.code.startswith("150102")]
    saihan = [b for b in buildings if b.code.startswith("150105")]
    officer = officer_at(places["150102"])
    rows = [person_row(xincheng[0], seq=1), person_row(saihan[0], seq=2)]
    report = services.population_import(actor=officer, path=write_csv(rows), workers=0)
    assert (report.imported, report.rejected) == (1, 1)
    assert report_rows(report.report_path)[0]["field"] == "building_code"
    with pytest.raises(Forbidden):
        services.population_import(
            actor=officer_at(places["150102"], role="window_clerk"), path=write_csv(rows), workers=0
        )


def test_command_prints_one_line_and_exit_codes(buildings, write_csv: WriteCsv, capsys) -> None:
    rows = [*many_rows(buildings, 4), person_row(buildings[0], name="")]
    call_command("population", "import", str(write_csv(rows)), "--workers", "0")
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert "5 rows, 4 imported, 1 rejected" in out[0]
    assert "error report: " in out[0]
    with pytest.raises(CommandError) as missing:
        call_command("population", "import", "/nonexistent/people.csv")
    assert missing.value.returncode == 1
    with pytest.raises(CommandError) as header:
        call_command("population", "import", str(write_csv([], name="h.csv", header=["x"])))
    assert header.value.returncode == 1


def test_shipped_template_imports(buildings) -> None:
    template = Path(services.__file__).parent / "data" / "population-import-template.csv"
    report = services.population_import(actor=SYSTEM, path=template, workers=0)
    assert (report.imported, report.rejected) == (4, 0), report_rows(report.report_path)
    assert Household.objects.get(code="150102001001000002").lon == pytest.approx(111.7601)
    assert not Person.objects.get(name="阿拉坦·其其格").registered_locally


@pytest.mark.django_db(transaction=True)
def test_sqlite_workers_hand_batches_over_in_scratch_files(
    buildings, write_csv: WriteCsv, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Outside a transaction (as in production) SQLite workers pass rows in scratch files; the
    # result is the same: resume after a crash, duplicates in the file and against the registry.
    from django.db import connection

    handed: list[str] = []
    attach = bulk.scratch_attached

    def spy(result: bulk.BatchResult) -> Any:
        handed.append(result.scratch)
        return attach(result)

    monkeypatch.setattr(bulk, "scratch_attached", spy)
    PERSON_FKS = bulk.foreign_keys(bulk.PERSON_TABLE)
    rows = many_rows(buildings, 60)
    rows[7]["name"] = "王5"
    rows[30]["id_number"] = rows[3]["id_number"]
    path = write_csv(rows)
    bulk.CRASH_AFTER_BATCHES = 1
    with pytest.raises(bulk.SimulatedCrash):
        services.population_import(actor=SYSTEM, path=path, batch_rows=20, workers=2)
    bulk.CRASH_AFTER_BATCHES = None
    assert Person.objects.count() == 19
    report = services.population_import(actor=SYSTEM, path=path, batch_rows=20, workers=2)
    assert (report.rows, report.imported, report.rejected, report.duplicates) == (60, 58, 2, 1)
    assert {e["line"] for e in report_rows(report.report_path)} == {"9", "32"}

    again = write_csv([*rows[:4], *many_rows(buildings, 2, start=500)], name="again.csv")
    second = services.population_import(actor=SYSTEM, path=again, batch_rows=20, workers=2)
    assert (second.imported, second.duplicates) == (2, 4)
    reasons = {e["reason"] for e in report_rows(second.report_path)}
    assert reasons == {"重复人员：已在人口库中"}
    assert sum(Building.objects.values_list("resident_count", flat=True)) == Person.objects.count() == 60
    assert not list((Path(settings.DATA_DIR) / "tmp").rglob("*.sqlite3"))
    assert bulk.secondary_indexes(bulk.PERSON_TABLE)
    assert all(handed) if connection.vendor == "sqlite" else not any(handed)
    assert len(handed) == 4
    if connection.vendor == "postgresql":  # foreign keys dropped for the load are back
        assert [n for n, _ in bulk.foreign_keys(bulk.PERSON_TABLE)] == [n for n, _ in PERSON_FKS]
        assert len(PERSON_FKS) == 3


class Killed(BaseException):
    """The process dying while the indexes dropped for a load are still missing."""


def test_load_killed_without_its_indexes_is_put_right_by_the_rerun(
    buildings, write_csv: WriteCsv, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A load into an empty registry runs without the secondary indexes and the unique blind
    # index: people repeated across batches get in. Killed before the indexes are back, the
    # rerun removes and reports them, rebuilds the indexes and resumes; rows after the crash
    # meet the unique index.
    rows = many_rows(buildings, 40)
    rows[13]["id_number"] = rows[3]["id_number"]  # line 15 repeats line 5 (batch 1 vs batch 0)
    eighteen = rows[6]["id_number"]
    rows[16]["id_number"] = eighteen[:6] + eighteen[8:17]  # line 18: line 8's 15-digit form
    rows[25]["id_number"] = rows[4]["id_number"]  # line 27 repeats line 6, after the crash
    path = write_csv(rows)
    unique = bulk.unique_index(bulk.PERSON_TABLE)
    foreign = bulk.foreign_keys(bulk.PERSON_TABLE)
    assert [n for n, _ in unique] == [bulk.UNIQUE_INDEX]

    def killed(saved: Any, **options: Any) -> Any:
        raise Killed

    bulk.CRASH_AFTER_BATCHES = 2
    monkeypatch.setattr(bulk, "create_indexes", killed)
    with pytest.raises(Killed):
        services.population_import(actor=SYSTEM, path=path, batch_rows=10, workers=0)
    monkeypatch.undo()
    bulk.CRASH_AFTER_BATCHES = None
    job = ImportJob.objects.get()
    assert job.saved_indexes  # what the next run must put back
    assert not bulk.secondary_indexes(bulk.PERSON_TABLE)
    assert bulk.unique_index(bulk.PERSON_TABLE) == []
    assert Person.objects.count() == 20  # the two repeated people included

    report = services.population_import(actor=SYSTEM, path=path, batch_rows=10, workers=0)
    assert report.resumed_batches == 2
    assert (report.rows, report.imported, report.rejected, report.duplicates) == (40, 37, 3, 3)
    assert {e["line"]: e["reason"] for e in report_rows(report.report_path)} == {
        "15": "重复人员：与第 5 行的公民身份号码相同",
        "18": "重复人员：与第 8 行的公民身份号码相同（同一号码的 15 位与 18 位形式）",
        "27": "重复人员：与第 6 行的公民身份号码相同",
    }
    assert Person.objects.count() == 37
    assert sum(Building.objects.values_list("resident_count", flat=True)) == 37
    # The killed load's counts were lost with it: the rerun recounted every building.
    living = Counter(Person.objects.filter(status="living").values_list("building_id", flat=True))
    assert {b.pk: b.resident_count for b in Building.objects.all()} == {
        b.pk: living.get(b.pk, 0) for b in Building.objects.all()
    }
    assert ImportJob.objects.get().saved_indexes == []
    assert bulk.secondary_indexes(bulk.PERSON_TABLE)
    assert [n for n, _ in bulk.unique_index(bulk.PERSON_TABLE)] == [n for n, _ in unique]
    assert [n for n, _ in bulk.foreign_keys(bulk.PERSON_TABLE)] == [n for n, _ in foreign]
    removed = Entry.objects.filter(action="population.import_duplicates_removed")
    assert [e.data for e in removed] == [{"removed": 2}]

    # The file again adds nothing; the same people in another file meet the unique index.
    assert services.population_import(actor=SYSTEM, path=path, workers=0).already_done
    copy = path.with_name("copy.csv")
    copy.write_bytes(path.read_bytes() + b"\n")
    third = services.population_import(actor=SYSTEM, path=copy, workers=0)
    assert (third.imported, third.duplicates) == (0, 40)
    assert Person.objects.count() == 37


@pytest.mark.django_db(transaction=True)
def test_index_build_failing_on_the_second_connection_is_put_right_by_the_rerun(
    buildings, write_csv: WriteCsv, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL, rows committed: the helper connection fails after building its indexes. The
    # import fails with nothing of the final step kept but the helper's committed indexes; the
    # rerun builds what is missing, recounts the buildings and finishes the job.
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite builds its indexes on one connection")
    build = bulk._IndexHelper._build

    def failing(helper: Any) -> None:
        helper.ddls.append("CREATE INDEX population_broken ON population_no_such_table (x)")
        build(helper)

    monkeypatch.setattr(bulk._IndexHelper, "_build", failing)
    rows = many_rows(buildings, 30)
    path = write_csv(rows)
    with pytest.raises(ProgrammingError):
        services.population_import(actor=SYSTEM, path=path, batch_rows=10, workers=0)
    monkeypatch.undo()
    job = ImportJob.objects.get()
    assert job.saved_indexes
    assert job.status == "failed"
    assert Person.objects.count() == 30  # the batches are committed
    assert bulk.unique_index(bulk.PERSON_TABLE) == []  # the first connection's work rolled back
    assert sum(Building.objects.values_list("resident_count", flat=True)) == 0
    helper_built = {name for name, _ in bulk.secondary_indexes(bulk.PERSON_TABLE)}
    assert "population_person_area" in helper_built

    report = services.population_import(actor=SYSTEM, path=path, batch_rows=10, workers=0)
    assert (report.imported, report.resumed_batches) == (30, 3)
    assert ImportJob.objects.get().saved_indexes == []
    assert bulk.unique_index(bulk.PERSON_TABLE)
    assert len(bulk.foreign_keys(bulk.PERSON_TABLE)) == 3
    assert {name for name, _ in bulk.secondary_indexes(bulk.PERSON_TABLE)} == helper_built
    assert sum(Building.objects.values_list("resident_count", flat=True)) == 30


@pytest.mark.parametrize(
    "committed",
    [False, pytest.param(True, marks=pytest.mark.django_db(transaction=True))],
    ids=["in-a-transaction", "committed"],
)
def test_duplicates_across_batches_of_a_load_without_the_unique_index(
    buildings, write_csv: WriteCsv, monkeypatch: pytest.MonkeyPatch, committed: bool
) -> None:
    # Committed (as in production), PostgreSQL builds the person table's plain indexes on a
    # second connection meanwhile; the duplicates are removed only once those builds are done.
    from django.db import connection

    helped: list[list[str]] = []
    build = bulk._IndexHelper._build

    def spy(helper: Any) -> None:
        helped.append(list(helper.ddls))
        build(helper)

    monkeypatch.setattr(bulk._IndexHelper, "_build", spy)
    rows = many_rows(buildings, 30)
    rows[12]["id_number"] = rows[2]["id_number"]  # three batches hold one number
    rows[21]["id_number"] = rows[2]["id_number"]
    report = services.population_import(actor=SYSTEM, path=write_csv(rows), batch_rows=10, workers=0)
    assert (report.rows, report.imported, report.rejected, report.duplicates) == (30, 28, 2, 2)
    reasons = {e["line"]: e["reason"] for e in report_rows(report.report_path)}
    assert reasons == {
        "14": "重复人员：与第 4 行的公民身份号码相同",
        "23": "重复人员：与第 4 行的公民身份号码相同",
    }
    assert Person.objects.filter(import_line__in=[14, 23]).count() == 0
    assert Person.objects.filter(import_line=4).count() == 1
    assert sum(Building.objects.values_list("resident_count", flat=True)) == 28
    if committed and connection.vendor == "postgresql":
        assert len(helped) == 1
        assert {ddl.split()[2] for ddl in helped[0]} == {
            "population_person_area", "population_person_building_id_7204b8e0", "population_person_household",
        }  # fmt: skip
    else:
        assert helped == []
    assert bulk.secondary_indexes(bulk.PERSON_TABLE)
    assert bulk.unique_index(bulk.PERSON_TABLE)


def test_households_met_again_in_later_batches_of_a_load(buildings, write_csv: WriteCsv) -> None:
    # A household spanning two batches, and one met again two batches later: each stored once,
    # every member linked to it (on PostgreSQL the first goes straight in, the second falls back
    # to the temporary table).
    rows = many_rows(buildings, 30)
    for later, earlier in ((10, 9), (25, 3)):
        rows[later]["household_code"] = rows[earlier]["household_code"]
        rows[later]["building_code"] = rows[earlier]["building_code"]
    report = services.population_import(actor=SYSTEM, path=write_csv(rows), batch_rows=10, workers=0)
    assert (report.imported, report.rejected) == (30, 0)
    codes = {r["household_code"] for r in rows}
    assert sorted(Household.objects.values_list("code", flat=True)) == sorted(codes)
    assert {p.household_id for p in Person.objects.all()} == codes
    assert Person.objects.filter(household_id=rows[3]["household_code"]).count() == 3
    assert sum(Building.objects.values_list("resident_count", flat=True)) == 30


def test_birthplace_must_be_the_id_number_s_address_code(buildings, write_csv: WriteCsv) -> None:
    # 出生地 is the ID number's address code: given, it must agree; every problem of the row is listed.
    good = person_row(buildings[0], seq=1, birthplace_code=buildings[0].code[:6])
    bad = person_row(buildings[1], seq=2, birthplace_code="110105")
    both = person_row(buildings[2], seq=3, birthplace_code="150105", birth_date="1980-05-18")
    report = services.population_import(actor=SYSTEM, path=write_csv([good, bad, both]), workers=0)
    assert (report.imported, report.rejected) == (1, 2)
    assert report_rows(report.report_path) == [
        {
            "line": "3",
            "field": "birthplace_code",
            "reason": f"出生地 110105 与公民身份号码的地址码 {bad['id_number'][:6]} 不符",
        },
        {"line": "4", "field": "birth_date", "reason": "出生日期 1980-05-18 与公民身份号码不符"},
        {
            "line": "4",
            "field": "birthplace_code",
            "reason": f"出生地 150105 与公民身份号码的地址码 {both['id_number'][:6]} 不符",
        },
    ]
    assert Person.objects.get().birthplace_code == good["id_number"][:6]


@pytest.mark.parametrize(
    ("address", "registered", "locally"),
    [
        ("150102", "150102001001", True),  # the community lived in
        ("150102", "150102001", True),  # its township
        ("150102", "150102", True),  # its district
        ("150105", "150102001001", True),  # an ID issued elsewhere in the city: still registered here
        ("110105", "110105", False),  # registered in Beijing (流动人口)
        ("150102", "150102001002", False),  # the neighbouring community (人户分离)
        ("150102", "150105", False),  # another district
    ],
)
def test_registered_code_is_not_checked_against_the_id_number(
    buildings, write_csv: WriteCsv, address: str, registered: str, locally: bool
) -> None:
    # The ID keeps the address where it was issued; the registered residence may have moved since.
    building = next(b for b in buildings if b.code.startswith("150102001001"))
    number = idnumber.make(address, dt.date(1980, 5, 17), 1)
    row = person_row(building, number=number, registered_code=registered)
    report = services.population_import(actor=SYSTEM, path=write_csv([row]), workers=0)
    assert (report.imported, report.rejected) == (1, 0), report_rows(report.report_path)
    person = Person.objects.get()
    assert (person.birthplace_code, person.registered_code) == (address, registered)
    assert person.registered_locally is locally


def test_source_at_is_the_row_s_collection_date_else_the_import_time(buildings, write_csv: WriteCsv) -> None:
    # Two batches: the first plain (checked column by column), the second not (a space in a cell,
    # checked row by row); both take source_at from the source_date column.
    rows = [
        person_row(buildings[0], seq=1, source_date="2024-03-15"),
        person_row(buildings[1], seq=2, source_date=""),
        person_row(buildings[2], seq=3, source_date="2024/12/31", registered_address="东风路 3号"),
        person_row(buildings[3], seq=4, source_date="", registered_address="东风路 5号"),
    ]
    with clock.frozen(AT):
        report = services.population_import(actor=SYSTEM, path=write_csv(rows), batch_rows=2, workers=0)
    assert (report.imported, report.rejected) == (4, 0), report_rows(report.report_path)
    source_at = dict(Person.objects.values_list("import_line", "source_at"))
    assert source_at == {
        2: dt.datetime(2024, 3, 15, tzinfo=dt.UTC),
        3: AT,
        4: dt.datetime(2024, 12, 31, tzinfo=dt.UTC),
        5: AT,
    }
    assert source_at[2].astimezone(clock.CITY_TZ).date() == dt.date(2024, 3, 15)  # the city's date
    assert set(Person.objects.values_list("recorded_at", flat=True)) == {AT}


def _nothing_written(settings) -> None:
    assert not ImportJob.objects.exists()
    assert not Person.objects.exists()
    assert not Household.objects.exists()
    assert not Entry.objects.filter(action__startswith="population.import").exists()
    assert not list((Path(settings.DATA_DIR) / "reports").glob("*"))


def test_undecodable_csv_is_refused_by_the_command_and_nothing_is_written(
    buildings, tmp_path: Path, settings, capsys
) -> None:
    # Excel's "Unicode text" (UTF-16 with its byte-order mark): neither UTF-8 nor GB18030.
    rows = many_rows(buildings, 3)
    text = "\n".join(",".join(line) for line in [HEADER, *([r[k] for k in HEADER] for r in rows)]) + "\n"
    path = tmp_path / "people.csv"
    path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    with pytest.raises(CommandError) as refused:
        call_command("population", "import", str(path), "--workers", "0")
    assert refused.value.returncode == 1
    assert str(refused.value) == "无法读取 people.csv：文件不是 UTF-8 或 GB18030 编码的文本（第 1 行）"
    assert capsys.readouterr().out == ""
    _nothing_written(settings)


def _workbook(rows: list[dict[str, str]]) -> bytes:
    import io

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append([row[key] for key in HEADER])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _with_part(xlsx: bytes, name: str, change: Any) -> bytes:
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.namelist():
            data = change(src.read(item)) if item == name else src.read(item)
            if data is not None:
                dst.writestr(item, data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("damage", "cause"),
    [
        (lambda xlsx: b"id_number,name\n1,2\n", "BadZipFile"),  # a CSV saved as .xlsx
        (lambda xlsx: xlsx[: len(xlsx) // 2], "BadZipFile"),  # cut short
        (lambda xlsx: _with_part(xlsx, "xl/workbook.xml", lambda data: None), "KeyError"),
        (lambda xlsx: _with_part(xlsx, "xl/worksheets/sheet1.xml", lambda data: data[:400]), "ParseError"),
    ],
    ids=["csv-named-xlsx", "truncated", "no-workbook-part", "broken-sheet-xml"],
)
def test_corrupt_xlsx_is_refused_by_the_command_and_nothing_is_written(
    buildings, tmp_path: Path, settings, capsys, damage, cause
) -> None:
    good = _workbook(many_rows(buildings, 3))
    path = tmp_path / "people.xlsx"
    path.write_bytes(good)
    assert bulk.open_source(path, 10).header == HEADER  # undamaged, it reads
    path.write_bytes(damage(good))
    with pytest.raises(CommandError) as refused:
        call_command("population", "import", str(path), "--workers", "0")
    assert refused.value.returncode == 1
    assert str(refused.value).startswith("无法读取 people.xlsx：不是可读取的 .xlsx 工作簿（")
    assert cause in str(refused.value)
    assert capsys.readouterr().out == ""
    _nothing_written(settings)


def test_a_workbook_damaged_past_its_header_is_refused_after_the_rows_before_it(
    buildings, tmp_path: Path
) -> None:
    good = _workbook(many_rows(buildings, 40))
    path = tmp_path / "people.xlsx"
    # The sheet's XML cut two thirds of the way: the header and the first rows still parse.
    path.write_bytes(_with_part(good, "xl/worksheets/sheet1.xml", lambda data: data[: len(data) * 2 // 3]))
    with pytest.raises(ValidationFailed) as refused:
        services.population_import(actor=SYSTEM, path=path, batch_rows=10, workers=0)
    message = refused.value.message
    assert message.startswith("people.xlsx 第 ")
    assert "行之后无法读取" in message
    assert "请修复文件后重新导入" in message
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.FAILED
    assert 0 < job.imported < 40
    assert Person.objects.count() == job.imported  # whole batches only: nothing half-written
    assert refused.value.details[0]["field"] == "file"


def test_big5_csv_is_refused_by_the_command_and_nothing_is_written(
    buildings, tmp_path: Path, settings, capsys
) -> None:
    """Big5 (traditional Chinese) bytes are nearly always valid GB18030 too: read so, every name would
    be imported wrong. The file is refused instead."""
    rows = many_rows(buildings, 12)
    traditional = [
        "張偉",
        "王麗華",
        "陳國強",
        "李淑芬",
        "劉德華",
        "黃志明",
        "林美玲",
        "吳建國",
        "趙雅婷",
        "周傑倫",
    ]
    for row, name in zip(rows, traditional * 2, strict=False):
        row.update(name=name, registered_address="內蒙古呼和浩特市賽罕區", source="測試")
    text = "\n".join(",".join(line) for line in [HEADER, *([r[k] for k in HEADER] for r in rows)]) + "\n"
    path = tmp_path / "people.csv"
    path.write_bytes(text.encode("big5"))
    with pytest.raises(CommandError) as refused:
        call_command("population", "import", str(path), "--workers", "0")
    assert refused.value.returncode == 1
    assert "Big5" in str(refused.value)
    assert capsys.readouterr().out == ""
    _nothing_written(settings)


def test_gb18030_with_rare_name_characters_is_not_taken_for_big5(buildings, write_csv: WriteCsv) -> None:
    rows = many_rows(buildings, 12)
    for row, name in zip(rows, ["王喆", "李堃", "张昇", "赵玥"], strict=False):  # outside GB2312
        row["name"] = name
    path = write_csv(rows, name="gb.csv", encoding="gb18030")
    report = services.population_import(actor=SYSTEM, path=path, workers=0)
    assert report.imported == 12, report_rows(report.report_path)
    assert set(Person.objects.values_list("name", flat=True)) >= {"王喆", "李堃", "张昇", "赵玥"}
