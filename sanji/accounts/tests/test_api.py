import datetime as dt

import pytest
from django.test import Client

from sanji.accounts import selectors, services
from sanji.accounts.models import ApiToken
from sanji.core import clock
from sanji.core.actors import Actor
from sanji.core.errors import Forbidden

from .conftest import make_terminal

API = "/api/v1/accounts"


def bearer(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def clerk(make_user):
    return make_user("clerk", ("window_clerk", "saihan"))


@pytest.fixture
def clerk_token(clerk):
    actor = selectors.actor_for(clerk)
    _, raw = services.api_token_create(
        actor=actor,
        user=clerk,
        name="script",
        scopes=["accounts:read", "accounts:write", "cases:read"],
        days=7,
    )
    return raw


def test_me(client, clerk, clerk_token):
    response = client.get(f"{API}/me", **bearer(clerk_token))
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "clerk"
    assert body["channel"] == "api"
    assert [g["role"] for g in body["roles"]] == ["window_clerk"]
    assert body["scopes"] == ["accounts:read", "accounts:write", "cases:read"]
    token = ApiToken.objects.get(user=clerk)
    assert token.last_used_at is not None


@pytest.mark.parametrize(
    "header", [None, "Bearer nonsense", "Bearer abc.def", "Basic Zm9vOmJhcg==", "Bearer "]
)
def test_bad_credentials_are_401(client, clerk_token, header):
    extra = {"HTTP_AUTHORIZATION": header} if header is not None else {}
    assert client.get(f"{API}/me", **extra).status_code == 401


def test_wrong_secret_with_a_real_prefix_is_401(client, clerk_token):
    prefix = clerk_token.split(".")[0]
    assert client.get(f"{API}/me", **bearer(prefix + ".wrongsecret")).status_code == 401


def test_expired_token_is_401(client, clerk_token):
    token = ApiToken.objects.get()
    with clock.frozen(token.expires_at - dt.timedelta(seconds=1)):
        assert client.get(f"{API}/me", **bearer(clerk_token)).status_code == 200
    with clock.frozen(token.expires_at):
        assert client.get(f"{API}/me", **bearer(clerk_token)).status_code == 401


def test_revoked_token_is_401(client, clerk, clerk_token):
    token = ApiToken.objects.get()
    services.api_token_revoke(actor=selectors.actor_for(clerk), token=token)
    assert client.get(f"{API}/me", **bearer(clerk_token)).status_code == 401


def test_deactivated_owner_is_401(client, clerk, clerk_token, security_admin):
    services.user_deactivate(actor=selectors.actor_for(security_admin), user=clerk)
    assert client.get(f"{API}/me", **bearer(clerk_token)).status_code == 401


def test_token_bound_to_terminal_with_address(client, units, district_admin):
    terminal = make_terminal(units["saihan"], "FP-01", "fp-secret", ip="10.8.8.8")
    admin = selectors.actor_for(district_admin)
    system, _ = services.user_create(
        actor=admin, username="civil-sys", full_name="民政", is_system_account=True
    )
    services.role_grant(actor=admin, user=system, role="department_system", unit=units["saihan"])
    _, raw = services.api_token_create(
        actor=admin, user=system, name="fp", scopes=["accounts:read"], days=30, terminal=terminal
    )
    assert client.get(f"{API}/me", REMOTE_ADDR="10.8.8.9", **bearer(raw)).status_code == 401
    ok = client.get(f"{API}/me", REMOTE_ADDR="10.8.8.8", **bearer(raw))
    assert ok.status_code == 200
    assert ok.json()["terminal"] == "FP-01"
    terminal.active = False
    terminal.save()
    assert client.get(f"{API}/me", REMOTE_ADDR="10.8.8.8", **bearer(raw)).status_code == 401


def test_create_and_revoke_own_token(client, clerk, clerk_token):
    created = client.post(
        f"{API}/tokens",
        {"name": "nightly", "scopes": ["cases:read"], "days": 3},
        content_type="application/json",
        **bearer(clerk_token),
    )
    assert created.status_code == 201
    body = created.json()
    assert body["token"].startswith(body["prefix"] + ".")
    listing = client.get(f"{API}/tokens", **bearer(clerk_token)).json()
    assert {t["name"] for t in listing} == {"script", "nightly"}
    assert all("token" not in t for t in listing)
    new = body["token"]
    assert client.get(f"{API}/me", **bearer(new)).status_code == 200
    assert client.delete(f"{API}/tokens/{body['id']}", **bearer(clerk_token)).status_code == 204
    assert client.get(f"{API}/me", **bearer(new)).status_code == 401


def test_own_token_limits(client, clerk_token):
    too_long = client.post(
        f"{API}/tokens",
        {"name": "x", "scopes": ["cases:read"], "days": 31},
        content_type="application/json",
        **bearer(clerk_token),
    )
    assert too_long.status_code == 422
    unknown = client.post(
        f"{API}/tokens",
        {"name": "x", "scopes": ["root"], "days": 1},
        content_type="application/json",
        **bearer(clerk_token),
    )
    assert unknown.status_code == 422


def test_scope_is_respected(client, clerk):
    _, raw = services.api_token_create(
        actor=selectors.actor_for(clerk), user=clerk, name="read-only", scopes=["cases:read"], days=1
    )
    assert client.get(f"{API}/me", **bearer(raw)).status_code == 200  # /me needs no scope
    assert client.get(f"{API}/tokens", **bearer(raw)).status_code == 403
    created = client.post(
        f"{API}/tokens",
        {"name": "x", "scopes": ["cases:read"], "days": 1},
        content_type="application/json",
        **bearer(raw),
    )
    assert created.status_code == 403
    assert ApiToken.objects.filter(user=clerk).count() == 1


def test_require_scope_helper():
    from sanji.accounts.scopes import require_scope

    require_scope(Actor(user_id=1, username="s"), "audit:read")  # sessions carry no scopes
    require_scope(Actor(user_id=1, username="t", scopes=frozenset({"audit:read"})), "audit:read")
    with pytest.raises(Forbidden):
        require_scope(Actor(user_id=1, username="t", scopes=frozenset({"cases:read"})), "audit:read")


def test_someone_elses_token_is_404(client, clerk_token, make_user, security_admin):
    other = make_user("other", ("reviewer", "saihan"))
    token, _ = services.api_token_create(
        actor=selectors.actor_for(security_admin), user=other, name="x", scopes=["cases:read"], days=3
    )
    assert client.delete(f"{API}/tokens/{token.pk}", **bearer(clerk_token)).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_security_admin_issues_tokens_for_others_via_api(client, security_admin, make_user, platform):
    _, admin_raw = services.api_token_create(
        actor=platform, user=security_admin, name="ops", scopes=["accounts:write"], days=1
    )
    target = make_user("target", ("reviewer", "saihan"))
    response = client.post(
        f"{API}/tokens",
        {"name": "for-target", "scopes": ["cases:read"], "days": 200, "user_id": target.pk},
        content_type="application/json",
        **bearer(admin_raw),
    )
    assert response.status_code == 201
    assert response.json()["user_id"] == target.pk


def test_clerk_cannot_issue_tokens_for_others(client, clerk_token, make_user):
    other = make_user("other", ("reviewer", "saihan"))
    response = client.post(
        f"{API}/tokens",
        {"name": "x", "scopes": ["cases:read"], "days": 1, "user_id": other.pk},
        content_type="application/json",
        **bearer(clerk_token),
    )
    assert response.status_code == 404


def test_sessions_do_not_authenticate_the_api(make_user):
    from sanji.accounts.testing import sign_in

    user = make_user("citizen", ("applicant", "city"))
    browser = Client()
    sign_in(browser, user)
    assert browser.get(f"{API}/me").status_code == 401


def test_api_runs_without_sessions_csrf_or_the_signed_in_user(client, clerk, clerk_token):
    """The API skips the page middleware (sanji.core.middleware): a session cookie does not
    authenticate it, it sets no cookie, and the security headers still apply."""
    client.force_login(clerk)
    assert client.get("/accounts/login/").status_code in {200, 302}  # a page: the session works
    response = client.get(f"{API}/me")
    assert response.status_code == 401  # the session is not a credential of the API
    assert not response.cookies
    assert "Cookie" not in response.get("Vary", "")
    response = client.get(f"{API}/me", **bearer(clerk_token))
    assert response.status_code == 200
    assert not response.cookies
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" in response


def test_pages_still_get_csrf_protection(clerk):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert "csrftoken" in page.cookies
    refused = client.post("/accounts/login/", {"username": "clerk", "password": "x"})
    assert refused.status_code == 403


def test_api_responses_carry_the_configured_content_security_policy(client, clerk_token):
    """The API's CSP header is built once per process (sanji.core.middleware.CSPMiddleware): it is
    exactly what django-csp builds from the settings, on every response, errors included."""
    from csp.utils import build_policy

    expected = build_policy()
    assert "frame-ancestors 'none'" in expected
    for _ in range(2):
        response = client.get(f"{API}/me", **bearer(clerk_token))
        assert response.status_code == 200
        assert response["Content-Security-Policy"] == expected
    assert client.get(f"{API}/me")["Content-Security-Policy"] == expected  # 401
    assert "Content-Security-Policy-Report-Only" not in response
