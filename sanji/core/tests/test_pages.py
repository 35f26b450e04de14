"""The pages' shared answers: NotFound is a 404, Forbidden a 403, other refusals a message."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.test import RequestFactory

from sanji.core.actors import ANONYMOUS, Actor, Grant
from sanji.core.errors import Forbidden, NotFound, ValidationFailed
from sanji.core.pages import View, attempt, found, gate

CLERK = Actor(user_id=7, username="clerk", grants=(Grant("window_clerk", 1, "150100/"),))


def _request(*, actor: Actor = CLERK, signed_in: bool = True) -> HttpRequest:
    request = RequestFactory().post("/somewhere/")
    request.user = get_user_model()(username=actor.username) if signed_in else AnonymousUser()
    request.actor = actor  # type: ignore[attr-defined]  # as ActorMiddleware attaches it
    request._messages = CookieStorage(request)  # type: ignore[attr-defined]
    return request


def _messages(request: HttpRequest) -> list[tuple[str, str]]:
    return [(m.level_tag, m.message) for m in get_messages(request)]


def _raise(exc: Exception) -> Any:
    raise exc


# --- found ----------------------------------------------------------------------------------------


def test_found_passes_the_value_through_and_turns_not_found_into_404() -> None:
    assert found(lambda: 42) == 42
    with pytest.raises(Http404):
        found(lambda: _raise(NotFound()))
    with pytest.raises(Forbidden):  # only NotFound is translated
        found(lambda: _raise(Forbidden()))


# --- attempt --------------------------------------------------------------------------------------


def test_attempt_queues_the_success_message() -> None:
    request = _request()
    calls: list[int] = []
    assert attempt(request, lambda: calls.append(1), success="已处理。") is True
    assert calls == [1]
    assert _messages(request) == [("success", "已处理。")]


def test_attempt_shows_a_refusal_as_an_error_message() -> None:
    request = _request()
    refused = attempt(request, lambda: _raise(ValidationFailed("不能这样做。")), success="已处理。")
    assert refused is False
    assert _messages(request) == [("error", "不能这样做。")]


def test_attempt_answers_not_found_with_404_and_no_message() -> None:
    request = _request()
    with pytest.raises(Http404):
        attempt(request, lambda: _raise(NotFound()), success="已处理。")
    assert _messages(request) == []


# --- gate -----------------------------------------------------------------------------------------


def _clerks_only(actor: Actor) -> bool:
    return actor.has_role("window_clerk")


def _clerks_page(ran: list[str]) -> View:
    """A page only clerks may open, noting in ``ran`` that it ran."""

    @gate(_clerks_only)
    def view(request: HttpRequest) -> HttpResponse:
        ran.append("view")
        return HttpResponse("ok")

    return view


def test_gate_sends_the_signed_out_to_the_login_page_without_running_the_view() -> None:
    ran: list[str] = []
    response = _clerks_page(ran)(_request(actor=ANONYMOUS, signed_in=False))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert ran == []


def test_gate_refuses_an_actor_the_policy_refuses() -> None:
    ran: list[str] = []
    with pytest.raises(PermissionDenied):
        _clerks_page(ran)(_request(actor=Actor(user_id=8, username="auditor")))
    assert ran == []
    assert _clerks_page(ran)(_request()).content == b"ok"
    assert ran == ["view"]


def test_gate_runs_the_view_with_its_arguments_and_keeps_its_name() -> None:
    @gate(_clerks_only)
    def case_page(request: HttpRequest, case_id: int, *, tab: str = "") -> HttpResponse:
        return HttpResponse(f"{case_id}:{tab}")

    response = case_page(_request(), 12, tab="history")
    assert response.content == b"12:history"
    assert case_page.__name__ == "case_page"


def test_gate_turns_not_found_into_404_and_forbidden_into_403() -> None:
    @gate(_clerks_only)
    def missing(request: HttpRequest) -> HttpResponse:
        raise NotFound()

    @gate(_clerks_only)
    def forbidden(request: HttpRequest) -> HttpResponse:
        raise Forbidden("只有本单位可以操作。")

    with pytest.raises(Http404):
        missing(_request())
    with pytest.raises(PermissionDenied, match="只有本单位可以操作。"):
        forbidden(_request())
