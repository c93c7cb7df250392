"""Amounts in a currency's minor units (cents), never floats: a price written in major units
(``Decimal("90.00")``) becomes an integer count of the currency's smallest unit, with the
ISO 4217 exponent (2 for EUR, 0 for JPY, 3 for KWD); and back, for people to read.

People read an amount in their language: "2500.00 INR" in English (as always: no thousands
separator), « 2 500,00 INR » in French (a narrow no-break space between thousands, a decimal
comma). The decimal separator is the language's own (Django's ``DECIMAL_SEPARATOR``); how
thousands are grouped is ``MONEY_GROUPING`` and ``MONEY_THOUSAND_SEPARATOR`` in
``config/formats/<language>/formats.py`` (a language that doesn't say groups amounts as its
numbers: Django's ``NUMBER_GROUPING`` and ``THOUSAND_SEPARATOR``). Python: ``display(minor,
currency)`` or ``display_major(Decimal("90"), currency)`` in the active language
(``accounts.language.in_language_of`` around a message to someone else). Templates (built
in everywhere, ``TEMPLATES`` ``builtins``): ``{{ payment.amount_minor|money:payment.currency }}``,
``{{ booking.price|money_major:booking.currency }}``, and ``{{ st.price|money_short:st.currency }}``
for a type's price written short ("50 EUR", "50.50 EUR").

Only what people read goes through here: the API's amounts, the gateways', CSV columns and
form values stay plain numbers.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from django import template
from django.conf import settings
from django.utils import formats, numberformat
from django.utils.translation import get_language

# ISO 4217 currencies whose minor unit isn't a hundredth (the rest have 2 decimals).
ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
)
THREE_DECIMAL = frozenset({"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"})


def exponent(currency: str) -> int:
    """How many decimals the currency's minor unit has."""
    code = currency.upper()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def to_minor(amount: Decimal | int | str, currency: str) -> int:
    """``amount`` in major units as a whole number of minor units (half up at the last
    place: 9.995 EUR is 1000 cents). Refuses floats and what isn't a finite number."""
    if isinstance(amount, float):
        raise TypeError("amounts are Decimal, int or str, never float")
    try:
        value = Decimal(amount)
    except (InvalidOperation, ValueError) as error:
        raise ValueError(f"not an amount: {amount!r}") from error
    if not value.is_finite():
        raise ValueError(f"not an amount: {amount!r}")
    return int((value.scaleb(exponent(currency))).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def to_major(minor: int, currency: str) -> Decimal:
    """Minor units back to major units, with the currency's decimals (``Decimal("90.00")``)."""
    places = exponent(currency)
    return (Decimal(minor).scaleb(-places)).quantize(Decimal(1).scaleb(-places))


def number_style(language: str | None = None) -> tuple[str, int, str]:
    """How ``language`` (default: the active one) writes an amount's number: its decimal
    separator, how many digits a group of thousands has (0: none) and what separates them."""
    return _number_style(language or get_language() or settings.LANGUAGE_CODE)


@lru_cache(maxsize=64)
def _number_style(language: str) -> tuple[str, int, str]:
    modules = list(formats.iter_format_modules(language, settings.FORMAT_MODULE_PATH))

    def found(name: str, default: object) -> object:
        for module in modules:
            value = getattr(module, name, None)
            if value is not None:
                return value
        return default

    decimal = found("DECIMAL_SEPARATOR", settings.DECIMAL_SEPARATOR)
    grouping = found("MONEY_GROUPING", None)
    separator = found("MONEY_THOUSAND_SEPARATOR", None)
    if grouping is None:  # a language that says nothing of amounts groups them as its numbers
        grouping = found("NUMBER_GROUPING", settings.NUMBER_GROUPING)
    if separator is None:
        separator = found("THOUSAND_SEPARATOR", settings.THOUSAND_SEPARATOR)
    return str(decimal), grouping, str(separator)


def _number(major: Decimal, places: int) -> str:
    decimal, grouping, separator = number_style()
    return str(
        numberformat.format(
            major, decimal, decimal_pos=places, grouping=grouping, thousand_sep=separator, force_grouping=True
        )
    )


def display(minor: int, currency: str) -> str:
    """For people, in the active language: ``90.00 EUR``, ``1500 JPY`` in English;
    « 90,00 EUR », « 1 500 JPY » in French."""
    places = exponent(currency)
    return f"{_number(to_major(minor, currency), places)} {currency.upper()}"


def display_major(amount: Decimal | int | str, currency: str, *, short: bool = False) -> str:
    """An amount in major units (a type's price, ``Decimal("60.00")``) as ``display`` writes
    it, rounded to the currency's minor unit. ``short`` leaves out the decimals of a whole
    amount ("60 EUR", but "60.50 EUR"), as the session types' prices are written."""
    minor = to_minor(amount, currency)
    if short and exponent(currency) and minor % 10 ** exponent(currency) == 0:
        return f"{_number(Decimal(minor // 10 ** exponent(currency)), 0)} {currency.upper()}"
    return display(minor, currency)


register = template.Library()


def _shown(value: object, currency: object, write) -> str:
    if value in (None, "") or not currency:
        return ""
    try:
        return write(value, str(currency))
    except (TypeError, ValueError):
        return ""


@register.filter(is_safe=False)
def money(value: object, currency: str) -> str:
    """``{{ payment.amount_minor|money:payment.currency }}``: minor units (an ``int``) →
    "90.00 EUR" (« 90,00 EUR » in French)."""

    def write(minor: object, code: str) -> str:
        if isinstance(minor, bool) or not isinstance(minor, int):
            minor = int(str(minor))  # "9000" from a form; never a float's rounding
        return display(minor, code)

    return _shown(value, currency, write)


@register.filter(is_safe=False)
def money_major(value: object, currency: str) -> str:
    """``{{ booking.price|money_major:booking.currency }}``: major units (a ``Decimal``) →
    "60.00 EUR" (« 60,00 EUR » in French)."""
    return _shown(value, currency, lambda amount, code: display_major(amount, code))


@register.filter(is_safe=False)
def money_short(value: object, currency: str) -> str:
    """``{{ st.price|money_short:st.currency }}``: a price in major units, a whole amount
    without its decimals: "60 EUR", "60.50 EUR" (« 2 500 INR », « 60,50 EUR » in French)."""
    return _shown(value, currency, lambda amount, code: display_major(amount, code, short=True))
