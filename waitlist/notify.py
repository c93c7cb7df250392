"""What people on a waitlist are told: a seat held for them (email, SMS, in-app, with the
time it is held until in their own zone) and an offer that ran out. Each is made once per
offer (``notifications.services.tell``, keyed by the offer), in the transaction that made
or ended the offer, and sent after its commit. A message that can't be made is logged and
never undoes the offer."""

from __future__ import annotations

import logging

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext

from accounts.language import in_language_of
from notifications import messages
from notifications.models import Kind
from notifications.services import Told, tell, tell_each

logger = logging.getLogger(__name__)


def _extra(offer) -> dict:
    """A seat's offer speaks of its session; a time's of the session type at that time —
    in its person's language."""
    with in_language_of(offer.entry.client):
        return _offer_words(offer)


def _offer_words(offer) -> dict:
    client = offer.entry.client
    if offer.session_id:
        session = offer.session
        session_type, coach, start = session.session_type, session.coach, session.start
        # Not the video link: it is the session's people's, and this person has no seat yet.
        place = session.location or gettext("Online")
        again = reverse("book_seat", args=[session.pk])
    else:
        session_type, start = offer.session_type, offer.start
        coach = session_type.coach
        place = session_type.location or gettext("Online")
        again = reverse("book_type", args=[coach.pk, session_type.pk])
    return {
        "session_title": session_type.title,
        "hosts": coach.display_name,
        "coach_name": coach.display_name,
        "when": messages.local_when(start, client.timezone),
        "place": place,
        "offer_ends": messages.local_when(offer.expires_at, client.timezone),
        "offer_url": messages.absolute(reverse("waitlist:offer", args=[offer.pk])),
        "session_url": messages.absolute(again),
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


def moved_up(entries: list, sessions: dict) -> None:
    """Each entry's person hears their new place in line (``told_position``), once per place."""
    told = []
    for entry in entries:
        session = sessions[entry.session_id]
        client = entry.client
        with in_language_of(client):
            extra = {
                "position": entry.told_position,
                "session_title": session.session_type.title,
                "hosts": session.coach.display_name,
                "coach_name": session.coach.display_name,
                "when": messages.local_when(session.start, client.timezone),
                "waitlist_url": messages.absolute(reverse("waitlist:mine")),
            }
        told.append(Told(client, Kind.WAITLIST_POSITION, f"waitlist-place:{entry.pk}:{entry.told_position}", extra))
    try:
        with transaction.atomic():
            tell_each(told)
    except Exception:
        logger.exception(
            "The place-in-line messages of waitlist entries %s could not be made.", [e.pk for e in entries]
        )
