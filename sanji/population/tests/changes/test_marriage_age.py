"""The legal marriage age (法定婚龄, 《民法典》第一千零四十七条: men 22, women 20) on marital-status
changes, as of the change's effective date: the rule table-driven, then through the real services."""

from __future__ import annotations

import datetime as dt

import pytest

from sanji.core import clock
from sanji.core.errors import ValidationFailed
from sanji.population import services
from sanji.population.change_values import age_on, marriage_age_problem
from sanji.population.models import ChangeState, Person, PersonChange
from sanji.population.tests.changes.conftest import World, new_id

MAN, WOMAN = "1", "2"


@pytest.mark.parametrize(
    ("sex", "born", "status", "on", "refused"),
    [
        (MAN, dt.date(2003, 6, 1), "20", dt.date(2025, 5, 31), True),  # 21 the day before his birthday
        (MAN, dt.date(2003, 6, 1), "20", dt.date(2025, 6, 1), False),  # 22 on it
        (WOMAN, dt.date(2005, 6, 1), "20", dt.date(2025, 5, 31), True),
        (WOMAN, dt.date(2005, 6, 1), "21", dt.date(2025, 6, 1), False),
        (WOMAN, dt.date(2004, 2, 29), "20", dt.date(2024, 2, 28), True),  # born on 29 February
        (WOMAN, dt.date(2004, 2, 29), "20", dt.date(2024, 2, 29), False),
        (WOMAN, dt.date(2005, 2, 28), "22", dt.date(2025, 2, 27), True),  # 再婚
        (MAN, dt.date(2004, 1, 1), "23", dt.date(2025, 1, 1), True),  # 复婚
        (MAN, dt.date(2004, 1, 1), "40", dt.date(2025, 1, 1), True),  # 离婚 follows a marriage
        (WOMAN, dt.date(2007, 1, 1), "30", dt.date(2025, 1, 1), True),  # 丧偶 too
        (MAN, dt.date(2010, 1, 1), "10", dt.date(2025, 1, 1), False),  # 未婚: no age
        (MAN, dt.date(2010, 1, 1), "90", dt.date(2025, 1, 1), False),
        (WOMAN, dt.date(1960, 3, 1), "20", dt.date(1978, 3, 1), False),  # 1950 law: women 18
        (MAN, dt.date(1958, 3, 1), "20", dt.date(1978, 3, 1), False),  # men 20
        (MAN, dt.date(1960, 3, 1), "20", dt.date(1980, 12, 31), False),  # 20 under the 1950 law
        (MAN, dt.date(1960, 3, 1), "20", dt.date(1981, 1, 1), True),  # the 1980 law in force: 22
        (MAN, dt.date(1925, 3, 1), "20", dt.date(1940, 3, 1), False),  # before any statutory age
    ],
)
def test_the_legal_marriage_age_rule(sex, born, status, on, refused) -> None:
    problem = marriage_age_problem(sex=sex, birth_date=born, marital_status=status, on=on)
    assert (problem is not None) == refused, problem


def test_the_message_names_the_law_the_age_and_the_date() -> None:
    problem = marriage_age_problem(
        sex=MAN, birth_date=dt.date(2004, 7, 1), marital_status="20", on=dt.date(2025, 5, 1)
    )
    assert problem == (
        "婚姻状况“已婚”须达到法定婚龄：男不得早于 22 周岁结婚（《民法典》第一千零四十七条）；"
        "此人在 2025-05-01 为 20 周岁。"
    )
    assert age_on(dt.date(2004, 2, 29), dt.date(2025, 3, 1)) == 21


@pytest.mark.django_db
def test_a_marriage_below_the_legal_age_is_refused_through_the_services(world: World) -> None:
    today = clock.today()
    # A baby registered by birth, verified: no marriage for them.
    mother = world.person(1)
    number = new_id(dt.date(2025, 3, 1), seq=51)
    birth = services.change_submit(
        actor=world.officer,
        kind="birth",
        person_id=None,
        values={
            "id_number": number,
            "name": "张小宝",
            "ethnicity": "01",
            "household_code": mother.household_id,
            "relation": "20",
        },
    )
    services.change_verify(actor=world.police, change_id=birth.pk, expected_state=ChangeState.SUBMITTED)
    baby = Person.objects.get(name="张小宝")
    with pytest.raises(ValidationFailed) as refused:
        services.change_submit(
            actor=world.officer,
            kind="marriage_status",
            person_id=baby.pk,
            values={"marital_status": "已婚", "effective_date": today.isoformat()},
        )
    [detail] = refused.value.details
    assert (detail["field"], detail["code"]) == ("marital_status", "under_marriage_age")
    assert "男不得早于 22 周岁结婚（《民法典》第一千零四十七条）" in detail["reason"]
    # A correction of the marital status is held to the same rule.
    with pytest.raises(ValidationFailed) as corrected:
        services.change_submit(
            actor=world.officer, kind="correction", person_id=baby.pk, values={"marital_status": "20"}
        )
    assert corrected.value.details[0]["code"] == "under_marriage_age"

    # The move-in of a young woman given as married: her age on the move-in date counts.
    young = idnumber_born(today.replace(year=today.year - 19), seq=82)
    values = {
        "id_number": young,
        "name": "王小丽",
        "ethnicity": "01",
        "registered_code": "110105",
        "household_code": "H-SA-1",
        "relation": "99",
        "marital_status": "20",
        "effective_date": today.isoformat(),
    }
    with pytest.raises(ValidationFailed) as moved:
        services.change_submit(actor=world.officer, kind="move_in", person_id=None, values=values)
    assert "女不得早于 20 周岁结婚" in moved.value.details[0]["reason"]
    assert not PersonChange.objects.exclude(pk=birth.pk).exists()
    # Of age, the same marriage goes through (张伟 was born in 1980).
    services.change_submit(
        actor=world.officer,
        kind="marriage_status",
        person_id=world.person(0).pk,
        values={"marital_status": "40", "effective_date": today.isoformat()},
    )


def idnumber_born(birth: dt.date, *, seq: int) -> str:
    """A woman's number (an even sequence) born on ``birth``."""
    return new_id(birth, seq=seq if seq % 2 == 0 else seq + 1)
