"""A session type for enrolled clients only: booked within an open enrollment's allowance,
refused otherwise with seed 004's words (not_enrolled) or seed 003's (no_credits)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from accounts.tests.factories import ClientFactory, StaffFactory
from bookings import services
from bookings.models import BookingStatus, EnrollmentSource, Programme
from bookings.services.enrollment import check_enrollment, end_enrollment, enroll, sessions_left
from bookings.tests.factories import SessionTypeFactory, open_coach
from config.errors import DomainError, NotAllowed

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
DAY2 = dt.datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
H = dt.timedelta(hours=1)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def course():
    coach = open_coach()
    lesson = SessionTypeFactory(coach=coach, requires_enrollment=True, price=Decimal("50.00"))
    programme = Programme.objects.create(coach=coach, title="Exam course", allowance=2, validity_days=30)
    programme.session_types.set([lesson])
    return coach, lesson, programme


def code_of(fn, **kwargs) -> str:
    with pytest.raises(DomainError) as refused:
        fn(**kwargs)
    return refused.value.code


def test_not_enrolled_is_refused_with_the_seeds_words(course):
    _coach, lesson, _programme = course
    client = ClientFactory()
    with pytest.raises(DomainError) as refused:
        services.book_slot(client=client, session_type=lesson, start=DAY2)
    assert (refused.value.code, refused.value.message, refused.value.status) == (
        "not_enrolled",
        "You must be enrolled to book.",
        409,
    )
    assert not client.bookings.exists()


def test_the_allowance_is_used_then_no_credits_and_a_cancellation_gives_it_back(course, settings):
    settings.ENABLE_PAYMENT_GATEWAY = True  # an enrolled booking is covered: never held for payment
    coach, lesson, programme = course
    client = ClientFactory()
    enrollment = enroll(client=client, programme=programme, actor=coach, source=EnrollmentSource.COACH)
    first = services.book_slot(client=client, session_type=lesson, start=DAY2)
    second = services.book_slot(client=client, session_type=lesson, start=DAY2 + 2 * H)
    assert first.status == second.status == BookingStatus.FIRM_BOOKED
    assert first.enrollment == enrollment and first.price == 0
    assert sessions_left(enrollment) == 0
    with pytest.raises(DomainError) as refused:
        services.book_slot(client=client, session_type=lesson, start=DAY2 + 4 * H)
    assert (refused.value.code, refused.value.message) == ("no_credits", "Insufficient credits.")
    services.cancel(booking=second, actor=client)
    assert services.book_slot(client=client, session_type=lesson, start=DAY2 + 4 * H).enrollment == enrollment


def test_an_enrollment_ends_and_expires(course, frozen):
    coach, lesson, programme = course
    client = ClientFactory()
    enrollment = enroll(client=client, programme=programme, actor=coach, source=EnrollmentSource.COACH)
    assert check_enrollment(client, lesson) == enrollment
    frozen.shift(dt.timedelta(days=31))
    assert code_of(check_enrollment, client=client, session_type=lesson) == "not_enrolled"
    frozen.shift(dt.timedelta(days=-31))
    end_enrollment(enrollment=enrollment, actor=coach)
    assert code_of(check_enrollment, client=client, session_type=lesson) == "not_enrolled"


def test_who_may_enroll(course):
    coach, _lesson, programme = course
    client = ClientFactory()
    with pytest.raises(NotAllowed):
        enroll(client=client, programme=programme, actor=open_coach(), source=EnrollmentSource.COACH)
    with pytest.raises(NotAllowed):
        enroll(client=client, programme=programme, actor=coach, source=EnrollmentSource.STAFF)
    enroll(client=client, programme=programme, actor=StaffFactory(), source=EnrollmentSource.STAFF)
    assert (
        code_of(enroll, client=client, programme=programme, actor=coach, source=EnrollmentSource.COACH)
        == "already_enrolled"
    )


def test_a_type_without_the_requirement_ignores_enrollments(course):
    coach, _lesson, _programme = course
    plain = SessionTypeFactory(coach=coach)
    assert services.book_slot(client=ClientFactory(), session_type=plain, start=DAY2).enrollment is None
