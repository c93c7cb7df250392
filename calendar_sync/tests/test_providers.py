"""Google Calendar and Microsoft Graph accounts, against local fakes of their APIs and
token endpoints (127.0.0.1; never the internet): the OAuth flow through the pages (a
forged or stale state refused in plain words, the code exchanged with its PKCE verifier,
the tokens kept encrypted); busy times block exactly their slots (recurring occurrences as
the API returns them, all-day in the coach's zone, free, cancelled and declined events
leaving the time free, our own events never read back, every page read); bookings written,
moved, hidden and deleted through each API with nobody invited; the access token renewed
when it runs out or is refused; access withdrawn said in plain words, and connecting again
mends it. With no credentials configured (the demo) nothing of this shows."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from accounts.tests.factories import ClientFactory
from availability.models import Allocation, AllocationKind
from availability.selectors import free_slots
from bookings import relay
from bookings import services as booking_services
from bookings.tests.factories import SessionTypeFactory, open_coach
from calendar_sync import oauth, services, writer
from calendar_sync.models import CalendarConnection, WrittenEvent
from calendar_sync.providers.microsoft import OURS as MS_OURS
from calendar_sync.tests.fake_api import CLIENT_ID, CLIENT_SECRET
from calendar_sync.tests.fake_google import FakeGoogle
from calendar_sync.tests.fake_microsoft import OWNER, FakeMicrosoft, utc
from config import crypto

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2026, 10, 15, 12, tzinfo=dt.UTC)
EVERY_HOUR = list(range(9, 17))
PAGE = "/coach/calendars/"
PRIMARY = "ana@example.com"
WITHDRAWN_GOOGLE = "Google access was withdrawn: connect again."
WITHDRAWN_MICROSOFT = "Microsoft access was withdrawn: connect again."


def paris(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)


@pytest.fixture
def coach():
    return open_coach(timezone="Europe/Paris", hours=(9, 17), booking_window_days=120)


@pytest.fixture
def talk(coach):
    return SessionTypeFactory(coach=coach, title="Talk", duration_minutes=60)


@pytest.fixture
def google(settings):
    fake = FakeGoogle()
    settings.GOOGLE_CLIENT_ID = CLIENT_ID
    settings.GOOGLE_CLIENT_SECRET = CLIENT_SECRET
    settings.GOOGLE_OAUTH_AUTHORIZE_URL = f"{fake.base}/o/oauth2/v2/auth"
    settings.GOOGLE_OAUTH_TOKEN_URL = f"{fake.base}/token"
    settings.GOOGLE_API_URL = f"{fake.base}/calendar/v3"
    fake.add_calendar(PRIMARY, "Ana", primary=True)
    yield fake
    fake.stop()


@pytest.fixture
def microsoft(settings):
    fake = FakeMicrosoft()
    settings.MICROSOFT_CLIENT_ID = CLIENT_ID
    settings.MICROSOFT_CLIENT_SECRET = CLIENT_SECRET
    settings.MICROSOFT_OAUTH_AUTHORIZE_URL = f"{fake.base}/common/oauth2/v2.0/authorize"
    settings.MICROSOFT_OAUTH_TOKEN_URL = f"{fake.base}/token"
    settings.MICROSOFT_API_URL = f"{fake.base}/v1.0"
    fake.add_calendar("AAMkCal=", "Calendar", default=True)
    yield fake
    fake.stop()


def hours_free(coach, talk, day: dt.date) -> list[int]:
    slots = free_slots(coach=coach, start_date=day, end_date=day, viewer_tz=PARIS, session_type=talk, now=NOW)
    return [slot.start.astimezone(PARIS).hour for slot in slots]


def connect(fake, kind: str, coach) -> CalendarConnection:
    """The coach allows access (the consent page's part done by the fake) and is connected."""
    session: dict = {}
    found = oauth.app(kind)
    answer = fake.consent(oauth.begin(session, found))
    tokens = oauth.finish(session, found, state=answer["state"], code=answer["code"])
    return services.connect_oauth(coach, found, tokens, now=NOW)


def write_all() -> int:
    relay.relay_pending()
    return writer.write_pending(now=NOW)


def signed_in(user) -> Client:
    http = Client()
    http.force_login(user)
    return http


def flashes(page) -> str:
    return " ".join(str(message) for message in page.context["messages"])


# ---------------------------------------------------------------------------------------
# What shows, and the OAuth flow through the pages
# ---------------------------------------------------------------------------------------


def test_without_credentials_nothing_changes_and_the_connect_pages_are_not_there(coach):
    http = signed_in(coach)
    page = http.get(PAGE).content.decode()
    assert "Connect Google Calendar" not in page and "Connect Outlook" not in page
    assert http.get("/coach/calendars/connect/google/").status_code == 404
    assert http.get("/coach/calendars/oauth/microsoft/callback/?code=x&state=y").status_code == 404


def test_only_the_configured_provider_has_a_button(google, coach):
    page = signed_in(coach).get(PAGE).content.decode()
    assert "Connect Google Calendar" in page and "Connect Outlook" not in page


@pytest.mark.parametrize("kind", ["google", "microsoft"])
def test_the_oauth_flow_through_the_pages(request, kind, coach, settings):
    fake = request.getfixturevalue(kind)
    http = signed_in(coach)
    start = http.get(f"/coach/calendars/connect/{kind}/")
    assert start.status_code == 302
    location = start["Location"]
    query = {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}
    assert location.startswith(fake.base)
    assert query["redirect_uri"] == f"{settings.SITE_URL}/coach/calendars/oauth/{kind}/callback/"
    assert query["code_challenge_method"] == "S256" and len(query["state"]) >= 32
    if kind == "google":
        assert query["scope"].split() == [
            "https://www.googleapis.com/auth/calendar.events",
            "https://www.googleapis.com/auth/calendar.readonly",
        ]
        assert query["access_type"] == "offline"
    else:
        assert query["scope"].split() == ["offline_access", "Calendars.ReadWrite"]
    answer = fake.consent(location)

    # An answer whose state is not the one this session started: refused, nothing kept.
    odd = http.get(f"/coach/calendars/oauth/{kind}/callback/", {"code": answer["code"], "state": "é"})
    assert odd.status_code == 302  # not ASCII: refused like any other
    fake.consent(http.get(f"/coach/calendars/connect/{kind}/")["Location"])
    forged = http.get(f"/coach/calendars/oauth/{kind}/callback/", {"code": answer["code"], "state": "forged"})
    assert forged.status_code == 302
    page = http.get(PAGE)
    assert "does not belong to a connection started here" in flashes(page)
    assert not CalendarConnection.objects.exists() and fake.token_requests == []
    # The state is used once: the real answer after the forged one is refused too.
    http.get(f"/coach/calendars/oauth/{kind}/callback/", answer)
    assert not CalendarConnection.objects.exists()

    # The coach starts again and allows access: connected, the main calendar written into.
    answer = fake.consent(http.get(f"/coach/calendars/connect/{kind}/")["Location"])
    done = http.get(f"/coach/calendars/oauth/{kind}/callback/", answer)
    assert done.status_code == 302
    page = http.get(PAGE)
    assert "is connected" in flashes(page)
    listing = page.content.decode()
    assert "Your bookings are written into" in listing and "Calendars and writing" in listing
    connection = CalendarConnection.objects.get(coach=coach)
    assert connection.kind == kind and connection.last_error == "" and connection.last_synced_at
    assert connection.username == (PRIMARY if kind == "google" else OWNER)
    assert connection.write_url == (PRIMARY if kind == "google" else "AAMkCal=")
    assert [item["read"] for item in connection.calendars] == [True]
    [exchange] = fake.token_requests
    assert exchange["grant_type"] == "authorization_code" and exchange["code_verifier"]
    # The tokens are kept encrypted: no column of the row holds them.
    row = str(CalendarConnection.objects.filter(pk=connection.pk).values().get())
    assert fake.access and fake.refresh
    for token in fake.access | fake.refresh:
        assert token not in row and token not in page.content.decode()
    saved = crypto.decrypt(connection.token_encrypted)
    assert all(token in saved for token in fake.refresh)


def test_a_refused_consent_or_a_bad_code_is_said_plainly(google, coach):
    http = signed_in(coach)
    answer = google.consent(http.get("/coach/calendars/connect/google/")["Location"])
    http.get("/coach/calendars/oauth/google/callback/", {"error": "access_denied", "state": answer["state"]})
    assert "Google did not give access to your calendars" in flashes(http.get(PAGE))
    answer = google.consent(http.get("/coach/calendars/connect/google/")["Location"])
    http.get("/coach/calendars/oauth/google/callback/", {"code": "not-a-code", "state": answer["state"]})
    assert "Google did not accept this sign-in" in flashes(http.get(PAGE))
    assert not CalendarConnection.objects.exists()


def test_the_pkce_verifier_must_match_the_challenge(google):
    session: dict = {}
    found = oauth.app("google")
    answer = google.consent(oauth.begin(session, found))
    session[oauth.SESSION_KEY]["verifier"] = "another-verifier-than-the-challenged-one-0123456789-abcdefghijkl"
    with pytest.raises(oauth.OAuthError):
        oauth.finish(session, found, state=answer["state"], code=answer["code"])


# ---------------------------------------------------------------------------------------
# Busy times
# ---------------------------------------------------------------------------------------


def g_time(moment: dt.datetime) -> dict:
    return {"dateTime": moment.isoformat(), "timeZone": "Europe/Paris"}


def test_google_busy_times_block_exactly_their_slots(google, coach, talk):
    family = google.add_calendar("family@group.calendar.google.com", "Family")
    # A weekly 10:00 in Paris as Google returns it expanded: across the change of time,
    # the 26th moved to 15:00, 2 November deleted from the series (not returned).
    for start in (paris(2026, 10, 19, 10), paris(2026, 10, 26, 15), paris(2026, 11, 9, 10)):
        google.add_event(
            PRIMARY,
            iCalUID="weekly@google.com",
            recurringEventId="weekly",
            start=g_time(start),
            end=g_time(start + dt.timedelta(hours=1)),
        )
    google.add_event(PRIMARY, start={"date": "2026-11-11"}, end={"date": "2026-11-12"})
    google.add_event(
        PRIMARY, transparency="transparent", start=g_time(paris(2026, 10, 21, 14)), end=g_time(paris(2026, 10, 21, 15))
    )
    google.add_event(
        PRIMARY, status="cancelled", start=g_time(paris(2026, 10, 22, 10)), end=g_time(paris(2026, 10, 22, 11))
    )
    google.add_event(
        PRIMARY,
        attendees=[{"email": PRIMARY, "self": True, "responseStatus": "declined"}],
        start=g_time(paris(2026, 10, 22, 14)),
        end=g_time(paris(2026, 10, 22, 15)),
    )
    # Our own events (a booking written before): by their UID, or by the private property.
    google.add_event(
        PRIMARY,
        iCalUID="booking-999@127.0.0.1",
        start=g_time(paris(2026, 10, 23, 11)),
        end=g_time(paris(2026, 10, 23, 12)),
    )
    google.add_event(
        PRIMARY,
        extendedProperties={"private": {"bookingUid": "session-5@127.0.0.1"}},
        start=g_time(paris(2026, 10, 23, 14)),
        end=g_time(paris(2026, 10, 23, 15)),
    )
    google.add_event(family, start={"dateTime": "2026-10-20T12:00:00Z"}, end={"dateTime": "2026-10-20T13:00:00Z"})

    connection = connect(google, "google", coach)
    assert connection.last_error == "" and connection.events == 5
    assert [item["name"] for item in connection.calendars] == ["Ana", "Family"]
    assert hours_free(coach, talk, dt.date(2026, 10, 19)) == [h for h in EVERY_HOUR if h != 10]
    assert hours_free(coach, talk, dt.date(2026, 10, 26)) == [h for h in EVERY_HOUR if h != 15]
    assert hours_free(coach, talk, dt.date(2026, 11, 2)) == EVERY_HOUR
    assert hours_free(coach, talk, dt.date(2026, 11, 9)) == [h for h in EVERY_HOUR if h != 10]
    assert hours_free(coach, talk, dt.date(2026, 11, 11)) == []
    assert hours_free(coach, talk, dt.date(2026, 10, 20)) == [h for h in EVERY_HOUR if h != 14]
    for day in (21, 22, 23):
        assert hours_free(coach, talk, dt.date(2026, 10, day)) == EVERY_HOUR
    events_read = [seen for seen in google.api("GET") if seen.path.endswith("/events")]
    assert all(seen.query["singleEvents"] == "true" for seen in events_read)
    assert any(seen.query.get("pageToken") for seen in events_read)  # every page read

    # All-day events left free, free events made busy: read again at once.
    services.set_options(connection, all_day_busy=False, free_busy=True, now=NOW)
    assert hours_free(coach, talk, dt.date(2026, 11, 11)) == EVERY_HOUR
    assert hours_free(coach, talk, dt.date(2026, 10, 21)) == [h for h in EVERY_HOUR if h != 14]

    # An event deleted in Google frees its time at the next read; a calendar unticked too.
    google.calendars[PRIMARY]["events"].clear()
    services.set_caldav_calendars(connection, read=[PRIMARY], write_url=PRIMARY, private=False)
    outcome = services.sync(connection, now=NOW + dt.timedelta(minutes=5))
    assert outcome.ok and outcome.changed
    assert not Allocation.objects.filter(kind=AllocationKind.EXTERNAL).exists()


def test_microsoft_busy_times_block_exactly_their_slots(microsoft, coach, talk):
    other = microsoft.add_calendar("AAMkOther", "Birthdays and more")
    for start in (paris(2026, 10, 19, 10), paris(2026, 10, 26, 15), paris(2026, 11, 9, 10)):
        microsoft.add_event(
            "AAMkCal=",
            type="occurrence",
            seriesMasterId="AAMkSeries",
            start=utc(start),
            end=utc(start + dt.timedelta(hours=1)),
        )
    microsoft.add_event(
        "AAMkCal=",
        isAllDay=True,
        start={"dateTime": "2026-11-11T00:00:00.0000000", "timeZone": "UTC"},
        end={"dateTime": "2026-11-12T00:00:00.0000000", "timeZone": "UTC"},
    )
    microsoft.add_event("AAMkCal=", showAs="free", start=utc(paris(2026, 10, 21, 14)), end=utc(paris(2026, 10, 21, 15)))
    microsoft.add_event("AAMkCal=", showAs="oof", start=utc(paris(2026, 10, 21, 9)), end=utc(paris(2026, 10, 21, 10)))
    microsoft.add_event(
        "AAMkCal=", showAs="tentative", start=utc(paris(2026, 10, 21, 11)), end=utc(paris(2026, 10, 21, 12))
    )
    microsoft.add_event(
        "AAMkCal=", isCancelled=True, start=utc(paris(2026, 10, 22, 10)), end=utc(paris(2026, 10, 22, 11))
    )
    microsoft.add_event(
        "AAMkCal=",
        singleValueExtendedProperties=[{"id": MS_OURS, "value": "booking-999@127.0.0.1"}],
        start=utc(paris(2026, 10, 23, 11)),
        end=utc(paris(2026, 10, 23, 12)),
    )
    microsoft.add_event(other, start=utc(paris(2026, 10, 20, 14)), end=utc(paris(2026, 10, 20, 15)))

    connection = connect(microsoft, "microsoft", coach)
    assert connection.last_error == "" and connection.events == 7
    assert [item["name"] for item in connection.calendars] == ["Calendar", "Birthdays and more"]
    assert hours_free(coach, talk, dt.date(2026, 10, 19)) == [h for h in EVERY_HOUR if h != 10]
    assert hours_free(coach, talk, dt.date(2026, 10, 26)) == [h for h in EVERY_HOUR if h != 15]
    assert hours_free(coach, talk, dt.date(2026, 11, 9)) == [h for h in EVERY_HOUR if h != 10]
    assert hours_free(coach, talk, dt.date(2026, 11, 11)) == []
    assert hours_free(coach, talk, dt.date(2026, 10, 20)) == [h for h in EVERY_HOUR if h != 14]
    assert hours_free(coach, talk, dt.date(2026, 10, 21)) == [h for h in EVERY_HOUR if h not in (9, 11)]
    assert hours_free(coach, talk, dt.date(2026, 10, 22)) == EVERY_HOUR
    assert hours_free(coach, talk, dt.date(2026, 10, 23)) == EVERY_HOUR
    views = [seen for seen in microsoft.api("GET") if seen.path.endswith("/calendarView")]
    assert any("$skiptoken" in seen.query for seen in views)  # every page read

    services.set_options(connection, all_day_busy=False, free_busy=True, now=NOW)
    assert hours_free(coach, talk, dt.date(2026, 11, 11)) == EVERY_HOUR
    assert hours_free(coach, talk, dt.date(2026, 10, 21)) == [h for h in EVERY_HOUR if h not in (9, 11, 14)]


# ---------------------------------------------------------------------------------------
# Bookings written, moved, hidden, deleted
# ---------------------------------------------------------------------------------------


def test_google_bookings_are_written_moved_hidden_and_deleted_and_not_read_back(google, coach, talk):
    family = google.add_calendar("family@group.calendar.google.com", "Family")
    connection = connect(google, "google", coach)
    client = ClientFactory(name="Ana Silva")
    booking = booking_services.book_slot(client=client, session_type=talk, start=paris(2026, 10, 20, 10), now=NOW)
    assert write_all() == 1
    [written] = google.events(PRIMARY)
    assert written["iCalUID"] == f"booking-{booking.pk}@127.0.0.1"
    assert dt.datetime.fromisoformat(written["start"]["dateTime"]) == paris(2026, 10, 20, 10)
    assert "Ana Silva" in written["summary"] and booking.reference in written["description"]
    assert "attendees" not in written
    assert all(seen.query.get("sendUpdates") == "none" for seen in google.api() if seen.method != "GET")

    services.sync(connection, now=NOW + dt.timedelta(minutes=5))
    assert not Allocation.objects.filter(kind=AllocationKind.EXTERNAL).exists()

    booking_services.reschedule(booking=booking, actor=client, start=paris(2026, 10, 22, 15), now=NOW)
    write_all()
    [moved] = google.events(PRIMARY)
    assert moved["id"] == written["id"]
    assert dt.datetime.fromisoformat(moved["start"]["dateTime"]) == paris(2026, 10, 22, 15)

    # Details hidden and another calendar chosen: the event moves there, saying only "Busy".
    services.set_caldav_calendars(connection, read=[PRIMARY], write_url=family, private=True)
    writer.write_pending(now=NOW)
    assert google.events(PRIMARY) == []
    [hidden] = google.events(family)
    assert hidden["summary"] == "Busy (booking)" and hidden["location"] == ""
    assert "Ana" not in str(hidden) and hidden["iCalUID"] == written["iCalUID"]

    booking.refresh_from_db()
    booking_services.cancel(booking=booking, actor=client, reason="Ill", now=NOW)
    write_all()
    assert google.events(family) == []
    assert WrittenEvent.objects.get().href == ""


def test_a_google_write_cut_short_is_not_written_twice(google, coach, talk):
    connect(google, "google", coach)
    booking_services.book_slot(client=ClientFactory(), session_type=talk, start=paris(2026, 10, 20, 10), now=NOW)
    write_all()
    # The event was written but its place was not kept (the writer died just after).
    WrittenEvent.objects.update(href="", digest="", pending=True)
    assert writer.write_pending(now=NOW) == 1
    assert len(google.events(PRIMARY)) == 1
    assert WrittenEvent.objects.get().href.endswith(google.events(PRIMARY)[0]["id"])


def test_microsoft_bookings_are_written_moved_hidden_and_deleted_and_not_read_back(microsoft, coach, talk):
    connection = connect(microsoft, "microsoft", coach)
    client = ClientFactory(name="Ana Silva")
    booking = booking_services.book_slot(client=client, session_type=talk, start=paris(2026, 10, 20, 10), now=NOW)
    assert write_all() == 1
    [written] = microsoft.events("AAMkCal=")
    assert written["start"] == {"dateTime": "2026-10-20T08:00:00", "timeZone": "UTC"}
    assert "Ana Silva" in written["subject"] and "attendees" not in written
    assert written["singleValueExtendedProperties"] == [{"id": MS_OURS, "value": f"booking-{booking.pk}@127.0.0.1"}]

    services.sync(connection, now=NOW + dt.timedelta(minutes=5))
    assert not Allocation.objects.filter(kind=AllocationKind.EXTERNAL).exists()

    booking_services.reschedule(booking=booking, actor=client, start=paris(2026, 10, 22, 15), now=NOW)
    write_all()
    [moved] = microsoft.events("AAMkCal=")
    assert moved["id"] == written["id"] and moved["start"]["dateTime"] == "2026-10-22T13:00:00"

    services.set_caldav_calendars(connection, read=["AAMkCal="], write_url="AAMkCal=", private=True)
    writer.write_pending(now=NOW)
    [hidden] = microsoft.events("AAMkCal=")
    assert hidden["subject"] == "Busy (booking)" and "Ana" not in str(hidden)
    assert hidden["location"] == {"displayName": ""}

    booking.refresh_from_db()
    booking_services.cancel(booking=booking, actor=client, reason="Ill", now=NOW)
    write_all()
    assert microsoft.events("AAMkCal=") == []


@pytest.mark.parametrize("kind", ["google", "microsoft"])
def test_disconnecting_deletes_what_was_written(request, kind, coach, talk):
    fake = request.getfixturevalue(kind)
    calendar_id = PRIMARY if kind == "google" else "AAMkCal="
    connection = connect(fake, kind, coach)
    booking_services.book_slot(client=ClientFactory(), session_type=talk, start=paris(2026, 10, 20, 10), now=NOW)
    write_all()
    assert len(fake.events(calendar_id)) == 1
    services.disconnect(connection)
    assert fake.events(calendar_id) == []


@pytest.mark.parametrize(
    ("status", "payload", "words"),
    [
        (500, {"error": {"code": 500}}, "Google was busy or had a problem (HTTP 500); it will be tried again."),
        (
            403,
            {"error": {"code": 403, "errors": [{"reason": "rateLimitExceeded"}]}},
            "Google was busy or had a problem (HTTP 429); it will be tried again.",
        ),
        (
            404,
            {"error": {"code": 404}},
            "Google has no such calendar any more (HTTP 404): choose your calendars again.",
        ),
    ],
)
def test_a_failing_api_is_said_plainly_and_keeps_the_busy_times(google, coach, talk, status, payload, words):
    google.add_event(PRIMARY, start={"dateTime": "2026-10-20T08:00:00Z"}, end={"dateTime": "2026-10-20T09:00:00Z"})
    connection = connect(google, "google", coach)
    google.failures.append((status, payload))
    outcome = services.sync(connection, now=NOW + dt.timedelta(minutes=5))
    connection.refresh_from_db()
    assert not outcome.ok and connection.last_error == words
    assert hours_free(coach, talk, dt.date(2026, 10, 20)) == [h for h in EVERY_HOUR if h != 10]


# ---------------------------------------------------------------------------------------
# Tokens: renewed, refused, withdrawn
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["google", "microsoft"])
def test_an_access_token_that_ran_out_or_was_refused_is_renewed(request, kind, coach):
    fake = request.getfixturevalue(kind)
    connection = connect(fake, kind, coach)
    before = connection.token_encrypted
    # Run out by its own clock: renewed before it is used.
    CalendarConnection.objects.filter(pk=connection.pk).update(token_expires_at=NOW - dt.timedelta(days=1))
    connection.refresh_from_db()
    assert services.sync(connection, now=NOW + dt.timedelta(minutes=5)).ok
    assert fake.token_requests[-1]["grant_type"] == "refresh_token"
    connection.refresh_from_db()
    assert connection.token_encrypted != before and connection.token_expires_at > NOW
    saved = crypto.decrypt(connection.token_encrypted)
    assert any(token in saved for token in fake.access)
    if kind == "microsoft":  # a rotated refresh token is kept
        assert any(token in saved for token in fake.refresh)
    # Refused by the API before it ran out: renewed once and the request made again.
    renewals = len(fake.token_requests)
    fake.expire_access()
    assert services.sync(connection, now=NOW + dt.timedelta(minutes=10)).ok
    assert len(fake.token_requests) == renewals + 1


@pytest.mark.parametrize("kind", ["google", "microsoft"])
def test_withdrawn_access_is_said_plainly_and_connecting_again_mends_it(request, kind, coach, talk):
    fake = request.getfixturevalue(kind)
    words = WITHDRAWN_GOOGLE if kind == "google" else WITHDRAWN_MICROSOFT
    connection = connect(fake, kind, coach)
    fake.revoke()
    outcome = services.sync(connection, now=NOW + dt.timedelta(minutes=5))
    connection.refresh_from_db()
    assert not outcome.ok and connection.last_error == words
    assert connection.last_synced_at == NOW  # the busy times of the last read stay
    page = signed_in(coach).get(PAGE).content.decode()
    assert words in page

    booking_services.book_slot(client=ClientFactory(), session_type=talk, start=paris(2026, 10, 20, 10), now=NOW)
    relay.relay_pending()
    assert writer.write_pending(now=NOW) == 0
    assert WrittenEvent.objects.get().last_error == words

    # Connecting the same account again gives the same connection new tokens.
    again = connect(fake, kind, coach)
    assert again.pk == connection.pk and again.last_error == ""
    assert CalendarConnection.objects.filter(coach=coach).count() == 1
    assert writer.write_pending(now=NOW + dt.timedelta(minutes=2)) == 1
    calendar_id = PRIMARY if kind == "google" else "AAMkCal="
    assert len(fake.events(calendar_id)) == 1
