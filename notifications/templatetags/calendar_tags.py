"""Calendar data for templates, so the pages that show it need no view changes:
``{% calendar_feed_addresses as feed %}`` (the profile card) and
``{% add_to_calendar_links booking as links %}`` (the booking pages)."""

from __future__ import annotations

from django import template
from django.urls import reverse

from bookings.models import Booking, BookingStatus
from notifications import calendar, feeds

register = template.Library()

NOT_ON_CALENDARS = (BookingStatus.CANCELLED, BookingStatus.DECLINED)


@register.simple_tag(takes_context=True)
def calendar_feed_addresses(context: template.Context) -> dict[str, str]:
    """``{"url": …, "webcal_url": …}`` of the signed-in user's feed (made on first use)."""
    user = context["request"].user
    if not user.is_authenticated:
        return {}
    url, webcal = feeds.feed_addresses(user)
    return {"url": url, "webcal_url": webcal}


@register.simple_tag(takes_context=True)
def add_to_calendar_links(context: template.Context, booking: Booking | None) -> dict[str, str]:
    """Google, Outlook and .ics links for a booking still on the calendar; empty otherwise."""
    user = context["request"].user
    if not isinstance(booking, Booking) or booking.status in NOT_ON_CALENDARS or not user.is_authenticated:
        return {}
    return {
        **calendar.calendar_links(booking, user),
        "ics": reverse("booking_ics", args=[booking.reference]),
        "filename": f"{booking.reference}.ics",
    }
