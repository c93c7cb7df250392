"""The first steps of the booking wizard as a person sees them: the coach directory, the
coach's session types, the type's month calendar, the chosen day's times in the viewer's
zone, and the chosen time's summary; with htmx and without, with bad query strings, on a
fixed query budget."""

from __future__ import annotations

import datetime as dt
import re
from unittest import mock
from urllib.parse import parse_qs

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import CalendarVisibility, ConnectionStatus
from accounts.tests.factories import ClientFactory, CoachFactory, ConnectionFactory
from availability import selectors
from availability.models import Allocation
from availability.services import add_time_off, apply_default_pattern, set_day_windows, set_override
from bookings import views
from bookings.models import SessionType
from bookings.tests.factories import SessionTypeFactory

UTC = dt.UTC
# Monday 2 March 2026, 06:00 UTC: 01:00 in New York, 07:00 in Paris. The United States
# move their clocks on 8 March, Europe on 29 March, so Paris is 6 hours ahead of New York
# before the 8th, 5 hours between, and 6 again from the 29th.
NOW = dt.datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
UNAVAILABLE = "This time is no longer available. Select another."


def type_of(coach) -> SessionType:
    """The coach's session type the calendar tests book: a 60-minute consultation."""
    return SessionType.objects.filter(coach=coach).order_by("pk").first() or SessionTypeFactory(
        coach=coach, title="Consultation", duration_minutes=60
    )


def page_url(coach, **params: str) -> str:
    """The calendar page of the coach's (first) session type."""
    url = reverse("book_type", args=[coach.pk, type_of(coach).pk])
    if params:
        url += "?" + "&".join(f"{key}={value}" for key, value in params.items())
    return url


def html(response) -> str:
    return response.content.decode()


def free_days(response) -> set[dt.date]:
    """Days the calendar marks as having free times (the clickable ones)."""
    return {dt.date.fromisoformat(day) for day in re.findall(r'data-date="([\d-]+)" data-free="\d+"', html(response))}


def times_shown(response) -> list[str]:
    return re.findall(r'class="slot time-slot[^"]*"[^>]*>([^<]+)</a>', html(response), flags=re.S)


def notices(response) -> str:
    """The notices region of a full page."""
    return html(response).split('id="wizard-notices"', 1)[1].split('class="book-layout"', 1)[0]


def in_html(url: str) -> str:
    return url.replace("&", "&amp;")


def directory_ids(response) -> set[int]:
    return {int(pk) for pk in re.findall(r'data-coach-id="(\d+)"', html(response))}


def make_coach(email: str, *, timezone: str = "America/New_York", window_days: int = 30, **profile: object):
    coach = CoachFactory(email=email, timezone=timezone, name=email.split("@")[0].title())
    settings = {"booking_window_days": window_days, **profile}
    for field, value in settings.items():
        setattr(coach.coach_profile, field, value)
    coach.coach_profile.save()
    return coach


@pytest.fixture
def coach(db):
    """A New York coach on the default pattern: weekdays 09:00–12:00 and 13:00–17:00."""
    coach = make_coach("nora@example.com")
    apply_default_pattern(coach=coach, actor=coach)
    return coach


@pytest.fixture
def paris_client(db):
    return ClientFactory(email="paul@example.com", name="Paul Paris", timezone="Europe/Paris")


def visitor(zone: str | None = None) -> Client:
    http = Client()
    if zone:
        http.cookies["tz"] = zone
    return http


def signed_in(user) -> Client:
    http = Client()
    http.force_login(user)
    return http


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


# ---------------------------------------------------------------------------------------
# Step 1: the directory
# ---------------------------------------------------------------------------------------


@pytest.fixture
def coaches_by_visibility(users_by_role):
    """A public, a private and two connected-only coaches; ``client`` is connected to one of
    them and has only a pending request with the other."""
    public = make_coach("pia@example.com", headline="Career coach", bio="Twenty years of helping people change jobs.")
    private = make_coach("priv@example.com", calendar_visibility=CalendarVisibility.PRIVATE)
    connected = make_coach("conn@example.com", calendar_visibility=CalendarVisibility.CONNECTED)
    pending = make_coach("pend@example.com", calendar_visibility=CalendarVisibility.CONNECTED)
    client = users_by_role["client"]
    ConnectionFactory(client=client, coach=connected, status=ConnectionStatus.ACCEPTED)
    ConnectionFactory(client=client, coach=pending, status=ConnectionStatus.PENDING)
    return {"public": public, "private": private, "connected": connected, "pending": pending}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (None, {"public", "coach_user"}),
        ("client", {"public", "coach_user", "connected"}),
        ("coach", {"public", "coach_user"}),
        ("staff", {"public", "coach_user", "connected", "pending", "private"}),
        ("admin", {"public", "coach_user", "connected", "pending", "private"}),
    ],
)
def test_directory_lists_exactly_the_coaches_the_viewer_may_see(
    as_role, users_by_role, coaches_by_visibility, role, expected
) -> None:
    ids = {name: coach.pk for name, coach in coaches_by_visibility.items()} | {"coach_user": users_by_role["coach"].pk}
    response = as_role(role).get(reverse("book_coach_list"))
    assert response.status_code == 200
    assert directory_ids(response) == {ids[name] for name in expected}
    body = html(response)
    assert "Choose a coach" in body
    for name in expected:
        assert f'href="{reverse("book_coach", args=[ids[name]])}"' in body


def test_directory_cards_show_the_coach(client, coaches_by_visibility) -> None:
    body = html(client.get(reverse("book_coach_list")))
    assert "Pia" in body
    assert "Career coach" in body
    assert "Twenty years of helping people change jobs." in body
    assert "America/New_York" in body
    assert 'aria-label="Book with Pia"' in body
    assert ">Book</a>" in body


def test_directory_empty_state(db, client) -> None:
    make_coach("hidden@example.com", calendar_visibility=CalendarVisibility.PRIVATE)
    body = html(client.get(reverse("book_coach_list")))
    assert "No coaches available. Try later." in body
    assert 'data-testid="coach-card"' not in body


# ---------------------------------------------------------------------------------------
# Step 2: who may open a coach page
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "coach_name", "status"),
    [
        (None, "public", 200),
        (None, "private", 404),
        (None, "connected", 404),
        ("client", "public", 200),
        ("client", "connected", 200),
        ("client", "pending", 404),
        ("client", "private", 404),
        ("coach", "connected", 404),
        ("coach", "private", 404),
        ("staff", "private", 200),
        ("staff", "pending", 200),
        ("admin", "private", 200),
    ],
)
def test_coach_page_answers_404_for_coaches_the_viewer_may_not_see(
    as_role, coaches_by_visibility, role, coach_name, status
) -> None:
    response = as_role(role).get(reverse("book_coach", args=[coaches_by_visibility[coach_name].pk]))
    assert response.status_code == status


def test_coach_page_answers_404_for_a_non_coach_or_an_unknown_id(client, users_by_role) -> None:
    for user in (users_by_role["client"], users_by_role["staff"], users_by_role["admin"]):
        assert client.get(reverse("book_coach", args=[user.pk])).status_code == 404
    assert client.get(reverse("book_coach", args=[987654])).status_code == 404
    assert client.get("/book/99999999999999999999999/").status_code == 404
    assert client.get("/book/nobody/").status_code == 404


def test_an_inactive_coach_is_gone(client, coach) -> None:
    coach.is_active = False
    coach.save()
    assert client.get(page_url(coach)).status_code == 404


# ---------------------------------------------------------------------------------------
# The month calendar
# ---------------------------------------------------------------------------------------


def test_calendar_marks_exactly_the_days_with_free_slots(coach, paris_client) -> None:
    set_override(coach=coach, actor=coach, date=dt.date(2026, 3, 11), windows=[], reason="Dentist")
    set_override(coach=coach, actor=coach, date=dt.date(2026, 3, 14), windows=[(dt.time(10), dt.time(12))])
    add_time_off(coach=coach, actor=coach, start_date=dt.date(2026, 3, 23), end_date=dt.date(2026, 3, 24))

    response = signed_in(paris_client).get(page_url(coach))

    weekdays = {dt.date(2026, 3, day) for day in range(2, 32) if dt.date(2026, 3, day).weekday() < 5}
    expected = (weekdays | {dt.date(2026, 3, 14)}) - {dt.date(2026, 3, 11), dt.date(2026, 3, 23), dt.date(2026, 3, 24)}
    assert free_days(response) == expected
    body = html(response)
    # Days without times are shown but not clickable; earlier days are past.
    assert re.search(r'<span class="cal-day"[^>]*data-date="2026-03-11"', body)
    assert re.search(r'<span class="cal-day out"[^>]*data-date="2026-03-01"', body)
    assert "March 2026" in body


def test_calendar_uses_one_free_slots_call_for_the_visible_month(coach, paris_client) -> None:
    with mock.patch.object(views, "free_slots", wraps=selectors.free_slots) as spy:
        response = signed_in(paris_client).get(page_url(coach, date="2026-03-10"))
    assert response.status_code == 200
    assert spy.call_count == 1
    # From today (nothing earlier is bookable) to the month's last day, in the viewer's zone.
    assert spy.call_args.kwargs["start_date"] == dt.date(2026, 3, 2)
    assert spy.call_args.kwargs["end_date"] == dt.date(2026, 3, 31)
    assert str(spy.call_args.kwargs["viewer_tz"]) == "Europe/Paris"


def test_calendar_days_follow_the_viewers_zone(coach) -> None:
    """New York's Monday afternoon is Tuesday morning in Auckland, so Auckland's calendar
    marks Tuesday to Saturday."""
    response = visitor("Pacific/Auckland").get(page_url(coach))
    marked = free_days(response)
    assert dt.date(2026, 3, 10) in marked  # Tuesday
    assert dt.date(2026, 3, 14) in marked  # Saturday (New York's Friday)
    assert dt.date(2026, 3, 9) not in marked  # Monday: New York's Sunday
    assert dt.date(2026, 3, 16) not in marked


def test_month_navigation_stays_inside_the_booking_window(db, client) -> None:
    coach = make_coach("win@example.com", window_days=40)  # up to 11 April
    apply_default_pattern(coach=coach, actor=coach)

    march = html(client.get(page_url(coach)))
    assert 'rel="prev"' not in march  # no past months
    assert f'href="{in_html(page_url(coach, month="2026-04"))}#calendar"' in march

    april = client.get(page_url(coach, month="2026-04"))
    body = html(april)
    assert "April 2026" in body
    assert 'rel="next"' not in body  # May is beyond the window
    assert f'href="{in_html(page_url(coach, month="2026-03"))}#calendar"' in body
    assert max(free_days(april)) == dt.date(2026, 4, 10)  # Friday; the 11th is a Saturday


# ---------------------------------------------------------------------------------------
# Step 3: the day's times in the viewer's zone
# ---------------------------------------------------------------------------------------

NY_DEFAULT_IN_PARIS_WINTER = [
    "15:00", "15:30", "16:00", "16:30", "17:00",
    "19:00", "19:30", "20:00", "20:30", "21:00", "21:30", "22:00",
]  # fmt: skip
NY_DEFAULT_IN_PARIS_GAP = [
    "14:00", "14:30", "15:00", "15:30", "16:00",
    "18:00", "18:30", "19:00", "19:30", "20:00", "20:30", "21:00",
]  # fmt: skip


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2026-03-06", NY_DEFAULT_IN_PARIS_WINTER),  # both zones on winter time
        ("2026-03-09", NY_DEFAULT_IN_PARIS_GAP),  # New York moved on the 8th, Paris not yet
        ("2026-03-27", NY_DEFAULT_IN_PARIS_GAP),  # the last weekday before Paris moves
        ("2026-03-30", NY_DEFAULT_IN_PARIS_WINTER),  # both on summer time: 6 hours again
    ],
)
def test_times_are_shown_in_the_viewers_zone_around_dst(coach, paris_client, day, expected) -> None:
    response = signed_in(paris_client).get(page_url(coach, date=day))
    assert times_shown(response) == expected
    body = html(response)
    assert "Times shown in <strong>Europe/Paris</strong>" in body
    assert f'href="{reverse("profile")}">change</a>' in body


def test_times_cross_the_day_boundary_for_a_far_east_viewer(coach) -> None:
    response = visitor("Pacific/Auckland").get(page_url(coach, date="2026-03-10"))
    # Monday 9 March in New York (EDT, UTC−4) is Tuesday in Auckland (NZDT, UTC+13).
    assert times_shown(response) == [
        "02:00", "02:30", "03:00", "03:30", "04:00",
        "06:00", "06:30", "07:00", "07:30", "08:00", "08:30", "09:00",
    ]  # fmt: skip
    assert "Times shown in <strong>Pacific/Auckland</strong>" in html(response)
    assert re.findall(r'<h3 class="times-group">(\w+)</h3>', html(response)) == ["Night", "Morning"]


def test_a_repeated_hour_shows_which_offset_each_time_has(db) -> None:
    """Paris falls back on 25 October 2026 (03:00 CEST → 02:00 CET): 02:00 happens twice."""
    coach = make_coach("utc@example.com", timezone="UTC", minimum_notice_hours=0, buffer_after_minutes=0)
    set_day_windows(coach=coach, actor=coach, weekday=6, windows=[(dt.time(0), dt.time(3))])
    with time_machine.travel(dt.datetime(2026, 10, 20, 12, tzinfo=UTC), tick=False):
        response = visitor("Europe/Paris").get(page_url(coach, date="2026-10-25"))
    assert times_shown(response) == ["02:00 CEST", "02:30 CEST", "02:00 CET", "02:30 CET", "03:00 CET"]


def test_visitors_change_link_leads_to_sign_up(coach) -> None:
    response = visitor("Europe/Paris").get(page_url(coach, date="2026-03-06"))
    body = html(response)
    assert "Times shown in <strong>Europe/Paris</strong>" in body
    assert re.search(r'href="/accounts/signup/\?next=[^"]+">change</a>', body)


def test_a_day_without_slots_suggests_the_next_free_day(coach, paris_client) -> None:
    response = signed_in(paris_client).get(page_url(coach, date="2026-03-07"))  # Saturday
    body = html(response)
    assert "No free times on this day" in body
    assert times_shown(response) == []
    assert re.search(r'data-testid="next-free-day">Monday 9 March</a>', body)


def test_the_next_free_day_may_be_in_the_next_month(db, client) -> None:
    coach = make_coach("late@example.com", window_days=40)
    apply_default_pattern(coach=coach, actor=coach)
    set_override(coach=coach, actor=coach, date=dt.date(2026, 3, 30), windows=[])
    set_override(coach=coach, actor=coach, date=dt.date(2026, 3, 31), windows=[])
    set_override(coach=coach, actor=coach, date=dt.date(2026, 4, 1), windows=[])
    body = html(visitor("America/New_York").get(page_url(coach, date="2026-03-28")))
    assert "No free times on this day" in body
    assert re.search(r'data-testid="next-free-day">Thursday 2 April</a>', body)


def test_without_a_chosen_day_the_page_offers_the_first_free_day(coach, paris_client) -> None:
    body = html(signed_in(paris_client).get(page_url(coach)))
    assert "Choose a day" in body
    assert re.search(r'data-testid="next-free-day">First free day: Monday 2 March</a>', body)


def test_the_session_types_length_sets_the_times_and_duration_is_ignored(coach, paris_client) -> None:
    long = SessionTypeFactory(coach=coach, title="Deep dive", duration_minutes=90)
    url = reverse("book_type", args=[coach.pk, long.pk])
    response = signed_in(paris_client).get(f"{url}?date=2026-03-06&duration=30")
    # 90 minutes: 09:00–10:30 is the last morning start in 09:00–12:00 (10:30 in New York);
    # a leftover ?duration from an old link changes nothing.
    assert times_shown(response)[:4] == ["15:00", "15:30", "16:00", "16:30"]
    assert "17:00" not in times_shown(response)[:5]
    body = html(response)
    assert "Deep dive" in body
    assert "90 min" in body
    # (The footer's language switch comes back to this very address, whatever it holds.)
    assert "duration=" not in re.sub(r'<form class="lang-switch".*?</form>', "", body, flags=re.S)
    assert 'class="flash' not in notices(response)
    assert f"{url}?date=2026-03-06&amp;start=" in body
    assert f"{url}?date=2026-03-10" in body  # the calendar's links lead to the same type


# ---------------------------------------------------------------------------------------
# Choosing a time
# ---------------------------------------------------------------------------------------


def test_choosing_a_time_selects_it_and_shows_the_summary(coach, paris_client) -> None:
    start = "2026-03-09T13:30:00Z"  # 09:30 in New York, 14:30 in Paris
    response = signed_in(paris_client).get(page_url(coach, date="2026-03-09", start=start))
    body = html(response)
    selected = re.findall(r'class="slot time-slot selected"[^>]*>([^<]+)</a>', body, re.S)
    assert selected == ["14:30"]
    assert 'data-testid="booking-summary"' in body
    assert "Monday 9 March 2026" in body
    assert re.search(r'data-testid="summary-time">14:30–15:30 <span class="summary-zone">Europe/Paris</span>', body)
    assert "Consultation" in body
    assert "Nora" in body
    # On to the confirm step, with the chosen instant in UTC.
    confirm = reverse("book_confirm", args=[coach.pk, type_of(coach).pk])
    assert re.search(
        rf'<a class="btn btn-primary summary-continue" href="{re.escape(confirm)}\?start=2026-03-09T13%3A30%3A00Z"',
        body,
    )
    assert "disabled" not in body.split('data-testid="booking-summary"', 1)[1]
    assert UNAVAILABLE not in body


def test_a_visitors_continue_leads_to_login_and_back_to_the_confirm_step(coach) -> None:
    start = "2026-03-09T13:30:00Z"
    body = html(visitor("Europe/Paris").get(page_url(coach, date="2026-03-09", start=start)))
    match = re.search(r'<a class="btn btn-primary summary-continue" href="([^"]+)"', body)
    assert match
    confirm = reverse("book_confirm", args=[coach.pk, type_of(coach).pk])
    login, _, query = match.group(1).partition("?")
    assert login == reverse("account_login")
    next_url = parse_qs(query)["next"][0]
    assert next_url == f"{confirm}?start=2026-03-09T13%3A30%3A00Z"
    assert parse_qs(next_url.partition("?")[2])["start"] == [start]


def test_an_offset_start_is_understood_too(coach, paris_client) -> None:
    response = signed_in(paris_client).get(page_url(coach, date="2026-03-09", start="2026-03-09T14:30:00%2B01:00"))
    assert re.findall(r'class="slot time-slot selected"[^>]*>([^<]+)</a>', html(response), re.S) == ["14:30"]


def test_a_time_taken_meanwhile_is_refused_and_the_list_refreshed(coach, paris_client) -> None:
    start = dt.datetime(2026, 3, 9, 13, 30, tzinfo=UTC)
    Allocation.objects.create(
        staff=coach,
        start=start,
        end=start + dt.timedelta(hours=1),
        blocked_start=start,
        blocked_end=start + dt.timedelta(hours=1, minutes=15),
    )
    response = signed_in(paris_client).get(page_url(coach, date="2026-03-09", start="2026-03-09T13:30:00Z"))
    body = html(response)
    assert UNAVAILABLE in body
    assert body.index(UNAVAILABLE) < body.index('class="times-list"')
    assert 'data-testid="booking-summary"' not in body
    # The taken hour, the starts that would overlap it or its 15-minute buffer, are gone.
    assert times_shown(response) == ["16:00", *NY_DEFAULT_IN_PARIS_GAP[5:]]


def test_a_start_that_is_not_a_slot_is_refused(coach, paris_client) -> None:
    response = signed_in(paris_client).get(page_url(coach, date="2026-03-09", start="2026-03-09T13:40:00Z"))
    assert UNAVAILABLE in html(response)
    assert times_shown(response) == NY_DEFAULT_IN_PARIS_GAP


# ---------------------------------------------------------------------------------------
# htmx: one view, the partial or the page
# ---------------------------------------------------------------------------------------


def test_htmx_gets_the_times_partial_with_out_of_band_regions(coach, paris_client) -> None:
    http = signed_in(paris_client)
    response = http.get(page_url(coach, date="2026-03-09"), HTTP_HX_REQUEST="true")
    body = html(response)
    assert response.status_code == 200
    assert "<html" not in body
    assert "topbar" not in body
    assert body.lstrip().startswith('<section id="times"')
    assert times_shown(response) == NY_DEFAULT_IN_PARIS_GAP
    assert re.search(r'<section id="calendar"[^>]*hx-swap-oob="true"', body)
    assert re.search(r'<nav id="wizard-steps"[^>]*hx-swap-oob="true"', body)
    assert re.search(r'<div id="wizard-notices"[^>]*hx-swap-oob="true"', body)
    assert "HX-Request" in response["Vary"]


def test_the_full_page_has_each_region_once_and_no_oob(coach, paris_client) -> None:
    response = signed_in(paris_client).get(page_url(coach, date="2026-03-09"))
    body = html(response)
    assert "<html" in body
    for region in ("times", "calendar", "wizard-steps", "wizard-notices"):
        assert len(re.findall(rf'\sid="{region}"', body)) == 1
    assert "hx-swap-oob" not in body
    assert "HX-Request" in response["Vary"]
    # Every htmx link also works as a plain link (to the same URL, opened at its panel).
    links = re.findall(r"<a\b[^>]*\bhx-get=\"([^\"]+)\"[^>]*>", body)
    assert len(links) > 20
    for tag in re.finditer(r"<a\b[^>]*\bhx-get=\"([^\"]+)\"[^>]*>", body):
        assert re.search(rf'href="{re.escape(tag.group(1))}(#times|#calendar)?"', tag.group(0))


def test_a_history_restore_gets_the_full_page(coach, paris_client) -> None:
    response = signed_in(paris_client).get(
        page_url(coach, date="2026-03-09"), HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert "<html" in html(response)
    assert "hx-swap-oob" not in html(response)


# ---------------------------------------------------------------------------------------
# Bad query strings: a message and a sensible default, never an error
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "notice", "title"),
    [
        ({"date": "tomorrow"}, "That date could not be read; showing today.", "Monday 2 March"),
        ({"date": "2026-02-30"}, "That date could not be read; showing today.", "Monday 2 March"),
        ({"date": "20260310"}, "That date could not be read; showing today.", "Monday 2 March"),
        ({"date": "2026-03-01"}, "takes bookings from 2 March 2026 to 1 April 2026; showing today.", "Monday 2 March"),
        ({"date": "2031-01-01"}, "takes bookings from 2 March 2026 to 1 April 2026; showing today.", "Monday 2 March"),
        ({"month": "2026-13"}, "That month could not be read; showing this month.", "Choose a day"),
        ({"month": "march"}, "That month could not be read; showing this month.", "Choose a day"),
        ({"month": "2025-12"}, "showing this month.", "Choose a day"),
        ({"month": "2026-06"}, "showing this month.", "Choose a day"),
        ({"date": "%00", "month": "%ff", "start": "%ff"}, "That date could not be read", "Monday 2 March"),
    ],
)
def test_bad_query_values_fall_back_with_a_message(coach, paris_client, query, notice, title) -> None:
    url = page_url(coach, **query)
    for http in (signed_in(paris_client), visitor()):
        response = http.get(url)
        assert response.status_code == 200
        assert notice in notices(response)
        assert re.search(rf'<h2 id="times-title">{title}</h2>', html(response))
        assert "March 2026" in html(response)


@pytest.mark.parametrize("start", ["soon", "2026-03-09T13:30:00", "2026-03-09T99:00:00Z", ""])
def test_a_bad_start_keeps_the_day_and_asks_for_another_time(coach, paris_client, start) -> None:
    response = signed_in(paris_client).get(page_url(coach, date="2026-03-09", start=start))
    assert response.status_code == 200
    assert (UNAVAILABLE in html(response)) is bool(start)
    assert times_shown(response) == NY_DEFAULT_IN_PARIS_GAP
    assert 'data-testid="booking-summary"' not in html(response)


def test_a_good_page_has_no_notices(coach, paris_client) -> None:
    response = signed_in(paris_client).get(page_url(coach, date="2026-03-09"))
    assert 'class="flash' not in notices(response)


# ---------------------------------------------------------------------------------------
# Query budget
# ---------------------------------------------------------------------------------------


def _coach_with_windows(email: str, count: int, *, window_days: int):
    """``count`` one-hour windows spread over the week, and a booking on every weekday."""
    coach = make_coach(email, window_days=window_days)
    per_day: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for index in range(count):
        weekday, slot = index % 7, index // 7
        per_day.setdefault(weekday, []).append((dt.time(8 + 2 * slot), dt.time(9 + 2 * slot)))
    for weekday, windows in per_day.items():
        set_day_windows(coach=coach, actor=coach, weekday=weekday, windows=windows)
    for offset in range(window_days):
        start = dt.datetime(2026, 3, 3, 20, tzinfo=UTC) + dt.timedelta(days=offset)
        end = start + dt.timedelta(hours=1)
        Allocation.objects.create(staff=coach, start=start, end=end, blocked_start=start, blocked_end=end)
    return coach


def _queries_for(http: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = http.get(url)
    assert response.status_code == 200
    return len(captured)


def test_the_coach_page_query_count_does_not_grow_with_windows_or_days(db, paris_client) -> None:
    small = _coach_with_windows("small@example.com", 2, window_days=7)
    large = _coach_with_windows("large@example.com", 20, window_days=60)
    http = signed_in(paris_client)
    http.get(page_url(small))  # warm the session and any per-process caches
    urls = {
        name: page_url(coach, month="2026-03", date="2026-03-03")
        for name, coach in (("small", small), ("large", large))
    }
    counts = {name: _queries_for(http, url) for name, url in urls.items()}
    assert counts["small"] == counts["large"]
    # And the large one's busier month costs the same as a quiet day.
    assert _queries_for(http, page_url(large, date="2026-03-04")) == counts["large"]


def test_the_coach_page_stays_within_a_fixed_query_budget(coach, paris_client, django_assert_max_num_queries) -> None:
    http = signed_in(paris_client)
    chosen, day = page_url(coach, date="2026-03-09", start="2026-03-09T13:30:00Z"), page_url(coach, date="2026-03-09")
    # Each with the booking funnel's step: one INSERT after the response (reports.funnel).
    with django_assert_max_num_queries(11):
        http.get(chosen)
    with django_assert_max_num_queries(11):
        http.get(day, HTTP_HX_REQUEST="true")
