"""Paying a series up front over JSON: what it would cost now, and its checkout.

- ``GET /api/v1/series/{id}/payment``: each session's price, how many booked sessions are
  paid, and the up-front offer (the remaining unpaid sessions, at the type's series
  discount), or ``offer: null`` when fewer than two are left to pay.
- ``POST /api/v1/series/{id}/pay`` (the client, or who booked for them): the gateway's
  checkout for that offer (201); 409 ``nothing_due`` when there is nothing to pay up front.
The webhook, not the caller coming back, settles the sessions (``services.on_payment_changed``).
"""

from __future__ import annotations

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.responses import Status

from accounts.models import User
from bookings.models import BOOKED_STATUSES, Booking, Series
from bookings.services import series as series_services
from bookings.services.payment import payments_enabled
from config.errors import DomainError, NotAllowed
from config.money import to_minor
from payments import services

router = Router(tags=["series"])


class SeriesOfferOut(Schema):
    sessions: list[str] = Field(description="The references of the sessions it pays.")
    full_minor: int = Field(description="Their prices together, in minor units.")
    amount_minor: int = Field(description="What paying them up front costs, in minor units.")
    discount_percent: int
    currency: str


class SeriesPaymentOut(Schema):
    series: int
    price_minor: int = Field(description="One session's price, in minor units.")
    currency: str
    booked: int = Field(description="Sessions booked and paid later (not cancelled).")
    paid: int = Field(description="Of those, how many are paid.")
    offer: SeriesOfferOut | None


class SeriesCheckoutOut(Schema):
    payment: int
    amount_minor: int
    currency: str
    sessions: list[str]
    checkout_url: str = Field(description="The gateway's checkout page.")


def _series(user: User, series_id: int) -> Series:
    series = Series.objects.select_related("session_type", "coach").filter(pk=series_id).first()
    if series is None or not series_services.may_see(user, series):
        raise Http404(_("No such series."))
    if not payments_enabled() or not series.session_type.price:
        raise DomainError(_("This series has nothing to pay."), code="nothing_due", status=409)
    return series


@router.get("/series/{series_id}/payment", response=SeriesPaymentOut, summary="A series' payment and its offer")
def series_payment(request: HttpRequest, series_id: int) -> dict:
    series = _series(request.auth, series_id)
    session_type = series.session_type
    booked = list(Booking.objects.filter(series=series, status__in=BOOKED_STATUSES, balance_due_at__isnull=False))
    paid = services.paid_by_booking([booking.pk for booking in booked])
    offer = services.series_offer(series)
    return {
        "series": series.pk,
        "price_minor": to_minor(session_type.price, session_type.currency),
        "currency": session_type.currency,
        "booked": len(booked),
        "paid": sum(1 for booking in booked if services.is_settled(booking, paid.get(booking.pk, 0))),
        "offer": {
            "sessions": [booking.reference for booking in offer.bookings],
            "full_minor": offer.full_minor,
            "amount_minor": offer.amount_minor,
            "discount_percent": offer.percent,
            "currency": offer.currency,
        }
        if offer
        else None,
    }


@router.post("/series/{series_id}/pay", response={201: SeriesCheckoutOut}, summary="Pay a series up front")
def pay_series(request: HttpRequest, series_id: int) -> Status:
    user = request.auth
    series = _series(user, series_id)
    if user.pk not in (series.client_id, series.booked_by_id):
        raise NotAllowed()
    payment = services.checkout_for_series(series, actor=user, base_url=request.build_absolute_uri("/").rstrip("/"))
    return Status(
        201,
        {
            "payment": payment.pk,
            "amount_minor": payment.amount_minor,
            "currency": payment.currency,
            "sessions": list(
                payment.shares.order_by("booking__session__start").values_list("booking__reference", flat=True)
            ),
            "checkout_url": payment.checkout_url,
        },
    )
