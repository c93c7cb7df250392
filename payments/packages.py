"""Packages of credits: a coach's own (for their session types), or the practice's (made by
back-office staff). Each write checks who may make it and every field, with a message naming
the field."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from bookings.models import SessionType
from bookings.services.common import is_manager
from bookings.services.offer_fields import refuse, session_types, whole
from config.errors import NotAllowed
from payments.models import Package

CREDITS = (1, 1000)
VALIDITY_DAYS = (1, 3650)
MAX_PRICE_MINOR = 10**12  # far above any package; keeps a typo from being stored
CURRENCY = re.compile(r"[A-Z]{3}")
FIELDS = ("title", "credits", "price_minor", "currency", "validity_days", "is_active", "session_types")


def _require_may_write(actor: User, coach: User | None) -> None:
    if coach is None:
        if not actor.is_staff_member:
            raise NotAllowed(_("Only back-office staff can make practice-wide packages."))
        return
    if not coach.is_coach:
        raise NotAllowed(_("Only coaches have packages."), code="not_a_coach")
    if not is_manager(actor, coach):
        raise NotAllowed(_("Only the coach or back-office staff can change this coach's packages."))


def _clean(package: Package, fields: dict[str, Any]) -> list[SessionType] | None:
    """Check and apply ``fields`` to ``package``; returns its new session types, if given."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise refuse(name, _("Unknown field: %(field)s.") % {"field": name})
    if "title" in fields:
        title = str(fields["title"] or "").strip()
        if not title:
            raise refuse("title", _("Give the package a title."))
        if len(title) > Package._meta.get_field("title").max_length:
            raise refuse("title", _("The title is too long (at most 120 characters)."))
        package.title = title
    if "credits" in fields:
        package.credits = whole("credits", fields["credits"], *CREDITS, _("credits"))
    if "price_minor" in fields:
        value = fields["price_minor"]
        if isinstance(value, bool) or not isinstance(value, int):
            raise refuse("price_minor", _("Give the price in minor units (cents) as a whole number."))
        if value < 0:
            raise refuse("price_minor", _("The price can't be negative."))
        if value > MAX_PRICE_MINOR:
            raise refuse("price_minor", _("The price is too large."))
        package.price_minor = value
    if "currency" in fields:
        currency = str(fields["currency"] or "").strip().upper()
        if not CURRENCY.fullmatch(currency):
            raise refuse("currency", _("Give the currency as a 3-letter ISO 4217 code, e.g. EUR."))
        package.currency = currency
    if "validity_days" in fields:
        package.validity_days = whole("validity_days", fields["validity_days"], *VALIDITY_DAYS, _("validity (days)"))
    if "is_active" in fields:
        package.is_active = bool(fields["is_active"])
    if "session_types" in fields:
        return session_types(package.coach, fields["session_types"])
    return None


def check(*, actor: User, coach: User | None, **fields: Any) -> None:
    """Refuse (as ``create_package``/``update_package`` would) without writing anything: for
    forms that show a refusal by its field before saving."""
    _require_may_write(actor, coach)
    _clean(Package(coach=coach), fields)


def create_package(*, actor: User, coach: User | None = None, **fields: Any) -> Package:
    """A new package: ``coach``'s own, or the practice's when ``coach`` is None (staff only).
    Needs a title, credits and a price; the currency defaults to EUR, validity to 365 days."""
    _require_may_write(actor, coach)
    for name in ("title", "credits", "price_minor"):
        fields.setdefault(name, None if name != "title" else "")
    package = Package(coach=coach)
    types = _clean(package, fields)
    with transaction.atomic():
        package.save()
        if types is not None:
            package.session_types.set(types)
    return package


def update_package(*, actor: User, package: Package, **fields: Any) -> Package:
    """Change a package's fields (only those given); its owner never changes."""
    _require_may_write(actor, package.coach)
    with transaction.atomic():
        package = Package.objects.select_for_update().get(pk=package.pk)
        types = _clean(package, fields)
        package.save()
        if types is not None:
            package.session_types.set(types)
    return package
