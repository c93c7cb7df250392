"""Promotion codes, written the same way from every page: a coach's own codes (good for
their session types) and the practice's (no coach, made by staff, good for every type).

A coach manages their own codes; back-office staff manage the practice's and everyone's.
``create_promo`` and ``update_promo`` check a code before they write it (one statement of
the rules, ``_check``); ``set_promo_active`` turns one off or on again. Each refusal is a
``DomainError`` naming the input it is about (``field``), so a form shows it beside that
field. A code is normalised (upper case, no spaces) as ``bookings.pricing`` reads it.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts.models import User
from bookings.models import PromoCode, SessionType
from bookings.pricing import normalise_code
from config.errors import DomainError, NotAllowed
from config.inputs import SHORT_TEXT, check_text, no_negative_zero

# What a writer of a code may set (``coach`` is chosen when it is created).
PROMO_FIELDS = (
    "code",
    "description",
    "percent_off",
    "amount_off",
    "currency",
    "valid_from",
    "valid_until",
    "max_uses",
    "session_types",
    "is_active",
)
CODE = re.compile(r"[A-Z0-9_-]{3,40}")
CURRENCY = re.compile(r"[A-Z]{3}")
MAX_AMOUNT = Decimal("9999999.99")
MAX_USES = 1_000_000


def _taken(code: str) -> DomainError:
    return _refuse(
        "code", _("The code %(code)s is taken: choose another.") % {"code": code}, code="name_taken", status=409
    )


def _refuse(field: str, message: str, *, code: str = "invalid", status: int = 400) -> DomainError:
    return DomainError(message, code=code, status=status, field=field)


def promos_managed_by(user: User) -> QuerySet[PromoCode]:
    """The codes ``user`` manages: every one for staff, a coach's own for a coach, none
    for anyone else."""
    codes = PromoCode.objects.select_related("coach").prefetch_related("session_types")
    if user.is_staff_member:
        return codes.all()
    if user.is_coach:
        return codes.filter(coach=user)
    return codes.none()


def types_for(coach: User | None) -> QuerySet[SessionType]:
    """The session types a code of ``coach`` can name (every coach's for the practice's)."""
    types = SessionType.objects.select_related("coach").order_by("coach__name", "position", "pk")
    return types if coach is None else types.filter(coach=coach)


def _require_may_manage(actor: User, coach: User | None) -> None:
    if actor.is_staff_member:
        if coach is not None and not coach.is_coach:
            raise _refuse("coach", _("Only coaches have their own promotion codes."), code="not_a_coach")
        return
    if coach is None:
        raise NotAllowed(_("Only back-office staff can manage the practice's promotion codes."))
    if not actor.is_coach or actor.pk != coach.pk:
        raise NotAllowed(_("You can only manage your own promotion codes."))


def _amount(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise _refuse("amount_off", _("Give the amount off as an amount, e.g. 10.00.")) from None
    if not amount.is_finite() or amount <= 0:
        raise _refuse("amount_off", _("The amount off must be more than 0."))
    if amount > MAX_AMOUNT or amount.as_tuple().exponent < -2:
        raise _refuse(
            "amount_off", _("Give the amount off with at most 2 decimals, up to %(max)s.") % {"max": MAX_AMOUNT}
        )
    return no_negative_zero(amount)


def _whole(field: str, value: Any, low: int, high: int, message: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _refuse(field, message)
    return value


def _check(promo: PromoCode, types: list[SessionType], *, others: QuerySet[PromoCode]) -> None:
    """Every rule a code keeps; normalises what it accepts (the code, the currency)."""
    typed = "".join(str(promo.code or "").split())
    if len(typed) > 40:
        raise _refuse("code", _("A code has at most 40 characters."))
    promo.code = normalise_code(typed)
    if not promo.code:
        raise _refuse("code", _("Give the code clients type, e.g. SPRING10."))
    if not CODE.fullmatch(promo.code):
        raise _refuse(
            "code", _("A code has 3 to 40 letters or digits (and - or _), e.g. SPRING10; spaces are removed.")
        )
    if others.filter(code=promo.code).exists():
        raise _refuse(
            "code",
            _("The code %(code)s is taken: choose another.") % {"code": promo.code},
            code="name_taken",
            status=409,
        )
    promo.description = str(promo.description or "").strip()
    check_text(promo.description, min(SHORT_TEXT, 200), field="description")
    percent, amount = promo.percent_off, promo.amount_off
    if (percent is None) == (amount is None):
        raise _refuse("percent_off", _("Give either a percentage off or an amount off (one of them, not both)."))
    if percent is not None:
        promo.percent_off = _whole("percent_off", percent, 1, 100, _("The percentage off must be between 1 and 100."))
        promo.currency = ""
    else:
        promo.amount_off = _amount(amount)
        currency = str(promo.currency or "").strip().upper()
        if not CURRENCY.fullmatch(currency):
            raise _refuse("currency", _("Give the currency of the amount as a 3-letter ISO 4217 code, e.g. EUR."))
        promo.currency = currency
    for name in ("valid_from", "valid_until"):
        value = getattr(promo, name)
        if value is not None and (not isinstance(value, dt.datetime) or value.tzinfo is None):
            raise _refuse(name, _("Give a date and time."))
    if promo.valid_from and promo.valid_until and promo.valid_until <= promo.valid_from:
        raise _refuse("valid_until", _("The code must end after it starts."))
    if promo.max_uses is not None:
        promo.max_uses = _whole(
            "max_uses", promo.max_uses, 1, MAX_USES, _("Uses allowed: a whole number from 1, or empty for no limit.")
        )
        if promo.max_uses < promo.times_used:
            raise _refuse(
                "max_uses",
                _("This code has been used %(n)s times already: allow at least that many.") % {"n": promo.times_used},
            )
    for session_type in types:
        if not isinstance(session_type, SessionType):
            raise _refuse("session_types", _("Choose session types from the list."))
        if promo.coach_id is not None and session_type.coach_id != promo.coach_id:
            raise _refuse(
                "session_types",
                _("“%(title)s” is not one of this coach's session types.") % {"title": session_type.title},
            )


def _apply(promo: PromoCode, fields: dict[str, Any]) -> list[SessionType] | None:
    unknown = sorted(set(fields) - set(PROMO_FIELDS))
    if unknown:
        raise _refuse(unknown[0], _("Unknown field: %(names)s.") % {"names": ", ".join(unknown)})
    types = None
    for name, value in fields.items():
        if name == "session_types":
            types = list(value or [])
        elif name == "is_active":
            promo.is_active = bool(value)
        else:
            setattr(promo, name, value)
    return types


def _save(promo: PromoCode, types: list[SessionType] | None) -> None:
    try:
        with transaction.atomic():
            promo.save()
            if types is not None:
                promo.session_types.set(types)
    except IntegrityError:
        # Another code of that name was written meanwhile.
        raise _refuse(
            "code",
            _("The code %(code)s is taken: choose another.") % {"code": promo.code},
            code="name_taken",
            status=409,
        ) from None


def create_promo(*, actor: User, coach: User | None = None, **fields: Any) -> PromoCode:
    """A new code of ``coach`` (None: the practice's, staff only)."""
    _require_may_manage(actor, coach)
    promo = PromoCode(coach=coach)
    types = _apply(promo, fields) or []
    _check(promo, types, others=PromoCode.objects.all())
    _save(promo, types)
    return promo


def update_promo(*, promo: PromoCode, actor: User, **fields: Any) -> PromoCode:
    """Change a code (only the fields given). Locks its row, the row a booking locks to
    count a use, so "allow at least as many uses as it has had" holds when written."""
    _require_may_manage(actor, promo.coach)
    with transaction.atomic():
        current = PromoCode.objects.select_for_update().filter(pk=promo.pk).first()
        if current is None:
            raise DomainError(_("This promotion code no longer exists."), code="not_found", status=404)
        types = _apply(current, fields)
        _check(
            current,
            list(current.session_types.all()) if types is None else types,
            others=PromoCode.objects.exclude(pk=current.pk),
        )
        _save(current, types)
    return current


def set_promo_active(*, promo: PromoCode, actor: User, active: bool) -> PromoCode:
    """Turn a code off (clients can't use it any more; bookings made with it keep their
    price) or on again."""
    _require_may_manage(actor, promo.coach)
    PromoCode.objects.filter(pk=promo.pk).update(is_active=active)
    promo.is_active = active
    return promo
