"""The waitlist under real concurrency (threads, each with its own connection, released
together), on whichever database the suite runs on: cancellations freeing seats, the
relay's consumer offering them, clients accepting (some twice at once), newcomers trying
to take a seat — and afterwards capacity never exceeded, every held seat an offer, every
offer its own person."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from accounts.tests.factories import ClientFactory
from bookings import relay, services
from bookings.models import ACTIVE_STATUSES, Booking, Session
from bookings.tests.factories import GroupTypeFactory, open_coach
from bookings.tests.test_concurrency import run_together
from waitlist import services as waitlist
from waitlist.models import OfferStatus, WaitlistEntry, WaitlistOffer

pytestmark = pytest.mark.django_db(transaction=True)


def _check_invariants(session: Session) -> None:
    session.refresh_from_db()
    active = Booking.objects.filter(session=session, status__in=ACTIVE_STATUSES)
    pending = WaitlistOffer.objects.filter(session=session, status=OfferStatus.PENDING)
    assert session.seats_taken + session.seats_held <= session.capacity
    assert session.seats_taken == active.count()
    assert session.seats_held == pending.count()
    assert len(set(active.values_list("client_id", flat=True))) == active.count()
    offered_to = list(pending.values_list("entry__client_id", flat=True))
    assert len(set(offered_to)) == len(offered_to)
    assert not set(offered_to) & set(active.values_list("client_id", flat=True))


def test_fifty_threads_cancelling_accepting_and_booking_at_once():
    coach = open_coach()
    group = GroupTypeFactory(coach=coach, capacity=10)
    start = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    session = services.publish_session(actor=coach, session_type=group, start=start)
    holders = [ClientFactory() for _ in range(10)]
    bookings = [services.take_seat(client=client, session=session) for client in holders]
    waiting = [ClientFactory() for _ in range(20)]
    for person in waiting:
        waitlist.join(actor=person, client=person, session=session)
    # Five seats free and are offered: five people hold an offer.
    for booking in bookings[:5]:
        services.cancel(booking=booking, actor=booking.client)
    relay.relay_pending()
    offers = list(WaitlistOffer.objects.filter(status=OfferStatus.PENDING).select_related("entry__client"))
    assert len(offers) == 5
    _check_invariants(session)
    newcomers = [ClientFactory() for _ in range(20)]

    calls = []
    for offer in offers:  # each offer accepted twice at once
        for _ in range(2):
            calls.append(lambda o=offer: waitlist.accept(actor=o.entry.client, offer=o))
    for booking in bookings[5:]:  # the other five holders cancel
        calls.append(lambda b=booking: services.cancel(booking=b, actor=b.client))
    for person in newcomers:  # outsiders try to take a seat
        calls.append(lambda p=person: services.take_seat(client=p, session=session))
    for _ in range(15):  # relays run while all that happens
        calls.append(relay.relay_pending)
    assert len(calls) == 50

    results = run_together(calls)
    codes = Counter(result if isinstance(result, str) else "ok" for result in results)

    # Every offer accepted exactly once; no outsider got in while people wait.
    accepted = results[:10]
    assert sum(not isinstance(result, str) for result in accepted) == 5
    assert Counter(r for r in accepted if isinstance(r, str)) == {"invalid_transition": 5}
    assert Counter(results[15:35]) == {"full": 20}
    assert codes["ok"] >= 5 + 5 + 15
    relay.relay_pending()
    _check_invariants(session)
    session.refresh_from_db()
    # The five seats the other holders let go went to the next five in line.
    assert session.seats_taken == 5 and session.seats_held == 5
    assert not Booking.objects.filter(client__in=newcomers).exists()

    # Those five accept, and the waitlist fills the session from its own people only.
    for offer in WaitlistOffer.objects.filter(status=OfferStatus.PENDING).select_related("entry__client"):
        waitlist.accept(actor=offer.entry.client, offer=offer)
    _check_invariants(session)
    session.refresh_from_db()
    assert session.seats_taken == 10
    booked = set(Booking.objects.filter(session=session, status__in=ACTIVE_STATUSES).values_list("client", flat=True))
    assert booked <= {person.pk for person in waiting} | {holder.pk for holder in holders}
    assert WaitlistEntry.objects.filter(status="booked").count() == 10
