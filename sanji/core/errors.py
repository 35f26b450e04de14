"""Domain errors. Views and the API translate them to HTTP answers in one place each."""

from __future__ import annotations

from typing import Any


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

    def __init__(self, message: str = "Not found.", *, details: Any = None) -> None:
        super().__init__(message, details=details)


class Forbidden(SanjiError):
    """The actor may see the object but may not perform this action on it."""

    status = 403
    code = "forbidden"

    def __init__(self, message: str = "You may not do this.", *, details: Any = None) -> None:
        super().__init__(message, details=details)


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
