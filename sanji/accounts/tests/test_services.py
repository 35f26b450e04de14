import datetime as dt
import io

import pytest

from sanji.accounts import selectors, services
from sanji.accounts.models import ApiToken, LoginThrottle, RoleAssignment, User
from sanji.accounts.testing import enrol_totp, totp_code
from sanji.audit.models import Entry
from sanji.core import clock, crypto
from sanji.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from sanji.orgs.models import Terminal, Unit

from .conftest import PASSWORD, last_entry

T0 = dt.datetime(2025, 3, 3, 1, 0, tzinfo=dt.UTC)  # 09:00 in Hohhot


def actions() -> list[str]:
    return list(Entry.objects.order_by("seq").values_list("action", flat=True))


def attempt(
    username: str, password: str = PASSWORD, ip: str = "10.1.1.1", terminal: Terminal | None = None
) -> services.LoginResult:
    return services.login_attempt(username=username, password=password, ip=ip, terminal=terminal)


# --- login ------------------------------------------------------------------------------------------


def test_applicant_logs_in_without_terminal(make_user):
    make_user("citizen1", ("applicant", "city"))
    result = attempt("citizen1")
    assert result.ok
    assert result.terminal is None
    assert actions()[-1] == "accounts.login_succeeded"


def test_user_without_roles_logs_in_without_terminal(make_user):
    make_user("nobody1")
    assert attempt("nobody1").ok


def test_unknown_user_is_audited_but_looks_like_a_wrong_password(db):
    result = attempt("ghost")
    assert not result.ok
    assert result.reason == "invalid"
    entry = Entry.objects.get(action="accounts.login_failed")
    assert entry.data["reason"] == "unknown_user"
    assert entry.target_label == "ghost"


def test_inactive_user_looks_like_a_wrong_password(make_user, security_admin):
    user = make_user("leaver", ("applicant", "city"))
    admin = selectors.actor_for(security_admin)
    services.user_deactivate(actor=admin, user=user)
    assert attempt("leaver").reason == "invalid"


def test_lockout_after_five_failures_and_unlock_after_fifteen_minutes(make_user):
    make_user("clumsy", ("applicant", "city"))
    with clock.frozen(T0):
        for _ in range(4):
            assert attempt("clumsy", "wrong").reason == "invalid"
        fifth = attempt("clumsy", "wrong")
        assert fifth.reason == "locked"
        assert fifth.until == T0 + dt.timedelta(minutes=15)
        assert "accounts.locked" in actions()
        # The right password is refused while locked.
        assert attempt("clumsy").reason == "locked"
    with clock.frozen(T0 + dt.timedelta(minutes=14, seconds=59)):
        assert attempt("clumsy").reason == "locked"
    with clock.frozen(T0 + dt.timedelta(minutes=15)):
        assert attempt("clumsy").ok
    user = User.objects.get(username="clumsy")
    assert user.failed_logins == 0
    assert user.locked_until is None


def test_success_resets_the_failure_count(make_user):
    make_user("forgetful", ("applicant", "city"))
    for _ in range(4):
        attempt("forgetful", "wrong")
    assert attempt("forgetful").ok
    for _ in range(4):
        attempt("forgetful", "wrong")
    assert attempt("forgetful").ok


def test_security_admin_unlocks(make_user, security_admin):
    make_user("locked1", ("applicant", "city"))
    for _ in range(5):
        attempt("locked1", "wrong")
    assert attempt("locked1").reason == "locked"
    user = User.objects.get(username="locked1")
    services.user_unlock(actor=selectors.actor_for(security_admin), user=user)
    assert attempt("locked1").ok
    assert "accounts.unlocked" in actions()


def test_ip_throttle_blocks_the_address_until_the_window_ends(make_user, settings):
    settings.SANJI_IP_FAILURES = 6
    make_user("victim", ("applicant", "city"))
    with clock.frozen(T0):
        for i in range(6):
            attempt(f"sprayed{i}", "guess", ip="203.0.113.9")  # unknown users, one address
        blocked = attempt("victim", ip="203.0.113.9")
        assert blocked.reason == "ip_blocked"
        assert blocked.until == T0 + dt.timedelta(minutes=15)
        assert attempt("victim", ip="203.0.113.10").ok  # other addresses are not affected
    with clock.frozen(T0 + dt.timedelta(minutes=15)):
        assert attempt("victim", ip="203.0.113.9").ok
    assert LoginThrottle.objects.get(ip="203.0.113.9").failures == 6


def test_ip_window_restarts(make_user, settings):
    settings.SANJI_IP_FAILURES = 3
    make_user("victim2", ("applicant", "city"))
    with clock.frozen(T0):
        attempt("x", "y", ip="198.51.100.1")
        attempt("x", "y", ip="198.51.100.1")
    with clock.frozen(T0 + dt.timedelta(minutes=16)):
        attempt("x", "y", ip="198.51.100.1")  # a new window: one failure
        assert attempt("victim2", ip="198.51.100.1").ok


def test_staff_need_a_terminal(make_user, terminals):
    make_user("clerk1", ("window_clerk", "saihan"))
    refused = attempt("clerk1")
    assert refused.reason == "terminal_required"
    assert actions()[-1] == "accounts.terminal_refused"
    ok = attempt("clerk1", terminal=terminals["saihan"])
    assert ok.ok
    assert ok.terminal == terminals["saihan"]


def test_terminal_of_another_district_refused(make_user, terminals):
    make_user("clerk2", ("window_clerk", "saihan"))
    result = attempt("clerk2", terminal=terminals["xincheng"])
    assert (result.ok, result.reason) == (False, "terminal_other_unit")
    assert result.terminal == terminals["xincheng"]
    entry = last_entry("accounts.terminal_refused")
    assert entry.data == {
        "reason": "terminal_other_unit",
        "terminal": "T-XC-01",
        "terminal_unit": "SC-150102",
    }
    assert entry.target_id == str(User.objects.get(username="clerk2").pk)
    assert entry.unit_id == terminals["xincheng"].unit_id  # filed under the terminal's unit


# A terminal is registered for a unit: only people holding a role in that unit, or in a unit nested
# in it, sign in on it. Reaching its region (the same district, the city above it) is not enough.


def test_terminal_of_another_unit_in_the_same_district_refused(make_user, windows):
    make_user("caclerk", ("window_clerk", "saihan_ca"))
    police_window = Terminal.objects.get(code="T-SH-PS")
    result = attempt("caclerk", terminal=police_window)
    assert result.reason == "terminal_other_unit"
    assert last_entry("accounts.terminal_refused").data["terminal_unit"] == "SC-150105-W-ps"
    assert attempt("caclerk", terminal=Terminal.objects.get(code="T-SH-CA")).ok


def test_city_role_does_not_reach_district_terminals(make_user, terminals):
    make_user("citysup", ("analyst", "city"))
    assert attempt("citysup", terminal=terminals["xincheng"]).reason == "terminal_other_unit"
    assert attempt("citysup", terminal=terminals["city"]).ok


def test_window_staff_use_their_centres_terminals_not_the_other_way_round(make_user, windows, terminals):
    make_user("caclerk", ("window_clerk", "saihan_ca"))
    at_centre = attempt("caclerk", terminal=terminals["saihan"])
    assert at_centre.ok
    assert at_centre.terminal == terminals["saihan"]
    actor = selectors.actor_for(User.objects.get(username="caclerk"), terminal=at_centre.terminal)
    assert actor.unit_id == terminals["saihan"].unit_id
    make_user("centrehead", ("analyst", "saihan"))
    assert (
        attempt("centrehead", terminal=Terminal.objects.get(code="T-SH-CA")).reason == "terminal_other_unit"
    )


def test_any_unit_the_person_holds_a_role_in_will_do(make_user, windows, terminals):
    make_user("twohats", ("window_clerk", "saihan_ca"), ("reviewer", "xincheng"))
    assert attempt("twohats", terminal=terminals["xincheng"]).ok
    assert attempt("twohats", terminal=Terminal.objects.get(code="T-SH-CA")).ok
    assert attempt("twohats", terminal=Terminal.objects.get(code="T-SH-PS")).reason == "terminal_other_unit"


def test_units_enclosing_walks_up_the_nesting(windows, units):
    community = Unit.objects.create(
        code="CS-1",
        name="健康社区公共服务站",
        kind="community_station",
        region=units["saihan"].region,
        region_path=units["saihan"].region_path,
        parent=windows["saihan_ca"],
    )
    assert selectors.units_enclosing([community.pk]) == {
        community.pk,
        windows["saihan_ca"].pk,
        units["saihan"].pk,
    }
    assert selectors.units_enclosing([]) == set()


def test_terminal_not_required_when_setting_off(make_user, settings):
    settings.SANJI_REQUIRE_TERMINAL = False
    make_user("clerk3", ("window_clerk", "saihan"))
    assert attempt("clerk3").ok


def test_system_accounts_cannot_log_in_on_pages(platform):
    _user, raw = services.user_create(
        actor=platform, username="dept-sys", full_name="民政系统", is_system_account=True
    )
    assert attempt("dept-sys", raw).reason == "system_account"


def test_login_result_flags(make_user, platform):
    make_user("sup1", ("supervisor", "city"))
    services.user_create(actor=platform, username="fresh1", full_name="新")
    sup = attempt("sup1", terminal=None)
    assert sup.reason == "terminal_required"


def test_terminal_check_enrolment_code(terminals, db):
    ok = services.terminal_check(
        cookie_value=None, enrolment_code="T-SH-01:saihan-secret", ip="1.2.3.4", username="u"
    )
    assert ok.terminal == terminals["saihan"]
    assert ok.enrolled
    wrong = services.terminal_check(
        cookie_value=None, enrolment_code="T-SH-01:nope", ip="1.2.3.4", username="u"
    )
    assert wrong.refused
    assert wrong.reason == "code_invalid"
    entry = last_entry("accounts.terminal_refused")
    assert entry.data["terminal"] == "T-SH-01"
    assert "nope" not in str(entry.data)  # the secret is never recorded
    malformed = services.terminal_check(
        cookie_value=None, enrolment_code="garbage", ip="1.2.3.4", username="u"
    )
    assert malformed.refused


def test_terminal_bound_to_an_address(units, db):
    from .conftest import make_terminal

    make_terminal(units["saihan"], "T-SH-IP", "ip-secret", ip="10.9.9.9")
    here = services.terminal_check(
        cookie_value=None, enrolment_code="T-SH-IP:ip-secret", ip="10.9.9.9", username=""
    )
    assert here.terminal is not None
    there = services.terminal_check(
        cookie_value=None, enrolment_code="T-SH-IP:ip-secret", ip="10.9.9.8", username=""
    )
    assert there.refused
    assert there.reason == "wrong_ip"


def test_deactivated_terminal_code_refused(terminals, db):
    terminals["saihan"].active = False
    terminals["saihan"].save()
    check = services.terminal_check(
        cookie_value=None, enrolment_code="T-SH-01:saihan-secret", ip="1.2.3.4", username=""
    )
    assert check.refused


# --- TOTP -------------------------------------------------------------------------------------------


def test_totp_secret_is_encrypted_at_rest(make_user):
    user = make_user("totpuser")
    uri = services.totp_begin(user=user)
    user.refresh_from_db()
    secret = uri.split("secret=")[1].split("&")[0]
    assert secret not in user.totp_secret
    assert crypto.decrypt(user.totp_secret) == secret
    assert services.totp_begin(user=user) == uri  # reloading shows the same secret
    assert services.totp_begin(user=user, renew=True) != uri


def test_totp_enrol_verify_and_replay(make_user):
    user = make_user("totp2")
    with clock.frozen(T0):
        services.totp_begin(user=user)
        with pytest.raises(ValidationFailed):
            services.totp_confirm(user=user, code="000000", ip="")
        services.totp_confirm(user=user, code=totp_code(user), ip="")
        assert "accounts.totp_enrolled" in actions()
        # The code used to confirm cannot be used again.
        replay = services.totp_verify(user=user, code=totp_code(user), ip="")
        assert not replay.ok
        assert last_entry("accounts.login_failed").data["reason"] == "totp_replay"
    with clock.frozen(T0 + dt.timedelta(seconds=30)):
        fresh = totp_code(user)
        assert services.totp_verify(user=user, code=fresh, ip="").ok
        assert not services.totp_verify(user=user, code=fresh, ip="").ok  # replay in the same step
    with clock.frozen(T0 + dt.timedelta(seconds=60)):
        # One step of drift either way is accepted (valid_window=1).
        assert services.totp_verify(user=user, code=totp_code(user, offset_steps=1), ip="").ok
    with clock.frozen(T0 + dt.timedelta(seconds=150)):
        assert not services.totp_verify(user=user, code=totp_code(user, offset_steps=-2), ip="").ok


def test_wrong_totp_counts_towards_lockout(make_user):
    user = make_user("totp3")
    enrol_totp(user)
    with clock.frozen(T0):
        results = [services.totp_verify(user=user, code="123456", ip="") for _ in range(5)]
        assert [r.reason for r in results] == ["invalid"] * 4 + ["locked"]
        assert services.totp_verify(user=user, code=totp_code(user), ip="").reason == "locked"


def test_totp_begin_refused_when_enrolled_until_reset(make_user, security_admin):
    user = make_user("totp4", ("applicant", "city"))
    enrol_totp(user)
    with pytest.raises(Conflict):
        services.totp_begin(user=user)
    services.user_totp_reset(actor=selectors.actor_for(security_admin), user=user)
    user.refresh_from_db()
    assert user.totp_confirmed_at is None
    assert user.totp_secret == ""
    services.totp_begin(user=user)


def test_login_result_asks_for_totp(make_user, terminals):
    user = make_user("sup2", ("supervisor", "city"))
    first = attempt("sup2", terminal=terminals["city"])
    assert first.ok
    assert first.totp_enrolment_required
    assert not first.totp_required
    enrol_totp(user)
    second = attempt("sup2", terminal=terminals["city"])
    assert second.totp_required
    assert not second.totp_enrolment_required


# --- users ------------------------------------------------------------------------------------------


def test_user_create_by_security_admin(security_admin):
    admin = selectors.actor_for(security_admin)
    user, raw = services.user_create(actor=admin, username="zhao", full_name="赵一", phone="13800000000")
    assert user.must_change_password
    assert user.check_password(raw)
    assert user.created_region_path == "150100/"
    assert user.created_by == "secadmin"
    entry = last_entry("accounts.user_created")
    assert entry.actor_username == "secadmin"
    assert entry.target_id == str(user.pk)
    with pytest.raises(ValidationFailed):
        services.user_create(actor=admin, username="ZHAO", full_name="重复")
    with pytest.raises(ValidationFailed):
        services.user_create(actor=admin, username="bad name!", full_name="x")
    with pytest.raises(ValidationFailed):
        services.user_create(actor=admin, username="qian", full_name="钱", password="weak")


def test_only_the_platform_may_skip_the_forced_change(security_admin):
    with pytest.raises(Forbidden):
        services.user_create(
            actor=selectors.actor_for(security_admin),
            username="x1",
            full_name="x",
            must_change_password=False,
        )


def test_password_reset_forces_change_and_is_audited(make_user, security_admin):
    user = make_user("resetme", ("applicant", "city"))
    raw = services.user_password_reset(actor=selectors.actor_for(security_admin), user=user)
    user.refresh_from_db()
    assert user.must_change_password
    assert user.check_password(raw)
    entry = last_entry("accounts.password_reset")
    assert entry.target_id == str(user.pk)
    assert raw not in str(entry.data)
    result = attempt("resetme", raw)
    assert result.ok
    assert result.password_change_required


@pytest.mark.parametrize("role", ["security_auditor", "system_admin", "security_admin"])
def test_no_administrator_obtains_another_administrators_secrets(make_user, security_admin, role):
    """三员分立: a security administrator who could reset the auditor's password or issue the auditor
    a token could read the audit trail of their own actions as the auditor."""
    admin = selectors.actor_for(security_admin)
    other = make_user("other-admin", (role, "city"))
    enrol_totp(other)
    with pytest.raises(Forbidden):
        services.user_password_reset(actor=admin, user=other)
    with pytest.raises(Forbidden):
        services.user_totp_reset(actor=admin, user=other)
    with pytest.raises(Forbidden):
        services.api_token_create(actor=admin, user=other, name="t", scopes=["audit:read"], days=1)
    other.refresh_from_db()
    assert other.totp_confirmed_at is not None
    assert not ApiToken.objects.filter(user=other).exists()
    assert "accounts.password_reset" not in actions()
    # Locking out is still the security administrator's: it hands over no secret.
    services.user_deactivate(actor=admin, user=other, reason="离职")
    services.user_reactivate(actor=admin, user=other)


def test_the_server_operator_resets_an_administrators_credentials(make_user):
    from django.core.management import call_command

    auditor = make_user("auditor1", ("security_auditor", "city"))
    enrol_totp(auditor)
    out = io.StringIO()
    call_command("reset_credentials", "auditor1", "--password", "--second-factor", stdout=out)
    raw = out.getvalue().rsplit(": ", 1)[1].strip()
    auditor.refresh_from_db()
    assert auditor.check_password(raw)
    assert auditor.must_change_password
    assert auditor.totp_confirmed_at is None
    entry = last_entry("accounts.password_reset")
    assert entry.actor_username.startswith("cli:")
    assert entry.target_id == str(auditor.pk)


def test_deactivate_revokes_tokens(make_user, security_admin):
    admin = selectors.actor_for(security_admin)
    user = make_user("goner", ("analyst", "city"))
    token, _ = services.api_token_create(actor=admin, user=user, name="t", scopes=["cases:read"], days=10)
    services.user_deactivate(actor=admin, user=user, reason="调离")
    token.refresh_from_db()
    assert token.revoked_at is not None
    with pytest.raises(Conflict):
        services.user_deactivate(actor=admin, user=user)
    services.user_reactivate(actor=admin, user=user)
    assert User.objects.get(pk=user.pk).is_active


# --- roles ------------------------------------------------------------------------------------------


def test_role_grant_and_revoke_are_audited_with_the_target(make_user, security_admin, units):
    admin = selectors.actor_for(security_admin)
    user, _ = services.user_create(actor=admin, username="qian", full_name="钱")
    assignment = services.role_grant(actor=admin, user=user, role="reviewer", unit=units["saihan"])
    granted = last_entry("accounts.role_granted")
    assert granted.target_id == str(user.pk)
    assert granted.data["role"] == "reviewer"
    assert granted.region_path == "150100/150105/"
    services.role_revoke(actor=admin, assignment=assignment)
    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()
    assert last_entry("accounts.role_revoked").target_id == str(user.pk)


def test_role_grant_refusals(make_user, district_admin, units):
    admin = selectors.actor_for(district_admin)
    user = make_user("sun", ("reviewer", "saihan"))
    with pytest.raises(NotFound):  # unit outside the district
        services.role_grant(actor=admin, user=user, role="approver", unit=units["xincheng"])
    services.role_grant(actor=admin, user=user, role="approver", unit=units["saihan"])
    with pytest.raises(ValidationFailed):  # twice
        services.role_grant(actor=admin, user=user, role="approver", unit=units["saihan"])
    with pytest.raises(ValidationFailed):
        services.role_grant(actor=admin, user=user, role="no_such_role", unit=units["saihan"])
    units["saihan"].active = False
    units["saihan"].save()
    with pytest.raises(NotFound):
        services.role_grant(actor=admin, user=user, role="analyst", unit=units["saihan"])


def test_user_outside_scope_is_not_found(make_user, district_admin, units):
    admin = selectors.actor_for(district_admin)
    outsider = make_user("outsider", ("reviewer", "xincheng"))
    with pytest.raises(NotFound):
        services.role_grant(actor=admin, user=outsider, role="reviewer", unit=units["saihan"])
    with pytest.raises(NotFound):
        services.user_password_reset(actor=admin, user=outsider)
    with pytest.raises(NotFound):
        selectors.user_get_for(admin, outsider.pk)


def test_person_partly_outside_reach_is_visible_but_not_manageable(make_user, district_admin):
    admin = selectors.actor_for(district_admin)
    both = make_user("both", ("reviewer", "saihan"), ("analyst", "city"))
    assert selectors.user_get_for(admin, both.pk) == both
    with pytest.raises(Forbidden):
        services.user_password_reset(actor=admin, user=both)


def test_users_without_roles_visible_to_the_creating_reach(district_admin, security_admin):
    district = selectors.actor_for(district_admin)
    city = selectors.actor_for(security_admin)
    created, _ = services.user_create(actor=district, username="newdistrict", full_name="新")
    assert selectors.user_get_for(district, created.pk) == created
    assert selectors.user_get_for(city, created.pk) == created
    made_by_city, _ = services.user_create(actor=city, username="newcity", full_name="新")
    with pytest.raises(NotFound):
        selectors.user_get_for(district, made_by_city.pk)


def test_user_list_search_and_scope(make_user, district_admin, security_admin):
    make_user("wang-sh", ("window_clerk", "saihan"), full_name="王五")
    make_user("wang-xc", ("window_clerk", "xincheng"), full_name="王六")
    district = selectors.actor_for(district_admin)
    assert [u.username for u in selectors.user_list_for(district, q="wang")] == ["wang-sh"]
    assert {u.username for u in selectors.user_list_for(selectors.actor_for(security_admin), q="王")} == {
        "wang-sh",
        "wang-xc",
    }
    clerk = selectors.actor_for(User.objects.get(username="wang-sh"))
    with pytest.raises(Forbidden):
        selectors.user_list_for(clerk)


def test_user_list_query_count(make_user, security_admin, django_assert_max_num_queries):
    for i in range(5):
        make_user(f"many{i}", ("reviewer", "saihan"), ("analyst", "city"))
    admin = selectors.actor_for(security_admin)
    with django_assert_max_num_queries(2):
        rows = list(selectors.user_list_for(admin))
        assert sum(len(u.role_assignments.all()) for u in rows) >= 10


# --- API tokens -------------------------------------------------------------------------------------


def test_token_create_stores_only_a_hash(make_user, security_admin):
    admin = selectors.actor_for(security_admin)
    system, _ = services.user_create(
        actor=admin, username="civil-sys", full_name="民政系统", is_system_account=True
    )
    token, raw = services.api_token_create(
        actor=admin, user=system, name="民政", scopes=["cases:write"], days=365
    )
    prefix, secret = raw.split(".", 1)
    assert token.prefix == prefix
    assert secret not in token.token_hash
    assert token.expires_at - token.created_at == dt.timedelta(days=365)
    entry = last_entry("accounts.token_created")
    assert entry.target_id == str(system.pk)
    assert secret not in str(entry.data)


@pytest.mark.parametrize(
    ("scopes", "days"),
    [([], 10), (["nonsense:read"], 10), (["cases:read"], 0), (["cases:read"], 366)],
)
def test_token_create_refusals(make_user, security_admin, scopes, days):
    admin = selectors.actor_for(security_admin)
    user = make_user("tok1", ("analyst", "city"))
    with pytest.raises(ValidationFailed):
        services.api_token_create(actor=admin, user=user, name="x", scopes=scopes, days=days)


def test_self_tokens_short_lived_and_not_for_administrators(make_user, security_admin, terminals):
    clerk = make_user("selfish", ("window_clerk", "saihan"))
    actor = selectors.actor_for(clerk)
    token, _ = services.api_token_create(actor=actor, user=clerk, name="mine", scopes=["cases:read"], days=30)
    with pytest.raises(ValidationFailed):
        services.api_token_create(actor=actor, user=clerk, name="mine", scopes=["cases:read"], days=31)
    with pytest.raises(ValidationFailed):
        services.api_token_create(
            actor=actor, user=clerk, name="mine", scopes=["cases:read"], days=3, terminal=terminals["saihan"]
        )
    admin = selectors.actor_for(security_admin)
    with pytest.raises(Forbidden):
        services.api_token_create(actor=admin, user=security_admin, name="x", scopes=["audit:read"], days=1)
    applicant = make_user("citizen9", ("applicant", "city"))
    with pytest.raises(Forbidden):
        services.api_token_create(
            actor=selectors.actor_for(applicant), user=applicant, name="x", scopes=["cases:read"], days=1
        )
    # The owner revokes their own token; another clerk cannot see it.
    other = make_user("other", ("window_clerk", "saihan"))
    with pytest.raises(NotFound):
        services.api_token_revoke(actor=selectors.actor_for(other), token=token)
    services.api_token_revoke(actor=actor, token=token)
    assert ApiToken.objects.get(pk=token.pk).revoked_by == "selfish"


def test_token_bound_to_terminal_in_reach(make_user, district_admin, terminals, platform):
    admin = selectors.actor_for(district_admin)
    system, _ = services.user_create(actor=admin, username="sh-sys", full_name="x", is_system_account=True)
    services.api_token_create(
        actor=admin, user=system, name="fp", scopes=["population:read"], days=30, terminal=terminals["saihan"]
    )
    with pytest.raises(NotFound):
        services.api_token_create(
            actor=admin,
            user=system,
            name="fp",
            scopes=["population:read"],
            days=30,
            terminal=terminals["xincheng"],
        )


def test_session_end_records_logout(make_user):
    user = make_user("leaving", ("applicant", "city"))
    services.session_end(actor=selectors.actor_for(user), reason="idle")
    entry = Entry.objects.get(action="accounts.logged_out")
    assert entry.data == {"reason": "idle"}
    assert entry.actor_username == "leaving"


def test_totp_keeps_working_through_a_field_key_rotation(make_user, platform, field_key_rotation):
    user = make_user("totp-rotation")
    with clock.frozen(T0):
        enrol_totp(user)
    field_key_rotation.rotate()  # the old key named for readers: sign-ins carry on meanwhile
    with clock.frozen(T0 + dt.timedelta(seconds=30)):
        assert services.totp_verify(user=user, code=totp_code(user), ip="").ok
    with pytest.raises(Forbidden):
        services.totp_rekey(actor=make_actor_of(user), previous=(field_key_rotation.OLD,))
    count = services.totp_rekey(actor=platform, previous=(field_key_rotation.OLD,), batch=1)
    assert (count.examined, count.reencrypted) == (User.objects.count(), 1)
    assert last_entry("accounts.totp_rekeyed").data["reencrypted"] == 1
    again = services.totp_rekey(actor=platform, previous=(field_key_rotation.OLD,))
    assert again.reencrypted == 0
    field_key_rotation.retire_old_key()
    user.refresh_from_db()
    assert crypto.is_current(user.totp_secret)
    with clock.frozen(T0 + dt.timedelta(seconds=60)):
        assert services.totp_verify(user=user, code=totp_code(user), ip="").ok  # the new key only


def make_actor_of(user: User):
    return selectors.actor_for(user)
