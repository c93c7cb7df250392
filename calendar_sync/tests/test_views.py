"""The coach's connected calendars page: who may see it, connecting (and what a wrong
address is told), reading now, removing, another coach's calendars out of reach, the
bookings a calendar contradicts listed."""

from __future__ import annotations

import socket

import pytest
from django.test import Client

from accounts.tests.factories import ClientFactory, CoachFactory, StaffFactory
from availability.models import Allocation
from calendar_sync.models import CalendarConnection
from calendar_sync.tests.fake_calendar import calendar, event
from calendar_sync.tests.test_ics import WEEKLY

pytestmark = pytest.mark.django_db

PAGE = "/coach/calendars/"
# Every Monday at 10:00 Paris, for ever: whatever today is, there are busy times ahead.
WEEKLY_FOREVER = calendar(
    event("weekly@example.com", "DTSTART;TZID=Europe/Paris:20260105T100000", "DURATION:PT1H", "RRULE:FREQ=WEEKLY")
)


def signed_in(user) -> Client:
    http = Client()
    http.force_login(user)
    return http


def test_only_coaches_have_the_page():
    assert Client().get(PAGE).status_code == 302
    for user in (ClientFactory(), StaffFactory()):
        assert signed_in(user).get(PAGE).status_code == 404
    page = signed_in(CoachFactory()).get(PAGE)
    assert page.status_code == 200
    assert b"No calendar connected yet" in page.content


def test_a_coach_connects_a_calendar_and_sees_when_it_was_read(calendars):
    coach = CoachFactory(timezone="Europe/Paris")
    http = signed_in(coach)
    url = calendars.put("/secret/abc123def456/basic.ics", WEEKLY_FOREVER)
    response = http.post(PAGE, {"name": "Personal", "url": url, "all_day_busy": "on"}, follow=True)
    assert response.status_code == 200
    text = response.content.decode()
    assert "“Personal” is connected" in text
    connection = CalendarConnection.objects.get(coach=coach)
    assert connection.events >= 52 and connection.last_synced_at is not None
    assert Allocation.objects.filter(calendar=connection).count() == connection.events
    assert "Read just now" in text
    assert "abc123def456" not in text  # the secret part of the address is not shown again

    # Read now, then remove.
    response = http.post(f"{PAGE}{connection.pk}/sync/", follow=True)
    assert "“Personal” read" in response.content.decode()
    response = http.post(f"{PAGE}{connection.pk}/remove/", follow=True)
    assert "no longer connected" in response.content.decode()
    assert not CalendarConnection.objects.exists() and not Allocation.objects.filter(calendar__isnull=False).exists()


def test_a_webcal_address_is_read_as_https(settings):
    from config.outbound import check_address

    settings.OUTBOUND_ALLOW_PRIVATE = True
    assert check_address("webcal://localhost/published/2/abc") == "https://localhost/published/2/abc"


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("", "This field is required"),
        ("ftp://example.com/cal.ics", "starts with https://"),
        ("just words", "starts with https://"),
        ("http://127.0.0.1/cal.ics", "private network"),
        ("https://calendar.example.test/cal.ics", "No server was found"),
    ],
)
def test_a_wrong_address_is_told_next_to_the_field(settings, monkeypatch, url, said):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    real = socket.getaddrinfo

    def resolve(host, *args, **kwargs):  # no name server is asked from a test
        if host.endswith(".test"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    response = signed_in(CoachFactory()).post(PAGE, {"name": "Mine", "url": url})
    assert response.status_code == 400
    assert said in response.content.decode()
    assert not CalendarConnection.objects.exists()


def test_a_calendar_that_fails_at_once_is_connected_with_the_reason_shown(calendars):
    coach = CoachFactory()
    url = calendars.put("/page.ics", "<html>Sign in</html>")
    response = signed_in(coach).post(PAGE, {"name": "Work", "url": url}, follow=True)
    text = response.content.decode()
    assert "could not be read yet" in text
    assert "not iCalendar data" in text
    assert CalendarConnection.objects.get(coach=coach).last_error


def test_the_same_calendar_twice_is_refused(calendars):
    coach = CoachFactory()
    url = calendars.put("/me.ics", WEEKLY)
    http = signed_in(coach)
    http.post(PAGE, {"name": "Me", "url": url})
    response = http.post(PAGE, {"name": "Me again", "url": url})
    assert response.status_code == 400
    assert "connected already" in response.content.decode()


def test_another_coachs_calendar_is_out_of_reach(calendars):
    owner = CoachFactory()
    connection = CalendarConnection.objects.create(coach=owner, name="Private", url=calendars.put("/o.ics", WEEKLY))
    other = signed_in(CoachFactory())
    assert other.post(f"{PAGE}{connection.pk}/sync/").status_code == 404
    assert other.post(f"{PAGE}{connection.pk}/remove/").status_code == 404
    assert "Private" not in other.get(PAGE).content.decode()
    assert CalendarConnection.objects.filter(pk=connection.pk).exists()
    assert signed_in(owner).get(f"{PAGE}{connection.pk}/sync/").status_code == 405
