"""Reminders of a deposit's balance: three days before it is due and on the due day, each
once — however often the schedule runs, and with two workers at once — and none once the
balance is paid or the booking is gone."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.db import connections
from django.urls import reverse

from accounts.tests.factories import ClientFactory
from bookings import services
from bookings.models import BookingStatus
from bookings.tests.factories import GroupTypeFactory, open_coach
from notifications import delivery
from notifications.models import Kind, Notification
from payments import local, tasks
from payments import services as payments
from payments.models import PaymentKind
from payments.reminders import remind_balances, reminder_times

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
WORKSHOP_START = dt.datetime(2026, 12, 17, 9, 0, tzinfo=UTC)
DUE = WORKSHOP_START - dt.timedelta(days=3)  # 14 Dec, 10:00 in Paris
THREE_DAYS_BEFORE = DUE - dt.timedelta(days=3)
ON_THE_DAY = dt.datetime(2026, 12, 14, 8, 0, tzinfo=UTC)  # 09:00 in Paris


@pytest.fixture(autouse=True)
def payments_on(settings):
    settings.RELAY_WAKE = False
    settings.ENABLE_PAYMENT_GATEWAY = True
    settings.PAYMENT_BACKEND = "local"
    settings.PAYMENT_HOLD_MINUTES = 15
    settings.NOTIFICATION_METHOD = "email"


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def seat_with_deposit(client=None):
    """A seat in a 100 EUR workshop, its 20 EUR deposit paid through the local gateway."""
    coach = open_coach()
    workshop = GroupTypeFactory(
        coach=coach, price=Decimal("100.00"), currency="EUR", deposit=Decimal("20.00"), balance_due_days=3
    )
    session = services.publish_session(actor=coach, session_type=workshop, start=WORKSHOP_START)
    client = client or ClientFactory(timezone="Europe/Paris")
    seat = services.take_seat(client=client, session=session)
    payment = payments.checkout_for(seat, actor=client, base_url="http://testserver")
    local.complete(payment)
    seat.refresh_from_db()
    assert seat.status == BookingStatus.FIRM_BOOKED and seat.balance_due_at == DUE
    assert payments.balance_minor(seat) == 8000
    return seat


def reminders_of(seat) -> list[Notification]:
    return list(Notification.objects.filter(booking=seat, kind=Kind.PAYMENT_DUE).order_by("due_at"))


@pytest.mark.django_db
def test_the_balance_is_reminded_three_days_before_and_on_the_day_each_once(clock):
    seat = seat_with_deposit()
    assert reminder_times(seat) == [THREE_DAYS_BEFORE, ON_THE_DAY]
    clock.move_to(THREE_DAYS_BEFORE - dt.timedelta(minutes=1))
    assert remind_balances() == 0

    clock.move_to(THREE_DAYS_BEFORE + dt.timedelta(minutes=5))
    assert remind_balances() == 1
    assert remind_balances() == 0  # the next run
    [first] = reminders_of(seat)
    assert first.recipient_id == seat.client_id and first.due_at == THREE_DAYS_BEFORE
    assert (
        first.title
        == f"Payment due: 80.00 EUR for {seat.session.session_type.title} by Mon 14 Dec 2026, 10:00 (Europe/Paris)"
    )
    delivery.send_deliveries()
    [email] = [m for m in mail.outbox if m.subject.startswith("Payment due")]
    assert email.to == [seat.client.email]
    assert "the balance of 80.00 EUR is due by Mon 14 Dec 2026, 10:00 (Europe/Paris)" in email.body
    assert reverse("payments:pay_balance", args=[seat.reference]) in email.body

    clock.move_to(ON_THE_DAY - dt.timedelta(minutes=1))
    assert remind_balances() == 0
    clock.move_to(ON_THE_DAY + dt.timedelta(minutes=10))
    assert remind_balances() == 1
    assert remind_balances() == 0
    assert [note.due_at for note in reminders_of(seat)] == [THREE_DAYS_BEFORE, ON_THE_DAY]

    clock.move_to(DUE + dt.timedelta(minutes=1))
    assert remind_balances() == 0
    assert len(reminders_of(seat)) == 2


@pytest.mark.django_db
def test_a_run_that_finds_both_due_sends_only_the_latest(clock):
    seat = seat_with_deposit()
    clock.move_to(ON_THE_DAY + dt.timedelta(minutes=1))
    assert tasks.remind_balances() == 1
    assert [note.due_at for note in reminders_of(seat)] == [ON_THE_DAY]


@pytest.mark.django_db
def test_a_paid_balance_or_a_cancelled_seat_is_not_reminded(clock):
    paid = seat_with_deposit()
    balance = payments.checkout_for_balance(paid, actor=paid.client, base_url="http://testserver")
    assert balance.kind == PaymentKind.BALANCE and balance.amount_minor == 8000
    local.complete(balance)
    assert payments.balance_minor(paid) == 0
    cancelled = seat_with_deposit()
    services.cancel(booking=cancelled, actor=cancelled.client)
    clock.move_to(ON_THE_DAY + dt.timedelta(minutes=1))
    assert remind_balances() == 0
    assert not Notification.objects.filter(kind=Kind.PAYMENT_DUE).exists()


@pytest.mark.django_db
def test_the_schedule_runs_every_15_minutes():
    from django_q.models import Schedule

    schedule = Schedule.objects.get(func="payments.tasks.remind_balances")
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == ("I", 15, -1)


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_make_each_reminder_once(clock):
    seats = [seat_with_deposit() for _ in range(3)]
    clock.move_to(THREE_DAYS_BEFORE + dt.timedelta(minutes=5))
    barrier = threading.Barrier(2)
    made, errors = [], []

    def work() -> None:
        try:
            barrier.wait()
            made.append(remind_balances())
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sum(made) == 3
    for seat in seats:
        assert len(reminders_of(seat)) == 1
