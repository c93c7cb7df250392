"""What workshop participants are told: "it's on" at the deadline (or when the coach
confirms early), the call-off below the minimum, and material shared."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail

from accounts.tests.factories import ClientFactory
from bookings import relay, services
from bookings.models import SessionKind
from bookings.services import workshops
from bookings.tests.factories import GroupTypeFactory, open_coach
from notifications.models import Kind, Notification

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def workshop(clock):
    coach = open_coach(timezone="Europe/Paris")
    kind = GroupTypeFactory(
        coach=coach, title="Negotiation workshop", kind=SessionKind.WORKSHOP, capacity=6, min_participants=2
    )
    session = services.publish_session(actor=coach, session_type=kind, start=NOW + dt.timedelta(days=5))
    return session


def test_everyone_booked_is_told_it_is_on(clock, workshop, django_capture_on_commit_callbacks):
    people = [ClientFactory(timezone="America/New_York") for _ in range(2)]
    for person in people:
        services.take_seat(client=person, session=workshop)
    relay.relay_pending()
    mail.outbox.clear()
    clock.move_to(workshop.confirm_by + dt.timedelta(minutes=1))
    assert workshops.settle_due() == (1, 0)
    with django_capture_on_commit_callbacks(execute=True):
        relay.relay_pending()
    for person in people:
        note = Notification.objects.get(recipient=person, kind=Kind.WORKSHOP_CONFIRMED)
        assert "takes place as planned" in note.body
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in people)
    assert all(m.subject.startswith("It's on: Negotiation workshop") for m in mail.outbox)
    assert not Notification.objects.filter(recipient=workshop.coach, kind=Kind.WORKSHOP_CONFIRMED).exists()


def test_below_the_minimum_everyone_is_told_it_is_called_off(clock, workshop):
    alone = ClientFactory()
    services.take_seat(client=alone, session=workshop)
    relay.relay_pending()
    clock.move_to(workshop.confirm_by + dt.timedelta(minutes=1))
    assert workshops.settle_due() == (0, 1)
    relay.relay_pending()
    note = Notification.objects.get(recipient=alone, kind=Kind.CANCELLED)
    assert "needs at least 2" in note.body


def test_material_shared_is_announced_with_its_title(clock, workshop):
    person = ClientFactory()
    services.take_seat(client=person, session=workshop)
    relay.relay_pending()
    workshops.add_material(
        actor=workshop.coach, session=workshop, title="Pre-reading: BATNA", url="https://example.com/batna"
    )
    relay.relay_pending()
    note = Notification.objects.get(recipient=person, kind=Kind.MATERIAL_AVAILABLE)
    assert note.title == "Material for Negotiation workshop: Pre-reading: BATNA"
