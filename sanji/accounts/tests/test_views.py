import datetime as dt
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from sanji.accounts import selectors, services
from sanji.accounts.models import ApiToken, RoleAssignment, User
from sanji.accounts.terminals import COOKIE_NAME, COOKIE_SALT
from sanji.accounts.testing import enrol_totp, sign_in, totp_code
from sanji.audit.models import Entry
from sanji.core import clock

from .conftest import PASSWORD, last_entry

LOGIN = "/accounts/login/"
HOME = "/"


def post_login(client: Client, username: str, password: str = PASSWORD, code: str = "", **extra: Any) -> Any:
    data = {"username": username, "password": password}
    if code:
        data["enrolment_code"] = code
    return client.post(LOGIN, data, **extra)


def last(action: str) -> Entry:
    return last_entry(action)


# --- login page -------------------------------------------------------------------------------------


def test_login_page_shows_the_enrolment_field_without_a_terminal(client, db):
    page = client.get(LOGIN)
    assert page.status_code == 200
    assert b'name="enrolment_code"' in page.content


def test_applicant_logs_in(client, make_user):
    make_user("citizen", ("applicant", "city"))
    response = post_login(client, "citizen")
    assert response.status_code == 302
    assert response["Location"] == HOME
    assert client.get(HOME).status_code == 200
    assert last("accounts.login_succeeded").actor_username == "citizen"


def test_wrong_password_and_unknown_user_look_the_same(client, make_user):
    make_user("real", ("applicant", "city"))
    wrong = post_login(client, "real", "Wrong#Password1")
    unknown = post_login(client, "nobody-here", "Wrong#Password1")
    assert wrong.status_code == unknown.status_code == 200
    assert "用户名或密码错误" in wrong.content.decode()
    assert "用户名或密码错误" in unknown.content.decode()


def test_locked_message_says_until_when(client, make_user):
    make_user("locky", ("applicant", "city"))
    at = dt.datetime(2025, 3, 3, 1, 0, tzinfo=dt.UTC)
    with clock.frozen(at):
        for _ in range(5):
            response = post_login(client, "locky", "Wrong#Password1")
        assert "09:15" in response.content.decode()  # Hohhot time
        assert "09:15" in post_login(client, "locky").content.decode()


def test_staff_enrol_the_browser_with_the_code_then_use_the_cookie(make_user, terminals):
    make_user("clerk", ("window_clerk", "saihan"))
    browser = Client()
    refused = post_login(browser, "clerk")
    assert "终端登记码" in refused.content.decode()
    assert last("accounts.terminal_refused").data["reason"] == "terminal_required"

    ok = post_login(browser, "clerk", code="T-SH-01:saihan-secret")
    assert ok.status_code == 302
    cookie = ok.cookies[COOKIE_NAME]
    assert cookie["httponly"]
    assert "saihan-secret" not in cookie.value
    assert browser.session["terminal_id"] == terminals["saihan"].pk
    home = browser.get(HOME)
    assert home.status_code == 200
    assert b"T-SH-01" in home.content  # the header shows the terminal
    assert last("accounts.login_succeeded").terminal == "T-SH-01"

    browser.post("/accounts/logout/")
    assert last("accounts.logged_out").data == {"reason": "logout"}
    page = browser.get(LOGIN)
    assert b'name="enrolment_code"' not in page.content  # enrolled: no field
    again = post_login(browser, "clerk")
    assert again.status_code == 302


def test_tampered_terminal_cookie_is_refused_and_audited(make_user, terminals):
    make_user("clerk", ("window_clerk", "saihan"))
    browser = Client()
    post_login(browser, "clerk", code="T-SH-01:saihan-secret")
    browser.post("/accounts/logout/")
    good = browser.cookies[COOKIE_NAME].value
    browser.cookies[COOKIE_NAME] = good[:-3] + ("aaa" if not good.endswith("aaa") else "bbb")
    response = post_login(browser, "clerk")
    assert response.status_code == 200
    assert "终端凭据无效" in response.content.decode()
    assert last("accounts.terminal_refused").data["reason"] == "cookie_invalid"
    assert response.cookies[COOKIE_NAME].value == ""  # cleared
    assert "_auth_user_id" not in browser.session


def test_forged_cookie_for_another_terminal_is_refused(make_user, terminals):
    from django.core import signing

    make_user("clerk", ("window_clerk", "saihan"))
    browser = Client()
    browser.cookies[COOKIE_NAME] = signing.dumps(
        {"t": terminals["saihan"].pk, "b": "0" * 64}, salt=COOKIE_SALT
    )
    assert "终端凭据无效" in post_login(browser, "clerk").content.decode()


def test_rekeyed_terminal_invalidates_cookie_and_session(make_user, terminals):
    make_user("clerk", ("window_clerk", "saihan"))
    browser = Client()
    post_login(browser, "clerk", code="T-SH-01:saihan-secret")
    assert browser.get(HOME).status_code == 200
    terminal = terminals["saihan"]
    terminal.secret_hash = "f" * 64  # re-keyed by the security administrator
    terminal.save()
    response = browser.get(HOME)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert last("accounts.logged_out").data == {"reason": "terminal_invalid"}
    assert "终端凭据无效" in post_login(browser, "clerk").content.decode()


def test_wrong_code_refused(make_user, terminals):
    make_user("clerk", ("window_clerk", "saihan"))
    response = post_login(Client(), "clerk", code="T-SH-01:not-the-secret")
    assert "终端登记码无效" in response.content.decode()
    assert last("accounts.terminal_refused").data["reason"] == "code_invalid"


def test_enrolling_another_units_terminal_is_refused(make_user, terminals):
    make_user("clerk", ("window_clerk", "saihan"))
    browser = Client()
    response = post_login(browser, "clerk", code="T-XC-01:xincheng-secret")
    body = response.content.decode()
    assert response.status_code == 200
    assert "此终端（T-XC-01）登记在“新城区市民服务中心”" in body
    assert "只有在该单位（或其下属窗口、站点）任职的工作人员可以在此登录" in body
    assert COOKIE_NAME not in response.cookies  # a refused login enrols nothing
    assert "_auth_user_id" not in browser.session
    assert last("accounts.terminal_refused").data == {
        "reason": "terminal_other_unit",
        "terminal": "T-XC-01",
        "terminal_unit": "SC-150102",
    }


def test_an_enrolled_workstation_serves_only_its_units_staff(make_user, windows):
    make_user("caclerk", ("window_clerk", "saihan_ca"))
    make_user("psclerk", ("window_clerk", "saihan_ps"))  # same centre, same district, another window
    browser = Client()
    assert post_login(browser, "caclerk", code="T-SH-CA:saihan-ca-secret").status_code == 302
    browser.post("/accounts/logout/")
    refused = post_login(browser, "psclerk")  # the cookie names the 民政窗口's terminal
    assert refused.status_code == 200
    assert "登记在“赛罕区市民服务中心 民政窗口”" in refused.content.decode()
    assert "_auth_user_id" not in browser.session
    assert last("accounts.terminal_refused").data["reason"] == "terminal_other_unit"
    assert browser.cookies[COOKIE_NAME].value  # the workstation stays enrolled for its own staff
    assert post_login(browser, "caclerk").status_code == 302


def test_tampered_session_cookie_is_anonymous(client, make_user):
    make_user("citizen", ("applicant", "city"))
    post_login(client, "citizen")
    assert client.get(HOME).status_code == 200
    name = django_settings.SESSION_COOKIE_NAME
    client.cookies[name] = client.cookies[name].value[:-2] + "zz"
    response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_logout_is_post_only(client, make_user):
    make_user("citizen", ("applicant", "city"))
    post_login(client, "citizen")
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get(HOME).status_code == 302


def test_idle_session_ends_after_thirty_minutes(client, make_user):
    make_user("citizen", ("applicant", "city"))
    t0 = dt.datetime(2025, 3, 3, 1, 0, tzinfo=dt.UTC)
    with clock.frozen(t0):
        post_login(client, "citizen")
    with clock.frozen(t0 + dt.timedelta(minutes=29)):
        assert client.get(HOME).status_code == 200
    with clock.frozen(t0 + dt.timedelta(minutes=58)):
        assert client.get(HOME).status_code == 200  # 29 minutes after the last request
    with clock.frozen(t0 + dt.timedelta(minutes=88, seconds=1)):
        response = client.get(HOME)
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN)
    assert last("accounts.logged_out").data == {"reason": "idle"}


# --- forced password change ----------------------------------------------------------------------------


def test_first_login_forces_a_password_change(client, security_admin):
    user, raw = services.user_create(
        actor=selectors.actor_for(security_admin), username="fresh", full_name="新"
    )
    response = post_login(client, "fresh", raw)
    assert response["Location"] == "/accounts/password/"
    for path in (HOME, "/accounts/me/"):
        blocked = client.get(path)
        assert blocked.status_code == 302
        assert blocked["Location"] == "/accounts/password/"
    assert client.get("/accounts/password/").status_code == 200
    refused = client.post(
        "/accounts/password/",
        {"old_password": raw, "new_password": "fresh#Fresh2025", "new_password2": "fresh#Fresh2025"},
    )
    assert "用户名" in refused.content.decode()  # contains the username
    done = client.post(
        "/accounts/password/",
        {"old_password": raw, "new_password": "Spring#Garden42", "new_password2": "Spring#Garden42"},
    )
    assert done.status_code == 302
    assert client.get(HOME).status_code == 200  # the session survives its own password change
    assert last("accounts.password_changed").target_id == str(user.pk)


def test_password_expiry_forces_a_change(client, make_user):
    user = make_user("oldtimer", ("applicant", "city"))
    later = user.password_changed_at + dt.timedelta(days=91)
    with clock.frozen(later):
        response = post_login(client, "oldtimer")
        assert response["Location"] == "/accounts/password/"
        assert client.get(HOME)["Location"] == "/accounts/password/"
        page = client.get("/accounts/password/")
        assert "90" in page.content.decode()


def test_static_and_logout_stay_reachable_during_forced_change(client, security_admin):
    _, raw = services.user_create(
        actor=selectors.actor_for(security_admin), username="fresh2", full_name="新"
    )
    post_login(client, "fresh2", raw)
    assert client.post("/accounts/logout/").status_code == 302


# --- TOTP ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["supervisor", "system_admin", "security_admin", "security_auditor"])
def test_totp_enrolment_required(role, make_user, terminals):
    user = make_user("needs2fa", (role, "city"))
    browser = Client()
    response = post_login(browser, "needs2fa", code="T-CITY-01:city-secret")
    assert response["Location"] == "/accounts/totp/enrol/"
    assert browser.get(HOME)["Location"] == "/accounts/totp/enrol/"
    page = browser.get("/accounts/totp/enrol/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'src="data:image/png;base64,' in body
    assert "otpauth://totp/" in body
    confirmed = browser.post("/accounts/totp/enrol/", {"code": totp_code(user)})
    assert confirmed.status_code == 302
    assert browser.get(HOME).status_code == 200
    assert last("accounts.totp_enrolled").target_id == str(user.pk)


def test_totp_step_after_password_and_replay_refused(make_user, terminals):
    user = make_user("sup", ("supervisor", "city"))
    t0 = dt.datetime(2025, 3, 3, 1, 0, tzinfo=dt.UTC)
    with clock.frozen(t0):
        enrol_totp(user)  # uses the code of this step
        browser = Client()
        response = post_login(browser, "sup", code="T-CITY-01:city-secret")
        assert response["Location"] == "/accounts/totp/verify/"
        assert browser.get(HOME)["Location"] == "/accounts/totp/verify/"
        assert browser.get("/accounts/me/")["Location"] == "/accounts/totp/verify/"
        replay = browser.post("/accounts/totp/verify/", {"code": totp_code(user)})
        assert replay.status_code == 200
        assert "已使用过" in replay.content.decode()
    with clock.frozen(t0 + dt.timedelta(seconds=30)):
        ok = browser.post("/accounts/totp/verify/", {"code": totp_code(user)})
        assert ok.status_code == 302
        assert browser.get(HOME).status_code == 200
        assert browser.session["mfa_ok"] is True


def test_voluntary_totp_for_other_roles(make_user, terminals):
    user = make_user("volunteer", ("analyst", "city"))
    browser = Client()
    assert post_login(browser, "volunteer", code="T-CITY-01:city-secret")["Location"] == HOME
    assert browser.get("/accounts/totp/enrol/").status_code == 200
    browser.post("/accounts/totp/enrol/", {"code": totp_code(user)})
    user.refresh_from_db()
    assert user.totp_confirmed_at is not None
    browser.post("/accounts/logout/")
    assert post_login(browser, "volunteer")["Location"] == "/accounts/totp/verify/"


def test_htmx_requests_get_hx_redirect(client, security_admin):
    _, raw = services.user_create(
        actor=selectors.actor_for(security_admin), username="fresh3", full_name="新"
    )
    post_login(client, "fresh3", raw)
    response = client.get(HOME, headers={"HX-Request": "true"})
    assert response["HX-Redirect"] == "/accounts/password/"


# --- my account ---------------------------------------------------------------------------------------


def test_my_account_and_own_tokens(make_user, terminals):
    user = make_user("scripter", ("reviewer", "saihan"))
    browser = Client()
    sign_in(browser, user, terminal=terminals["saihan"])
    page = browser.get("/accounts/me/")
    assert page.status_code == 200
    assert "我的 API 令牌" in page.content.decode()
    created = browser.post("/accounts/me/tokens/", {"name": "脚本", "scopes": ["cases:read"], "days": 7})
    assert created.status_code == 200
    token = ApiToken.objects.get(user=user)
    assert f"{token.prefix}." in created.content.decode()  # raw token shown once
    assert f"{token.prefix}." not in browser.get("/accounts/me/").content.decode()
    browser.post(f"/accounts/me/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_cannot_revoke_someone_elses_token_from_my_account(make_user, security_admin):
    owner = make_user("owner", ("reviewer", "saihan"))
    token, _ = services.api_token_create(
        actor=selectors.actor_for(security_admin), user=owner, name="x", scopes=["cases:read"], days=3
    )
    other = make_user("other", ("reviewer", "saihan"))
    browser = Client()
    sign_in(browser, other)
    assert browser.post(f"/accounts/me/tokens/{token.pk}/revoke/").status_code == 404


# --- security administrator pages --------------------------------------------------------------------------


@pytest.fixture
def admin_client(security_admin, terminals):
    browser = Client()
    sign_in(browser, security_admin, terminal=terminals["city"])
    return browser


# --- the unit chooser of the role-grant form ----------------------------------------------------------


def test_the_grant_form_offers_units_by_name_region_and_code(admin_client, make_user, windows):
    person = make_user("newbie", ("applicant", "city"))
    page = admin_client.get(f"/accounts/users/{person.pk}/").content.decode()
    assert 'list="grant-unit-choices"' in page
    assert 'hx-get="/accounts/units/choices/"' in page
    assert '<datalist id="grant-unit-choices">' in page
    # Two windows are called 民政窗口: their centre, region and code tell them apart.
    assert (
        '<option value="SC-150105-W-ca">赛罕区市民服务中心 民政窗口 · 赛罕区 · SC-150105-W-ca</option>'
        in page
    )
    assert (
        '<option value="SC-150102-W-ca">新城区市民服务中心 民政窗口 · 新城区 · SC-150102-W-ca</option>'
        in page
    )
    assert "/static/" in page
    assert "https://" not in page.split("<main>", 1)[1]


def test_the_chooser_searches_by_words_of_name_centre_and_region(admin_client, windows):
    found = admin_client.get("/accounts/units/choices/", {"q": "赛罕 民政"}).content.decode()
    assert found.count("<option") == 1
    assert 'value="SC-150105-W-ca"' in found
    by_field = admin_client.get("/accounts/units/choices/", {"unit_code": "150102"}).content.decode()
    assert 'value="SC-150102"' in by_field
    assert 'value="SC-150102-W-ca"' in by_field
    assert "SC-150105" not in by_field
    assert admin_client.get("/accounts/units/choices/", {"q": "没有这个单位"}).content.decode().strip() == ""


def test_the_chooser_lists_only_active_units_in_the_administrators_reach(
    make_user, district_admin, windows, terminals
):
    browser = Client()
    sign_in(browser, district_admin, terminal=terminals["saihan"])
    windows["saihan_ps"].active = False
    windows["saihan_ps"].save()
    listed = browser.get("/accounts/units/choices/").content.decode()
    assert 'value="SC-150105"' in listed
    assert 'value="SC-150105-W-ca"' in listed
    assert "SC-150102" not in listed  # Xincheng: another district
    assert "OP-150100" not in listed  # the city, above the district administrator
    assert "SC-150105-W-ps" not in listed  # closed


def test_the_chooser_is_the_security_administrators(make_user, terminals, db):
    clerk = make_user("plainclerk", ("window_clerk", "saihan"))
    browser = Client()
    sign_in(browser, clerk, terminal=terminals["saihan"])
    assert browser.get("/accounts/units/choices/").status_code == 403


def test_granting_in_a_chosen_unit_and_refusing_an_unknown_or_closed_one(
    make_user, district_admin, windows, terminals
):
    browser = Client()
    sign_in(browser, district_admin, terminal=terminals["saihan"])
    person = make_user("chosen", ("applicant", "saihan"))
    url = f"/accounts/users/{person.pk}/roles/"
    # The whole label as the chooser shows it names the unit as well as its code.
    label = "赛罕区市民服务中心 民政窗口 · 赛罕区 · SC-150105-W-ca"
    assert browser.post(url, {"role": "window_clerk", "unit_code": label}).status_code == 302
    assert RoleAssignment.objects.get(user=person, role="window_clerk").unit == windows["saihan_ca"]

    unknown = browser.post(url, {"role": "reviewer", "unit_code": "民政局"})
    assert unknown.status_code == 422
    assert (
        "找不到单位“民政局”，或它不在您的管辖范围内。请输入单位名称、所在区划或编码搜索，并从列表中选择。"
        in (unknown.content.decode())
    )
    out_of_reach = browser.post(url, {"role": "reviewer", "unit_code": "SC-150102-W-ca"})
    assert out_of_reach.status_code == 422
    assert "找不到单位“SC-150102-W-ca”" in out_of_reach.content.decode()  # as if it did not exist
    windows["saihan_ps"].active = False
    windows["saihan_ps"].save()
    closed = browser.post(url, {"role": "reviewer", "unit_code": "SC-150105-W-ps"})
    assert closed.status_code == 422
    assert "单位“赛罕区市民服务中心 公安窗口”（赛罕区，SC-150105-W-ps）已停用，不能在其中授予角色。" in (
        closed.content.decode()
    )
    assert RoleAssignment.objects.filter(user=person).count() == 2  # applicant, window clerk


def test_full_real_sign_in_of_a_security_admin(make_user, terminals):
    admin = make_user("realadmin", ("security_admin", "city"), must_change=True)
    browser = Client()
    first = post_login(browser, "realadmin", code="T-CITY-01:city-secret")
    assert first["Location"] == "/accounts/password/"
    browser.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password": "Autumn#Leaves77", "new_password2": "Autumn#Leaves77"},
    )
    assert browser.get(HOME)["Location"] == "/accounts/totp/enrol/"
    browser.get("/accounts/totp/enrol/")
    browser.post("/accounts/totp/enrol/", {"code": totp_code(admin)})
    assert browser.get("/accounts/users/").status_code == 200


def test_user_admin_pages(admin_client, make_user, units):
    clerk = make_user("wangwu", ("window_clerk", "saihan"), full_name="王五")
    listing = admin_client.get("/accounts/users/", {"q": "王"})
    assert listing.status_code == 200
    assert "wangwu" in listing.content.decode()

    created = admin_client.post("/accounts/users/new/", {"username": "lisi", "full_name": "李四"})
    assert created.status_code == 200
    lisi = User.objects.get(username="lisi")
    assert "临时密码" in created.content.decode()
    assert lisi.must_change_password

    detail = admin_client.get(f"/accounts/users/{clerk.pk}/")
    assert detail.status_code == 200
    granted = admin_client.post(
        f"/accounts/users/{lisi.pk}/roles/", {"role": "reviewer", "unit_code": "SC-150105"}
    )
    assert granted.status_code == 302
    assignment = RoleAssignment.objects.get(user=lisi)
    conflict = admin_client.post(
        f"/accounts/users/{lisi.pk}/roles/", {"role": "system_admin", "unit_code": "OP-150100"}
    )
    assert conflict.status_code == 422
    assert "三员" in conflict.content.decode()
    bad_unit = admin_client.post(
        f"/accounts/users/{lisi.pk}/roles/", {"role": "approver", "unit_code": "NOPE"}
    )
    assert bad_unit.status_code == 422
    admin_client.post(f"/accounts/users/{lisi.pk}/roles/{assignment.pk}/revoke/")
    assert not RoleAssignment.objects.filter(user=lisi).exists()

    reset = admin_client.post(f"/accounts/users/{clerk.pk}/password-reset/")
    assert "临时密码" in reset.content.decode()
    clerk.refresh_from_db()
    assert clerk.must_change_password

    for _ in range(5):
        services.login_attempt(username="wangwu", password="x", ip="1.1.1.1", terminal=None)
    assert "锁定至" in admin_client.get(f"/accounts/users/{clerk.pk}/").content.decode()
    admin_client.post(f"/accounts/users/{clerk.pk}/unlock/")
    clerk.refresh_from_db()
    assert clerk.locked_until is None

    token_page = admin_client.post(
        f"/accounts/users/{clerk.pk}/tokens/",
        {"name": "脚本", "scopes": ["cases:read", "cases:write"], "days": 90},
    )
    token = ApiToken.objects.get(user=clerk)
    assert f"{token.prefix}." in token_page.content.decode()
    assert f"{token.prefix}." not in admin_client.get(f"/accounts/users/{clerk.pk}/").content.decode()
    admin_client.post(f"/accounts/users/{clerk.pk}/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None

    admin_client.post(f"/accounts/users/{clerk.pk}/deactivate/", {"reason": "调离"})
    clerk.refresh_from_db()
    assert not clerk.is_active
    admin_client.post(f"/accounts/users/{clerk.pk}/reactivate/")
    clerk.refresh_from_db()
    assert clerk.is_active


def test_admin_self_page_offers_no_self_management(admin_client, security_admin):
    page = admin_client.get(f"/accounts/users/{security_admin.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "password-reset" not in body
    assert "/roles/" not in body
    response = admin_client.post(
        f"/accounts/users/{security_admin.pk}/roles/", {"role": "reviewer", "unit_code": "SC-150105"}
    )
    assert response.status_code == 422
    assert not RoleAssignment.objects.filter(user=security_admin, role="reviewer").exists()


def test_another_administrators_page_offers_no_secrets(admin_client, make_user):
    auditor = make_user("auditor1", ("security_auditor", "city"))
    enrol_totp(auditor)
    body = admin_client.get(f"/accounts/users/{auditor.pk}/").content.decode()
    assert "password-reset" not in body
    assert "totp-reset" not in body
    assert f'action="/accounts/users/{auditor.pk}/tokens/"' not in body
    assert "创建令牌" not in body
    assert "sanji reset_credentials" in body
    assert "停用账号" in body  # locking out stays the security administrator's
    response = admin_client.post(f"/accounts/users/{auditor.pk}/password-reset/")
    assert response.status_code in (302, 403)
    auditor.refresh_from_db()
    assert auditor.check_password(PASSWORD)


def test_district_admin_gets_404_outside_reach(make_user, district_admin, terminals):
    outsider = make_user("outsider", ("reviewer", "xincheng"))
    browser = Client()
    sign_in(browser, district_admin, terminal=terminals["saihan"])
    assert browser.get(f"/accounts/users/{outsider.pk}/").status_code == 404
    assert browser.post(f"/accounts/users/{outsider.pk}/password-reset/").status_code == 404
    assert browser.post(f"/accounts/users/{outsider.pk}/unlock/").status_code == 404
    assert "outsider" not in browser.get("/accounts/users/").content.decode()


ADMIN_PAGES = [
    ("get", "/accounts/users/"),
    ("get", "/accounts/users/new/"),
    ("post", "/accounts/users/new/"),
    ("get", "/accounts/users/{uid}/"),
    ("post", "/accounts/users/{uid}/roles/"),
    ("post", "/accounts/users/{uid}/roles/{aid}/revoke/"),
    ("post", "/accounts/users/{uid}/password-reset/"),
    ("post", "/accounts/users/{uid}/unlock/"),
    ("post", "/accounts/users/{uid}/deactivate/"),
    ("post", "/accounts/users/{uid}/reactivate/"),
    ("post", "/accounts/users/{uid}/totp-reset/"),
    ("post", "/accounts/users/{uid}/tokens/"),
    ("post", "/accounts/users/{uid}/tokens/{tid}/revoke/"),
]


@pytest.mark.parametrize(
    "role", ["system_admin", "security_auditor", "supervisor", "window_clerk", "applicant"]
)
def test_every_admin_page_refused_to_other_roles(role, make_user, security_admin, terminals):
    target = make_user("target", ("reviewer", "saihan"))
    token, _ = services.api_token_create(
        actor=selectors.actor_for(security_admin), user=target, name="x", scopes=["cases:read"], days=3
    )
    assignment = RoleAssignment.objects.get(user=target)
    person = make_user("person", (role, "city"))
    browser = Client()
    sign_in(browser, person, terminal=terminals["city"])
    for method, template in ADMIN_PAGES:
        url = template.format(uid=target.pk, aid=assignment.pk, tid=token.pk)
        response = getattr(browser, method)(url, {"role": "analyst", "unit_code": "OP-150100"})
        assert response.status_code in (403, 404), (role, url, response.status_code)
    target.refresh_from_db()
    assert target.is_active
    assert RoleAssignment.objects.filter(user=target).count() == 1
    token.refresh_from_db()
    assert token.revoked_at is None


def test_anonymous_is_sent_to_login(client, db):
    response = client.get("/accounts/users/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_next_parameter_is_kept_but_not_offsite(client, make_user):
    make_user("citizen", ("applicant", "city"))
    inside = client.post(LOGIN + "?next=/accounts/me/", {"username": "citizen", "password": PASSWORD})
    assert inside["Location"] == "/accounts/me/"
    client.post("/accounts/logout/")
    outside = client.post(
        LOGIN + "?next=https://evil.example/", {"username": "citizen", "password": PASSWORD}
    )
    assert outside["Location"] == reverse("web:home")
