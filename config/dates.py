"""Dates and times in the reader's language, by name.

Pages, emails, SMS and calendar texts don't write a date format themselves
(``|date:"D j M, H:i"``, ``strftime``): they name one — ``day_long``, ``datetime_short``,
``date_short_no_year``… — and each language says how it is written
(``config/formats/<language>/formats.py``, ``<NAME>_FORMAT``). English keeps the
product's formats ("Wed 3 Dec, 14:30"); French writes « mer. 3 déc. à 14:30 ».

Templates use the ``when`` filter, built in everywhere (``TEMPLATES`` ``builtins``):
``{{ session.start|when:"datetime_short_no_year" }}`` (the value in the viewer's zone, as
Django's ``date`` filter). Python uses ``format_when(local_value, name)``, in the active
language (``translation.override`` around a message to someone else).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from django import template
from django.conf import settings
from django.utils import dateformat, formats
from django.utils.translation import get_language

NAMES = (
    "day_long",
    "day_long_no_year",
    "datetime_long",
    "datetime_long_no_year",
    "day_short",
    "day_short_no_year",
    "datetime_short",
    "datetime_short_no_year",
    "date_short",
    "date_short_no_year",
    "date_long",
    "date_long_no_year",
    "datetime_compact",
    "datetime_table",
    "month",
    "time_short",
    "datetime_table_no_year",
    "day_time_table_no_year",
    "datetime_compact_no_year",
    "datetime_seconds",
    "datetime_seconds_no_year",
    "weekday_time",
    "weekday_short",
    "month_short",
    "weekday_long",
    "weekday_short_time",
    "month_short_year",
)


def date_format(name: str, language: str | None = None) -> str:
    """The format string (letters of Django's ``date`` filter) of the named format in
    ``language`` (default: the active one); a language without it uses English's."""
    return _date_format(name, language or get_language() or settings.LANGUAGE_CODE)


@lru_cache(maxsize=256)
def _date_format(name: str, language: str) -> str:
    if name not in NAMES:
        raise ValueError(f"Unknown date format {name!r}; the named formats are {', '.join(NAMES)}.")
    attribute = f"{name.upper()}_FORMAT"
    for code in (language, settings.LANGUAGE_CODE, "en"):
        for module in formats.iter_format_modules(code, settings.FORMAT_MODULE_PATH):
            found = getattr(module, attribute, None)
            if found:
                return found
    raise ValueError(f"No language defines {attribute}.")  # pragma: no cover - en defines every name


def format_when(value: dt.date | dt.datetime | dt.time, name: str) -> str:
    """``value`` (a date, or a date and time already in the reader's zone) written in the
    named format of the active language."""
    fmt = date_format(name)
    if isinstance(value, dt.time):
        return dateformat.time_format(value, fmt)
    return dateformat.format(value, fmt)


register = template.Library()


@register.filter(expects_localtime=True, is_safe=False)
def when(value: object, name: str) -> str:
    """``{{ value|when:"day_long" }}``: like ``|date``, with a named format (see above)."""
    if value in (None, ""):
        return ""
    fmt = date_format(name)  # an unknown name is the template's mistake: raised
    try:
        if isinstance(value, dt.time):
            return dateformat.time_format(value, fmt)
        return dateformat.format(value, fmt)
    except (AttributeError, TypeError):
        return ""  # not a date (as Django's ``date`` filter)
