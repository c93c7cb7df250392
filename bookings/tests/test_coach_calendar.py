"""The coach's calendar page: a week or a month of sessions, requests and time off in the
coach's zone, each leading to its booking; bookmarkable URLs; staff see any coach's;
a fixed number of queries whatever the range."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import ClientFactory, CoachFactory, StaffFactory
from availability.models import DateOverride
from availability.rules import ApprovalPolicy
from availability.services import add_time_off, set_override
from bookings import services
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach

UTC = dt.UTC
# Wednesday 4 March 2026, 08:00 UTC (09:00 in Paris, 03:00 in New York).
NOW = dt.datetime(2026, 3, 4, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


def signed_in(user) -> Client:
    http = Client()
    http.force_login(user)
    return http


def body(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def grid(html: str) -> str:
    """The wide-screen grid (the agenda list after it repeats the same entries)."""
    return html.split('data-testid="calendar-grid"', 1)[1].split('data-testid="calendar-agenda"', 1)[0]


def agenda(html: str) -> str:
    return html.split('data-testid="calendar-agenda"', 1)[1]


def day_cell(html: str, day: str) -> str:
    part = grid(html).split(f'data-date="{day}"', 1)[1]
    return re.split(r'data-testid="cal-day"', part, maxsplit=1)[0]


@pytest.fixture
def coach(db):
    coach = open_coach(timezone="Europe/Paris")
    coach.name = "Camille Laurent"
    coach.save()
    return coach


@pytest.fixture
def week(coach):
    """This week of the Paris coach: a booking, a request, a group session with two
    people, a cancelled booking, a day off, time off and a day with its own hours."""
    consult = SessionTypeFactory(coach=coach, title="Career consultation")
    always = SessionTypeFactory(coach=coach, title="Intro call", approval=ApprovalPolicy.ALWAYS)
    circle = GroupTypeFactory(coach=coach, title="Leadership circle", capacity=6)
    sofia = ClientFactory(name="Sofia Marquez", timezone="Europe/Madrid")
    noah = ClientFactory(name="Noah Fischer", timezone="Europe/Berlin")
    firm = services.book_slot(client=sofia, session_type=consult, start=dt.datetime(2026, 3, 5, 9, tzinfo=UTC))
    request = services.book_slot(client=noah, session_type=always, start=dt.datetime(2026, 3, 5, 13, tzinfo=UTC))
    gone = services.book_slot(client=noah, session_type=consult, start=dt.datetime(2026, 3, 6, 9, tzinfo=UTC))
    services.cancel(booking=gone, actor=noah, reason="Ill")
    session = services.publish_session(actor=coach, session_type=circle, start=dt.datetime(2026, 3, 4, 16, tzinfo=UTC))
    seats = [services.take_seat(client=person, session=session) for person in (sofia, noah)]
    set_override(coach=coach, actor=coach, date=dt.date(2026, 3, 7), windows=[], reason="Family day")
    set_override(coach=coach, actor=coach, date=dt.date(2026, 3, 6), windows=[(dt.time(10), dt.time(12))])
    add_time_off(coach=coach, actor=coach, start_date=dt.date(2026, 3, 8), end_date=dt.date(2026, 3, 12))
    return {"firm": firm, "request": request, "gone": gone, "session": session, "seats": seats}


def test_the_week_shows_bookings_requests_groups_and_time_off_in_the_coachs_zone(coach, week) -> None:
    html = body(signed_in(coach).get(reverse("coach_calendar")))

    assert re.search(r'data-testid="calendar-title">2 – 8 March 2026<', html)
    assert "Times in <strong>Europe/Paris</strong>" in html
    thursday = day_cell(html, "2026-03-05")
    # 09:00 UTC is 10:00 in Paris; the request says so in words, not a status name.
    assert "10:00–11:00" in thursday and "Sofia Marquez" in thursday and "Booked" in thursday
    assert "14:00–15:00" in thursday and "Noah Fischer" in thursday and ">Request<" in thursday
    assert f'href="{reverse("booking_detail", args=[week["firm"].reference])}"' in thursday
    assert f'href="{reverse("booking_detail", args=[week["request"].reference])}"' in thursday
    assert "requested" not in thursday and "firm_booked" not in html
    wednesday = day_cell(html, "2026-03-04")
    assert "17:00–18:30" not in wednesday  # a group's length is its type's: 60 minutes
    assert "17:00–18:00" in wednesday and "Leadership circle" in wednesday and "2 of 6 seats taken" in wednesday
    for seat in week["seats"]:
        assert f'href="{reverse("booking_detail", args=[seat.reference])}"' in wednesday
    # A cancelled booking is gone; the day with its own hours is a working day.
    friday = day_cell(html, "2026-03-06")
    assert week["gone"].reference not in html and "cal-entry" not in friday and "Away" not in friday
    assert "Away · Family day" in day_cell(html, "2026-03-07")
    assert "Away · Time off" in day_cell(html, "2026-03-08")
    assert "1 booking" in html and "1 request" in html and "1 group session" in html


def test_the_phone_agenda_lists_only_days_with_something_in_order(coach, week) -> None:
    html = agenda(body(signed_in(coach).get(reverse("coach_calendar"))))
    days = re.findall(r'class="card ag-day[^"]*" data-date="([\d-]+)"', html)
    assert days == ["2026-03-04", "2026-03-05", "2026-03-07", "2026-03-08"]
    assert html.index("10:00–11:00") < html.index("14:00–15:00")


def test_week_and_month_urls_and_their_neighbours(coach, week) -> None:
    http = signed_in(coach)
    html = body(http.get(reverse("coach_calendar_week", args=["2026-03-11"])))  # a Wednesday
    assert re.search(r'data-testid="calendar-title">9 – 15 March 2026<', html)
    assert f'href="{reverse("coach_calendar_week", args=["2026-03-02"])}" rel="prev"' in html
    assert f'href="{reverse("coach_calendar_week", args=["2026-03-16"])}" rel="next"' in html
    assert f'href="{reverse("coach_calendar_week", args=["2026-03-02"])}" data-testid="cal-today"' in html
    assert f'href="{reverse("coach_calendar_month", args=["2026-03"])}" data-testid="view-month"' in html

    html = body(http.get(reverse("coach_calendar_month", args=["2026-03"])))
    assert re.search(r'data-testid="calendar-title">March 2026<', html)
    assert f'href="{reverse("coach_calendar_month", args=["2026-02"])}" rel="prev"' in html
    assert f'href="{reverse("coach_calendar_month", args=["2026-04"])}" rel="next"' in html
    # The grid runs Monday 23 February to Sunday 5 April; the days around are dimmed.
    cells = re.findall(r'<td class="mo-day([^"]*)" data-testid="cal-day" data-date="([\d-]+)"', grid(html))
    assert cells[0][1] == "2026-02-23" and cells[-1][1] == "2026-04-05"
    assert "is-out" in cells[0][0] and "is-today" in dict((d, c) for c, d in cells)["2026-03-04"]
    # Time off fills its days; each day leads to its week.
    assert "Away · Time off" in day_cell(html, "2026-03-10")
    assert f'href="{reverse("coach_calendar_week", args=["2026-03-09"])}"' in day_cell(html, "2026-03-10")


def test_a_busy_month_day_shows_three_and_how_many_more(coach) -> None:
    consult = SessionTypeFactory(coach=coach, title="Consultation")
    for hour in range(9, 14):
        services.book_slot(
            client=ClientFactory(), session_type=consult, start=dt.datetime(2026, 3, 12, hour - 1, tzinfo=UTC)
        )
    cell = day_cell(body(signed_in(coach).get(reverse("coach_calendar_month", args=["2026-03"]))), "2026-03-12")
    assert cell.count('data-testid="cal-entry"') == 3
    assert "+ 2 more" in cell


@pytest.mark.parametrize(
    ("url", "notice"),
    [
        ("/coach/calendar/week/2026-02-30/", "That date could not be read; showing this week."),
        ("/coach/calendar/week/3000-01-01/", "That date could not be read; showing this week."),
        ("/coach/calendar/week/%00/", "That date could not be read; showing this week."),
        ("/coach/calendar/month/2026-13/", "That month could not be read; showing this month."),
        ("/coach/calendar/month/march/", "That month could not be read; showing this month."),
    ],
)
def test_an_unreadable_date_shows_this_period_with_a_message(coach, url, notice) -> None:
    html = body(signed_in(coach).get(url))
    assert notice in html
    assert "March 2026" in html


def test_staff_see_any_coachs_calendar_with_the_zone_note(coach, week) -> None:
    marcus = open_coach(timezone="America/New_York", hours=(9, 22))
    marcus.name = "Marcus Bennett"
    marcus.save()
    tutoring = SessionTypeFactory(coach=marcus, title="Tutoring")
    late = services.book_slot(
        client=ClientFactory(), session_type=tutoring, start=dt.datetime(2026, 3, 6, 1, tzinfo=UTC)
    )
    staff = StaffFactory(timezone="Europe/London")
    http = signed_in(staff)

    html = body(http.get(f"{reverse('coach_calendar')}?coach={marcus.pk}"))

    assert "Marcus Bennett's calendar" in html
    assert "Times in <strong>America/New_York</strong>" in html
    assert "Marcus's time zone; yours is Europe/London (5 h ahead)" in html
    # The footer, which names the viewer's zone on other pages, says the calendar's differs.
    assert "Calendar times in <strong>America/New_York</strong>; your zone is <strong>Europe/London</strong>" in html
    # 01:00 UTC on Friday is 20:00 on Thursday in New York and 01:00 on Friday in London.
    thursday = day_cell(html, "2026-03-05")
    assert "20:00–21:00" in thursday and late.reference in thursday
    assert "Fri 01:00 for you" in thursday
    # Neighbouring weeks keep the coach; the picker offers every coach.
    assert f'href="{reverse("coach_calendar_week", args=["2026-03-09"])}?coach={marcus.pk}" rel="next"' in html
    assert f'<option value="{coach.pk}">' in html and f'<option value="{marcus.pk}" selected>' in html
    # Without a choice, staff see a coach's calendar and the picker.
    assert 'data-testid="coach-picker"' in body(http.get(reverse("coach_calendar")))


@pytest.mark.parametrize(
    ("viewer_zone", "note"),
    [
        ("Europe/Paris", None),
        ("Asia/Kathmandu", "yours is Asia/Kathmandu (4 h 45 min ahead)"),
        ("America/New_York", "yours is America/New_York (6 h behind)"),
    ],
)
def test_the_zone_note_appears_only_when_the_viewers_zone_differs(coach, week, viewer_zone, note) -> None:
    assert "yours is" not in body(signed_in(coach).get(reverse("coach_calendar")))
    html = body(signed_in(StaffFactory(timezone=viewer_zone)).get(f"{reverse('coach_calendar')}?coach={coach.pk}"))
    if note is None:
        assert "yours is" not in html and "for you" not in html
    else:
        assert note in html
        assert html.count('data-testid="cal-viewer-time"') == 2 * 3  # grid and agenda, three timed items


@pytest.mark.parametrize("who", ["client", "other coach", "anonymous"])
def test_others_cannot_open_a_coachs_calendar(coach, who) -> None:
    if who == "anonymous":
        response = Client().get(reverse("coach_calendar"))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        return
    user = ClientFactory() if who == "client" else CoachFactory()
    http = signed_in(user)
    assert http.get(reverse("coach_calendar")).status_code == (404 if who == "client" else 200)
    assert http.get(f"{reverse('coach_calendar')}?coach={coach.pk}").status_code == 404


@pytest.mark.parametrize("value", ["999999", "abc", "99999999999999999999"])
def test_staff_asking_for_no_coach_get_a_404_or_the_first(coach, value) -> None:
    response = signed_in(StaffFactory()).get(f"{reverse('coach_calendar')}?coach={value}")
    assert response.status_code == (404 if value == "999999" else 200)


def test_a_client_id_is_not_a_coach(coach) -> None:
    client = ClientFactory()
    assert signed_in(StaffFactory()).get(f"{reverse('coach_calendar')}?coach={client.pk}").status_code == 404


def test_the_calendar_reads_a_fixed_number_of_queries_whatever_the_range(coach, week) -> None:
    http = signed_in(coach)
    with CaptureQueriesContext(connection) as small:
        body(http.get(reverse("coach_calendar_week", args=["2026-03-02"])))
    # Many more sessions, bookings, days off and time off over a month.
    consult = SessionTypeFactory(coach=coach, title="Consultation")
    circle = GroupTypeFactory(coach=coach, title="Circle", capacity=5)
    for day in range(13, 28):
        services.book_slot(client=ClientFactory(), session_type=consult, start=dt.datetime(2026, 3, day, 9, tzinfo=UTC))
        session = services.publish_session(
            actor=coach, session_type=circle, start=dt.datetime(2026, 3, day, 13, tzinfo=UTC)
        )
        for _ in range(3):
            services.take_seat(client=ClientFactory(), session=session)
    for day in (28, 29):
        DateOverride.objects.create(coach=coach, date=dt.date(2026, 3, day), reason="Off")
    with CaptureQueriesContext(connection) as large:
        html = body(http.get(reverse("coach_calendar_month", args=["2026-03"])))
    assert html.count('data-kind="group"') > 10
    assert len(large.captured_queries) == len(small.captured_queries)
    assert len(large.captured_queries) <= 8


def test_the_coach_finds_the_calendar_from_the_nav_and_the_dashboard(coach) -> None:
    html = body(signed_in(coach).get(reverse("coach_dashboard")))
    assert f'href="{reverse("coach_calendar")}" class="nav-link' in html
    assert 'data-testid="open-calendar"' in html
    assert f'href="{reverse("coach_calendar")}"' in body(signed_in(StaffFactory()).get(reverse("staff_dashboard")))


def test_busy_times_from_the_coachs_own_calendars_show_merged_and_in_order(coach, week) -> None:
    from availability.models import Allocation, AllocationKind

    def busy(start, end):
        Allocation.objects.create(
            staff=coach, kind=AllocationKind.EXTERNAL, start=start, end=end, blocked_start=start, blocked_end=end
        )

    # Two calendars hold overlapping events on Thursday morning; Friday is busy all day (Paris).
    busy(dt.datetime(2026, 3, 5, 7, tzinfo=UTC), dt.datetime(2026, 3, 5, 8, 30, tzinfo=UTC))
    busy(dt.datetime(2026, 3, 5, 8, tzinfo=UTC), dt.datetime(2026, 3, 5, 8, 45, tzinfo=UTC))
    busy(dt.datetime(2026, 3, 5, 23, tzinfo=UTC), dt.datetime(2026, 3, 6, 23, tzinfo=UTC))
    html = body(signed_in(coach).get(reverse("coach_calendar")))
    thursday = day_cell(html, "2026-03-05")
    assert thursday.count('data-kind="busy"') == 1 and "08:00–09:45" in thursday
    assert thursday.index("08:00–09:45") < thursday.index("10:00–11:00")
    friday = day_cell(html, "2026-03-06")
    assert 'data-kind="busy"' in friday and "All day" in friday
    assert "Busy (own calendar)" in html
    # Counted as nothing: not a booking, a request or a group session.
    assert "1 booking" in html and "1 request" in html
