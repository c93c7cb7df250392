"""Validation of the values a user types about themselves: time zone and phone."""

from __future__ import annotations

import zoneinfo
from functools import lru_cache

import phonenumbers
from django.core.exceptions import ValidationError


@lru_cache(maxsize=1)
def available_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@lru_cache(maxsize=1)
def timezone_choices() -> list[tuple[str, str]]:
    """IANA zones grouped by area, for select boxes (UTC first)."""
    names = sorted(name for name in available_timezones() if "/" in name and not name.startswith(("Etc/", "SystemV/")))
    return [("UTC", "UTC")] + [(name, name.replace("_", " ")) for name in names]


def is_valid_timezone(name: str) -> bool:
    return name in available_timezones()


def validate_timezone(value: str) -> None:
    if not is_valid_timezone(value):
        raise ValidationError(
            "“%(value)s” is not a known time zone. Use an IANA name such as Europe/Paris.",
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
