"""The platform's own error pages and API docs: Chinese, inside the page shell, nothing from outside."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.staticfiles import finders
from django.test import Client, RequestFactory
from django.views import defaults


@pytest.mark.django_db
def test_not_found_is_a_page_of_the_platform_with_a_way_back():
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "页面不存在" in body
    assert 'href="/"' in body
    assert "The requested resource was not found" not in body


@pytest.mark.django_db
def test_forbidden_and_server_error_pages():
    request = RequestFactory().get("/somewhere/")
    request.user = AnonymousUser()
    forbidden = defaults.permission_denied(request, exception=Exception())
    assert forbidden.status_code == 403
    assert "无权访问" in forbidden.content.decode()
    failed = defaults.server_error(request)
    assert failed.status_code == 500
    assert "系统出错" in failed.content.decode()


@pytest.mark.django_db
def test_api_docs_load_nothing_from_the_internet():
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    body = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', body)
    assert sources, body[:500]
    assert all(s.startswith("/") for s in sources), sources
    assert "/static/ninja/swagger-ui-bundle.js" in sources
    assert finders.find("ninja/swagger-ui-bundle.js") is not None
