"""Programmes (courses clients enroll in): a coach's own (for their session types), or the
practice's (made by back-office staff). Each write checks who may make it and every field,
with a message naming the field; a programme's owner never changes."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from bookings.models import Programme, SessionType
from bookings.services.common import is_manager
from bookings.services.offer_fields import refuse, session_types, whole
from config.errors import NotAllowed

ALLOWANCE = (1, 1000)
VALIDITY_DAYS = (1, 3650)
MAX_PRICE = Decimal("9999999.99")  # the column's nine digits
CURRENCY = re.compile(r"[A-Z]{3}")
FIELDS = ("title", "description", "allowance", "price", "currency", "validity_days", "is_active", "session_types")


def may_write(actor: User, coach: User | None) -> bool:
    """Staff write any programme; a coach their own."""
    if coach is None:
        return bool(actor.is_staff_member)
    return bool(coach.is_coach and is_manager(actor, coach))


def _require_may_write(actor: User, coach: User | None) -> None:
    if coach is None:
        if not actor.is_staff_member:
            raise NotAllowed(_("Only back-office staff can make practice-wide programmes."))
        return
    if not coach.is_coach:
        raise NotAllowed(_("Only coaches have programmes."), code="not_a_coach")
    if not is_manager(actor, coach):
        raise NotAllowed(_("Only the coach or back-office staff can change this coach's programmes."))


def _price(value: Any) -> Decimal:
    if isinstance(value, bool | float) or value is None:
        raise refuse("price", _("Give the price as an amount, e.g. 120.00."))
    try:
        price = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise refuse("price", _("Give the price as an amount, e.g. 120.00.")) from None
    if not price.is_finite():
        raise refuse("price", _("Give the price as an amount, e.g. 120.00."))
    if price < 0:
        raise refuse("price", _("The price can't be negative."))
    if price > MAX_PRICE:
        raise refuse("price", _("The price is too large."))
    if price != price.quantize(Decimal("0.01")):
        raise refuse("price", _("Give the price with at most two decimals."))
    return price.quantize(Decimal("0.01"))


def _clean(programme: Programme, fields: dict[str, Any]) -> list[SessionType] | None:
    """Check and apply ``fields`` to ``programme``; returns its new session types, if given."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise refuse(name, _("Unknown field: %(field)s.") % {"field": name})
    if "title" in fields:
        title = str(fields["title"] or "").strip()
        if not title:
            raise refuse("title", _("Give the programme a title."))
        if len(title) > Programme._meta.get_field("title").max_length:
            raise refuse("title", _("The title is too long (at most 120 characters)."))
        programme.title = title
    if "description" in fields:
        description = str(fields["description"] or "").strip()
        if len(description) > 5000:
            raise refuse("description", _("The description is too long (at most 5000 characters)."))
        programme.description = description
    if "allowance" in fields:
        programme.allowance = whole("allowance", fields["allowance"], *ALLOWANCE, _("sessions included"))
    if "price" in fields:
        programme.price = _price(fields["price"])
    if "currency" in fields:
        currency = str(fields["currency"] or "").strip().upper()
        if not CURRENCY.fullmatch(currency):
            raise refuse("currency", _("Give the currency as a 3-letter ISO 4217 code, e.g. EUR."))
        programme.currency = currency
    if "validity_days" in fields:
        programme.validity_days = whole("validity_days", fields["validity_days"], *VALIDITY_DAYS, _("validity (days)"))
    if "is_active" in fields:
        programme.is_active = bool(fields["is_active"])
    if "session_types" in fields:
        chosen = session_types(programme.coach, fields["session_types"])
        if not chosen:
            raise refuse("session_types", _("Choose at least one session type the programme includes."))
        return chosen
    return None


def check(*, actor: User, coach: User | None, **fields: Any) -> None:
    """Refuse (as ``create_programme``/``update_programme`` would) without writing anything:
    for forms that show a refusal by its field before saving."""
    _require_may_write(actor, coach)
    _clean(Programme(coach=coach), fields)


def create_programme(*, actor: User, coach: User | None = None, **fields: Any) -> Programme:
    """A new programme: ``coach``'s own, or the practice's when ``coach`` is None (staff
    only). Needs a title and its session types; free unless priced, EUR, 10 sessions and
    365 days unless said."""
    _require_may_write(actor, coach)
    fields.setdefault("title", "")
    fields.setdefault("session_types", [])
    programme = Programme(coach=coach)
    types = _clean(programme, fields)
    with transaction.atomic():
        programme.save()
        programme.session_types.set(types or [])
    return programme


def update_programme(*, actor: User, programme: Programme, **fields: Any) -> Programme:
    """Change a programme's fields (only those given); its owner never changes. Enrollments
    already made keep their dates; a new allowance counts for them at once."""
    _require_may_write(actor, programme.coach)
    with transaction.atomic():
        programme = Programme.objects.select_for_update(no_key=True).get(pk=programme.pk)
        types = _clean(programme, fields)
        programme.save()
        if types is not None:
            programme.session_types.set(types)
    return programme
