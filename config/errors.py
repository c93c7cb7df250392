"""The error every service raises for a user-facing refusal."""

from __future__ import annotations

import math

from django.utils.translation import gettext as _


class DomainError(Exception):
    """A refusal the user should read: a stable ``code`` for programs, a ``message`` for people.

    ``status`` is the HTTP status the API answers with (4xx); ``field``, when the refusal is
    about one input, names it (the API lists it under ``fields``, a form shows it there);
    ``retry_after``, when waiting makes the same request succeed, is how many seconds to wait
    (the answer's ``Retry-After`` header); ``extra`` holds more facts for programs, added
    to the API's error object (``{"waitlist": true}`` on a full session one may wait for).
    """

    status = 400

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid",
        status: int | None = None,
        field: str = "",
        retry_after: float | None = None,
        extra: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.extra = dict(extra or {})
        self.message = message
        self.code = code
        self.field = field
        self.retry_after = None if retry_after is None else max(1, math.ceil(retry_after))
        if status is not None:
            self.status = status


class NotAllowed(DomainError):
    """The user may see the object but not make this change (403)."""

    status = 403

    def __init__(self, message: str | None = None, *, code: str = "forbidden") -> None:
        super().__init__(_("You are not allowed to do that.") if message is None else message, code=code)


class Throttled(DomainError):
    """Too many of something in a short while (429); ``retry_after`` says when it eases."""

    status = 429

    def __init__(
        self, message: str, *, code: str = "too_many_requests", retry_after: float | None = None, status: int = 429
    ) -> None:
        super().__init__(message, code=code, status=status, retry_after=retry_after)


def retry_after_headers(exc: DomainError) -> dict[str, str]:
    """The headers an answer to ``exc`` carries: ``Retry-After`` (whole seconds) when it says."""
    retry_after = getattr(exc, "retry_after", None)
    return {} if retry_after is None else {"Retry-After": str(retry_after)}
