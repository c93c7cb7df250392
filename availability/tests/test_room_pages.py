"""The room pages (/rooms/…): who may open them (a client gets 403, a visitor the login
page), adding a room with its opening hours, editing its details and hours, closures,
deactivating a room in use (asked first, nothing cancelled), its calendar on the viewer's
clock with the use per week; and bad input answered with the error beside its field and a
4xx, never a 500."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from availability import rooms
from availability.models import Allocation, AllocationKind, Resource, ResourceClosure

UTC = dt.UTC
PARIS = ZoneInfo("Europe/Paris")
# Wednesday 10 June 2026, 10:00 UTC.
NOW = dt.datetime(2026, 6, 10, 10, 0, tzinfo=UTC)
MONDAY = dt.date(2026, 6, 8)
H = dt.timedelta(hours=1)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def t(value: str) -> dt.time:
    return dt.time.fromisoformat(value)


def text(response) -> str:
    """The page's words, without tags, on one line."""
    body = unescape(response.content.decode())
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def html(response) -> str:
    return unescape(response.content.decode())


def grid_day(body: str, date: str) -> str:
    """The words of one day's column on the week grid."""
    column = body.split(f'data-testid="cal-day" data-date="{date}"', 1)[1].split('data-testid="cal-day"', 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", column))


def details(**changes) -> dict[str, str]:
    return {
        "name": "Room A",
        "kind": "room",
        "capacity": "8",
        "location": "Floor 1",
        "description": "",
        "timezone": "Europe/Paris",
        **changes,
    }


def hours(rows: dict[int, list[tuple[str, str]]] | None = None, *, mode: str = "hours") -> dict[str, str]:
    """The hours editor's fields: ``rows`` is weekday → [(opens, closes)]; blank elsewhere."""
    data = {"hours-mode": mode}
    for weekday in range(7):
        for i in (1, 2):
            data[f"hours-d{weekday}_opens_{i}"] = ""
            data[f"hours-d{weekday}_closes_{i}"] = ""
    for weekday, ranges in (rows or {}).items():
        for i, (opens, closes) in enumerate(ranges, start=1):
            data[f"hours-d{weekday}_opens_{i}"] = opens
            data[f"hours-d{weekday}_closes_{i}"] = closes
    return data


OFFICE = {day: [("08:00", "18:00")] for day in range(5)}


@pytest.fixture
def room(staff_user) -> Resource:
    return rooms.create_resource(
        actor=staff_user,
        name="Room A",
        capacity=8,
        location="Floor 1",
        timezone_name="Europe/Paris",
        hours=[(day, t("08:00"), t("18:00")) for day in range(5)],
    )


def a_session(coach, start: dt.datetime, end: dt.datetime, *, title: str = "Strategy session"):
    session_type = apps.get_model("bookings", "SessionType").objects.create(
        coach=coach, title=title, duration_minutes=int((end - start) / dt.timedelta(minutes=1))
    )
    return apps.get_model("bookings", "Session").objects.create(
        session_type=session_type, coach=coach, start=start, end=end
    )


def hold(room, coach, start: dt.datetime, end: dt.datetime, **extra) -> Allocation:
    session = a_session(coach, start, end, **extra)
    return Allocation.objects.create(
        resource=room,
        session=session,
        kind=AllocationKind.SESSION,
        start=start,
        end=end,
        blocked_start=start,
        blocked_end=end,
        counts_toward_limits=False,
    )


# --- who may open them ----------------------------------------------------------------------------


PAGES = [
    ("get", "/rooms/"),
    ("get", "/rooms/new/"),
    ("get", "/rooms/{pk}/"),
    ("get", "/rooms/{pk}/calendar/"),
    ("get", "/rooms/{pk}/calendar/2026-06-08/"),
    ("post", "/rooms/new/"),
    ("post", "/rooms/{pk}/"),
    ("post", "/rooms/{pk}/hours/"),
    ("post", "/rooms/{pk}/closures/"),
    ("post", "/rooms/{pk}/deactivate/"),
    ("post", "/rooms/{pk}/reactivate/"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), PAGES)
def test_a_client_gets_403_and_a_visitor_the_login_page(as_role, room, method, path) -> None:
    url = path.format(pk=room.pk)
    answer = getattr(as_role("client"), method)(url)
    assert answer.status_code == 403
    assert "Only staff and coaches can manage rooms and equipment." in text(answer)
    visitor = getattr(as_role(None), method)(url)
    assert visitor.status_code == 302 and visitor["Location"].startswith("/accounts/login/")
    room.refresh_from_db()
    assert room.name == "Room A" and room.is_active


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["staff", "coach", "admin"])
def test_staff_coaches_and_admins_open_every_page(as_role, room, role) -> None:
    http = as_role(role)
    for path in ("/rooms/", "/rooms/new/", f"/rooms/{room.pk}/", f"/rooms/{room.pk}/calendar/"):
        assert http.get(path).status_code == 200, path


@pytest.mark.django_db
def test_an_unknown_room_is_a_404(as_role) -> None:
    assert as_role("staff").get("/rooms/999/").status_code == 404
    assert as_role("staff").get("/rooms/999/calendar/").status_code == 404


# --- the list -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_list_shows_each_rooms_kind_capacity_hours_use_and_state(as_role, staff_user, coach_user, room) -> None:
    rooms.create_resource(actor=staff_user, name="Projector", kind="equipment", capacity=1, timezone_name="UTC")
    old = rooms.create_resource(actor=staff_user, name="Old hall", capacity=40, timezone_name="Europe/Paris")
    rooms.deactivate_resource(resource=old, actor=staff_user)
    # 5 of Room A's 50 open hours this week (Paris, summer: 08:00 is 06:00 UTC).
    hold(room, coach_user, dt.datetime(2026, 6, 8, 6, tzinfo=UTC), dt.datetime(2026, 6, 8, 11, tzinfo=UTC))

    page = as_role("staff").get("/rooms/")
    assert page.status_code == 200
    body = html(page)
    assert 'href="/rooms/new/"' in body and "Add a room" in body
    rows = re.findall(r'<tr data-testid="room-row".*?</tr>', body, flags=re.S)
    assert len(rows) == 3
    words = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in rows]
    assert words[0].startswith("Projector Equipment 1 — Open around the clock (UTC) 0% Active")
    assert words[1].startswith("Room A Room 8 Floor 1 Mon–Fri 08:00–18:00 (Europe/Paris) 10% Active")
    assert words[2].startswith("Old hall Room 40 — Open around the clock (Europe/Paris) 0% Inactive")


@pytest.mark.django_db
def test_the_list_reads_a_fixed_number_of_queries_whatever_the_number_of_rooms(as_role, staff_user, coach_user) -> None:
    http = as_role("coach")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert http.get("/rooms/").status_code == 200
        return len(captured)

    for n in range(2):
        room = rooms.create_resource(
            actor=staff_user, name=f"Room {n}", timezone_name="Europe/Paris", hours=[(0, t("08:00"), t("18:00"))]
        )
        hold(room, coach_user, NOW, NOW + H)
    few = queries()
    for n in range(2, 6):
        room = rooms.create_resource(actor=staff_user, name=f"Room {n}", timezone_name="Asia/Kolkata")
        rooms.add_closure(resource=room, actor=staff_user, start_date=MONDAY, end_date=MONDAY)
        hold(room, coach_user, NOW, NOW + H)
    assert queries() == few


@pytest.mark.django_db
def test_the_list_says_when_there_is_nothing_yet(as_role) -> None:
    page = as_role("coach").get("/rooms/")
    assert "No rooms or equipment yet." in text(page)


# --- adding a room --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_room_is_added_with_its_opening_hours(as_role, staff_user) -> None:
    http = as_role("staff")
    form = http.get("/rooms/new/")
    assert 'name="hours-d0_opens_1"' in html(form) and "data-tz-picker" in html(form)
    assert 'value="Asia/Kolkata" selected' in html(form)  # the staff member's own zone first
    answer = http.post(
        "/rooms/new/",
        {**details(), **hours({**OFFICE, 5: [("09:00", "12:00")], 0: [("08:00", "12:00"), ("13:00", "18:00")]})},
    )
    room = Resource.objects.get()
    assert answer.status_code == 303 and answer["Location"] == f"/rooms/{room.pk}/"
    assert (room.name, room.kind, room.capacity, room.location, room.timezone) == (
        "Room A",
        "room",
        8,
        "Floor 1",
        "Europe/Paris",
    )
    assert rooms.hours_summary(room.hours.values_list("weekday", "start", "end")) == (
        "Mon 08:00–12:00, 13:00–18:00 · Tue–Fri 08:00–18:00 · Sat 09:00–12:00"
    )
    page = http.get(answer["Location"])
    assert "“Room A” is added." in text(page)


@pytest.mark.django_db
def test_a_room_open_around_the_clock_ignores_the_rows(as_role) -> None:
    answer = as_role("coach").post("/rooms/new/", {**details(), **hours({0: [("08:00", "")]}, mode="always")})
    assert answer.status_code == 303
    assert not Resource.objects.get().hours.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (details(name=""), "name", "Give the room a name."),
        (details(capacity="0"), "capacity", "At least 1 person."),
        (details(capacity="501"), "capacity", "Capacity is at most 500."),
        (details(capacity="many"), "capacity", "Give the capacity as a whole number."),
        (details(kind="kitchen"), "kind", "Select a valid choice."),
        (details(timezone="Mars/Olympus"), "timezone", "“Mars/Olympus” is not a time zone we know."),
        (details(name="Room\x00"), "name", "Null characters are not allowed."),
        ({**details(), **hours({0: [("8h", "18:00")]})}, "hours-d0_opens_1", "Enter a time as HH:MM (24-hour)"),
        ({**details(), **hours({1: [("08:00", "")]})}, "hours-d1_closes_1", "Enter when it closes too."),
        ({**details(), **hours({2: [("", "18:00")]})}, "hours-d2_opens_1", "Enter when it opens too."),
        ({**details(), **hours({3: [("18:00", "08:00")]})}, "hours-d3_closes_1", "It closes before it opens"),
        (
            {**details(), **hours({4: [("08:00", "12:00"), ("11:00", "18:00")]})},
            "hours-d4_opens_1",
            "Friday: 08:00–12:00 overlaps 11:00–18:00.",
        ),
        ({**details(), **hours({})}, "hours-d0_opens_1", "Enter the hours of at least one day"),
        ({**details(), **hours({}, mode="sometimes")}, "hours-mode_0", "Select a valid choice."),
    ],
)
def test_bad_input_on_the_add_form_is_shown_beside_its_field(as_role, data, field, message) -> None:
    data = {**hours(OFFICE), **data}
    answer = as_role("staff").post("/rooms/new/", data)
    assert answer.status_code in (400, 409)
    body = html(answer)
    assert 'data-testid="error-summary"' in body
    assert f'href="#id_{field}"' in body
    assert message in text(answer)
    assert not Resource.objects.exists()


@pytest.mark.django_db
def test_a_name_taken_at_that_location_is_refused_on_the_form(as_role, room) -> None:
    answer = as_role("staff").post("/rooms/new/", {**details(name="room a", location="floor 1"), **hours(OFFICE)})
    assert answer.status_code == 409
    assert "There is already a room called “room a” at floor 1." in text(answer)
    assert 'href="#id_name"' in html(answer)
    assert Resource.objects.count() == 1


# --- editing ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_room_page_shows_its_details_hours_and_closures(as_role, staff_user, room) -> None:
    rooms.add_closure(
        resource=room,
        actor=staff_user,
        start_date=dt.date(2026, 7, 14),
        end_date=dt.date(2026, 7, 14),
        reason="Holiday",
    )
    rooms.add_closure(resource=room, actor=staff_user, start_date=dt.date(2026, 5, 1), end_date=dt.date(2026, 5, 1))
    page = as_role("coach").get(f"/rooms/{room.pk}/")
    words = text(page)
    assert "Room A" in words and "holds 8 people" in words and "Mon–Fri 08:00–18:00 (Europe/Paris)" in words
    body = html(page)
    assert 'name="hours-d0_opens_1" value="08:00"' in body.replace('type="text" ', "") or re.search(
        r'name="hours-d0_opens_1"[^>]*value="08:00"', body
    )
    assert re.search(r'name="hours-mode" value="hours"[^>]*checked', body)
    assert "Tue 14 Jul 2026 · Holiday" in words
    assert "1 past closure" in words


@pytest.mark.django_db
def test_details_are_saved_and_bad_ones_shown_beside_their_field(as_role, room) -> None:
    http = as_role("staff")
    answer = http.post(f"/rooms/{room.pk}/", details(name="Room B", capacity="12", timezone="Asia/Calcutta"))
    assert answer.status_code == 303 and answer["Location"] == f"/rooms/{room.pk}/"
    room.refresh_from_db()
    assert (room.name, room.capacity, room.timezone) == ("Room B", 12, "Asia/Kolkata")

    answer = http.post(f"/rooms/{room.pk}/", details(capacity="-3"))
    assert answer.status_code == 400
    assert 'href="#id_capacity"' in html(answer) and "At least 1 person." in text(answer)
    room.refresh_from_db()
    assert room.capacity == 12


@pytest.mark.django_db
def test_lowering_capacity_below_a_coming_sessions_seats_is_refused_on_the_form(as_role, room, coach_user) -> None:
    session_type = apps.get_model("bookings", "SessionType").objects.create(
        coach=coach_user, title="Circle", kind="group", duration_minutes=60, capacity=6
    )
    session = apps.get_model("bookings", "Session").objects.create(
        session_type=session_type, coach=coach_user, start=NOW + 24 * H, end=NOW + 25 * H, capacity=6
    )
    Allocation.objects.create(
        resource=room, session=session, start=session.start, end=session.end,
        blocked_start=session.start, blocked_end=session.end, counts_toward_limits=False,
    )  # fmt: skip
    answer = as_role("staff").post(f"/rooms/{room.pk}/", details(capacity="4"))
    assert answer.status_code == 409
    assert "offers 6 seats, more than 4" in text(answer) and 'href="#id_capacity"' in html(answer)


@pytest.mark.django_db
def test_opening_hours_are_replaced_and_errors_come_back_on_the_page(as_role, room) -> None:
    http = as_role("coach")
    answer = http.post(f"/rooms/{room.pk}/hours/", hours({5: [("9", "12:00")]}))
    assert answer.status_code == 400  # "9" without the page's script isn't HH:MM
    assert 'href="#id_hours-d5_opens_1"' in html(answer)
    assert room.hours.count() == 5

    answer = http.post(f"/rooms/{room.pk}/hours/", hours({5: [("09:00", "12:00"), ("12:00", "14:00")]}))
    assert answer.status_code == 303 and answer["Location"] == f"/rooms/{room.pk}/#hours"
    assert list(room.hours.values_list("weekday", "start", "end")) == [
        (5, t("09:00"), t("12:00")),
        (5, t("12:00"), t("14:00")),
    ]
    page = http.get(f"/rooms/{room.pk}/")
    assert "Opening hours of “Room A” are saved: Sat 09:00–12:00, 12:00–14:00." in text(page)

    answer = http.post(f"/rooms/{room.pk}/hours/", hours(mode="always"))
    assert answer.status_code == 303 and not room.hours.exists()
    assert re.search(r'name="hours-mode" value="always"[^>]*checked', html(http.get(f"/rooms/{room.pk}/")))


@pytest.mark.django_db
def test_a_day_with_more_ranges_than_the_form_shows_gets_more_boxes(as_role, staff_user, room) -> None:
    rooms.set_hours(
        resource=room,
        actor=staff_user,
        hours=[(0, t("08:00"), t("09:00")), (0, t("10:00"), t("11:00")), (0, t("12:00"), t("13:00"))],
    )
    body = html(as_role("staff").get(f"/rooms/{room.pk}/"))
    assert re.search(r'name="hours-d0_opens_3"[^>]*value="12:00"', body)
    answer = as_role("staff").post(
        f"/rooms/{room.pk}/hours/",
        {
            **hours({0: [("08:00", "09:00"), ("10:00", "11:00")]}),
            "hours-d0_opens_3": "12:00",
            "hours-d0_closes_3": "13:00",
        },
    )
    assert answer.status_code == 303 and room.hours.count() == 3


# --- closures -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_closures_are_added_and_removed_and_bad_ones_shown_beside_their_field(as_role, room, coach_user) -> None:
    hold(room, coach_user, dt.datetime(2026, 7, 14, 8, tzinfo=UTC), dt.datetime(2026, 7, 14, 9, tzinfo=UTC))
    http = as_role("staff")
    answer = http.post(
        f"/rooms/{room.pk}/closures/",
        {"closure-start_date": "2026-07-13", "closure-end_date": "2026-07-14", "closure-reason": "Painting"},
    )
    assert answer.status_code == 303 and answer["Location"] == f"/rooms/{room.pk}/#closures"
    closure = ResourceClosure.objects.get()
    assert (closure.start_date, closure.end_date, closure.reason) == (
        dt.date(2026, 7, 13),
        dt.date(2026, 7, 14),
        "Painting",
    )
    words = text(http.get(f"/rooms/{room.pk}/"))
    assert "1 session already booked then keeps the room" in words
    assert "Mon 13 Jul 2026 – Tue 14 Jul 2026 · Painting" in words

    bad = {
        ("2026-07-20", "2026-07-19"): ("closure-end_date", "The closure ends before it starts"),
        ("2026-07-14", "2026-07-15"): (
            "closure-start_date",
            "Room A is already closed from 13 Jul 2026 to 14 Jul 2026",
        ),
        ("3000-01-01", "3000-01-02"): ("closure-start_date", "Use a date between 1900-01-01 and 2999-12-31."),
        ("14/07/2026", "2026-07-15"): ("closure-start_date", "Enter a date as YYYY-MM-DD"),
        ("", "2026-07-15"): ("closure-start_date", "Enter the first day it is closed."),
    }
    for (first, last), (field, message) in bad.items():
        answer = http.post(f"/rooms/{room.pk}/closures/", {"closure-start_date": first, "closure-end_date": last})
        assert answer.status_code in (400, 409), (first, last)
        assert f'href="#id_{field}"' in html(answer), (first, last)
        assert message in text(answer), (first, last)
    assert ResourceClosure.objects.count() == 1

    answer = http.post(f"/rooms/{room.pk}/closures/{closure.pk}/delete/")
    assert answer.status_code == 303 and not ResourceClosure.objects.exists()


@pytest.mark.django_db
def test_a_closure_of_another_room_is_a_404(as_role, staff_user, room) -> None:
    other = rooms.create_resource(actor=staff_user, name="Room B")
    closure = rooms.add_closure(resource=other, actor=staff_user, start_date=MONDAY, end_date=MONDAY)
    assert as_role("staff").post(f"/rooms/{room.pk}/closures/{closure.pk}/delete/").status_code == 404
    assert ResourceClosure.objects.filter(pk=closure.pk).exists()


# --- active or not ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_deactivating_a_room_in_use_asks_first_with_the_sessions_and_cancels_nothing(as_role, room, coach_user) -> None:
    row = hold(room, coach_user, NOW + 24 * H, NOW + 25 * H, title="Yoga")
    http = as_role("staff")
    answer = http.post(f"/rooms/{room.pk}/deactivate/")
    assert answer.status_code == 409
    words = text(answer)
    assert "1 upcoming session uses Room A. It keeps the room" in words
    assert "Yoga" in words and "Thu 11 Jun 2026, 15:30–16:30" in words  # staff_user is in Asia/Kolkata
    assert 'name="confirm" value="1"' in html(answer)
    room.refresh_from_db()
    assert room.is_active

    answer = http.post(f"/rooms/{room.pk}/deactivate/", {"confirm": "1"})
    assert answer.status_code == 303
    room.refresh_from_db()
    row.refresh_from_db()
    assert not room.is_active and row.is_active
    assert "Inactive" in text(http.get(f"/rooms/{room.pk}/"))

    assert http.post(f"/rooms/{room.pk}/reactivate/").status_code == 303
    room.refresh_from_db()
    assert room.is_active


@pytest.mark.django_db
def test_a_get_cannot_change_anything(as_role, room) -> None:
    for path in ("hours/", "closures/", "deactivate/", "reactivate/"):
        assert as_role("staff").get(f"/rooms/{room.pk}/{path}").status_code == 405


# --- calendar -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_calendar_shows_the_week_on_the_viewers_clock_and_the_use_of_the_weeks_around(
    as_role, staff_user, coach_user, room
) -> None:
    coach_user.name = "Camille Laurent"
    coach_user.save()
    # Monday 8 June, 10:00–12:00 in Paris (08:00–10:00 UTC); the coach fixture is in New York.
    hold(
        room, coach_user, dt.datetime(2026, 6, 8, 8, tzinfo=UTC), dt.datetime(2026, 6, 8, 10, tzinfo=UTC), title="Yoga"
    )
    rooms.add_closure(
        resource=room, actor=staff_user, start_date=dt.date(2026, 6, 10), end_date=dt.date(2026, 6, 10), reason="Works"
    )
    page = as_role("coach").get(f"/rooms/{room.pk}/calendar/")
    assert page.status_code == 200
    words = text(page)
    assert "Times in America/New_York (yours)" in words
    assert "the room's opening hours are set in Europe/Paris" in words
    body = html(page)
    monday = grid_day(body, "2026-06-08")
    assert "Open 02:00–12:00" in monday and "04:00–06:00" in monday
    assert "Yoga" in monday and "Camille Laurent" in monday
    wednesday = grid_day(body, "2026-06-10")
    assert "Closed · Works" in wednesday and "Open" not in wednesday

    use = re.findall(r'<tr data-testid="use-week" data-monday="([\d-]+)"', body)
    assert len(use) == 9 and use[0] == "2026-05-11" and use[4] == "2026-06-08" and use[-1] == "2026-07-06"
    shown = body.split('data-monday="2026-06-08"', 1)[1].split("</tr>", 1)[0]
    # 50 open hours minus Wednesday's 10; 2 booked.
    assert "40 h" in shown and "2 h" in shown and "5%" in shown


@pytest.mark.django_db
def test_the_calendar_moves_by_week_and_reads_bad_dates_as_this_week(as_role, room) -> None:
    http = as_role("staff")
    page = http.get(f"/rooms/{room.pk}/calendar/2026-07-01/")
    assert page.status_code == 200
    body = html(page)
    assert f'href="/rooms/{room.pk}/calendar/2026-06-22/"' in body  # previous week
    assert f'href="/rooms/{room.pk}/calendar/2026-07-06/"' in body  # next week
    assert 'data-date="2026-06-29"' in body
    for bad in ("2026-13-01", "yesterday", "0001-01-01", "9999-12-31"):
        page = http.get(f"/rooms/{room.pk}/calendar/{bad}/")
        assert page.status_code == 200, bad
        assert "That date could not be read; showing this week." in text(page), bad
        assert 'data-date="2026-06-08"' in html(page), bad
    page = http.get(f"/rooms/{room.pk}/calendar/1900-01-03/")
    assert page.status_code == 200 and "That week is out of range; showing the nearest one." in text(page)
    page = http.get(f"/rooms/{room.pk}/calendar/2999-12-30/")
    assert page.status_code == 200 and "That week is out of range; showing the nearest one." in text(page)


# --- the back office ------------------------------------------------------------------------------


def admin_post(room: Resource, hours_rows: list[tuple[str, str, str]]) -> dict[str, str]:
    data = {
        "name": room.name,
        "kind": room.kind,
        "capacity": str(room.capacity),
        "location": room.location,
        "description": room.description,
        "timezone": room.timezone,
        "is_active": "on",
        "hours-TOTAL_FORMS": str(len(hours_rows)),
        "hours-INITIAL_FORMS": "0",
        "hours-MIN_NUM_FORMS": "0",
        "hours-MAX_NUM_FORMS": "1000",
        "closures-TOTAL_FORMS": "0",
        "closures-INITIAL_FORMS": "0",
        "closures-MIN_NUM_FORMS": "0",
        "closures-MAX_NUM_FORMS": "1000",
    }
    for i, (weekday, start, end) in enumerate(hours_rows):
        data |= {f"hours-{i}-weekday": weekday, f"hours-{i}-start": start, f"hours-{i}-end": end}
    return data


@pytest.mark.django_db
def test_the_admin_edits_a_rooms_hours_and_closures_inline_and_refuses_overlaps(as_role, staff_user) -> None:
    room = rooms.create_resource(actor=staff_user, name="Room A", timezone_name="Europe/Paris")
    http = as_role("admin")
    url = f"/admin/availability/resource/{room.pk}/change/"
    page = http.get(url)
    assert page.status_code == 200
    assert 'name="hours-TOTAL_FORMS"' in html(page) and 'name="closures-TOTAL_FORMS"' in html(page)

    answer = http.post(url, admin_post(room, [("0", "08:00", "12:00"), ("0", "11:00", "18:00")]))
    assert answer.status_code == 200
    assert "Monday: 08:00–12:00 overlaps 11:00–18:00." in text(answer)
    assert not room.hours.exists()

    answer = http.post(url, admin_post(room, [("0", "08:00", "12:00"), ("0", "13:00", "18:00")]))
    assert answer.status_code == 302
    assert room.hours.count() == 2


@pytest.mark.django_db
def test_the_admin_refuses_a_window_with_a_weekday_and_a_rule_or_with_exceptions():
    from accounts.tests.factories import CoachFactory
    from availability.admin import AvailabilityWindowForm

    coach = CoachFactory()

    def form(**fields):
        data = {"coach": coach.pk, "start": "09:00", "end": "12:00", "allow_firm_booking": "on", **fields}
        return AvailabilityWindowForm(data=data)

    assert form(weekday="0").is_valid()
    assert form(recurrence="RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO").is_valid()
    both = form(weekday="0", recurrence="RRULE:FREQ=WEEKLY;BYDAY=MO")
    assert not both.is_valid() and "not both" in str(both.errors)
    assert not form().is_valid()
    with_exception = form(recurrence="RRULE:FREQ=WEEKLY;BYDAY=MO\nEXDATE:20261207T000000Z")
    assert not with_exception.is_valid() and "without exceptions" in str(with_exception.errors)
