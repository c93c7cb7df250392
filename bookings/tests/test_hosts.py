"""Sessions with several hosts: a co-hosted type needs every host free and allocates each
of them in one transaction (both or neither, under real concurrency on either database);
a team type takes the fairest free member (round robin)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import pytest

from accounts.models import Subject
from accounts.tests.factories import ClientFactory
from availability.models import Allocation, TimeOff
from availability.selectors import free_slots
from bookings import services
from bookings.models import Booking, BookingStatus, HostMode, Session
from bookings.services.hosts import FAIRNESS_SPAN
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach
from bookings.tests.test_concurrency import _codes, run_together
from config.errors import DomainError

PARIS = ZoneInfo("Europe/Paris")


def _day(days: int = 3) -> dt.date:
    return dt.datetime.now(PARIS).date() + dt.timedelta(days=days)


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=PARIS).astimezone(dt.UTC)


def _starts(session_type, day: dt.date) -> list[dt.datetime]:
    found = free_slots(
        coach=session_type.coach, session_type=session_type, start_date=day, end_date=day, viewer_tz=PARIS
    )
    return [slot.start for slot in found]


def _co_hosted(lead, *others, **fields):
    session_type = SessionTypeFactory(coach=lead, host_mode=HostMode.ALL, **fields)
    session_type.co_hosts.set(others)
    return session_type


@pytest.mark.django_db
def test_a_co_hosted_type_offers_only_the_times_every_host_is_free_and_allocates_each():
    ana, ben = open_coach(hours=(9, 17)), open_coach(hours=(12, 18))
    supervision = _co_hosted(ana, ben)
    day = _day()
    assert _starts(supervision, day) == [_at(day, hour) for hour in (12, 13, 14, 15, 16)]
    # Ben's own client at 13:00 takes that time away from the pair.
    services.book_slot(client=ClientFactory(), session_type=SessionTypeFactory(coach=ben), start=_at(day, 13))
    assert _starts(supervision, day) == [_at(day, hour) for hour in (12, 14, 15, 16)]

    booking = services.book_slot(client=ClientFactory(), session_type=supervision, start=_at(day, 14))
    session = booking.session
    assert session.coach == ana and list(session.co_hosts.all()) == [ben]
    assert sorted(Allocation.objects.filter(session=session).values_list("staff_id", flat=True)) == sorted(
        [ana.pk, ben.pk]
    )
    with pytest.raises(DomainError) as refused:
        services.book_slot(client=ClientFactory(), session_type=supervision, start=_at(day, 10))
    assert refused.value.code == "outside_availability"  # Ben doesn't work at 10:00
    # Cancelling frees both hosts.
    services.cancel(booking=booking, actor=ana, reason="Supervisor ill")
    assert not Allocation.objects.filter(session=session, is_active=True).exists()
    assert _at(day, 14) in _starts(supervision, day)


@pytest.mark.django_db
def test_approving_a_co_hosted_request_confirms_every_hosts_hold():
    ana, ben = open_coach(allow_firm_booking=False), open_coach()
    supervision = _co_hosted(ana, ben)
    booking = services.book_slot(client=ClientFactory(), session_type=supervision, start=_at(_day(), 10))
    assert booking.status == BookingStatus.REQUESTED
    assert set(Allocation.objects.filter(session=booking.session).values_list("kind", flat=True)) == {"request"}
    services.approve(booking=booking, actor=ana)
    assert set(Allocation.objects.filter(session=booking.session).values_list("kind", flat=True)) == {"session"}
    assert Allocation.objects.filter(session=booking.session, staff__isnull=False).count() == 2


@pytest.mark.django_db
def test_a_co_facilitated_workshop_is_published_with_both_hosts_or_not_at_all():
    ana, ben = open_coach(), open_coach()
    workshop = GroupTypeFactory(coach=ana, host_mode=HostMode.ALL)
    workshop.co_hosts.set([ben])
    day = _day()
    services.book_slot(client=ClientFactory(), session_type=SessionTypeFactory(coach=ben), start=_at(day, 10))
    with pytest.raises(DomainError) as refused:
        services.publish_session(actor=ana, session_type=workshop, start=_at(day, 10))
    assert refused.value.code == "slot_taken" and ben.display_name in refused.value.message
    assert not Session.objects.filter(session_type=workshop).exists()
    session = services.publish_session(actor=ana, session_type=workshop, start=_at(day, 12))
    assert list(session.co_hosts.all()) == [ben]
    assert Allocation.objects.filter(session=session, staff=ben, is_active=True).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("rounds", [6])
def test_two_hosts_are_both_allocated_or_neither_when_a_booking_of_one_races(rounds):
    ana, ben = open_coach(), open_coach()
    supervision = _co_hosted(ana, ben)
    bens_own = SessionTypeFactory(coach=ben)
    anas_own = SessionTypeFactory(coach=ana)
    winners = Counter()
    for n in range(rounds):
        start = _at(_day(2 + n), 10)
        results = run_together(
            [
                lambda s=start: services.book_slot(client=ClientFactory(), session_type=supervision, start=s),
                lambda s=start: services.book_slot(client=ClientFactory(), session_type=bens_own, start=s),
                lambda s=start: services.book_slot(client=ClientFactory(), session_type=anas_own, start=s),
            ]
        )
        assert "ok" in _codes(results)
        held = Allocation.objects.filter(is_active=True, start=start, staff__isnull=False)
        by_host = Counter(held.values_list("staff_id", flat=True))
        # Never two sessions for one host at once, never half a co-hosted session.
        assert by_host[ana.pk] <= 1 and by_host[ben.pk] <= 1
        pair = Booking.objects.filter(session__session_type=supervision, session__start=start)
        if pair.exists():
            winners["pair"] += 1
            assert results[0] != "slot_taken" and _codes(results) == {"ok": 1, "slot_taken": 2}
            assert set(held.values_list("staff_id", flat=True)) == {ana.pk, ben.pk}
            assert held.get(staff=ben).session_id == held.get(staff=ana).session_id == pair.get().session_id
        else:
            winners["singles"] += 1
            assert results[0] == "slot_taken"
            assert not held.filter(session__session_type=supervision).exists()
    assert sum(winners.values()) == rounds


def _team(*members, **fields):
    lead, *others = members
    session_type = SessionTypeFactory(coach=lead, host_mode=HostMode.ANY, **fields)
    session_type.co_hosts.set(others)
    return session_type


@pytest.mark.django_db
def test_round_robin_spreads_bookings_evenly_and_skips_busy_members():
    team = [open_coach() for _ in range(3)]
    intake = _team(*team)
    day = _day()
    hosts = [
        services.book_slot(client=ClientFactory(), session_type=intake, start=_at(day, hour)).session.coach
        for hour in (9, 10, 11, 12, 13, 14)
    ]
    assert Counter(host.pk for host in hosts) == {member.pk: 2 for member in team}
    # Never the same member twice in a row while others have fewer.
    assert [host.pk for host in hosts[:3]] == sorted(member.pk for member in team)

    # The least busy member is busy at 15:00: the next fairest free one gets it.
    first = team[0]
    services.book_slot(client=ClientFactory(), session_type=SessionTypeFactory(coach=first), start=_at(day, 15))
    chosen = services.book_slot(client=ClientFactory(), session_type=intake, start=_at(day, 15)).session.coach
    assert chosen != first
    # A time only one member has free is still offered and goes to that member.
    for member in team[1:]:
        services.book_slot(client=ClientFactory(), session_type=SessionTypeFactory(coach=member), start=_at(day, 16))
    assert _at(day, 16) in _starts(intake, day)
    assert services.book_slot(client=ClientFactory(), session_type=intake, start=_at(day, 16)).session.coach == first


@pytest.mark.django_db
def test_round_robin_counts_only_sessions_within_the_fairness_span():
    first, second = open_coach(booking_window_days=120), open_coach(booking_window_days=120)
    intake = _team(first, second)
    far = _day(3) + FAIRNESS_SPAN + dt.timedelta(days=10)
    TimeOff.objects.create(coach=second, start_date=far, end_date=far)
    for hour in (9, 10):
        assert (
            services.book_slot(client=ClientFactory(), session_type=intake, start=_at(far, hour)).session.coach == first
        )
    # Those two are further than the span from day 3: the members tie, and the lower id wins.
    assert services.book_slot(client=ClientFactory(), session_type=intake, start=_at(_day(3), 9)).session.coach == first
    assert (
        services.book_slot(client=ClientFactory(), session_type=intake, start=_at(_day(3), 10)).session.coach == second
    )


@pytest.mark.django_db
def test_a_required_subject_keeps_unqualified_members_out_of_the_team():
    maths = Subject.objects.create(name="Mathematics")
    qualified, unqualified = open_coach(), open_coach()
    qualified.coach_profile.subjects.add(maths)
    tutoring = _team(unqualified, qualified, required_subject=maths)
    day = _day()
    hosts = {
        services.book_slot(client=ClientFactory(), session_type=tutoring, start=_at(day, hour)).session.coach_id
        for hour in (9, 10, 11)
    }
    assert hosts == {qualified.pk}


@pytest.mark.django_db
def test_a_team_booking_moved_keeps_its_host_when_free():
    team = [open_coach() for _ in range(2)]
    intake = _team(*team)
    day = _day()
    client = ClientFactory()
    booking = services.book_slot(client=client, session_type=intake, start=_at(day, 9))
    host = booking.session.coach
    moved = services.reschedule(booking=booking, actor=client, start=_at(day, 11))
    assert moved.session.coach == host
    other = next(member for member in team if member != host)
    services.book_slot(client=ClientFactory(), session_type=SessionTypeFactory(coach=host), start=_at(day, 13))
    moved = services.reschedule(booking=moved, actor=client, start=_at(day, 13))
    assert moved.session.coach == other


@pytest.mark.django_db
def test_a_co_hosted_type_whose_co_host_left_offers_nothing_and_a_team_goes_on_without_them():
    ana, ben = open_coach(), open_coach()
    supervision = _co_hosted(ana, ben)
    intake = _team(ana, ben)
    day = _day()
    ben.is_active = False
    ben.save(update_fields=["is_active"])
    assert _starts(supervision, day) == []
    with pytest.raises(DomainError) as refused:
        services.book_slot(client=ClientFactory(), session_type=supervision, start=_at(day, 10))
    assert refused.value.code == "outside_availability"
    assert _starts(intake, day)
    booking = services.book_slot(client=ClientFactory(), session_type=intake, start=_at(day, 10))
    assert booking.session.coach == ana


@pytest.mark.django_db
def test_the_clients_dashboard_names_every_host_in_one_more_read():
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    ana, ben = open_coach(), open_coach()
    ana.name, ben.name = "Ana Coach", "Ben Ito"
    ana.save(), ben.save()
    supervision = _co_hosted(ana, ben)
    client = ClientFactory()
    services.book_slot(client=client, session_type=SessionTypeFactory(coach=ana), start=_at(_day(), 13))
    http = Client()
    http.force_login(client)
    http.get("/dashboard/", follow=True)  # warm the session

    def reads() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as queries:
            page = http.get("/dashboard/", follow=True).content.decode()
        return len(queries), page

    alone, _ = reads()
    services.book_slot(client=client, session_type=supervision, start=_at(_day(), 10))
    with_one, page = reads()
    assert "with Ana Coach and Ben Ito" in page and page.count("with Ana Coach") == 2
    for hour in (15, 16):
        services.book_slot(client=client, session_type=supervision, start=_at(_day(), hour))
    with_three, page = reads()
    assert page.count("with Ana Coach and Ben Ito") == 3
    assert with_one == with_three == alone + 1


@pytest.mark.django_db
def test_a_co_hosted_booking_moves_with_every_host_or_not_at_all():
    ana, ben = open_coach(), open_coach()
    supervision = _co_hosted(ana, ben)
    day = _day()
    client = ClientFactory()
    booking = services.book_slot(client=client, session_type=supervision, start=_at(day, 9))
    moved = services.reschedule(booking=booking, actor=client, start=_at(day, 11))
    assert list(moved.session.co_hosts.all()) == [ben]
    active = Allocation.objects.filter(is_active=True, staff__isnull=False)
    assert sorted(active.values_list("staff_id", "start")) == sorted([(ana.pk, _at(day, 11)), (ben.pk, _at(day, 11))])
    # Ben is busy at 14:00: the move is refused and both hosts keep 11:00.
    services.book_slot(client=ClientFactory(), session_type=SessionTypeFactory(coach=ben), start=_at(day, 14))
    with pytest.raises(DomainError) as refused:
        services.reschedule(booking=moved, actor=client, start=_at(day, 14))
    assert refused.value.code == "slot_taken"
    moved.refresh_from_db()
    assert moved.session.start == _at(day, 11)
    assert active.filter(session=moved.session).count() == 2
