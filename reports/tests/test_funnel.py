"""The booking funnel recorded on the server: each step of the wizard and the API, with the
coach and type, the user's id and a hash of the browser session — and nothing when the
page isn't one of the booking's; old events pruned."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.test import Client, override_settings
from django.urls import reverse

from accounts.tests.factories import ClientFactory, make_token
from bookings import services
from bookings.models import Booking
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach
from reports.models import AnalyticsEvent, FunnelStep
from reports.tasks import prune_analytics

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
START = dt.datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # Wednesday 10:00 in Paris
START_PARAM = "2026-12-02T09:00:00Z"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def consult():
    return SessionTypeFactory(coach=open_coach(timezone="Europe/Paris"), title="Consultation")


def steps() -> list[tuple[str, dict]]:
    return [(event.name, event.data) for event in AnalyticsEvent.objects.order_by("pk")]


def test_the_wizard_records_each_step_of_a_booking(consult):
    person = ClientFactory()
    http = Client()
    http.force_login(person)
    coach_url = reverse("book_coach", args=[consult.coach_id])
    type_url = reverse("book_type", args=[consult.coach_id, consult.pk])
    http.get(coach_url + "?all=1")
    http.get(type_url)
    http.get(type_url + "?date=2026-12-02")
    http.get(type_url + f"?date=2026-12-02&start={START_PARAM}")
    confirm = reverse("book_confirm", args=[consult.coach_id, consult.pk]) + f"?start={START_PARAM}"
    assert http.post(confirm, {"notes": "", "reminders": "on"}).status_code in (302, 303)
    assert Booking.objects.filter(client=person).exists()

    assert [name for name, _data in steps()] == [
        FunnelStep.PAGE_VIEW,
        FunnelStep.ST_SELECTED,
        FunnelStep.DATE_SELECTED,
        FunnelStep.TIME_SELECTED,
        FunnelStep.BOOKING_ATTEMPTED,
        FunnelStep.BOOKING_SUCCESS,
    ]
    events = list(AnalyticsEvent.objects.all())
    assert {event.user_id for event in events} == {person.pk}
    assert len({event.visitor for event in events}) == 1 and len(events[0].visitor) == 32
    assert {event.coach_id for event in events} == {consult.coach_id}
    assert {event.session_type_id for event in events[1:]} == {consult.pk}
    assert steps()[2][1] == {"date": "2026-12-02"} and steps()[3][1] == {"time": START_PARAM}
    # No personal data beyond the user's id: no name, email, address or notes anywhere.
    assert person.email not in json.dumps([event.data for event in events])


def test_a_refused_booking_records_the_refusals_code(consult):
    services.book_slot(client=ClientFactory(), session_type=consult, start=START)  # taken meanwhile
    http = Client()
    http.force_login(ClientFactory())
    confirm = reverse("book_confirm", args=[consult.coach_id, consult.pk]) + f"?start={START_PARAM}"
    http.post(confirm, {"notes": "", "reminders": "on"})
    assert steps() == [
        (FunnelStep.BOOKING_ATTEMPTED, {}),
        (FunnelStep.BOOKING_FAILED, {"error_type": "slot_taken"}),
    ]


def test_schedule_later_and_a_full_seat(consult):
    person = ClientFactory()
    http = Client()
    http.force_login(person)
    http.post(reverse("book_later", args=[consult.coach_id, consult.pk]))
    group = GroupTypeFactory(coach=consult.coach, capacity=1)
    session = services.publish_session(actor=consult.coach, session_type=group, start=START + dt.timedelta(hours=3))
    services.take_seat(client=ClientFactory(), session=session)
    http.post(reverse("book_seat", args=[session.pk]), {"notes": "", "reminders": "on"})
    assert [(name, data) for name, data in steps()] == [
        (FunnelStep.SCHEDULE_LATER, {}),
        (FunnelStep.BOOKING_ATTEMPTED, {}),
        (FunnelStep.BOOKING_FAILED, {"error_type": "full"}),
    ]
    failed = AnalyticsEvent.objects.get(name=FunnelStep.BOOKING_FAILED)
    assert (failed.coach_id, failed.session_type_id) == (consult.coach_id, group.pk)


def test_the_api_records_attempts_and_outcomes(consult):
    person = ClientFactory()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {make_token(person)[1]}"}
    body = {"coach": consult.coach_id, "session_type": consult.pk, "start": START_PARAM}
    first = Client().post("/api/v1/bookings", json.dumps(body), content_type="application/json", **auth)
    assert first.status_code == 201, first.content
    again = Client().post("/api/v1/bookings", json.dumps(body), content_type="application/json", **auth)
    assert again.status_code == 409
    made = [(e.name, e.via, e.coach_id, e.session_type_id, e.data) for e in AnalyticsEvent.objects.all()]
    coach, st = consult.coach_id, consult.pk
    assert made == [
        (FunnelStep.BOOKING_ATTEMPTED, "api", coach, st, {}),
        (FunnelStep.BOOKING_SUCCESS, "api", coach, st, {}),
        (FunnelStep.BOOKING_ATTEMPTED, "api", coach, st, {}),
        (FunnelStep.BOOKING_FAILED, "api", coach, st, {"error_type": "slot_taken"}),
    ]


def test_other_pages_record_nothing(consult):
    http = Client()
    http.force_login(ClientFactory())
    http.get("/dashboard/")
    http.get("/profile/")
    http.get(reverse("book_coach", args=[10**9]))  # a 404 is no page view
    assert not AnalyticsEvent.objects.exists()


@override_settings(ANALYTICS_RETENTION_DAYS=400)
def test_events_older_than_the_retention_are_pruned(consult):
    old = AnalyticsEvent.objects.create(name=FunnelStep.PAGE_VIEW, created_at=NOW - dt.timedelta(days=401))
    kept = AnalyticsEvent.objects.create(name=FunnelStep.PAGE_VIEW, created_at=NOW - dt.timedelta(days=399))
    assert prune_analytics(chunk=1) == 1
    assert list(AnalyticsEvent.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not AnalyticsEvent.objects.filter(pk=old.pk).exists()


def test_a_malformed_day_or_time_is_no_choice(consult):
    http = Client()
    http.force_login(ClientFactory())
    type_url = reverse("book_type", args=[consult.coach_id, consult.pk])
    for query in ("?start=%00", "?start=tomorrow", "?date=2026-13-40", "?date=%00"):
        http.get(type_url + query)
    http.get(reverse("book_coach", args=[consult.coach_id]) + "?type=%00&all=1")
    assert {name for name, _data in steps()} == {FunnelStep.ST_SELECTED, FunnelStep.PAGE_VIEW}
    assert all(data == {} for _name, data in steps())
