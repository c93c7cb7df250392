"""The payments consumer of the booking event stream (``bookings.relay``): what a booking's
change means for its money, decided after the change's commit, never inside it.

- approved (a paid request accepted): the authorised payment is captured;
- declined, expired, or a request cancelled: the authorisation is cancelled (nobody pays
  for a refused request), and anything already collected comes back in full;
- a hold that lapsed or was given up: its open checkout is closed at the gateway, an
  authorisation released, money collected without booking it given back;
- cancelled after it was booked: a refund by the policy recorded with the booking
  (``payments.policy.refund_due``): in full unless the client cancelled late, then the
  type's late share; credits spent on it come back on a timely cancellation (or whenever
  the coach or staff cancel); a session of a series paid up front gets its share back by
  the same policy;
- rescheduled: nothing — the payment stays with the booking.

Each refund is keyed by the event (``source_key``), so a replayed event asks nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence

from bookings.models import BookingEvent, BookingStatus
from config.errors import DomainError
from payments import credits, reasons, services
from payments.models import CreditEntry, CreditKind, Payment, PaymentShare, PaymentStatus
from payments.policy import RefundCase, refund_due

ENDED = (BookingStatus.DECLINED, BookingStatus.CANCELLED)


def on_booking_events(events: Sequence[BookingEvent]) -> None:
    wanted = [event for event in events if _concerns_money(event)]
    if not wanted:
        return
    booking_ids = {event.booking_id for event in wanted}
    payments: dict[int, list[Payment]] = {}
    for payment in (
        Payment.objects.select_for_update().filter(booking_id__in=booking_ids).select_related("booking").order_by("pk")
    ):
        payments.setdefault(payment.booking_id, []).append(payment)
    shares: dict[int, list[PaymentShare]] = {}
    for share in (
        PaymentShare.objects.select_for_update()
        .filter(booking_id__in=booking_ids, payment__status__in=services.COLLECTED)
        .select_related("payment")
        .order_by("pk")
    ):
        shares.setdefault(share.booking_id, []).append(share)
    spends: dict[int, list[CreditEntry]] = {}
    for entry in CreditEntry.objects.filter(booking_id__in=booking_ids, kind=CreditKind.SPEND).order_by("pk"):
        spends.setdefault(entry.booking_id, []).append(entry)
    for event in wanted:
        _handle(
            event,
            payments.get(event.booking_id, []),
            spends.get(event.booking_id, []),
            shares.get(event.booking_id, []),
        )


def _concerns_money(event: BookingEvent) -> bool:
    return event.action == "approved" or event.to_status in ENDED


def _handle(
    event: BookingEvent, payments: list[Payment], spends: list[CreditEntry], shares: list[PaymentShare]
) -> None:
    if event.action == "approved":
        for payment in payments:
            if payment.status == PaymentStatus.AUTHORISED:
                services.ask(payment, "capture")
        return
    if event.from_status == BookingStatus.AWAITING_PAYMENT:
        for payment in payments:
            if payment.status in (PaymentStatus.PENDING, PaymentStatus.FAILED) and payment.checkout_id:
                services.ask(payment, "expire")
            elif payment.status == PaymentStatus.AUTHORISED:
                services.ask(payment, "void")
            elif payment.status in services.COLLECTED:
                # Money that never booked it (part refunded at the gateway before its
                # completion reached us): what is left goes back.
                services.ask_refund(
                    payment,
                    amount_minor=payment.amount_minor,
                    reason=reasons.NOT_BOOKED,
                    source_key=f"event-{event.pk}",
                )
        return
    booking = event.booking
    by_client = _by_client(event)
    late = bool((event.data or {}).get("late")) and event.to_status == BookingStatus.CANCELLED
    for payment in payments:
        if payment.status == PaymentStatus.AUTHORISED:
            services.ask(payment, "void")
            continue
        if payment.status not in services.COLLECTED:
            continue
        due = refund_due(
            RefundCase(
                paid_minor=payment.amount_minor,
                refunded_minor=services.refunded_minor(payment),
                by_client=by_client,
                late=late,
                late_percent=booking.late_refund_percent,
            )
        )
        if due:
            services.ask_refund(payment, amount_minor=due, reason=_reason(event, late), source_key=f"event-{event.pk}")
    for share in shares:
        # The session's share of its series' up-front payment, by the same policy.
        due = refund_due(
            RefundCase(
                paid_minor=share.amount_minor,
                refunded_minor=share.refunded_minor,
                by_client=by_client,
                late=late,
                late_percent=booking.late_refund_percent,
            )
        )
        if due:
            services.refund_share(
                share,
                amount_minor=due,
                reason=reasons.SERIES_SHARE.format(why=_reason(event, late), ref=booking.reference),
                source_key=f"event-{event.pk}-share-{share.pk}",
            )
    if spends and not (by_client and late):
        for entry in spends:
            try:
                credits.give_back(entry, note=reasons.CREDITS_BACK.format(ref=booking.reference))
            except DomainError as exc:
                if exc.code != "already_returned":  # a replayed event: returned the first time
                    raise


def _by_client(event: BookingEvent) -> bool:
    """Whether the client's side ended it (not the coach, staff, or the system's expiry of
    an unanswered request — those refund in full)."""
    booking = event.booking
    if event.to_status == BookingStatus.DECLINED or event.actor_id is None:
        return False
    if event.actor_id in (booking.client_id, booking.booked_by_id):
        session = booking.session
        return event.actor_id != session.coach_id and not event.actor.is_staff_member
    return False


def _reason(event: BookingEvent, late: bool) -> str:
    if event.to_status == BookingStatus.DECLINED:
        return reasons.REQUEST_DECLINED
    if late:
        return reasons.LATE_CANCELLATION
    return reasons.CANCELLED
