"""The coach's private notes: encrypted in their column, read, searched, changed and deleted
by their author only — the client, another coach, a co-host who didn't write them, staff
and admins get nothing on any page, in the API or in the admin."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib import admin
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.models import ConnectionStatus
from accounts.tests.factories import AdminFactory, ClientFactory, ConnectionFactory, StaffFactory
from bookings import relay, services
from bookings.models import Booking
from bookings.tests.factories import SessionTypeFactory, open_coach
from config.errors import DomainError, NotAllowed
from conftest import logged_in
from intake import selectors
from intake import services as notes
from intake.models import NOTE_MAX_LENGTH, CoachNote
from notifications.delivery import send_deliveries

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
START = dt.datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
SECRET = "Mentions insomnia since the divorce"
GENERAL = "Prefers morning sessions, sister is a nurse"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world():
    """A coach, their client's booking (with a co-host on the session), a note on that
    session and a general note about the client — both by the coach."""
    coach, co_host, other_coach = open_coach(), open_coach(), open_coach()
    client = ClientFactory(name="Nora Client")
    session_type = SessionTypeFactory(coach=coach, title="Career consultation")
    booking = services.book_slot(client=client, session_type=session_type, start=START)
    booking.session.co_hosts.add(co_host)
    on_session = notes.add_note(author=coach, client=client, booking=booking, text=SECRET)
    general = notes.add_note(author=coach, client=client, text=GENERAL)
    return {
        "coach": coach,
        "co_host": co_host,
        "other_coach": other_coach,
        "client": client,
        "booking": booking,
        "on_session": on_session,
        "general": general,
        "staff": StaffFactory(),
        "admin": AdminFactory(),
    }


def booking_page(user, booking: Booking):
    return logged_in(user).get(reverse("booking_detail", args=[booking.reference]))


def text_of(response) -> str:
    return response.content.decode()


# --- at rest ----------------------------------------------------------------------------


def test_the_column_holds_only_fernet_tokens(world):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT text FROM {CoachNote._meta.db_table}")
        stored = [row[0] for row in cursor.fetchall()]
    assert len(stored) == 2
    for value in stored:
        assert value.startswith("gAAAAA")
        assert "insomnia" not in value and "morning" not in value and "nurse" not in value
    # ... and the model reads the plain text back.
    assert CoachNote.objects.get(pk=world["on_session"].pk).text == SECRET


def test_a_note_never_shows_its_text_in_its_name(world):
    assert SECRET not in str(world["on_session"]) and SECRET not in repr(world["on_session"])


def test_a_note_no_key_opens_says_so_and_is_never_overwritten(world, settings):
    from cryptography.fernet import Fernet

    from config.crypto import Unreadable

    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # the notes' keys are gone
    listing = logged_in(world["coach"]).get(reverse("coach_notes"))
    assert listing.status_code == 200
    assert 'data-testid="note-unreadable"' in text_of(listing) and SECRET not in text_of(listing)
    note = CoachNote.objects.get(pk=world["general"].pk)
    assert note.text == "" and note.text.unreadable
    with pytest.raises(Unreadable):
        note.save()


# --- the author ---------------------------------------------------------------------------


def test_the_author_reads_their_notes_on_the_booking_page_the_client_page_and_their_list(world):
    coach, booking = world["coach"], world["booking"]
    page = text_of(booking_page(coach, booking))
    assert 'data-testid="private-notes"' in page
    edit = reverse("note_edit", args=[world["on_session"].pk])
    assert f'href="{edit}?next=/bookings/{booking.reference}/%23private-notes"' in page
    assert SECRET in page and GENERAL not in page  # the session's notes only
    assert "Only you can read these notes; the client never sees them." in page

    client_page = logged_in(coach).get(reverse("client_notes", args=[world["client"].pk]))
    assert client_page.status_code == 200
    assert SECRET in text_of(client_page) and GENERAL in text_of(client_page)

    listing = logged_in(coach).get(reverse("coach_notes"))
    assert listing.status_code == 200
    assert SECRET in text_of(listing) and GENERAL in text_of(listing)
    # Found under Clients (marked in the menu), from the Clients page and the dashboard.
    assert 'class="nav-link active" data-testid="nav-clients"' in text_of(listing)
    assert 'data-testid="nav-notes"' in text_of(logged_in(coach).get(reverse("connections")))
    assert 'data-testid="dashboard-notes"' in text_of(logged_in(coach).get(reverse("dashboard"), follow=True))


def test_the_author_adds_edits_and_deletes_a_note_through_the_pages(world):
    coach, booking = world["coach"], world["booking"]
    http = logged_in(coach)
    added = http.post(reverse("booking_note_add", args=[booking.reference]), {"text": "Homework: journal daily"})
    assert added.status_code == 302 and added["Location"].endswith(f"/bookings/{booking.reference}/#private-notes")
    note = CoachNote.objects.get(coach=coach, booking=booking, client=world["client"], pk__gt=world["general"].pk)
    assert note.text == "Homework: journal daily"

    edit_url = reverse("note_edit", args=[note.pk])
    assert "Homework: journal daily" in text_of(http.get(edit_url))
    changed = http.post(edit_url, {"text": "Homework: journal weekly"})
    assert changed.status_code == 302
    note.refresh_from_db()
    assert note.text == "Homework: journal weekly"

    general = http.post(reverse("client_notes", args=[world["client"].pk]), {"text": "Likes walking sessions"})
    assert general.status_code == 302
    assert CoachNote.objects.filter(coach=coach, booking=None).count() == 2

    deleted = http.post(reverse("note_delete", args=[note.pk]), {"next": "/coach/notes/"})
    assert deleted.status_code == 302 and deleted["Location"] == "/coach/notes/"
    assert not CoachNote.objects.filter(pk=note.pk).exists()


def test_a_foreign_next_address_is_not_followed(world):
    http = logged_in(world["coach"])
    response = http.post(
        reverse("note_edit", args=[world["general"].pk]), {"text": "x", "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("client_notes", args=[world["client"].pk])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("   ", "Write something in the note."),
        ("x" * (NOTE_MAX_LENGTH + 1), "A note holds at most 10000 characters; this one has 10001."),
    ],
)
def test_an_empty_or_too_long_note_is_refused_with_a_message(world, text, message):
    http = logged_in(world["coach"])
    before = CoachNote.objects.count()
    for url in (
        reverse("booking_note_add", args=[world["booking"].reference]),
        reverse("client_notes", args=[world["client"].pk]),
        reverse("note_edit", args=[world["general"].pk]),
    ):
        response = http.post(url, {"text": text})
        assert response.status_code == 400, url
        assert message in text_of(response), url
    assert CoachNote.objects.count() == before
    world["general"].refresh_from_db()
    assert world["general"].text == GENERAL


def test_a_note_of_exactly_the_limit_is_kept():
    coach, client = open_coach(), ClientFactory()
    ConnectionFactory(coach=coach, client=client, status=ConnectionStatus.ACCEPTED)
    note = notes.add_note(author=coach, client=client, text="y" * NOTE_MAX_LENGTH)
    assert len(CoachNote.objects.get(pk=note.pk).text) == NOTE_MAX_LENGTH


def test_the_forms_need_the_csrf_token(world):
    http = Client(enforce_csrf_checks=True)
    http.force_login(world["coach"])
    response = http.post(reverse("client_notes", args=[world["client"].pk]), {"text": "no token"})
    assert response.status_code == 403
    assert not CoachNote.objects.filter(booking=None, coach=world["coach"]).exclude(pk=world["general"].pk).exists()


# --- search -------------------------------------------------------------------------------


def test_search_finds_by_words_in_the_text_among_the_coachs_own_notes_only(world):
    coach, other_coach = world["coach"], world["other_coach"]
    someone = ClientFactory()
    ConnectionFactory(coach=other_coach, client=someone, status=ConnectionStatus.ACCEPTED)
    notes.add_note(author=other_coach, client=someone, text="Insomnia again, another coach's note")

    found = text_of(logged_in(coach).get(reverse("coach_notes"), {"q": "INSOMNIA divorce"}))
    assert SECRET in found and GENERAL not in found
    assert "another coach&#x27;s note" not in found and "another coach's note" not in found

    # Every word must be there: one missing leaves the note out.
    nothing = text_of(logged_in(coach).get(reverse("coach_notes"), {"q": "insomnia holiday"}))
    assert SECRET not in nothing and "No note holds every word you searched for." in nothing

    # The other coach's search finds their note, never this coach's.
    theirs = text_of(logged_in(other_coach).get(reverse("coach_notes"), {"q": "insomnia"}))
    assert "another coach" in theirs and SECRET not in theirs


def test_search_reads_only_the_newest_notes_up_to_its_limit(world):
    coach = world["coach"]
    assert selectors.search_notes(coach, "", limit=5) == selectors.Found([world["general"], world["on_session"]], False)
    capped = selectors.search_notes(coach, "", limit=1)
    assert capped.capped and capped.notes == [world["general"]]
    # The older note is past the limit: a search for its words doesn't reach it.
    assert selectors.search_notes(coach, "insomnia", limit=1).notes == []


def test_the_list_is_paginated(world, monkeypatch):
    monkeypatch.setattr("intake.views.PAGE_SIZE", 1)
    http = logged_in(world["coach"])
    first, second = text_of(http.get(reverse("coach_notes"))), text_of(http.get(reverse("coach_notes"), {"page": 2}))
    assert GENERAL in first and SECRET not in first and "Page 1 of 2" in first
    assert SECRET in second and GENERAL not in second


# --- everyone else gets nothing -----------------------------------------------------------


@pytest.mark.parametrize("who", ["client", "other_coach", "co_host", "staff", "admin"])
def test_nobody_but_the_author_reads_a_note_on_any_page(world, who):
    viewer = world[who]
    http = logged_in(viewer)
    pages = [
        reverse("booking_detail", args=[world["booking"].reference]),
        reverse("coach_notes"),
        reverse("coach_notes") + "?q=insomnia",
        reverse("client_notes", args=[world["client"].pk]),
        reverse("note_edit", args=[world["on_session"].pk]),
        reverse("note_edit", args=[world["general"].pk]),
        f"/api/v1/bookings/{world['booking'].pk}",
        f"/api/v1/bookings/{world['booking'].reference}",
        "/api/v1/bookings",
    ]
    for url in pages:
        response = http.get(url)
        assert response.status_code in (200, 404), (url, response.status_code)
        assert SECRET not in text_of(response) and GENERAL not in text_of(response), url
    # The note pages themselves are 404 to them: they are no author of these notes.
    for name, args in (("note_edit", [world["on_session"].pk]), ("note_edit", [world["general"].pk])):
        assert http.get(reverse(name, args=args)).status_code == 404


@pytest.mark.parametrize("who", ["client", "staff", "admin"])
def test_the_notes_pages_are_404_to_other_roles(world, who):
    http = logged_in(world[who])
    assert http.get(reverse("coach_notes")).status_code == 404
    assert http.get(reverse("client_notes", args=[world["client"].pk])).status_code == 404
    assert 'data-testid="nav-notes"' not in text_of(http.get(reverse("connections"), follow=True))


@pytest.mark.parametrize("who", ["client", "staff", "admin", "other_coach"])
def test_the_booking_page_has_no_notes_card_for_those_who_dont_host(world, who):
    response = booking_page(world[who], world["booking"])
    assert response.status_code in (200, 404)
    assert 'data-testid="private-notes"' not in text_of(response)
    assert "Private notes" not in text_of(response)


def test_the_client_sees_their_booking_without_any_note(world):
    response = booking_page(world["client"], world["booking"])
    assert response.status_code == 200
    assert world["booking"].reference in text_of(response)
    assert SECRET not in text_of(response) and "Private notes" not in text_of(response)


def test_a_co_host_writes_their_own_notes_and_reads_only_those(world):
    co_host, coach, booking = world["co_host"], world["coach"], world["booking"]
    page = text_of(booking_page(co_host, booking))
    assert 'data-testid="private-notes"' in page and SECRET not in page

    http = logged_in(co_host)
    added = http.post(reverse("booking_note_add", args=[booking.reference]), {"text": "Co-host's own view"})
    assert added.status_code == 302
    assert "Co-host&#x27;s own view" in text_of(booking_page(co_host, booking))
    assert SECRET not in text_of(booking_page(co_host, booking))
    # The booked client is theirs to keep notes on, but the coach's notes stay the coach's.
    client_page = text_of(http.get(reverse("client_notes", args=[world["client"].pk])))
    assert "Co-host&#x27;s own view" in client_page and SECRET not in client_page and GENERAL not in client_page
    # ... and the coach doesn't read the co-host's.
    coachs = text_of(booking_page(coach, booking))
    assert SECRET in coachs and "own view" not in coachs


def test_another_coach_can_neither_change_nor_delete_nor_add(world):
    http = logged_in(world["other_coach"])
    for note in (world["on_session"], world["general"]):
        assert http.post(reverse("note_edit", args=[note.pk]), {"text": "overwritten"}).status_code == 404
        assert http.post(reverse("note_delete", args=[note.pk])).status_code == 404
    assert http.post(reverse("booking_note_add", args=[world["booking"].reference]), {"text": "x"}).status_code == 404
    assert http.post(reverse("client_notes", args=[world["client"].pk]), {"text": "x"}).status_code == 404
    assert sorted(CoachNote.objects.values_list("text", flat=True)) == sorted([SECRET, GENERAL])


@pytest.mark.parametrize("who", ["client", "co_host", "staff", "admin"])
def test_nobody_else_changes_or_deletes_a_note(world, who):
    http = logged_in(world[who])
    for note in (world["on_session"], world["general"]):
        assert http.post(reverse("note_edit", args=[note.pk]), {"text": "overwritten"}).status_code == 404
        assert http.post(reverse("note_delete", args=[note.pk])).status_code == 404
    assert sorted(CoachNote.objects.values_list("text", flat=True)) == sorted([SECRET, GENERAL])


def test_a_coach_keeps_notes_only_about_their_own_clients(world):
    coach, stranger = world["coach"], ClientFactory()
    assert logged_in(coach).get(reverse("client_notes", args=[stranger.pk])).status_code == 404
    with pytest.raises(NotAllowed):
        notes.add_note(author=coach, client=stranger, text="x")
    # A connection makes them the coach's client; a pending one doesn't.
    ConnectionFactory(coach=coach, client=stranger, status=ConnectionStatus.PENDING)
    assert logged_in(coach).get(reverse("client_notes", args=[stranger.pk])).status_code == 404
    stranger_connection = stranger.coach_connections.get()
    stranger_connection.status = ConnectionStatus.ACCEPTED
    stranger_connection.save()
    assert logged_in(coach).get(reverse("client_notes", args=[stranger.pk])).status_code == 200


def test_the_services_refuse_what_the_pages_never_offer(world):
    coach, booking = world["coach"], world["booking"]
    with pytest.raises(NotAllowed):  # a session note names the booking's own client
        notes.add_note(author=coach, client=ClientFactory(), booking=booking, text="x")
    with pytest.raises(NotAllowed):
        notes.add_note(author=world["other_coach"], client=world["client"], booking=booking, text="x")
    with pytest.raises(NotAllowed):
        notes.add_note(author=world["staff"], client=world["client"], booking=booking, text="x")
    with pytest.raises(NotAllowed):
        notes.edit_note(note=world["general"], actor=world["co_host"], text="x")
    with pytest.raises(NotAllowed):
        notes.delete_note(note=world["general"], actor=world["admin"])
    with pytest.raises(DomainError):
        notes.edit_note(note=world["general"], actor=coach, text="")


# --- nowhere else -------------------------------------------------------------------------


def test_the_admin_doesnt_offer_notes(world):
    assert CoachNote not in admin.site._registry
    http = logged_in(world["admin"])
    assert http.get("/admin/intake/coachnote/").status_code == 404
    for url in (
        "/admin/",
        reverse("admin:bookings_booking_change", args=[world["booking"].pk]),
        reverse("admin:accounts_user_change", args=[world["client"].pk]),
    ):
        response = http.get(url)
        assert response.status_code == 200, url
        assert SECRET not in text_of(response) and GENERAL not in text_of(response), url


def test_no_message_about_the_booking_carries_a_note(world):
    mail.outbox.clear()
    booking = world["booking"]
    notes.add_note(author=world["coach"], client=world["client"], booking=booking, text="Before the move: anxious")
    services.cancel(booking=booking, actor=world["coach"], reason="Ill")
    relay.relay_pending()
    send_deliveries()
    assert mail.outbox, "the cancellation is told"
    for message in mail.outbox:
        everything = message.body + "".join(str(part[0]) for part in getattr(message, "alternatives", []))
        everything += "".join(str(attachment[1]) for attachment in message.attachments)
        assert SECRET not in everything and "anxious" not in everything


def test_the_card_stays_on_the_part_of_the_page_htmx_swaps_after_an_action():
    coach = open_coach(require_approval_unconnected=True)
    client = ClientFactory()
    booking = services.book_slot(client=client, session_type=SessionTypeFactory(coach=coach), start=START)
    notes.add_note(author=coach, client=client, booking=booking, text=SECRET)
    url = reverse("booking_action", args=[booking.reference, "ask"])
    response = logged_in(coach).post(url, {"question": "Which topic?"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    page = text_of(response)
    assert 'data-testid="booking-detail"' in page and "<html" not in page
    assert SECRET in page and f"?next=/bookings/{booking.reference}/%23private-notes" in page
