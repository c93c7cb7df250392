"""Video rooms: every session of an online type meets in a room of its own (or the coach's
fixed link, or none), and only the session's people are given the link — on the booking's
page and in the API. (Emails, SMS, invitations and feeds: notifications/tests/test_video_rooms.py.)

Time is frozen on Tuesday 1 December 2026, 06:00 UTC; the coach works in Paris from 09:00
to 17:00 every day. The site's video server is ``https://video.example.test`` (nothing is
ever fetched from it: a room is only an address).
"""

from __future__ import annotations

import base64
import datetime as dt
import importlib
import re
from urllib.parse import quote, urlsplit

import pytest
import time_machine
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse

from accounts.models import Connection, ConnectionStatus
from accounts.tests.factories import ClientFactory, StaffFactory
from bookings import services, video
from bookings.models import Booking, BookingStatus, SessionType, VideoProvider
from bookings.services import series as series_services
from bookings.tests.factories import SessionTypeFactory, open_coach
from config.errors import DomainError

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
START = dt.datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # 10:00 in Paris
H = dt.timedelta(hours=1)
SERVER = "https://video.example.test"
ROOM = re.compile(r"https://video\.example\.test/booking-[a-z2-7]{32}")
FIXED = "https://zoom.example.com/j/8521234567"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def video_server(settings):
    settings.VIDEO_ROOMS_URL = SERVER
    settings.SITE_NAME = "Booking"


@pytest.fixture
def coach():
    coach = open_coach(timezone="Europe/Paris")
    coach.name = "Camille Laurent"
    coach.save(update_fields=["name"])
    return coach


@pytest.fixture
def therapy(coach):
    """An online one-on-one type made as a coach makes it: a room per session by default."""
    return services.create_session_type(actor=coach, coach=coach, title="Therapy session", modality="online")


@pytest.fixture
def ana():
    return ClientFactory(name="Ana Diaz", email="ana.diaz@example.com", timezone="Europe/Madrid")


@pytest.fixture
def ben():
    return ClientFactory(name="Ben Ito", email="ben.ito@example.com", timezone="Asia/Kolkata")


def logged_in(user) -> Client:
    http = Client()
    http.force_login(user)
    return http


def page_of(user, booking: Booking):
    return logged_in(user).get(reverse("booking_detail", args=[booking.reference]))


def api_booking(user, booking: Booking):
    return logged_in(user).get(f"/api/v1/bookings/{booking.pk}")


def link_of(booking: Booking) -> str:
    booking.session.refresh_from_db()
    return booking.session.meeting_link


# --- the room name ------------------------------------------------------------------------------


def test_a_room_name_is_160_random_bits_in_lowercase_base32_after_the_site_name(settings) -> None:
    names = [video.room_name() for _ in range(500)]
    assert len(set(names)) == 500
    for name in names:
        prefix, token = name.rsplit("-", 1)
        assert prefix == "booking"
        # Lowercase base32: Jitsi folds room names to lowercase, so no bit is lost to case.
        assert re.fullmatch(r"[a-z2-7]{32}", token)
        assert len(base64.b32decode(token.upper())) * 8 == 160 >= 128
        assert quote(name, safe="") == name  # nothing to escape in a URL
    # Every position of the token takes many values: it is random, not a counter or a clock.
    for position in range(32):
        assert len({name.rsplit("-", 1)[1][position] for name in names}) > 16
    settings.SITE_NAME = "Dr. Émilie Roux's Practice — Paris"
    assert re.fullmatch(r"[a-z0-9-]{1,20}-[a-z2-7]{32}", video.room_name())
    settings.SITE_NAME = "！！"
    assert re.fullmatch(r"[a-z2-7]{32}", video.room_name())


def test_each_booking_of_an_online_type_gets_its_own_room_holding_nothing_personal(coach, therapy, ana, ben) -> None:
    assert therapy.video == VideoProvider.ROOMS and therapy.meeting_link == ""
    first = services.book_slot(client=ana, session_type=therapy, start=START)
    second = services.book_slot(client=ben, session_type=therapy, start=START + 2 * H)
    assert ROOM.fullmatch(link_of(first)) and ROOM.fullmatch(link_of(second))
    assert link_of(first) != link_of(second)
    for link in (link_of(first), link_of(second)):
        lowered = link.lower()
        for personal in ("ana", "diaz", "ben", "ito", "camille", "laurent", "therapy", first.reference.lower()):
            assert personal not in urlsplit(lowered).path.removeprefix("/booking-")


def test_the_seats_of_a_group_session_share_its_room_and_each_session_has_its_own(coach, ana, ben) -> None:
    circle = services.create_session_type(
        actor=coach, coach=coach, title="Support circle", kind="group", capacity=6, modality="online"
    )
    first = services.publish_session(actor=coach, session_type=circle, start=START)
    second = services.publish_session(actor=coach, session_type=circle, start=START + 3 * H)
    seat_a = services.take_seat(client=ana, session=first)
    seat_b = services.take_seat(client=ben, session=first)
    assert ROOM.fullmatch(first.meeting_link)
    assert link_of(seat_a) == link_of(seat_b) == first.meeting_link
    assert ROOM.fullmatch(second.meeting_link) and second.meeting_link != first.meeting_link


def test_each_occurrence_of_a_series_has_its_own_room(coach, therapy, ana) -> None:
    Connection.objects.create(client=ana, coach=coach, status=ConnectionStatus.ACCEPTED)
    series, outcomes = series_services.book_series(client=ana, session_type=therapy, start=START, count=4, now=NOW)
    links = [link_of(outcome.booking) for outcome in outcomes]
    assert len(links) == 4 and all(ROOM.fullmatch(link) for link in links)
    assert len(set(links)) == 4
    # An occurrence moved on its own keeps its room.
    moved = series_services.move_occurrence(
        series=series, actor=ana, start=outcomes[1].start, new_start=outcomes[1].start + 2 * H, now=NOW
    )
    assert link_of(moved) == links[1]


def test_a_moved_booking_keeps_its_room_and_a_time_booked_again_gets_a_new_one(coach, therapy, ana) -> None:
    booking = services.book_slot(client=ana, session_type=therapy, start=START)
    room = link_of(booking)
    moved = services.reschedule(booking=booking, actor=ana, start=START + 3 * H)
    assert moved.session_id != booking.session_id
    assert link_of(moved) == room
    services.cancel(booking=moved, actor=ana)
    again = services.book_slot(client=ana, session_type=therapy, start=START + 3 * H)
    assert ROOM.fullmatch(link_of(again)) and link_of(again) != room


def test_the_server_setting_is_an_http_address_or_empty(monkeypatch) -> None:
    import config.settings.base as base_settings

    try:
        for wrong in ("meet.jit.si", "ftp://meet.example.org", "https://meet.example.org/?room=1", "https://"):
            monkeypatch.setenv("VIDEO_ROOMS_URL", wrong)
            with pytest.raises(ImproperlyConfigured, match="VIDEO_ROOMS_URL"):
                importlib.reload(base_settings)
        monkeypatch.setenv("VIDEO_ROOMS_URL", " https://video.clinic.example.org/rooms/ ")
        assert importlib.reload(base_settings).VIDEO_ROOMS_URL == "https://video.clinic.example.org/rooms"
        monkeypatch.setenv("VIDEO_ROOMS_URL", "")
        assert importlib.reload(base_settings).VIDEO_ROOMS_URL == ""
    finally:
        monkeypatch.delenv("VIDEO_ROOMS_URL", raising=False)
        importlib.reload(base_settings)
    assert base_settings.VIDEO_ROOMS_URL == "https://meet.jit.si"


# --- the provider setting ------------------------------------------------------------------------


def test_a_new_type_gets_a_room_when_online_its_link_when_given_and_none_in_person(coach, settings) -> None:
    def made(**fields) -> SessionType:
        return services.create_session_type(actor=coach, coach=coach, title="T", **fields)

    assert made(modality="online").video == VideoProvider.ROOMS
    assert made(modality="hybrid").video == VideoProvider.ROOMS
    assert made(modality="in_person").video == VideoProvider.NONE
    fixed = made(modality="online", meeting_link=FIXED)
    assert (fixed.video, fixed.meeting_link) == (VideoProvider.FIXED, FIXED)
    # A link given with another choice is not kept: no session could fall back to it.
    chosen = made(modality="online", video="rooms", meeting_link=FIXED)
    assert (chosen.video, chosen.meeting_link) == (VideoProvider.ROOMS, "")
    settings.VIDEO_ROOMS_URL = ""
    assert made(modality="online").video == VideoProvider.NONE


def test_rooms_need_the_sites_server_and_a_fixed_link_needs_its_link(coach, therapy, settings) -> None:
    with pytest.raises(DomainError) as no_link:
        services.create_session_type(actor=coach, coach=coach, title="Mine", video="fixed")
    assert no_link.value.field == "meeting_link"
    with pytest.raises(DomainError) as unknown:
        services.update_session_type(session_type=therapy, actor=coach, video="skype")
    assert unknown.value.field == "video"
    api = logged_in(coach).post(
        "/api/v1/session-types", {"title": "Mine", "video": "fixed"}, content_type="application/json"
    )
    assert api.status_code == 400 and api.json()["error"]["code"] == "invalid"
    assert [f["field"] for f in api.json()["error"]["fields"]] == ["meeting_link"]

    settings.VIDEO_ROOMS_URL = ""
    with pytest.raises(DomainError) as no_server:
        services.create_session_type(actor=coach, coach=coach, title="Rooms", video="rooms")
    assert no_server.value.field == "video"
    # A type that has rooms stays editable; its new sessions then have no link.
    renamed = services.update_session_type(session_type=therapy, actor=coach, title="Therapy (50 min)")
    assert renamed.video == VideoProvider.ROOMS
    booking = services.book_slot(client=ClientFactory(), session_type=renamed, start=START)
    assert link_of(booking) == ""
    # A copy of it has none.
    assert services.duplicate_session_type(actor=coach, session_type=renamed).video == VideoProvider.NONE


def test_the_coachs_form_offers_rooms_only_with_a_server_and_shows_a_missing_link(coach, settings) -> None:
    http = logged_in(coach)
    form = http.get(reverse("session_type_create"))
    assert form.status_code == 200
    assert 'value="rooms"' in form.content.decode() and "A private video room for each session" in form.content.decode()
    assert form.context["form"].initial["video"] == VideoProvider.ROOMS
    refused = http.post(
        reverse("session_type_create"),
        {"title": "Mine", "kind": "one_on_one", "duration_minutes": "60", "price": "0", "currency": "EUR",
         "modality": "online", "approval": "coach", "reminders_mode": "usual", "is_active": "on", "video": "fixed"},
    )  # fmt: skip
    assert refused.status_code == 400
    assert "Give the link of your video room" in " ".join(refused.context["form"].errors["meeting_link"])
    # The live preview says what clients are told.
    for choice, words in (
        ("rooms", "a private video room for each session"),
        ("fixed", "your meeting link is given to the client once booked"),
        ("none", "no video link: tell clients how to join"),
    ):
        body = {"title": "Mine", "modality": "online", "video": choice, "meeting_link": FIXED}
        preview = http.post(reverse("session_type_preview"), body).content.decode()
        assert words in preview, choice
        assert FIXED not in preview
    settings.VIDEO_ROOMS_URL = ""
    without = http.get(reverse("session_type_create")).content.decode()
    assert 'value="rooms"' not in without and 'value="fixed"' in without


def test_types_with_a_link_become_fixed_when_migrated(coach) -> None:
    linked = SessionTypeFactory(coach=coach)
    SessionType.objects.filter(pk=linked.pk).update(meeting_link=FIXED, video="none")
    plain = SessionTypeFactory(coach=coach)
    migration = importlib.import_module("bookings.migrations.0025_video_rooms")
    migration.fixed_where_a_link_was_given(apps, None)
    linked.refresh_from_db()
    plain.refresh_from_db()
    assert (linked.video, plain.video) == (VideoProvider.FIXED, VideoProvider.NONE)


# --- who sees it: the booking's page and the API ---------------------------------------------------


def test_the_client_the_coach_and_staff_see_the_link_and_another_client_nowhere(coach, therapy, ana, ben) -> None:
    booking = services.book_slot(client=ana, session_type=therapy, start=START)
    theirs = services.book_slot(client=ben, session_type=therapy, start=START + 2 * H)
    room = link_of(booking)

    for person in (ana, coach, StaffFactory()):
        page = page_of(person, booking)
        assert page.status_code == 200
        assert room in page.content.decode() and "Join the session" in page.content.decode()
        assert api_booking(person, booking).json()["meeting_link"] == room

    # Ben: not on Ana's page, nor in the API, nor in anything of his own.
    assert page_of(ben, booking).status_code == 404
    assert api_booking(ben, booking).status_code == 404
    assert room not in page_of(ben, theirs).content.decode()
    assert room not in logged_in(ben).get("/api/v1/bookings").content.decode()
    assert [b["meeting_link"] for b in logged_in(ben).get("/api/v1/bookings").json()] == [link_of(theirs)]
    # The public pages and the public API never carry a session's room.
    anonymous = Client()
    for url in (
        reverse("book_coach", args=[coach.pk]),
        reverse("book_type", args=[coach.pk, therapy.pk]),
        f"/api/v1/session-types?coach={coach.pk}",
    ):
        response = anonymous.get(url, follow=True)
        assert response.status_code == 200, url
        assert SERVER not in response.content.decode()


def test_a_request_gets_the_link_once_approved_and_a_cancelled_booking_loses_it(coach, therapy, ana) -> None:
    therapy = services.update_session_type(session_type=therapy, actor=coach, approval="always")
    booking = services.book_slot(client=ana, session_type=therapy, start=START)
    assert booking.status == BookingStatus.REQUESTED
    room = link_of(booking)
    waiting = page_of(ana, booking).content.decode()
    assert room not in waiting and "once the booking is confirmed" in waiting
    assert api_booking(ana, booking).json()["meeting_link"] == ""
    # The coach hosts it: they have it already.
    assert room in page_of(coach, booking).content.decode()
    assert api_booking(coach, booking).json()["meeting_link"] == room

    services.approve(booking=booking, actor=coach)
    assert room in page_of(ana, booking).content.decode()
    assert api_booking(ana, booking).json()["meeting_link"] == room

    services.cancel(booking=booking, actor=ana)
    for person in (ana, coach):
        assert room not in page_of(person, booking).content.decode()
        assert api_booking(person, booking).json()["meeting_link"] == ""


def test_a_group_session_room_is_for_its_seats_and_hosts_not_for_who_browses_or_waits(coach, ana, ben) -> None:
    circle = services.create_session_type(
        actor=coach, coach=coach, title="Support circle", kind="group", capacity=6, modality="online"
    )
    session = services.publish_session(actor=coach, session_type=circle, start=START)
    seat = services.take_seat(client=ana, session=session)
    room = session.meeting_link
    assert room in page_of(ana, seat).content.decode()
    assert api_booking(ana, seat).json()["meeting_link"] == room
    host_page = logged_in(coach).get(reverse("workshop_session", args=[session.pk])).content.decode()
    assert room in host_page and "Join the session" in host_page
    # Before taking a seat: the session's page and the public list say nothing of it.
    for http in (logged_in(ben), Client()):
        assert room not in http.get(reverse("book_seat", args=[session.pk])).content.decode()
        listed = http.get(f"/api/v1/sessions?coach={coach.pk}")
        assert listed.status_code == 200 and SERVER not in listed.content.decode()


def test_the_fixed_link_is_the_coachs_own_and_shown_only_after_booking(coach, ana) -> None:
    fixed = services.create_session_type(actor=coach, coach=coach, title="Intro call", meeting_link=FIXED)
    assert fixed.video == VideoProvider.FIXED
    first = services.book_slot(client=ana, session_type=fixed, start=START)
    second = services.book_slot(client=ClientFactory(), session_type=fixed, start=START + 2 * H)
    assert link_of(first) == link_of(second) == FIXED
    assert FIXED in page_of(ana, first).content.decode()
    assert api_booking(ana, first).json()["meeting_link"] == FIXED
    # The type's link is its hosts' and staff's in the API; anyone else gets it empty.
    public = Client().get(f"/api/v1/session-types?coach={coach.pk}").json()
    assert [t["meeting_link"] for t in public] == [""]
    assert logged_in(ana).get(f"/api/v1/session-types?coach={coach.pk}").json()[0]["meeting_link"] == ""
    own = logged_in(coach).get("/api/v1/session-types").json()
    assert [(t["video"], t["meeting_link"]) for t in own] == [("fixed", FIXED)]


def test_none_gives_no_link_anywhere(coach, ana) -> None:
    plain = services.create_session_type(actor=coach, coach=coach, title="Call", modality="online", video="none")
    booking = services.book_slot(client=ana, session_type=plain, start=START)
    assert link_of(booking) == ""
    page = page_of(ana, booking).content.decode()
    assert "Video call" not in page and "Join the session" not in page
    assert api_booking(ana, booking).json()["meeting_link"] == ""
