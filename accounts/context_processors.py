from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from accounts.middleware import TZ_COOKIE
from config.js_text import js_text


def viewer(request: HttpRequest) -> dict[str, Any]:
    """The viewer's zone, for the “Times shown in …” line of every page, and whether it is
    still unknown: a visitor's first page, before the browser set the ``tz`` cookie
    (static/js/timezone.js then sets it and loads a GET page again, once)."""
    user = getattr(request, "user", None)
    unknown = (
        request.method == "GET"
        and TZ_COOKIE not in request.COOKIES
        and not (user is not None and user.is_authenticated)
    )
    return {
        "viewer_timezone": getattr(request, "viewer_timezone", "UTC"),
        "viewer_timezone_unknown": unknown,
        # Payments on: the menus show the payments pages.
        "payments_enabled": settings.ENABLE_PAYMENT_GATEWAY,
        # The scripts' words in the page's language (a callable: made only where a page uses it).
        "js_text": js_text,
    }
