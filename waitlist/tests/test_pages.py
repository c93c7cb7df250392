"""The waitlist in the browser's pages: join from a full session's row, the client's own
waitlist, an offer's page (accept or decline), and a session's queue for its coach and
staff (staff move people by hand, with a reason)."""

from __future__ import annotations

import datetime as dt
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import ClientFactory, StaffFactory
from bookings import relay, services
from bookings.models import BookingStatus
from bookings.tests.factories import GroupTypeFactory, open_coach
from waitlist import services as waitlist
from waitlist.models import EntryStatus, OfferStatus, WaitlistEntry, WaitlistMove, WaitlistOffer

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    http = Client()
    http.force_login(user)
    return http


def text_of(response) -> str:
    return unescape(response.content.decode())


@pytest.fixture
def full():
    coach = open_coach(timezone="Europe/Paris")
    circle = GroupTypeFactory(coach=coach, title="Morning circle", capacity=1, price=0)
    start = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).replace(hour=9, minute=0, second=0, microsecond=0)
    session = services.publish_session(actor=coach, session_type=circle, start=start)
    holder = ClientFactory(name="Hana Holder")
    booking = services.take_seat(client=holder, session=session)
    return session, booking


def _type_page(session) -> str:
    return reverse("book_type", args=[session.coach_id, session.session_type_id])


def test_a_full_session_offers_to_join_its_waitlist_and_shows_the_place(full):
    session, _ = full
    sofia = ClientFactory(name="Sofia Marquez")
    http = signed_in(sofia)
    page = text_of(http.get(_type_page(session)))
    assert 'data-testid="join-waitlist"' in page
    assert 'data-testid="take-seat"' not in page

    joined = http.post(reverse("waitlist:join", args=[session.pk]), follow=True)
    assert joined.redirect_chain[-1][0] == reverse("waitlist:mine")
    mine = text_of(joined)
    assert "You are on the waitlist, number 1." in mine
    assert "Number 1 of 1 waiting" in mine
    assert "On the waitlist: number 1" in text_of(http.get(_type_page(session)))


def test_someone_signed_out_is_asked_to_sign_in_to_join(full):
    session, _ = full
    page = text_of(Client().get(_type_page(session)))
    assert 'data-testid="join-waitlist"' in page
    assert reverse("account_login") in page


def test_the_offer_page_takes_the_seat_in_one_click(full):
    session, booking = full
    sofia = ClientFactory(name="Sofia Marquez")
    waitlist.join(actor=sofia, client=sofia, session=session)
    services.cancel(booking=booking, actor=booking.client)
    relay.relay_pending()
    offer = WaitlistOffer.objects.get()
    http = signed_in(sofia)
    mine = text_of(http.get(reverse("waitlist:mine")))
    assert "A seat is held for you" in mine
    page = text_of(http.get(reverse("waitlist:offer", args=[offer.pk])))
    assert "Held until" in page and 'data-testid="accept-offer"' in page
    assert signed_in(ClientFactory()).get(reverse("waitlist:offer", args=[offer.pk])).status_code == 404

    taken = http.post(reverse("waitlist:offer", args=[offer.pk]), {"answer": "accept"})
    assert taken.status_code == 302
    new = WaitlistEntry.objects.get(client=sofia).booking
    assert taken["Location"] == reverse("booking_done", args=[new.reference])
    assert new.status == BookingStatus.FIRM_BOOKED
    again = text_of(http.get(reverse("waitlist:offer", args=[offer.pk])))
    assert "You took it" in again


def test_declining_on_the_page_passes_the_seat_on(full):
    session, booking = full
    first, second = ClientFactory(), ClientFactory()
    for person in (first, second):
        waitlist.join(actor=person, client=person, session=session)
    services.cancel(booking=booking, actor=booking.client)
    relay.relay_pending()
    offer = WaitlistOffer.objects.get()
    taker = offer.entry.client
    answered = signed_in(taker).post(reverse("waitlist:offer", args=[offer.pk]), {"answer": "decline"}, follow=True)
    assert "it goes to the next person waiting" in text_of(answered)
    assert WaitlistOffer.objects.get(status=OfferStatus.PENDING).entry.client != taker


def test_an_expired_offer_says_so_and_books_nothing(full):
    session, booking = full
    sofia = ClientFactory()
    waitlist.join(actor=sofia, client=sofia, session=session)
    services.cancel(booking=booking, actor=booking.client)
    relay.relay_pending()
    offer = WaitlistOffer.objects.get()
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
    WaitlistOffer.objects.filter(pk=offer.pk).update(offered_at=past, expires_at=past + dt.timedelta(hours=2))
    answer = signed_in(sofia).post(reverse("waitlist:offer", args=[offer.pk]), {"answer": "accept"})
    assert answer.status_code == 409
    assert "This offer has expired." in text_of(answer)
    assert WaitlistEntry.objects.get(client=sofia).booking is None


def test_leaving_from_the_page(full):
    session, _ = full
    sofia = ClientFactory()
    entry = waitlist.join(actor=sofia, client=sofia, session=session)
    http = signed_in(sofia)
    assert http.post(reverse("waitlist:leave", args=[entry.pk])).status_code == 302
    entry.refresh_from_db()
    assert entry.status == EntryStatus.LEFT
    assert signed_in(ClientFactory()).post(reverse("waitlist:leave", args=[entry.pk])).status_code == 404


def test_the_queue_shows_factors_to_the_coach_and_staff_move_people_with_a_reason(full):
    session, _ = full
    people = [ClientFactory(name=f"Person {n}") for n in range(3)]
    now = dt.datetime.now(dt.UTC)
    for hours, person in zip((3, 2, 1), people, strict=True):
        waitlist.join(actor=person, client=person, session=session, now=now - dt.timedelta(hours=hours))
    url = reverse("waitlist:queue", args=[session.pk])
    coach_view = text_of(signed_in(session.coach).get(url))
    assert coach_view.index("Person 0") < coach_view.index("Person 1") < coach_view.index("Person 2")
    assert "Cancellations" in coach_view and 'data-testid="move-form"' not in coach_view
    assert signed_in(people[0]).get(url).status_code == 403

    staff = signed_in(StaffFactory())
    last = WaitlistEntry.objects.get(client=people[2])
    refused = staff.post(reverse("waitlist:move", args=[last.pk]), {"to_position": "1", "reason": ""}, follow=True)
    assert "Say why this person moves." in text_of(refused)
    assert not WaitlistMove.objects.exists()
    staff.post(reverse("waitlist:move", args=[last.pk]), {"to_position": "1", "reason": "Missed the last one"})
    move = WaitlistMove.objects.get()
    assert (move.from_position, move.to_position, move.reason) == (3, 1, "Missed the last one")
    assert waitlist.position(last) == 1
    page = text_of(staff.get(url))
    assert page.index("Person 2") < page.index("Person 0")
    moved = page[page.index('data-testid="waitlist-moves"') :]
    assert "Missed the last one" in moved and "3 → 1" in moved
    assert (
        signed_in(session.coach)
        .post(reverse("waitlist:move", args=[last.pk]), {"to_position": "2", "reason": "x"})
        .status_code
        == 403
    )
