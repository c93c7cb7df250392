"""Every host sees the session: a co-host finds a session they host on their dashboard's
agenda, on their calendar, on the booking's page and in the API, as the coach does; the
requests stay with the session's coach, who answers them. Every page that names the coach
names all the hosts ("Ana Coach and Ben Ito"), and the room with where it is."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from accounts.tests.factories import ClientFactory, CoachFactory, StaffFactory
from availability.models import Allocation, Resource
from availability.rules import decision_text
from bookings import selectors, services
from bookings.models import Booking, BookingEvent, BookingStatus, Session
from bookings.tests.factories import open_coach

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
START = dt.datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # Wed 10:00 in Paris


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def ana():
    coach = open_coach(timezone="Europe/Paris")
    coach.name = "Ana Coach"
    coach.save()
    return coach


@pytest.fixture
def ben():
    coach = open_coach(timezone="Europe/Paris")
    coach.name = "Ben Ito"
    coach.save()
    return coach


@pytest.fixture
def client_user():
    return ClientFactory(name="Cleo Client", timezone="Europe/Paris")


@pytest.fixture
def room_2():
    return Resource.objects.create(name="Room 2", kind="room", capacity=4, location="12 rue X")


def together(ana, ben, room=None, *, kind: str = "one_on_one", capacity: int | None = None, **fields):
    """A type Ana hosts with Ben (and a room, when given)."""
    return services.create_session_type(
        actor=ana,
        coach=ana,
        title="Supervision" if kind == "one_on_one" else "Co-led workshop",
        kind=kind,
        capacity=capacity,
        host_mode="all",
        co_hosts=[ben],
        resource_kind="room" if room else "",
        resources=[room] if room else [],
        **fields,
    )


def signed_in(user) -> Client:
    http = Client()
    http.force_login(user)
    return http


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def booked(ana, ben, client_user, room_2) -> Booking:
    booking = services.book_slot(client=client_user, session_type=together(ana, ben, room_2), start=START)
    assert booking.status == BookingStatus.FIRM_BOOKED
    session = booking.session
    # The booking allocated both hosts and the room: the session is Ana's, Ben co-hosts it.
    assert (session.coach, list(session.co_hosts.all()), session.resource) == (ana, [ben], room_2)
    assert set(Allocation.objects.filter(session=session, is_active=True).values_list("staff", "resource")) == {
        (ana.pk, None),
        (ben.pk, None),
        (None, room_2.pk),
    }
    return booking


# --- the booking's pages ----------------------------------------------------------------------------


def test_a_co_host_sees_the_booking_page_with_every_host_and_the_room_but_no_coachs_actions(booked, ben) -> None:
    html = text(signed_in(ben).get(reverse("booking_detail", args=[booked.reference])))

    assert '<dt>Hosts</dt><dd data-testid="booking-hosts">Ana Coach and Ben Ito</dd>' in html
    assert '<dd data-testid="booking-room">Room 2, 12 rue X</dd>' in html
    assert "You co-host this session. Ana Coach answers requests and changes the booking." in html
    assert 'data-testid="cancel-button"' not in html
    assert 'data-testid="no-show-button"' not in html


def test_the_coach_and_the_client_read_every_host_too_and_a_stranger_gets_a_404(booked, ana, client_user) -> None:
    for person in (ana, client_user, StaffFactory()):
        html = text(signed_in(person).get(reverse("booking_detail", args=[booked.reference])))
        assert '<dd data-testid="booking-hosts">Ana Coach and Ben Ito</dd>' in html
        assert "Room 2, 12 rue X" in html
        assert "You co-host this session" not in html
    assert signed_in(CoachFactory()).get(reverse("booking_detail", args=[booked.reference])).status_code == 404


def test_the_confirmation_page_names_both_hosts_and_the_room(booked, client_user) -> None:
    html = text(signed_in(client_user).get(reverse("booking_done", args=[booked.reference])))
    assert '<dt>Hosts</dt><dd data-testid="done-hosts">Ana Coach and Ben Ito</dd>' in html
    assert '<dd data-testid="done-room">Room 2, 12 rue X</dd>' in html
    assert "It's in the calendars of Ana Coach and Ben Ito." in html


def test_a_single_hosts_pages_say_coach_as_before(ana, client_user) -> None:
    st = services.create_session_type(actor=ana, coach=ana, title="Intro")
    booking = services.book_slot(client=client_user, session_type=st, start=START)
    detail = text(signed_in(client_user).get(reverse("booking_detail", args=[booking.reference])))
    done = text(signed_in(client_user).get(reverse("booking_done", args=[booking.reference])))
    assert '<dt>Coach</dt><dd data-testid="booking-hosts">Ana Coach</dd>' in detail
    assert "Hosts" not in detail
    assert '<dt>Coach</dt><dd data-testid="done-hosts">Ana Coach</dd>' in done
    assert 'data-testid="booking-room"' not in detail


def test_a_co_host_cant_answer_or_change_the_booking(ana, ben, client_user) -> None:
    st = together(ana, ben, approval="always")
    booking = services.book_slot(client=client_user, session_type=st, start=START)
    assert booking.status == BookingStatus.REQUESTED

    response = signed_in(ben).post(reverse("booking_action", args=[booking.reference, "approve"]))
    assert response.status_code == 403
    booking.refresh_from_db()
    assert booking.status == BookingStatus.REQUESTED
    api = signed_in(ben).post(f"/api/v1/bookings/{booking.pk}/approve", "{}", content_type="application/json")
    assert api.status_code == 403


# --- why firm or a request --------------------------------------------------------------------------


def test_the_hosts_read_which_rule_decided_and_the_client_doesnt(booked, ana, ben, client_user) -> None:
    first = booked.events.order_by("created_at", "pk").first()
    decided = decision_text(first.data["decided_by"])
    assert decided  # the booking service records it
    for host in (ana, ben, StaffFactory()):
        html = text(signed_in(host).get(reverse("booking_detail", args=[booked.reference])))
        assert f'<dt>Firm or request</dt><dd data-testid="decided-by">{decided}</dd>' in html
    client_html = text(signed_in(client_user).get(reverse("booking_detail", args=[booked.reference])))
    assert 'data-testid="decided-by"' not in client_html
    # Kept language-neutral: a French host reads it in French, whoever booked.
    assert isinstance(first.data["decided_by"], dict)
    ana.language = "fr"
    ana.save(update_fields=["language"])
    with translation.override("fr"):
        french = decision_text(first.data["decided_by"])
    assert french != decided
    html = text(signed_in(ana).get(reverse("booking_detail", args=[booked.reference])))
    assert f'data-testid="decided-by">{french}</dd>' in html


def test_the_recorded_sentence_is_shown_as_written_and_nothing_when_none_was_recorded(ana, client_user) -> None:
    st = services.create_session_type(actor=ana, coach=ana, title="Intro")
    booking = services.book_slot(client=client_user, session_type=st, start=START)
    first = booking.events.order_by("created_at", "pk").first()
    # What the rules resolution wrote, e.g. for a client tagged VIP (history is append-only:
    # the row is rewritten here only to stand for what another booking recorded).
    BookingEvent.objects.filter(pk=first.pk).update(data={"decided_by": "Firm because VIP"})
    html = text(signed_in(ana).get(reverse("booking_detail", args=[booking.reference])))
    assert '<dd data-testid="decided-by">Firm because VIP</dd>' in html
    # A booking made before the rule was recorded shows no line.
    BookingEvent.objects.filter(pk=first.pk).update(data={})
    html = text(signed_in(ana).get(reverse("booking_detail", args=[booking.reference])))
    assert 'data-testid="decided-by"' not in html


# --- dashboards, requests and the calendar ------------------------------------------------------------


def test_the_co_hosts_agenda_shows_the_session_with_the_other_host_and_the_room(booked, ana, ben) -> None:
    ben_html = text(signed_in(ben).get(reverse("coach_dashboard")))
    ana_html = text(signed_in(ana).get(reverse("coach_dashboard")))

    assert f'data-session="{booked.session_id}"' in ben_html
    assert 'With Ana Coach <span class="muted small">(you co-host)</span> · Room 2, 12 rue X' in ben_html
    assert 'data-testid="start-session-button"' not in ben_html
    assert f'data-session="{booked.session_id}"' in ana_html
    assert "With Ben Ito · Room 2, 12 rue X" in ana_html


def test_requests_stay_in_the_session_coachs_queue_and_show_on_the_co_hosts_agenda(ana, ben, client_user) -> None:
    booking = services.book_slot(client=client_user, session_type=together(ana, ben, approval="always"), start=START)

    assert list(selectors.requests_queue(ana)) == [booking]
    assert list(selectors.requests_queue(ben)) == []
    ben_html = text(signed_in(ben).get(reverse("coach_dashboard")))
    assert 'data-testid="no-requests"' in ben_html
    assert f'data-session="{booking.session_id}"' in ben_html
    assert 'data-testid="request-row"' in text(signed_in(ana).get(reverse("coach_dashboard")))


def test_a_team_session_is_the_chosen_hosts_and_not_the_type_owners(ana, ben, client_user) -> None:
    team = services.create_session_type(actor=ana, coach=ana, title="Intake", host_mode="any", co_hosts=[ben])
    # Ana is busy then, so the team's free member hosts it.
    services.book_slot(
        client=ClientFactory(),
        session_type=services.create_session_type(actor=ana, coach=ana, title="Own"),
        start=START,
    )
    booking = services.book_slot(client=client_user, session_type=team, start=START)

    assert (booking.session.coach, list(booking.session.co_hosts.all())) == (ben, [])
    assert booking.session in selectors.coach_agenda(ben, start=NOW, end=NOW + dt.timedelta(days=7))
    assert booking.session not in selectors.coach_agenda(ana, start=NOW, end=NOW + dt.timedelta(days=7))
    assert signed_in(ben).get(reverse("booking_detail", args=[booking.reference])).status_code == 200
    assert signed_in(ana).get(reverse("booking_detail", args=[booking.reference])).status_code == 404


def test_the_co_hosts_calendar_shows_the_booking_with_the_other_host(booked, ana, ben) -> None:
    week = reverse("coach_calendar_week", args=["2026-11-30"])
    ben_html = text(signed_in(ben).get(week))
    ana_html = text(signed_in(ana).get(week))

    assert reverse("booking_detail", args=[booked.reference]) in ben_html
    assert '<span class="cal-who" data-testid="cal-hosts">with Ana Coach</span>' in ben_html
    assert '<span class="cal-who" data-testid="cal-hosts">with Ben Ito</span>' in ana_html


def test_a_co_hosted_group_session_is_on_every_hosts_rosters_but_only_its_coach_cancels_it(ana, ben, room_2) -> None:
    workshop = together(ana, ben, room_2, kind="workshop", capacity=4)
    session = services.publish_session(actor=ana, session_type=workshop, start=START)
    seat = services.take_seat(client=ClientFactory(name="Dora Client"), session=session)
    assert list(session.co_hosts.all()) == [ben]

    ben_html = text(signed_in(ben).get(reverse("coach_dashboard")))
    assert f'id="roster-{session.pk}"' in ben_html
    assert '<div class="session-meta" data-testid="roster-hosts">With Ana Coach</div>' in ben_html
    roster = ben_html[ben_html.index(f'id="roster-{session.pk}"') :]
    roster = roster[: roster.index("</li>")]
    assert "Room 2, 12 rue X" in roster
    assert "cancel-session-toggle" not in roster
    ana_html = text(signed_in(ana).get(reverse("coach_dashboard")))
    ana_roster = ana_html[ana_html.index(f'id="roster-{session.pk}"') :]
    assert "cancel-session-toggle" in ana_roster[: ana_roster.index("</li>")]
    # The co-host can't cancel it behind the page's back either.
    response = signed_in(ben).post(reverse("session_cancel", args=[session.pk]), {"reason": "No"})
    assert response.status_code == 404
    assert signed_in(ben).get(reverse("booking_detail", args=[seat.reference])).status_code == 200


def test_the_dashboard_and_the_calendar_read_a_fixed_number_of_queries_with_co_hosts(ana, ben) -> None:
    st = together(ana, ben)

    def count(user, url: str) -> int:
        http = signed_in(user)
        with CaptureQueriesContext(connection) as captured:
            assert http.get(url).status_code == 200
        return len(captured.captured_queries)

    week = reverse("coach_calendar_week", args=["2026-11-30"])
    services.book_slot(client=ClientFactory(), session_type=st, start=START)
    few = (count(ben, reverse("coach_dashboard")), count(ben, week))
    for hour in range(10, 16):
        services.book_slot(client=ClientFactory(), session_type=st, start=START.replace(hour=hour))
    many = (count(ben, reverse("coach_dashboard")), count(ben, week))
    assert few == many


# --- the API and the selectors ---------------------------------------------------------------------


def test_the_api_gives_every_host_and_the_room_to_whoever_sees_the_booking(booked, ana, ben, client_user) -> None:
    expected_hosts = [{"id": ana.pk, "name": "Ana Coach"}, {"id": ben.pk, "name": "Ben Ito"}]
    room = {"id": booked.session.resource_id, "name": "Room 2", "location": "12 rue X"}
    for person in (ana, ben, client_user):
        one = signed_in(person).get(f"/api/v1/bookings/{booked.pk}").json()
        assert (one["hosts"], one["room"]) == (expected_hosts, room)
        listed = signed_in(person).get("/api/v1/bookings").json()
        assert [b["reference"] for b in listed] == [booked.reference]
        assert listed[0]["hosts"] == expected_hosts
    assert signed_in(CoachFactory()).get(f"/api/v1/bookings/{booked.pk}").status_code == 404


def test_a_booking_without_a_room_has_room_null(ana, client_user) -> None:
    booking = services.book_slot(
        client=client_user, session_type=services.create_session_type(actor=ana, coach=ana, title="Intro"), start=START
    )
    data = signed_in(client_user).get(f"/api/v1/bookings/{booking.pk}").json()
    assert (data["hosts"], data["room"]) == ([{"id": ana.pk, "name": "Ana Coach"}], None)


def test_a_session_with_several_co_hosts_is_listed_once(ana, ben, client_user) -> None:
    cleo = open_coach()
    st = services.create_session_type(actor=ana, coach=ana, title="Panel", host_mode="all", co_hosts=[ben, cleo])
    booking = services.book_slot(client=client_user, session_type=st, start=START)

    for person in (ana, ben, cleo, client_user):
        assert list(selectors.bookings_visible_to(person)) == [booking]
        assert list(selectors.sessions_visible_to(person).filter(pk=booking.session_id)) == [booking.session]
    by_name = sorted([ben, cleo], key=lambda host: (host.display_name.casefold(), host.pk))
    assert selectors.hosts_of(booking.session) == [ana, *by_name]  # the coach first
    assert selectors.upcoming_group_sessions(host=ben).count() == 0
    api = json.loads(signed_in(cleo).get("/api/v1/bookings").content)
    assert [b["reference"] for b in api] == [booking.reference]
    assert Session.objects.filter(pk=booking.session_id, co_hosts=cleo).exists()
