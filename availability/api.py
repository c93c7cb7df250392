"""Coaches, their free slots, and a coach's own availability and booking settings."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema

from accounts import services as account_services
from accounts.models import CoachProfile, Role, User
from accounts.selectors import coaches_visible_to
from accounts.services import COACH_SETTING_FIELDS, authenticate_token
from accounts.validators import is_valid_timezone
from availability import selectors, services
from availability.models import AvailabilityWindow, DateOverride
from bookings.models import SessionType
from config.errors import DomainError, NotAllowed

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


class SlotsQuery(Schema):
    start: dt.date = Field(description="First day (inclusive), YYYY-MM-DD, in `tz`.")
    end: dt.date = Field(description="Last day (inclusive), YYYY-MM-DD, in `tz`.")
    tz: str | None = Field(None, description="IANA zone for the days and the times; default: yours.")
    duration: int | None = Field(None, ge=5, le=8 * 60, description="Session length in minutes.")
    session_type: int | None = Field(None, description="A session type of this coach (decides the length).")


class SlotOut(Schema):
    start: str
    end: str


class SlotsOut(Schema):
    coach: int
    timezone: str
    slots: list[SlotOut]


@router.get("/coaches/{coach_id}/slots", response=SlotsOut, auth=None, summary="A coach's free slots")
def coach_slots(request: HttpRequest, coach_id: int, query: Query[SlotsQuery]) -> SlotsOut:
    user = viewer(request)
    coach = get_object_or_404(coaches_visible_to(user), pk=coach_id)
    zone_name = query.tz or (user.timezone if user is not None else "UTC")
    if not is_valid_timezone(zone_name):
        raise DomainError(f"“{zone_name}” is not a known time zone.", code="invalid_timezone")
    if query.end < query.start:
        raise DomainError("end is before start.", code="invalid_range")
    days = (query.end - query.start).days + 1
    if days > selectors.MAX_RANGE_DAYS:
        raise DomainError(
            f"The range is {days} days; ask for at most {selectors.MAX_RANGE_DAYS}.", code="range_too_long"
        )
    session_type = None
    if query.session_type is not None:
        if query.duration is not None:
            raise DomainError("Give duration or session_type, not both.", code="invalid")
        session_type = SessionType.objects.filter(pk=query.session_type, coach=coach, is_active=True).first()
        if session_type is None:
            raise DomainError("This coach has no session type with that id.", code="unknown_session_type")
    elif query.duration is None:
        raise DomainError("Give duration=MINUTES (or session_type=ID).", code="duration_required")
    zone = ZoneInfo(zone_name)
    slots = selectors.free_slots(
        coach=coach,
        session_type=session_type,
        duration=None if session_type is not None else dt.timedelta(minutes=query.duration),
        start_date=query.start,
        end_date=query.end,
        viewer_tz=zone,
    )
    return SlotsOut(
        coach=coach.pk,
        timezone=zone_name,
        slots=[
            SlotOut(start=s.start.astimezone(zone).isoformat(), end=s.end.astimezone(zone).isoformat()) for s in slots
        ],
    )


class TimeRange(Schema):
    start: dt.time
    end: dt.time


class WeeklyIn(Schema):
    weekday: int = Field(ge=0, le=6, description="0 is Monday, 6 is Sunday.")
    start: dt.time
    end: dt.time


class OverrideIn(Schema):
    date: dt.date
    windows: list[TimeRange] = Field(default_factory=list, description="No windows: a day off.")
    reason: str = Field("", max_length=120)


class AvailabilityIn(Schema):
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


class CoachSettingsPatch(Schema):
    allow_firm_booking: bool | None = None
    firm_booking_threshold_hours: int | None = Field(None, ge=0)
    require_approval_unconnected: bool | None = None
    calendar_visibility: str | None = None
    minimum_notice_hours: int | None = Field(None, ge=0)
    booking_window_days: int | None = Field(None, ge=1)
    slot_step_minutes: int | None = Field(None, ge=5)
    buffer_before_minutes: int | None = Field(None, ge=0)
    buffer_after_minutes: int | None = Field(None, ge=0)
    max_sessions_per_day: int | None = Field(None, ge=1)
    max_sessions_per_week: int | None = Field(None, ge=1)
    cancellation_notice_hours: int | None = Field(None, ge=0)
    headline: str | None = Field(None, max_length=120)
    bio: str | None = None


def settings_of(profile: CoachProfile) -> CoachSettingsOut:
    return CoachSettingsOut(**{name: getattr(profile, name) for name in COACH_SETTING_FIELDS})


@router.get("/coach/settings", response=CoachSettingsOut, summary="Your booking settings")
def get_coach_settings(request: HttpRequest) -> CoachSettingsOut:
    return settings_of(require_coach(request).coach_profile)


@router.patch("/coach/settings", response=CoachSettingsOut, summary="Change some of your booking settings")
def patch_coach_settings(request: HttpRequest, payload: CoachSettingsPatch) -> CoachSettingsOut:
    coach = require_coach(request)
    changes = payload.dict(exclude_unset=True)
    if any(value is None for value in changes.values()):
        raise DomainError("Settings cannot be null; leave a setting out to keep it.", code="invalid")
    profile = account_services.update_coach_settings(profile=coach.coach_profile, actor=coach, **changes)
    return settings_of(profile)
