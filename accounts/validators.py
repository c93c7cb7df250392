"""Validation of the values a user types about themselves: time zone and phone."""

from __future__ import annotations

import zoneinfo
from functools import lru_cache

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from config.inputs import canonical_zones


@lru_cache(maxsize=1)
def available_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@lru_cache(maxsize=1)
def timezone_choices() -> list[tuple[str, str]]:
    """IANA zones grouped by area, for select boxes (UTC first)."""
    names = sorted(name for name in canonical_zones() if "/" in name)
    return [("UTC", "UTC")] + [(name, name.replace("_", " ")) for name in names]


def is_valid_timezone(name: str) -> bool:
    """``name`` loads as a zone (an account saved before names were made canonical may
    hold an old alias; it still reads right)."""
    return name in available_timezones()


def validate_timezone(value: str) -> None:
    """Only canonical IANA names are stored (``Asia/Kolkata``, not ``Asia/Calcutta``, nor
    ``localtime``, which follows the server's own clock); ``canonical_zone`` turns an old
    alias a browser reports into its canonical name first."""
    if value not in canonical_zones():
        raise ValidationError(
            _("“%(value)s” is not a time zone we know. Use an IANA name such as Europe/Paris."),
            code="invalid_timezone",
            params={"value": value},
        )


def normalize_phone(value: str) -> str:
    """Return ``value`` in E.164 (+33612345678) or raise ValidationError."""
    raw = value.strip()
    if not raw.startswith("+"):
        raise ValidationError(
            "Enter the phone number in international format, starting with + and the country code "
            "(for example +33 6 12 34 56 78).",
            code="invalid_phone",
        )
    try:
        number = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError("“%(value)s” is not a valid phone number.", code="invalid_phone", params={"value": raw})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_phone(value: str) -> None:
    if value:
        normalize_phone(value)
        if normalize_phone(value) != value:
            raise ValidationError("Store phone numbers in E.164 form, e.g. +33612345678.", code="invalid_phone")
