"""The waitlist of a full group session: joining, the offer of a freed seat to the
best-placed person (found by the booking event stream's consumer), the seat held for them,
expiry and decline passing it on, acceptance booking it — and capacity never exceeded."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.test import override_settings

from accounts.models import Connection, ConnectionStatus
from accounts.tests.factories import ClientFactory, StaffFactory
from bookings import relay, services
from bookings.models import Booking, BookingStatus, Session
from bookings.tests.factories import GroupTypeFactory, open_coach
from config.errors import DomainError
from notifications.models import Kind, Notification
from waitlist import services as waitlist
from waitlist.models import EntryStatus, OfferStatus, WaitlistEntry, WaitlistOffer

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def _start(days: int = 3) -> dt.datetime:
    today = dt.datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return (today + dt.timedelta(days=days)).replace(hour=9)


@pytest.fixture
def full_session():
    """A published two-seat group session, both seats taken."""
    coach = open_coach()
    group = GroupTypeFactory(coach=coach, capacity=2)
    session = services.publish_session(actor=coach, session_type=group, start=_start())
    holders = [ClientFactory() for _ in range(2)]
    bookings = [services.take_seat(client=client, session=session) for client in holders]
    session.refresh_from_db()
    return session, bookings


def _cancel_and_relay(booking: Booking) -> None:
    services.cancel(booking=booking, actor=booking.client)
    relay.relay_pending()


def _connect(client, coach) -> None:
    Connection.objects.create(client=client, coach=coach, status=ConnectionStatus.ACCEPTED)


def test_joining_needs_a_full_session_and_happens_once(full_session):
    session, _bookings = full_session
    client = ClientFactory()
    entry = waitlist.join(actor=client, client=client, session=session)
    assert entry.status == EntryStatus.WAITING
    assert waitlist.position(entry) == 1

    with pytest.raises(DomainError) as again:
        waitlist.join(actor=client, client=client, session=session)
    assert again.value.code == "already_waiting"

    holder = _bookings[0].client
    with pytest.raises(DomainError) as seated:
        waitlist.join(actor=holder, client=holder, session=session)
    assert seated.value.code == "client_conflict"

    open_session = services.publish_session(
        actor=session.coach, session_type=session.session_type, start=_start(days=4)
    )
    with pytest.raises(DomainError) as free:
        waitlist.join(actor=client, client=client, session=open_session)
    assert free.value.code == "not_full"


@override_settings(MAX_WAITLIST_SIZE=2)
def test_the_waitlist_has_a_size_and_the_type_may_set_its_own(full_session):
    session, _ = full_session
    for _ in range(2):
        person = ClientFactory()
        waitlist.join(actor=person, client=person, session=session)
    late = ClientFactory()
    with pytest.raises(DomainError) as refused:
        waitlist.join(actor=late, client=late, session=session)
    assert refused.value.code == "waitlist_full"

    session.session_type.max_waitlist_size = 3
    session.session_type.save()
    session.refresh_from_db()
    assert waitlist.join(actor=late, client=late, session=session).status == EntryStatus.WAITING


def test_a_full_session_refuses_a_seat_and_says_one_may_wait(full_session):
    session, _ = full_session
    newcomer = ClientFactory()
    with pytest.raises(DomainError) as refused:
        services.take_seat(client=newcomer, session=session)
    assert refused.value.code == "full"
    assert refused.value.extra == {"waitlist": True}


def test_a_freed_seat_goes_to_the_best_scored_held_then_passed_on_then_accepted(full_session):
    session, bookings = full_session
    coach = session.coach
    now = dt.datetime.now(UTC)
    first_in, connected, regular = ClientFactory(), ClientFactory(), ClientFactory()
    _connect(connected, coach)
    # Joined first, but nothing else: the connected client outranks them (0.3 > waiting time).
    waitlist.join(actor=first_in, client=first_in, session=session, now=now - dt.timedelta(hours=5))
    waitlist.join(actor=connected, client=connected, session=session, now=now - dt.timedelta(hours=1))
    waitlist.join(actor=regular, client=regular, session=session, now=now - dt.timedelta(hours=3))

    _cancel_and_relay(bookings[0])

    offer = WaitlistOffer.objects.get()
    assert offer.entry.client == connected
    assert offer.status == OfferStatus.PENDING
    assert offer.factors["connection"] == 1.0
    session.refresh_from_db()
    assert (session.seats_taken, session.seats_held) == (1, 1)
    assert offer.expires_at == offer.offered_at + dt.timedelta(minutes=120)
    # Held: nobody else can take it, not even someone who was never waiting.
    with pytest.raises(DomainError) as taken:
        services.take_seat(client=ClientFactory(), session=session)
    assert taken.value.code == "full"
    # The connected client is told, by email and in the app, with the time in their zone.
    note = Notification.objects.get(recipient=connected, kind=Kind.WAITLIST_OFFER)
    assert "Held for you until" in note.body

    # Not answered in time: the next best (first_in has waited longest) gets it.
    waitlist.expire_offers(now=offer.expires_at + dt.timedelta(seconds=1))
    offer.refresh_from_db()
    assert offer.status == OfferStatus.EXPIRED
    assert WaitlistEntry.objects.get(client=connected).status == EntryStatus.MISSED
    assert Notification.objects.filter(recipient=connected, kind=Kind.WAITLIST_EXPIRED).exists()
    second = WaitlistOffer.objects.get(status=OfferStatus.PENDING)
    assert second.entry.client == first_in
    session.refresh_from_db()
    assert (session.seats_taken, session.seats_held) == (1, 1)

    booking = waitlist.accept(actor=first_in, offer=second, now=second.offered_at + dt.timedelta(minutes=5))
    assert booking.status == BookingStatus.FIRM_BOOKED
    session.refresh_from_db()
    assert (session.seats_taken, session.seats_held) == (2, 0)
    assert WaitlistEntry.objects.get(client=first_in).status == EntryStatus.BOOKED
    assert WaitlistEntry.objects.get(client=regular).status == EntryStatus.WAITING
    assert Booking.objects.filter(session=session, status__in=["firm_booked", "confirmed"]).count() == 2


def test_declining_passes_the_seat_on_and_leaving_with_an_offer_too(full_session):
    session, bookings = full_session
    now = dt.datetime.now(UTC)
    people = [ClientFactory() for _ in range(3)]
    for hours, person in zip((3, 2, 1), people, strict=True):
        waitlist.join(actor=person, client=person, session=session, now=now - dt.timedelta(hours=hours))
    _cancel_and_relay(bookings[0])
    offer = WaitlistOffer.objects.get()
    assert offer.entry.client == people[0]

    waitlist.decline(actor=people[0], offer=offer)
    nxt = WaitlistOffer.objects.get(status=OfferStatus.PENDING)
    assert nxt.entry.client == people[1]
    waitlist.leave(actor=people[1], entry=nxt.entry)
    last = WaitlistOffer.objects.get(status=OfferStatus.PENDING)
    assert last.entry.client == people[2]
    session.refresh_from_db()
    assert (session.seats_taken, session.seats_held) == (1, 1)


def test_an_expired_offer_cannot_be_accepted(full_session):
    session, bookings = full_session
    person = ClientFactory()
    waitlist.join(actor=person, client=person, session=session)
    _cancel_and_relay(bookings[0])
    offer = WaitlistOffer.objects.get()
    with pytest.raises(DomainError) as late:
        waitlist.accept(actor=person, offer=offer, now=offer.expires_at + dt.timedelta(seconds=1))
    assert late.value.code == "offer_expired"
    assert not Booking.objects.filter(client=person).exists()


def test_someone_else_cannot_answer_an_offer(full_session):
    session, bookings = full_session
    person = ClientFactory()
    waitlist.join(actor=person, client=person, session=session)
    _cancel_and_relay(bookings[0])
    offer = WaitlistOffer.objects.get()
    with pytest.raises(DomainError) as refused:
        waitlist.accept(actor=ClientFactory(), offer=offer)
    assert refused.value.status == 403
    # Staff may act for the client (they book for clients who phone in).
    booking = waitlist.accept(actor=StaffFactory(), offer=offer)
    assert booking.client == person


def test_the_relay_replayed_offers_nothing_twice(full_session):
    session, bookings = full_session
    people = [ClientFactory() for _ in range(2)]
    for person in people:
        waitlist.join(actor=person, client=person, session=session)
    _cancel_and_relay(bookings[0])
    waitlist.offer_seats(session.pk)
    waitlist.offer_seats(session.pk)
    assert WaitlistOffer.objects.count() == 1
    session.refresh_from_db()
    assert session.seats_held == 1


def test_a_raised_capacity_is_offered_by_the_sweep(full_session):
    session, _ = full_session
    people = [ClientFactory() for _ in range(3)]
    for person in people:
        waitlist.join(actor=person, client=person, session=session)
    Session.objects.filter(pk=session.pk).update(capacity=4)
    assert waitlist.sweep() == 2
    session.refresh_from_db()
    assert (session.seats_taken, session.seats_held) == (2, 2)
    assert WaitlistEntry.objects.filter(status=EntryStatus.WAITING).count() == 1


def test_a_session_called_off_closes_its_waitlist(full_session):
    session, bookings = full_session
    people = [ClientFactory() for _ in range(2)]
    for person in people:
        waitlist.join(actor=person, client=person, session=session)
    _cancel_and_relay(bookings[0])
    services.cancel_session(session=session, actor=session.coach, reason="The trainer is ill.")
    relay.relay_pending()
    waitlist.sweep()
    assert set(WaitlistEntry.objects.values_list("status", flat=True)) == {EntryStatus.CLOSED}
    assert WaitlistOffer.objects.get().status == OfferStatus.WITHDRAWN
    session.refresh_from_db()
    assert (session.seats_taken, session.seats_held) == (0, 0)


def test_the_offer_email_names_the_time_held_in_the_clients_zone(full_session):
    session, bookings = full_session
    person = ClientFactory(timezone="Asia/Tokyo")
    waitlist.join(actor=person, client=person, session=session)
    mail.outbox.clear()
    _cancel_and_relay(bookings[0])
    offer = WaitlistOffer.objects.get()
    note = Notification.objects.get(recipient=person, kind=Kind.WAITLIST_OFFER)
    local = offer.expires_at.astimezone(dt.timezone(dt.timedelta(hours=9)))
    assert f"{local:%H:%M} (Asia/Tokyo)" in note.body
    assert f"/waitlist/offers/{offer.pk}/" in note.payload["extra"]["offer_url"]


def test_moving_up_into_the_first_places_is_told_once(full_session):
    session, bookings = full_session
    now = dt.datetime.now(UTC)
    people = [ClientFactory() for _ in range(5)]
    for hours, person in zip((9, 8, 7, 6, 5), people, strict=True):
        waitlist.join(actor=person, client=person, session=session, now=now - dt.timedelta(hours=hours))
    assert [WaitlistEntry.objects.get(client=p).told_position for p in people] == [1, 2, 3, 4, 5]
    _cancel_and_relay(bookings[0])  # people[0] is offered the seat; everyone moves up one
    told = {note.recipient_id: note.title for note in Notification.objects.filter(kind=Kind.WAITLIST_POSITION)}
    # Number 2 → 1 and 3 → 2 and 4 → 3 are told; 5 → 4 is only shown.
    assert set(told) == {people[1].pk, people[2].pk, people[3].pk}
    assert told[people[1].pk].startswith("You are number 1 on the waitlist")
    assert WaitlistEntry.objects.get(client=people[4]).told_position == 5
    # A replay of the same offers tells nobody again.
    waitlist.offer_seats(session.pk)
    assert Notification.objects.filter(kind=Kind.WAITLIST_POSITION).count() == 3
