"""GET /coaches/{id}/slots: a coach's free slots, for a length or one of the coach's session
types. It sits above the scheduling core (``availability``) because it looks session types
up; it is listed with the availability endpoints in the API's schema."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from accounts.models import Role
from accounts.selectors import coaches_visible_to
from accounts.validators import is_valid_timezone
from availability import selectors
from availability.api import viewer
from bookings.models import SessionType
from config.errors import DomainError
from config.inputs import Day, Input, canonical_zone

router = Router(tags=["availability"])


class SlotsQuery(Input):
    start: Day = Field(description="First day (inclusive), YYYY-MM-DD, in `tz`.")
    end: Day = Field(description="Last day (inclusive), YYYY-MM-DD, in `tz`.")
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
    if not is_valid_timezone(zone_name) or (query.tz and canonical_zone(query.tz) is None):
        raise DomainError(
            _("“%(zone)s” is not a time zone we know. Use an IANA name such as Europe/Paris.") % {"zone": zone_name},
            code="invalid_timezone",
            field="tz",
        )
    zone_name = canonical_zone(zone_name) or zone_name
    if query.end < query.start:
        raise DomainError(_("end is before start."), code="invalid_range")
    days = (query.end - query.start).days + 1
    if days > selectors.MAX_RANGE_DAYS:
        raise DomainError(
            _("The range is %(days)d days; ask for at most %(most)d.")
            % {"days": days, "most": selectors.MAX_RANGE_DAYS},
            code="range_too_long",
        )
    session_type = None
    if query.session_type is not None:
        if query.duration is not None:
            raise DomainError(_("Give duration or session_type, not both."), code="invalid")
        session_type = SessionType.objects.filter(pk=query.session_type, coach=coach, is_active=True).first()
        if session_type is None:
            raise DomainError(_("This coach has no session type with that id."), code="unknown_session_type")
    elif query.duration is None:
        raise DomainError(_("Give duration=MINUTES (or session_type=ID)."), code="duration_required")
    zone = ZoneInfo(zone_name)
    slots = selectors.free_slots(
        coach=coach,
        session_type=session_type,
        duration=None if session_type is not None else dt.timedelta(minutes=query.duration),
        start_date=query.start,
        end_date=query.end,
        viewer_tz=zone,
        # A signed-in client sees the times their tags' rules allow.
        client=user if user is not None and user.role == Role.CLIENT else None,
    )
    return SlotsOut(
        coach=coach.pk,
        timezone=zone_name,
        slots=[
            SlotOut(start=s.start.astimezone(zone).isoformat(), end=s.end.astimezone(zone).isoformat()) for s in slots
        ],
    )
