"""Percentages in the reader's language: "45%" in English, « 45 % » in French (a narrow
no-break space before the sign, as French typography writes it).

Python: ``format_percent(45)``; templates: ``{{ value|percent }}`` (built in everywhere,
``TEMPLATES`` ``builtins``). The value is already a percentage (45, not 0.45); ``None``
and empty values print nothing.
"""

from __future__ import annotations

from django import template
from django.utils.formats import number_format
from django.utils.translation import pgettext


def format_percent(value: float | int, *, digits: int = 0) -> str:
    """``value`` (a percentage) rounded to ``digits`` decimals, with the language's sign."""
    number = number_format(round(value, digits), digits)
    # Translators: a percentage; French puts a narrow no-break space before the sign.
    return pgettext("percentage", "%(number)s%%") % {"number": number}


register = template.Library()


@register.filter(is_safe=True)
def percent(value: object, digits: int = 0) -> str:
    """``{{ 45|percent }}`` → "45%" (« 45 % » in French)."""
    if value in (None, ""):
        return ""
    try:
        return format_percent(float(value), digits=int(digits))
    except (TypeError, ValueError):
        return ""
