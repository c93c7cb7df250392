"""The booking funnel (seed 004), recorded on the server: a middleware reads which booking
page or API call a request was and how it ended, and writes that request's steps in one
INSERT after the response is built — outside every transaction of the view, so never in
a booking's lock, and never failing the page (an error is logged).

Steps: ``page_view`` (a coach's page), ``st_selected`` (a type's calendar), ``date_selected``
(a day chosen), ``time_selected`` (a time chosen), ``booking_attempted`` (the confirm posted,
or ``POST /api/v1/bookings`` / ``…/sessions/{id}/bookings``), then ``booking_success`` or
``booking_failed`` (with the refusal's code), and ``schedule_later``. Each names the coach
and session type, the user's id when signed in, and a keyed hash of the browser session
(``visitor``) — nothing else about the person.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from bookings.models import Session
from reports.models import AnalyticsEvent, FunnelStep

logger = logging.getLogger(__name__)

API_BOOKING = re.compile(r"^/api/v1/(?:bookings|sessions/(?P<session>\d+)/bookings)/?$")
DONE = re.compile(r"/bookings/[^/]+/done/|/payments/")


def visitor_of(request: HttpRequest) -> str:
    """A keyed hash of the browser session: groups one visit's steps, names nobody."""
    session = getattr(request, "session", None)
    key = session.session_key if session is not None else None
    if not key:
        return ""
    return hashlib.blake2b(key.encode(), key=settings.SECRET_KEY.encode()[:64], digest_size=16).hexdigest()


def _event(request: HttpRequest, name: str, *, coach=None, session_type=None, via="page", **data) -> AnalyticsEvent:
    user = getattr(request, "user", None)
    return AnalyticsEvent(
        name=name,
        user_id=user.pk if user is not None and user.is_authenticated else None,
        visitor=visitor_of(request),
        coach_id=coach,
        session_type_id=session_type,
        via=via,
        data={key: value for key, value in data.items() if value not in (None, "")},
        created_at=timezone.now(),
    )


def _outcome(request: HttpRequest, response: HttpResponse, *, coach, session_type, via: str) -> AnalyticsEvent:
    booked = response.status_code == 201 or (
        response.status_code in (302, 303) and DONE.search(response.get("Location", ""))
    )
    if booked:
        return _event(request, FunnelStep.BOOKING_SUCCESS, coach=coach, session_type=session_type, via=via)
    code = getattr(request, "refusal_code", "") or _api_code(response) or f"http_{response.status_code}"
    return _event(request, FunnelStep.BOOKING_FAILED, coach=coach, session_type=session_type, via=via, error_type=code)


def _api_code(response: HttpResponse) -> str:
    if response.get("Content-Type", "").startswith("application/json") and response.status_code >= 400:
        try:
            return str(json.loads(response.content)["error"]["code"])
        except (ValueError, KeyError, TypeError):
            return ""
    return ""


def _ids_in_body(request: HttpRequest) -> tuple[int | None, int | None]:
    """The coach and session type an API booking names (None for what it doesn't)."""
    try:
        body = json.loads(request.body or b"{}")
    except Exception:  # a body already streamed, or not JSON
        return None, None
    if not isinstance(body, dict):
        return None, None
    found = []
    for name in ("coach", "session_type"):
        value = body.get(name)
        found.append(value if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63 else None)
    return found[0], found[1]


def _instant(value: str | None) -> str:
    """A chosen time as the page understood it (ISO 8601, UTC), or "" for anything else."""
    try:
        moment = dt.datetime.fromisoformat((value or "").strip())
    except ValueError:
        return ""
    if moment.tzinfo is None:
        return ""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day(value: str | None) -> str:
    try:
        return dt.date.fromisoformat((value or "").strip()).isoformat()
    except ValueError:
        return ""


def _seat(session_id) -> tuple[int | None, int | None]:
    row = Session.objects.filter(pk=session_id).values_list("coach_id", "session_type_id").first()
    return row if row is not None else (None, None)


def steps(request: HttpRequest, response: HttpResponse) -> list[AnalyticsEvent]:
    """The funnel's steps this request made (none for any other request). What comes from
    the request is kept only when well formed (a day, an instant, an id), so the INSERT
    never meets what the database refuses (a NUL byte)."""
    if response.status_code >= 500:
        return []
    api = API_BOOKING.match(request.path)
    if api and request.method == "POST":
        coach, session_type = _seat(api["session"]) if api["session"] else (None, None)
        if not api["session"]:
            coach, session_type = _ids_in_body(request)
        return [
            _event(request, FunnelStep.BOOKING_ATTEMPTED, coach=coach, session_type=session_type, via="api"),
            _outcome(request, response, coach=coach, session_type=session_type, via="api"),
        ]
    match = request.resolver_match
    if match is None:
        return []
    name, kwargs = match.url_name, match.kwargs
    coach, session_type = kwargs.get("coach_id"), kwargs.get("type_id")
    if request.method == "GET" and response.status_code < 400:
        if name == "book_coach":
            preselected = (request.GET.get("type") or "").strip()
            return [
                _event(
                    request,
                    FunnelStep.PAGE_VIEW,
                    coach=coach,
                    st_preselected=preselected if preselected.isdigit() and len(preselected) < 19 else None,
                )
            ]
        if name == "book_type":
            start, day = _instant(request.GET.get("start")), _day(request.GET.get("date"))
            if start:
                return [_event(request, FunnelStep.TIME_SELECTED, coach=coach, session_type=session_type, time=start)]
            if day:
                return [_event(request, FunnelStep.DATE_SELECTED, coach=coach, session_type=session_type, date=day)]
            return [_event(request, FunnelStep.ST_SELECTED, coach=coach, session_type=session_type)]
        return []
    if request.method != "POST":
        return []
    if name == "book_later":
        return [_event(request, FunnelStep.SCHEDULE_LATER, coach=coach, session_type=session_type)]
    if name == "book_seat":
        coach, session_type = _seat(kwargs.get("session_id"))
    elif name != "book_confirm" or request.POST.get("apply_promo"):
        return []
    if response.status_code == 403 and not getattr(request, "refusal_code", ""):
        return []  # not someone who may book (or a CSRF refusal): no attempt
    return [
        _event(request, FunnelStep.BOOKING_ATTEMPTED, coach=coach, session_type=session_type),
        _outcome(request, response, coach=coach, session_type=session_type, via="page"),
    ]


class FunnelMiddleware:
    """Records the booking funnel's steps after each response (see the module)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        try:
            made = steps(request, response)
            if made:
                AnalyticsEvent.objects.bulk_create(made)
        except Exception:
            logger.exception("The booking funnel's step could not be recorded: %s %s", request.method, request.path)
        return response
