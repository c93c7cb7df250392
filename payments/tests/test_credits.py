"""The credit ledger (grant, spend, give back, expire, balance) and package services."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connections

from accounts.tests.factories import ClientFactory, CoachFactory, StaffFactory
from bookings.tests.factories import SessionTypeFactory
from bookings.tests.test_concurrency import run_together
from config.errors import DomainError, NotAllowed
from payments import credits
from payments.models import CreditEntry, CreditKind, Package
from payments.packages import create_package, update_package
from payments.tasks import expire_credits

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 12, tzinfo=UTC)


def _days(n: float) -> dt.datetime:
    return NOW + dt.timedelta(days=n)


def _package(coach=None, *types, credits_=5, validity_days=30) -> Package:
    package = Package.objects.create(
        coach=coach, title="Five", credits=credits_, price_minor=10000, validity_days=validity_days
    )
    package.session_types.set(types)
    return package


# --- grant, balance, spend ------------------------------------------------------------------


@pytest.mark.django_db
def test_grant_then_balance_counts_only_unexpired_credits():
    client = ClientFactory()
    assert credits.balance(client, now=NOW) == 0
    entry = credits.grant(client, credits=3, expires_at=_days(10), note="welcome")
    assert (entry.kind, entry.amount, entry.note) == (CreditKind.GRANT, 3, "welcome")
    credits.grant(client, credits=2, expires_at=_days(1))
    credits.grant(client, credits=4)  # never expires
    assert credits.balance(client, now=NOW) == 9
    assert credits.balance(client, now=_days(2)) == 7
    assert credits.balance(client, now=_days(11)) == 4
    assert credits.balance(ClientFactory(), now=NOW) == 0


@pytest.mark.django_db
def test_a_package_grant_expires_after_its_validity():
    client = ClientFactory()
    package = _package(validity_days=30)
    entry = credits.grant(client, credits=5, package=package, now=NOW)
    assert entry.expires_at == _days(30)
    assert entry.package == package


@pytest.mark.django_db
@pytest.mark.parametrize("bad", [0, -1, 1001, "3", 2.0, True, None])
def test_grant_refuses_a_bad_number_of_credits(bad):
    client = ClientFactory()
    with pytest.raises(DomainError) as refused:
        credits.grant(client, credits=bad)
    assert refused.value.field == "credits"
    assert "between 1 and 1000" in refused.value.message
    assert not CreditEntry.objects.exists()


@pytest.mark.django_db
def test_grant_refuses_a_naive_expiry():
    with pytest.raises(DomainError) as refused:
        credits.grant(ClientFactory(), credits=1, expires_at=dt.datetime(2027, 1, 1))
    assert refused.value.field == "expires_at"


@pytest.mark.django_db
def test_spend_takes_from_the_grant_that_expires_first():
    client = ClientFactory()
    never = credits.grant(client, credits=1)
    late = credits.grant(client, credits=1, expires_at=_days(20))
    soon = credits.grant(client, credits=1, expires_at=_days(5))
    used = [credits.spend(client, now=NOW).grant for _ in range(3)]
    assert used == [soon, late, never]
    entry = CreditEntry.objects.filter(kind=CreditKind.SPEND).first()
    assert entry.amount == -1
    assert credits.balance(client, now=NOW) == 0


@pytest.mark.django_db
def test_spend_with_nothing_left_is_no_credits_and_writes_nothing():
    client = ClientFactory()
    credits.grant(client, credits=1, expires_at=_days(1))
    with pytest.raises(DomainError) as refused:
        credits.spend(client, now=_days(2))  # expired
    assert (refused.value.code, refused.value.status, refused.value.message) == (
        "no_credits",
        409,
        "Insufficient credits.",
    )
    credits.spend(client, now=NOW)
    with pytest.raises(credits.NoCredits):
        credits.spend(client, now=NOW)
    assert CreditEntry.objects.filter(kind=CreditKind.SPEND).count() == 1
    assert credits.balance(client, now=NOW) == 0


@pytest.mark.django_db
def test_only_grants_covering_the_session_type_are_used():
    coach = CoachFactory()
    yoga, pilates = SessionTypeFactory(coach=coach), SessionTypeFactory(coach=coach)
    client = ClientFactory()
    only_yoga = credits.grant(client, credits=1, package=_package(coach, yoga), expires_at=_days(1))
    any_type = credits.grant(client, credits=1, package=_package(coach), expires_at=_days(9))
    assert credits.balance(client, now=NOW, session_type=yoga) == 2
    assert credits.balance(client, now=NOW, session_type=pilates) == 1
    # The yoga-only grant expires first, but can't pay for pilates.
    assert credits.spend(client, session_type=pilates, now=NOW).grant == any_type
    with pytest.raises(credits.NoCredits):
        credits.spend(client, session_type=pilates, now=NOW)
    assert credits.spend(client, session_type=yoga, now=NOW).grant == only_yoga
    assert credits.balance(client, now=NOW) == 0


@pytest.mark.django_db
def test_a_grant_without_a_package_pays_for_any_type():
    client = ClientFactory()
    session_type = SessionTypeFactory()
    credits.grant(client, credits=1)
    assert credits.balance(client, now=NOW, session_type=session_type) == 1
    assert credits.spend(client, session_type=session_type.pk, now=NOW).amount == -1


@pytest.mark.django_db
def test_spending_for_a_booking_uses_its_session_type_and_names_the_booking():
    from bookings import services
    from bookings.tests.factories import open_coach

    coach = open_coach()
    booked_type, other_type = SessionTypeFactory(coach=coach), SessionTypeFactory(coach=coach)
    client = ClientFactory()
    start = (dt.datetime.now(UTC) + dt.timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)
    booking = services.book_slot(client=client, session_type=booked_type, start=start)
    credits.grant(client, credits=1, package=_package(coach, other_type))
    with pytest.raises(credits.NoCredits):
        credits.spend(client, booking=booking)
    credits.grant(client, credits=1, package=_package(coach, booked_type))
    entry = credits.spend(client, booking=booking)
    assert (entry.booking, entry.grant.package.session_types.get()) == (booking, booked_type)
    back = credits.give_back(entry)
    assert back.booking == booking
    with pytest.raises(DomainError):
        credits.give_back(entry)


# --- give back ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_give_back_returns_the_credit_to_its_grant_once():
    client = ClientFactory()
    soon = credits.grant(client, credits=1, expires_at=_days(3))
    credits.grant(client, credits=1, expires_at=_days(30))
    spent = credits.spend(client, now=NOW)
    assert spent.grant == soon
    back = credits.give_back(spent, note="cancelled in time")
    assert (back.kind, back.amount, back.grant, back.note) == (CreditKind.REFUND, 1, soon, "cancelled in time")
    assert credits.balance(client, now=NOW) == 2
    # It keeps the grant's expiry: gone after day 3.
    assert credits.balance(client, now=_days(4)) == 1
    with pytest.raises(DomainError) as refused:
        credits.give_back(spent)
    assert (refused.value.code, refused.value.status) == ("already_returned", 409)
    assert CreditEntry.objects.filter(kind=CreditKind.REFUND).count() == 1


@pytest.mark.django_db
def test_each_of_two_spends_can_be_given_back_once():
    client = ClientFactory()
    credits.grant(client, credits=2)
    first, second = credits.spend(client), credits.spend(client)
    credits.give_back(first)
    credits.give_back(second)
    with pytest.raises(DomainError):
        credits.give_back(first)
    assert credits.balance(client) == 2


@pytest.mark.django_db
def test_only_a_spend_can_be_given_back():
    entry = credits.grant(ClientFactory(), credits=1)
    with pytest.raises(DomainError) as refused:
        credits.give_back(entry)
    assert refused.value.code == "not_a_spend"


# --- expiry ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_expire_due_writes_off_what_is_left_once():
    client, other = ClientFactory(), ClientFactory()
    due = credits.grant(client, credits=3, expires_at=_days(1))
    credits.grant(client, credits=2, expires_at=_days(10))
    used_up = credits.grant(other, credits=1, expires_at=_days(1))
    credits.spend(client, now=NOW)
    credits.spend(other, now=NOW)
    assert credits.expire_due(now=_days(2)) == 1
    expiry = CreditEntry.objects.get(kind=CreditKind.EXPIRE)
    assert (expiry.client, expiry.grant, expiry.amount) == (client, due, -2)
    assert credits.expire_due(now=_days(2)) == 0
    assert credits.expire_due(now=_days(3)) == 0
    assert not CreditEntry.objects.filter(kind=CreditKind.EXPIRE, grant=used_up).exists()
    assert credits.balance(client, now=_days(2)) == 2
    # A credit given back to an expired grant is written off on the next run.
    spent = CreditEntry.objects.filter(kind=CreditKind.SPEND, client=client).get()
    credits.give_back(spent)
    assert credits.balance(client, now=_days(2)) == 2
    assert credits.expire_due(now=_days(2)) == 1
    assert sum(CreditEntry.objects.filter(grant=due).values_list("amount", flat=True)) + due.amount == 0


@pytest.mark.django_db
def test_the_scheduled_task_expires_credits():
    client = ClientFactory()
    credits.grant(client, credits=2, expires_at=dt.datetime(2020, 1, 1, tzinfo=UTC))
    assert expire_credits() == 1
    assert expire_credits() == 0


@pytest.mark.django_db
def test_the_expiry_schedule_exists():
    from django_q.models import Schedule

    schedule = Schedule.objects.get(name="Expire credits")
    assert schedule.func == "payments.tasks.expire_credits"


# --- the race -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_many_threads_spending_the_last_credit_exactly_one_wins():
    client = ClientFactory()
    credits.grant(client, credits=1, expires_at=_days(400) + dt.timedelta(days=3650))
    connections.close_all()
    results = run_together([lambda: credits.spend(client) for _ in range(20)])
    wins = [result for result in results if isinstance(result, CreditEntry)]
    assert len(wins) == 1
    assert sorted(result for result in results if isinstance(result, str)) == ["no_credits"] * 19
    assert credits.balance(client) == 0
    assert CreditEntry.objects.filter(client=client, kind=CreditKind.SPEND).count() == 1


@pytest.mark.django_db(transaction=True)
def test_spends_racing_over_several_grants_never_go_below_zero():
    client = ClientFactory()
    credits.grant(client, credits=2)
    credits.grant(client, credits=1, expires_at=_days(400) + dt.timedelta(days=3650))
    connections.close_all()
    results = run_together([lambda: credits.spend(client) for _ in range(12)])
    assert sum(isinstance(result, CreditEntry) for result in results) == 3
    assert results.count("no_credits") == 9
    assert credits.balance(client) == 0
    for grant in CreditEntry.objects.filter(kind=CreditKind.GRANT):
        assert grant.amount + sum(grant.uses.values_list("amount", flat=True)) == 0


# --- packages -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_coach_makes_a_package_for_their_own_types():
    coach = CoachFactory()
    mine = SessionTypeFactory(coach=coach)
    package = create_package(
        actor=coach, coach=coach, title=" Ten ", credits=10, price_minor=0, currency="eur", session_types=[mine.pk]
    )
    assert (package.title, package.credits, package.currency, package.validity_days) == ("Ten", 10, "EUR", 365)
    assert list(package.session_types.all()) == [mine]
    theirs = SessionTypeFactory()
    with pytest.raises(DomainError) as refused:
        update_package(actor=coach, package=package, session_types=[theirs.pk])
    assert refused.value.field == "session_types"
    assert refused.value.message == f"“{theirs.title}” is not one of this coach's session types."
    update_package(actor=coach, package=package, credits=12, session_types=[])
    package.refresh_from_db()
    assert package.credits == 12
    assert not package.session_types.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("credits", 0, "between 1 and 1000"),
        ("credits", 1001, "between 1 and 1000"),
        ("credits", "5", "whole number"),
        ("price_minor", -1, "negative"),
        ("price_minor", 9.5, "minor units"),
        ("currency", "EU", "3-letter"),
        ("currency", "E1R", "3-letter"),
        ("validity_days", 0, "between 1 and 3650"),
        ("validity_days", 3651, "between 1 and 3650"),
        ("title", "  ", "title"),
        ("title", "x" * 121, "too long"),
        ("session_types", "1", "list of ids"),
        ("session_types", [2**70], "no session type with the id"),
    ],
)
def test_package_fields_are_checked(field, value, words):
    coach = CoachFactory()
    fields = {"title": "Five", "credits": 5, "price_minor": 5000, field: value}
    with pytest.raises(DomainError) as refused:
        create_package(actor=coach, coach=coach, **fields)
    assert refused.value.field == field
    assert words in refused.value.message
    assert not Package.objects.exists()


@pytest.mark.django_db
def test_who_may_make_packages():
    coach, other, staff, client = CoachFactory(), CoachFactory(), StaffFactory(), ClientFactory()
    fields = {"title": "Five", "credits": 5, "price_minor": 5000}
    with pytest.raises(NotAllowed):
        create_package(actor=other, coach=coach, **fields)
    with pytest.raises(NotAllowed):
        create_package(actor=coach, coach=None, **fields)
    with pytest.raises(NotAllowed):
        create_package(actor=client, coach=client, **fields)
    on_behalf = create_package(actor=staff, coach=coach, **fields)
    practice = create_package(actor=staff, coach=None, session_types=[SessionTypeFactory().pk], **fields)
    assert (on_behalf.coach, practice.coach) == (coach, None)
    with pytest.raises(NotAllowed):
        update_package(actor=coach, package=practice, credits=6)
    with pytest.raises(NotAllowed):
        update_package(actor=other, package=on_behalf, credits=6)
