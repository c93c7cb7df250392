"""The money side of a booking's pages, as template tags (the bookings app's Python never
imports payments; its templates load these):

- ``{% booking_payments booking %}``: on the booking's page, the payment it waits for (Pay,
  or cancel and release the time), its payments, refunds and credits, and a deposit's
  balance still due (Pay the balance).
- ``{% series_payments series %}``: on a series' page, what each session costs, how many
  are paid, and paying the rest up front at the type's series discount.
- ``{% refund_preview booking late=… %}``: on the cancel step, what cancelling now gives
  back, by ``payments.policy.refund_due`` — the rule the refunds are made with.
"""

from __future__ import annotations

from django import template
from django.db.models import Sum
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from bookings.models import BOOKED_STATUSES, Booking, BookingStatus, Series
from bookings.services.payment import payments_enabled
from config.money import display, to_minor
from payments.models import CreditEntry, CreditKind, Payment, PaymentShare, PaymentStatus, Refund, RefundStatus
from payments.policy import RefundCase, refund_due
from payments.services import (
    COLLECTED,
    amount_due_now,
    balance_minor,
    is_settled,
    paid_by_booking,
    refunded_minor,
    series_offer,
)

register = template.Library()


def _viewer(context):
    request = context.get("request")
    return getattr(request, "user", None) or context.get("user")


def _credits(booking: Booking) -> tuple[int, int]:
    """Credits spent on the booking, and how many came back."""
    totals = dict(
        CreditEntry.objects.filter(booking=booking, kind__in=(CreditKind.SPEND, CreditKind.REFUND))
        .values_list("kind")
        .annotate(total=Sum("amount"))
        .values_list("kind", "total")
    )
    return abs(totals.get(CreditKind.SPEND) or 0), abs(totals.get(CreditKind.REFUND) or 0)


def _refund_text(refund: Refund) -> str:
    amount = display(refund.amount_minor, refund.payment.currency)
    if refund.status == RefundStatus.SUCCEEDED:
        return _("Refund of %(amount)s refunded") % {"amount": amount}
    if refund.status == RefundStatus.FAILED:
        return _("Refund of %(amount)s failed") % {"amount": amount}
    return _("Refund of %(amount)s requested") % {"amount": amount}


@register.inclusion_tag("payments/_booking_payments.html", takes_context=True)
def booking_payments(context, booking: Booking) -> dict:
    viewer = _viewer(context)
    payer = bool(viewer and viewer.is_authenticated and viewer.pk in (booking.client_id, booking.booked_by_id))
    awaiting = booking.status == BookingStatus.AWAITING_PAYMENT
    payments = list(
        Payment.objects.filter(booking=booking).exclude(status=PaymentStatus.PENDING).order_by("created_at", "pk")
    )
    refunds = list(Refund.objects.filter(payment__booking=booking).select_related("payment").order_by("pk"))
    shares = list(
        PaymentShare.objects.filter(booking=booking, payment__status__in=COLLECTED)
        .select_related("payment")
        .order_by("pk")
    )
    spent, returned = _credits(booking)
    balance = 0
    if (booking.deposit or booking.balance_due_at) and booking.status in (
        BookingStatus.FIRM_BOOKED,
        BookingStatus.CONFIRMED,
    ):
        balance = balance_minor(booking)
    return {
        "booking": booking,
        "csrf_token": context.get("csrf_token"),
        "show": bool(awaiting or payments or refunds or spent or balance or shares),
        "payer": payer,
        "awaiting": awaiting,
        "due_now": display(amount_due_now(booking), booking.currency) if awaiting else "",
        "payments": [
            {
                "amount": display(payment.amount_minor, payment.currency),
                "kind": payment.get_kind_display(),
                "status": payment.get_status_display(),
                "status_value": payment.status,
                "when": payment.paid_at or payment.created_at,
            }
            for payment in payments
        ],
        "refunds": [
            {"text": _refund_text(refund), "status": refund.status, "reason": refund.reason} for refund in refunds
        ],
        "shares": [
            {
                "amount": display(share.amount_minor, share.payment.currency),
                "refunded": display(share.refunded_minor, share.payment.currency) if share.refunded_minor else "",
                "series_id": share.payment.series_id,
            }
            for share in shares
        ],
        "credits_spent": spent,
        "credits_returned": returned,
        "balance": display(balance, booking.currency) if balance else "",
        "balance_due_at": booking.balance_due_at,
        "pay_later": not booking.deposit,
        "series_id": booking.series_id,
    }


@register.inclusion_tag("payments/_refund_preview.html", takes_context=True)
def refund_preview(context, booking: Booking, late=None) -> dict:
    """What cancelling ``booking`` now gives back. ``late``: the cancellation is inside the
    notice (the page's policy says so); coaches and staff (``manager`` in the page's
    context) cancel with everything given back."""
    manager = bool(context.get("manager"))
    late = bool(late) and not manager
    lines: list[str] = []
    collected = list(Payment.objects.filter(booking=booking, status__in=COLLECTED).order_by("pk"))
    # (paid, refunded already) of each payment, and of each share of a series paid up front
    parts = [(payment.amount_minor, refunded_minor(payment), payment.currency) for payment in collected]
    parts += [
        (share.amount_minor, share.refunded_minor, share.payment.currency)
        for share in PaymentShare.objects.filter(booking=booking, payment__status__in=COLLECTED).select_related(
            "payment"
        )
    ]
    if parts:
        currency = parts[0][2]
        paid = sum(part[0] for part in parts)
        already = sum(part[1] for part in parts)
        due = sum(
            refund_due(
                RefundCase(
                    paid_minor=amount,
                    refunded_minor=refunded,
                    by_client=not manager,
                    late=late,
                    late_percent=booking.late_refund_percent,
                )
            )
            for amount, refunded, _currency in parts
        )
        values = {
            "paid": display(paid, currency),
            "due": display(due, currency),
            "percent": booking.late_refund_percent,
        }
        if manager:
            lines.append(_("The client paid %(paid)s.") % values)
        else:
            lines.append(_("You paid %(paid)s.") % values)
        if late and due:
            lines.append(_("Cancelling now refunds %(due)s (late cancellation: %(percent)s%%).") % values)
        elif late:
            lines.append(_("Cancelling now refunds nothing (late cancellation: %(percent)s%%).") % values)
        elif due and due == paid - already and not already:
            lines.append(_("Cancelling now refunds the full %(due)s.") % values)
        elif due:
            lines.append(_("Cancelling now refunds %(due)s.") % values)
        else:
            lines.append(_("Nothing more is left to refund."))
    held = Payment.objects.filter(booking=booking, status=PaymentStatus.AUTHORISED).aggregate(
        total=Sum("amount_minor")
    )["total"]
    if held:
        lines.append(
            _("The %(amount)s held on the card is released; nothing is charged.")
            % {"amount": display(held, booking.currency)}
        )
    spent, returned = _credits(booking)
    owed = spent - returned
    if owed > 0:
        if late:
            lines.append(ngettext("Late: the credit is not returned.", "Late: the credits are not returned.", owed))
        elif manager:
            lines.append(ngettext("The client's credit comes back.", "The client's credits come back.", owed))
        else:
            lines.append(
                ngettext("Your credit comes back.", "Your %(count)s credits come back.", owed) % {"count": owed}
            )
    return {"lines": lines, "late": late}


@register.inclusion_tag("payments/_series_payments.html", takes_context=True)
def series_payments(context, series: Series) -> dict:
    """The money of a series: shown when payments are on and its type has a price."""
    session_type = series.session_type
    if not payments_enabled() or not session_type.price:
        return {"show": False}
    viewer = _viewer(context)
    booked = list(
        Booking.objects.filter(series=series, status__in=BOOKED_STATUSES, balance_due_at__isnull=False).only(
            "pk", "price", "currency"
        )
    )
    paid = paid_by_booking([booking.pk for booking in booked])
    settled = sum(1 for booking in booked if is_settled(booking, paid.get(booking.pk, 0)))
    offer = series_offer(series)
    return {
        "show": True,
        "series": series,
        "csrf_token": context.get("csrf_token"),
        "payer": bool(viewer and viewer.is_authenticated and viewer.pk in (series.client_id, series.booked_by_id)),
        "price": display(to_minor(session_type.price, session_type.currency), session_type.currency),
        "due_days": session_type.balance_due_days,
        "booked": len(booked),
        "settled": settled,
        "offer": offer,
        "offer_count": len(offer.bookings) if offer else 0,
        "offer_amount": display(offer.amount_minor, offer.currency) if offer else "",
        "offer_full": display(offer.full_minor, offer.currency) if offer else "",
        "offer_saving": display(offer.saving_minor, offer.currency) if offer and offer.saving_minor else "",
    }
