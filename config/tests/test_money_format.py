"""Amounts in the reader's language (config/money.py, config/formats/): English exactly as
before ("2500.00 INR", no thousands separator), French « 2 500,00 INR » (a narrow no-break
space between thousands, a decimal comma), the currency's own decimals (JPY none, KWD
three), refunds' negative amounts, and the template filters built into every template."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template import engines
from django.utils import translation

from config.money import display, display_major, number_style

NNBSP = "\u202f"  # narrow no-break space


def render(source: str, **context) -> str:
    return engines["django"].from_string(source).render(context)


@pytest.mark.parametrize(
    ("minor", "currency", "english", "french"),
    [
        (9000, "EUR", "90.00 EUR", "90,00 EUR"),
        (250000, "INR", "2500.00 INR", f"2{NNBSP}500,00 INR"),
        (1500, "JPY", "1500 JPY", f"1{NNBSP}500 JPY"),
        (150, "JPY", "150 JPY", "150 JPY"),
        (1234, "KWD", "1.234 KWD", "1,234 KWD"),
        (123456789, "KWD", "123456.789 KWD", f"123{NNBSP}456,789 KWD"),
        (0, "EUR", "0.00 EUR", "0,00 EUR"),
        (1, "usd", "0.01 USD", "0,01 USD"),
        (123456789012, "EUR", "1234567890.12 EUR", f"1{NNBSP}234{NNBSP}567{NNBSP}890,12 EUR"),
        (-250000, "INR", "-2500.00 INR", f"-2{NNBSP}500,00 INR"),  # a refund written as a minus
        (-999, "EUR", "-9.99 EUR", "-9,99 EUR"),
    ],
)
def test_display_in_english_and_in_french(minor, currency, english, french):
    with translation.override("en"):
        assert display(minor, currency) == english
    with translation.override("fr"):
        assert display(minor, currency) == french


def test_english_is_exactly_what_it_always_was():
    """The old ``f"{to_major(minor, currency)} {currency.upper()}"``, for every size."""
    with translation.override("en"):
        for minor in (0, 5, 99, 100, 12345, 1000000, 987654321):
            assert display(minor, "EUR") == f"{Decimal(minor) / 100:.2f} EUR"
            assert display(minor, "JPY") == f"{minor} JPY"


def test_an_amount_in_major_units_and_its_short_form():
    with translation.override("en"):
        assert display_major(Decimal("60.00"), "EUR") == "60.00 EUR"
        assert display_major(Decimal("9.995"), "EUR") == "10.00 EUR"  # rounded to the cent, half up
        assert display_major(Decimal("60.00"), "EUR", short=True) == "60 EUR"
        assert display_major(Decimal("60.50"), "EUR", short=True) == "60.50 EUR"
        assert display_major(Decimal("2500"), "INR", short=True) == "2500 INR"
        assert display_major(1500, "JPY", short=True) == "1500 JPY"
    with translation.override("fr"):
        assert display_major(Decimal("2500.00"), "INR") == f"2{NNBSP}500,00 INR"
        assert display_major(Decimal("2500.00"), "INR", short=True) == f"2{NNBSP}500 INR"
        assert display_major(Decimal("2500.50"), "INR", short=True) == f"2{NNBSP}500,50 INR"
    with pytest.raises(TypeError):
        display_major(60.0, "EUR")  # never a float


def test_the_filters_are_built_into_every_template():
    source = "{{ minor|money:currency }} / {{ major|money_major:currency }} / {{ major|money_short:currency }}"
    context = {"minor": 250050, "major": Decimal("2500.00"), "currency": "INR"}
    with translation.override("en"):
        assert render(source, **context) == "2500.50 INR / 2500.00 INR / 2500 INR"
    with translation.override("fr"):
        assert render(source, **context) == f"2{NNBSP}500,50 INR / 2{NNBSP}500,00 INR / 2{NNBSP}500 INR"


@pytest.mark.parametrize("value", [None, "", "abc", 1.5])
def test_the_filters_print_nothing_for_what_isnt_an_amount(value):
    assert render("[{{ value|money:'EUR' }}|{{ value|money_major:'EUR' }}]", value=value) == "[|]"
    assert render("[{{ 9000|money:currency }}]", currency="") == "[]"


def test_each_language_says_how_it_groups_amounts():
    assert number_style("en") == (".", 0, "")
    assert number_style("fr") == (",", 3, NNBSP)
    # A language without MONEY_GROUPING groups amounts as Django writes its numbers.
    assert number_style("de") == (",", 3, ".")
