"""Prices set up by coaches and staff: a session type's early-bird price, deposit and
"enrolled clients only" (checked by the session-type service for the page, the admin and
every other writer), and the coach's discount for connected clients."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from accounts.tests.factories import StaffFactory
from bookings import services
from bookings.models import SessionType
from bookings.tests.factories import GroupTypeFactory, open_coach
from bookings.tests.test_session_type_pages import FORM
from config.errors import DomainError
from conftest import logged_in

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC)

GROUP_FORM = {**FORM, "title": "Spring workshop", "kind": "workshop", "capacity": "8", "price": "100.00"}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def coach():
    return open_coach(timezone="Europe/Paris")


def errors_of(response) -> dict[str, str]:
    return {name: " ".join(messages) for name, messages in response.context["form"].errors.items()}


# --- the session type page ---------------------------------------------------------------------


def test_the_form_shows_the_price_options_and_the_late_cancellation_refund(coach) -> None:
    body = logged_in(coach).get(reverse("session_type_create")).content.decode()
    for name in (
        "early_bird_price",
        "early_bird_days",
        "deposit",
        "balance_due_days",
        "requires_enrollment",
        "late_cancellation_refund_percent",
    ):
        assert f'name="{name}"' in body, name
    assert "Enrolled clients only" in body


def test_a_workshop_with_early_bird_deposit_and_enrolled_only_is_saved_as_given(coach) -> None:
    data = {
        **GROUP_FORM,
        "early_bird_price": "80.00",
        "early_bird_days": "14",
        "deposit": "30.00",
        "balance_due_days": "10",
        "requires_enrollment": "on",
        "late_cancellation_refund_percent": "50",
    }
    response = logged_in(coach).post(reverse("session_type_create"), data)
    assert response.status_code == 303
    st = SessionType.objects.get(coach=coach)
    assert (st.early_bird_price, st.early_bird_days, st.deposit, st.balance_due_days) == (
        Decimal("80.00"),
        14,
        Decimal("30.00"),
        10,
    )
    assert st.requires_enrollment is True
    assert st.late_cancellation_refund_percent == 50


def test_a_blank_balance_day_count_keeps_the_usual_seven_days(coach) -> None:
    response = logged_in(coach).post(reverse("session_type_create"), {**GROUP_FORM, "deposit": "20"})
    assert response.status_code == 303
    st = SessionType.objects.get(coach=coach)
    assert (st.deposit, st.balance_due_days) == (Decimal("20.00"), 7)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        pytest.param(
            {"early_bird_price": "100.00", "early_bird_days": "7"},
            "early_bird_price",
            "The early-bird price must be lower than the price.",
            id="early-bird-not-lower",
        ),
        pytest.param(
            {"early_bird_price": "80.00"},
            "early_bird_days",
            "Say until how many days before the session the early-bird price applies.",
            id="early-bird-without-days",
        ),
        pytest.param(
            {"early_bird_days": "7"},
            "early_bird_price",
            "Give the early-bird price, or leave both early-bird fields empty.",
            id="days-without-early-bird",
        ),
        pytest.param(
            {"early_bird_price": "80.00", "early_bird_days": "0"},
            "early_bird_days",
            "Early bird until (days before) must be between 1 and 365.",
            id="early-bird-zero-days",
        ),
        pytest.param(
            {"early_bird_price": "-5", "early_bird_days": "7"},
            "early_bird_price",
            "Early-bird price can't be negative.",
            id="early-bird-negative",
        ),
        pytest.param(
            {"deposit": "120.00"}, "deposit", "The deposit can't be more than the price.", id="deposit-above-price"
        ),
        pytest.param(
            {"deposit": "20", "balance_due_days": "400"},
            "balance_due_days",
            "Balance due (days before) must be between 0 and 365.",
            id="balance-days-too-many",
        ),
        pytest.param(
            {"currency": "EU1"},
            "currency",
            "Give the currency as a 3-letter ISO 4217 code, e.g. EUR.",
            id="currency-not-letters",
        ),
        pytest.param({"deposit": "abc"}, "deposit", "Enter a number.", id="deposit-not-a-number"),
    ],
)
def test_the_page_refuses_bad_price_options_beside_their_field(coach, change, field, message) -> None:
    response = logged_in(coach).post(reverse("session_type_create"), {**GROUP_FORM, **change})
    assert response.status_code == 400
    errors = errors_of(response)
    assert errors == {field: message}
    assert not SessionType.objects.exists()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            {"deposit": "10.00"},
            "deposit",
            "A deposit is for group sessions and workshops: a one-on-one is paid in full at booking.",
        ),
        (
            {"early_bird_price": "30.00", "early_bird_days": "7"},
            "early_bird_price",
            "An early-bird price is for group sessions and workshops: leave it empty for a one-on-one.",
        ),
    ],
)
def test_a_one_on_one_with_a_deposit_or_early_bird_is_refused_with_a_clear_field_error(
    coach, change, field, message
) -> None:
    response = logged_in(coach).post(reverse("session_type_create"), {**FORM, **change})
    assert response.status_code == 400
    assert errors_of(response) == {field: message}
    assert message in response.content.decode()


def test_a_deposit_of_zero_means_no_deposit(coach) -> None:
    st = services.create_session_type(
        actor=coach, coach=coach, title="Talk", kind="group", capacity=5, price=Decimal("40"), deposit=Decimal("0")
    )
    assert st.deposit is None


def test_a_deposit_equal_to_the_price_is_allowed(coach) -> None:
    st = services.create_session_type(
        actor=coach, coach=coach, title="Talk", kind="group", capacity=5, price=Decimal("40"), deposit=Decimal("40")
    )
    assert st.deposit == Decimal("40")


def test_lowering_the_price_below_the_early_bird_price_is_refused(coach) -> None:
    st = GroupTypeFactory(coach=coach, price=Decimal("50"), early_bird_price=Decimal("40"), early_bird_days=7)
    with pytest.raises(DomainError) as refused:
        services.update_session_type(session_type=st, actor=coach, price=Decimal("40"))
    assert refused.value.field == "early_bird_price"
    st.refresh_from_db()
    assert st.price == Decimal("50")


def test_a_group_type_with_a_deposit_cant_become_one_on_one(coach) -> None:
    st = GroupTypeFactory(coach=coach, price=Decimal("50"), deposit=Decimal("10"))
    with pytest.raises(DomainError) as refused:
        services.update_session_type(session_type=st, actor=coach, kind="one_on_one", capacity=1)
    assert refused.value.field == "deposit"


def test_a_duplicate_keeps_the_price_options(coach) -> None:
    st = GroupTypeFactory(
        coach=coach,
        price=Decimal("50"),
        early_bird_price=Decimal("45"),
        early_bird_days=10,
        deposit=Decimal("10"),
        balance_due_days=3,
        requires_enrollment=True,
    )
    copy = services.duplicate_session_type(actor=coach, session_type=st)
    assert (copy.early_bird_price, copy.early_bird_days, copy.deposit, copy.balance_due_days) == (
        Decimal("45"),
        10,
        Decimal("10"),
        3,
    )
    assert copy.requires_enrollment is True


# --- the admin ---------------------------------------------------------------------------------


def admin_data(coach, **changes) -> dict:
    return {
        "coach": coach.pk,
        "title": "Workshop",
        "kind": "workshop",
        "is_active": "on",
        "duration_minutes": 60,
        "capacity": 6,
        "price": "60.00",
        "currency": "EUR",
        "modality": "online",
        "approval": "coach",
        "host_mode": "single",
        "reminder_minutes": "",
        **changes,
    }


def test_the_admin_refuses_a_deposit_above_the_price_beside_the_field(coach) -> None:
    response = logged_in(StaffFactory()).post(
        reverse("admin:bookings_sessiontype_add"), admin_data(coach, deposit="70.00")
    )
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors == {"deposit": ["The deposit can't be more than the price."]}
    assert not SessionType.objects.exists()


def test_the_admin_saves_the_price_options(coach) -> None:
    response = logged_in(StaffFactory()).post(
        reverse("admin:bookings_sessiontype_add"),
        admin_data(
            coach,
            early_bird_price="50.00",
            early_bird_days=20,
            deposit="15.00",
            balance_due_days=5,
            requires_enrollment="on",
        ),
    )
    assert response.status_code == 302
    st = SessionType.objects.get()
    assert (st.early_bird_price, st.early_bird_days, st.deposit, st.balance_due_days, st.requires_enrollment) == (
        Decimal("50.00"),
        20,
        Decimal("15.00"),
        5,
        True,
    )


# --- the coach's discount for connected clients ------------------------------------------------


def settings_post(profile, **changes) -> dict:
    from accounts.services import COACH_SETTING_FIELDS

    data = {name: getattr(profile, name) for name in COACH_SETTING_FIELDS}
    data = {name: ("on" if value is True else value) for name, value in data.items() if value is not False}
    # Within the page's limits (the test coach is open far beyond them).
    return {**data, "max_sessions_per_day": 8, "max_sessions_per_week": 40, **changes}


def test_the_coach_sets_a_discount_for_connected_clients(coach) -> None:
    profile = coach.coach_profile
    page = logged_in(coach).get(reverse("coach_settings")).content.decode()
    assert "Discount for connected clients (%)" in page
    response = logged_in(coach).post(reverse("coach_settings"), settings_post(profile, connected_discount_percent=15))
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.connected_discount_percent == 15


@pytest.mark.parametrize("value", ["101", "-1", "ten", "12.5"])
def test_a_discount_outside_0_to_100_is_refused_beside_the_field(coach, value) -> None:
    profile = coach.coach_profile
    response = logged_in(coach).post(
        reverse("coach_settings"), settings_post(profile, connected_discount_percent=value)
    )
    assert response.status_code == 400
    assert response.context["form"].errors["connected_discount_percent"] == [
        "Give the discount as a whole number from 0 to 100."
    ]
    profile.refresh_from_db()
    assert profile.connected_discount_percent == 0


def test_a_settings_post_without_the_discount_keeps_it(coach) -> None:
    profile = coach.coach_profile
    profile.connected_discount_percent = 10
    profile.save()
    response = logged_in(coach).post(reverse("coach_settings"), settings_post(profile, headline="New"))
    assert response.status_code == 302
    profile.refresh_from_db()
    assert (profile.connected_discount_percent, profile.headline) == (10, "New")
