"""Amounts in a currency's minor units (cents), never floats: a price written in major units
(``Decimal("90.00")``) becomes an integer count of the currency's smallest unit, with the
ISO 4217 exponent (2 for EUR, 0 for JPY, 3 for KWD); and back, for people to read."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

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


def display(minor: int, currency: str) -> str:
    """For people: ``90.00 EUR``, ``1500 JPY``."""
    return f"{to_major(minor, currency)} {currency.upper()}"
