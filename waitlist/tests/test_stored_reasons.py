"""Why a waitlist entry ended is stored in English whatever language was active when it
ended, and the client's waitlist page shows it in the client's language."""

from __future__ import annotations

import datetime as dt
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.tests.factories import ClientFactory
from bookings import services
from bookings.tests.factories import GroupTypeFactory, open_coach
from waitlist import services as waitlist
from waitlist.models import EntryStatus, WaitlistEntry

pytestmark = pytest.mark.django_db


def _page_of(person) -> str:
    http = Client()
    http.force_login(person)
    return unescape(http.get(reverse("waitlist:mine")).content.decode())


@pytest.fixture
def session():
    coach = open_coach(timezone="Europe/Paris")
    circle = GroupTypeFactory(coach=coach, title="Morning circle", capacity=1, price=0)
    start = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).replace(hour=9, minute=0, second=0, microsecond=0)
    session = services.publish_session(actor=coach, session_type=circle, start=start)
    services.take_seat(client=ClientFactory(), session=session)
    return session


def test_an_entry_closed_by_the_system_reads_in_each_clients_language(session):
    french, english = ClientFactory(language="fr"), ClientFactory(language="en")
    for person in (french, english):
        waitlist.join(actor=person, client=person, session=session)
    # The task that closes it runs in French here: what it stores is still English.
    with translation.override("fr"):
        assert waitlist.close_waitlist(session, now=dt.datetime.now(dt.UTC)) == 2
    assert set(WaitlistEntry.objects.values_list("end_reason", flat=True)) == {"The session has begun."}

    assert "(La séance a commencé.)" in _page_of(french)
    assert "(The session has begun.)" in _page_of(english)


def test_leaving_in_french_stores_english_and_shows_french_to_a_french_reader(session):
    french = ClientFactory(language="fr")
    entry = waitlist.join(actor=french, client=french, session=session)
    with translation.override("fr"):
        waitlist.leave(actor=french, entry=entry)
    entry.refresh_from_db()
    assert entry.status == EntryStatus.LEFT
    assert entry.end_reason == "Left the waitlist."
    assert "(A quitté la liste d'attente.)" in _page_of(french)


def test_a_reason_written_in_french_before_the_change_stays_as_it_was(session):
    english = ClientFactory(language="en")
    entry = waitlist.join(actor=english, client=english, session=session)
    WaitlistEntry.objects.filter(pk=entry.pk).update(
        status=EntryStatus.LEFT, ended_at=dt.datetime.now(dt.UTC), end_reason="A quitté la liste d'attente."
    )
    assert "(A quitté la liste d'attente.)" in _page_of(english)
