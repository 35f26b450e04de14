import pytest

from sanji.audit import policies
from sanji.audit.models import Entry
from sanji.audit.tests.conftest import CITY, SAIHAN, XINCHENG, actor_with, auditor_at
from sanji.core.actors import ANONYMOUS, system_actor
from sanji.core.roles import Role


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_only_the_security_auditor_reads(role):
    actor = actor_with(role, CITY)
    expected = role == Role.SECURITY_AUDITOR
    assert policies.can_read(actor) is expected
    assert policies.can_export(actor) is expected
    assert policies.can_verify(actor) is expected
    assert policies.can_purge(actor) is False


def test_nobody_without_role_reads():
    assert not policies.can_read(ANONYMOUS)
    assert not policies.can_read(system_actor())


def test_api_scope_is_required():
    assert policies.can_read(auditor_at(CITY, scopes=frozenset({"audit:read"})))
    assert not policies.can_read(auditor_at(CITY, scopes=frozenset({"cases:read"})))


def test_purge_is_for_the_platform_only():
    assert policies.can_purge(system_actor("sanji audit purge", channel="cli"))
    assert policies.can_purge(system_actor())
    assert not policies.can_purge(system_actor(channel="web"))
    assert not policies.can_purge(auditor_at(CITY))


@pytest.mark.parametrize(
    ("grant_path", "entry_path", "expected"),
    [
        (CITY, SAIHAN, True),
        (CITY, "", True),  # place-less entries: city-root auditors only
        (SAIHAN, "", False),
        (SAIHAN, SAIHAN + "150105001/", True),
        (SAIHAN, XINCHENG, False),
        (SAIHAN, CITY, False),
    ],
)
def test_reach(grant_path, entry_path, expected):
    entry = Entry(region_path=entry_path)
    assert policies.can_read_entry(auditor_at(grant_path), entry) is expected


@pytest.mark.django_db
def test_scope_matches_can_read_entry(trail):
    for actor in (auditor_at(CITY), auditor_at(SAIHAN), auditor_at(XINCHENG), actor_with("system_admin")):
        scoped = set(policies.scope(actor, Entry.objects.all()).values_list("seq", flat=True))
        assert scoped == {e.seq for e in trail if policies.can_read_entry(actor, e)}
