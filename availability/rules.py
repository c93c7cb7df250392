"""The booking rules that apply to one session type: the coach's settings, with the
type's own overrides on top. The slot engine, the services and the pages read these.

Part of the scheduling core: it reads a coach profile and a session type by their
attributes only (``SessionTypeRules``), so it needs nothing from ``bookings``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from django.db import models

from accounts.models import CoachProfile
from availability import slots as engine


class ApprovalPolicy(models.TextChoices):
    COACH = "coach", "Follow the coach's rules"
    ALWAYS = "always", "Every booking is a request"
    NEVER = "never", "Never needs approval"


class SessionTypeRules(Protocol):
    """What the rules read of a session type (``bookings.SessionType``): blank (None)
    fields follow the coach's settings."""

    approval: str
    buffer_before_minutes: int | None
    buffer_after_minutes: int | None
    minimum_notice_hours: int | None
    booking_window_days: int | None
    cancellation_notice_hours: int | None
    allow_late_cancellation: bool

    @property
    def duration(self) -> dt.timedelta: ...


# Why a booking is a request rather than firm (``BookingRules.request_reasons``).
TYPE_NEEDS_APPROVAL = "type_needs_approval"  # the session type makes every booking a request
COACH_APPROVES_ALL = "coach_approves_all"  # the coach doesn't allow firm booking
NOT_CONNECTED = "not_connected"  # the client isn't connected and the coach asks approval of them
TOO_SOON = "too_soon"  # the start is within the firm-booking threshold
REQUEST_REASONS = (TYPE_NEEDS_APPROVAL, COACH_APPROVES_ALL, NOT_CONNECTED, TOO_SOON)


@dataclass(frozen=True, kw_only=True)
class BookingRules:
    duration: dt.timedelta
    step: dt.timedelta
    minimum_notice: dt.timedelta
    booking_window: dt.timedelta
    buffer_before: dt.timedelta
    buffer_after: dt.timedelta
    max_per_day: int | None
    max_per_week: int | None
    allow_firm_booking: bool
    firm_threshold: dt.timedelta
    require_approval_unconnected: bool
    approval: str
    cancellation_notice: dt.timedelta
    allow_late_cancellation: bool

    def slot_rules(self) -> engine.SlotRules:
        return engine.SlotRules(
            duration=self.duration,
            step=self.step,
            minimum_notice=self.minimum_notice,
            booking_window=self.booking_window,
            buffer_before=self.buffer_before,
            buffer_after=self.buffer_after,
            max_per_day=self.max_per_day,
            max_per_week=self.max_per_week,
        )

    def is_firm(self, *, start: dt.datetime, now: dt.datetime, connected: bool) -> bool:
        """DESIGN.md's rule: firm when the coach allows firm booking, and the client is
        connected or the coach doesn't require approval for unconnected clients, and the
        start is further away than the threshold. A type may force either answer."""
        return not self.request_reasons(start=start, now=now, connected=connected)

    def request_reasons(self, *, start: dt.datetime, now: dt.datetime, connected: bool) -> tuple[str, ...]:
        """Why a booking at ``start`` would be a request (empty: it is firm), each reason
        one of ``REQUEST_REASONS``; ``is_firm`` is this being empty."""
        if self.approval == ApprovalPolicy.ALWAYS:
            return (TYPE_NEEDS_APPROVAL,)
        if self.approval == ApprovalPolicy.NEVER:
            return ()
        reasons = []
        if not self.allow_firm_booking:
            reasons.append(COACH_APPROVES_ALL)
        if not connected and self.require_approval_unconnected:
            reasons.append(NOT_CONNECTED)
        if start <= now + self.firm_threshold:
            reasons.append(TOO_SOON)
        return tuple(reasons)


@dataclass(frozen=True)
class CoachLoad:
    """How many sessions count toward a coach's limits on one local day and in its ISO
    week (Monday ``monday``), as read under the coach's lock during a change."""

    day: dt.date
    monday: dt.date
    in_day: int
    in_week: int

    def plus_one(self) -> CoachLoad:
        return CoachLoad(self.day, self.monday, self.in_day + 1, self.in_week + 1)


def _pick(override: int | None, default: int) -> int:
    return default if override is None else override


def rules_for(
    profile: CoachProfile, session_type: SessionTypeRules | None = None, *, duration: dt.timedelta | None = None
) -> BookingRules:
    """The rules for ``session_type`` (or, with no type, the coach's own with ``duration``)."""
    st = session_type
    if duration is None:
        if st is None:
            raise ValueError("give a session type or a duration")
        duration = st.duration
    return BookingRules(
        duration=duration,
        step=dt.timedelta(minutes=profile.slot_step_minutes),
        minimum_notice=dt.timedelta(hours=_pick(st and st.minimum_notice_hours, profile.minimum_notice_hours)),
        booking_window=dt.timedelta(days=_pick(st and st.booking_window_days, profile.booking_window_days)),
        buffer_before=dt.timedelta(minutes=_pick(st and st.buffer_before_minutes, profile.buffer_before_minutes)),
        buffer_after=dt.timedelta(minutes=_pick(st and st.buffer_after_minutes, profile.buffer_after_minutes)),
        max_per_day=profile.max_sessions_per_day,
        max_per_week=profile.max_sessions_per_week,
        allow_firm_booking=profile.allow_firm_booking,
        firm_threshold=dt.timedelta(hours=profile.firm_booking_threshold_hours),
        require_approval_unconnected=profile.require_approval_unconnected,
        approval=st.approval if st is not None else ApprovalPolicy.COACH,
        cancellation_notice=dt.timedelta(
            hours=_pick(st and st.cancellation_notice_hours, profile.cancellation_notice_hours)
        ),
        allow_late_cancellation=bool(st and st.allow_late_cancellation),
    )
