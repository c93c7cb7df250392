"""Which language a person reads: theirs (their profile), else their browser's.

In a request: a signed-in person's own language (``User.language``, ``UserLanguageMiddleware``),
else the footer's choice (Django's language cookie), else the browser's ``Accept-Language``
(Django's ``LocaleMiddleware``), else English (``LANGUAGE_CODE``). Outside a request — an
email, an SMS, a reminder, a calendar feed — a message is written in its reader's language:
``with in_language_of(person): …`` around the rendering; a person who follows their
browser (no language saved) gets the language their browser last asked for
(``User.browser_language``, kept by ``UserLanguageMiddleware``), else ``LANGUAGE_CODE``.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.utils import translation


def supported(code: str | None) -> bool:
    return bool(code) and code in dict(settings.LANGUAGES)


def language_of(person: object | None) -> str:
    """The language to write to ``person`` in when no browser is there to ask."""
    for code in (getattr(person, "language", ""), getattr(person, "browser_language", "")):
        if supported(code):
            return code
    return settings.LANGUAGE_CODE


def in_language_of(person: object | None) -> AbstractContextManager:
    """``with in_language_of(person):`` — translations (and named date formats) in their
    language for the block, the previous language back afterwards."""
    return translation.override(language_of(person))


def remember_choice(response: HttpResponse, code: str) -> None:
    """The browser keeps the chosen language (Django's language cookie; empty: forget it,
    the browser's own language applies again)."""
    if not code:
        response.delete_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
        return
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


class UserLanguageMiddleware:
    """After authentication: a signed-in person's own language wins over the cookie and
    the browser's (``LocaleMiddleware``, earlier, chose those). It stays active for the
    response, so ``LocaleMiddleware`` names it in ``Content-Language``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if supported(user.language):
                translation.activate(user.language)
                request.LANGUAGE_CODE = user.language
            else:
                self._remember_browser(user, getattr(request, "LANGUAGE_CODE", ""))
        return self.get_response(request)

    @staticmethod
    def _remember_browser(user, code: str) -> None:
        """Someone who follows their browser: their messages follow it too. Written only
        when it changes from what their messages use now (one UPDATE, no signal)."""
        if supported(code) and code != (user.browser_language or settings.LANGUAGE_CODE):
            get_user_model().objects.filter(pk=user.pk).update(browser_language=code)
            user.browser_language = code
