"""Recurring series over JSON (issue 17): preview, book, read, and the exceptions.

Every change goes through ``bookings.services.series``, so the API follows the rules of the
pages: each occurrence is judged like a single booking and refused with the same codes
(409). The repetition is a frequency (``weekly``, ``biweekly``, ``monthly_weekday``,
``monthly_date``) with ``interval`` and ``count`` or ``until``, or an RFC 5545 ``rrule``
(``custom``); flat in the body or nested as ``repeat``. Times go in as ISO 8601 with a UTC
offset and come back in the caller's zone; a series the caller may not see answers 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal
from zoneinfo import ZoneInfo

import recurrence
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.responses import Status
from pydantic import ConfigDict

from accounts.models import Role, User
from bookings.api import (
    ACCEPT_CONSENTS_FIELD,
    INTAKE_ANSWERS_FIELD,
    BookingDetailOut,
    client_for,
    consents_due,
    fresh,
    intake_due,
    local,
    record_gates,
    site_of,
    zone_of,
)
from bookings.models import ACTIVE_STATUSES, BookingStatus, Series, SeriesFrequency, SessionType
from bookings.services import series as series_services
from config.errors import DomainError
from config.inputs import Day, Input, Instant, NotBlank, schema_requires

router = Router(tags=["series"])

Frequency = Literal["weekly", "biweekly", "monthly_weekday", "monthly_date", "custom"]
OnConflict = Literal["all_or_nothing", "skip"]
Scope = Literal["one", "following", "all"]


# ---------------------------------------------------------------------------------------
# Input
# ---------------------------------------------------------------------------------------


class SeriesRepeatIn(Input):
    frequency: Frequency | None = Field(
        None, description="How it repeats; `custom` takes `rrule`. Default: weekly (custom when `rrule` is given)."
    )
    interval: int = Field(1, ge=1, le=12, description="Every N weeks or months (weekly and monthly frequencies).")
    count: int | None = Field(None, ge=1, description="How many sessions (at most MAX_SERIES_OCCURRENCES).")
    until: Day | None = Field(None, description="The last day (inclusive), YYYY-MM-DD in the coach's zone.")
    rrule: str = Field(
        "", max_length=500, description="An RFC 5545 rule, e.g. `FREQ=WEEKLY;BYDAY=TU;COUNT=8` (frequency custom)."
    )


class SeriesPreviewIn(SeriesRepeatIn):
    coach: int
    session_type: int = Field(description="A one-on-one session type of the coach.")
    start: Instant = Field(description="The first session, ISO 8601 with a UTC offset.")
    client: int | None = Field(None, description="Book for someone else (a guardian or staff); default: you.")
    repeat: SeriesRepeatIn | None = Field(
        None, description="The repetition as one object, instead of frequency/interval/count/until/rrule."
    )


class SeriesMoveIn(Input):
    from_start: Instant = Field(alias="from", description="An occurrence's start, as the preview lists it.")
    to: Instant = Field(description="When to book that occurrence instead (e.g. the preview's suggestion).")


class SeriesIn(SeriesPreviewIn):
    on_conflict: OnConflict = Field(
        "all_or_nothing",
        description="all_or_nothing: one refused occurrence refuses the series (409); skip: book the free ones.",
    )
    moves: list[SeriesMoveIn] = Field(default_factory=list, max_length=100)
    notes: str = Field("", max_length=2000, description="Notes to the coach.")
    reminders: bool = True
    accept_consents: list[int] = ACCEPT_CONSENTS_FIELD
    intake_answers: dict[str, Any] = INTAKE_ANSWERS_FIELD


class SeriesCancelIn(Input):
    scope: Scope = Field(description="one: the session at `start`; following: it and the later ones; all: all to come.")
    start: Instant | None = Field(None, description="The occurrence's start (scope one or following).")
    reason: str = Field("", max_length=2000)
    skip: bool = Field(False, description="Record a cancelled single occurrence as skipped.")


class SeriesOccurrenceChangeIn(Input):
    start: Instant = Field(description="The occurrence's start, ISO 8601 with a UTC offset.")
    new_start: Instant = Field(description="Its new start, ISO 8601 with a UTC offset.")


class SeriesApproveIn(Input):
    note: str = Field("", max_length=2000)


class SeriesSuggestIn(Input):
    new_start: Instant = Field(
        description="Where the first open date goes, ISO 8601 with a UTC offset; every other open date moves by "
        "the same weekday shift, at this wall-clock time in the series' zone."
    )
    note: str = Field("", max_length=2000, description="A note for the client.")


class SeriesTimeDeclineIn(Input):
    note: str = Field("", max_length=2000, description="Why, for the coach.")


class SeriesDeclineIn(Input):
    # Required (the schema says so); a missing one is refused by the service, as ``reason_required``.
    model_config = ConfigDict(json_schema_extra=schema_requires("reason"))

    reason: NotBlank = Field("", max_length=2000, description="Why, for the client.")


# ---------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------


class VerdictOut(Schema):
    start: str
    end: str
    status: Literal["free", "refused"]
    code: str | None = Field(description="Why it is refused: a single booking's refusal code.")
    message: str | None
    suggestion: str | None = Field(description="A nearby free start, for a refused occurrence.")


class SeriesPreviewOut(Schema):
    rrule: str
    frequency: str
    timezone: str = Field(description="The zone of the times below (yours).")
    needs_approval: bool = Field(description="True: the series would be one request for the coach to answer.")
    request_reasons: list[str]
    occurrences: list[VerdictOut]


class OutcomeOut(Schema):
    start: str
    end: str
    status: str = Field(description="The booking's status, or `skipped`.")
    reference: str | None = Field(description="The booking's reference; null for a skipped occurrence.")
    code: str | None = Field(description="Why a skipped occurrence was refused.")
    message: str | None


class SeriesCreatedOut(Schema):
    id: int
    rrule: str
    description: str
    timezone: str = Field(description="The zone of the times below (yours).")
    occurrences: list[OutcomeOut]


class SeriesOccurrenceOut(Schema):
    id: int
    reference: str
    start: str
    end: str
    status: str
    suggested_start: str | None = Field(
        description="The other time the coach suggested for this open request (the series' answer); null otherwise."
    )


class SeriesOut(Schema):
    id: int
    client: int
    client_name: str
    booked_by: int
    coach: int
    coach_name: str
    session_type: int
    session_type_title: str
    frequency: str
    rrule: str
    description: str
    timezone: str = Field(description="The series' zone (the coach's): `local_time` is read there.")
    local_time: str = Field(description="The wall-clock time of every occurrence, HH:MM.")
    first_start: str
    exceptions: list[dict[str, Any]] = Field(description="Skipped, moved, cancelled and retimed occurrences, in order.")
    occurrences: list[SeriesOccurrenceOut] = Field(description="Every booking of the series, soonest first.")


# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------


def _repetition(payload: SeriesPreviewIn) -> dict[str, Any]:
    """The service's repetition arguments, from the flat fields or ``repeat``."""
    repeat: SeriesRepeatIn = payload
    if payload.repeat is not None:
        flat = payload.model_fields_set & {"frequency", "interval", "count", "until", "rrule"}
        if flat:
            raise DomainError(
                _("Give the repetition either in “repeat” or as top-level fields, not both."),
                code="invalid",
                field="repeat",
            )
        repeat = payload.repeat
    rrule = repeat.rrule.strip()
    frequency = repeat.frequency or (SeriesFrequency.CUSTOM if rrule else SeriesFrequency.WEEKLY)
    if rrule and frequency != SeriesFrequency.CUSTOM:
        raise DomainError(
            _("An rrule goes with the frequency “custom” (or no frequency)."), code="invalid", field="frequency"
        )
    if frequency == SeriesFrequency.CUSTOM and (repeat.count is not None or repeat.until is not None):
        # The service reads the count and the end date of a custom rule from the rule itself.
        raise DomainError(
            _("With a custom rule, give the count or the end date inside the rrule (COUNT=, UNTIL=)."),
            code="invalid",
            field="rrule",
        )
    return {
        "frequency": frequency,
        "interval": repeat.interval,
        "count": repeat.count,
        "until": repeat.until,
        "rrule": rrule,
    }


def _booking_target(actor: User, payload: SeriesPreviewIn) -> tuple[User, SessionType]:
    """The client and the session type the series is for (404 for an unknown coach or a
    client the caller may not book for; 400 ``unknown_session_type``)."""
    coach = get_object_or_404(User.objects.select_related("coach_profile"), pk=payload.coach, role=Role.COACH)
    session_type = SessionType.objects.filter(pk=payload.session_type, coach=coach).select_related("coach").first()
    if session_type is None:
        raise DomainError(_("This coach has no session type with that id."), code="unknown_session_type")
    return client_for(actor, payload.client, coach=coach), session_type


def _series_for(user: User, series_id: int) -> Series:
    """The series, or 404 when there is none or ``user`` may not see it."""
    series = Series.objects.select_related("client", "coach", "session_type").filter(pk=series_id).first()
    if series is None or not series_services.may_see(user, series):
        raise Http404("No such series.")
    return series


def _rrule_of(series: Series) -> str:
    text = series.recurrence
    if not isinstance(text, str):
        text = recurrence.serialize(text)
    lines = [line.strip() for line in str(text).splitlines() if line.strip().upper().startswith("RRULE:")]
    return (lines[0] if lines else str(text)).removeprefix("RRULE:")


def _suggested(booking, zone: ZoneInfo) -> str | None:
    """The time the coach suggested for an open request, in ``zone``."""
    if booking.status != BookingStatus.REQUESTED or not booking.suggested_alternatives:
        return None
    return local(dt.datetime.fromisoformat(booking.suggested_alternatives[0]), zone)


def series_out(series: Series, zone: ZoneInfo, now: dt.datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    bookings = list(series_services.occurrences_of(series))
    left = sum(1 for b in bookings if b.status in ACTIVE_STATUSES and b.session.start > now)
    return {
        "id": series.pk,
        "client": series.client_id,
        "client_name": series.client.display_name,
        "booked_by": series.booked_by_id,
        "coach": series.coach_id,
        "coach_name": series.coach.display_name,
        "session_type": series.session_type_id,
        "session_type_title": series.session_type.title,
        "frequency": series.frequency,
        "rrule": _rrule_of(series),
        "description": series_services.describe(series, left=left, total=len(bookings)),
        "timezone": series.timezone,
        "local_time": series.local_time.strftime("%H:%M"),
        "first_start": local(series.first_start, zone),
        "exceptions": list(series.exceptions),
        "occurrences": [
            {
                "id": booking.pk,
                "reference": booking.reference,
                "start": local(booking.session.start, zone),
                "end": local(booking.session.end, zone),
                "status": booking.status,
                "suggested_start": _suggested(booking, zone),
            }
            for booking in bookings
        ],
    }


# ---------------------------------------------------------------------------------------
# Endpoints
# ---------------------------------------------------------------------------------------


@router.post("/series/preview", response=SeriesPreviewOut, summary="Preview a recurring series")
def preview_series(request: HttpRequest, payload: SeriesPreviewIn) -> dict:
    """Every occurrence of the series with its verdict — free, or refused with a single
    booking's code and a nearby free time; books nothing."""
    actor = request.auth
    client, session_type = _booking_target(actor, payload)
    preview = series_services.preview_series(
        client=client, session_type=session_type, start=payload.start, booked_by=actor, **_repetition(payload)
    )
    zone = zone_of(actor)
    return {
        "rrule": preview.rrule,
        "frequency": preview.frequency,
        "timezone": zone.key,
        "needs_approval": preview.needs_approval,
        "request_reasons": list(preview.request_reasons),
        "occurrences": [
            {
                "start": local(verdict.start, zone),
                "end": local(verdict.end, zone),
                "status": "free" if verdict.free else "refused",
                "code": verdict.code or None,
                "message": verdict.message or None,
                "suggestion": local(verdict.suggestion, zone),
            }
            for verdict in preview.occurrences
        ],
    }


@router.post("/series", response={201: SeriesCreatedOut}, summary="Book a recurring series")
def create_series(request: HttpRequest, payload: SeriesIn) -> Status:
    """Books every occurrence in one transaction. ``all_or_nothing`` (the default) refuses
    the whole series with the first refused occurrence's code (409); ``skip`` books the free
    ones and lists the others as ``skipped`` with their code. ``moves`` books an occurrence
    at another time (a preview's suggestion). A client is asked what a single booking asks
    first: the consent documents (409 ``consent_required``; send ``accept_consents``) and the
    intake forms' answers (409 ``intake_required``; send ``intake_answers``), recorded with
    the series' first booking — refused, nothing is booked."""
    actor = request.auth
    client, session_type = _booking_target(actor, payload)
    repetition = _repetition(payload)
    moves: dict[dt.datetime, dt.datetime] = {}
    for move in payload.moves:
        if move.from_start in moves:
            raise DomainError(_("Each date can be moved once."), code="invalid", field="moves")
        moves[move.from_start] = move.to
    consents = consents_due(actor, client, session_type.coach, payload.accept_consents)
    intake = intake_due(actor, client, session_type, payload.intake_answers)
    series, outcomes = series_services.book_series(
        client=client,
        session_type=session_type,
        start=payload.start,
        on_conflict=payload.on_conflict,
        moves=moves,
        booked_by=actor,
        notes=payload.notes,
        reminders=payload.reminders,
        **repetition,
    )
    first = series_services.occurrences_of(series).first()
    record_gates(request, client, consents, intake, first)
    zone = zone_of(actor)
    total = sum(1 for outcome in outcomes if outcome.booking is not None)
    return Status(
        201,
        {
            "id": series.pk,
            "rrule": _rrule_of(series),
            "description": series_services.describe(series, left=total, total=total),
            "timezone": zone.key,
            "occurrences": [
                {
                    "start": local(outcome.start, zone),
                    "end": local(outcome.end, zone),
                    "status": outcome.status,
                    "reference": outcome.booking.reference if outcome.booking is not None else None,
                    "code": outcome.code or None,
                    "message": outcome.message or None,
                }
                for outcome in outcomes
            ],
        },
    )


@router.get("/series/{series_id}", response=SeriesOut, summary="A recurring series and its occurrences")
def get_series(request: HttpRequest, series_id: int) -> dict:
    user = request.auth
    return series_out(_series_for(user, series_id), zone_of(user))


@router.post("/series/{series_id}/cancel", response=SeriesOut, summary="Cancel one, following or all occurrences")
def cancel_series(request: HttpRequest, series_id: int, payload: SeriesCancelIn) -> dict:
    """Each occurrence by the single-booking rules (its cancellation notice, its policy), all
    in one transaction: a refusal of one refuses the change."""
    user = request.auth
    series = _series_for(user, series_id)
    series_services.cancel_series(
        series=series, actor=user, scope=payload.scope, start=payload.start, reason=payload.reason, skip=payload.skip
    )
    return series_out(_series_for(user, series_id), zone_of(user))


@router.post(
    "/series/{series_id}/move",
    response=BookingDetailOut,
    by_alias=True,
    summary="Move one occurrence of a series",
)
def move_occurrence(request: HttpRequest, series_id: int, payload: SeriesOccurrenceChangeIn) -> dict:
    """The occurrence at ``start`` moves to ``new_start`` (a reschedule by the single-booking
    rules); answers the moved booking."""
    user = request.auth
    series = _series_for(user, series_id)
    moved = series_services.move_occurrence(series=series, actor=user, start=payload.start, new_start=payload.new_start)
    return fresh(user, moved, site_of(request))


@router.post(
    "/series/{series_id}/retime",
    response=SeriesOut,
    summary="Change the time of an occurrence and the following ones",
)
def retime_series(request: HttpRequest, series_id: int, payload: SeriesOccurrenceChangeIn) -> dict:
    """From the occurrence at ``start`` on, every occurrence moves to ``new_start``'s
    wall-clock time (and weekday shift) in the series' zone; all move, or none."""
    user = request.auth
    series = _series_for(user, series_id)
    series_services.retime_following(series=series, actor=user, start=payload.start, new_start=payload.new_start)
    return series_out(_series_for(user, series_id), zone_of(user))


@router.post("/series/{series_id}/approve", response=SeriesOut, summary="Approve a series' requests (coach)")
def approve_series(request: HttpRequest, series_id: int, payload: SeriesApproveIn | None = None) -> dict:
    """One decision: every open request of the series still to come."""
    user = request.auth
    series = _series_for(user, series_id)
    series_services.approve_series(series=series, actor=user, note=(payload or SeriesApproveIn()).note)
    return series_out(_series_for(user, series_id), zone_of(user))


@router.post("/series/{series_id}/decline", response=SeriesOut, summary="Decline a series' requests (coach)")
def decline_series(request: HttpRequest, series_id: int, payload: SeriesDeclineIn) -> dict:
    """One decision: every open request of the series, with the reason for the client."""
    user = request.auth
    series = _series_for(user, series_id)
    series_services.decline_series(series=series, actor=user, reason=payload.reason)
    return series_out(_series_for(user, series_id), zone_of(user))


@router.post(
    "/series/{series_id}/suggest",
    response=SeriesOut,
    summary="Answer a series request with another time (coach)",
)
def suggest_series_time(request: HttpRequest, series_id: int, payload: SeriesSuggestIn) -> dict:
    """One answer for every open request of the series: the first moves to ``new_start``, the
    others by the same weekday shift at its wall-clock time; each is checked free. The
    requests keep their times until the client accepts (``accept-time``) or declines
    (``decline-time``)."""
    user = request.auth
    series = _series_for(user, series_id)
    series_services.suggest_series_time(series=series, actor=user, new_start=payload.new_start, note=payload.note)
    return series_out(_series_for(user, series_id), zone_of(user))


@router.post(
    "/series/{series_id}/accept-time",
    response=SeriesOut,
    summary="Take the time the coach suggested for a series (client)",
)
def accept_series_time(request: HttpRequest, series_id: int) -> dict:
    """Every open date moves to its suggested time, confirmed — all of them, or none (409)."""
    user = request.auth
    series = _series_for(user, series_id)
    series_services.accept_series_time(series=series, actor=user)
    return series_out(_series_for(user, series_id), zone_of(user))


@router.post(
    "/series/{series_id}/decline-time",
    response=SeriesOut,
    summary="Turn down the time the coach suggested for a series (client)",
)
def decline_series_time(request: HttpRequest, series_id: int, payload: SeriesTimeDeclineIn | None = None) -> dict:
    """The series request is withdrawn, every open date of it."""
    user = request.auth
    series = _series_for(user, series_id)
    series_services.decline_series_time(series=series, actor=user, note=(payload or SeriesTimeDeclineIn()).note)
    return series_out(_series_for(user, series_id), zone_of(user))
