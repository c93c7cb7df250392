"""Checks shared by what a coach (or the practice) offers beyond single sessions —
packages of credits and programmes: a refusal naming its field, a whole number within
limits, and a list of session types that must be the coach's own (any, for the practice)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from accounts.models import User
from bookings.models import SessionType
from config.errors import DomainError

LARGEST_ID = 2**63 - 1


def refuse(field: str, message: str) -> DomainError:
    return DomainError(message, code="invalid", field=field)


def whole(field: str, value: Any, low: int, high: int, label: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise refuse(field, _("Give %(field)s as a whole number.") % {"field": label})
    if not low <= value <= high:
        raise refuse(
            field,
            _("%(field)s must be between %(low)s and %(high)s.")
            % {"field": label.capitalize(), "low": low, "high": high},
        )
    return value


def session_types(coach: User | None, values: Any) -> list[SessionType]:
    """``values`` (ids or types) as session types, in the order given, once each: the
    coach's own, or any type for the practice's (``coach`` None)."""
    if not isinstance(values, list | tuple | set | frozenset):
        raise refuse("session_types", _("Give the session types as a list of ids."))
    ids = []
    for value in values:
        pk = value.pk if isinstance(value, SessionType) else value
        if isinstance(pk, bool) or not isinstance(pk, int):
            raise refuse("session_types", _("Give the session types as a list of ids."))
        ids.append(pk)
    ids = list(dict.fromkeys(ids))
    rows = SessionType.objects.all() if coach is None else SessionType.objects.filter(coach=coach)
    known = {row.pk: row for row in rows.filter(pk__in=[pk for pk in ids if 0 < pk <= LARGEST_ID])}
    for pk in ids:
        if pk not in known:
            other = SessionType.objects.filter(pk=pk).first() if 0 < pk <= LARGEST_ID else None
            if coach is None or other is None:
                raise refuse("session_types", _("There is no session type with the id %(id)s.") % {"id": pk})
            raise refuse(
                "session_types",
                _("“%(title)s” is not one of this coach's session types.") % {"title": other.title},
            )
    return [known[pk] for pk in ids]
