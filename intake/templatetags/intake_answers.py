"""Intake answers on other apps' pages, as template tags (those apps' Python never imports
this one; their templates load these):

- ``{% booking_intake booking %}``: on a booking's page, the answers about its client that
  the viewer may read — the client (their own), the coach who hosts the session; staff
  holding ``intake.view_intake_answers`` see links whose every read is logged. Nothing at
  all for anyone else.
"""

from __future__ import annotations

from django import template

from bookings.models import Booking
from intake import answers
from intake.models import IntakeResponse, ResponseStatus

register = template.Library()


@register.inclusion_tag("intake/_booking_answers.html", takes_context=True)
def booking_intake(context, booking: Booking) -> dict:
    request = context.get("request")
    viewer = getattr(request, "user", None)
    items, staff_links = [], []
    if viewer is not None and viewer.is_authenticated:
        items = [(response, answers.display(response)) for response in answers.on_booking(viewer, booking)]
        if not items and answers.may_read_all(viewer):
            staff_links = list(
                IntakeResponse.objects.filter(client=booking.client_id, status=ResponseStatus.SUBMITTED)
                .select_related("version__form")
                .order_by("-submitted_at")
            )
    return {"items": items, "staff_links": staff_links, "booking": booking, "request": request}


@register.inclusion_tag("intake/_booking_answers.html", takes_context=True)
def client_intake(context, client) -> dict:
    """On the coach's page about a client: the answers that client gave the viewer."""
    request = context.get("request")
    viewer = getattr(request, "user", None)
    items = []
    if viewer is not None and viewer.is_authenticated and viewer.is_coach:
        responses = answers.readable_by(viewer).filter(client=client).order_by("-submitted_at")
        items = [(response, answers.display(response)) for response in responses]
    return {"items": items, "staff_links": [], "booking": None, "request": request}
