"""Every write of the waitlist: joining and leaving, offering a freed seat, accepting,
declining, and what runs on a schedule (offers that ran out, entries whose session began).

How a seat travels: a seat frees in a full session (a cancellation, a decline, a payment
hold that lapsed — ``waitlist.consumer`` hears it from the booking event stream, after the
change's commit, never inside it; or capacity raised — the every-minute ``sweep``).
``offer_seats`` locks the session's row, ranks the people still waiting
(``waitlist.scoring``) and, for each free seat, holds it (``bookings.services.hold_seats``:
``Session.seats_held``, within the capacity check constraint) and makes the best one an
offer until ``WAITLIST_OFFER_MINUTES`` from now (never past the session's start). While
anyone waits, a free seat is theirs: the booking services refuse it to newcomers
(``bookings.waiting``). The client accepts in one click (``accept``: the held seat becomes
their booking, through ``take_seat``, paid if the type is priced) or declines; a decline,
an expiry or the client leaving frees the seat and offers it to the next in line.

Lock order: an offer's row, then its entry's, then (as the booking services) the client's,
then the session's; ``offer_seats`` locks the session and then writes only entries still
waiting, which no answer to an offer touches.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import can_book_for
from accounts.models import User
from bookings import services as booking_services
from bookings.models import ACTIVE_STATUSES, Booking, Session, SessionStatus, SessionType
from bookings.services.common import BookingRefused, is_manager
from config.errors import DomainError, NotAllowed
from config.inputs import LONG_TEXT, SHORT_TEXT, clean_text
from waitlist import notify, reasons, scoring, times
from waitlist.models import OPEN_STATUSES, EntryStatus, OfferStatus, WaitlistEntry, WaitlistMove, WaitlistOffer

logger = logging.getLogger(__name__)


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def max_size(session: Session) -> int:
    """How many may wait for a seat in ``session``: its type's own size, or the site's."""
    own = session.session_type.max_waitlist_size
    return settings.MAX_WAITLIST_SIZE if own is None else own


# ---------------------------------------------------------------------------------------
# What the booking services ask (``bookings.waiting``)
# ---------------------------------------------------------------------------------------


def waiting_count(session: Session) -> int:
    """People waiting for a seat in ``session`` who have no offer yet."""
    return WaitlistEntry.objects.filter(session_id=session.pk, status=EntryStatus.WAITING).count()


def _refusal(session: Session, client: User, *, now: dt.datetime) -> BookingRefused | None:
    """Why ``client`` may not join ``session``'s waitlist now, or None when they may."""
    if not session.session_type.is_group:
        return BookingRefused(_("Only group sessions and workshops have a waitlist."), code="invalid")
    if session.status != SessionStatus.SCHEDULED or session.start <= now:
        return BookingRefused(_("This session is no longer taking bookings."), code="too_soon")
    if Booking.objects.filter(session_id=session.pk, client=client, status__in=ACTIVE_STATUSES).exists():
        return BookingRefused(_("You already have a place in this session."), code="client_conflict")
    if WaitlistEntry.objects.filter(session_id=session.pk, client=client, status__in=OPEN_STATUSES).exists():
        return BookingRefused(_("You are already on the waitlist for this session."), code="already_waiting")
    size = max_size(session)
    if size == 0:
        return BookingRefused(_("This session has no waitlist."), code="waitlist_full")
    if WaitlistEntry.objects.filter(session_id=session.pk, status__in=OPEN_STATUSES).count() >= size:
        return BookingRefused(_("The waitlist for this session is full."), code="waitlist_full")
    return None


def may_join(session: Session, client: User, *, now: dt.datetime | None = None) -> bool:
    """Whether ``client`` could join the waitlist of ``session`` (full for them) now."""
    return _refusal(session, client, now=_now(now)) is None


# ---------------------------------------------------------------------------------------
# Joining and leaving
# ---------------------------------------------------------------------------------------


def join(*, actor: User, client: User, session: Session, now: dt.datetime | None = None) -> WaitlistEntry:
    """``client`` waits for a seat in the full ``session``. Who may: whoever may book for
    them. A session with a seat free for them is booked instead (``not_full``).
    Locks the client's row, then the session's (the order ``take_seat`` uses)."""
    now = _now(now)
    if not can_book_for(actor, client, coach=session.coach):
        raise NotAllowed(_("You can't join the waitlist for this person."))
    try:
        with transaction.atomic():
            User.objects.select_for_update(no_key=True).filter(pk=client.pk).first()
            locked = booking_services.lock_session(session.pk)
            refusal = _refusal(locked, client, now=now)
            if refusal is not None:
                raise refusal
            free = locked.capacity - locked.seats_taken - locked.seats_held
            if free > waiting_count(locked):
                raise BookingRefused(_("A seat is free: book it instead."), code="not_full")
            entry = WaitlistEntry.objects.create(
                client=client, added_by=actor, session=locked, coach_id=locked.coach_id, joined_at=now
            )
            entry.told_position = position(entry, now=now)
            entry.save(update_fields=["told_position"])
    except IntegrityError as exc:  # joined at the same moment from elsewhere
        raise BookingRefused(_("You are already on the waitlist for this session."), code="already_waiting") from exc
    return entry


def _end(entry: WaitlistEntry, status: str, *, reason: str, now: dt.datetime) -> None:
    entry.status = status
    entry.ended_at = now
    entry.end_reason = reason[:SHORT_TEXT]
    entry.save(update_fields=["status", "ended_at", "end_reason", "booking"])


def may_act(actor: User, entry: WaitlistEntry) -> bool:
    """The client, who added them, and whoever may book for them act on their entry."""
    if actor.pk in (entry.client_id, entry.added_by_id):
        return True
    return can_book_for(actor, entry.client, coach=entry.coach)


def _require_client_side(actor: User, entry: WaitlistEntry) -> None:
    if not may_act(actor, entry):
        raise NotAllowed(_("Only the client (or who added them) can do that."))


def leave(*, actor: User, entry: WaitlistEntry, now: dt.datetime | None = None) -> WaitlistEntry:
    """The client leaves the waitlist; a seat offered to them goes to the next in line."""
    now = _now(now)
    _require_client_side(actor, entry)
    with transaction.atomic():
        # The offer's row before the entry's, as accept, decline and expiry lock them.
        offer = (
            WaitlistOffer.objects.select_for_update(no_key=True)
            .filter(entry_id=entry.pk, status=OfferStatus.PENDING)
            .first()
        )
        entry = (
            WaitlistEntry.objects.select_for_update(no_key=True, of=("self",))
            .select_related("session")
            .get(pk=entry.pk)
        )
        if not entry.is_open:
            raise BookingRefused(_("This waitlist entry is already closed."), code="invalid_transition")
        _end(entry, EntryStatus.LEFT, reason=reasons.LEFT, now=now)
        if offer is not None:
            _close_offer(offer, OfferStatus.DECLINED, now=now)
            if entry.session_id:
                offer_seats(entry.session_id, now=now)
    return entry


# ---------------------------------------------------------------------------------------
# Offers
# ---------------------------------------------------------------------------------------


def _close_offer(offer: WaitlistOffer, status: str, *, now: dt.datetime) -> None:
    """The offer ends unaccepted: its seat is let go (the caller offers it again); a held
    time, once none of its offers is open, is let go and offered to the next at once."""
    offer.status = status
    offer.answered_at = now
    offer.save(update_fields=["status", "answered_at"])
    if offer.hold_id:
        times.after_closing(offer, now=now)
        return
    session = booking_services.lock_session(offer.session_id)
    booking_services.release_held_seat(session)


def offer_deadline(session: Session, now: dt.datetime) -> dt.datetime:
    return min(now + dt.timedelta(minutes=settings.WAITLIST_OFFER_MINUTES), session.start)


def queue(session: Session, *, now: dt.datetime | None = None) -> list[scoring.Ranked]:
    """The people waiting for a seat in ``session`` (not yet offered one), best first."""
    entries = list(
        WaitlistEntry.objects.filter(session_id=session.pk, status=EntryStatus.WAITING).select_related(
            "client", "session"
        )
    )
    return scoring.rank(entries, now=_now(now))


def offer_seats(session_id: int, *, now: dt.datetime | None = None) -> list[WaitlistOffer]:
    """``offer_seats_in`` for one session."""
    return offer_seats_in([session_id], now=now)


def offer_seats_in(session_ids, *, now: dt.datetime | None = None) -> list[WaitlistOffer]:
    """Offer each free seat of these sessions to the best-placed person still waiting for
    it, holding the seat for them. A session that began or was called off closes its
    waitlist instead. Returns the offers made. Ranks every session's queue together (the
    same few queries for one session or two hundred) and locks the sessions' rows, in id
    order, for the rest of the caller's transaction."""
    now = _now(now)
    made: list[WaitlistOffer] = []
    with transaction.atomic():
        sessions = list(
            Session.objects.select_for_update(no_key=True, of=("self",))  # not the coach's row: see _lock_booking
            .select_related("session_type", "coach")
            .filter(pk__in=sorted(set(session_ids)))
            .order_by("pk")
        )
        free: dict[int, int] = {}
        for session in sessions:
            if session.status != SessionStatus.SCHEDULED or session.start <= now:
                close_waitlist(session, now=now)
            elif session.capacity > session.seats_taken + session.seats_held:
                free[session.pk] = session.capacity - session.seats_taken - session.seats_held
        if not free:
            return made
        entries = list(
            WaitlistEntry.objects.filter(session_id__in=list(free), status=EntryStatus.WAITING).select_related(
                "client", "session__coach"
            )
        )
        if not entries:
            return made
        holding = set(
            Booking.objects.filter(
                session_id__in=list(free),
                client_id__in={entry.client_id for entry in entries},
                status__in=ACTIVE_STATUSES,
            ).values_list("session_id", "client_id")
        )
        by_pk = {session.pk: session for session in sessions}
        offered: list[WaitlistEntry] = []
        ranked_all = scoring.rank(entries, now=now)
        for ranked in ranked_all:
            entry = ranked.entry
            if not free.get(entry.session_id):
                continue
            if (entry.session_id, entry.client_id) in holding:  # booked some other way meanwhile
                _end(entry, EntryStatus.CLOSED, reason=reasons.ALREADY_BOOKED, now=now)
                continue
            session = by_pk[entry.session_id]
            entry.session = session
            made.append(
                WaitlistOffer(
                    entry=entry,
                    session=session,
                    offered_at=now,
                    expires_at=offer_deadline(session, now),
                    score=ranked.score,
                    factors=ranked.factors,
                )
            )
            offered.append(entry)
            free[entry.session_id] -= 1
        _tell_who_moved_up(ranked_all, offered, by_pk)
        held: dict[int, int] = {}
        for offer in made:
            held[offer.session_id] = held.get(offer.session_id, 0) + 1
        for session_id, count in held.items():
            booking_services.hold_seats(by_pk[session_id], count)
        WaitlistOffer.objects.bulk_create(made)
        WaitlistEntry.objects.filter(pk__in=[entry.pk for entry in offered]).update(status=EntryStatus.OFFERED)
        for entry in offered:
            entry.status = EntryStatus.OFFERED
        notify.offered(made)
    return made


# Moving up into one of the first few places is told; further back it is only shown.
TOLD_PLACES = 3


def _tell_who_moved_up(ranked: list[scoring.Ranked], offered: list[WaitlistEntry], sessions: dict) -> None:
    """After offers: each person still waiting who moved up into the first ``TOLD_PLACES``
    places of their session's line, and was not told that place (or a better one), is told."""
    gone = {entry.pk for entry in offered}
    places: dict[int, int] = {}
    moved = []
    for row in ranked:
        entry = row.entry
        if entry.pk in gone or entry.status != EntryStatus.WAITING:
            continue
        place = places[entry.session_id] = places.get(entry.session_id, 0) + 1
        if place <= TOLD_PLACES and (entry.told_position is None or place < entry.told_position):
            entry.told_position = place
            moved.append(entry)
    if not moved:
        return
    WaitlistEntry.objects.bulk_update(moved, ["told_position"])
    notify.moved_up(moved, sessions)


def close_waitlist(session: Session, *, now: dt.datetime) -> int:
    """The session began, ended or was called off: open entries close, pending offers are
    withdrawn (their held seats are let go with the session)."""
    closed = 0
    reason = reasons.SESSION_CALLED_OFF if session.status == SessionStatus.CANCELLED else reasons.SESSION_BEGUN
    for offer in WaitlistOffer.objects.select_for_update(no_key=True).filter(
        session=session, status=OfferStatus.PENDING
    ):
        offer.status = OfferStatus.WITHDRAWN
        offer.answered_at = now
        offer.save(update_fields=["status", "answered_at"])
        booking_services.release_held_seat(session)
    for entry in WaitlistEntry.objects.select_for_update(no_key=True).filter(session=session, status__in=OPEN_STATUSES):
        _end(entry, EntryStatus.CLOSED, reason=reason, now=now)
        closed += 1
    return closed


def _lock_offer(offer: WaitlistOffer) -> WaitlistOffer:
    return (
        WaitlistOffer.objects.select_for_update(no_key=True, of=("self",))
        .select_related("entry__client", "session__session_type", "session__coach", "session_type__coach")
        .get(pk=offer.pk)
    )


def offered(offer: WaitlistOffer) -> tuple[User, SessionType]:
    """The coach and the session type of what ``offer`` holds (a seat, or a one-on-one time):
    what the client accepts and answers before taking it (``bookings.gates``), as before any
    booking with that coach."""
    if offer.session_id:
        return offer.session.coach, offer.session.session_type
    return offer.session_type.coach, offer.session_type


def still_open(offer: WaitlistOffer, *, now: dt.datetime | None = None) -> bool:
    """Whether ``offer`` may still be accepted (pending, not run out): the only time its
    consents and questions are asked — a closed one answers why instead. Answering them
    (the Questions step and back) keeps the hold: nothing here lets it go."""
    return offer.status == OfferStatus.PENDING and offer.expires_at > _now(now)


def accept(*, actor: User, offer: WaitlistOffer, now: dt.datetime | None = None) -> Booking:
    """The client takes the seat held for them: it becomes their booking (held for payment
    when the type is priced and payments are on, like any seat). Locks the offer's row,
    then (``take_seat``) the client's and the session's."""
    now = _now(now)
    _require_client_side(actor, offer.entry)
    with transaction.atomic():
        offer = _lock_offer(offer)
        if offer.status == OfferStatus.ACCEPTED and offer.booking_id:
            raise BookingRefused(_("You already accepted this seat."), code="invalid_transition")
        if offer.status != OfferStatus.PENDING or offer.expires_at <= now:
            raise BookingRefused(_("This offer has expired."), code="offer_expired")
        entry = (
            WaitlistEntry.objects.select_for_update(no_key=True, of=("self",))
            .select_related("client")
            .get(pk=offer.entry_id)
        )
        if offer.hold_id:
            booking = times.accept(actor=actor, offer=offer, entry=entry, now=now)
        else:
            booking = booking_services.take_seat(
                client=entry.client, session=offer.session, booked_by=actor, held_seat=True, now=now
            )
        offer.status = OfferStatus.ACCEPTED
        offer.answered_at = now
        offer.booking = booking
        offer.save(update_fields=["status", "answered_at", "booking"])
        entry.booking = booking
        _end(entry, EntryStatus.BOOKED, reason=reasons.ACCEPTED, now=now)
    return booking


def decline(*, actor: User, offer: WaitlistOffer, now: dt.datetime | None = None) -> WaitlistOffer:
    """The client doesn't want the seat: their entry ends and the seat goes to the next. A
    time declined goes to the next who want it; the client keeps waiting for others."""
    now = _now(now)
    _require_client_side(actor, offer.entry)
    with transaction.atomic():
        offer = _lock_offer(offer)
        if offer.status != OfferStatus.PENDING:
            raise BookingRefused(_("This offer is no longer open."), code="invalid_transition")
        entry = WaitlistEntry.objects.select_for_update(no_key=True).get(pk=offer.entry_id)
        if offer.hold_id:
            # One time declined: the client keeps waiting for others (never offered it again).
            entry.status = EntryStatus.WAITING
            entry.save(update_fields=["status"])
            _close_offer(offer, OfferStatus.DECLINED, now=now)
            return offer
        _close_offer(offer, OfferStatus.DECLINED, now=now)
        _end(entry, EntryStatus.DECLINED, reason=reasons.DECLINED, now=now)
        offer_seats(offer.session_id, now=now)
    return offer


def expire_offers(*, now: dt.datetime | None = None, limit: int = 200) -> int:
    """Offers not answered in time expire: the entry ends (the client is told and may join
    again) and the seat goes to the next in line. Safe with several workers: each offer is
    claimed under a row lock the others skip."""
    now = _now(now)
    expired = 0
    sessions: set[int] = set()
    with transaction.atomic():
        due = WaitlistOffer.objects.filter(status=OfferStatus.PENDING, expires_at__lte=now).order_by("expires_at")
        due = (
            due.select_for_update(no_key=True, skip_locked=True)
            if _skip_locked()
            else due.select_for_update(no_key=True)
        )
        for offer in due[:limit]:
            entry = WaitlistEntry.objects.select_for_update(no_key=True).get(pk=offer.entry_id)
            _close_offer(offer, OfferStatus.EXPIRED, now=now)
            _end(entry, EntryStatus.MISSED, reason=reasons.OFFER_EXPIRED, now=now)
            notify.offer_expired(offer)
            if offer.session_id:
                sessions.add(offer.session_id)
            expired += 1
        for session_id in sorted(sessions):
            offer_seats(session_id, now=now)
    return expired


def _skip_locked() -> bool:
    from django.db import connection

    return connection.features.has_select_for_update_skip_locked


def sweep(*, now: dt.datetime | None = None, limit: int = 200) -> int:
    """Every minute: offers that ran out pass on; sessions with people waiting and a seat
    free (a raised capacity, an event missed) make their offers; waitlists of sessions
    that began or were called off close. Returns the offers made."""
    now = _now(now)
    expire_offers(now=now, limit=limit)
    made = times.sweep(now=now)
    session_ids = list(
        WaitlistEntry.objects.filter(status=EntryStatus.WAITING, session__isnull=False)
        .order_by("session_id")
        .values_list("session_id", flat=True)
        .distinct()[:limit]
    )
    for session_id in session_ids:
        session = Session.objects.only("capacity", "seats_taken", "seats_held", "status", "start").get(pk=session_id)
        started = session.status != SessionStatus.SCHEDULED or session.start <= now
        if started or session.capacity > session.seats_taken + session.seats_held:
            made += len(offer_seats(session_id, now=now))
    return made


def move(
    *, actor: User, entry: WaitlistEntry, to_position: int, reason: str, now: dt.datetime | None = None
) -> WaitlistMove:
    """Staff put a waiting entry at ``to_position`` (1: first) by hand, with a reason: the
    entry's adjustment becomes the score points that place it between its new neighbours.
    It keeps moving with the factors afterwards (waiting time grows for everyone). Locks
    the session's row, so no offer is made from a queue half-moved."""
    now = _now(now)
    if not actor.is_staff_member:
        raise NotAllowed(_("Only back-office staff move people on a waitlist."))
    reason = clean_text(reason, LONG_TEXT, field="reason")
    if not reason:
        raise DomainError(_("Say why this person moves."), code="reason_required", field="reason")
    with transaction.atomic():
        if entry.session_id:
            booking_services.lock_session(entry.session_id)
        entry = (
            WaitlistEntry.objects.select_for_update(no_key=True, of=("self",))
            .select_related("session")
            .get(pk=entry.pk)
        )
        if entry.status != EntryStatus.WAITING:
            raise BookingRefused(_("Only someone still waiting can be moved."), code="invalid_transition")
        ranked = queue_of(entry, now=now)
        current = next(index for index, row in enumerate(ranked) if row.entry.pk == entry.pk)
        own = ranked[current]
        others = [row for index, row in enumerate(ranked) if index != current]
        target = min(max(to_position, 1), len(ranked)) - 1
        if not others or target == current:
            wanted = own.score
        elif target == 0:
            wanted = others[0].score + STEP
        elif target >= len(others):
            wanted = others[-1].score - STEP
        else:
            above, below = others[target - 1].score, others[target].score
            wanted = (above + below) / 2 if above - below > 2 * TIE else above - TIE
        entry.adjustment = round(wanted - (own.score - entry.adjustment), 6)
        entry.adjustment_reason = reason
        entry.save(update_fields=["adjustment", "adjustment_reason"])
        return WaitlistMove.objects.create(
            entry=entry,
            actor=actor,
            from_position=current + 1,
            to_position=target + 1,
            adjustment=entry.adjustment,
            reason=reason,
        )


# Score points between a moved entry and its new neighbour (scores are rounded to 6 places).
STEP = 0.001
TIE = 0.00001


# ---------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------


def queue_of(entry: WaitlistEntry, *, now: dt.datetime | None = None) -> list[scoring.Ranked]:
    """The queue ``entry`` stands in: its session's, or everyone waiting for times of its
    session type."""
    if entry.session_id:
        return queue(entry.session, now=now)
    entries = list(
        WaitlistEntry.objects.filter(
            session_type_id=entry.session_type_id, session__isnull=True, status=EntryStatus.WAITING
        ).select_related("client")
    )
    return scoring.rank(entries, now=_now(now))


def position(entry: WaitlistEntry, *, now: dt.datetime | None = None) -> int | None:
    """Where ``entry`` stands among those still waiting (1: next to be offered a seat or a
    time); None once it has an offer or has ended."""
    if entry.status != EntryStatus.WAITING:
        return None
    for place, ranked in enumerate(queue_of(entry, now=now), start=1):
        if ranked.entry.pk == entry.pk:
            return place
    return None


def type_queue(session_type, *, now: dt.datetime | None = None) -> list[scoring.Ranked]:
    """The people waiting for one-on-one times of ``session_type``, best first."""
    entries = list(
        WaitlistEntry.objects.filter(
            session_type=session_type, session__isnull=True, status=EntryStatus.WAITING
        ).select_related("client")
    )
    return scoring.rank(entries, now=_now(now))


def waiting_for(coach: User, *, now: dt.datetime | None = None) -> list[dict]:
    """What people wait for with ``coach``, in one query: each coming session and each
    session type with its count of people waiting, soonest session first, then the types."""
    now = _now(now)
    rows = (
        WaitlistEntry.objects.filter(coach=coach, status=EntryStatus.WAITING)
        .values("session_id", "session_type_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = {(row["session_id"], row["session_type_id"]): row["n"] for row in rows}
    sessions = {
        s.pk: s
        for s in Session.objects.filter(pk__in=[sid for sid, _ in counts if sid], start__gt=now).select_related(
            "session_type"
        )
    }
    types = {t.pk: t for t in SessionType.objects.filter(pk__in=[tid for sid, tid in counts if not sid and tid])}
    found = [
        {"session": sessions[sid], "session_type": sessions[sid].session_type, "waiting": n}
        for (sid, _tid), n in counts.items()
        if sid in sessions
    ]
    found.sort(key=lambda row: row["session"].start)
    found += [
        {"session": None, "session_type": types[tid], "waiting": n}
        for (sid, tid), n in sorted(counts.items(), key=lambda item: str(item[0][1]))
        if not sid and tid in types
    ]
    return found


def may_manage(actor: User, session: Session) -> bool:
    """The coach and staff see a session's queue with each entry's factors."""
    return is_manager(actor, session.coach)
