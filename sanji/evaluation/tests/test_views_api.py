"""Evaluation pages (rating form, device, follow-ups, scores, community, weights) and the API."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from ninja.testing import TestClient

from sanji.accounts import services as accounts
from sanji.accounts.models import User
from sanji.accounts.testing import sign_in
from sanji.cases.tests.conftest import SAIHAN_CA_WINDOW, SAIHAN_SUP, SYSTEM, XINCHENG_SUP
from sanji.core.actors import Actor, system_actor
from sanji.core.errors import SanjiError
from sanji.core.roles import Role
from sanji.evaluation import services
from sanji.evaluation.api import router
from sanji.evaluation.models import CommunityScore, FollowUp, MonthlyScore, Rating
from sanji.evaluation.tests.conftest import completed
from sanji.orgs.models import Unit
from sanji.supervision.tests.conftest import CITY_SUP

pytestmark = pytest.mark.usefixtures("org", "frozen_now")
PASSWORD = "Qingcheng#2024x"


@pytest.fixture(autouse=True)
def _fast(settings: Any) -> Any:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()


def person(name: str, role: str | None = None, unit_code: str = "") -> tuple[Client, User, Actor]:
    user, _ = accounts.user_create(
        actor=SYSTEM, username=name, full_name=name, password=PASSWORD, must_change_password=False
    )
    if role is not None:
        accounts.role_grant(actor=SYSTEM, user=user, role=role, unit=Unit.objects.get(code=unit_code))
    client = Client()
    sign_in(client, user)
    from sanji.accounts.selectors import actor_for

    return client, user, actor_for(user)


def test_portal_rating_form_and_bad_review_follow_up_pages() -> None:
    client, _user, citizen = person("citizen1")
    case = completed(citizen)
    portal_page = client.get(reverse("portal:case", args=[case.pk])).content.decode()
    assert reverse("evaluation:rate", args=[case.pk]) in portal_page  # the completed case invites a rating
    assert reverse("evaluation:my_ratings") in portal_page  # and the portal's menu leads to all of them
    assert (
        reverse("evaluation:rate", args=[case.pk])
        in client.get(reverse("evaluation:my_ratings")).content.decode()
    )
    page = client.get(reverse("evaluation:rate", args=[case.pk])).content.decode()
    assert "非常不满意" in page
    client.post(reverse("evaluation:rate", args=[case.pk]), {"level": "1", "comment": "等了很久"})
    rating = Rating.objects.get(case=case)
    assert rating.level == 1
    again = client.post(
        reverse("evaluation:rate", args=[case.pk]), {"level": "5"}, follow=True
    ).content.decode()
    assert Rating.objects.get(case=case).level == 1
    assert "您已评价" in again
    stranger, _, _ = person("stranger1")
    assert stranger.get(reverse("evaluation:rate", args=[case.pk])).status_code == 404
    assert stranger.post(reverse("evaluation:rate", args=[case.pk]), {"level": "1"}).status_code == 404

    window, _, _ = person("window1", Role.WINDOW_CLERK, SAIHAN_CA_WINDOW)
    follow_up = FollowUp.objects.get()
    worklist = window.get(reverse("evaluation:follow_ups")).content.decode()
    assert reverse("evaluation:follow_up_detail", args=[follow_up.pk]) in worklist
    window.post(
        reverse("evaluation:follow_up_act", args=[follow_up.pk, "reply"]),
        {"finding": "verified", "action_taken": "加强培训", "reply": "已整改并致歉"},
    )
    follow_up.refresh_from_db()
    assert follow_up.state == "replied"
    other, _, _ = person("sup-xc", Role.SUPERVISOR, XINCHENG_SUP)
    assert other.get(reverse("evaluation:follow_up_detail", args=[follow_up.pk])).status_code == 404


def test_window_device_page() -> None:
    case, code = completed(None, with_code=True)
    window, _, _ = person("window2", Role.WINDOW_CLERK, SAIHAN_CA_WINDOW)
    assert window.get(reverse("evaluation:device")).status_code == 200
    wrong = window.post(
        reverse("evaluation:device"), {"number": case.number, "code": "XXXXXXXX", "level": "5"}, follow=True
    )
    assert not Rating.objects.exists()
    assert "没有与此办件编号和查询码相符的办件。" in wrong.content.decode()
    window.post(reverse("evaluation:device"), {"number": case.number, "code": code, "level": "4"})
    assert Rating.objects.get(case=case).channel == "device"


def test_scores_community_and_weights_pages() -> None:
    _, _, citizen = person("citizen3")
    case = completed(citizen)
    services.rating_submit(actor=citizen, case_id=case.pk, level=5)
    month = dt.date(2026, 3, 1)
    city, _, _ = person("sup-city", Role.SUPERVISOR, CITY_SUP)
    response = city.post(reverse("evaluation:compute"), {"month": "2026-03"})
    assert response.status_code == 302
    assert MonthlyScore.objects.filter(month=month).exists()
    html = city.get(reverse("evaluation:scores"), {"month": "2026-03", "kind": "window"}).content.decode()
    score = MonthlyScore.objects.get(month=month, subject_kind="window")
    assert reverse("evaluation:score_detail", args=[score.pk]) in html
    detail = city.get(reverse("evaluation:score_detail", args=[score.pk])).content.decode()
    assert "满意度" in detail
    assert "style=" not in detail
    ranking = city.get(reverse("evaluation:community"), {"month": "2026-03"}).content.decode()
    assert "赛罕区" in ranking  # districts by name, not by region path
    assert ">150100/150105/<" not in ranking
    assert CommunityScore.objects.filter(month=month).exclude(district_path="150100/150105/").exists()
    page = city.get(reverse("evaluation:community"), {"month": "2026-03", "district": "150100/150105/"})
    shown = page.context["page"]
    assert shown.paginator.count == CommunityScore.objects.filter(district_path="150100/150105/").count() > 0
    assert {r.district_path for r in shown} == {"150100/150105/"}
    # Without a month the pages open on the latest month assessed (March, computed above), and when
    # none is, on the month before the current one (February; today is 2026-03-03), whose results
    # come only after it ends.
    assert 'value="2026-03"' in city.get(reverse("evaluation:scores")).content.decode()
    assert 'value="2026-03"' in city.get(reverse("evaluation:community")).content.decode()
    MonthlyScore.objects.all().delete()
    CommunityScore.objects.all().delete()
    assert 'value="2026-02"' in city.get(reverse("evaluation:scores")).content.decode()
    services.community_compute(actor=SYSTEM, month=dt.date(2026, 1, 1))
    assert 'value="2026-01"' in city.get(reverse("evaluation:community")).content.decode()
    city.post(reverse("evaluation:weights"), {"key": "order", "value": "-8"})
    assert services.weights()["order"] == -8
    district, _, _ = person("sup-sh", Role.SUPERVISOR, SAIHAN_SUP)
    district.post(reverse("evaluation:weights"), {"key": "order", "value": "-1"})
    assert services.weights()["order"] == -8
    xincheng, _, _ = person("sup-xc2", Role.SUPERVISOR, XINCHENG_SUP)
    assert xincheng.get(reverse("evaluation:score_detail", args=[score.pk])).status_code == 404


api = TestClient(router)


def call(method: str, path: str, actor: Actor, **kw: Any) -> Any:
    try:
        return getattr(api, method)(path, auth=actor, **kw)
    except SanjiError as exc:
        return type("Refused", (), {"status_code": exc.status, "message": exc.message})()


def test_api_rating_and_scores() -> None:
    _, _, citizen = person("citizen4")
    citizen = dataclasses.replace(citizen, channel="api", scopes=frozenset({"evaluation:write"}))
    case = completed(citizen)
    res = call("post", f"/cases/{case.pk}/rating", citizen, json={"level": 2, "comment": "慢"})
    assert res.status_code == 201, getattr(res, "content", res)
    assert res.json()["follow_up_id"] is not None
    assert call("post", f"/cases/{case.pk}/rating", citizen, json={"level": 2}).status_code == 409
    _, _, stranger = person("stranger4")
    assert call("post", f"/cases/{case.pk}/rating", stranger, json={"level": 5}).status_code == 404
    services.scores_compute(actor=system_actor("t"), month=dt.date(2026, 3, 1))
    _, _, sup = person("sup-api", Role.SUPERVISOR, SAIHAN_SUP)
    rows = call("get", "/scores?month=2026-03&kind=window", sup).json()
    assert rows
    assert rows[0]["rank"] == 1
    detail = call("get", f"/scores/{rows[0]['id']}", sup).json()
    assert any(i["rating_id"] for i in detail["items"])
    assert call("get", "/scores?month=bad", sup).status_code == 422
    _, _, other = person("sup-api-xc", Role.SUPERVISOR, XINCHENG_SUP)
    assert call("get", f"/scores/{rows[0]['id']}", other).status_code == 404


def test_rating_list_filters_and_scope() -> None:
    from sanji.core import clock

    _client, _user, citizen = person("citizen-r")
    good, bad = completed(citizen), completed(citizen)
    services.rating_submit(actor=citizen, case_id=good.pk, level=5, comment="很好")
    services.rating_submit(actor=citizen, case_id=bad.pk, level=1, comment="等了很久")
    url = reverse("evaluation:ratings")
    sup, _, _ = person("sup-r", Role.SUPERVISOR, SAIHAN_SUP)
    both = sup.get(url).content.decode()
    assert good.number in both
    assert bad.number in both
    only_bad = sup.get(url, {"level": "1"}).content.decode()
    assert bad.number in only_bad
    assert good.number not in only_bad
    unit = Rating.objects.get(case=bad).unit
    assert bad.number in sup.get(url, {"unit": unit.code}).content.decode()
    assert bad.number not in sup.get(url, {"unit": "no-such-unit"}).content.decode()
    this_month = clock.today().strftime("%Y-%m")
    assert bad.number in sup.get(url, {"month": this_month}).content.decode()
    assert bad.number not in sup.get(url, {"month": "2025-01"}).content.decode()
    window, _, _ = person("window-r", Role.WINDOW_CLERK, SAIHAN_CA_WINDOW)
    assert bad.number in window.get(url).content.decode()  # the rated unit's own staff
    other, _, _ = person("sup-xc-r", Role.SUPERVISOR, XINCHENG_SUP)
    assert bad.number not in other.get(url).content.decode()  # another district: nothing
    city, _, _ = person("sup-city-r", Role.SUPERVISOR, CITY_SUP)
    assert bad.number in city.get(url).content.decode()
    stranger, _, _ = person("citizen-s")
    assert stranger.get(url).status_code == 404
