"""What people are told about their money that no booking change tells them: a payment that
failed (with a link to try again while the place is held), a refund that went through, a
package or a programme bought, a series paid up front, a balance coming due.

Each is a notification made by ``notifications.services.tell``, once per payment, refund or
due time (unique keys), in the transaction that changed the payment, and sent after its
commit. A receipt for a booking is not made here: the booking's ``paid`` event makes it
(``notifications.services``). A failure to make a message is logged and never undoes the
change to the money.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.urls import reverse
from django.utils.translation import ngettext

from accounts.language import in_language_of
from bookings.models import Booking, BookingStatus
from config.money import display
from notifications import messages
from notifications.models import Kind
from notifications.receipts import balance_extra
from notifications.services import tell
from payments.models import Payment, Refund

logger = logging.getLogger(__name__)


def _booking(pk: int) -> Booking:
    return Booking.objects.select_related(
        "session__session_type", "session__coach__coach_profile", "session__resource", "client", "booked_by"
    ).get(pk=pk)


def _tell(person, kind: str, **kwargs):
    """``tell`` in a savepoint: a message that can't be made is logged, and the payment's
    change stands."""
    try:
        with transaction.atomic():
            return tell(person, kind, **kwargs)
    except Exception:
        logger.exception("The %s message for %s could not be made.", kind, kwargs.get("key") or kwargs.get("due_at"))
        return None


def _amount(person, minor: int, currency: str) -> str:
    """An amount as ``person`` reads it: « 2 500,00 INR » for a French reader."""
    with in_language_of(person):
        return display(minor, currency)


def _reference(payment: Payment) -> str:
    return f"#{payment.pk}"


def payment_failed(payment: Payment):
    """A booking's payment failed: the client may try again while the place is held."""
    if not payment.booking_id:
        return None
    booking = _booking(payment.booking_id)
    if booking.status != BookingStatus.AWAITING_PAYMENT:
        return None  # nothing to try again for
    person = booking.client
    extra = {
        "amount": _amount(person, payment.amount_minor, payment.currency),
        "failure_message": payment.failure_message,
        "pay_url": messages.absolute(reverse("payments:pay", args=[booking.reference])),
    }
    if booking.expires_at is not None:
        with in_language_of(person):
            extra["hold_ends"] = messages.local_when(booking.expires_at, person.timezone)
    return _tell(person, Kind.PAYMENT_FAILED, key=f"payment:{payment.pk}", booking=booking, extra=extra)


def refunded(refund: Refund):
    """A refund went through: the client hears how much, and for what."""
    payment = refund.payment
    extra = {"amount": _amount(payment.client, refund.amount_minor, payment.currency), "refund_reason": refund.reason}
    booking = None
    if payment.booking_id:
        booking = _booking(payment.booking_id)
    else:
        with in_language_of(payment.client):
            extra.update(item=_item(payment), reference=_reference(payment))
    return _tell(payment.client, Kind.PAYMENT_REFUNDED, key=f"refund:{refund.pk}", booking=booking, extra=extra)


def _item(payment: Payment) -> str:
    if payment.package_id:
        return payment.package.title
    if payment.programme_id:
        return payment.programme.title
    if payment.series_id:
        return series_item(payment)
    return ""


def series_item(payment: Payment) -> str:
    """What a series' up-front payment pays, in words: "7 sessions of Coaching with Camille"."""
    series = payment.series
    count = payment.shares.count()
    return ngettext(
        "%(count)s session of %(title)s with %(coach)s",
        "%(count)s sessions of %(title)s with %(coach)s",
        count,
    ) % {"count": count, "title": series.session_type.title, "coach": series.coach.display_name}


def package_paid(payment: Payment):
    """The receipt of a package of credits."""
    package = payment.package
    extra = {
        "purchase": "package",
        "item": package.title,
        "amount": _amount(payment.client, payment.amount_minor, payment.currency),
        "credits_added": str(package.credits),
        "reference": _reference(payment),
    }
    return _tell(payment.client, Kind.PAYMENT_RECEIVED, key=f"payment:{payment.pk}", extra=extra)


def programme_paid(payment: Payment):
    """The receipt of a programme bought: the buyer is enrolled."""
    extra = {
        "purchase": "programme",
        "item": payment.programme.title,
        "amount": _amount(payment.client, payment.amount_minor, payment.currency),
        "reference": _reference(payment),
    }
    return _tell(payment.client, Kind.PAYMENT_RECEIVED, key=f"payment:{payment.pk}", extra=extra)


def series_paid(payment: Payment):
    """The receipt of a series' remaining sessions paid up front."""
    with in_language_of(payment.client):
        item = series_item(payment)
    extra = {
        "purchase": "series",
        "item": item,
        "amount": _amount(payment.client, payment.amount_minor, payment.currency),
        "reference": _reference(payment),
    }
    return _tell(payment.client, Kind.PAYMENT_RECEIVED, key=f"payment:{payment.pk}", extra=extra)


def balance_due(booking: Booking, *, balance_minor: int, due_at: dt.datetime, now: dt.datetime | None = None):
    """A reminder that a deposit's balance is due (once per booking and ``due_at``, the
    reminder's planned time)."""
    person = booking.client
    with in_language_of(person):
        words = balance_extra(booking, person)
    extra = {
        **words,
        "balance": _amount(person, balance_minor, booking.currency),
        "pay_url": messages.absolute(reverse("payments:pay_balance", args=[booking.reference])),
    }
    return _tell(person, Kind.PAYMENT_DUE, booking=booking, due_at=due_at, extra=extra, now=now)
