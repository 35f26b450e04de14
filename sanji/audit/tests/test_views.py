import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from sanji.audit.models import Entry
from sanji.audit.tests.conftest import make_trail, newest
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
    assert "at most 2" in response.content.decode()


def test_verify_page(auditor_client, trail):
    assert auditor_client.get(reverse("audit:verify")).status_code == 200
    response = auditor_client.post(reverse("audit:verify"))
    assert "audit chain intact" in response.content.decode()
    assert newest().action == "audit.verified"
