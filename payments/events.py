"""What a gateway event does to our rows: ``handle(event)`` dispatches on the event's type.

The handlers only update Payment and Refund rows (status, paid_at, payment_intent_id,
failure_message), under the payment's row lock, and they are idempotent and safe in any
order, because Stripe neither promises one delivery nor an order:

- a payment only moves forward: pending/failed/expired/cancelled → authorised or paid →
  partly refunded → refunded. ``checkout.session.completed`` after ``charge.refunded``
  leaves the payment refunded; ``checkout.session.expired`` after paid changes nothing;
- a completed checkout is believed even after our hold ended (the money was taken: the
  booking side decides what to do with it, e.g. refund);
- an event about a payment intent we cannot place yet (``charge.refunded`` before the
  ``checkout.session.completed`` that tells us the intent's id) stays unprocessed, and is
  handled once the checkout's completion links the intent to its payment — before the
  completion itself, so a refund that came first keeps the completion from booking anything.

Whenever a payment's status changes, ``on_payment_changed(payment)`` is called inside the
same transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from payments import reasons
from payments.models import Backend, GatewayEvent, Payment, PaymentStatus, Refund, RefundStatus

logger = logging.getLogger(__name__)

# How far along each status is; a handler never moves a payment to a lower rank.
RANK = {
    PaymentStatus.PENDING: 0,
    PaymentStatus.FAILED: 0,
    PaymentStatus.EXPIRED: 0,
    PaymentStatus.CANCELLED: 0,
    PaymentStatus.AUTHORISED: 1,
    PaymentStatus.PAID: 2,
    PaymentStatus.PARTIALLY_REFUNDED: 3,
    PaymentStatus.REFUNDED: 4,
}
# Waiting for the payer: the statuses an expiry or a failed attempt may replace.
OPEN = {PaymentStatus.PENDING, PaymentStatus.FAILED}


def on_payment_changed(payment: Payment) -> None:
    """Called when a gateway event changed ``payment.status`` (inside the event's
    transaction, the payment locked): what it means for what was bought."""
    from payments.services import on_payment_changed as apply

    apply(payment)


class Handled:
    """What a handler tells the dispatcher."""

    DONE = "done"  # processed (changed or not)
    LATER = "later"  # cannot be placed yet: keep it unprocessed


def _object(event: dict[str, Any]) -> dict[str, Any]:
    return (event.get("data") or {}).get("object") or {}


def _timestamp(value: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(int(value), tz=dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _payment_id(obj: dict[str, Any]) -> int | None:
    raw = (obj.get("metadata") or {}).get("payment_id") or obj.get("client_reference_id")
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def _locked(qs) -> Payment | None:
    return qs.select_for_update().first()


def _payment_for_session(session: dict[str, Any], backend: str) -> Payment | None:
    payments = Payment.objects.filter(backend=backend)
    if session.get("id"):
        found = _locked(payments.filter(checkout_id=session["id"]))
        if found is not None:
            return found
    pk = _payment_id(session)
    if pk is None:
        return None
    found = _locked(payments.filter(pk=pk))
    # A payment id in the metadata but another checkout on the row: not this session's.
    if found is not None and found.checkout_id and session.get("id") and found.checkout_id != session["id"]:
        return None
    return found


def _payment_for_intent(intent_id: str | None, obj: dict[str, Any], backend: str) -> Payment | None:
    payments = Payment.objects.filter(backend=backend)
    if intent_id:
        found = _locked(payments.filter(payment_intent_id=intent_id))
        if found is not None:
            return found
    pk = _payment_id(obj)
    if pk is None:
        return None
    found = _locked(payments.filter(pk=pk))
    if found is not None and found.payment_intent_id and intent_id and found.payment_intent_id != intent_id:
        return None
    return found


def _save(payment: Payment, old_status: str, fields: set[str]) -> None:
    if not fields:
        return
    payment.save(update_fields=sorted(fields | {"updated_at"}))
    if payment.status != old_status:
        on_payment_changed(payment)


def _move(payment: Payment, status: str, fields: set[str]) -> None:
    """Set ``status`` if it is further along than the payment's own."""
    if RANK[status] > RANK[payment.status]:
        payment.status = status
        fields.add("status")


def _link_intent(payment: Payment, intent_id: str | None, fields: set[str]) -> None:
    if intent_id and not payment.payment_intent_id:
        payment.payment_intent_id = intent_id
        fields.add("payment_intent_id")


# Handlers ---------------------------------------------------------------------------


def checkout_completed(event: dict[str, Any], backend: str = Backend.STRIPE) -> str:
    session = _object(event)
    payment = _payment_for_session(session, backend)
    if payment is None:
        logger.info("checkout.session.completed for no payment of ours: %s", session.get("id"))
        return Handled.DONE
    if session.get("amount_total") is not None and (
        int(session["amount_total"]) != payment.amount_minor
        or str(session.get("currency", "")).lower() != payment.currency.lower()
    ):
        logger.error("Checkout %s paid %s %s for payment %s", session.get("id"), session.get("amount_total"),
                     session.get("currency"), payment.pk)  # fmt: skip
    intent_id = session.get("payment_intent")
    fields: set[str] = set()
    _link_intent(payment, intent_id, fields)
    if fields:
        # Events about the intent that came first (a refund at Stripe itself) are applied
        # before the completion: money already given back does not book the hold.
        payment.save(update_fields=["payment_intent_id", "updated_at"])
        _replay_waiting(intent_id, backend)
        payment.refresh_from_db()
        fields = set()
    old_status = payment.status
    if payment.capture_manually and session.get("status") == "complete":
        _move(payment, PaymentStatus.AUTHORISED, fields)
    elif session.get("payment_status") in ("paid", "no_payment_required"):
        _move(payment, PaymentStatus.PAID, fields)
        if payment.paid_at is None:
            payment.paid_at = _timestamp(event.get("created")) or timezone.now()
            fields.add("paid_at")
    # "unpaid" without manual capture: a delayed payment method; its own events follow.
    if payment.failure_message and RANK[payment.status] > 0:
        payment.failure_message = ""
        fields.add("failure_message")
    _save(payment, old_status, fields)
    return Handled.DONE


def checkout_expired(event: dict[str, Any], backend: str = Backend.STRIPE) -> str:
    payment = _payment_for_session(_object(event), backend)
    if payment is None:
        return Handled.DONE
    old_status, fields = payment.status, set()
    if payment.status in OPEN:
        payment.status = PaymentStatus.EXPIRED
        fields.add("status")
    _save(payment, old_status, fields)
    return Handled.DONE


def payment_failed(event: dict[str, Any], backend: str = Backend.STRIPE) -> str:
    intent = _object(event)
    payment = _payment_for_intent(intent.get("id"), intent, backend)
    if payment is None:
        return Handled.DONE
    old_status, fields = payment.status, set()
    if payment.status in OPEN:
        error = intent.get("last_payment_error") or {}
        message = (error.get("message") or error.get("code") or "")[:500]
        payment.status = PaymentStatus.FAILED
        fields.add("status")
        if message and message != payment.failure_message:
            payment.failure_message = message
            fields.add("failure_message")
    _save(payment, old_status, fields)
    return Handled.DONE


def charge_refunded(event: dict[str, Any], backend: str = Backend.STRIPE) -> str:
    charge = _object(event)
    intent_id = charge.get("payment_intent")
    payment = _payment_for_intent(intent_id, charge, backend)
    if payment is None:
        # Perhaps the checkout's completion has not arrived yet: it replays this event.
        return Handled.LATER if intent_id else Handled.DONE
    old_status, fields = payment.status, set()
    _link_intent(payment, intent_id, fields)
    amount, refunded = int(charge.get("amount") or 0), int(charge.get("amount_refunded") or 0)
    if refunded > 0:
        full = charge.get("refunded") or refunded >= amount
        _move(payment, PaymentStatus.REFUNDED if full else PaymentStatus.PARTIALLY_REFUNDED, fields)
        if payment.paid_at is None:
            payment.paid_at = _timestamp(charge.get("created")) or timezone.now()
            fields.add("paid_at")
    _save(payment, old_status, fields)
    for item in (charge.get("refunds") or {}).get("data") or []:
        _update_refund(payment, item)
    _record_outside_refund(payment, charge, refunded)
    return Handled.DONE


def _record_outside_refund(payment: Payment, charge: dict[str, Any], refunded: int) -> None:
    """Money given back at the gateway itself (its dashboard), not through us: recorded as a
    refund, so what we give back later is only what is left. Our own refunds still being
    sent count as given (the gateway's total includes them once they arrive)."""
    ours = (
        Refund.objects.filter(payment=payment)
        .exclude(status=RefundStatus.FAILED)
        .aggregate(total=Sum("amount_minor"))["total"]
        or 0
    )
    outside = min(refunded, payment.amount_minor) - ours
    if outside <= 0:
        return
    try:
        with transaction.atomic():
            Refund.objects.create(
                payment=payment,
                amount_minor=outside,
                status=RefundStatus.SUCCEEDED,
                reason=reasons.AT_PROVIDER,
                source_key=f"gateway-{refunded}-{charge.get('id') or ''}"[:64],
            )
    except IntegrityError:
        pass


def _update_refund(payment: Payment, item: dict[str, Any]) -> None:
    status = {"succeeded": RefundStatus.SUCCEEDED, "failed": RefundStatus.FAILED}.get(item.get("status"))
    if status is None or not item.get("id"):
        return
    refunds = Refund.objects.select_for_update().filter(payment=payment)
    refund = refunds.filter(gateway_refund_id=item["id"]).first()
    if refund is None:
        try:
            refund_pk = int((item.get("metadata") or {}).get("refund_id"))
        except (TypeError, ValueError):
            return
        refund = refunds.filter(pk=refund_pk, gateway_refund_id="").first()
    if refund is None or refund.status == status or refund.status == RefundStatus.SUCCEEDED:
        return
    refund.status = status
    refund.gateway_refund_id = item["id"]
    refund.save(update_fields=["status", "gateway_refund_id", "updated_at"])
    if status == RefundStatus.SUCCEEDED:
        from payments import notify

        notify.refunded(refund)


HANDLERS: dict[str, Callable[[dict[str, Any], str], str]] = {
    "checkout.session.completed": checkout_completed,
    "checkout.session.async_payment_succeeded": checkout_completed,
    "checkout.session.expired": checkout_expired,
    "payment_intent.payment_failed": payment_failed,
    "charge.refunded": charge_refunded,
}
# Events that may wait for their payment intent to be linked (see ``_replay_waiting``).
WAITING_TYPES = ("charge.refunded",)


def handle(event: dict[str, Any], backend: str = Backend.STRIPE) -> str:
    """Apply one verified event. Returns ``Handled.DONE`` (including an ignored type) or
    ``Handled.LATER`` (keep the event unprocessed until its payment can be placed)."""
    handler = HANDLERS.get(event.get("type", ""))
    if handler is None:
        return Handled.DONE
    with transaction.atomic():
        return handler(event, backend)


def _replay_waiting(intent_id: str, backend: str) -> None:
    """Handle the stored, not yet processed events about ``intent_id`` (out of order)."""
    waiting = GatewayEvent.objects.select_for_update().filter(
        backend=backend,
        processed_at__isnull=True,
        type__in=WAITING_TYPES,
        payload__data__object__payment_intent=intent_id,
    )
    for stored in waiting.order_by("received_at", "pk"):
        if handle(stored.payload, backend) == Handled.DONE:
            stored.processed_at = timezone.now()
            stored.save(update_fields=["processed_at"])
