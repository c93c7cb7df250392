"""The programme service: who may write a programme, and every field checked with a message
naming it; a programme's session types are its coach's own."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.tests.factories import ClientFactory, CoachFactory, StaffFactory
from bookings.services import programmes
from bookings.tests.factories import SessionTypeFactory
from config.errors import DomainError, NotAllowed

pytestmark = pytest.mark.django_db


def test_a_coach_makes_a_programme_of_their_session_types():
    coach = CoachFactory()
    kind = SessionTypeFactory(coach=coach)
    made = programmes.create_programme(
        actor=coach, coach=coach, title=" Ten weeks ", session_types=[kind.pk], allowance=10, price="120.5"
    )
    assert (made.title, made.allowance, made.price, made.currency) == ("Ten weeks", 10, Decimal("120.50"), "EUR")
    assert list(made.session_types.all()) == [kind]


def test_staff_make_practice_wide_programmes_and_nobody_else_does():
    kind = SessionTypeFactory()
    made = programmes.create_programme(actor=StaffFactory(), title="Course", session_types=[kind])
    assert made.coach is None and made.price == 0
    for actor in (kind.coach, ClientFactory()):
        with pytest.raises(NotAllowed):
            programmes.create_programme(actor=actor, title="Course", session_types=[kind])


def test_a_coach_cannot_write_another_coachs_programme():
    kind = SessionTypeFactory()
    made = programmes.create_programme(actor=kind.coach, coach=kind.coach, title="Mine", session_types=[kind])
    with pytest.raises(NotAllowed):
        programmes.update_programme(actor=CoachFactory(), programme=made, title="Theirs")
    assert programmes.update_programme(actor=StaffFactory(), programme=made, allowance=3).allowance == 3


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"title": "  "}, "title", "title"),
        ({"title": "x" * 121}, "title", "too long"),
        ({"allowance": 0}, "allowance", "between 1 and 1000"),
        ({"allowance": "ten"}, "allowance", "whole number"),
        ({"price": "-1"}, "price", "negative"),
        ({"price": "abc"}, "price", "amount"),
        ({"price": 1.5}, "price", "amount"),
        ({"price": "1.999"}, "price", "two decimals"),
        ({"price": "NaN"}, "price", "amount"),
        ({"currency": "euro"}, "currency", "3-letter"),
        ({"validity_days": 4000}, "validity_days", "between 1 and 3650"),
        ({"session_types": []}, "session_types", "at least one"),
        ({"session_types": "1"}, "session_types", "list"),
        ({"session_types": [10**20]}, "session_types", "no session type"),
        ({"colour": "red"}, "colour", "Unknown field"),
    ],
)
def test_each_field_is_checked_by_name(fields, field, words):
    coach = CoachFactory()
    kind = SessionTypeFactory(coach=coach)
    values = {"title": "Course", "session_types": [kind.pk], **fields}
    with pytest.raises(DomainError) as refusal:
        programmes.create_programme(actor=coach, coach=coach, **values)
    assert refusal.value.field == field
    assert words in refusal.value.message


def test_another_coachs_session_type_is_named():
    coach = CoachFactory()
    other = SessionTypeFactory(title="Their yoga")
    with pytest.raises(DomainError, match="“Their yoga” is not one of this coach's session types"):
        programmes.create_programme(actor=coach, coach=coach, title="Course", session_types=[other.pk])


def test_check_refuses_without_writing():
    coach = CoachFactory()
    with pytest.raises(DomainError):
        programmes.check(actor=coach, coach=coach, title="", session_types=[])
    programmes.check(actor=coach, coach=coach, title="Fine", session_types=[SessionTypeFactory(coach=coach).pk])
    assert not coach.programmes.exists()
