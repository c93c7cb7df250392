"""The booking wizard from the session type to the confirmation screen, as a person uses it
through plain GETs and POSTs: firm bookings and requests, a slot taken meanwhile, a client
conflict, refusals and failures, guardians, "Schedule later", seats in group sessions,
reschedules, who may open what, and bad query values."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from html import unescape
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import ClientFactory, CoachFactory, GuardianLinkFactory, StaffFactory
from bookings import services, views
from bookings.models import Booking, BookingStatus, PlannedSession
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach

UTC = dt.UTC
# Tuesday 1 December 2026, 06:00 UTC: 07:00 in Paris (the coach), 01:00 in New York (the client).
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
# Wednesday 2 December, 10:00 in Paris = 04:00 in New York.
START = dt.datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
START_PARAM = "2026-12-02T09:00:00Z"
UNAVAILABLE = "This time is no longer available. Select another."
CONFLICT = "You have another session at this time."
FAILED = "Unable to book. Please try again."


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def coach(db):
    coach = open_coach(timezone="Europe/Paris")
    coach.name = "Nora Coach"
    coach.save()
    return coach


@pytest.fixture
def consult(coach):
    return SessionTypeFactory(
        coach=coach, title="Career consultation", duration_minutes=60, price=Decimal("50.00"), currency="EUR"
    )


@pytest.fixture
def ny_client(db):
    return ClientFactory(email="nia@example.com", name="Nia York", timezone="America/New_York")


def signed_in(user) -> Client:
    http = Client()
    http.force_login(user)
    return http


def html(response) -> str:
    """The page's text with entities decoded ("isn't", "&" in links)."""
    return unescape(response.content.decode())


def type_url(st, **params: str) -> str:
    url = reverse("book_type", args=[st.coach_id, st.pk])
    return f"{url}?{'&'.join(f'{k}={v}' for k, v in params.items())}" if params else url


def confirm_url(st, start: str = START_PARAM) -> str:
    return f"{reverse('book_confirm', args=[st.coach_id, st.pk])}?start={start}"


def times_shown(response) -> list[str]:
    return re.findall(r'class="slot time-slot[^"]*"[^>]*>([^<]+)</a>', html(response), flags=re.S)


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


# ---------------------------------------------------------------------------------------
# Step 2: the session types
# ---------------------------------------------------------------------------------------


def test_the_coach_page_lists_the_active_types_with_their_facts(coach, consult, ny_client) -> None:
    GroupTypeFactory(coach=coach, title="Morning circle", duration_minutes=45, price=0, capacity=8)
    SessionTypeFactory(coach=coach, title="Retired offer", is_active=False)
    SessionTypeFactory(title="Someone else's type")
    response = signed_in(ny_client).get(reverse("book_coach", args=[coach.pk]))
    body = html(response)
    assert response.status_code == 200
    assert re.findall(r'<h3 class="type-title"><a href="[^"]+" class="stretched">([^<]+)</a>', body) == [
        "Career consultation",
        "Morning circle",
    ]
    assert "Retired offer" not in body
    assert "Someone else" not in body
    assert ">50 EUR</li>" in body
    assert ">Free</li>" in body
    assert "60 min" in body and "45 min" in body
    assert "Online" in body
    assert "Group session · up to 8" in body
    assert f'href="{type_url(consult)}"' in body
    assert re.search(r'<li class="current" data-step="session" aria-current="step">', body)


def test_a_preselected_type_or_a_single_type_skips_ahead(coach, consult, ny_client) -> None:
    http = signed_in(ny_client)
    coach_url = reverse("book_coach", args=[coach.pk])
    # One type: straight to its calendar, keeping the day a link carried.
    response = http.get(f"{coach_url}?date=2026-12-03")
    assert response.status_code == 302
    assert response["Location"] == type_url(consult, date="2026-12-03")
    # ... unless the person came back to choose (the step indicator's link).
    assert http.get(f"{coach_url}?all=1").status_code == 200

    other = SessionTypeFactory(coach=coach, title="Short check-in", duration_minutes=30)
    assert http.get(coach_url).status_code == 200  # two types: the list
    response = http.get(f"{coach_url}?type={other.pk}")
    assert response["Location"] == type_url(other)
    for bad in ("abc", "999999", str(SessionTypeFactory().pk)):
        response = http.get(f"{coach_url}?type={bad}")
        assert response.status_code == 200
        assert "That session type isn't offered; choose one below." in html(response)


def test_a_coach_without_types_says_so(coach, ny_client) -> None:
    body = html(signed_in(ny_client).get(reverse("book_coach", args=[coach.pk])))
    assert "Nora Coach has no sessions to book yet." in body


def test_an_inactive_or_foreign_type_is_404(coach, consult, ny_client) -> None:
    http = signed_in(ny_client)
    retired = SessionTypeFactory(coach=coach, is_active=False)
    foreign = SessionTypeFactory()
    assert http.get(reverse("book_type", args=[coach.pk, retired.pk])).status_code == 404
    assert http.get(reverse("book_type", args=[coach.pk, foreign.pk])).status_code == 404
    assert http.get(f"/book/{coach.pk}/99999999999999999999/").status_code == 404


# ---------------------------------------------------------------------------------------
# Step 3 → 4: the time, then the confirm page
# ---------------------------------------------------------------------------------------


def test_times_come_from_the_session_type_in_the_viewers_zone(coach, consult, ny_client) -> None:
    response = signed_in(ny_client).get(type_url(consult, date="2026-12-02"))
    # 09:00–17:00 in Paris, hourly, 60 minutes: 03:00 to 10:00 in New York.
    assert times_shown(response) == ["03:00", "04:00", "05:00", "06:00", "07:00", "08:00", "09:00", "10:00"]
    body = html(response)
    assert "Times shown in <strong>America/New_York</strong>" in body
    assert "Career consultation" in body
    assert re.search(r'<li class="current" data-step="time" aria-current="step">', body)
    # Choosing 04:00 offers the confirm step for that instant.
    body = html(signed_in(ny_client).get(type_url(consult, date="2026-12-02", start=START_PARAM)))
    assert f'href="{confirm_url(consult, "2026-12-02T09%3A00%3A00Z")}" id="continue"' in body


def test_the_confirm_page_summarises_a_firm_booking(coach, consult, ny_client) -> None:
    response = signed_in(ny_client).get(confirm_url(consult))
    assert response.status_code == 200
    body = html(response)
    assert "Nora Coach" in body
    assert "Career consultation" in body
    assert 'data-testid="confirm-date">Wednesday 2 December 2026</dd>' in body
    assert re.search(r'data-testid="confirm-time">04:00–05:00 <span class="summary-zone">America/New_York</span>', body)
    assert "60 minutes" in body
    assert 'data-testid="confirm-price">50 EUR</dd>' in body
    assert "Booking is confirmed at once." in body
    assert re.search(r'id="book-submit" data-testid="book-submit">Book session</button>', body)
    assert re.search(r'<input type="checkbox" name="reminders"[^>]*checked', body)
    assert '<textarea name="notes"' in body
    assert 'name="book_for"' not in body  # no dependents: the booking is theirs
    assert re.search(r'<li class="current" data-step="confirm" aria-current="step">', body)


def test_the_confirm_page_announces_a_request(db, ny_client) -> None:
    coach = open_coach(require_approval_unconnected=True)
    st = SessionTypeFactory(coach=coach, price=0)
    body = html(signed_in(ny_client).get(confirm_url(st)))
    assert f"<strong>This will be a request:</strong> {coach.display_name} confirms it." in body
    assert "Booking is confirmed at once." not in body
    assert re.search(r'data-testid="book-submit">Send request</button>', body)
    assert 'data-testid="confirm-price">Free</dd>' in body


def test_a_whole_firm_booking_through_the_pages(coach, consult, ny_client) -> None:
    http = signed_in(ny_client)
    assert http.get(type_url(consult, date="2026-12-02", start=START_PARAM)).status_code == 200
    assert http.get(confirm_url(consult)).status_code == 200
    response = http.post(confirm_url(consult), {"notes": "  First session, be gentle  "})  # reminders unticked
    booking = Booking.objects.get(client=ny_client)
    assert response.status_code == 303
    assert response["Location"] == reverse("booking_done", args=[booking.reference])
    assert booking.status == BookingStatus.FIRM_BOOKED
    assert booking.session.start == START
    assert booking.booked_by == ny_client
    assert booking.client_notes == "First session, be gentle"
    assert booking.reminders_enabled is False

    done = http.get(response["Location"])
    body = html(done)
    assert done.status_code == 200
    assert "Session booked!" in body
    assert f'data-testid="booking-reference">{booking.reference}</strong>' in body
    assert 'data-testid="done-date">Wednesday 2 December 2026</dd>' in body
    assert re.search(r'data-testid="done-time">04:00–05:00 <span class="summary-zone">America/New_York</span>', body)
    assert f'href="{reverse("dashboard")}" id="back-to-dashboard"' in body
    assert f'href="{reverse("book_coach", args=[coach.pk])}?all=1" id="book-another"' in body
    assert f'href="{reverse("booking_detail", args=[booking.reference])}"' in body


def test_a_whole_request_through_the_pages(db, ny_client) -> None:
    coach = open_coach(require_approval_unconnected=True)
    st = SessionTypeFactory(coach=coach)
    http = signed_in(ny_client)
    response = http.post(confirm_url(st), {"notes": "", "reminders": "on"})
    booking = Booking.objects.get(client=ny_client)
    assert response.status_code == 303
    assert booking.status == BookingStatus.REQUESTED
    assert booking.reminders_enabled is True
    body = html(http.get(response["Location"]))
    assert "Request sent" in body
    assert "Session booked!" not in body
    assert f"{coach.display_name} confirms it" in body
    assert booking.reference in body


def test_a_slot_taken_between_choosing_and_confirming(coach, consult, ny_client) -> None:
    http = signed_in(ny_client)
    assert http.get(confirm_url(consult)).status_code == 200
    services.book_slot(client=ClientFactory(), session_type=consult, start=START)  # someone else, meanwhile

    response = http.post(confirm_url(consult), {"notes": "hello", "reminders": "on"})
    assert response.status_code == 303
    assert not Booking.objects.filter(client=ny_client).exists()
    # Back to the time step on the same day, with the refused instant.
    assert urlsplit(response["Location"]).path == type_url(consult)
    assert query_of(response["Location"]) == {"date": ["2026-12-02"], "start": [START_PARAM]}
    page = http.get(response["Location"])
    body = html(page)
    assert UNAVAILABLE in body
    assert body.index(UNAVAILABLE) < body.index('class="times-list"')
    assert "04:00" not in times_shown(page)  # the list is refreshed
    assert times_shown(page)[:2] == ["03:00", "05:00"]
    assert 'data-testid="booking-summary"' not in body


def test_opening_the_confirm_page_for_a_taken_time_goes_back_to_the_times(coach, consult, ny_client) -> None:
    services.book_slot(client=ClientFactory(), session_type=consult, start=START)
    response = signed_in(ny_client).get(confirm_url(consult))
    assert response.status_code == 303
    assert query_of(response["Location"]) == {"date": ["2026-12-02"], "start": [START_PARAM]}


def test_a_client_conflict_is_explained_and_nothing_is_booked(coach, consult, ny_client) -> None:
    elsewhere = SessionTypeFactory(coach=open_coach(timezone="UTC"), duration_minutes=60)
    services.book_slot(client=ny_client, session_type=elsewhere, start=START + dt.timedelta(minutes=0))
    response = signed_in(ny_client).post(confirm_url(consult), {"notes": "", "reminders": "on"})
    assert response.status_code == 409
    body = html(response)
    assert CONFLICT in body
    assert 'data-testid="booking-error"' in body
    assert Booking.objects.filter(client=ny_client).count() == 1
    assert not Booking.objects.filter(session__session_type=consult).exists()


def test_another_refusal_shows_its_own_message(coach, consult, ny_client) -> None:
    past = "2026-12-01T05:00:00Z"
    response = signed_in(ny_client).post(confirm_url(consult, past), {"reminders": "on"})
    assert response.status_code == 409
    assert "This time has already passed. Select another." in html(response)
    assert not Booking.objects.exists()


def test_an_unexpected_failure_is_logged_and_never_a_500(coach, consult, ny_client, caplog) -> None:
    with mock.patch.object(services, "book_slot", side_effect=RuntimeError("database went away")):
        response = signed_in(ny_client).post(confirm_url(consult), {"reminders": "on"})
    assert response.status_code == 200
    assert FAILED in html(response)
    assert not Booking.objects.exists()
    assert any("Booking failed" in record.getMessage() and record.exc_info for record in caplog.records)


def test_notes_too_long_are_refused_by_the_form(coach, consult, ny_client) -> None:
    response = signed_in(ny_client).post(confirm_url(consult), {"notes": "x" * 2001, "reminders": "on"})
    assert response.status_code == 400
    assert "Ensure this value has at most 2000 characters" in html(response)
    assert not Booking.objects.exists()


# ---------------------------------------------------------------------------------------
# Who books: visitors, coaches and staff, guardians
# ---------------------------------------------------------------------------------------


def test_visitors_are_sent_to_log_in_and_back(coach, consult) -> None:
    http = Client()
    for url in (confirm_url(consult), reverse("book_later", args=[coach.pk, consult.pk])):
        response = http.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
        assert query_of(response["Location"])["next"] == [url]
    response = http.post(confirm_url(consult), {"reminders": "on"})
    assert response.status_code == 302
    assert not Booking.objects.exists()
    # The calendar itself stays open to visitors.
    assert http.get(type_url(consult, date="2026-12-02")).status_code == 200


@pytest.mark.parametrize("make", [CoachFactory, StaffFactory])
def test_coaches_and_staff_see_the_wizard_but_cannot_book_for_themselves(coach, consult, make) -> None:
    http = signed_in(make())
    page = http.get(confirm_url(consult))
    body = html(page)
    assert page.status_code == 200
    assert "Career consultation" in body
    assert str(views.NOT_A_CLIENT) in body
    assert 'data-testid="book-submit"' not in body
    assert 'data-testid="schedule-later"' not in html(http.get(type_url(consult)))
    response = http.post(confirm_url(consult), {"reminders": "on"})
    assert response.status_code == 403
    assert str(views.NOT_A_CLIENT) in html(response)
    later = http.post(reverse("book_later", args=[coach.pk, consult.pk]), follow=True)
    assert str(views.NOT_A_CLIENT) in html(later)
    assert not Booking.objects.exists()
    assert not PlannedSession.objects.exists()


def test_a_guardian_books_for_a_dependent(coach, consult, ny_client) -> None:
    child = ClientFactory(name="Kid York")
    GuardianLinkFactory(guardian=ny_client, dependent=child)
    http = signed_in(ny_client)
    body = html(http.get(confirm_url(consult)))
    assert '<label for="id_book_for">Book for</label>' in body
    assert re.search(rf'<option value="{ny_client.pk}" selected>Myself</option>', body)
    assert f'<option value="{child.pk}">Kid York</option>' in body

    stranger = ClientFactory()
    refused = http.post(confirm_url(consult), {"book_for": stranger.pk, "reminders": "on"})
    assert refused.status_code == 400
    assert not Booking.objects.exists()

    response = http.post(confirm_url(consult), {"book_for": child.pk, "reminders": "on"})
    booking = Booking.objects.get()
    assert response.status_code == 303
    assert booking.client == child
    assert booking.booked_by == ny_client
    done = html(http.get(response["Location"]))
    assert "Kid York" in done
    # The dependent sees it too; a stranger doesn't.
    assert signed_in(child).get(response["Location"]).status_code == 200
    assert signed_in(stranger).get(response["Location"]).status_code == 404


# ---------------------------------------------------------------------------------------
# The confirmation screen: who may see it
# ---------------------------------------------------------------------------------------


def test_the_done_page_is_only_for_who_may_see_the_booking(coach, consult, ny_client) -> None:
    booking = services.book_slot(client=ny_client, session_type=consult, start=START)
    url = reverse("booking_done", args=[booking.reference])
    assert signed_in(ny_client).get(url).status_code == 200
    assert signed_in(coach).get(url).status_code == 200
    assert signed_in(ClientFactory()).get(url).status_code == 404
    assert signed_in(CoachFactory()).get(url).status_code == 404
    visitor = Client().get(url)
    assert visitor.status_code == 302
    assert query_of(visitor["Location"])["next"] == [url]
    for bad in ("BK-2026-999999", "123", str(booking.pk), "nonsense", "BK-%00"):
        assert signed_in(ny_client).get(f"/bookings/{bad}/done/").status_code == 404


def test_staff_may_see_any_done_page(coach, consult, ny_client) -> None:
    booking = services.book_slot(client=ny_client, session_type=consult, start=START)
    assert signed_in(StaffFactory()).get(reverse("booking_done", args=[booking.reference])).status_code == 200


# ---------------------------------------------------------------------------------------
# Schedule later
# ---------------------------------------------------------------------------------------


def test_schedule_later_saves_the_type_and_says_so_on_the_dashboard(coach, consult, ny_client) -> None:
    http = signed_in(ny_client)
    page = html(http.get(type_url(consult)))
    later_url = reverse("book_later", args=[coach.pk, consult.pk])
    assert re.search(rf'<form method="post" action="{later_url}" class="later-form">', page)
    response = http.post(later_url)
    assert response.status_code == 303
    assert response["Location"] == reverse("dashboard")
    plan = PlannedSession.objects.get()
    assert (plan.client, plan.session_type, plan.closed_at) == (ny_client, consult, None)
    dashboard = http.get(response["Location"], follow=True)
    assert "Saved: Career consultation with Nora Coach is on your dashboard to schedule later." in html(dashboard)
    # Twice is still one plan.
    http.post(later_url)
    assert PlannedSession.objects.count() == 1


def test_schedule_later_refused_shows_the_message(coach, consult, ny_client) -> None:
    refusal = services.BookingRefused("This session type is no longer offered.", code="outside_availability")
    http = signed_in(ny_client)
    with mock.patch.object(services, "schedule_later", side_effect=refusal):
        response = http.post(reverse("book_later", args=[coach.pk, consult.pk]))
    assert response.status_code == 303
    assert response["Location"] == type_url(consult)
    assert "This session type is no longer offered." in html(http.get(response["Location"]))
    assert not PlannedSession.objects.exists()


def test_schedule_later_for_a_coach_the_client_may_not_see_is_404(db, ny_client) -> None:
    from accounts.models import CalendarVisibility

    coach = open_coach(calendar_visibility=CalendarVisibility.CONNECTED)
    st = SessionTypeFactory(coach=coach)
    assert signed_in(ny_client).post(reverse("book_later", args=[coach.pk, st.pk])).status_code == 404
    assert not PlannedSession.objects.exists()


# ---------------------------------------------------------------------------------------
# Group sessions and workshops
# ---------------------------------------------------------------------------------------


@pytest.fixture
def circle(coach):
    return GroupTypeFactory(coach=coach, title="Morning circle", capacity=3, price=0)


def publish(circle, start: dt.datetime, capacity: int):
    return services.publish_session(actor=circle.coach, session_type=circle, start=start, capacity=capacity)


def test_the_group_type_lists_upcoming_sessions_with_seats(coach, circle, ny_client) -> None:
    open_one = publish(circle, START, 3)
    services.take_seat(client=ClientFactory(), session=open_one)
    full = publish(circle, START + dt.timedelta(days=1), 1)
    services.take_seat(client=ClientFactory(), session=full)
    response = signed_in(ny_client).get(type_url(circle))
    body = html(response)
    rows = re.findall(r'data-testid="group-session" data-session-id="(\d+)"', body)
    assert rows == [str(open_one.pk), str(full.pk)]
    assert "Times shown in <strong>America/New_York</strong>" in body
    assert "Wed 2 Dec" in body and "04:00–05:00" in body
    assert re.search(r'data-testid="seats">2 seats left</span>', body)
    assert re.search(r'data-testid="seats">Full</span>', body)
    assert body.count('data-testid="take-seat"') == 1
    assert f'href="{reverse("book_seat", args=[open_one.pk])}"' in body
    assert reverse("book_seat", args=[full.pk]) not in body


def test_taking_a_seat_through_the_pages(coach, circle, ny_client) -> None:
    session = publish(circle, START, 3)
    http = signed_in(ny_client)
    url = reverse("book_seat", args=[session.pk])
    page = html(http.get(url))
    assert "Confirm your seat" in page
    assert re.search(r'data-testid="confirm-time">04:00–05:00 <span class="summary-zone">America/New_York</span>', page)
    assert 'data-testid="seats-left">3 of 3</dd>' in page
    response = http.post(url, {"notes": "Vegetarian", "reminders": "on"})
    booking = Booking.objects.get(client=ny_client)
    assert response.status_code == 303
    assert response["Location"] == reverse("booking_done", args=[booking.reference])
    assert booking.session == session
    assert booking.client_notes == "Vegetarian"
    assert "Session booked!" in html(http.get(response["Location"]))
    session.refresh_from_db()
    assert session.seats_taken == 1


def test_a_session_filled_meanwhile_is_full(coach, circle, ny_client) -> None:
    session = publish(circle, START, 1)
    http = signed_in(ny_client)
    url = reverse("book_seat", args=[session.pk])
    assert http.get(url).status_code == 200
    services.take_seat(client=ClientFactory(), session=session)
    response = http.post(url, {"reminders": "on"})
    assert response.status_code == 303
    assert response["Location"] == type_url(circle, full="1")
    body = html(http.get(response["Location"]))
    assert "This session is full." in body
    assert re.search(r'data-testid="seats">Full</span>', body)
    assert 'data-testid="take-seat"' not in body
    assert not Booking.objects.filter(client=ny_client).exists()
    # Opening a full session's page leads to the list too.
    assert http.get(url)["Location"] == type_url(circle, full="1")


def test_seat_pages_for_past_cancelled_or_unknown_sessions_are_404(coach, circle, ny_client) -> None:
    session = publish(circle, START, 2)
    http = signed_in(ny_client)
    services.cancel_session(session=session, actor=coach, reason="Ill")
    assert http.get(reverse("book_seat", args=[session.pk])).status_code == 404
    assert http.get("/book/session/99999999999999999999/").status_code == 404
    assert Client().get(reverse("book_seat", args=[session.pk])).status_code == 302  # visitors log in first


def test_a_confirm_url_for_a_group_type_leads_to_its_list(coach, circle, ny_client) -> None:
    response = signed_in(ny_client).get(confirm_url(circle))
    assert response.status_code == 302
    assert response["Location"] == type_url(circle)


# ---------------------------------------------------------------------------------------
# Reschedule
# ---------------------------------------------------------------------------------------


@pytest.fixture
def booking(consult, ny_client):
    return services.book_slot(client=ny_client, session_type=consult, start=START)


NEW_START = "2026-12-03T13:00:00Z"  # Thursday 14:00 in Paris, 08:00 in New York


def test_a_reschedule_through_the_pages(coach, consult, booking, ny_client) -> None:
    http = signed_in(ny_client)
    base = reverse("booking_reschedule", args=[booking.reference])
    page = http.get(f"{base}?date=2026-12-03")
    body = html(page)
    assert page.status_code == 200
    assert "Choose a new time" in body
    assert 'data-testid="current-time">Wednesday 2 December, 04:00</strong>' in body
    assert "08:00" in times_shown(page)
    chosen = html(http.get(f"{base}?date=2026-12-03&start={NEW_START}"))
    confirm = f"{reverse('booking_reschedule_confirm', args=[booking.reference])}?start=2026-12-03T13%3A00%3A00Z"
    assert f'href="{confirm}" id="continue"' in chosen

    confirm_page = html(http.get(confirm))
    assert 'data-testid="old-time"><s>Wednesday 2 December, 04:00–05:00</s>' in confirm_page
    assert 'data-testid="new-time">Thursday 3 December, 08:00–09:00</strong>' in confirm_page
    assert "America/New_York" in confirm_page
    response = http.post(confirm)
    assert response.status_code == 303
    assert response["Location"] == reverse("booking_detail", args=[booking.reference])
    booking.refresh_from_db()
    assert booking.session.start == dt.datetime(2026, 12, 3, 13, tzinfo=UTC)
    assert booking.rescheduled_from.start == START
    detail = http.get(response["Location"], follow=True)
    assert "Moved to Thursday 3 December at 08:00 (America/New_York)." in html(detail)


def test_moving_a_booking_by_half_an_hour_is_offered_and_works(coach, consult, booking, ny_client) -> None:
    """The booking's own time doesn't block its way: 10:30 Paris overlaps the 10:00 booking
    being moved, yet it is offered, and the move goes through."""
    profile = coach.coach_profile
    profile.slot_step_minutes = 30
    profile.save()
    http = signed_in(ny_client)
    base = reverse("booking_reschedule", args=[booking.reference])
    half_past = "2026-12-02T09:30:00Z"  # 10:30 Paris, 04:30 New York
    assert "04:30" in times_shown(http.get(f"{base}?date=2026-12-02"))
    assert "04:30" not in times_shown(
        signed_in(ClientFactory(timezone="America/New_York")).get(type_url(consult, date="2026-12-02"))
    )
    confirm = f"{reverse('booking_reschedule_confirm', args=[booking.reference])}?start={half_past}"
    assert http.get(confirm).status_code == 200
    assert http.post(confirm).status_code == 303
    booking.refresh_from_db()
    assert booking.session.start == dt.datetime(2026, 12, 2, 9, 30, tzinfo=UTC)


def test_a_reschedule_to_a_time_taken_meanwhile_goes_back_to_the_times(coach, consult, booking, ny_client) -> None:
    http = signed_in(ny_client)
    confirm = f"{reverse('booking_reschedule_confirm', args=[booking.reference])}?start={NEW_START}"
    assert http.get(confirm).status_code == 200
    services.book_slot(client=ClientFactory(), session_type=consult, start=dt.datetime(2026, 12, 3, 13, tzinfo=UTC))
    response = http.post(confirm)
    assert response.status_code == 303
    assert query_of(response["Location"]) == {"date": ["2026-12-03"], "start": [NEW_START]}
    assert UNAVAILABLE in html(http.get(response["Location"]))
    booking.refresh_from_db()
    assert booking.session.start == START


def test_who_may_reschedule(coach, consult, booking, ny_client) -> None:
    url = reverse("booking_reschedule", args=[booking.reference])
    confirm = f"{reverse('booking_reschedule_confirm', args=[booking.reference])}?start={NEW_START}"
    assert signed_in(ny_client).get(url).status_code == 200
    assert signed_in(coach).get(url).status_code == 200
    assert signed_in(StaffFactory()).get(url).status_code == 200
    stranger = signed_in(ClientFactory())
    assert stranger.get(url).status_code == 404
    assert stranger.post(confirm).status_code == 404
    assert signed_in(CoachFactory()).get(url).status_code == 404
    visitor = Client().get(url)
    assert visitor.status_code == 302
    assert query_of(visitor["Location"])["next"] == [url]
    for bad in ("BK-%00", "123", str(booking.pk), "BK-2026-999999"):
        assert signed_in(ny_client).get(f"/bookings/{bad}/reschedule/").status_code == 404
        assert signed_in(ny_client).post(f"/bookings/{bad}/reschedule/confirm/?start={NEW_START}").status_code == 404
    booking.refresh_from_db()
    assert booking.session.start == START


def test_a_group_seat_or_a_cancelled_booking_cannot_be_moved(coach, circle, consult, booking, ny_client) -> None:
    services.cancel(booking=booking, actor=ny_client)
    http = signed_in(ny_client)
    response = http.get(reverse("booking_reschedule", args=[booking.reference]))
    assert response.status_code == 409
    assert "This booking is no longer active" in html(response)
    seat = services.take_seat(client=ny_client, session=publish(circle, START + dt.timedelta(days=2), 3))
    response = http.get(reverse("booking_reschedule", args=[seat.reference]))
    assert response.status_code == 409
    assert "can't be moved" in html(response)


# ---------------------------------------------------------------------------------------
# Bad values never fail a page
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start", ["", "soon", "2026-12-02T09:00:00", "2026-13-02T09:00:00Z", "%00", "2026-12-02T09:17:00Z", "9" * 40]
)
def test_bad_starts_lead_back_to_the_time_step(coach, consult, booking, ny_client, start) -> None:
    http = signed_in(ny_client)
    for url in (
        f"{reverse('book_confirm', args=[coach.pk, consult.pk])}?start={start}",
        f"{reverse('booking_reschedule_confirm', args=[booking.reference])}?start={start}",
    ):
        response = http.get(url)
        assert response.status_code in (302, 303), url
        follow = http.get(response["Location"])
        assert follow.status_code == 200
        if start:
            assert UNAVAILABLE in html(follow)


def test_bad_posts_never_fail(coach, consult, ny_client) -> None:
    http = signed_in(ny_client)
    assert http.post(confirm_url(consult, "soon"), {"reminders": "on"}).status_code == 303
    assert http.post(confirm_url(consult), {"book_for": "x", "notes": ["a", "b"]}).status_code in (200, 303, 400)
    assert http.post(reverse("book_seat", args=[10**12]), {}).status_code == 404


# ---------------------------------------------------------------------------------------
# Query budget
# ---------------------------------------------------------------------------------------


def test_the_type_steps_stay_within_a_fixed_query_budget(coach, consult, ny_client, django_assert_max_num_queries):
    for index in range(12):
        SessionTypeFactory(coach=coach, title=f"Extra {index}")
    for day in range(2, 12):
        services.book_slot(
            client=ClientFactory(), session_type=consult, start=dt.datetime(2026, 12, day, 12, tzinfo=UTC)
        )
    http = signed_in(ny_client)
    types_url = reverse("book_coach", args=[coach.pk])
    day_url = type_url(consult, date="2026-12-02", start=START_PARAM)
    confirm = confirm_url(consult)
    http.get(types_url)  # warm the session
    # Each step with the booking funnel's step: one INSERT after the response (reports.funnel).
    with django_assert_max_num_queries(6):
        assert http.get(types_url).status_code == 200
    # One read more than before client tags: the rules of the client's tags.
    with django_assert_max_num_queries(11):
        assert http.get(day_url).status_code == 200
    # One more than before: the rules of the client's tags (the window's firm-booking flag
    # comes with the availability read when the booking would otherwise be firm); and one
    # more for the consent documents the client has yet to accept (bookings.gates); and one
    # more for the intake forms the session type asks (bookings.gates.asked: none here).
    with django_assert_max_num_queries(14):
        assert http.get(confirm).status_code == 200
