"""Paying for a booking with credits (``bookings.payment_methods``): one credit per
booking, spent in the booking's own transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils.translation import ngettext

from accounts.models import User
from bookings.models import Booking, BookingStatus, SessionType
from bookings.payment_methods import Offer
from bookings.services.payment import payment_received
from payments import credits


class Credits:
    name = "credits"

    def offer(self, client: User, session_type: SessionType, *, now: dt.datetime | None = None) -> Offer | None:
        if session_type.price <= 0 or session_type.requires_enrollment:
            return None
        left = credits.balance(client, now=now, session_type=session_type)
        if left <= 0:
            return None
        label = ngettext("Use 1 credit (%(left)s left)", "Use 1 credit (%(left)s left)", left) % {"left": left}
        return Offer(method=self.name, label=label, left=left)

    def book(self, service: Callable[..., Booking], **kwargs: Any) -> Booking:
        """Book with the hold forced on, spend one credit on it (``no_credits`` when none is
        left: then nothing is written), and settle it — one transaction."""
        actor = kwargs.get("booked_by") or kwargs["client"]
        with transaction.atomic():
            booking = service(**kwargs, hold_for_payment=True)
            if booking.status != BookingStatus.AWAITING_PAYMENT:
                return booking  # covered otherwise (an enrollment)
            credits.spend(booking.client, booking=booking, session_type=booking.session.session_type_id, actor=actor)
            payment_received(booking=booking, method="credits")
        booking.refresh_from_db()
        return booking
