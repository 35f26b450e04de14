"""Demo population changes (演示人口变动): a few submitted, verified and rejected, through the services.

The demo population data officer ``saihan.population`` (人口计生信息员, 赛罕区) submits changes for
residents of 赛罕区 and the demo police verifier ``saihan.police`` (公安核查员) verifies some and
rejects one with its reason; the rest wait in the queue. Runs only when the registry has residents
in 赛罕区 (the demo residents are seeded separately) and only once (nothing is done when changes
exist). Each person acts from their unit's demo terminal.
"""

from __future__ import annotations

import datetime as dt

from sanji.accounts import selectors as account_selectors
from sanji.accounts.models import User
from sanji.core import clock, crypto, idnumber
from sanji.core.actors import Actor
from sanji.orgs.models import Region, Terminal
from sanji.population import services
from sanji.population.models import Person, PersonChange, PersonStatus

OFFICER = "saihan.population"
POLICE = "saihan.police"
DISTRICT = "150105"


def _actor(username: str) -> Actor | None:
    user = User.objects.filter(username=username).first()
    if user is None:
        return None
    grants = account_selectors.grants_for_user(user.pk)
    terminal = Terminal.objects.filter(unit_id__in=[g.unit_id for g in grants]).order_by("pk").first()
    return account_selectors.actor_for(user, terminal=terminal, channel="web")


def seed_demo_changes() -> str:
    """Seed the demo changes; answers a one-line summary (or why nothing was done)."""
    if PersonChange.objects.exists():
        return "population changes: already seeded"
    district = Region.objects.filter(code=DISTRICT).first()
    officer, police = _actor(OFFICER), _actor(POLICE)
    if district is None or officer is None or police is None:
        return "population changes: skipped (no demo people)"
    # Adults past the legal marriage age (《民法典》第1047条: 22/20): two of them change marital status.
    adult = clock.today() - dt.timedelta(days=23 * 366)
    people = list(
        Person.objects.filter(
            region_path__startswith=district.path,
            status=PersonStatus.LIVING,
            household__isnull=False,
            birth_date__lte=adult,
        ).order_by("pk")[:7]
    )
    if len(people) < 7:
        return "population changes: skipped (no residents in 赛罕区 yet)"
    today = clock.today()
    recent = (today - dt.timedelta(days=3)).isoformat()

    def submit(kind: str, person: Person | None, reason: str, **values: object) -> PersonChange:
        return services.change_submit(
            actor=officer,
            kind=kind,
            person_id=person.pk if person is not None else None,
            values=values,
            reason=reason,
            evidence="户口簿、居民身份证复印件",
        )

    def other(current: str, wanted: str, otherwise: str) -> str:
        return wanted if current != wanted else otherwise

    mother = people[6]
    born = today - dt.timedelta(days=20)
    newborn = next(
        number
        for s in range(1, 999, 2)  # odd: a boy (子)
        if not Person.objects.filter(
            id_index=crypto.blind_digest(number := idnumber.make(DISTRICT, born, s), purpose="person")
        ).exists()
    )
    verified = [
        submit("marriage_status", people[0], "婚姻状况变更",
               marital_status=other(people[0].marital_status, "20", "10"), effective_date=recent),
        submit("birth", None, "出生登记", id_number=newborn, name="其木格", ethnicity="02",
               household_code=mother.household_id, relation="20"),
    ]  # fmt: skip
    rejected = submit("death", people[1], "家属报告死亡", effective_date=recent)
    waiting = [
        submit("name", people[2], "本人申请更名", name=people[2].name[:1] + "晓明"),
        submit("move_out", people[3], "迁往包头市", effective_date=recent),
        submit("correction", people[4], "民族登记错误", ethnicity=other(people[4].ethnicity, "03", "02")),
        submit("marriage_status", people[5], "婚姻状况变更",
               marital_status=other(people[5].marital_status, "40", "20"), effective_date=recent),
    ]  # fmt: skip
    for change in verified:
        services.change_verify(actor=police, change_id=change.pk, expected_state="submitted")
    services.change_reject(actor=police, change_id=rejected.pk, reason="未提供死亡医学证明，请补充后重新申报")
    return (
        f"population changes: {len(verified)} verified, 1 rejected, {len(waiting)} waiting for verification"
    )
