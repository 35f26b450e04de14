"""Catalogue pages: public browsing, administrator editors, refusals."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from sanji.accounts.models import User
from sanji.accounts.testing import sign_in
from sanji.catalog import selectors, services
from sanji.catalog.models import FlowVersion, Matter
from sanji.catalog.seed_matters import THREE_LEVEL_MATTER_CODE
from sanji.catalog.tests.conftest import current
from sanji.core.actors import Actor, system_actor


@pytest.fixture
def seeded(db: None) -> None:
    services.catalog_seed(actor=system_actor())


@pytest.fixture
def admin_client(client: Client, admin_user: User) -> Client:
    sign_in(client, admin_user)
    return client


@pytest.fixture
def clerk_client(client: Client, clerk_user: User) -> Client:
    sign_in(client, clerk_user)
    return client


@pytest.mark.usefixtures("seeded")
class TestPublicPages:
    def test_anonymous_browses_and_searches(self, client: Client) -> None:
        page = client.get(reverse("catalog:list")).content.decode()
        assert "最低生活保障审批" in page
        assert "新增事项" not in page
        found = client.get(reverse("catalog:list"), {"q": "居住证"}).content.decode()
        assert "居住证签注" in found
        assert "最低生活保障审批" not in found

    def test_filter_by_level(self, client: Client) -> None:
        page = client.get(reverse("catalog:list"), {"level": "city"}).content.decode()
        assert "不动产登记" in page
        assert "结婚登记" not in page

    def test_guide_shows_materials_fees_limits_flow_and_basis(self, client: Client) -> None:
        page = client.get(reverse("catalog:detail", args=["ZR-0002"])).content.decode()
        for text in (
            "不动产登记申请书",
            "80.00",
            "发改价格规〔2016〕2559号",
            "登簿",
            "《不动产登记暂行条例》",
            "30",
        ):
            assert text in page

    def test_guide_in_english_uses_english_punctuation_and_plurals(self, client: Client) -> None:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        page = client.get(reverse("catalog:detail", args=["ZR-0002"])).content.decode()
        assert "Basis for fee: " in page
        assert "30 working days" in page
        assert "5 working days" in page
        assert "收费依据" not in page
        assert "：" not in page.split("<main", 1)[1].split("发改价格规")[0]

    def test_three_level_guide(self, client: Client) -> None:
        page = client.get(reverse("catalog:detail", args=[THREE_LEVEL_MATTER_CODE])).content.decode()
        assert "社区公共服务站收件、扫描材料" in page
        assert "市住房保障部门终审" in page
        assert "上报上级" in page

    def test_blank_form_download(self, client: Client) -> None:
        matter = selectors.matter_get("MZ-0001")
        material = next(m for m in selectors.materials_for(current(matter)) if m.blank_form_template)
        response = client.get(reverse("catalog:blank_form", args=["MZ-0001", material.pk]))
        assert response.status_code == 200
        assert "attachment" in response["Content-Disposition"]
        assert "最低生活保障申请书" in response.content.decode()

    def test_inactive_matter_is_404_for_the_public(self, client: Client, admin: Actor) -> None:
        services.matter_deactivate(actor=admin, matter=Matter.objects.get(code="MZ-0003"))
        assert client.get(reverse("catalog:detail", args=["MZ-0003"])).status_code == 404
        assert client.get(reverse("catalog:versions", args=["MZ-0003"])).status_code == 404
        assert client.get(reverse("catalog:detail", args=["XX-9"])).status_code == 404

    def test_version_history_and_detail(self, client: Client) -> None:
        page = client.get(reverse("catalog:versions", args=["SJ-0003"])).content.decode()
        assert "v1" in page
        assert "初始版本" in page
        detail = client.get(reverse("catalog:version_detail", args=["SJ-0003", 1]))
        assert detail.status_code == 200
        assert "现场核查" in detail.content.decode()
        assert client.get(reverse("catalog:version_detail", args=["SJ-0003", 9])).status_code == 404


EDIT_PAGES = [
    ("catalog:create", []),
    ("catalog:edit", ["MZ-0001"]),
    ("catalog:flow_edit", ["MZ-0001"]),
]
POST_ONLY = [("catalog:deactivate", ["MZ-0001"]), ("catalog:activate", ["MZ-0001"])]


@pytest.mark.usefixtures("seeded")
class TestRefusals:
    @pytest.mark.parametrize(("name", "args"), EDIT_PAGES + POST_ONLY)
    def test_anonymous_is_sent_to_login(self, client: Client, name: str, args: list[str]) -> None:
        response = client.post(reverse(name, args=args))
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]

    @pytest.mark.parametrize(("name", "args"), EDIT_PAGES)
    def test_clerk_is_refused_edit_pages(self, clerk_client: Client, name: str, args: list[str]) -> None:
        assert clerk_client.get(reverse(name, args=args)).status_code == 403
        assert clerk_client.post(reverse(name, args=args), {"name": "x"}).status_code == 403

    @pytest.mark.parametrize(("name", "args"), POST_ONLY)
    def test_clerk_is_refused_activation(self, clerk_client: Client, name: str, args: list[str]) -> None:
        assert clerk_client.post(reverse(name, args=args)).status_code == 403
        assert Matter.objects.get(code="MZ-0001").active

    def test_unknown_matter_is_404_even_for_the_admin(self, admin_client: Client) -> None:
        assert admin_client.get(reverse("catalog:edit", args=["XX-0000"])).status_code == 404

    def test_clerk_sees_no_edit_links(self, clerk_client: Client) -> None:
        page = clerk_client.get(reverse("catalog:detail", args=["MZ-0001"])).content.decode()
        assert reverse("catalog:edit", args=["MZ-0001"]) not in page


def _flow_post(version: FlowVersion, **overrides: Any) -> dict[str, Any]:
    """The flow editor's form as a browser would post it, prefilled from ``version``."""
    matter = version.matter
    data: dict[str, Any] = {
        "kind": version.kind,
        "department_kind": version.department_kind,
        "accepting_levels": list(version.accepting_levels),
        "deciding_level": version.deciding_level,
        "legal_limit_days": version.legal_limit_days,
        "promised_limit_days": version.promised_limit_days,
        "fee_amount": str(version.fee_amount),
        "fee_basis": version.fee_basis,
        "note": "调整审查时限",
    }
    steps = selectors.steps_for(version)
    data |= {"steps-TOTAL_FORMS": len(steps) + 1, "steps-INITIAL_FORMS": len(steps)}
    for i, s in enumerate(steps):
        data |= {
            f"steps-{i}-order": s.order,
            f"steps-{i}-code": s.code,
            f"steps-{i}-name": s.name,
            f"steps-{i}-level": s.level,
            f"steps-{i}-role": s.role,
            f"steps-{i}-department_kind": s.department_kind or "",
            f"steps-{i}-limit_days": s.limit_days,
            f"steps-{i}-parallel_group": s.parallel_group or "",
        }
        if s.report_up:
            data[f"steps-{i}-report_up"] = "on"
    materials = selectors.materials_for(version)
    data |= {"materials-TOTAL_FORMS": len(materials) + 1, "materials-INITIAL_FORMS": len(materials)}
    for i, m in enumerate(materials):
        data |= {
            f"materials-{i}-name": m.name,
            f"materials-{i}-form": m.form,
            f"materials-{i}-count": m.count,
            f"materials-{i}-blank_form_name": m.blank_form_name,
            f"materials-{i}-blank_form_template": m.blank_form_template,
            f"materials-{i}-notes": m.notes,
        }
        if m.required:
            data[f"materials-{i}-required"] = "on"
    assert current(matter).pk == version.pk
    data.update(overrides)
    return data


@pytest.mark.usefixtures("seeded")
class TestAdminPages:
    def test_admin_sees_editor_links(self, admin_client: Client) -> None:
        assert "新增事项" in admin_client.get(reverse("catalog:list")).content.decode()
        page = admin_client.get(reverse("catalog:flow_edit", args=[THREE_LEVEL_MATTER_CODE])).content.decode()
        assert "社区公共服务站收件、扫描材料" in page

    def test_flow_editor_publishes_a_new_version(self, admin_client: Client) -> None:
        matter = Matter.objects.get(code="SJ-0003")
        v1 = current(matter)
        data = _flow_post(v1, **{"steps-1-limit_days": 2, "materials-4-DELETE": "on"})
        response = admin_client.post(reverse("catalog:flow_edit", args=["SJ-0003"]), data)
        assert response.status_code == 302
        assert response["Location"] == reverse("catalog:versions", args=["SJ-0003"])
        matter.refresh_from_db()
        v2 = selectors.flow_version_get(current(matter).pk)
        assert v2.number == 2
        assert v2.note == "调整审查时限"
        assert [s.limit_days for s in selectors.steps_for(v2)] == [1, 2, 2, 1, 0]
        assert len(selectors.materials_for(v2)) == 4
        assert [s.limit_days for s in selectors.steps_for(selectors.flow_version_get(v1.pk))] == [
            1,
            1,
            2,
            1,
            0,
        ]

    def test_flow_editor_shows_problems_and_publishes_nothing(self, admin_client: Client) -> None:
        matter = Matter.objects.get(code="SJ-0003")
        data = _flow_post(current(matter), **{"steps-1-limit_days": 30})
        response = admin_client.post(reverse("catalog:flow_edit", args=["SJ-0003"]), data)
        assert response.status_code == 200
        assert "各环节时限之和超过法定时限" in response.content.decode()
        assert FlowVersion.objects.filter(matter=matter).count() == 1

    def test_edit_details(self, admin_client: Client) -> None:
        data = {
            "name": "食品经营许可（新办）",
            "matter_type": "licensing",
            "legal_basis": "《食品安全法》第三十五条",
            "online": "on",
            "conditions": "",
            "procedure": "",
            "contact": "0471-12345",
        }
        response = admin_client.post(reverse("catalog:edit", args=["SJ-0003"]), data)
        assert response.status_code == 302
        assert Matter.objects.get(code="SJ-0003").contact == "0471-12345"

    def test_create_then_publish(self, admin_client: Client) -> None:
        data = {
            "code": "JY-0009",
            "name": "普通话水平测试报名",
            "matter_type": "public_service",
            "legal_basis": "《中华人民共和国国家通用语言文字法》",
            "kind": "immediate",
            "department_kind": "education",
            "accepting_levels": ["district"],
            "deciding_level": "district",
            "legal_limit_days": 0,
            "promised_limit_days": 0,
            "fee_amount": "0",
            "fee_basis": "",
        }
        response = admin_client.post(reverse("catalog:create"), data)
        assert response["Location"] == reverse("catalog:flow_edit", args=["JY-0009"])
        assert admin_client.get(response["Location"]).status_code == 200

    def test_create_refuses_bad_terms(self, admin_client: Client) -> None:
        data = {
            "code": "JY-0009",
            "name": "x",
            "matter_type": "public_service",
            "legal_basis": "y",
            "kind": "promised",
            "department_kind": "education",
            "accepting_levels": ["district"],
            "deciding_level": "district",
            "legal_limit_days": 5,
            "promised_limit_days": 9,
            "fee_amount": "0",
        }
        page = admin_client.post(reverse("catalog:create"), data).content.decode()
        assert "承诺时限不能超过法定时限" in page
        assert not Matter.objects.filter(code="JY-0009").exists()

    def test_deactivate_and_activate(self, admin_client: Client) -> None:
        admin_client.post(reverse("catalog:deactivate", args=["MZ-0001"]))
        assert not Matter.objects.get(code="MZ-0001").active
        assert "最低生活保障审批" in admin_client.get(reverse("catalog:list"), {"all": "1"}).content.decode()
        admin_client.post(reverse("catalog:activate", args=["MZ-0001"]))
        assert Matter.objects.get(code="MZ-0001").active
