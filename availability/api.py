"""Coaches, and a coach's own availability and booking settings. (A coach's free slots, which
can be asked for one session type, are served by ``bookings.slots_api``.)"""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Router, Schema

from accounts import services as account_services
from accounts.models import CoachProfile, Role, User
from accounts.selectors import coaches_visible_to
from accounts.services import COACH_SETTING_FIELDS, authenticate_token
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
            raise DomainError("The token is not valid.", code="unauthenticated", status=401)
        return user
    return request.user if request.user.is_authenticated else None


def require_coach(request: HttpRequest) -> User:
    user = request.auth
    if user.role != Role.COACH:
        raise NotAllowed("Only coaches have availability and booking settings.", code="not_a_coach")
    return user


class CoachOut(Schema):
    id: int
    name: str
    timezone: str
    bio: str


@router.get("/coaches", response=list[CoachOut], auth=None, summary="Coaches whose calendar you may see")
def list_coaches(request: HttpRequest) -> list[CoachOut]:
    return [
        CoachOut(id=c.pk, name=c.display_name, timezone=c.timezone, bio=c.coach_profile.bio)
        for c in coaches_visible_to(viewer(request))
    ]


class TimeRange(Input):
    start: LocalTime
    end: LocalTime


class WeeklyIn(Input):
    weekday: int = Field(ge=0, le=6, description="0 is Monday, 6 is Sunday.")
    start: LocalTime
    end: LocalTime


class OverrideIn(Input):
    date: Day
    windows: list[TimeRange] = Field(default_factory=list, description="No windows: a day off.")
    reason: str = Field("", max_length=120)


class AvailabilityIn(Input):
    timezone: str | None = None
    weekly: list[WeeklyIn]
    overrides: list[OverrideIn] = Field(default_factory=list)


class WeeklyOut(Schema):
    weekday: int
    start: str
    end: str


class TimeRangeOut(Schema):
    start: str
    end: str


class OverrideOut(Schema):
    date: dt.date
    windows: list[TimeRangeOut]
    reason: str


class AvailabilityOut(Schema):
    timezone: str
    weekly: list[WeeklyOut]
    overrides: list[OverrideOut]


def _hhmm(value: dt.time) -> str:
    return value.strftime("%H:%M")


def availability_of(coach: User) -> AvailabilityOut:
    weekly = AvailabilityWindow.objects.filter(coach=coach, weekday__isnull=False).order_by("weekday", "start")
    overrides = DateOverride.objects.filter(coach=coach, date__gte=services.today_for(coach)).prefetch_related(
        "windows"
    )
    return AvailabilityOut(
        timezone=coach.timezone,
        weekly=[WeeklyOut(weekday=w.weekday, start=_hhmm(w.start), end=_hhmm(w.end)) for w in weekly],
        overrides=[
            OverrideOut(
                date=o.date,
                reason=o.reason,
                windows=[TimeRangeOut(start=_hhmm(w.start), end=_hhmm(w.end)) for w in o.windows.all()],
            )
            for o in overrides
        ],
    )


@router.get("/availability", response=AvailabilityOut, summary="Your weekly windows and upcoming overrides")
def get_availability(request: HttpRequest) -> AvailabilityOut:
    return availability_of(require_coach(request))


@router.put("/availability", response=AvailabilityOut, summary="Replace your availability (all or nothing)")
def put_availability(request: HttpRequest, payload: AvailabilityIn) -> AvailabilityOut:
    coach = require_coach(request)
    services.replace_availability(
        coach=coach,
        actor=coach,
        timezone_name=payload.timezone,
        weekly=[services.WindowSpec(w.weekday, w.start, w.end) for w in payload.weekly],
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
    headline: str
    bio: str


class CoachSettingsPatch(Input):
    """Only the settings sent change; none can be null."""

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
    headline: str = optional(max_length=120)
    bio: str = optional(max_length=LONG_TEXT)


def settings_of(profile: CoachProfile) -> CoachSettingsOut:
    return CoachSettingsOut(**{name: getattr(profile, name) for name in COACH_SETTING_FIELDS})


@router.get("/coach/settings", response=CoachSettingsOut, summary="Your booking settings")
def get_coach_settings(request: HttpRequest) -> CoachSettingsOut:
    return settings_of(require_coach(request).coach_profile)


@router.patch("/coach/settings", response=CoachSettingsOut, summary="Change some of your booking settings")
def patch_coach_settings(request: HttpRequest, payload: CoachSettingsPatch) -> CoachSettingsOut:
    coach = require_coach(request)
    changes = payload.dict(exclude_unset=True)
    profile = account_services.update_coach_settings(profile=coach.coach_profile, actor=coach, **changes)
    return settings_of(profile)
