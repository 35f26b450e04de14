"""Region import: the shipped file, idempotence, and every malformed case all-or-nothing."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from sanji.audit.models import Entry
from sanji.core.actors import Actor, Grant
from sanji.core.errors import Forbidden, ValidationFailed
from sanji.core.roles import Role
from sanji.orgs import divisions, services
from sanji.orgs.models import Region, RegionLevel
from sanji.orgs.tests.conftest import SMALL_CSV, SYSTEM

pytestmark = pytest.mark.django_db

HEADER = "code,name,level,parent_code\n"


def _errors(text: str) -> list[dict[str, Any]]:
    before = Region.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        services.region_import_csv(actor=SYSTEM, text=text)
    assert Region.objects.count() == before, "nothing may be half-imported"
    return list(exc.value.details)


def test_shipped_file_counts_exactly():
    started = time.perf_counter()
    result = services.region_import_path(actor=SYSTEM)
    elapsed = time.perf_counter() - started
    assert result.by_level == {"city": 1, "district": 10, "township": 99, "community": 1396}
    assert (result.created, result.updated, result.unchanged) == (1506, 0, 0)
    counts = {level: Region.objects.filter(level=level).count() for level in RegionLevel.values}
    assert counts == {"city": 1, "district": 10, "township": 99, "community": 1396}
    assert elapsed < 2.0, f"1,507 lines took {elapsed:.2f}s"


def test_shipped_file_builds_paths_from_parents():
    services.region_import_path(actor=SYSTEM)
    community = Region.objects.get(code="150105001001")
    assert community.path == "150100/150105/150105001/150105001001/"
    assert Region.objects.filter(
        code="150105001001", parent__code="150105001", parent__parent__name="赛罕区"
    ).exists()
    assert Region.objects.get(code="150100").parent is None
    assert not Region.objects.filter(level=RegionLevel.COMMUNITY, children__isnull=False).exists()


def test_reimport_changes_nothing():
    services.region_import_path(actor=SYSTEM)
    snapshot = list(
        Region.objects.order_by("code").values_list("id", "code", "name", "level", "parent_id", "path")
    )
    result = services.region_import_path(actor=SYSTEM)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 1506)
    after = list(
        Region.objects.order_by("code").values_list("id", "code", "name", "level", "parent_id", "path")
    )
    assert after == snapshot


def test_reimport_updates_changed_names_and_adds_new_rows():
    services.region_import_csv(actor=SYSTEM, text=SMALL_CSV)
    changed = (
        SMALL_CSV.replace("人民路街道", "人民路街道（更名）")
        + "150105002002,新村村委会,community,150105002\n"
    )
    result = services.region_import_csv(actor=SYSTEM, text=changed)
    assert (result.created, result.updated) == (1, 1)
    assert Region.objects.get(code="150105001").name == "人民路街道（更名）"
    assert Region.objects.get(code="150105002002").path == "150100/150105/150105002/150105002002/"


def test_children_may_be_imported_later_against_parents_in_the_database():
    services.region_import_csv(
        actor=SYSTEM, text=HEADER + "150100,呼和浩特市,city,\n150105,赛罕区,district,150100\n"
    )
    services.region_import_csv(actor=SYSTEM, text=HEADER + "150105001,人民路街道,township,150105\n")
    assert Region.objects.get(code="150105001").path == "150100/150105/150105001/"


def test_another_city_in_the_same_format():
    baotou = (
        HEADER
        + "150200,包头市,city,\n150202,东河区,district,150200\n"
        + "150202001,和平路街道,township,150202\n150202001001,某社区居委会,community,150202001\n"
    )
    services.region_import_csv(actor=SYSTEM, text=SMALL_CSV)
    result = services.region_import_csv(actor=SYSTEM, text=baotou)
    assert result.created == 4
    assert Region.objects.filter(parent__isnull=True).count() == 2
    assert Region.objects.get(code="150202001001").path.startswith("150200/")


def test_import_is_audited_with_counts():
    services.region_import_csv(actor=SYSTEM, text=SMALL_CSV)
    entry = Entry.objects.get(action="orgs.regions_imported")
    assert entry.data["created"] == 10
    assert entry.data["by_level"] == {"city": 1, "district": 2, "township": 3, "community": 4}
    assert entry.region_path == "150100/"


@pytest.mark.parametrize(
    ("row", "field", "fragment"),
    [
        ("1501050011,错误,community,150105001", "code", "12 digits"),
        ("15010500100X,错误,community,150105001", "code", "not all digits"),
        ("150105001009,错误,village,150105001", "level", "unknown level"),
        ("150105001009,,community,150105001", "name", "empty"),
        ("150105009001,孤儿社区,community,150105009", "parent_code", "unknown parent"),
        ("150105001009,挂错层级,community,150105", "parent_code", "must be a township"),
        ("150102001009,前缀不符,community,150105001", "parent_code", "does not begin"),
        ("150105001009,多一列,community,150105001,extra", "row", "4 columns"),
        ("150199,第二个市,city,150100", "parent_code", "no parent"),
        ("150105003,缺上级,township,", "parent_code", "needs a parent"),
    ],
)
def test_bad_row_is_reported_with_its_line_and_nothing_imported(row, field, fragment):
    services.region_import_csv(actor=SYSTEM, text=SMALL_CSV)
    text = SMALL_CSV + "150105002002,好的一行,community,150105002\n" + row + "\n"
    errors = _errors(text)
    assert errors == [{"line": 13, "field": field, "reason": errors[0]["reason"]}]
    assert fragment in errors[0]["reason"]
    assert not Region.objects.filter(code="150105002002").exists()


def test_all_errors_are_reported_at_once_on_an_empty_database():
    text = (
        HEADER
        + "150100,呼和浩特市,city,\n"  # line 2
        + "15010,短代码,district,150100\n"  # line 3
        + "150105,赛罕区,district,150100\n"  # line 4
        + "150105,赛罕区又一次,district,150100\n"  # line 5
        + "150105001,,township,150105\n"  # line 6
        + "150105002,上级不存在,township,150109\n"  # line 7
    )
    errors = _errors(text)
    assert [(e["line"], e["field"]) for e in errors] == [
        (3, "code"),
        (5, "code"),
        (6, "name"),
        (7, "parent_code"),
    ]
    assert "first on line 4" in errors[1]["reason"]
    assert Region.objects.count() == 0


def test_children_of_a_bad_row_are_not_blamed_twice():
    errors = _errors(
        HEADER + "150100,呼和浩特市,city,\n150105,,district,150100\n150105001,街道,township,150105\n"
    )
    assert [(e["line"], e["field"]) for e in errors] == [(3, "name")]


@pytest.mark.parametrize(
    "header",
    [
        "code,name,level\n",
        "code,name,level,parent\n",
        "编码,名称,级别,上级\n",
        "name,code,level,parent_code\n",
    ],
)
def test_wrong_header_is_refused(header):
    errors = _errors(header + "150100,呼和浩特市,city,\n")
    assert errors[0]["line"] == 1
    assert errors[0]["field"] == "header"


def test_empty_file_is_refused():
    assert _errors("")[0]["field"] == "header"


def test_stored_code_may_not_change_level_or_parent():
    services.region_import_csv(actor=SYSTEM, text=SMALL_CSV)
    errors = _errors(HEADER + "150199,另一个市,city,\n150105,赛罕区,district,150199\n150102,新城区,city,\n")
    assert [(e["line"], e["field"]) for e in errors] == [(3, "parent_code"), (4, "level")]
    assert "stored under 150100" in errors[0]["reason"]
    assert "stored as a district" in errors[1]["reason"]
    assert not Region.objects.filter(code="150199").exists()


def test_gb18030_file_imports():
    result = services.region_import_bytes(actor=SYSTEM, data=SMALL_CSV.encode("gb18030"))
    assert result.created == 10
    assert Region.objects.get(code="150105").name == "赛罕区"


def test_utf8_bom_file_imports():
    result = services.region_import_bytes(actor=SYSTEM, data=b"\xef\xbb\xbf" + SMALL_CSV.encode())
    assert result.created == 10


def test_bom_text_and_crlf_line_endings_import():
    result = services.region_import_csv(actor=SYSTEM, text="\ufeff" + SMALL_CSV.replace("\n", "\r\n"))
    assert result.created == 10


def test_gb18030_file_with_an_error_reports_the_line():
    data = (SMALL_CSV + "150105001009,,community,150105001\n").encode("gb18030")
    before = Region.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        services.region_import_bytes(actor=SYSTEM, data=data)
    assert exc.value.message == "区划文件有错误（1 处），未导入任何内容。"
    assert exc.value.details == [{"line": 12, "field": "name", "reason": "the name is empty"}]
    assert Region.objects.count() == before


def test_undecodable_bytes_are_refused():
    with pytest.raises(ValidationFailed) as exc:
        services.region_import_bytes(actor=SYSTEM, data=b"code,name\n\xff\xfe\xfd\xfc\x80\x80")
    assert exc.value.details[0]["field"] == "file"


def test_decode_prefers_utf8_and_falls_back_to_gb18030():
    assert divisions.decode("赛罕区".encode()) == "赛罕区"
    assert divisions.decode("赛罕区".encode("gb18030")) == "赛罕区"
    assert divisions.decode(b"\xef\xbb\xbfabc") == "abc"


def test_only_the_system_administrator_imports():
    clerk = Actor(user_id=5, username="clerk", grants=(Grant("window_clerk", 1, "150100/"),))
    with pytest.raises(Forbidden):
        services.region_import_csv(actor=clerk, text=SMALL_CSV)
    secadmin = Actor(user_id=6, username="sec", grants=(Grant(Role.SECURITY_ADMIN, 1, "150100/"),))
    with pytest.raises(Forbidden):
        services.region_import_csv(actor=secadmin, text=SMALL_CSV)
    anonymous_web = Actor(user_id=None, username="anonymous", channel="web")
    with pytest.raises(Forbidden):
        services.region_import_csv(actor=anonymous_web, text=SMALL_CSV)
    sysadmin = Actor(user_id=7, username="sys", grants=(Grant(Role.SYSTEM_ADMIN, 1, "150100/"),))
    assert services.region_import_csv(actor=sysadmin, text=SMALL_CSV).created == 10


def test_command_imports_and_prints_a_summary(tmp_path, capsys):
    path = tmp_path / "divisions.csv"
    path.write_bytes(SMALL_CSV.encode("gb18030"))
    call_command("orgs", "import", str(path))
    out = capsys.readouterr().out
    assert "10 created" in out
    assert Region.objects.count() == 10
    entry = Entry.objects.get(action="orgs.regions_imported")
    assert entry.channel == "cli"
    assert entry.actor_username.startswith("cli:")


def test_command_prints_line_numbered_errors_and_fails(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text(SMALL_CSV + "15010500100,短,community,150105001\n", encoding="utf-8")
    with pytest.raises(CommandError) as exc:
        call_command("orgs", "import", str(path))
    assert exc.value.returncode == 1
    err = capsys.readouterr().err
    assert f"{path}:12: code:" in err
    assert Region.objects.count() == 0


def test_command_reports_a_missing_file(tmp_path):
    with pytest.raises(CommandError) as exc:
        call_command("orgs", "import", str(tmp_path / "missing.csv"))
    assert exc.value.returncode == 1


def test_shipped_file_matches_source_note():
    note = (divisions.SHIPPED_DIVISIONS_CSV.parent / "SOURCE.md").read_text(encoding="utf-8")
    assert "National Bureau of Statistics" in note
    assert "1,396" in note
    lines = divisions.SHIPPED_DIVISIONS_CSV.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1507
