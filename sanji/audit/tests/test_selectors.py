import datetime as dt

import pytest
from django.db.models import QuerySet

from sanji.audit import selectors
from sanji.audit.models import Entry
from sanji.audit.tests.conftest import CITY, SAIHAN, actor_with
from sanji.core import clock
from sanji.core.errors import Forbidden, NotFound
from sanji.core.roles import Role

pytestmark = pytest.mark.django_db


def seqs(qs: QuerySet[Entry]) -> list[int]:
    return list(qs.values_list("seq", flat=True))


def test_list_is_newest_first_and_scoped(trail, city_auditor, saihan_auditor):
    assert seqs(selectors.entry_list_for(city_auditor)) == [e.seq for e in reversed(trail)]
    assert seqs(selectors.entry_list_for(saihan_auditor)) == [
        e.seq for e in reversed(trail) if e.region_path.startswith(SAIHAN)
    ]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"username": "li"}, [2, 4, 6]),
        ({"unit_id": 11}, [0, 1, 3, 7]),
        ({"action": "cases."}, [0, 1, 2, 6]),
        ({"action": "cases.accepted"}, [0, 2]),
        ({"target_type": "nothing"}, []),
    ],
)
def test_filters(trail, city_auditor, kwargs, expected):
    assert seqs(selectors.entry_list_for(city_auditor, **kwargs)) == [
        trail[i].seq for i in reversed(expected)
    ]


def test_target_filter(trail, city_auditor):
    from sanji.audit import services
    from sanji.audit.models import ChainHead

    head = ChainHead.objects.get(pk=1)
    entry = services.record(actor=city_auditor, action="x.y", target=head)
    assert seqs(selectors.entry_list_for(city_auditor, target_type="audit.chainhead", target_id="1")) == [
        entry.seq
    ]


def test_time_range(trail, city_auditor):
    now = clock.now()
    assert len(seqs(selectors.entry_list_for(city_auditor, since=now - dt.timedelta(hours=1)))) == len(trail)
    assert seqs(selectors.entry_list_for(city_auditor, until=now - dt.timedelta(hours=1))) == []


def test_get_in_and_out_of_scope(trail, saihan_auditor):
    assert selectors.entry_get_for(saihan_auditor, trail[0].seq).seq == trail[0].seq
    with pytest.raises(NotFound):
        selectors.entry_get_for(saihan_auditor, trail[2].seq)  # Xincheng
    with pytest.raises(NotFound):
        selectors.entry_get_for(saihan_auditor, trail[4].seq)  # place-less
    with pytest.raises(NotFound):
        selectors.entry_get_for(saihan_auditor, 999_999)


@pytest.mark.parametrize("role", [Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.SUPERVISOR])
def test_other_roles_are_refused(trail, role):
    actor = actor_with(role, CITY)
    with pytest.raises(Forbidden):
        selectors.entry_list_for(actor)
    with pytest.raises(Forbidden):
        selectors.entry_get_for(actor, trail[0].seq)
