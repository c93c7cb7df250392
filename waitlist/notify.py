"""What people on a waitlist are told: a seat held for them (email, SMS, in-app, with the
time it is held until in their own zone) and an offer that ran out. Each is made once per
offer (``notifications.services.tell``, keyed by the offer), in the transaction that made
or ended the offer, and sent after its commit. A message that can't be made is logged and
never undoes the offer."""

from __future__ import annotations

import logging

from django.db import transaction
from django.urls import reverse

from notifications import messages
from notifications.models import Kind
from notifications.services import Told, tell, tell_each

logger = logging.getLogger(__name__)


def _extra(offer) -> dict:
    session = offer.session
    client = offer.entry.client
    return {
        "session_title": session.session_type.title,
        "hosts": session.coach.display_name,
        "coach_name": session.coach.display_name,
        "when": messages.local_when(session.start, client.timezone),
        "place": session.location or session.meeting_link or "Online",
        "offer_ends": messages.local_when(offer.expires_at, client.timezone),
        "offer_url": messages.absolute(reverse("waitlist:offer", args=[offer.pk])),
        "session_url": messages.absolute(reverse("book_seat", args=[session.pk])),
    }


def _tell(offer, kind: str) -> None:
    try:
        with transaction.atomic():
            tell(offer.entry.client, kind, key=f"waitlist-offer:{offer.pk}", extra=_extra(offer))
    except Exception:
        logger.exception("The %s message for waitlist offer %s could not be made.", kind, offer.pk)


def offered(offers: list) -> None:
    """Each offer's person is told, all in a few queries (a burst of cancellations makes
    hundreds at once)."""
    if not offers:
        return
    try:
        with transaction.atomic():
            tell_each(
                [
                    Told(offer.entry.client, Kind.WAITLIST_OFFER, f"waitlist-offer:{offer.pk}", _extra(offer))
                    for offer in offers
                ]
            )
    except Exception:
        logger.exception("The messages of waitlist offers %s could not be made.", [offer.pk for offer in offers])


def offer_expired(offer) -> None:
    _tell(offer, Kind.WAITLIST_EXPIRED)
