"""The error every service raises for a user-facing refusal."""

from __future__ import annotations


class DomainError(Exception):
    """A refusal the user should read: a stable ``code`` for programs, a ``message`` for people.

    ``status`` is the HTTP status the API answers with (4xx); ``field``, when the refusal is
    about one input, names it (the API lists it under ``fields``, a form shows it there).
    """

    status = 400

    def __init__(self, message: str, *, code: str = "invalid", status: int | None = None, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field
        if status is not None:
            self.status = status


class NotAllowed(DomainError):
    """The user may see the object but not make this change (403)."""

    status = 403

    def __init__(self, message: str = "You are not allowed to do that.", *, code: str = "forbidden") -> None:
        super().__init__(message, code=code)
