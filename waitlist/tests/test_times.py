"""Waiting for one-on-one time: joining with preferences, a freed time that matches held
for the best-placed (one or several at once: the first to accept takes it), nobody else
able to book it meanwhile, decline and expiry passing it on, new hours found by the sweep,
and entries ending with their dates."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.test import Client, override_settings

from accounts.models import Connection, ConnectionStatus
from accounts.tests.factories import ClientFactory, make_token
from availability.models import Allocation, AllocationKind
from bookings import relay, services
from bookings.models import Booking, BookingStatus
from bookings.tests.factories import SessionTypeFactory, open_coach
from config.errors import DomainError
from waitlist import services as waitlist
from waitlist import times
from waitlist.models import EntryStatus, OfferStatus, WaitlistEntry, WaitlistOffer

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # a Tuesday; 09:00 in Paris
# Thursday 3 December, 10:00 in Paris (09:00 UTC).
THURSDAY_10 = dt.datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def consult():
    coach = open_coach(timezone="Europe/Paris")
    return SessionTypeFactory(coach=coach, title="Consultation")


def wait_for_thursday_mornings(client, consult, **extra):
    values = {
        "days_of_week": [3],
        "time_ranges": [["09:00", "12:00"]],
        "date_from": dt.date(2026, 12, 1),
        "date_to": dt.date(2026, 12, 20),
    }
    return times.join(actor=client, client=client, session_type=consult, **{**values, **extra})


def test_joining_checks_the_preferences(consult):
    ana = ClientFactory(timezone="Europe/Paris")
    bad = [
        ({"days_of_week": []}, "days_of_week"),
        ({"days_of_week": [7]}, "days_of_week"),
        ({"time_ranges": [["12:00", "09:00"]]}, "time_ranges"),
        ({"time_ranges": [["9am", "noon"]]}, "time_ranges"),
        ({"date_from": dt.date(2026, 11, 30)}, "date_from"),
        ({"date_to": dt.date(2026, 11, 30)}, "date_to"),  # before the first date? past too
        ({"date_to": dt.date(2027, 6, 1)}, "date_to"),  # beyond the 60-day window
    ]
    for extra, field in bad:
        with pytest.raises(DomainError) as refused:
            wait_for_thursday_mornings(ana, consult, **extra)
        assert refused.value.field == field, extra
    entry = wait_for_thursday_mornings(ana, consult)
    assert entry.expires_at == dt.datetime(2026, 12, 20, 23, 0, tzinfo=UTC)  # midnight in Paris
    with pytest.raises(DomainError) as twice:
        wait_for_thursday_mornings(ana, consult)
    assert twice.value.code == "already_waiting"


def test_wants_reads_the_clients_own_clock(consult):
    tokyo = ClientFactory(timezone="Asia/Tokyo")
    # Thursday 18:00–21:00 in Tokyo is 10:00–13:00 in Paris.
    entry = wait_for_thursday_mornings(tokyo, consult, time_ranges=[["18:00", "21:00"]])
    assert times.wants(entry, THURSDAY_10, THURSDAY_10 + dt.timedelta(hours=1))
    assert not times.wants(entry, THURSDAY_10 + dt.timedelta(hours=3), THURSDAY_10 + dt.timedelta(hours=4))
    assert not times.wants(entry, THURSDAY_10 + dt.timedelta(days=1), THURSDAY_10 + dt.timedelta(days=1, hours=1))


def test_a_freed_time_is_held_for_the_best_placed_and_nobody_else_can_book_it(consult):
    holder = ClientFactory()
    booking = services.book_slot(client=holder, session_type=consult, start=THURSDAY_10)
    plain, connected, elsewhere = ClientFactory(), ClientFactory(), ClientFactory()
    Connection.objects.create(client=connected, coach=consult.coach, status=ConnectionStatus.ACCEPTED)
    for person in (plain, connected):
        wait_for_thursday_mornings(person, consult)
    wait_for_thursday_mornings(elsewhere, consult, days_of_week=[4])  # Fridays only

    services.cancel(booking=booking, actor=holder)
    relay.relay_pending()

    offer = WaitlistOffer.objects.get()
    assert offer.entry.client == connected and offer.start == THURSDAY_10
    hold = offer.hold
    assert hold.kind == AllocationKind.HOLD and hold.is_active and hold.staff == consult.coach
    with pytest.raises(DomainError) as taken:
        services.book_slot(client=ClientFactory(), session_type=consult, start=THURSDAY_10)
    assert taken.value.code == "slot_taken"

    booking = waitlist.accept(actor=connected, offer=offer)
    assert booking.session.start == THURSDAY_10 and booking.status == BookingStatus.FIRM_BOOKED
    hold.refresh_from_db()
    assert not hold.is_active
    assert Allocation.objects.filter(staff=consult.coach, is_active=True).count() == 1
    assert WaitlistEntry.objects.get(client=connected).status == EntryStatus.BOOKED
    assert WaitlistEntry.objects.get(client=plain).status == EntryStatus.WAITING


@override_settings(WAITLIST_TIME_OFFERS_AT_ONCE=2)
def test_offered_to_two_at_once_the_first_to_accept_takes_it(consult):
    booking = services.book_slot(client=ClientFactory(), session_type=consult, start=THURSDAY_10)
    people = [ClientFactory() for _ in range(3)]
    for person in people:
        wait_for_thursday_mornings(person, consult)
    services.cancel(booking=booking, actor=booking.client)
    relay.relay_pending()
    first, second = WaitlistOffer.objects.order_by("pk")
    assert first.hold_id == second.hold_id
    waitlist.accept(actor=second.entry.client, offer=second)
    first.refresh_from_db()
    assert first.status == OfferStatus.TAKEN
    assert first.entry.status == EntryStatus.WAITING  # keeps waiting for another time
    with pytest.raises(DomainError) as late:
        waitlist.accept(actor=first.entry.client, offer=first)
    assert late.value.code == "offer_expired"
    assert Booking.objects.filter(session__start=THURSDAY_10, status=BookingStatus.FIRM_BOOKED).count() == 1


def test_a_declined_time_goes_to_the_next_and_never_back(consult):
    booking = services.book_slot(client=ClientFactory(), session_type=consult, start=THURSDAY_10)
    first, second = ClientFactory(), ClientFactory()
    wait_for_thursday_mornings(first, consult)
    wait_for_thursday_mornings(second, consult, date_from=dt.date(2026, 12, 2))
    services.cancel(booking=booking, actor=booking.client)
    relay.relay_pending()
    offer = WaitlistOffer.objects.get()
    taker = offer.entry.client
    waitlist.decline(actor=taker, offer=offer)
    assert WaitlistEntry.objects.get(client=taker).status == EntryStatus.WAITING
    nxt = WaitlistOffer.objects.get(status=OfferStatus.PENDING)
    assert nxt.entry.client != taker and nxt.start == THURSDAY_10
    waitlist.decline(actor=nxt.entry.client, offer=nxt)
    # Nobody left who wants it and hasn't had it: the time is free again.
    assert not Allocation.objects.filter(kind=AllocationKind.HOLD, is_active=True).exists()
    assert services.book_slot(client=ClientFactory(), session_type=consult, start=THURSDAY_10)


def test_an_offer_not_answered_expires_ends_the_entry_and_passes_on(consult, clock):
    booking = services.book_slot(client=ClientFactory(), session_type=consult, start=THURSDAY_10)
    first, second = ClientFactory(), ClientFactory()
    wait_for_thursday_mornings(first, consult)
    wait_for_thursday_mornings(second, consult)
    services.cancel(booking=booking, actor=booking.client)
    relay.relay_pending()
    offer = WaitlistOffer.objects.get()
    assert offer.expires_at == NOW + dt.timedelta(minutes=120)
    clock.move_to(offer.expires_at + dt.timedelta(minutes=1))
    waitlist.sweep()
    offer.refresh_from_db()
    assert offer.status == OfferStatus.EXPIRED
    assert offer.entry.status == EntryStatus.MISSED
    assert WaitlistOffer.objects.get(status=OfferStatus.PENDING).entry.client != offer.entry.client


def test_an_offer_never_runs_past_the_minimum_notice(consult):
    profile = consult.coach.coach_profile
    profile.minimum_notice_hours = 24
    profile.save()
    start = NOW + dt.timedelta(hours=25)  # Wednesday 10:00 in Paris
    booking = services.book_slot(client=ClientFactory(), session_type=consult, start=start)
    wait_for_thursday_mornings(ClientFactory(), consult, days_of_week=[2])
    services.cancel(booking=booking, actor=booking.client)
    relay.relay_pending()
    offer = WaitlistOffer.objects.get()
    assert offer.expires_at == start - dt.timedelta(hours=24)  # an hour from now, not two


def test_new_hours_are_found_by_the_sweep(consult):
    # The coach's Thursday is fully booked, so nothing is offered…
    for hour in range(8, 16):
        services.book_slot(client=ClientFactory(), session_type=consult, start=THURSDAY_10.replace(hour=hour))
    person = ClientFactory(timezone="Europe/Paris")
    wait_for_thursday_mornings(person, consult, date_to=dt.date(2026, 12, 5))  # this Thursday only
    assert waitlist.sweep() == 0
    # …until a morning booking goes and the sweep finds it (an event missed, new hours).
    gone = Booking.objects.get(session__start=THURSDAY_10)
    gone.status = BookingStatus.CANCELLED
    gone.save()
    Allocation.objects.filter(session=gone.session).update(is_active=False)
    assert waitlist.sweep() == 1
    assert WaitlistOffer.objects.get().start == THURSDAY_10


def test_entries_end_with_their_dates(consult, clock):
    entry = wait_for_thursday_mornings(ClientFactory(), consult, date_to=dt.date(2026, 12, 2))
    clock.move_to(entry.expires_at + dt.timedelta(minutes=1))
    waitlist.sweep()
    entry.refresh_from_db()
    assert entry.status == EntryStatus.CLOSED


def test_waiting_for_times_over_json(consult):
    person = ClientFactory(timezone="Europe/Paris")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {make_token(person)[1]}"}
    body = {
        "coach": consult.coach_id,
        "session_type": consult.pk,
        "days_of_week": [3],
        "time_ranges": [["09:00", "12:00"]],
        "date_from": "2026-12-01",
        "date_to": "2026-12-20",
    }
    answer = Client().post("/api/v1/waitlist", json.dumps(body), content_type="application/json", **auth)
    assert answer.status_code == 201, answer.content
    shown = answer.json()
    assert (shown["session"], shown["session_type"], shown["position"]) == (None, "Consultation", 1)
    assert shown["time_ranges"] == [["09:00", "12:00"]] and shown["zone"] == "Europe/Paris"
    wrong = Client().post(
        "/api/v1/waitlist",
        json.dumps({**body, "session_type": consult.pk, "time_ranges": [["13:00", "12:00"]]}),
        content_type="application/json",
        **auth,
    )
    assert wrong.status_code in (400, 409)
    missing = Client().post(
        "/api/v1/waitlist", json.dumps({"days_of_week": [1]}), content_type="application/json", **auth
    )
    assert (missing.status_code, missing.json()["error"]["code"]) == (400, "invalid")


def test_waiting_for_times_from_the_pages(consult):
    from django.urls import reverse

    person = ClientFactory(timezone="Europe/Paris")
    http = Client()
    http.force_login(person)
    page = http.get(reverse("book_type", args=[consult.coach_id, consult.pk])).content.decode()
    assert reverse("waitlist:times", args=[consult.pk]) in page
    form = http.get(reverse("waitlist:times", args=[consult.pk]))
    assert form.status_code == 200
    bad = http.post(
        reverse("waitlist:times", args=[consult.pk]),
        {
            "days_of_week": ["3"],
            "start_time": "12:00",
            "end_time": "09:00",
            "date_from": "2026-12-01",
            "date_to": "2026-12-20",
        },
    )
    assert bad.status_code == 400 and "A time range ends after it starts." in bad.content.decode()
    joined = http.post(
        reverse("waitlist:times", args=[consult.pk]),
        {
            "days_of_week": ["3"],
            "start_time": "09:00",
            "end_time": "12:00",
            "date_from": "2026-12-01",
            "date_to": "2026-12-20",
        },
        follow=True,
    )
    text = joined.content.decode()
    assert "Thursday, 09:00–12:00" in text and "Number 1 of 1 waiting" in text
    booking = services.book_slot(client=ClientFactory(), session_type=consult, start=THURSDAY_10)
    services.cancel(booking=booking, actor=booking.client)
    relay.relay_pending()
    offer = WaitlistOffer.objects.get()
    page = http.get(reverse("waitlist:offer", args=[offer.pk])).content.decode()
    assert "A time is held for you" in page, page[page.find("<main") :][:3000]
    assert "Thursday 3 December 2026" in page, page[page.find("offer-date") :][:300]
    taken = http.post(reverse("waitlist:offer", args=[offer.pk]), {"answer": "accept"})
    assert taken.status_code == 302 and "/done/" in taken["Location"]


def test_the_coach_sees_who_waits_for_times_and_staff_move_them(consult):
    from django.urls import reverse

    from accounts.tests.factories import StaffFactory

    people = [ClientFactory(name=f"Person {n}") for n in range(2)]
    for person in people:
        wait_for_thursday_mornings(person, consult)
    coach = Client()
    coach.force_login(consult.coach)
    dashboard = coach.get("/coach/").content.decode()
    assert reverse("waitlist:type_queue", args=[consult.pk]) in dashboard and "2 waiting" in dashboard
    page = coach.get(reverse("waitlist:type_queue", args=[consult.pk])).content.decode()
    assert page.index("Person 0") < page.index("Person 1") and "09:00–12:00" in page
    outsider = Client()
    outsider.force_login(people[0])
    assert outsider.get(reverse("waitlist:type_queue", args=[consult.pk])).status_code == 403
    auth = {"HTTP_AUTHORIZATION": f"Bearer {make_token(consult.coach)[1]}"}
    rows = Client().get(f"/api/v1/waitlist?session_type={consult.pk}", **auth).json()
    assert [row["client_name"] for row in rows] == ["Person 0", "Person 1"]
    staff = Client()
    staff.force_login(StaffFactory())
    last = WaitlistEntry.objects.get(client=people[1])
    moved = staff.post(reverse("waitlist:move", args=[last.pk]), {"to_position": "1", "reason": "Urgent"})
    assert moved["Location"] == reverse("waitlist:type_queue", args=[consult.pk])
    assert waitlist.position(last) == 1
