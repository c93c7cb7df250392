"""``{{ booking.series_id|series_url }}``: the page of a recurring series."""

from __future__ import annotations

from django import template
from django.urls import NoReverseMatch, reverse

register = template.Library()


@register.filter
def series_url(series_id: int | None) -> str:
    if not series_id:
        return ""
    for name in ("series_detail", "series"):
        try:
            return reverse(name, args=[series_id])
        except NoReverseMatch:
            continue
    return f"/series/{int(series_id)}/"
