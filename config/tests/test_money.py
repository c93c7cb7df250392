from decimal import Decimal

import pytest

from config.money import display, exponent, to_major, to_minor


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        (Decimal("90.00"), "EUR", 9000),
        ("0.01", "usd", 1),
        (Decimal("9.995"), "EUR", 1000),  # half up at the last place
        (1500, "JPY", 1500),
        (Decimal("12.5"), "JPY", 13),
        (Decimal("1.234"), "KWD", 1234),
        (Decimal("0"), "INR", 0),
    ],
)
def test_to_minor(amount, currency, minor):
    assert to_minor(amount, currency) == minor


def test_round_trip_and_display():
    for currency in ("EUR", "JPY", "KWD", "INR"):
        for minor in (0, 1, 99, 123456):
            assert to_minor(to_major(minor, currency), currency) == minor
    assert display(9000, "eur") == "90.00 EUR"
    assert display(1500, "JPY") == "1500 JPY"
    assert display(1234, "KWD") == "1.234 KWD"
    assert exponent("xof") == 0


def test_floats_and_nonsense_are_refused():
    with pytest.raises(TypeError):
        to_minor(0.1, "EUR")
    for bad in ("abc", "NaN", "Infinity"):
        with pytest.raises(ValueError):
            to_minor(bad, "EUR")
