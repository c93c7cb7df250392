"""The waitlist over JSON.

- ``POST /api/v1/waitlist`` ``{session}``: wait for a seat in a full group session or
  workshop (201, with the position); 409 ``not_full`` when a seat is free (book it),
  ``already_waiting``, ``waitlist_full``, ``client_conflict`` (you have a seat). Or
  ``{coach, session_type, days_of_week, time_ranges, date_from, date_to}``: wait for a
  one-on-one time of that type on those days (0 Monday … 6 Sunday), within those hours of
  your own day (``[["09:00", "12:00"]]``), between those dates.
- ``GET /api/v1/waitlist``: your entries, each with its position or the seat held for you;
  ``?session=ID`` (its coach, staff): that session's queue, best first, with each entry's
  score and factors.
- ``DELETE /api/v1/waitlist/{id}``: leave (a seat held for you goes to the next).
- ``POST /api/v1/waitlist/offers/{id}/accept``: take the seat held for you — the booking
  (201; ``awaiting_payment`` when the type is priced and payments are on, like any seat);
  409 ``offer_expired`` when its time ran out. A client is asked first what any booking
  asks: 409 ``consent_required`` / ``intake_required`` until ``accept_consents`` and
  ``intake_answers`` are sent, as ``POST /bookings`` takes them; the seat stays held.
- ``POST /api/v1/waitlist/offers/{id}/decline``: let it go to the next person.

A seat refused as ``full`` (``POST /sessions/{id}/bookings``) says ``"waitlist": true`` when
the caller may join its waitlist.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from accounts.selectors import coaches_visible_to
from bookings.api import (
    ACCEPT_CONSENTS_FIELD,
    INTAKE_ANSWERS_FIELD,
    BookingOut,
    client_for,
    consents_due,
    fresh,
    intake_due,
    record_gates,
    site_of,
)
from bookings.models import SessionKind, SessionType
from bookings.selectors import sessions_visible_to
from bookings.services.common import is_manager
from config.errors import DomainError, NotAllowed
from config.inputs import Input
from waitlist import services, times
from waitlist.models import OfferStatus, WaitlistEntry, WaitlistOffer

router = Router(tags=["waitlist"])


class OfferOut(Schema):
    id: int
    status: str = Field(description="pending, accepted, declined, expired, withdrawn or taken (by someone else).")
    start: dt.datetime = Field(description="When the session offered starts.")
    offered_at: dt.datetime
    expires_at: dt.datetime = Field(description="The seat is held for you until then.")
    booking: str | None = Field(description="The booking's reference, once accepted.")


class EntryOut(Schema):
    id: int
    session: int | None = Field(description="The full session waited for; null when waiting for times.")
    session_type: str
    start: dt.datetime | None = Field(description="The session's start; null when waiting for times.")
    days_of_week: list[int] = Field(description="Waiting for times: 0 Monday … 6 Sunday.")
    time_ranges: list[list[str]] = Field(description="Waiting for times: hours of your day, in zone.")
    zone: str
    date_from: dt.date | None
    date_to: dt.date | None
    status: str = Field(description="waiting, offered, booked, left, declined, missed or closed.")
    joined_at: dt.datetime
    position: int | None = Field(description="1: next to be offered a seat; null once offered or ended.")
    waiting: int = Field(description="How many wait for a seat in this session without an offer.")
    offer: OfferOut | None = Field(description="The seat held for you now, if any.")


class QueueEntryOut(Schema):
    id: int
    client: int
    client_name: str
    position: int
    score: float
    factors: dict[str, float] = Field(
        description="Each factor normalised to 0–1: connection, booking_history, cancellation_rate, waiting_time, "
        "account_age, previous_offers (weights 0.3, 0.2, -0.2, 0.15, 0.1, 0.05)."
    )
    adjustment: float = Field(description="Staff's move by hand, in score points.")
    joined_at: dt.datetime


class JoinIn(Input):
    session: int | None = Field(None, description="A full group session or workshop.", ge=1, le=2**63 - 1)
    coach: int | None = Field(None, ge=1, le=2**63 - 1, description="Waiting for times: the coach.")
    session_type: int | None = Field(None, ge=1, le=2**63 - 1, description="Waiting for times: a one-on-one type.")
    days_of_week: list[int] = Field(default_factory=list, max_length=7, description="0 Monday … 6 Sunday.")
    time_ranges: list[list[str]] = Field(
        default_factory=list, max_length=6, description='Hours of your day, e.g. [["09:00", "12:00"]].'
    )
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    client: int | None = Field(None, description="Join for someone else (a guardian, staff, their coach).")


class OfferAcceptIn(Input):
    accept_consents: list[int] = ACCEPT_CONSENTS_FIELD
    intake_answers: dict[str, Any] = INTAKE_ANSWERS_FIELD


class ListQuery(Input):
    session: int | None = Field(None, ge=1, le=2**63 - 1, description="Its coach or staff: that session's queue.")
    session_type: int | None = Field(
        None, ge=1, le=2**63 - 1, description="Its coach or staff: who waits for one-on-one times of that type."
    )


def _offer_out(offer: WaitlistOffer | None) -> dict | None:
    if offer is None:
        return None
    return {
        "id": offer.pk,
        "status": offer.status,
        "start": offer.session.start if offer.session_id else offer.start,
        "offered_at": offer.offered_at,
        "expires_at": offer.expires_at,
        "booking": offer.booking.reference if offer.booking_id else None,
    }


def _entry_out(entry: WaitlistEntry, *, now: dt.datetime) -> dict:
    offer = (
        entry.offers.filter(status=OfferStatus.PENDING).select_related("booking", "session").first()
        if entry.status == "offered"
        else None
    )
    if entry.session_id:
        title, start, waiting = (
            entry.session.session_type.title,
            entry.session.start,
            services.waiting_count(entry.session),
        )
    else:
        title, start, waiting = entry.session_type.title, None, len(services.queue_of(entry, now=now))
    return {
        "id": entry.pk,
        "session": entry.session_id,
        "session_type": title,
        "start": start,
        "days_of_week": entry.days_of_week,
        "time_ranges": entry.time_ranges,
        "zone": entry.zone,
        "date_from": entry.date_from,
        "date_to": entry.date_to,
        "status": entry.status,
        "joined_at": entry.joined_at,
        "position": services.position(entry, now=now),
        "waiting": waiting,
        "offer": _offer_out(offer),
    }


def _entries_of(user):
    return WaitlistEntry.objects.select_related("session__session_type", "session__coach", "client").filter(client=user)


@router.post("/waitlist", response={201: EntryOut}, summary="Join a full session's waitlist, or wait for times")
def join(request: HttpRequest, payload: JoinIn) -> Status:
    actor = request.auth
    if payload.session is not None:
        session = get_object_or_404(
            sessions_visible_to(actor).select_related("session_type", "coach"),
            pk=payload.session,
            session_type__kind__in=[SessionKind.GROUP, SessionKind.WORKSHOP],
        )
        client = client_for(actor, payload.client, coach=session.coach)
        entry = services.join(actor=actor, client=client, session=session)
        return Status(201, _entry_out(entry, now=timezone.now()))
    if payload.session_type is None or payload.date_from is None or payload.date_to is None:
        raise DomainError(
            _("Give a session, or a session_type with days_of_week, time_ranges, date_from and date_to."),
            code="invalid",
            field="session_type" if payload.session_type is None else "date_from",
        )
    session_type = get_object_or_404(
        SessionType.objects.select_related("coach__coach_profile").filter(
            coach__in=coaches_visible_to(actor).values("pk"), is_active=True
        ),
        pk=payload.session_type,
    )
    if payload.coach is not None and payload.coach != session_type.coach_id:
        raise Http404(_("No such session type of this coach."))
    client = client_for(actor, payload.client, coach=session_type.coach)
    entry = times.join(
        actor=actor,
        client=client,
        session_type=session_type,
        days_of_week=payload.days_of_week,
        time_ranges=payload.time_ranges,
        date_from=payload.date_from,
        date_to=payload.date_to,
    )
    return Status(201, _entry_out(entry, now=timezone.now()))


@router.get(
    "/waitlist",
    response={200: list[EntryOut] | list[QueueEntryOut]},
    summary="Your waitlist entries, or a session's queue",
)
def list_entries(request: HttpRequest, query: Query[ListQuery]) -> list[dict]:
    user = request.auth
    now = timezone.now()
    if query.session is not None or query.session_type is not None:
        if query.session is not None:
            session = get_object_or_404(sessions_visible_to(user).select_related("coach"), pk=query.session)
            coach, ranked = session.coach, None
        else:
            session_type = get_object_or_404(
                SessionType.objects.select_related("coach").filter(coach__in=coaches_visible_to(user).values("pk")),
                pk=query.session_type,
            )
            coach, ranked = session_type.coach, services.type_queue(session_type, now=now)
        if not is_manager(user, coach):
            raise NotAllowed(_("Only the coach and staff see a waitlist's queue."))
        if ranked is None:
            ranked = services.queue(session, now=now)
        return [
            {
                "id": row.entry.pk,
                "client": row.entry.client_id,
                "client_name": row.entry.client.display_name,
                "position": place,
                "score": row.score,
                "factors": row.factors,
                "adjustment": row.entry.adjustment,
                "joined_at": row.entry.joined_at,
            }
            for place, row in enumerate(ranked, start=1)
        ]
    entries = _entries_of(user).order_by("-joined_at")[:100]
    return [_entry_out(entry, now=now) for entry in entries]


@router.delete("/waitlist/{entry_id}", response={204: None}, summary="Leave a waitlist")
def leave(request: HttpRequest, entry_id: int) -> Status:
    entry = WaitlistEntry.objects.select_related("session__coach", "client").filter(pk=entry_id).first()
    if entry is None or not services.may_act(request.auth, entry):
        raise Http404(_("No such waitlist entry."))
    services.leave(actor=request.auth, entry=entry)
    return Status(204, None)


def _offer(request: HttpRequest, offer_id: int) -> WaitlistOffer:
    offer = WaitlistOffer.objects.select_related("entry__client", "session__coach").filter(pk=offer_id).first()
    user = request.auth
    if offer is None or user.pk not in (offer.entry.client_id, offer.entry.added_by_id):
        raise Http404(_("No such offer."))
    return offer


@router.post("/waitlist/offers/{offer_id}/accept", response={201: BookingOut}, summary="Take a seat held for you")
def accept(request: HttpRequest, offer_id: int, payload: OfferAcceptIn | None = None) -> Status:
    """The held seat or time becomes the booking. A client (or their guardian) accepts the
    coach's consent documents and answers the intake forms first, as for any booking: 409
    ``consent_required`` / ``intake_required`` lists them, and nothing is booked — the offer
    stays held until it runs out. Staff and coaches are not asked."""
    actor, payload = request.auth, payload or OfferAcceptIn()
    offer = _offer(request, offer_id)
    consents, intake = [], []
    if services.still_open(offer):  # else accept answers why it can't be taken
        client = offer.entry.client
        coach, session_type = services.offered(offer)
        consents = consents_due(actor, client, coach, payload.accept_consents)
        intake = intake_due(actor, client, session_type, payload.intake_answers)
    booking = services.accept(actor=actor, offer=offer)
    record_gates(request, offer.entry.client, consents, intake, booking)
    return Status(201, fresh(actor, booking, site_of(request)))


@router.post("/waitlist/offers/{offer_id}/decline", response={200: OfferOut}, summary="Let a held seat go")
def decline(request: HttpRequest, offer_id: int) -> dict:
    offer = services.decline(actor=request.auth, offer=_offer(request, offer_id))
    return _offer_out(offer)
