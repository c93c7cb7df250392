"""Calendar pages: the private feed (no login, the secret is the key), rotating its
address from the profile, and one booking's ``.ics`` download."""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.http import require_POST, require_safe

from accounts.language import in_language_of
from bookings import selectors
from notifications import calendar, feeds

REFERENCE_SHAPE = re.compile(r"BK-\d{4}-\d{1,12}")
FEED_CACHE_CONTROL = "private, max-age=300"
ROTATED_MESSAGE = gettext_noop("Your calendar address was changed. Update it in your calendar app.")
ICS_TYPE = "text/calendar; charset=utf-8"


def _no_feed() -> HttpResponse:
    # One answer for every address that isn't a live feed: wrong, malformed or rotated.
    response = HttpResponse(
        gettext("No calendar at this address.") + "\n", status=404, content_type="text/plain; charset=utf-8"
    )
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def feed(request: HttpRequest, secret: str) -> HttpResponse:
    """``/calendar/<secret>.ics``: the owner's events, with ETag and Last-Modified so a
    calendar app polling an unchanged feed gets a 304 after two small queries."""
    user = feeds.user_for_secret(secret)
    if user is None:
        return _no_feed()
    etag, last_modified = calendar.feed_version(user)
    timestamp = int(last_modified.timestamp())
    response = get_conditional_response(request, etag=etag, last_modified=timestamp)
    if response is None:
        with in_language_of(user):  # the owner's language, whoever's app asks
            response = HttpResponse(calendar.feed_for(user), content_type=ICS_TYPE)
        response["Content-Disposition"] = 'inline; filename="calendar.ics"'
    response["ETag"] = etag
    response["Last-Modified"] = http_date(timestamp)
    response["Cache-Control"] = FEED_CACHE_CONTROL
    response["X-Robots-Tag"] = "noindex"
    return response


@login_required
@require_POST
def rotate(request: HttpRequest) -> HttpResponse:
    feeds.rotate_feed(request.user)
    messages.success(request, gettext(ROTATED_MESSAGE))
    return redirect(reverse("profile") + "#calendar-feed")


@login_required
@require_safe
def booking_download(request: HttpRequest, reference: str) -> HttpResponse:
    """One booking as an ``.ics`` file, for whoever may see the booking (404 otherwise)."""
    if not REFERENCE_SHAPE.fullmatch(reference):
        raise Http404(gettext("No such booking."))
    booking = selectors.get_booking_for(request.user, reference)
    response = HttpResponse(calendar.booking_ics(booking, viewer=request.user), content_type=ICS_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{booking.reference}.ics"'
    response["Cache-Control"] = "private, no-cache"
    return response
