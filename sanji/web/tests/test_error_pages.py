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


@pytest.mark.django_db
def test_a_form_sent_without_its_csrf_token_is_refused_on_a_page_of_the_platform():
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/accounts/login/",
        {"username": "x", "password": "y"},
        HTTP_REFERER="http://testserver/accounts/login/?next=/cases/",
    )
    assert response.status_code == 403
    body = response.content.decode()
    assert "表单已失效，未作任何处理" in body
    assert "CSRF verification failed" not in body
    assert 'href="/accounts/login/?next=/cases/"' in body  # back to the page the form came from


@pytest.mark.parametrize(
    ("method", "referer", "expected"),
    [
        ("get", "", "/cases/7/?tab=history"),
        ("post", "http://testserver/cases/7/?tab=history", "/cases/7/?tab=history"),
        ("post", "https://elsewhere.example/cases/", "/"),
        ("post", "", "/"),
    ],
)
def test_the_language_switch_returns_to_a_page_that_answers_a_get(method, referer, expected):
    """A page rendered in answer to a POST (an action refused at /cases/7/act/accept/) sends the
    language switch back to the page the form came from, not to the POST-only address (405)."""
    from sanji.web.context_processors import language_next

    factory = RequestFactory()
    if method == "get":
        request = factory.get("/cases/7/", {"tab": "history"})
    else:
        request = (
            factory.post("/cases/7/act/accept/", HTTP_REFERER=referer)
            if referer
            else factory.post("/cases/7/act/accept/")
        )
    assert language_next(request) == {"language_next": expected}


@pytest.mark.django_db
def test_the_shell_s_language_switch_uses_it():
    response = Client().post(
        "/accounts/login/",
        {"username": "nobody", "password": "wrong"},
        HTTP_REFERER="http://testserver/accounts/login/?next=/portal/",
    )
    body = response.content.decode()
    switch = re.search(r'<form[^>]*class="inline lang">.*?</form>', body, re.S)
    assert switch is not None
    assert 'name="next" value="/accounts/login/?next=/portal/"' in switch.group(0)
