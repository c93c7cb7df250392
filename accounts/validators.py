"""Validation of the values a user types about themselves: time zone and phone."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from functools import lru_cache

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from config.inputs import canonical_zones


@lru_cache(maxsize=1)
def available_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@lru_cache(maxsize=1)
def timezone_choices() -> list[tuple[str, str]]:
    """IANA zones grouped by area, for select boxes (UTC first)."""
    names = sorted(name for name in canonical_zones() if "/" in name)
    return [("UTC", "UTC")] + [(name, name.replace("_", " ")) for name in names]


# The first part of a zone's name, as the picker names its group.
REGION_LABELS = {
    "Africa": _lazy("Africa"),
    "America": _lazy("Americas"),
    "Antarctica": _lazy("Antarctica"),
    "Arctic": _lazy("Arctic"),
    "Asia": _lazy("Asia"),
    "Atlantic": _lazy("Atlantic"),
    "Australia": _lazy("Australia"),
    "Europe": _lazy("Europe"),
    "Indian": _lazy("Indian Ocean"),
    "Pacific": _lazy("Pacific"),
}


def zone_city(name: str) -> str:
    """The place a zone is named after: ``Paris``, ``Buenos Aires (Argentina)``."""
    parts = name.replace("_", " ").split("/")
    if len(parts) > 2:
        return f"{parts[-1]} ({', '.join(parts[1:-1])})"
    return parts[-1]


def utc_offset_label(name: str, when: dt.datetime) -> str:
    """``UTC+05:45``: the zone's offset at ``when`` (an aware instant)."""
    offset = when.astimezone(zoneinfo.ZoneInfo(name)).utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


def timezone_groups(when: dt.datetime) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """Canonical zones by region for the time-zone picker, each as (name, city, offset at
    ``when``), cities in alphabetical order; UTC first, in a group of its own."""
    groups: dict[str, list[tuple[str, str, str]]] = {}
    for name in canonical_zones():
        region = name.split("/")[0]
        if region not in REGION_LABELS:
            continue
        groups.setdefault(region, []).append((name, zone_city(name), utc_offset_label(name, when)))
    result = [("UTC", [("UTC", "UTC", "UTC+00:00")])]
    for region in sorted(groups, key=lambda key: str(REGION_LABELS[key])):
        result.append((str(REGION_LABELS[region]), sorted(groups[region], key=lambda zone: zone[1].casefold())))
    return result


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
            _(
                "Enter the phone number in international format, starting with + and the country code "
                "(for example +33 6 12 34 56 78)."
            ),
            code="invalid_phone",
        )
    try:
        number = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("“%(value)s” is not a valid phone number."), code="invalid_phone", params={"value": raw}
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_phone(value: str) -> None:
    if value:
        normalize_phone(value)
        if normalize_phone(value) != value:
            raise ValidationError(_("Store phone numbers in E.164 form, e.g. +33612345678."), code="invalid_phone")
