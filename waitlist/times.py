"""Waiting for one-on-one time: the client names the coach's session type, days of the
week, hours of their own day and a date range; when a matching time frees (a cancelled,
declined or expired booking, heard from the booking event stream) or opens (new hours:
the every-minute sweep looks for free times), it is held for the best-placed matching
entries — ``WAITLIST_TIME_OFFERS_AT_ONCE`` of them at once, the first to accept takes it —
until ``WAITLIST_OFFER_MINUTES`` from now, never past the booking's own minimum notice.

A declined time leaves the entry waiting for others (it is never offered that time again);
an offer left unanswered ends the entry, as for a seat; an entry ends at the end of its
date range. The held time is ``bookings.services.holds``: a tentative allocation shared by
the offers made for it at once, released when none of them is still open.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import can_book_for
from accounts.models import User
from availability.models import Allocation
from availability.rules import rules_for
from availability.selectors import free_slots
from bookings.models import Booking, SessionType
from bookings.services import BookingRefused, book_slot
from bookings.services.holds import hold_slot, may_hold, release_slot
from config.errors import DomainError, NotAllowed
from waitlist import notify, reasons, scoring
from waitlist.models import EntryStatus, OfferStatus, WaitlistEntry, WaitlistOffer

HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MAX_RANGES = 6


def _time(value: str, field: str) -> dt.time:
    if not isinstance(value, str) or not HHMM.match(value):
        raise DomainError(_("Give times as HH:MM, e.g. 09:30."), code="invalid", field=field)
    return dt.time.fromisoformat(value)


def _clean_ranges(time_ranges) -> list[list[str]]:
    if not isinstance(time_ranges, list) or not 1 <= len(time_ranges) <= MAX_RANGES:
        raise DomainError(
            _("Give between 1 and %(n)s time ranges.") % {"n": MAX_RANGES}, code="invalid", field="time_ranges"
        )
    cleaned = []
    for pair in time_ranges:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise DomainError(_("Each time range is a start and an end."), code="invalid", field="time_ranges")
        start, end = _time(pair[0], "time_ranges"), _time(pair[1], "time_ranges")
        if end <= start:
            raise DomainError(_("A time range ends after it starts."), code="invalid", field="time_ranges")
        cleaned.append([f"{start:%H:%M}", f"{end:%H:%M}"])
    return sorted(cleaned)


def join(
    *,
    actor: User,
    client: User,
    session_type: SessionType,
    days_of_week,
    time_ranges,
    date_from: dt.date,
    date_to: dt.date,
    now: dt.datetime | None = None,
) -> WaitlistEntry:
    """``client`` waits for a time of ``session_type`` (one-on-one) on ``days_of_week``
    (0 Monday … 6 Sunday), within ``time_ranges`` of their own day, from ``date_from`` to
    ``date_to`` (their zone; at most the coach's booking window ahead)."""
    now = now or timezone.now()
    coach = session_type.coach
    if not can_book_for(actor, client, coach=coach):
        raise NotAllowed(_("You can't join the waitlist for this person."))
    if not may_hold(session_type) or not session_type.is_active:
        raise DomainError(
            _("Only one-on-one types the coach hosts alone have a waitlist for times."),
            code="invalid",
            field="session_type",
        )
    if (
        not isinstance(days_of_week, list)
        or not days_of_week
        or any(not isinstance(day, int) or isinstance(day, bool) or not 0 <= day <= 6 for day in days_of_week)
    ):
        raise DomainError(
            _("Choose at least one day of the week (0 Monday … 6 Sunday)."), code="invalid", field="days_of_week"
        )
    ranges = _clean_ranges(time_ranges)
    zone = ZoneInfo(client.timezone)
    today = now.astimezone(zone).date()
    if date_from < today:
        raise DomainError(_("The first date is already past."), code="date_in_past", field="date_from")
    if date_to < date_from:
        raise DomainError(_("The last date comes before the first."), code="invalid_range", field="date_to")
    window = rules_for(coach.coach_profile, session_type).booking_window
    if date_to > today + window:
        raise DomainError(
            _("%(coach)s takes bookings up to %(days)s days ahead: choose an earlier last date.")
            % {"coach": coach.display_name, "days": window.days},
            code="beyond_window",
            field="date_to",
        )
    expires = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.UTC)
    try:
        with transaction.atomic():
            return WaitlistEntry.objects.create(
                client=client,
                added_by=actor,
                coach=coach,
                session_type=session_type,
                days_of_week=sorted(set(days_of_week)),
                time_ranges=ranges,
                zone=client.timezone,
                date_from=date_from,
                date_to=date_to,
                expires_at=expires,
                joined_at=now,
            )
    except IntegrityError as exc:
        raise BookingRefused(
            _("You already wait for a time of this session type: leave that entry to change it."),
            code="already_waiting",
        ) from exc


def wants(entry: WaitlistEntry, start: dt.datetime, end: dt.datetime) -> bool:
    """Whether ``start``–``end`` is a time the entry asks for, on the client's clock."""
    zone = ZoneInfo(entry.zone or "UTC")
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    day = local_start.date()
    if local_end.date() != day and local_end.time() != dt.time():
        return False
    if not entry.date_from <= day <= entry.date_to or local_start.weekday() not in entry.days_of_week:
        return False
    end_time = dt.time(23, 59, 59) if local_end.time() == dt.time() and local_end.date() != day else local_end.time()
    return any(
        dt.time.fromisoformat(low) <= local_start.time() and end_time <= dt.time.fromisoformat(high)
        for low, high in entry.time_ranges
    )


def _deadline(session_type: SessionType, start: dt.datetime, now: dt.datetime) -> dt.datetime:
    notice = rules_for(session_type.coach.coach_profile, session_type).minimum_notice
    return min(now + dt.timedelta(minutes=settings.WAITLIST_OFFER_MINUTES), start - notice)


def offer_time(session_type: SessionType, start: dt.datetime, *, now: dt.datetime | None = None) -> list:
    """Hold ``start`` of ``session_type`` for the best-placed entries that want it (never
    for someone who already had an offer of that time), when it is bookable now. Returns
    the offers made (none when nobody wants it or it can't be held)."""
    now = now or timezone.now()
    end = start + session_type.duration
    with transaction.atomic():
        waiting = list(
            WaitlistEntry.objects.filter(
                session_type=session_type, status=EntryStatus.WAITING, session__isnull=True, expires_at__gt=now
            ).select_related("client")
        )
        had = set(WaitlistOffer.objects.filter(entry__in=waiting, start=start).values_list("entry_id", flat=True))
        matching = [entry for entry in waiting if entry.pk not in had and wants(entry, start, end)]
        if not matching:
            return []
        expires = _deadline(session_type, start, now)
        if expires <= now:
            return []
        try:
            with transaction.atomic():
                hold = hold_slot(session_type=session_type, start=start, now=now)
        except BookingRefused:
            return []
        chosen = scoring.rank(matching, now=now)[: settings.WAITLIST_TIME_OFFERS_AT_ONCE]
        offers = WaitlistOffer.objects.bulk_create(
            WaitlistOffer(
                entry=ranked.entry,
                session_type=session_type,
                start=start,
                hold=hold,
                offered_at=now,
                expires_at=expires,
                score=ranked.score,
                factors=ranked.factors,
            )
            for ranked in chosen
        )
        WaitlistEntry.objects.filter(pk__in=[ranked.entry.pk for ranked in chosen]).update(status=EntryStatus.OFFERED)
        for offer in offers:
            offer.entry.status = EntryStatus.OFFERED
        notify.offered(offers)
    return offers


def _others_of(offer: WaitlistOffer):
    return WaitlistOffer.objects.select_for_update(no_key=True).filter(
        hold_id=offer.hold_id, status=OfferStatus.PENDING
    )


def after_closing(offer: WaitlistOffer, *, now: dt.datetime) -> None:
    """An offer of a time ended unaccepted: when none of its time's offers is still open,
    the time is let go and offered to the next who want it."""
    if _others_of(offer).exclude(pk=offer.pk).exists():
        return
    hold = Allocation.objects.filter(pk=offer.hold_id).first()
    if hold is not None and release_slot(hold):
        offer_time(offer.session_type, offer.start, now=now)


def accept(*, actor: User, offer: WaitlistOffer, entry: WaitlistEntry, now: dt.datetime) -> Booking:
    """In the caller's transaction, the offer and entry locked: the held time becomes the
    client's booking (by the usual rules: firm or a request, paid if priced); the other
    offers of that time are taken, and their people keep waiting."""
    hold = Allocation.objects.select_for_update(no_key=True).get(pk=offer.hold_id)
    booking = book_slot(
        client=entry.client, session_type=offer.session_type, start=offer.start, booked_by=actor, held=hold, now=now
    )
    others = list(_others_of(offer).exclude(pk=offer.pk))
    for other in others:
        other.status = OfferStatus.TAKEN
        other.answered_at = now
        other.save(update_fields=["status", "answered_at"])
    WaitlistEntry.objects.filter(pk__in=[other.entry_id for other in others], status=EntryStatus.OFFERED).update(
        status=EntryStatus.WAITING
    )
    return booking


def free_times(session_type: SessionType, entries: list[WaitlistEntry], *, now: dt.datetime) -> list[dt.datetime]:
    """The free starts of ``session_type`` within the entries' date ranges, soonest first."""
    first = min(entry.date_from for entry in entries)
    last = max(entry.date_to for entry in entries)
    zone = ZoneInfo(session_type.coach.timezone)
    slots = free_slots(
        coach=session_type.coach,
        start_date=first - dt.timedelta(days=1),
        end_date=last + dt.timedelta(days=1),
        viewer_tz=zone,
        session_type=session_type,
        now=now,
    )
    return sorted(slot.start for slot in slots)


def sweep(*, now: dt.datetime, limit: int = 50) -> int:
    """Entries past their last date end; free times that waiting entries want are offered
    (new hours, a raised limit, anything an event did not tell). Returns the offers made."""
    WaitlistEntry.objects.filter(session__isnull=True, status=EntryStatus.WAITING, expires_at__lte=now).update(
        status=EntryStatus.CLOSED, ended_at=now, end_reason=reasons.DATES_PASSED
    )
    made = 0
    type_ids = list(
        WaitlistEntry.objects.filter(session__isnull=True, status=EntryStatus.WAITING)
        .order_by("session_type_id")
        .values_list("session_type_id", flat=True)
        .distinct()[:limit]
    )
    for session_type in SessionType.objects.filter(pk__in=type_ids).select_related("coach__coach_profile"):
        entries = list(
            WaitlistEntry.objects.filter(session_type=session_type, status=EntryStatus.WAITING, session__isnull=True)
        )
        if not entries:
            continue
        end = session_type.duration
        for start in free_times(session_type, entries, now=now):
            if any(entry.status == EntryStatus.WAITING and wants(entry, start, start + end) for entry in entries):
                offers = offer_time(session_type, start, now=now)
                made += len(offers)
                offered = {offer.entry_id for offer in offers}
                for entry in entries:
                    if entry.pk in offered:
                        entry.status = EntryStatus.OFFERED
    return made
