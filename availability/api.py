"""Coaches, and a coach's own availability and booking settings. (A coach's free slots, which
can be asked for one session type, are served by ``bookings.slots_api``.)"""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from accounts import services as account_services
from accounts.models import CoachProfile, Role, User
from accounts.selectors import coaches_visible_to
from accounts.services import COACH_SETTING_FIELDS, SERIES_SETTING_FIELDS, authenticate_token
from availability import services
from availability.models import AvailabilityWindow, DateOverride
from config.errors import DomainError, NotAllowed
from config.inputs import LONG_TEXT, Day, Input, LocalTime, optional

router = Router(tags=["availability"])


def viewer(request: HttpRequest) -> User | None:
    """The caller on endpoints open to visitors: a bearer token, else the session."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        user = authenticate_token(header[7:].strip())
        if user is None:
            raise DomainError(_("The token is not valid."), code="unauthenticated", status=401)
        return user
    return request.user if request.user.is_authenticated else None


def require_coach(request: HttpRequest) -> User:
    user = request.auth
    if user.role != Role.COACH:
        raise NotAllowed(_("Only coaches have availability and booking settings."), code="not_a_coach")
    return user


class SubjectOut(Schema):
    id: int
    name: str


class CoachOut(Schema):
    id: int
    name: str
    timezone: str
    bio: str
    subjects: list[SubjectOut]


class CoachesQuery(Input):
    subject: int | None = Field(None, ge=1, description="Only coaches who declare this subject (its id).")


@router.get("/coaches", response=list[CoachOut], auth=None, summary="Coaches whose calendar you may see")
def list_coaches(request: HttpRequest, query: Query[CoachesQuery]) -> list[CoachOut]:
    coaches = coaches_visible_to(viewer(request))
    if query.subject is not None:  # an unknown subject: nobody declares it
        coaches = coaches.filter(coach_profile__subjects__id=query.subject)
    coaches = coaches.prefetch_related("coach_profile__subjects")
    return [
        CoachOut(
            id=c.pk,
            name=c.display_name,
            timezone=c.timezone,
            bio=c.coach_profile.bio,
            subjects=[SubjectOut(id=s.pk, name=s.name) for s in c.coach_profile.subjects.all()],
        )
        for c in coaches
    ]


class TimeRange(Input):
    start: LocalTime
    end: LocalTime


WINDOW_DOC = """One window of bookable time, wall-clock in your zone: every `weekday` or on the
days of `rrule` (one of the two, the other null), between `valid_from` and `valid_until`
(inclusive dates, null: open), for the `session_types` listed (empty: every type), taking
firm bookings unless `allow_firm_booking` is false (then every booking in it is a request).

In a PUT, a window with an `id` changes that window and keeps what the item leaves out
(send a field, even null or `[]`, to change it; sending `weekday` or `rrule` sets both, the
missing one null); a window without `id` is new and what it leaves out takes the defaults
above; a window of yours that the list doesn't name is removed."""

RRULE_DOC = (
    "RFC 5545 RRULE, e.g. `FREQ=WEEKLY;INTERVAL=2;BYDAY=MO` (every other Monday) or "
    "`FREQ=MONTHLY;BYDAY=1MO` (the first Monday of the month): FREQ is DAILY, WEEKLY or "
    "MONTHLY; no BYHOUR/BYMINUTE/BYSECOND (start and end give the hours), no DTSTART "
    "(`valid_from` starts the rule). A rule whose days depend on where it starts (an "
    "INTERVAL, a COUNT, weekly without BYDAY, monthly without BYDAY or BYMONTHDAY) starts "
    "on `valid_from`; sent without one, it starts on its first day from your today, which "
    "is stored and shown as `valid_from`. Shown without the `RRULE:` prefix, parameters in "
    "a fixed order."
)


class WindowIn(Input):
    __doc__ = WINDOW_DOC

    id: int | None = Field(
        None, ge=1, description="A window of yours to change (from a GET); leave it out for a new window."
    )
    weekday: int | None = Field(
        None, ge=0, le=6, description="0 is Monday, 6 is Sunday; null when `rrule` gives the days."
    )
    rrule: str | None = Field(None, max_length=services.MAX_RULE_LENGTH + 6, description=RRULE_DOC)
    start: LocalTime = Field(description="Local time in your zone, e.g. 09:00.")
    end: LocalTime = Field(description="After `start`, the same day.")
    valid_from: Day | None = Field(None, description="The first day the window applies (your zone); null: always.")
    valid_until: Day | None = Field(None, description="The last day the window applies; null: no end.")
    session_types: list[int] = Field(
        default_factory=list,
        max_length=200,
        description="Ids of your session types (or those you co-host) the window is for; empty: every type.",
    )
    allow_firm_booking: bool = Field(
        True, description="False: every booking in this window is a request for you to approve."
    )


class OverrideIn(Input):
    date: Day
    windows: list[TimeRange] = Field(default_factory=list, description="No windows: a day off.")
    reason: str = Field("", max_length=120)


class AvailabilityIn(Input):
    """Everything at once, all or nothing. `GET` then `PUT` of the same body changes nothing."""

    timezone: str | None = Field(None, description="Your IANA zone; null or left out: unchanged.")
    weekly: list[WindowIn] = Field(description="Every window you have (see the window schema for ids).")
    overrides: list[OverrideIn] = Field(
        default_factory=list,
        description="Your overrides from today on (one per date); those before today stay as they are "
        "(one may be sent back only unchanged).",
    )


class WindowOut(Schema):
    __doc__ = WINDOW_DOC

    id: int
    weekday: int | None = Field(description="0 is Monday, 6 is Sunday; null when `rrule` gives the days.")
    rrule: str | None = Field(description=RRULE_DOC)
    start: str = Field(description="HH:MM (HH:MM:SS when the time has seconds).")
    end: str
    valid_from: dt.date | None
    valid_until: dt.date | None
    session_types: list[int] = Field(description="Empty: every session type.")
    allow_firm_booking: bool


class TimeRangeOut(Schema):
    start: str
    end: str


class OverrideOut(Schema):
    date: dt.date
    windows: list[TimeRangeOut]
    reason: str


class AvailabilityOut(Schema):
    timezone: str
    weekly: list[WindowOut] = Field(
        description="Every window: weekly ones by weekday and start, then those that follow a rule."
    )
    overrides: list[OverrideOut] = Field(description="From today on (your zone), by date.")


def _hhmm(value: dt.time) -> str:
    """HH:MM, or the whole time when it has seconds (so sending it back changes nothing)."""
    return value.strftime("%H:%M") if not (value.second or value.microsecond) else value.isoformat()


def window_out(spec: services.WindowSpec) -> WindowOut:
    assert spec.id is not None
    return WindowOut(
        id=spec.id,
        weekday=spec.weekday,
        rrule=spec.rrule,
        start=_hhmm(spec.start),
        end=_hhmm(spec.end),
        valid_from=spec.valid_from,
        valid_until=spec.valid_until,
        session_types=sorted(spec.session_type_ids),
        allow_firm_booking=spec.allow_firm_booking,
    )


def availability_of(coach: User) -> AvailabilityOut:
    windows = AvailabilityWindow.objects.filter(coach=coach).prefetch_related("session_types")
    specs = sorted(
        (services.WindowSpec.of(w) for w in windows),
        key=lambda w: (w.weekday is None, w.weekday or 0, w.start, w.end, w.id),
    )
    overrides = (
        DateOverride.objects.filter(coach=coach, date__gte=services.today_for(coach))
        .order_by("date")
        .prefetch_related("windows")
    )
    return AvailabilityOut(
        timezone=coach.timezone,
        weekly=[window_out(spec) for spec in specs],
        overrides=[
            OverrideOut(
                date=o.date,
                reason=o.reason,
                windows=[TimeRangeOut(start=_hhmm(w.start), end=_hhmm(w.end)) for w in o.windows.all()],
            )
            for o in overrides
        ],
    )


# Input field → WindowSpec field, for the ones a window with an id may leave out.
_SPEC_FIELDS = {
    "valid_from": "valid_from",
    "valid_until": "valid_until",
    "session_types": "session_type_ids",
    "allow_firm_booking": "allow_firm_booking",
}


def window_spec(item: WindowIn) -> services.WindowSpec:
    """The spec for one window of the body: what it leaves out is kept (with an id)."""
    sent = item.model_fields_set
    keep = {spec_name for name, spec_name in _SPEC_FIELDS.items() if name not in sent}
    if "weekday" not in sent and "rrule" not in sent:
        keep |= {"weekday", "rrule"}
    return services.WindowSpec(
        id=item.id,
        weekday=item.weekday,
        rrule=item.rrule,
        start=item.start,
        end=item.end,
        valid_from=item.valid_from,
        valid_until=item.valid_until,
        session_type_ids=frozenset(item.session_types),
        allow_firm_booking=item.allow_firm_booking,
        keep=frozenset(keep) if item.id is not None else frozenset(),
    )


@router.get("/availability", response=AvailabilityOut, summary="Your windows and upcoming overrides")
def get_availability(request: HttpRequest) -> AvailabilityOut:
    """Every window you have (weekly, by rule, limited to some session types, requests
    only, with their dates) and your overrides from today on: everything a `PUT` takes."""
    return availability_of(require_coach(request))


@router.put("/availability", response=AvailabilityOut, summary="Replace your availability (all or nothing)")
def put_availability(request: HttpRequest, payload: AvailabilityIn) -> AvailabilityOut:
    """Make your windows and your overrides from today on what the body says, all or
    nothing (a refusal names the input: `weekly.2.rrule`). Windows with an `id` change in
    place and keep what they leave out; windows without are new; windows not listed are
    removed. What is already as sent is not written: `PUT` of what `GET` answered changes
    nothing."""
    coach = require_coach(request)
    services.replace_availability(
        coach=coach,
        actor=coach,
        timezone_name=payload.timezone,
        weekly=[window_spec(w) for w in payload.weekly],
        overrides=[
            services.OverrideSpec(o.date, tuple((w.start, w.end) for w in o.windows), o.reason)
            for o in payload.overrides
        ],
    )
    coach.refresh_from_db(fields=["timezone"])
    return availability_of(coach)


class CoachSettingsOut(Schema):
    allow_firm_booking: bool
    firm_booking_threshold_hours: int
    require_approval_unconnected: bool
    calendar_visibility: str
    minimum_notice_hours: int
    booking_window_days: int
    slot_step_minutes: int
    buffer_before_minutes: int
    buffer_after_minutes: int
    max_sessions_per_day: int
    max_sessions_per_week: int
    cancellation_notice_hours: int
    connected_discount_percent: int
    headline: str
    bio: str
    allow_series: bool
    series_horizon_days: int | None
    series_requires_approval: bool


class CoachSettingsPatch(Input):
    """Only the settings sent change; none but the series horizon can be null."""

    allow_firm_booking: bool = optional()
    firm_booking_threshold_hours: int = optional(ge=0)
    require_approval_unconnected: bool = optional()
    calendar_visibility: str = optional()
    minimum_notice_hours: int = optional(ge=0)
    booking_window_days: int = optional(ge=1)
    slot_step_minutes: int = optional(ge=5)
    buffer_before_minutes: int = optional(ge=0)
    buffer_after_minutes: int = optional(ge=0)
    max_sessions_per_day: int = optional(ge=1)
    max_sessions_per_week: int = optional(ge=1)
    cancellation_notice_hours: int = optional(ge=0)
    connected_discount_percent: int = optional(ge=0, le=100)
    headline: str = optional(max_length=120)
    bio: str = optional(max_length=LONG_TEXT)
    allow_series: bool = optional()
    series_horizon_days: int | None = Field(
        None, ge=1, le=730, description="null: the site's default (SERIES_HORIZON_DAYS)."
    )
    series_requires_approval: bool = optional()


def settings_of(profile: CoachProfile) -> CoachSettingsOut:
    names = (*COACH_SETTING_FIELDS, *SERIES_SETTING_FIELDS)
    return CoachSettingsOut(**{name: getattr(profile, name) for name in names})


@router.get("/coach/settings", response=CoachSettingsOut, summary="Your booking settings")
def get_coach_settings(request: HttpRequest) -> CoachSettingsOut:
    return settings_of(require_coach(request).coach_profile)


@router.patch("/coach/settings", response=CoachSettingsOut, summary="Change some of your booking settings")
def patch_coach_settings(request: HttpRequest, payload: CoachSettingsPatch) -> CoachSettingsOut:
    coach = require_coach(request)
    changes = payload.dict(exclude_unset=True)
    profile = account_services.update_coach_settings(profile=coach.coach_profile, actor=coach, **changes)
    return settings_of(profile)
