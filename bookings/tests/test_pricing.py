"""``bookings.pricing.quote``: what a booking costs — early bird by days before the start,
the coach's discount for connected clients, a promotion code (percentage or amount), the
currency's rounding (none below a yen), and the deposit with the balance's date."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bookings.models import PromoCode, SessionKind, SessionType
from bookings.pricing import quote

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def group_type(**fields) -> SessionType:
    """An unsaved workshop: ``quote`` reads only the type's fields."""
    values = {"kind": SessionKind.WORKSHOP, "capacity": 10, "price": Decimal("100.00"), "currency": "EUR"}
    return SessionType(**{**values, **fields})


def one_on_one(**fields) -> SessionType:
    return SessionType(**{"kind": SessionKind.ONE_ON_ONE, "price": Decimal("60.00"), "currency": "EUR", **fields})


def percent_code(percent: int) -> PromoCode:
    return PromoCode(code="SPRING", percent_off=percent)


def amount_code(amount: str, currency: str = "EUR") -> PromoCode:
    return PromoCode(code="TENOFF", amount_off=Decimal(amount), currency=currency)


def days(n: float) -> dt.datetime:
    return NOW + dt.timedelta(days=n)


# --- early bird --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "price"),
    [
        (days(15), Decimal("80.00")),  # more than 14 days before: early bird
        (days(14), Decimal("80.00")),  # exactly 14 days before still counts
        (days(14) - dt.timedelta(minutes=1), Decimal("100.00")),  # a minute late: the full price
        (days(2), Decimal("100.00")),
    ],
)
def test_the_early_bird_price_applies_until_its_days_before_the_start(start, price) -> None:
    st = group_type(early_bird_price=Decimal("80.00"), early_bird_days=14)
    result = quote(st, start=start, now=NOW)
    assert result.price == price
    assert result.list_price == Decimal("100.00")
    assert ("Early-bird price" in result.notes) == (price == Decimal("80.00"))


def test_a_one_on_one_never_gets_an_early_bird_price() -> None:
    st = one_on_one(early_bird_price=Decimal("40.00"), early_bird_days=1)
    assert quote(st, start=days(30), now=NOW).price == Decimal("60.00")


# --- connected discount ------------------------------------------------------------------------


def test_a_connected_client_gets_the_coachs_discount() -> None:
    st = one_on_one()
    result = quote(st, start=days(3), now=NOW, connected=True, discount_percent=15)
    assert result.price == Decimal("51.00")
    assert result.notes == ("15% off for connected clients",)


def test_a_client_not_connected_pays_the_price() -> None:
    assert quote(one_on_one(), start=days(3), now=NOW, connected=False, discount_percent=15).price == Decimal("60.00")


def test_the_discount_comes_off_the_early_bird_price() -> None:
    st = group_type(early_bird_price=Decimal("80.00"), early_bird_days=7)
    result = quote(st, start=days(10), now=NOW, connected=True, discount_percent=25)
    assert result.price == Decimal("60.00")


# --- promotion codes ---------------------------------------------------------------------------


def test_a_percentage_code_comes_off_what_is_left_after_the_discount() -> None:
    result = quote(one_on_one(), start=days(3), now=NOW, connected=True, discount_percent=10, promo=percent_code(50))
    # 60 - 10% = 54, then half of it.
    assert result.price == Decimal("27.00")
    assert result.notes[-1] == "Code SPRING: 50% off"


def test_an_amount_code_comes_off_the_price() -> None:
    result = quote(one_on_one(), start=days(3), now=NOW, promo=amount_code("10.00"))
    assert result.price == Decimal("50.00")
    assert result.notes == ("Code TENOFF: 10.00 EUR off",)


def test_an_amount_code_never_takes_the_price_below_zero() -> None:
    result = quote(one_on_one(), start=days(3), now=NOW, promo=amount_code("75.00"))
    assert result.price == Decimal("0.00")
    assert result.is_free


def test_a_hundred_percent_code_makes_it_free() -> None:
    assert quote(one_on_one(), start=days(3), now=NOW, promo=percent_code(100)).is_free


# --- rounding to the currency's minor unit -----------------------------------------------------


def test_a_percentage_is_rounded_half_up_to_the_cent() -> None:
    st = one_on_one(price=Decimal("9.99"))
    # 9.99 × 85% = 8.4915 → 8.49; 9.99 × 50% = 4.995 → 5.00 (half up).
    assert quote(st, start=days(3), now=NOW, connected=True, discount_percent=15).price == Decimal("8.49")
    assert quote(st, start=days(3), now=NOW, promo=percent_code(50)).price == Decimal("5.00")


def test_a_yen_price_is_rounded_to_whole_yen() -> None:
    st = one_on_one(price=Decimal("1555"), currency="JPY")
    result = quote(st, start=days(3), now=NOW, connected=True, discount_percent=10)
    # 1555 × 90% = 1399.5 → 1400 yen, no decimals.
    assert result.price == Decimal("1400")
    assert result.price.as_tuple().exponent == 0
    assert result.due_now_minor == 1400


def test_a_three_decimal_currency_keeps_its_three_decimals() -> None:
    st = one_on_one(price=Decimal("10.00"), currency="KWD")
    result = quote(st, start=days(3), now=NOW, promo=percent_code(33))
    assert result.price == Decimal("6.700")
    assert result.due_now_minor == 6700


# --- deposit and balance -----------------------------------------------------------------------


def test_a_deposit_is_paid_now_and_the_balance_is_due_its_days_before() -> None:
    st = group_type(deposit=Decimal("30.00"), balance_due_days=7)
    start = days(20)
    result = quote(st, start=start, now=NOW)
    assert (result.price, result.deposit, result.due_now) == (Decimal("100.00"), Decimal("30.00"), Decimal("30.00"))
    assert result.balance_due_at == start - dt.timedelta(days=7)


@pytest.mark.parametrize("deposit", [Decimal("100.00"), Decimal("150.00")])
def test_a_deposit_as_big_as_the_price_means_paying_in_full(deposit) -> None:
    st = group_type(deposit=deposit, balance_due_days=7)
    result = quote(st, start=days(20), now=NOW)
    assert (result.deposit, result.due_now, result.balance_due_at) == (Decimal("0"), Decimal("100.00"), None)


def test_a_deposit_above_the_discounted_price_means_paying_in_full() -> None:
    st = group_type(deposit=Decimal("60.00"), balance_due_days=3)
    result = quote(st, start=days(20), now=NOW, promo=percent_code(50))
    assert (result.price, result.deposit, result.due_now) == (Decimal("50.00"), Decimal("0"), Decimal("50.00"))


@pytest.mark.parametrize("start", [days(7), days(5), days(0.5)])
def test_too_close_to_the_session_for_a_later_balance_everything_is_paid_now(start) -> None:
    st = group_type(deposit=Decimal("30.00"), balance_due_days=7)
    result = quote(st, start=start, now=NOW)
    assert (result.deposit, result.balance_due_at, result.due_now) == (Decimal("0"), None, Decimal("100.00"))


def test_a_one_on_one_has_no_deposit() -> None:
    result = quote(one_on_one(deposit=Decimal("10.00")), start=days(20), now=NOW)
    assert (result.deposit, result.due_now) == (Decimal("0"), Decimal("60.00"))


def test_the_deposit_is_rounded_to_whole_yen() -> None:
    st = group_type(price=Decimal("10000"), currency="JPY", deposit=Decimal("2500.40"), balance_due_days=3)
    result = quote(st, start=days(20), now=NOW)
    assert result.deposit == Decimal("2500")
    assert result.due_now_minor == 2500
