"""Factories and helpers for booking tests: a coach with a plain week, session types."""

from __future__ import annotations

import datetime as dt

import factory

from accounts.tests.factories import CoachFactory
from availability import services as availability
from bookings.models import SessionKind, SessionType


class SessionTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SessionType

    coach = factory.SubFactory(CoachFactory)
    title = factory.Sequence(lambda n: f"Consultation {n}")
    kind = SessionKind.ONE_ON_ONE
    duration_minutes = 60
    capacity = 1
    # A type given a meeting link uses it for every session (as the service decides).
    video = factory.LazyAttribute(lambda st: "fixed" if st.meeting_link else "none")
    meeting_link = ""


class GroupTypeFactory(SessionTypeFactory):
    title = factory.Sequence(lambda n: f"Group class {n}")
    kind = SessionKind.GROUP
    capacity = 10


def open_coach(*, timezone: str = "Europe/Paris", hours=(9, 17), days=range(7), **settings) -> object:
    """A coach available every day (by default) from 09:00 to 17:00 local, with no
    notice, buffers or limits unless given, and a 60-day booking window."""
    coach = CoachFactory(timezone=timezone)
    profile = coach.coach_profile
    defaults = {
        "minimum_notice_hours": 0,
        "booking_window_days": 60,
        "slot_step_minutes": 60,
        "buffer_before_minutes": 0,
        "buffer_after_minutes": 0,
        "max_sessions_per_day": 100,
        "max_sessions_per_week": 500,
        "firm_booking_threshold_hours": 0,
        "require_approval_unconnected": False,
        "allow_firm_booking": True,
    }
    for name, value in {**defaults, **settings}.items():
        setattr(profile, name, value)
    profile.save()
    for day in days:
        availability.set_day_windows(
            coach=coach, actor=coach, weekday=day, windows=[(dt.time(hours[0]), dt.time(hours[1]))]
        )
    return coach
