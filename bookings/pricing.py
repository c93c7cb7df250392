"""What a booking costs: the type's price, its early-bird price, the coach's discount for
connected clients, a promotion code, and the deposit to pay now — in that order, so a page
can show the same quote the booking will record.

Rules (issue 16, point 5):

- Early bird: a group session or workshop booked at least ``early_bird_days`` before it
  starts costs ``early_bird_price`` instead of the price.
- Connected discount: the coach's ``connected_discount_percent`` comes off for a client
  connected to them.
- Promotion code: a percentage or an amount off, on what is left (never below zero). A code
  is the coach's (their types) or the practice's (made by staff, every type), limited to
  some types when it names them, within its dates and its number of uses.
- Deposit: a group session or workshop whose type has a deposit is paid that much at
  booking (never more than the price), the rest ``balance_due_days`` before the start.

Amounts are ``Decimal`` in major units rounded to the currency's minor unit (half up);
gateways take them in minor units (``config.money.to_minor``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import F, Q
from django.utils.translation import gettext as _

from bookings.models import PromoCode, SessionKind, SessionType
from config import money
from config.errors import DomainError

ZERO = Decimal("0")


class PromoRefused(DomainError):
    """A promotion code that can't be used for this booking (409 ``invalid_promo_code``)."""

    status = 409

    def __init__(self, message: str) -> None:
        super().__init__(message, code="invalid_promo_code", field="promo_code")


@dataclass(frozen=True)
class Quote:
    """The price of one booking, and how it was reached."""

    list_price: Decimal
    price: Decimal
    currency: str
    deposit: Decimal = ZERO  # 0: the whole price is paid at booking
    balance_due_at: dt.datetime | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    promo: PromoCode | None = None

    @property
    def due_now(self) -> Decimal:
        return self.deposit if self.deposit else self.price

    @property
    def is_free(self) -> bool:
        return self.price <= 0

    @property
    def note(self) -> str:
        return "; ".join(self.notes)[:200]

    @property
    def due_now_minor(self) -> int:
        return money.to_minor(self.due_now, self.currency)


def _round(amount: Decimal, currency: str) -> Decimal:
    places = Decimal(1).scaleb(-money.exponent(currency))
    return max(Decimal(amount), ZERO).quantize(places, rounding=ROUND_HALF_UP)


def normalise_code(code: str) -> str:
    return "".join((code or "").split()).upper()[:40]


def find_promo(code: str, session_type: SessionType, *, now: dt.datetime, lock: bool = False) -> PromoCode:
    """The usable promotion code ``code`` for ``session_type`` at ``now``, or a refusal
    that says why. With ``lock``, the code's row is locked (the booking's transaction counts
    its use)."""
    wanted = normalise_code(code)
    codes = PromoCode.objects.filter(code=wanted)
    if lock:
        codes = codes.select_for_update()
    promo = codes.first()
    if promo is None or not promo.is_active:
        raise PromoRefused(_("This code is not valid."))
    if promo.coach_id is not None and promo.coach_id != session_type.coach_id:
        raise PromoRefused(_("This code is not valid for this coach."))
    if promo.valid_from and now < promo.valid_from:
        raise PromoRefused(_("This code is not valid yet."))
    if promo.valid_until and now >= promo.valid_until:
        raise PromoRefused(_("This code has expired."))
    if promo.max_uses is not None and promo.times_used >= promo.max_uses:
        raise PromoRefused(_("This code has been used up."))
    allowed = list(promo.session_types.values_list("pk", flat=True))
    if allowed and session_type.pk not in allowed:
        raise PromoRefused(_("This code is not valid for this session type."))
    if promo.amount_off is not None and promo.currency and promo.currency.upper() != session_type.currency.upper():
        raise PromoRefused(_("This code is for prices in %(currency)s.") % {"currency": promo.currency.upper()})
    return promo


def use_promo(promo: PromoCode) -> None:
    """Count one use of a code locked by ``find_promo(lock=True)`` (the database refuses
    going past ``max_uses``)."""
    PromoCode.objects.filter(pk=promo.pk).update(times_used=F("times_used") + 1)


def give_back_promo(promo_id: int | None) -> None:
    """A booking that never came to be (its payment hold lapsed) gives its code's use back."""
    if promo_id is not None:
        PromoCode.objects.filter(Q(pk=promo_id) & Q(times_used__gt=0)).update(times_used=F("times_used") - 1)


def quote(
    session_type: SessionType,
    *,
    start: dt.datetime,
    now: dt.datetime,
    connected: bool = False,
    discount_percent: int | None = None,
    promo: PromoCode | None = None,
) -> Quote:
    """The price of booking ``session_type`` at ``start``, decided at ``now``.
    ``discount_percent`` is the coach's connected-client discount (read from their profile
    when not given)."""
    currency = session_type.currency
    list_price = Decimal(session_type.price)
    price = list_price
    notes: list[str] = []
    grouped = session_type.kind != SessionKind.ONE_ON_ONE
    if (
        grouped
        and session_type.early_bird_price is not None
        and session_type.early_bird_days is not None
        and start - now >= dt.timedelta(days=session_type.early_bird_days)
        and session_type.early_bird_price < price
    ):
        price = session_type.early_bird_price
        notes.append(_("Early-bird price"))
    if connected and price > 0:
        if discount_percent is None:
            profile = getattr(session_type.coach, "coach_profile", None)
            discount_percent = getattr(profile, "connected_discount_percent", 0) or 0
        if discount_percent:
            price = _round(price * (100 - discount_percent) / 100, currency)
            notes.append(_("%(percent)s%% off for connected clients") % {"percent": discount_percent})
    if promo is not None and price > 0:
        if promo.percent_off is not None:
            price = _round(price * (100 - promo.percent_off) / 100, currency)
            notes.append(_("Code %(code)s: %(percent)s%% off") % {"code": promo.code, "percent": promo.percent_off})
        else:
            price = _round(price - promo.amount_off, currency)
            notes.append(
                _("Code %(code)s: %(amount)s off")
                % {"code": promo.code, "amount": money.display_major(promo.amount_off, currency)}
            )
    price = _round(price, currency)
    deposit = ZERO
    balance_due_at = None
    if grouped and session_type.deposit and price > 0:
        deposit = min(_round(session_type.deposit, currency), price)
        if deposit >= price:
            deposit = ZERO
        else:
            balance_due_at = max(start - dt.timedelta(days=session_type.balance_due_days), now)
            if balance_due_at <= now:
                # Too close to the session for a later balance: pay everything now.
                deposit, balance_due_at = ZERO, None
    return Quote(
        list_price=list_price,
        price=price,
        currency=currency,
        deposit=deposit,
        balance_due_at=balance_due_at,
        notes=tuple(notes),
        promo=promo,
    )
