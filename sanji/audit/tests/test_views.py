import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from sanji.audit.models import Entry
from sanji.audit.tests.conftest import SAIHAN, SAIHAN_TOWN, make_trail, newest, sql
from sanji.core.roles import Role

pytestmark = pytest.mark.django_db

OTHER_ROLES = [r.value for r in Role if r != Role.SECURITY_AUDITOR]


@pytest.fixture
def auditor_client(login, make_user):
    return login(make_user("auditor", Role.SECURITY_AUDITOR))


def pages(seq: int) -> list[tuple[str, str]]:
    return [
        ("get", reverse("audit:search")),
        ("get", reverse("audit:entry_detail", args=[seq])),
        ("post", reverse("audit:export_csv")),
        ("post", reverse("audit:export_xlsx")),
        ("get", reverse("audit:verify")),
        ("post", reverse("audit:verify")),
    ]


@pytest.mark.parametrize("role", [*OTHER_ROLES, None])
def test_every_other_role_is_refused(client, login, make_user, trail, role):
    login(make_user("someone", role))
    before = Entry.objects.count()
    for method, url in pages(trail[0].seq):
        response = getattr(client, method)(url)
        assert response.status_code == 403, (role, url)
    assert Entry.objects.count() == before  # nothing exported, nothing verified


def test_anonymous_is_sent_to_login(client, trail):
    for method, url in pages(trail[0].seq):
        response = getattr(client, method)(url)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_search_lists_and_filters(auditor_client, trail):
    response = auditor_client.get(reverse("audit:search"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "cases.accepted" in content
    assert "calendar.seeded" in content
    response = auditor_client.get(reverse("audit:search"), {"username": "li", "action": "cases."})
    page = list(response.context["page_obj"])
    assert [e.seq for e in page] == [trail[6].seq, trail[2].seq]


def test_search_htmx_returns_the_results_fragment(auditor_client, trail):
    response = auditor_client.get(reverse("audit:search"), {"action": "cases."}, HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert 'id="audit-results"' in content
    assert "<html" not in content


def test_search_paginates_fifty_newest_first(auditor_client):

    make_trail(60)
    response = auditor_client.get(reverse("audit:search"))
    page = response.context["page_obj"]
    assert len(page) == 50
    assert page.has_next()
    assert page[0].seq > page[49].seq
    second = auditor_client.get(reverse("audit:search"), {"page": 2})
    assert len(second.context["page_obj"]) >= 10  # 60 + the sign-in's own entries


def test_invalid_dates_show_errors(auditor_client, trail):
    response = auditor_client.get(reverse("audit:search"), {"since": "2026-05-02", "until": "2026-05-01"})
    assert response.status_code == 200
    assert response.context["form"].errors


def test_detail_and_out_of_scope_404(client, login, make_user, trail):
    login(make_user("district-auditor", Role.SECURITY_AUDITOR, district=True))
    assert client.get(reverse("audit:entry_detail", args=[trail[0].seq])).status_code == 200  # Saihan
    assert client.get(reverse("audit:entry_detail", args=[trail[2].seq])).status_code == 404  # Xincheng
    assert client.get(reverse("audit:entry_detail", args=[trail[4].seq])).status_code == 404  # place-less
    assert client.get(reverse("audit:entry_detail", args=[10**9])).status_code == 404


def test_detail_shows_the_entry(auditor_client, trail):
    response = auditor_client.get(reverse("audit:entry_detail", args=[trail[1].seq]))
    content = response.content.decode()
    assert trail[1].hash in content
    assert "approved" in content


def test_csv_export_streams_and_is_recorded(auditor_client, trail):
    response = auditor_client.post(reverse("audit:export_csv"), {"action": "cases."})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].startswith("seq,at,actor_id")
    assert len(lines) == 1 + 4
    recorded = newest()
    assert recorded.action == "audit.exported"
    assert recorded.data == {"format": "csv", "filter": {"action": "cases."}, "rows": 4}


def test_csv_export_neutralises_formulas(auditor_client, trail):
    response = auditor_client.post(reverse("audit:export_csv"), {"action": "sharing."})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "'=cmd" not in text  # the formula sits inside the JSON column, which starts with "{"
    assert '"{""fields""' in text


def test_xlsx_export(auditor_client, trail):
    response = auditor_client.post(reverse("audit:export_xlsx"), {"username": "zhang"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "seq"
    assert len(rows) == 1 + 4
    assert newest().data["format"] == "xlsx"


def test_xlsx_export_over_the_cap_says_so(auditor_client, trail, monkeypatch):
    from sanji.audit import services

    monkeypatch.setattr(services, "XLSX_MAX_ROWS", 2)
    response = auditor_client.post(reverse("audit:export_xlsx"), {"action": "cases."}, follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("audit:search") + "?")
    assert (
        "符合条件的记录有 4 条，Excel 导出最多 2 条：请缩小检索范围，或导出 CSV。"
        in response.content.decode()
    )


def test_verify_page(auditor_client, trail):
    assert auditor_client.get(reverse("audit:verify")).status_code == 200
    n = Entry.objects.count()
    html = auditor_client.post(reverse("audit:verify")).content.decode()
    assert "日志链完整。" in html
    assert f"共校验 {n} 条记录（#1–#{n}），" in html
    assert "自创世记录起。" in html
    assert "audit chain intact" in html  # the technical line, as the CLI prints it
    assert newest().action == "audit.verified"


def test_verify_page_names_the_first_broken_entry(auditor_client, trail):
    sql("UPDATE audit_entry SET actor_username = %s WHERE seq = %s", ["mallory", trail[2].seq])
    html = auditor_client.post(reverse("audit:verify")).content.decode()
    assert "日志链已被破坏！" in html
    assert f"第 #{trail[2].seq} 条记录被修改。" in html


# --- the page names what entries hold by id and code ---------------------------------------------


@pytest.fixture
def named_trail(org):
    """Entries by people of three units (two of them windows called 民政窗口), with real codes."""
    from django.apps import apps

    from sanji.audit import services
    from sanji.core.actors import Actor

    Region = apps.get_model("orgs", "Region")
    Unit = apps.get_model("orgs", "Unit")
    saihan = Region.objects.get(code="150105")
    town = Region.objects.create(
        code="150105001", name="敕勒川路街道", level="township", parent=saihan, path=SAIHAN_TOWN
    )
    xincheng = Region.objects.create(
        code="150102", name="新城区", level="district", parent=saihan.parent, path="150100/150102/"
    )
    centre = Unit.objects.create(
        code="SC-150102",
        name="新城区市民服务中心",
        kind="service_centre",
        region=xincheng,
        region_path=xincheng.path,
    )
    windows = [
        Unit.objects.create(
            code=code,
            name="民政窗口",
            kind="window",
            region=parent.region,
            region_path=parent.region_path,
            parent=parent,
        )
        for code, parent in (("SC-150105-W-ca", org["saihan_unit"]), ("SC-150102-W-ca", centre))
    ]
    long_label = "某某某" * 60  # 180 characters
    specs = [
        (windows[0], "cases.accept", SAIHAN, "SH-2026-0001"),
        (windows[1], "cases.report_up", "150100/150102/", "XC-2026-0002"),
        (org["saihan_unit"], "population.change_submitted", town.path, long_label),
        (org["city_unit"], "accounts.role_granted", "", "wangwu"),
        (org["city_unit"], "someapp.brand_new_event", "", "x"),
    ]
    return [
        services.record(
            actor=Actor(user_id=5, username="zhang", unit_id=unit.pk, terminal_code="T-001"),
            action=action,
            region_path=path,
            target_label=label,
        )
        for unit, action, path, label in specs
    ]


def test_search_names_units_actions_and_regions(auditor_client, named_trail):
    page = auditor_client.get(reverse("audit:search")).content.decode()
    # Units: the centre a window sits in, and the code, tell the two 民政窗口 apart.
    assert "赛罕区市民服务中心 民政窗口" in page
    assert "SC-150105-W-ca" in page
    assert "新城区市民服务中心 民政窗口" in page
    assert "SC-150102-W-ca" in page
    assert f'href="?unit_id={named_trail[0].unit_id}"' in page  # a unit's name narrows the search to it
    # Actions: labelled, the code kept small beside; an unknown code shows as itself.
    assert "办件：受理" in page
    assert "办件：上报" in page
    assert "人口库：提交人口变动" in page
    assert "账号：授予角色" in page
    assert "someapp.brand_new_event" in page
    # Regions: names from the city down, the path in the tooltip.
    assert "呼和浩特市 / 赛罕区 / 敕勒川路街道" in page
    assert 'title="150100/150105/150105001/"' in page
    assert "呼和浩特市 / 新城区" in page


def test_long_values_are_clipped_with_the_whole_value_at_hand(auditor_client, named_trail):
    page = auditor_client.get(reverse("audit:search")).content.decode()
    # Who and the terminal are shown whole (two people may differ only at the end of their names).
    assert '<td class="audit-who">zhang</td>' in page
    assert '<td class="audit-terminal mono">T-001</td>' in page
    long_label = named_trail[2].target_label
    assert f'<span class="clip2" title="{long_label}">{long_label}</span>' in page
    assert '<table class="audit-table">' in page
    assert "<colgroup>" in page
    detail = auditor_client.get(reverse("audit:entry_detail", args=[named_trail[2].seq])).content.decode()
    assert long_label in detail
    assert "赛罕区市民服务中心" in detail
    assert "人口库：提交人口变动" in detail
    assert "呼和浩特市 / 赛罕区 / 敕勒川路街道" in detail


def test_filters_still_work_by_unit_and_by_action_label(auditor_client, named_trail):
    by_unit = auditor_client.get(reverse("audit:search"), {"unit_id": named_trail[1].unit_id})
    assert [e.seq for e in by_unit.context["page_obj"]] == [named_trail[1].seq]
    assert "单位：新城区市民服务中心 民政窗口" in by_unit.content.decode()
    # By the unit's code, as the auditor knows it (or the chooser's label ending in it).
    for typed in ("SC-150102-W-ca", " 新城区市民服务中心 民政窗口 · 新城区 · SC-150102-W-ca "):
        by_code = auditor_client.get(reverse("audit:search"), {"unit_id": typed})
        assert [e.seq for e in by_code.context["page_obj"]] == [named_trail[1].seq]
    unknown = auditor_client.get(reverse("audit:search"), {"unit_id": "NO-SUCH-UNIT"})
    assert "没有编码为 NO-SUCH-UNIT 的单位：请输入单位编码" in unknown.content.decode()
    assert list(unknown.context["page_obj"]) == []  # not the whole trail under an error
    assert "检索条件有误，未检索" in unknown.content.decode()
    by_label = auditor_client.get(reverse("audit:search"), {"action": "办件：受理"})
    assert [e.seq for e in by_label.context["page_obj"]] == [named_trail[0].seq]
    by_short_label = auditor_client.get(reverse("audit:search"), {"action": "上报"})
    assert [e.seq for e in by_short_label.context["page_obj"]] == [named_trail[1].seq]
    by_prefix = auditor_client.get(reverse("audit:search"), {"action": "cases."})
    assert len(by_prefix.context["page_obj"]) == 2
    listed = by_prefix.content.decode()
    assert '<datalist id="audit-actions">' in listed
    assert '<option value="cases.accept">办件：受理</option>' in listed


def test_naming_a_page_takes_the_same_queries_for_few_or_many_rows(auditor_client, named_trail, org):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from sanji.audit import services
    from sanji.core.actors import Actor

    def page_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert auditor_client.get(reverse("audit:search")).status_code == 200
        return len(queries)

    few = page_queries()
    Unit = type(org["city_unit"])
    region = org["saihan_unit"].region
    for i in range(40):  # forty more units, each with an entry
        unit = Unit.objects.create(
            code=f"U-{i}", name=f"单位{i}", kind="window", region=region, region_path=region.path
        )
        services.record(actor=Actor(user_id=5, username="zhang", unit_id=unit.pk), action="cases.accept")
    assert page_queries() == few
