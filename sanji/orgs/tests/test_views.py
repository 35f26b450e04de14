"""Organisation pages: who sees what, and what the forms do."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from sanji.core.roles import Role
from sanji.orgs.models import Region, Terminal, Unit
from sanji.orgs.tests.conftest import SMALL_CSV

pytestmark = pytest.mark.django_db


def _unit(code: str) -> Unit:
    return Unit.objects.get(code=code)


# --- refusals ---------------------------------------------------------------------------------


ORG_PAGES = [
    ("orgs:tree", {}),
    ("orgs:region", {"code": "150105"}),
    ("orgs:region_children", {"code": "150105"}),
]


@pytest.mark.parametrize(("name", "kwargs"), ORG_PAGES)
def test_anonymous_is_sent_to_log_in(small_org, client, name, kwargs):
    response = client.get(reverse(name, kwargs=kwargs))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


@pytest.mark.parametrize(
    "role", [Role.WINDOW_CLERK, Role.SUPERVISOR, Role.SECURITY_AUDITOR, Role.ANALYST, Role.APPLICANT, None]
)
@pytest.mark.parametrize(("name", "kwargs"), ORG_PAGES)
def test_other_roles_may_not_browse_the_organisation(small_org, client, login_as, role, name, kwargs):
    login_as(role, "150100-GSC-W-civil_affairs")
    assert client.get(reverse(name, kwargs=kwargs)).status_code == 403


@pytest.mark.parametrize("role", [Role.WINDOW_CLERK, Role.SUPERVISOR, Role.SECURITY_AUDITOR, None])
def test_other_roles_may_not_see_a_unit(small_org, client, login_as, role):
    login_as(role, "150100-GSC-W-civil_affairs")
    assert client.get(reverse("orgs:unit", kwargs={"pk": _unit("150100-GSC").pk})).status_code == 403


@pytest.mark.parametrize("role", [Role.SYSTEM_ADMIN, Role.SECURITY_AUDITOR, Role.WINDOW_CLERK, None])
def test_only_the_security_admin_manages_terminals(small_org, client, login_as, role):
    login_as(role)
    assert client.get(reverse("orgs:terminal_list")).status_code == 403
    assert client.get(reverse("orgs:terminal_register")).status_code == 403
    response = client.post(reverse("orgs:terminal_register"), {"unit": "150100-GSC", "name": "x"})
    assert response.status_code == 403
    assert not Terminal.objects.exists()


@pytest.mark.parametrize("role", [Role.SECURITY_ADMIN, Role.SECURITY_AUDITOR, Role.WINDOW_CLERK, None])
def test_only_the_system_admin_imports_regions(small_org, client, login_as, role):
    login_as(role)
    assert client.get(reverse("orgs:region_import")).status_code == 403
    upload = SimpleUploadedFile("d.csv", SMALL_CSV.replace("赛罕区", "改名区").encode())
    assert client.post(reverse("orgs:region_import"), {"file": upload}).status_code == 403
    assert Region.objects.get(code="150105").name == "赛罕区"


def test_security_admin_may_not_edit_units(small_org, client, login_as):
    login_as(Role.SECURITY_ADMIN)
    unit = _unit("150105-CSC")
    assert client.post(reverse("orgs:unit_rename", kwargs={"pk": unit.pk}), {"name": "x"}).status_code == 403
    assert client.post(reverse("orgs:unit_deactivate", kwargs={"pk": unit.pk})).status_code == 403
    response = client.post(reverse("orgs:unit_add_window", kwargs={"pk": unit.pk}), {"name": "x"})
    assert response.status_code == 403
    unit.refresh_from_db()
    assert (unit.name, unit.active) == ("赛罕区市民服务中心", True)


def test_out_of_reach_unit_is_not_found(small_org, client, login_as):
    login_as(Role.SYSTEM_ADMIN, "150102-CSC")
    unit = _unit("150105-CSC")
    assert client.get(reverse("orgs:unit", kwargs={"pk": unit.pk})).status_code == 404
    assert client.post(reverse("orgs:unit_rename", kwargs={"pk": unit.pk}), {"name": "x"}).status_code == 404
    assert client.post(reverse("orgs:unit_deactivate", kwargs={"pk": unit.pk})).status_code == 404
    assert _unit("150105-CSC").active


def test_out_of_reach_terminal_is_not_found(small_org, client, login_as):
    from sanji.orgs import services
    from sanji.orgs.tests.conftest import actor_with

    terminal, _ = services.terminal_register(
        actor=actor_with(Role.SECURITY_ADMIN, "150100-OPS"), unit=_unit("150105-CSC"), name="a"
    )
    login_as(Role.SECURITY_ADMIN, "150102-CSC")
    assert client.post(reverse("orgs:terminal_rekey", kwargs={"pk": terminal.pk})).status_code == 404
    assert client.post(reverse("orgs:terminal_deactivate", kwargs={"pk": terminal.pk})).status_code == 404
    assert terminal.code not in client.get(reverse("orgs:terminal_list")).content.decode()
    response = client.post(reverse("orgs:terminal_register"), {"unit": "150105-CSC", "name": "x"})
    assert response.status_code == 200
    assert "找不到该单位" in response.content.decode()
    assert Terminal.objects.count() == 1


# --- the tree ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN])
def test_admins_browse_the_tree(small_org, client, login_as, role):
    login_as(role)
    page = client.get(reverse("orgs:tree")).content.decode()
    assert "呼和浩特市" in page
    assert reverse("orgs:region_children", kwargs={"code": "150100"}) in page
    fragment = client.get(reverse("orgs:region_children", kwargs={"code": "150105"})).content.decode()
    assert "人民路街道" in fragment
    assert "大学东路街道" in fragment
    assert "<html" not in fragment
    region = client.get(reverse("orgs:region", kwargs={"code": "150105"})).content.decode()
    assert "赛罕区市民服务中心" in region
    assert "赛罕区民政局" in region
    assert "民政窗口" in region
    community = client.get(reverse("orgs:region", kwargs={"code": "150105001002"})).content.decode()
    assert "太平庄村便民服务站" in community


def test_district_admin_tree_starts_at_the_district(small_org, client, login_as):
    login_as(Role.SECURITY_ADMIN, "150105-CSC")
    page = client.get(reverse("orgs:tree")).content.decode()
    assert "赛罕区" in page
    assert "新城区" not in page
    city = client.get(reverse("orgs:region", kwargs={"code": "150100"})).content.decode()
    assert "呼和浩特市政务服务中心" not in city  # units outside the reach are not listed


def test_unknown_region_is_not_found(small_org, client, login_as):
    login_as(Role.SYSTEM_ADMIN)
    assert client.get(reverse("orgs:region", kwargs={"code": "999999"})).status_code == 404
    assert client.get(reverse("orgs:region_children", kwargs={"code": "999999"})).status_code == 404


# --- units ------------------------------------------------------------------------------------


def test_system_admin_renames_adds_a_window_and_deactivates(small_org, client, login_as):
    login_as(Role.SYSTEM_ADMIN)
    centre = _unit("150105-CSC")
    page = client.get(reverse("orgs:unit", kwargs={"pk": centre.pk})).content.decode()
    assert reverse("orgs:unit_rename", kwargs={"pk": centre.pk}) in page
    assert "民政窗口" in page

    response = client.post(
        reverse("orgs:unit_rename", kwargs={"pk": centre.pk}), {"name": "赛罕区政务服务中心"}
    )
    assert response.status_code == 302
    assert _unit("150105-CSC").name == "赛罕区政务服务中心"

    civil = centre.region.departments.get(kind="civil_affairs")
    response = client.post(
        reverse("orgs:unit_add_window", kwargs={"pk": centre.pk}),
        {"name": "民政窗口二", "department": civil.pk},
    )
    assert response.status_code == 302
    assert _unit("150105-CSC-W-civil_affairs-2").name == "民政窗口二"

    response = client.post(reverse("orgs:unit_deactivate", kwargs={"pk": centre.pk}))
    assert response.status_code == 302
    assert not _unit("150105-CSC").active
    assert not _unit("150105-CSC-W-civil_affairs-2").active


def test_rename_with_an_empty_name_shows_the_form_again(small_org, client, login_as):
    login_as(Role.SYSTEM_ADMIN)
    centre = _unit("150105-CSC")
    response = client.post(reverse("orgs:unit_rename", kwargs={"pk": centre.pk}), {"name": ""})
    assert response.status_code == 200
    assert _unit("150105-CSC").name == "赛罕区市民服务中心"


def test_security_admin_sees_units_without_edit_forms(small_org, client, login_as):
    login_as(Role.SECURITY_ADMIN)
    centre = _unit("150105-CSC")
    page = client.get(reverse("orgs:unit", kwargs={"pk": centre.pk})).content.decode()
    assert reverse("orgs:unit_rename", kwargs={"pk": centre.pk}) not in page
    assert reverse("orgs:terminal_register") + "?unit=150105-CSC" in page


# --- region import ----------------------------------------------------------------------------


def test_import_page_shows_line_numbered_errors_and_imports_nothing(small_org, client, login_as):
    login_as(Role.SYSTEM_ADMIN)
    before = Region.objects.count()
    bad = SMALL_CSV.replace("赛罕区", "赛罕区（新）") + "15010500100,短,community,150105001\n"
    response = client.post(reverse("orgs:region_import"), {"file": SimpleUploadedFile("d.csv", bad.encode())})
    assert response.status_code == 200
    page = response.content.decode()
    assert '<td class="mono">12</td>' in page
    assert "12 digits" in page
    assert Region.objects.count() == before
    assert Region.objects.get(code="150105").name == "赛罕区"


def test_import_page_imports_a_gb18030_file(small_org, client, login_as):
    login_as(Role.SYSTEM_ADMIN)
    text = SMALL_CSV + "150105002002,新村村委会,community,150105002\n"
    upload = SimpleUploadedFile("d.csv", text.encode("gb18030"))
    response = client.post(reverse("orgs:region_import"), {"file": upload})
    assert response.status_code == 302
    assert Region.objects.get(code="150105002002").name == "新村村委会"


# --- terminals --------------------------------------------------------------------------------


def test_register_shows_the_enrolment_code_once(small_org, client, login_as):
    login_as(Role.SECURITY_ADMIN, "150105-CSC")
    form = client.get(reverse("orgs:terminal_register") + "?unit=150105-CSC-W-civil_affairs").content.decode()
    assert 'value="150105-CSC-W-civil_affairs"' in form
    response = client.post(
        reverse("orgs:terminal_register"),
        {"unit": "150105-CSC-W-civil_affairs", "name": "民政窗口1号机", "ip_address": "10.1.2.3"},
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    terminal = Terminal.objects.get()
    page = response.content.decode()
    assert f"{terminal.code}:" in page
    listing = client.get(reverse("orgs:terminal_list")).content.decode()
    assert terminal.code in listing
    assert f"{terminal.code}:" not in listing
    assert terminal.ip_address == "10.1.2.3"


def test_a_registration_form_sent_twice_registers_one_terminal(small_org, client, login_as):
    """Reloading the page that shows the enrolment code sends the form again: it leads to the
    terminal in the list, registers nothing and shows no code."""
    import re

    login_as(Role.SECURITY_ADMIN, "150105-CSC")
    form = client.get(reverse("orgs:terminal_register")).content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', form)
    assert token is not None
    sent = {"unit": "150105-CSC-W-civil_affairs", "name": "民政窗口1号机", "form_token": token.group(1)}
    assert client.post(reverse("orgs:terminal_register"), sent).status_code == 200
    terminal = Terminal.objects.get()
    again = client.post(reverse("orgs:terminal_register"), sent, follow=True)
    assert Terminal.objects.count() == 1
    assert again.redirect_chain == [(f"{reverse('orgs:terminal_list')}?q={terminal.code}", 302)]
    page = again.content.decode()
    assert f"终端 {terminal.code} 已登记，未再登记" in page
    assert f"{terminal.code}:" not in page  # the enrolment code is not shown again
    # The list names the window with its centre and district (every district has a 民政窗口).
    row = re.search(r'<td class="terminal-unit">(.*?)</td>', page, re.S)
    assert row is not None
    assert "赛罕区市民服务中心 民政窗口" in row.group(1)
    assert "赛罕区" in row.group(1).split("</a>")[1]
    # A new form (new token) registers a second terminal.
    fresh = re.search(
        r'name="form_token" value="([^"]+)"', client.get(reverse("orgs:terminal_register")).content.decode()
    )
    assert fresh is not None
    assert fresh.group(1) != token.group(1)
    client.post(
        reverse("orgs:terminal_register"), {**sent, "name": "民政窗口2号机", "form_token": fresh.group(1)}
    )
    assert Terminal.objects.count() == 2


def test_register_form_offers_units_by_name_region_and_code(small_org, client, login_as):
    login_as(Role.SECURITY_ADMIN, "150105-CSC")
    form = client.get(reverse("orgs:terminal_register")).content.decode()
    assert 'list="terminal-unit-choices"' in form
    assert '<datalist id="terminal-unit-choices">' in form
    found = client.get(reverse("orgs:unit_choices"), {"unit": "民政窗口"}).content.decode()
    assert "赛罕区市民服务中心 民政窗口 · 赛罕区 · 150105-CSC-W-civil_affairs" in found
    assert "150102" not in found  # another district: out of this administrator's reach
    label = "赛罕区市民服务中心 民政窗口 · 赛罕区 · 150105-CSC-W-civil_affairs"
    response = client.post(reverse("orgs:terminal_register"), {"unit": label, "name": "民政窗口2号机"})
    assert response.status_code == 200
    assert Terminal.objects.get().unit.code == "150105-CSC-W-civil_affairs"


def test_register_form_errors(small_org, client, login_as):
    login_as(Role.SECURITY_ADMIN)
    response = client.post(reverse("orgs:terminal_register"), {"unit": "150105-CSC", "name": ""})
    assert response.status_code == 200
    response = client.post(reverse("orgs:terminal_register"), {"unit": "no-such-unit", "name": "x"})
    assert "找不到该单位" in response.content.decode()
    assert not Terminal.objects.exists()


def test_rekey_and_deactivate_pages(small_org, client, login_as):
    login_as(Role.SECURITY_ADMIN)
    client.post(reverse("orgs:terminal_register"), {"unit": "150105-CSC", "name": "x"})
    terminal = Terminal.objects.get()
    old_hash = terminal.secret_hash
    response = client.post(reverse("orgs:terminal_rekey", kwargs={"pk": terminal.pk}))
    assert response.status_code == 200
    assert f"{terminal.code}:" in response.content.decode()
    terminal.refresh_from_db()
    assert terminal.secret_hash != old_hash
    response = client.post(reverse("orgs:terminal_deactivate", kwargs={"pk": terminal.pk}))
    assert response.status_code == 302
    terminal.refresh_from_db()
    assert not terminal.active


def test_terminal_pages_refuse_get_for_actions(small_org, client, login_as):
    login_as(Role.SECURITY_ADMIN)
    client.post(reverse("orgs:terminal_register"), {"unit": "150105-CSC", "name": "x"})
    terminal = Terminal.objects.get()
    assert client.get(reverse("orgs:terminal_rekey", kwargs={"pk": terminal.pk})).status_code == 405
    assert client.get(reverse("orgs:terminal_deactivate", kwargs={"pk": terminal.pk})).status_code == 405
