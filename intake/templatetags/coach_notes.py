"""The coach's private notes on other apps' pages, as template tags (those apps' Python
never imports this one; their templates load these):

- ``{% booking_notes booking %}``: on a booking's page, the viewer's own notes about this
  session and the form to add one — only for a coach who hosts the session (the coach or a
  co-host), each seeing only the notes they wrote; nothing at all for anyone else.
"""

from __future__ import annotations

from django import template
from django.urls import reverse

from bookings.models import Booking
from intake import selectors
from intake.forms import NoteForm

register = template.Library()


@register.inclusion_tag("intake/_booking_notes.html", takes_context=True)
def booking_notes(context, booking: Booking) -> dict:
    request = context.get("request")
    viewer = getattr(request, "user", None)
    show = bool(
        viewer is not None
        and selectors.may_keep_notes(viewer)
        and selectors.hosted_bookings(viewer).filter(pk=booking.pk).exists()
    )
    return {
        "show": show,
        "booking": booking,
        "notes": selectors.notes_on_booking(viewer, booking) if show else [],
        "form": NoteForm(auto_id="booking-note-%s") if show else None,
        "csrf_token": context.get("csrf_token"),
        "request": request,
        # Back to the booking's page after an edit, even from a fragment htmx asked for.
        "next_url": reverse("booking_detail", args=[booking.reference]) + "#private-notes",
    }
