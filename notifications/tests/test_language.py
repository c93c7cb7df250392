"""Every message in its reader's language, whatever language the change was made in: the
same booking tells a French-speaking client in French (email, its invitation, SMS, in-app,
reminders) and an English-speaking coach in English; a calendar feed speaks its owner's."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import translation
from icalendar import Calendar

from accounts.tests.factories import ClientFactory
from bookings import services
from bookings.tests.factories import SessionTypeFactory, open_coach
from notifications import feeds, messages, reminders
from notifications.models import Kind, Notification

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
START = dt.datetime(2026, 12, 3, 14, 0, tzinfo=UTC)  # Thursday: 15:00 in Paris, 09:00 in New York
# Django's own French names the day (its catalogue ships with Django): « jeu. 3 déc. », or
# « jeu 3 Déc » while a catalogue keeps the English format.
FRENCH_DAY = re.compile(r"\bjeu\.? 3 [dD]éc")

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def coach():
    coach = open_coach(timezone="America/New_York", hours=(8, 18))
    coach.name = "Nora Haddad"
    coach.language = "en"
    coach.save()
    return coach


@pytest.fixture
def consultation(coach):
    return SessionTypeFactory(coach=coach, title="Consultation")


@pytest.fixture
def french_client():
    return ClientFactory(name="Cléo Martin", timezone="Europe/Paris", phone="+33612345678", language="fr")


def french(msgid: str) -> str:
    """``msgid`` from the French catalogues; fails while it is untranslated."""
    with translation.override("fr"):
        text = translation.gettext(msgid)
    assert text != msgid, f"not translated into French yet: {msgid[:60]!r}"
    return text


def mail_to(user) -> list:
    return [message for message in mail.outbox if message.to == [user.email]]


def invitation_event(message):
    [(_name, content, _mimetype)] = [a for a in message.attachments if a[0].endswith(".ics")]
    [event] = Calendar.from_ical(content).walk("VEVENT")
    return event


@pytest.mark.parametrize("made_in", ["en", "fr"])
def test_one_booking_tells_a_french_client_in_french_and_an_english_coach_in_english(
    coach, consultation, french_client, settings, sms_outbox, made_in
):
    settings.NOTIFICATION_METHOD = "both"
    coach.phone = "+12125550123"
    coach.save()
    # The change is made in either language (the page's): each reader still gets their own.
    with translation.override(made_in):
        booking = services.book_slot(client=french_client, session_type=consultation, start=START)

    [to_client] = mail_to(french_client)
    assert FRENCH_DAY.search(to_client.body), to_client.body
    # The built-in wording from the French catalogue: its greeting, and not the English subject.
    greeting = french(messages.BUILTIN[Kind.BOOKING_CREATED]["text"]).split("{{")[0].strip()
    assert greeting and greeting != "Hello"
    assert to_client.body.startswith(f"{greeting} Cléo Martin"), to_client.body
    assert to_client.subject != "Booked: Consultation with Nora Haddad"
    assert "Consultation" in to_client.subject and "Nora Haddad" in to_client.subject
    assert "Thu" not in to_client.body
    [(html, _kind)] = to_client.alternatives
    assert FRENCH_DAY.search(html)
    [to_coach] = mail_to(coach)
    assert to_coach.subject == "New booking: Consultation with Cléo Martin"
    assert "Thu 3 Dec 2026, 09:00 (America/New_York)" in to_coach.body

    [sms_client] = [text for text in sms_outbox if text.to == french_client.phone]
    [sms_coach] = [text for text in sms_outbox if text.to == coach.phone]
    assert FRENCH_DAY.search(sms_client.body), sms_client.body
    assert sms_coach.body.startswith("Cléo Martin booked Consultation, Thu 3 Dec 2026, 09:00")

    in_app = Notification.objects.get(recipient=french_client, booking=booking, kind=Kind.BOOKING_CREATED)
    assert FRENCH_DAY.search(in_app.body), in_app.body
    coach_in_app = Notification.objects.get(recipient=coach, booking=booking, kind=Kind.BOOKING_CREATED)
    assert coach_in_app.body.startswith("Thu 3 Dec 2026, 09:00")
    # The language active afterwards is the one the change was made in.
    assert translation.get_language() == settings.LANGUAGE_CODE


def test_the_coachs_invitation_stays_english_when_the_client_reads_french(coach, consultation, french_client):
    with translation.override("fr"):
        services.book_slot(client=french_client, session_type=consultation, start=START)
    event = invitation_event(mail_to(coach)[0])
    assert str(event["SUMMARY"]) == "Consultation with Cléo Martin"
    assert str(event["DESCRIPTION"]).startswith("Booking BK-")
    assert "Details and changes: " in str(event["DESCRIPTION"])
    # The client's invitation, for the same event, speaks French.
    event = invitation_event(mail_to(french_client)[0])
    assert str(event["SUMMARY"]) == french("%(title)s with %(name)s") % {
        "title": "Consultation",
        "name": "Nora Haddad",
    }
    assert french("Details and changes: %(url)s").split("%(url)s")[0] in str(event["DESCRIPTION"])


def test_reminders_are_in_their_readers_language(coach, consultation, french_client, clock):
    services.book_slot(client=french_client, session_type=consultation, start=START)
    mail.outbox.clear()
    clock.move_to(START - dt.timedelta(minutes=29))
    with translation.override("fr"):  # the worker's own language doesn't matter
        reminders.dispatch_due()
    [to_client] = [m for m in mail_to(french_client)]
    assert FRENCH_DAY.search(to_client.body), to_client.body
    [to_coach] = [m for m in mail_to(coach)]
    assert "Thu 3 Dec 2026, 09:00 (America/New_York)" in to_coach.body


def test_a_person_without_a_language_gets_the_sites(coach, consultation):
    follower = ClientFactory(language="", timezone="Europe/Paris")
    with translation.override("fr"):
        services.book_slot(client=follower, session_type=consultation, start=START)
    [message] = mail_to(follower)
    assert "Thu 3 Dec 2026, 15:00 (Europe/Paris)" in message.body


def test_a_calendar_feed_speaks_its_owners_language_whoever_asks(coach, consultation, french_client):
    services.book_slot(client=french_client, session_type=consultation, start=START)
    path = reverse("calendar_feed", args=[feeds.feed_of(coach).secret])
    english = Client().get(path, HTTP_ACCEPT_LANGUAGE="fr").content.decode().replace("\r\n ", "")  # unfolded
    assert "Details and changes: " in english

    etag = Client().get(path)["ETag"]
    coach.language = "fr"
    coach.save()
    french_feed = Client().get(path, HTTP_ACCEPT_LANGUAGE="en").content.decode().replace("\r\n ", "")
    assert french("Details and changes: %(url)s").split("%(url)s")[0] in french_feed
    # A new language is a new feed for the calendar apps that poll it.
    assert Client().get(path, HTTP_IF_NONE_MATCH=etag).status_code == 200
    assert Client().get(path)["ETag"] != etag
