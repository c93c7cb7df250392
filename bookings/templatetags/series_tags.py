"""The series' pieces shown on other pages (``{% load series_tags %}``):

- ``{% series_repeat_option %}`` on the wizard's confirm step: "Repeat this session" (how
  often, how many times or until when), a GET form that opens the series preview; shown
  for a type and coach that take series (``series_views.series_offered``);
- ``{% series_note booking %}`` on a booking's page: "Part of a series: Weekly, Tuesdays
  18:00 — see all sessions" for an occurrence of a series.
"""

from __future__ import annotations

from django import template
from django.conf import settings
from django.urls import reverse

from bookings.models import Booking
from bookings.series_forms import RepeatForm
from bookings.series_views import series_offered
from bookings.services import series as series_services

register = template.Library()


@register.inclusion_tag("bookings/_series_repeat.html", takes_context=True)
def series_repeat_option(context) -> dict:
    request = context.get("request")
    coach, session_type, start = context.get("coach"), context.get("session_type"), context.get("start")
    user = getattr(request, "user", None)
    shown = bool(
        request is not None
        and coach is not None
        and session_type is not None
        and start is not None
        and context.get("may_book")
        and series_offered(user, coach, session_type)
    )
    if not shown:
        return {"shown": False}
    form = context.get("form")
    people = list(form.fields["book_for"].choices) if form is not None and "book_for" in form.fields else []
    return {
        "shown": True,
        "action": reverse("series_preview", args=[coach.pk, session_type.pk]),
        "start_param": request.GET.get("start", ""),
        "repeat": RepeatForm(),
        "people": people,
        "max_count": settings.MAX_SERIES_OCCURRENCES,
        "start": start,
    }


@register.inclusion_tag("bookings/_series_note.html")
def series_note(booking: Booking) -> dict:
    series = getattr(booking, "series", None) if getattr(booking, "series_id", None) else None
    if series is None:
        return {"series": None}
    return {
        "series": series,
        "description": series_services.describe(series),
        "url": reverse("series_detail", args=[series.pk]),
    }
