"""Demo sharing grant: the city civil-affairs bureau (民政局, the demo data officer ``city.dataofficer``)
may read sex, birth date, marital status, household and actual residence of residents to review
minimum-living-allowance (低保) applications, for one year. Issued through the real service as the
platform; seeded only when the demo has residents, and only once."""

from __future__ import annotations

import datetime as dt

from sanji.core import clock
from sanji.core.actors import system_actor
from sanji.orgs.models import Unit
from sanji.population.models import Person
from sanji.sharing import services
from sanji.sharing.models import SharingGrant

UNIT = "150100-DEPT-civil_affairs"
PURPOSE = "最低生活保障资格审核与复核"
FIELDS = ("sex", "birth_date", "marital_status", "household", "relation", "residence")


def seed_demo_sharing() -> str:
    """Issue the demo grant if residents exist and the bureau holds no active grant yet."""
    if not Person.objects.exists():
        return "sharing: no residents yet, no grant"
    unit = Unit.objects.filter(code=UNIT).first()
    if unit is None or unit.department_id is None:
        return "sharing: no civil-affairs bureau, no grant"
    existing = SharingGrant.objects.filter(department_id=unit.department_id, revoked_at__isnull=True).first()
    if existing is not None:
        return f"sharing: grant #{existing.pk} exists"
    today = clock.today()
    grant = services.grant_create(
        actor=system_actor("demo", channel="system"),
        department_id=unit.department_id,
        fields=list(FIELDS),
        purpose=PURPOSE,
        legal_basis="《社会救助暂行办法》第十一条、《内蒙古自治区最低生活保障工作规程》",
        valid_from=today,
        valid_until=today + dt.timedelta(days=365),
    )
    return f"sharing: grant #{grant.pk} for {unit.name}"
