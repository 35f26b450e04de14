"""Domain errors. Views and the API translate them to HTTP answers in one place each.

A message is for people, in the language active when it is raised (the request's); ``details`` are
for programs (stable codes and field names) and are never translated.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _


class SanjiError(Exception):
    """Base of every error a service or selector raises on purpose."""

    status = 400
    code = "error"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(SanjiError):
    """Missing *or* outside the actor's scope: the two are never told apart (no 403 leak)."""

    status = 404
    code = "not_found"

    def __init__(self, message: str | None = None, *, details: Any = None) -> None:
        super().__init__(_("未找到，或不在您的管辖范围内。") if message is None else message, details=details)


class Forbidden(SanjiError):
    """The actor may see the object but may not perform this action on it."""

    status = 403
    code = "forbidden"

    def __init__(self, message: str | None = None, *, details: Any = None) -> None:
        super().__init__(_("您无权执行此操作。") if message is None else message, details=details)


class Conflict(SanjiError):
    """The state changed under the caller (double submit, concurrent edit)."""

    status = 409
    code = "conflict"


class ValidationFailed(SanjiError):
    """Input is wrong; ``details`` lists what and where (e.g. line numbers of an import)."""

    status = 422
    code = "invalid"


class IllegalTransition(Conflict):
    """A state machine refused an action from the current state."""

    code = "illegal_transition"
