"""Rooms and equipment (``availability.rooms``): who may manage them, each write and its
refusals, when a room is open, its utilisation per week (a DST week in Europe/Paris both
ways, a closure, a room without hours), and a week of its calendar on the viewer's clock.

Sessions are made through the app registry (``apps.get_model``): availability sits below
bookings and imports nothing of it; the ledger only names ``bookings.Session`` by string.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import AdminFactory, ClientFactory, CoachFactory, StaffFactory
from availability import rooms
from availability.models import Allocation, AllocationKind, Resource, ResourceClosure, ResourceHours
from config.errors import DomainError, NotAllowed

UTC = dt.UTC
PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
H = dt.timedelta(hours=1)
# Weeks of 2026: an ordinary one, and the two with a change of the clocks in Europe/Paris.
PLAIN_MONDAY = dt.date(2026, 6, 8)
SPRING_MONDAY = dt.date(2026, 3, 23)  # clocks go forward on Sunday 29 March, 02:00 → 03:00
AUTUMN_MONDAY = dt.date(2026, 10, 19)  # clocks go back on Sunday 25 October, 03:00 → 02:00
NOW = dt.datetime(2026, 6, 1, 12, tzinfo=UTC)


def t(value: str) -> dt.time:
    return dt.time.fromisoformat(value)


def weekdays(start: str, end: str, days=range(5)) -> list[rooms.Hours]:
    return [(day, t(start), t(end)) for day in days]


@pytest.fixture
def staff(db):
    return StaffFactory(email="staff@example.com", name="Sam Staff")


@pytest.fixture
def coach(db):
    return CoachFactory(email="coach@example.com", name="Camille Laurent", timezone="Europe/Paris")


def make_room(actor, *, name="Room A", timezone_name="UTC", hours=None, **extra) -> Resource:
    return rooms.create_resource(actor=actor, name=name, timezone_name=timezone_name, hours=hours, **extra)


def a_session(coach, start: dt.datetime, end: dt.datetime, *, title="Strategy session", capacity=1):
    session_type = apps.get_model("bookings", "SessionType").objects.create(
        coach=coach,
        title=title,
        kind="one_on_one" if capacity == 1 else "group",
        duration_minutes=int((end - start) / dt.timedelta(minutes=1)),
        capacity=capacity,
    )
    return apps.get_model("bookings", "Session").objects.create(
        session_type=session_type, coach=coach, start=start, end=end, capacity=capacity
    )


def hold(room, start: dt.datetime, end: dt.datetime, *, coach=None, kind=AllocationKind.SESSION, **extra) -> Allocation:
    """The room's line of the ledger, with a session when a coach is given."""
    session = a_session(coach, start, end, **extra) if coach is not None else None
    return Allocation.objects.create(
        resource=room,
        session=session,
        kind=kind,
        start=start,
        end=end,
        blocked_start=start,
        blocked_end=end,
        counts_toward_limits=False,
    )


def at(day: dt.date, clock: str, zone: ZoneInfo = UTC) -> dt.datetime:
    return dt.datetime.combine(day, t(clock), tzinfo=zone)


# --- who may manage ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_staff_admins_and_coaches_manage_rooms_clients_and_visitors_dont() -> None:
    from django.contrib.auth.models import AnonymousUser

    assert rooms.can_manage_rooms(StaffFactory())
    assert rooms.can_manage_rooms(AdminFactory())
    assert rooms.can_manage_rooms(CoachFactory())
    assert not rooms.can_manage_rooms(ClientFactory())
    assert not rooms.can_manage_rooms(AnonymousUser())


@pytest.mark.django_db
def test_a_client_can_change_nothing(staff) -> None:
    client = ClientFactory()
    room = make_room(staff)
    closure = rooms.add_closure(
        resource=room, actor=staff, start_date=dt.date(2026, 7, 1), end_date=dt.date(2026, 7, 2)
    )
    for change in (
        lambda: make_room(client, name="Mine"),
        lambda: rooms.update_resource(resource=room, actor=client, name="X", kind="room", capacity=2),
        lambda: rooms.set_hours(resource=room, actor=client, hours=[]),
        lambda: rooms.add_closure(resource=room, actor=client, start_date=NOW.date(), end_date=NOW.date()),
        lambda: rooms.delete_closure(closure=closure, actor=client),
        lambda: rooms.deactivate_resource(resource=room, actor=client),
        lambda: rooms.reactivate_resource(resource=room, actor=client),
    ):
        with pytest.raises(NotAllowed) as refusal:
            change()
        assert refusal.value.status == 403
    room.refresh_from_db()
    assert room.name == "Room A" and room.is_active and ResourceClosure.objects.filter(pk=closure.pk).exists()


# --- create and update ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_coach_creates_a_room_with_its_hours_in_one_go(coach) -> None:
    room = make_room(
        coach,
        name="  Studio 1 ",
        kind="room",
        capacity=12,
        location="Rue de Rivoli",
        description="Mirrors, mats",
        timezone_name="Asia/Calcutta",  # an old alias is stored by its canonical name
        hours=[*weekdays("08:00", "12:00"), *weekdays("13:00", "18:00"), (5, t("09:00"), t("12:00"))],
    )
    room.refresh_from_db()
    assert (room.name, room.capacity, room.location, room.timezone, room.is_active) == (
        "Studio 1",
        12,
        "Rue de Rivoli",
        "Asia/Kolkata",
        True,
    )
    assert ResourceHours.objects.filter(resource=room).count() == 11
    assert rooms.hours_summary(room.hours.values_list("weekday", "start", "end")) == (
        "Mon–Fri 08:00–12:00, 13:00–18:00 · Sat 09:00–12:00"
    )


@pytest.mark.parametrize(
    ("values", "field", "code"),
    [
        ({"name": "   "}, "name", "name_required"),
        ({"name": "Room\x00"}, "name", "invalid"),
        ({"name": "R" * 121}, "name", "invalid"),
        ({"kind": "kitchen"}, "kind", "bad_kind"),
        ({"capacity": 0}, "capacity", "bad_capacity"),
        ({"capacity": 501}, "capacity", "bad_capacity"),
        ({"capacity": True}, "capacity", "bad_capacity"),
        ({"timezone_name": "Mars/Olympus"}, "timezone", "invalid_timezone"),
        ({"timezone_name": "localtime"}, "timezone", "invalid_timezone"),
        ({"location": "x" * 201}, "location", "invalid"),
        ({"hours": [(7, t("08:00"), t("09:00"))]}, "hours", "bad_weekday"),
        ({"hours": [(0, t("18:00"), t("08:00"))]}, "day0", "hours_end_before_start"),
    ],
)
@pytest.mark.django_db
def test_bad_details_are_refused_naming_the_field_and_nothing_is_written(staff, values, field, code) -> None:
    with pytest.raises(DomainError) as refusal:
        make_room(staff, **{"name": "Room A", **values})
    assert (refusal.value.field, refusal.value.code) == (field, code)
    assert refusal.value.message and 400 <= refusal.value.status < 500
    assert not Resource.objects.exists()


@pytest.mark.django_db
def test_a_name_is_unique_per_location_whatever_the_case(staff) -> None:
    make_room(staff, name="Room A", location="Paris")
    make_room(staff, name="Room A", location="Lyon")  # another location: fine
    with pytest.raises(DomainError) as refusal:
        make_room(staff, name="room a", location="paris")
    assert (refusal.value.code, refusal.value.field, refusal.value.status) == ("name_taken", "name", 409)
    assert "Room A" in refusal.value.message or "room a" in refusal.value.message
    lyon = Resource.objects.get(location="Lyon")
    with pytest.raises(DomainError, match="already a room"):
        rooms.update_resource(resource=lyon, actor=staff, name="ROOM A", kind="room", capacity=1, location="Paris")
    lyon.refresh_from_db()
    assert lyon.location == "Lyon"


@pytest.mark.django_db
def test_an_update_changes_the_details_and_keeps_the_hours(staff) -> None:
    room = make_room(staff, hours=weekdays("08:00", "18:00"))
    rooms.update_resource(
        resource=room,
        actor=staff,
        name="Room B",
        kind="equipment",
        capacity=3,
        location="Floor 2",
        description="",
        timezone_name="Europe/Paris",
    )
    room.refresh_from_db()
    assert (room.name, room.kind, room.capacity, room.location, room.timezone) == (
        "Room B",
        "equipment",
        3,
        "Floor 2",
        "Europe/Paris",
    )
    assert room.hours.count() == 5


@pytest.mark.django_db
def test_capacity_cannot_go_below_the_seats_of_a_session_still_to_come(staff, coach) -> None:
    room = make_room(staff, capacity=10)
    hold(room, NOW + 48 * H, NOW + 50 * H, coach=coach, capacity=8)
    hold(room, NOW - 50 * H, NOW - 48 * H, coach=coach, capacity=10)  # past: doesn't count
    with pytest.raises(DomainError) as refusal:
        rooms.update_resource(resource=room, actor=staff, name="Room A", kind="room", capacity=6, now=NOW)
    assert (refusal.value.code, refusal.value.field) == ("capacity_below_sessions", "capacity")
    assert "8 seats" in refusal.value.message
    rooms.update_resource(resource=room, actor=staff, name="Room A", kind="room", capacity=8, now=NOW)
    room.refresh_from_db()
    assert room.capacity == 8


# --- opening hours ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_hours_are_replaced_all_at_once_and_empty_means_around_the_clock(staff) -> None:
    room = make_room(staff, hours=weekdays("08:00", "18:00"))
    rooms.set_hours(resource=room, actor=staff, hours=[(0, t("12:00"), t("14:00")), (0, t("09:00"), t("12:00"))])
    assert list(room.hours.order_by("start").values_list("weekday", "start", "end")) == [
        (0, t("09:00"), t("12:00")),  # touching ranges are fine
        (0, t("12:00"), t("14:00")),
    ]
    rooms.set_hours(resource=room, actor=staff, hours=[])
    assert not room.hours.exists()
    assert rooms.hours_summary([]) == "Open around the clock"


@pytest.mark.django_db
def test_overlapping_or_reversed_hours_are_refused_naming_the_day_and_the_old_hours_stay(staff) -> None:
    room = make_room(staff, hours=weekdays("08:00", "18:00"))
    with pytest.raises(DomainError) as refusal:
        rooms.set_hours(resource=room, actor=staff, hours=[(2, t("08:00"), t("12:00")), (2, t("11:30"), t("18:00"))])
    assert refusal.value.code == "hours_overlap" and refusal.value.field == "day2"
    assert refusal.value.message == "Wednesday: 08:00–12:00 overlaps 11:30–18:00."
    with pytest.raises(DomainError) as refusal:
        rooms.set_hours(resource=room, actor=staff, hours=[(4, t("18:00"), t("18:00"))])
    assert refusal.value.message == "Friday: 18:00–18:00 closes before it opens."
    assert room.hours.count() == 5


# --- closures -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_closures_are_added_and_deleted_and_bad_ones_refused(staff) -> None:
    room = make_room(staff)
    closure = rooms.add_closure(
        resource=room, actor=staff, start_date=dt.date(2026, 8, 3), end_date=dt.date(2026, 8, 7), reason=" Painting "
    )
    assert closure.reason == "Painting"
    refusals = {
        "closure_end_before_start": dict(start_date=dt.date(2026, 9, 2), end_date=dt.date(2026, 9, 1)),
        "closure_overlap": dict(start_date=dt.date(2026, 8, 7), end_date=dt.date(2026, 8, 9)),
    }
    for code, dates in refusals.items():
        with pytest.raises(DomainError) as refusal:
            rooms.add_closure(resource=room, actor=staff, **dates)
        assert refusal.value.code == code
    with pytest.raises(DomainError, match="already closed from 3 Aug 2026 to 7 Aug 2026"):
        rooms.add_closure(resource=room, actor=staff, start_date=dt.date(2026, 8, 1), end_date=dt.date(2026, 8, 3))
    for first, last in ((dt.date(1899, 12, 31), dt.date(1900, 1, 2)), (dt.date(2999, 12, 31), dt.date(3000, 1, 1))):
        with pytest.raises(DomainError, match="Use a date between 1900-01-01 and 2999-12-31"):
            rooms.add_closure(resource=room, actor=staff, start_date=first, end_date=last)
    assert room.closures.count() == 1
    rooms.delete_closure(closure=closure, actor=staff)
    assert not room.closures.exists()


# --- active or not -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_deactivating_a_room_in_use_asks_first_and_never_cancels_anything(staff, coach) -> None:
    room = make_room(staff)
    upcoming = [
        hold(room, NOW + 24 * H, NOW + 25 * H, coach=coach, title="Yoga"),
        hold(room, NOW + 48 * H, NOW + 49 * H, coach=coach, kind=AllocationKind.REQUEST),
    ]
    hold(room, NOW - 48 * H, NOW - 47 * H, coach=coach)  # past
    cancelled = hold(room, NOW + 72 * H, NOW + 73 * H, coach=coach)
    Allocation.objects.filter(pk=cancelled.pk).update(is_active=False)

    with pytest.raises(rooms.RoomInUse) as refusal:
        rooms.deactivate_resource(resource=room, actor=staff, now=NOW)
    assert refusal.value.code == "room_in_use" and refusal.value.status == 409
    assert refusal.value.message.startswith("2 upcoming sessions use Room A.")
    assert [use.title for use in refusal.value.uses] == ["Yoga", "Strategy session"]
    assert [use.is_request for use in refusal.value.uses] == [False, True]
    room.refresh_from_db()
    assert room.is_active

    rooms.deactivate_resource(resource=room, actor=staff, confirmed=True, now=NOW)
    room.refresh_from_db()
    assert not room.is_active
    assert all(Allocation.objects.get(pk=row.pk).is_active for row in upcoming)

    rooms.reactivate_resource(resource=room, actor=staff)
    room.refresh_from_db()
    assert room.is_active


@pytest.mark.django_db
def test_a_room_without_sessions_ahead_is_deactivated_at_once(staff, coach) -> None:
    room = make_room(staff)
    hold(room, NOW - 48 * H, NOW - 47 * H, coach=coach)
    rooms.deactivate_resource(resource=room, actor=staff, now=NOW)
    room.refresh_from_db()
    assert not room.is_active


# --- when a room is open --------------------------------------------------------------------------


def test_open_intervals_are_utc_instants_minus_closures_and_a_room_without_hours_is_always_open() -> None:
    monday = PLAIN_MONDAY  # summer: Paris is UTC+2
    opened = rooms.open_intervals(
        [(0, t("08:00"), t("12:00")), (0, t("13:00"), t("18:00")), (1, t("08:00"), t("18:00"))],
        [(monday + dt.timedelta(days=1), monday + dt.timedelta(days=1))],
        PARIS,
        monday,
        monday + dt.timedelta(days=6),
    )
    assert opened == [(at(monday, "06:00"), at(monday, "10:00")), (at(monday, "11:00"), at(monday, "16:00"))]
    # No hours: every hour of every day, merged into one stretch; a closed day cuts it.
    always = rooms.open_intervals(
        [],
        [(monday + dt.timedelta(days=2), monday + dt.timedelta(days=2))],
        PARIS,
        monday,
        monday + dt.timedelta(days=3),
    )
    assert always == [
        (at(monday, "00:00", PARIS), at(monday + dt.timedelta(days=2), "00:00", PARIS)),
        (at(monday + dt.timedelta(days=3), "00:00", PARIS), at(monday + dt.timedelta(days=4), "00:00", PARIS)),
    ]


@pytest.mark.django_db
def test_utilisation_is_booked_hours_within_opening_hours_over_open_hours(staff, coach) -> None:
    room = make_room(staff, hours=weekdays("08:00", "18:00"))  # 50 open hours a week, UTC
    monday = PLAIN_MONDAY
    hold(room, at(monday, "10:00"), at(monday, "12:00"), coach=coach)  # 2 h
    hold(room, at(monday, "17:00"), at(monday, "19:00"), coach=coach)  # 1 h within the hours
    hold(
        room,
        at(monday + dt.timedelta(days=1), "09:00"),
        at(monday + dt.timedelta(days=1), "10:00"),
        coach=coach,
        kind=AllocationKind.REQUEST,
    )  # 1 h
    hold(
        room,
        at(monday + dt.timedelta(days=2), "09:00"),
        at(monday + dt.timedelta(days=2), "12:00"),
        kind=AllocationKind.BLOCK,
    )  # not a booking
    hold(
        room, at(monday + dt.timedelta(days=5), "09:00"), at(monday + dt.timedelta(days=5), "12:00"), coach=coach
    )  # Saturday: closed
    cancelled = hold(
        room, at(monday + dt.timedelta(days=3), "09:00"), at(monday + dt.timedelta(days=3), "17:00"), coach=coach
    )
    Allocation.objects.filter(pk=cancelled.pk).update(is_active=False)
    hold(
        room, at(monday + dt.timedelta(days=7), "09:00"), at(monday + dt.timedelta(days=7), "10:00"), coach=coach
    )  # next week

    [week] = rooms.utilisation(room, monday, monday + dt.timedelta(days=6))
    assert (week.monday, week.first_day, week.last_day) == (monday, monday, monday + dt.timedelta(days=6))
    assert week.open == 50 * H and week.booked == 4 * H
    assert week.fraction == pytest.approx(4 / 50) and week.percent == 8
    assert week.iso_week == 24


@pytest.mark.django_db
def test_a_closure_takes_its_days_out_of_both_open_and_booked_hours(staff, coach) -> None:
    room = make_room(staff, hours=weekdays("08:00", "18:00"))
    monday = PLAIN_MONDAY
    wednesday = monday + dt.timedelta(days=2)
    rooms.add_closure(resource=room, actor=staff, start_date=wednesday, end_date=wednesday, reason="Works")
    hold(room, at(wednesday, "09:00"), at(wednesday, "11:00"), coach=coach)  # booked before the closure
    hold(room, at(monday, "09:00"), at(monday, "13:00"), coach=coach)
    [week] = rooms.utilisation(room, monday, monday + dt.timedelta(days=6))
    assert (week.open, week.booked, week.fraction) == (40 * H, 4 * H, 0.1)


@pytest.mark.django_db
def test_a_week_closed_throughout_has_no_utilisation(staff) -> None:
    room = make_room(staff, hours=weekdays("08:00", "18:00"))
    rooms.add_closure(resource=room, actor=staff, start_date=PLAIN_MONDAY, end_date=PLAIN_MONDAY + dt.timedelta(days=6))
    [week] = rooms.utilisation(room, PLAIN_MONDAY, PLAIN_MONDAY + dt.timedelta(days=6))
    assert week.open == dt.timedelta(0) and week.fraction is None and week.percent is None


@pytest.mark.django_db
def test_a_room_without_hours_is_open_around_the_clock_dst_weeks_included(staff, coach) -> None:
    room = make_room(staff, timezone_name="Europe/Paris")
    weeks = rooms.utilisation(room, SPRING_MONDAY, SPRING_MONDAY + dt.timedelta(days=6))
    assert [w.open for w in weeks] == [167 * H]  # the night the clocks go forward has 23 hours
    weeks = rooms.utilisation(room, AUTUMN_MONDAY, AUTUMN_MONDAY + dt.timedelta(days=6))
    assert [w.open for w in weeks] == [169 * H]
    # Sunday 25 October: 01:00 to 04:00 on the wall clock is four real hours.
    sunday = AUTUMN_MONDAY + dt.timedelta(days=6)
    hold(room, at(sunday, "01:00", PARIS), at(sunday, "04:00", PARIS), coach=coach)
    [week] = rooms.utilisation(room, AUTUMN_MONDAY, sunday)
    assert week.booked == 4 * H and week.fraction == pytest.approx(4 / 169)


@pytest.mark.django_db
def test_opening_hours_across_the_change_of_the_clocks_count_real_hours(staff, coach) -> None:
    """Paris, Sunday 00:00–12:00: 11 hours the day clocks go forward, 13 the day they go back."""
    room = make_room(staff, timezone_name="Europe/Paris", hours=[(6, t("00:00"), t("12:00"))])
    spring_sunday = SPRING_MONDAY + dt.timedelta(days=6)
    # 01:00 CET to 04:00 CEST: two real hours.
    hold(room, at(spring_sunday, "01:00", PARIS), at(spring_sunday, "04:00", PARIS), coach=coach)
    [spring] = rooms.utilisation(room, SPRING_MONDAY, spring_sunday)
    assert (spring.open, spring.booked) == (11 * H, 2 * H)
    assert spring.fraction == pytest.approx(2 / 11)
    [autumn] = rooms.utilisation(room, AUTUMN_MONDAY, AUTUMN_MONDAY + dt.timedelta(days=6))
    assert autumn.open == 13 * H
    # The same wall-clock hours in a plain week are 12.
    [plain] = rooms.utilisation(room, PLAIN_MONDAY, PLAIN_MONDAY + dt.timedelta(days=6))
    assert plain.open == 12 * H


@pytest.mark.django_db
def test_utilisation_rows_are_iso_weeks_cut_to_the_range(staff) -> None:
    room = make_room(staff, hours=weekdays("08:00", "18:00"))
    wednesday = PLAIN_MONDAY + dt.timedelta(days=2)
    weeks = rooms.utilisation(room, wednesday, wednesday + dt.timedelta(days=7))
    assert [(w.monday, w.first_day, w.last_day, w.open) for w in weeks] == [
        (PLAIN_MONDAY, wednesday, PLAIN_MONDAY + dt.timedelta(days=6), 30 * H),
        (
            PLAIN_MONDAY + dt.timedelta(days=7),
            PLAIN_MONDAY + dt.timedelta(days=7),
            wednesday + dt.timedelta(days=7),
            30 * H,
        ),
    ]
    with pytest.raises(DomainError):
        rooms.utilisation(room, wednesday, PLAIN_MONDAY)


@pytest.mark.django_db
def test_this_weeks_utilisation_of_every_room_takes_three_queries(staff, coach) -> None:
    now = at(PLAIN_MONDAY + dt.timedelta(days=2), "12:00")
    resources = [
        make_room(staff, name=f"Room {n}", timezone_name=zone, hours=weekdays("08:00", "18:00"))
        for n, zone in enumerate(["UTC", "Europe/Paris", "Asia/Kolkata", "America/New_York"])
    ]
    hold(resources[0], at(PLAIN_MONDAY, "08:00"), at(PLAIN_MONDAY, "13:00"), coach=coach)
    with CaptureQueriesContext(connection) as queries:
        result = rooms.this_week_utilisation(resources, now=now)
    assert len(queries) == 3
    assert result[resources[0].pk].booked == 5 * H and result[resources[0].pk].percent == 10
    assert all(result[r.pk].open == 50 * H and result[r.pk].monday == PLAIN_MONDAY for r in resources)


# --- a week of the room's calendar ---------------------------------------------------------------


@pytest.mark.django_db
def test_a_week_shows_open_hours_and_bookings_on_the_viewers_clock(staff, coach) -> None:
    room = make_room(staff, timezone_name="Europe/Paris", hours=weekdays("08:00", "18:00"))
    monday = PLAIN_MONDAY
    tuesday = monday + dt.timedelta(days=1)
    rooms.add_closure(resource=room, actor=staff, start_date=tuesday, end_date=tuesday, reason="Works")
    hold(room, at(monday, "10:00", PARIS), at(monday, "11:30", PARIS), coach=coach, title="Yoga")
    hold(room, at(monday, "14:00", PARIS), at(monday, "15:00", PARIS), coach=coach, kind=AllocationKind.REQUEST)
    week = rooms.room_week(room, monday, NEW_YORK, now=NOW)
    assert week.zone == NEW_YORK and week.room_zone == PARIS and not week.around_the_clock
    mon = week.days[0]
    assert [span.label for span in mon.open] == ["02:00–12:00"]  # 08:00–18:00 in Paris, summer
    assert [(b.title, b.coach, b.label, b.kind) for b in mon.bookings] == [
        ("Yoga", "Camille Laurent", "04:00–05:30", "session"),
        ("Strategy session", "Camille Laurent", "08:00–09:00", "request"),
    ]
    assert week.days[1].open == [] and week.days[1].closures == ["Works"]
    assert [d.open == [] for d in week.days[5:]] == [True, True]
    assert week.booking_count == 2


@pytest.mark.django_db
def test_opening_hours_that_cross_the_viewers_midnight_are_split_between_days(staff) -> None:
    room = make_room(staff, timezone_name="America/New_York", hours=[(0, t("09:00"), t("17:00"))])
    monday = dt.date(2026, 1, 12)  # winter: New York UTC-5, Kolkata UTC+5:30
    week = rooms.room_week(room, monday, KOLKATA, now=NOW)
    assert [s.label for s in week.days[0].open] == ["19:30–24:00"]
    assert [s.label for s in week.days[1].open] == ["00:00–03:30"]
    always = make_room(staff, name="Hall", timezone_name="Europe/Paris")
    week = rooms.room_week(always, SPRING_MONDAY, PARIS, now=NOW)
    assert week.around_the_clock
    assert [[s.label for s in d.open] for d in week.days] == [["00:00–24:00"]] * 7
