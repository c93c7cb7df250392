"""Answering requests: approve, decline, suggest other times, ask for information, expiry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import nullcontext
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import User
from availability.models import Allocation, AllocationKind
from availability.rules import rules_for
from bookings import reasons
from bookings.models import Booking, BookingStatus
from bookings.services.changes import _move
from bookings.services.checks import _check_coach_free
from bookings.services.common import (
    MAX_ALTERNATIVES,
    MSG_SLOT_TAKEN,
    REQUEST_EXPIRY,
    BookingRefused,
    _aware,
    _lock_booking,
    _lock_users,
    _now,
    _record,
    _request_deadline,
    _require_client_side,
    _require_manager,
    _require_status,
    _work_through,
    series_batch,
)
from bookings.services.ledger import _free_seat
from config.dates import format_when
from config.errors import DomainError
from config.inputs import LONG_TEXT, clean_text


def approve(*, booking: Booking, actor: User, note: str = "", now: dt.datetime | None = None) -> Booking:
    """The coach accepts a request: its tentative holds (the coach's, each co-host's, the
    room's) become firm allocations.
    Locks the hosts' user rows, then the booking's row."""
    now = _now(now)
    _require_manager(actor, booking)
    coach = booking.session.coach
    try:
        with transaction.atomic():
            _lock_users(coach, *booking.session.co_hosts.all())
            booking = _lock_booking(booking)
            _require_status(booking, BookingStatus.REQUESTED, message=_("This request has already been answered."))
            session = booking.session
            if session.start <= now:
                raise DomainError(
                    _("This session's time has passed; the request can only be declined."),
                    code="invalid_transition",
                    status=409,
                )
            holds = list(Allocation.objects.filter(session=session, is_active=True).select_related("staff"))
            own = [hold.pk for hold in holds]
            staff_holds = [hold for hold in holds if hold.staff_id]
            if not staff_holds:
                raise BookingRefused(MSG_SLOT_TAKEN, code="slot_taken")
            # Every host's hold (a co-hosted session has one each) must still be clear.
            for hold in staff_holds:
                _check_coach_free(
                    hold.staff,
                    blocked_start=hold.blocked_start,
                    blocked_end=hold.blocked_end,
                    exclude=own,
                    firm_only=True,
                )
            Allocation.objects.filter(pk__in=own).update(kind=AllocationKind.SESSION)
            booking.status = BookingStatus.CONFIRMED
            booking.confirmed_at = now
            booking.expires_at = None
            booking.suggested_alternatives = []
            booking.save()
            _record(
                booking,
                actor=actor,
                action="approved",
                from_status=BookingStatus.REQUESTED,
                note=clean_text(note, LONG_TEXT, field="note"),
            )
    except IntegrityError as exc:
        raise BookingRefused(MSG_SLOT_TAKEN, code="slot_taken") from exc
    return booking


def _end_request(
    booking: Booking, *, actor: User | None, status: str, action: str, reason: str, now: dt.datetime
) -> None:
    from_status = booking.status
    booking.status = status
    booking.expires_at = None
    if status == BookingStatus.DECLINED:
        booking.decline_reason = reason
    else:
        booking.cancelled_at = now
        booking.cancelled_by = actor
        booking.cancellation_reason = reason
    booking.save()
    _free_seat(booking)
    _record(booking, actor=actor, action=action, from_status=from_status, note=reason)


def decline(*, booking: Booking, actor: User, reason: str, now: dt.datetime | None = None) -> Booking:
    """The coach turns a request down, saying why; the slot is free again.
    Locks the booking's row."""
    now = _now(now)
    _require_manager(actor, booking)
    reason = clean_text(reason, LONG_TEXT, field="reason")
    if not reason:
        raise DomainError(_("Tell the client why you are declining."), code="reason_required")
    with transaction.atomic():
        booking = _lock_booking(booking)
        _require_status(booking, BookingStatus.REQUESTED, message=_("This request has already been answered."))
        _end_request(booking, actor=actor, status=BookingStatus.DECLINED, action="declined", reason=reason, now=now)
    return booking


def suggest_alternatives(
    *,
    booking: Booking,
    actor: User,
    alternatives: Sequence[dt.datetime],
    note: str = "",
    now: dt.datetime | None = None,
) -> Booking:
    """The coach offers other times; the request stays open (holding its slot) until the
    client accepts one of them or declines.
    Locks the booking's row."""
    now = _now(now)
    _require_manager(actor, booking)
    times = sorted({_aware(value, "suggested") for value in alternatives})
    if not times:
        raise DomainError(_("Suggest at least one time."), code="invalid")
    if len(times) > MAX_ALTERNATIVES:
        raise DomainError(_("Suggest at most %(count)d times.") % {"count": MAX_ALTERNATIVES}, code="invalid")
    if times[0] <= now:
        raise DomainError(_("Suggested times must be in the future."), code="invalid")
    with transaction.atomic():
        booking = _lock_booking(booking)
        _require_status(booking, BookingStatus.REQUESTED, message=_("This request has already been answered."))
        rules = rules_for(booking.session.coach.coach_profile, booking.session.session_type)
        own = list(Allocation.objects.filter(session=booking.session).values_list("pk", flat=True))
        for value in times:
            try:
                _check_coach_free(
                    booking.session.coach,
                    blocked_start=value - rules.buffer_before,
                    blocked_end=value + rules.duration + rules.buffer_after,
                    exclude=own,
                )
            except BookingRefused:
                local = value.astimezone(ZoneInfo(actor.timezone))
                raise BookingRefused(
                    _("You already have something at %(when)s.")
                    % {"when": format_when(local, "datetime_short_no_year")},
                    code="slot_taken",
                ) from None
        booking.suggested_alternatives = [value.isoformat() for value in times]
        booking.coach_notes = clean_text(note, LONG_TEXT, field="note") or booking.coach_notes
        booking.expires_at = max(booking.expires_at or now, min(now + REQUEST_EXPIRY, times[0]))
        booking.save()
        _record(
            booking,
            actor=actor,
            action="alternatives_suggested",
            from_status=BookingStatus.REQUESTED,
            note=clean_text(note, LONG_TEXT, field="note"),
            alternatives=booking.suggested_alternatives,
        )
    return booking


def accept_alternative(*, booking: Booking, actor: User, start: dt.datetime, now: dt.datetime | None = None) -> Booking:
    """The client takes one of the suggested times: the booking moves there, confirmed
    (the coach offered it), in one step.
    Locks what ``reschedule`` locks."""
    now = _now(now)
    _require_client_side(actor, booking)
    start = _aware(start)
    if booking.status != BookingStatus.REQUESTED:
        raise DomainError(_("This request has already been answered."), code="invalid_transition", status=409)
    offered = {dt.datetime.fromisoformat(value) for value in booking.suggested_alternatives}
    if start not in offered:
        raise DomainError(_("That time was not one of the suggested times."), code="invalid")
    if start <= now:
        raise BookingRefused(_("This time has already passed. Select another."), code="too_soon")
    return _move(
        booking, actor=actor, start=start, status=BookingStatus.CONFIRMED, action="alternative_accepted", now=now
    )


def decline_alternatives(*, booking: Booking, actor: User, note: str = "", now: dt.datetime | None = None) -> Booking:
    """The client turns the suggested times down; the request is withdrawn.
    Locks the booking's row."""
    now = _now(now)
    _require_client_side(actor, booking)
    with transaction.atomic():
        booking = _lock_booking(booking)
        _require_status(booking, BookingStatus.REQUESTED, message=_("This request has already been answered."))
        reason = clean_text(note, LONG_TEXT, field="note") or reasons.ALTERNATIVES_DECLINED
        _end_request(
            booking, actor=actor, status=BookingStatus.CANCELLED, action="alternatives_declined", reason=reason, now=now
        )
    return booking


def request_information(*, booking: Booking, actor: User, question: str, now: dt.datetime | None = None) -> Booking:
    """The coach asks the client a question about a request; the request stays open.
    Locks the booking's row."""
    now = _now(now)
    _require_manager(actor, booking)
    question = clean_text(question, LONG_TEXT, field="question")
    if not question:
        raise DomainError(_("Write your question to the client."), code="invalid")
    with transaction.atomic():
        booking = _lock_booking(booking)
        _require_status(booking, BookingStatus.REQUESTED, message=_("This request has already been answered."))
        booking.info_request = question
        booking.info_response = ""
        booking.expires_at = _request_deadline(booking.session.start, now)
        booking.save()
        _record(
            booking, actor=actor, action="information_requested", from_status=BookingStatus.REQUESTED, note=question
        )
    return booking


def answer_information(*, booking: Booking, actor: User, answer: str, now: dt.datetime | None = None) -> Booking:
    """The client answers the coach's question; the request stays open. Locks the
    booking's row."""
    now = _now(now)
    _require_client_side(actor, booking)
    answer = clean_text(answer, LONG_TEXT, field="answer")
    if not answer:
        raise DomainError(_("Write your answer."), code="invalid")
    with transaction.atomic():
        booking = _lock_booking(booking)
        _require_status(booking, BookingStatus.REQUESTED, message=_("This request has already been answered."))
        if not booking.info_request:
            raise DomainError(_("The coach hasn't asked anything."), code="invalid_transition", status=409)
        booking.info_response = answer
        booking.expires_at = _request_deadline(booking.session.start, now)
        booking.save()
        _record(booking, actor=actor, action="information_given", from_status=BookingStatus.REQUESTED, note=answer)
    return booking


def expire_requests(*, now: dt.datetime | None = None, limit: int = 200) -> int:
    """Decline the requests nobody answered in time. Safe with several workers: each
    request is claimed under a row lock that other workers skip.
    Locks each expired request's row in turn, skipping rows another worker holds."""
    now = _now(now)
    due = (
        Booking.objects.select_related("session", "session__session_type")
        .filter(status=BookingStatus.REQUESTED, expires_at__lte=now)
        .order_by("expires_at")
    )

    def expire(booking: Booking) -> None:
        # A series asked once: its open requests expire together, as one change.
        together = [booking]
        if booking.series_id is not None:
            together += list(
                due.filter(series_id=booking.series_id)
                .exclude(pk=booking.pk)
                .select_for_update(no_key=True, skip_locked=True)
            )
        with series_batch(booking.series_id, len(together)) if booking.series_id else nullcontext():
            for each in together:
                _end_request(
                    each,
                    actor=None,
                    status=BookingStatus.DECLINED,
                    action="expired",
                    reason=reasons.REQUEST_UNANSWERED,
                    now=now,
                )

    return _work_through(due, expire, limit=limit)
