"""The calendar's addresses: the private feed (secrets, 404s, ETag/304), rotating it from
the profile and the API, the per-booking .ics download, and the add-to-calendar buttons."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.http import http_date
from icalendar import Calendar

from accounts.tests.factories import ClientFactory, GuardianLinkFactory, StaffFactory, make_token
from bookings import services
from bookings.tests.factories import SessionTypeFactory, open_coach
from notifications import feeds
from notifications.calendar_views import ROTATED_MESSAGE
from notifications.models import CalendarFeed

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
START = dt.datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # 10:00 in New York
DAY = dt.timedelta(days=1)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def coach():
    return open_coach(timezone="America/New_York")


@pytest.fixture
def client_user():
    return ClientFactory(name="Arjun Client", timezone="Asia/Kolkata")


@pytest.fixture
def booking(coach, client_user):
    session_type = SessionTypeFactory(coach=coach, title="Career consultation")
    return services.book_slot(client=client_user, session_type=session_type, start=START)


def signed_in(user) -> Client:
    http = Client()
    http.force_login(user)
    return http


def feed_path(user) -> str:
    return reverse("calendar_feed", args=[feeds.feed_of(user).secret])


def uids(body: bytes) -> list[str]:
    return [str(event["UID"]) for event in Calendar.from_ical(body).walk("VEVENT")]


# --- secrets ----------------------------------------------------------------------------------


def test_a_feed_secret_is_random_url_safe_and_found_again(client_user):
    feed = feeds.feed_of(client_user)
    assert len(feed.lookup) == 12 and len(feed.verifier) >= 43
    assert feeds.feed_of(client_user).pk == feed.pk, "made once"
    other = feeds.feed_of(ClientFactory())
    assert other.lookup != feed.lookup and other.verifier != feed.verifier
    assert feeds.user_for_secret(feed.secret) == client_user
    assert feeds.feed_url(client_user) == f"http://127.0.0.1:8000/calendar/{feed.secret}.ics"
    assert feeds.feed_addresses(client_user)[1] == f"webcal://127.0.0.1:8000/calendar/{feed.secret}.ics"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda s: s[:-1] + ("A" if s[-1] != "A" else "B"),  # right lookup, wrong verifier
        lambda s: ("x" if s[0] != "x" else "y") + s[1:],  # wrong lookup, right verifier
        lambda s: s[:12],  # lookup alone
        lambda s: s[:-1],  # one character short
        lambda s: s + "A" * 30,  # too long
        lambda s: s[:20] + "!" + s[21:],  # a character outside the alphabet
        lambda s: s[:20] + "é" + s[21:],
        lambda s: s[:20] + "\x00" + s[21:],
        lambda s: "",
        lambda s: None,
        lambda s: 12345,
    ],
)
def test_anything_but_the_secret_finds_no_one(client_user, mangle):
    secret = feeds.feed_of(client_user).secret
    assert feeds.user_for_secret(mangle(secret)) is None


def test_a_rotated_secret_finds_no_one_and_the_new_one_does(client_user):
    old = feeds.feed_of(client_user).secret
    feed = feeds.rotate_feed(client_user)
    assert feed.secret != old and feed.rotated_at == NOW
    assert feeds.user_for_secret(old) is None
    assert feeds.user_for_secret(feed.secret) == client_user
    assert CalendarFeed.objects.filter(user=client_user).count() == 1


def test_an_inactive_account_has_no_feed(client_user):
    secret = feeds.feed_of(client_user).secret
    client_user.is_active = False
    client_user.save()
    assert feeds.user_for_secret(secret) is None


# --- the feed over HTTP -------------------------------------------------------------------------


def test_the_feed_answers_without_a_login(booking, client_user):
    response = Client().get(feed_path(client_user))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "private, max-age=300"
    assert response["ETag"].startswith('"')
    assert response["Last-Modified"] == http_date(NOW.timestamp())
    assert uids(response.content) == [f"booking-{booking.pk}@127.0.0.1"]


def test_every_wrong_address_gets_the_same_404(booking, client_user):
    secret = feeds.feed_of(client_user).secret
    http = Client()
    wrong = [
        secret[:-1] + ("A" if secret[-1] != "A" else "B"),
        "A" * 55,
        "short",
        "x" * 300,
        "%00" + secret[3:],
        "%C3%A9" * 20,
        "..%2F..%2Fetc",
    ]
    rotated = secret
    feeds.rotate_feed(client_user)
    answers = set()
    for value in [*wrong, rotated]:
        response = http.get(f"/calendar/{value}.ics")
        assert response.status_code == 404, value
        answers.add((response["Content-Type"], response.content))
    assert len(answers) == 1, "no answer tells one wrong address from another"
    assert http.get(feed_path(client_user)).status_code == 200


def test_304_when_nothing_changed_and_200_after_a_change(booking, client_user, frozen):
    http = Client()
    path = feed_path(client_user)
    first = http.get(path)
    etag, last_modified = first["ETag"], first["Last-Modified"]

    same = http.get(path, HTTP_IF_NONE_MATCH=etag)
    assert same.status_code == 304 and same.content == b""
    assert same["ETag"] == etag
    assert http.get(path, HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 304
    assert http.head(path, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert http.post(path).status_code == 405

    frozen.move_to(NOW + dt.timedelta(hours=1))
    services.cancel(booking=booking, actor=client_user)
    changed = http.get(path, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert b"STATUS:CANCELLED" in changed.content
    assert http.get(path, HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 200


@pytest.mark.parametrize("count", [3, 30])
def test_the_feed_request_reads_a_fixed_number_of_queries(coach, count):
    session_type = SessionTypeFactory(coach=coach)
    clients = [ClientFactory() for _ in range(3)]
    for n in range(count):
        services.book_slot(client=clients[n % 3], session_type=session_type, start=START + n * DAY)
    path = feed_path(coach)
    http = Client()
    with CaptureQueriesContext(connection) as captured:
        response = http.get(path)
    assert len(uids(response.content)) == count
    # The secret (1), the version (2), the events (1 + 2 for a coach's group sessions).
    assert len(captured.captured_queries) == 6
    with CaptureQueriesContext(connection) as captured:
        assert http.get(path, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    assert len(captured.captured_queries) == 3


# --- rotating from the profile and the API ------------------------------------------------------


def test_the_profile_shows_the_feed_and_rotates_it(client_user):
    http = signed_in(client_user)
    page = http.get(reverse("profile"))
    assert page.status_code == 200
    url = feeds.feed_url(client_user)
    html = page.content.decode()
    assert 'data-testid="calendar-feed"' in html
    assert f'value="{url}"' in html and "readonly" in html
    assert "Subscribe in Google Calendar" in html and "Apple Calendar" in html and "Outlook" in html
    assert feeds.feed_addresses(client_user)[1] in html

    response = http.post(reverse("calendar_rotate"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("profile") + "#calendar-feed"
    assert ROTATED_MESSAGE in response.content.decode()
    new_url = feeds.feed_url(client_user)
    assert new_url != url and f'value="{new_url}"' in response.content.decode()
    assert Client().get(url.removeprefix("http://127.0.0.1:8000")).status_code == 404


def test_rotating_needs_a_signed_in_post(client_user):
    secret = feeds.feed_of(client_user).secret
    assert Client().post(reverse("calendar_rotate")).status_code == 302  # to the login page
    assert signed_in(client_user).get(reverse("calendar_rotate")).status_code == 405
    assert feeds.feed_of(client_user).secret == secret


def test_the_api_gives_the_feed_and_a_new_one(booking, client_user):
    http = signed_in(client_user)
    response = http.get("/api/v1/me/calendar-feed")
    assert response.status_code == 200
    body = response.json()
    assert body == {"url": feeds.feed_url(client_user), "webcal_url": feeds.feed_addresses(client_user)[1]}
    path = body["url"].removeprefix("http://127.0.0.1:8000")
    assert Client().get(path).status_code == 200

    rotated = http.post("/api/v1/me/calendar-feed/rotate")
    assert rotated.status_code == 200
    assert rotated.json()["url"] != body["url"]
    assert rotated.json()["webcal_url"].startswith("webcal://")
    assert Client().get(path).status_code == 404
    assert Client().get(rotated.json()["url"].removeprefix("http://127.0.0.1:8000")).status_code == 200


def test_the_api_with_a_token_and_without_one(client_user):
    _, raw = make_token(client_user)
    response = Client().get("/api/v1/me/calendar-feed", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    assert response.json()["url"] == feeds.feed_url(client_user)
    anonymous = Client().get("/api/v1/me/calendar-feed")
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "unauthenticated"
    assert Client().post("/api/v1/me/calendar-feed/rotate").status_code == 401


# --- one booking's .ics -------------------------------------------------------------------------


def test_the_ics_download_for_those_who_may_see_the_booking(booking, coach, client_user):
    path = reverse("booking_ics", args=[booking.reference])
    assert path == f"/bookings/{booking.reference}/calendar.ics"
    guardian = ClientFactory(timezone="Europe/London")
    GuardianLinkFactory(guardian=guardian, dependent=client_user)
    for user, zone in ((client_user, "Asia/Kolkata"), (coach, "America/New_York"), (guardian, "Europe/London")):
        response = signed_in(user).get(path)
        assert response.status_code == 200
        assert response["Content-Type"] == "text/calendar; charset=utf-8"
        assert response["Content-Disposition"] == f'attachment; filename="{booking.reference}.ics"'
        calendar = Calendar.from_ical(response.content)
        event = next(iter(calendar.walk("VEVENT")))
        assert str(event["UID"]) == f"booking-{booking.pk}@127.0.0.1"
        assert event["DTSTART"].params["TZID"] == zone
        assert event.decoded("DTSTART").astimezone(UTC) == START
        assert calendar.get_missing_tzids() == set()
    assert signed_in(StaffFactory()).get(path).status_code == 200

    assert signed_in(ClientFactory()).get(path).status_code == 404
    assert signed_in(open_coach()).get(path).status_code == 404
    assert Client().get(path).status_code == 302  # sign in first
    for bad in ("BK-2026-999999", "BK-2026-000001%00", "nope", "1"):
        assert signed_in(client_user).get(f"/bookings/{bad}/calendar.ics").status_code == 404


# --- add-to-calendar buttons --------------------------------------------------------------------


def test_add_to_calendar_on_the_confirmation_and_the_booking_page(booking, client_user):
    http = signed_in(client_user)
    for name in ("booking_done", "booking_detail"):
        html = http.get(reverse(name, args=[booking.reference])).content.decode()
        assert 'data-testid="add-to-calendar"' in html, name
        assert "https://calendar.google.com/calendar/render?action=TEMPLATE" in html
        assert "dates=20261202T150000Z%2F20261202T160000Z" in html
        assert "https://outlook.live.com/calendar/0/deeplink/compose?" in html
        assert "startdt=2026-12-02T15%3A00%3A00Z" in html
        assert f'href="/bookings/{booking.reference}/calendar.ics"' in html

    services.cancel(booking=booking, actor=client_user)
    html = http.get(reverse("booking_detail", args=[booking.reference])).content.decode()
    assert 'data-testid="add-to-calendar"' not in html
