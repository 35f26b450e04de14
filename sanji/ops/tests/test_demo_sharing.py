"""The demo's sharing grant: only with residents, once, usable by the demo data officer's bureau."""

from __future__ import annotations

import pytest

from sanji.ops import demo_sharing
from sanji.sharing import selectors
from sanji.sharing.models import SharingGrant
from sanji.sharing.tests.conftest import (  # noqa: F401  (fixtures used by name)
    ID_SH,
    city,
    frozen_now,
    reader,
    residents,
)


@pytest.mark.usefixtures("city")
def test_no_grant_without_residents() -> None:
    assert "no residents" in demo_sharing.seed_demo_sharing()
    assert not SharingGrant.objects.exists()


@pytest.mark.usefixtures("residents")
def test_grant_once_and_usable() -> None:
    demo_sharing.seed_demo_sharing()
    demo_sharing.seed_demo_sharing()
    grant = SharingGrant.objects.get()
    shared = selectors.person_get_for(reader(), ID_SH, "低保审核", grant_id=grant.pk)
    assert set(shared.fields) >= {"sex", "residence", "household"}
