"""Show every time in the viewer's own zone: the user's setting, or the browser's zone
(a ``tz`` cookie set by the page) for visitors."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from urllib.parse import unquote

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from accounts.validators import is_valid_timezone
from config.inputs import canonical_zone

TZ_COOKIE = "tz"


def viewer_timezone_name(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and is_valid_timezone(user.timezone):
        return user.timezone
    # The page's script writes the zone URL-encoded (Europe%2FParis).
    cookie = canonical_zone(unquote(request.COOKIES.get(TZ_COOKIE, ""))[:64])
    if cookie:
        return cookie
    return "UTC"


class ViewerTimezoneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = viewer_timezone_name(request)
        request.viewer_timezone = name
        timezone.activate(zoneinfo.ZoneInfo(name))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
