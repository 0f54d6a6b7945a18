"""Domain errors: expected failures that carry their HTTP status and a message a person can act on."""

from __future__ import annotations


class DomainError(Exception):
    status_code = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    status_code = 404


class Forbidden(DomainError):
    status_code = 403


class Conflict(DomainError):
    status_code = 409


class TooManyAttempts(DomainError):
    status_code = 429


class ValidationFailed(DomainError):
    """Several field errors at once; `errors` maps a form field to its message."""

    status_code = 422

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class LoginRequired(Exception):
    """Raised by page dependencies; the handler redirects to /login?next=..."""
