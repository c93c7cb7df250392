"""Rooms as participants of scheduling: a time is offered only when a suitable room is
open and free, every offered time can be booked, the smallest room that fits is taken, and
a group session never has more seats than its room holds."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from accounts.tests.factories import ClientFactory
from availability.models import Allocation, Resource, ResourceClosure, ResourceHours
from availability.selectors import free_slots
from bookings import services
from bookings.models import Booking, Session
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach
from config.errors import DomainError

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


def _day(days: int = 3) -> dt.date:
    return dt.datetime.now(PARIS).date() + dt.timedelta(days=days)


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=PARIS).astimezone(dt.UTC)


def _room(name: str, *, capacity: int = 1, hours: tuple[int, int] | None = (9, 12), **extra) -> Resource:
    room = Resource.objects.create(name=name, kind="room", capacity=capacity, timezone="Europe/Paris", **extra)
    if hours is not None:
        for weekday in range(7):
            ResourceHours.objects.create(resource=room, weekday=weekday, start=dt.time(hours[0]), end=dt.time(hours[1]))
    return room


def _starts(session_type, day: dt.date) -> list[dt.datetime]:
    found = free_slots(
        coach=session_type.coach, session_type=session_type, start_date=day, end_date=day, viewer_tz=PARIS
    )
    return [slot.start for slot in found]


def test_times_are_offered_only_inside_the_rooms_opening_hours_and_when_one_is_free():
    coach = open_coach()  # 09–17 Paris every day
    room = _room("Room 1", hours=(9, 12))
    session_type = SessionTypeFactory(coach=coach, resource_kind="room")
    session_type.resources.set([room])
    day = _day()

    assert _starts(session_type, day) == [_at(day, 9), _at(day, 10), _at(day, 11)]

    # Another coach's session holds the room at 10:00: that time goes, the coach's own hours stay.
    other = SessionTypeFactory(coach=open_coach(), resource_kind="room")
    services.book_slot(client=ClientFactory(), session_type=other, start=_at(day, 10))
    assert _starts(session_type, day) == [_at(day, 9), _at(day, 11)]


def test_every_offered_time_can_be_booked_and_nothing_is_offered_once_every_room_is_taken():
    coach = open_coach()
    rooms = [_room("Room A", hours=(9, 11)), _room("Room B", hours=(10, 12))]
    session_type = SessionTypeFactory(coach=coach, resource_kind="room")
    day = _day()
    # A second coach competes for the same rooms.
    rival_type = SessionTypeFactory(coach=open_coach(), resource_kind="room")

    booked = 0
    for _ in range(10):
        offered = _starts(session_type, day) + _starts(rival_type, day)
        if not offered:
            break
        # Whatever is offered is booked without a refusal at the last step.
        start = offered[0]
        pick = session_type if start in _starts(session_type, day) else rival_type
        booking = services.book_slot(client=ClientFactory(), session_type=pick, start=start)
        assert booking.session.resource in rooms
        booked += 1
    assert booked == 4  # Room A 09–10, 10–11; Room B 10–11, 11–12
    assert _starts(session_type, day) == [] and _starts(rival_type, day) == []
    with pytest.raises(DomainError) as refused:
        services.book_slot(client=ClientFactory(), session_type=session_type, start=_at(day, 10))
    assert refused.value.code == "slot_taken"


def test_a_closure_removes_the_rooms_days_and_a_room_without_hours_is_always_open():
    coach = open_coach()
    room = _room("Studio", hours=(9, 12))
    session_type = SessionTypeFactory(coach=coach, resource_kind="room")
    session_type.resources.set([room])
    day = _day()
    ResourceClosure.objects.create(resource=room, start_date=day, end_date=day, reason="Works")
    assert _starts(session_type, day) == []
    assert _starts(session_type, day + dt.timedelta(days=1)) != []

    open_all_day = _room("Hall", hours=None)
    session_type.resources.set([open_all_day])
    assert len(_starts(session_type, day)) == 8  # the coach's 09–17, hourly


def test_the_smallest_room_that_fits_is_chosen_and_a_group_never_outgrows_its_room():
    coach = open_coach()
    small, medium, large = (
        _room("Small", capacity=4, hours=None),
        _room("Medium", capacity=6, hours=None),
        _room("Large", capacity=12, hours=None),
    )
    workshop = GroupTypeFactory(coach=coach, capacity=5, resource_kind="room")
    day = _day()

    session = services.publish_session(actor=coach, session_type=workshop, start=_at(day, 9))
    assert session.resource == medium  # 4 is too small; 6 is the smallest that holds 5
    session = services.publish_session(actor=coach, session_type=workshop, start=_at(day, 11), capacity=3)
    assert session.resource == small
    session = services.publish_session(actor=coach, session_type=workshop, start=_at(day, 13), capacity=10)
    assert session.resource == large
    # Only the type's own rooms when it names some: with Small alone, 5 seats have no room.
    workshop.resources.set([small])
    with pytest.raises(DomainError) as refused:
        services.publish_session(actor=coach, session_type=workshop, start=_at(day, 15))
    assert refused.value.code == "slot_taken"
    assert "holds 5 people" in refused.value.message
    assert Session.objects.count() == 3


def test_a_group_larger_than_every_free_room_is_refused_and_seats_stop_at_the_room():
    coach = open_coach()
    _room("Small", capacity=4, hours=None)
    big = _room("Big", capacity=8, hours=None)
    workshop = GroupTypeFactory(coach=coach, capacity=8, resource_kind="room")
    day = _day()
    session = services.publish_session(actor=coach, session_type=workshop, start=_at(day, 9))
    assert session.resource == big and session.capacity == 8
    # Big is taken at 09:00; an 8-seat session at the same time has no room.
    other = GroupTypeFactory(coach=open_coach(), capacity=8, resource_kind="room")
    with pytest.raises(DomainError) as refused:
        services.publish_session(actor=other.coach, session_type=other, start=_at(day, 9))
    assert refused.value.code == "slot_taken"
    clients = [ClientFactory() for _ in range(9)]
    for client in clients[:8]:
        services.take_seat(client=client, session=session)
    with pytest.raises(DomainError) as full:
        services.take_seat(client=clients[8], session=session)
    assert full.value.code == "full"
    assert Booking.objects.filter(session=session).count() == 8 <= big.capacity


def test_a_moved_booking_takes_a_free_room_at_its_new_time_and_lets_the_old_one_go():
    coach = open_coach()
    room = _room("Only room", hours=(9, 12))
    session_type = SessionTypeFactory(coach=coach, resource_kind="room")
    day = _day()
    client = ClientFactory()
    booking = services.book_slot(client=client, session_type=session_type, start=_at(day, 9))
    moved = services.reschedule(booking=booking, actor=client, start=_at(day, 10))
    assert moved.session.resource == room
    held = Allocation.objects.filter(resource=room, is_active=True)
    assert list(held.values_list("start", flat=True)) == [_at(day, 10)]
    assert _starts(session_type, day) == [_at(day, 9), _at(day, 11)]
    with pytest.raises(DomainError) as refused:
        services.reschedule(booking=moved, actor=client, start=_at(day, 14))  # the room is closed then
    assert refused.value.code == "slot_taken"


def test_the_confirm_step_says_which_room_or_where_before_the_room_is_chosen():
    from urllib.parse import urlencode

    from django.test import Client
    from django.urls import reverse

    coach = open_coach()
    seine = _room("Seine", hours=None, location="Paris office")
    session_type = SessionTypeFactory(coach=coach, resource_kind="room")
    session_type.resources.set([seine])
    client = ClientFactory()
    http = Client()
    http.force_login(client)
    start = _at(_day(), 9)
    url = reverse("book_confirm", args=[coach.pk, session_type.pk])
    query = "?" + urlencode({"start": start.isoformat().replace("+00:00", "Z")})
    assert "Seine, Paris office" in http.get(url + query).content.decode()
    _room("Loire", hours=None, location="Paris office")
    session_type.resources.set([])  # any room: both are at the Paris office
    assert "a room at Paris office (chosen when you book)" in http.get(url + query).content.decode()
