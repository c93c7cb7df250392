"""Collecting and giving back money for bookings, packages and programmes.

- ``checkout_for(booking)``: the open payment of a booking held ``awaiting_payment`` and its
  gateway checkout (a new one when there is none, or the last one failed or ran out).
  ``checkout_for_package`` / ``checkout_for_programme`` do the same for a purchase, and
  ``checkout_for_series`` for the rest of a series paid up front (``series_offer``: its
  sessions, each one's share at the type's series discount).
- ``on_payment_changed(payment)``: what a gateway event's change means for what was bought
  (called by ``payments.events`` in the event's transaction): a paid or authorised booking
  becomes what its rule said (``bookings.services.payment.payment_received``); money that
  arrives for a booking that no longer waits for it is given back; a paid package grants
  its credits, a paid programme enrolls the buyer, a series paid up front settles its
  sessions (each by its ``PaymentShare``).
- Refunds, captures and voids are *asked* in a transaction (a pending ``Refund`` row, a
  payment's ``pending_action``) and *sent* to the gateway after the commit
  (``send_pending``), with idempotency keys, and again by a schedule until the gateway has
  them: the gateway is never called under a booking's lock, and a failure loses nothing.
- ``refund(payment, amount, reason, actor)``: staff's refund of any amount (admin).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from bookings.models import Booking, BookingStatus, EnrollmentSource, Programme, Series
from bookings.services.enrollment import enroll
from bookings.services.payment import payment_received
from config.errors import DomainError, NotAllowed
from config.money import display, to_minor
from payments import credits, notify, reasons
from payments.gateways import PaymentGatewayError, get_gateway
from payments.models import Package, Payment, PaymentKind, PaymentShare, PaymentStatus, Refund, RefundStatus

logger = logging.getLogger(__name__)

# Money that has reached (or is promised to) the practice.
COLLECTED = (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED)
OPEN_STATUSES = (PaymentStatus.PENDING,)


# Starting a payment ------------------------------------------------------------------


def amount_due_now(booking: Booking) -> int:
    """What the client pays to end the hold, in minor units: the deposit, else the price."""
    return to_minor(booking.deposit or booking.price, booking.currency)


def _urls(payment: Payment, base_url: str) -> tuple[str, str]:
    done = base_url.rstrip("/") + reverse("payments:returned", args=[payment.pk])
    return done + "?outcome=success", done + "?outcome=cancel"


def _open_payment(queryset) -> Payment | None:
    now = timezone.now()
    return (
        queryset.filter(status__in=OPEN_STATUSES)
        .exclude(checkout_url="")
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by("-created_at")
        .first()
    )


def _start(payment: Payment, *, base_url: str) -> Payment:
    """Ask the gateway for a checkout for a saved ``payment``; a refusal marks it failed
    (and is raised, for the page to say)."""
    success_url, cancel_url = _urls(payment, base_url)
    try:
        checkout_id, url, expires_at = get_gateway(payment.backend).create_checkout(
            payment, success_url=success_url, cancel_url=cancel_url
        )
    except PaymentGatewayError as exc:
        payment.status = PaymentStatus.FAILED
        payment.failure_message = exc.message[:500]
        payment.save(update_fields=["status", "failure_message", "updated_at"])
        raise
    payment.checkout_id, payment.checkout_url = checkout_id, url
    if payment.expires_at is None or expires_at < payment.expires_at:
        payment.expires_at = expires_at
    payment.save(update_fields=["checkout_id", "checkout_url", "expires_at", "updated_at"])
    return payment


def checkout_for(booking: Booking, *, actor: User, base_url: str) -> Payment:
    """The payment to finish ``booking``'s hold: its open checkout, or a new one. Refused
    when the booking does not wait for payment (any more)."""
    if actor.pk not in (booking.client_id, booking.booked_by_id) and not actor.is_staff_member:
        raise NotAllowed()
    if booking.status != BookingStatus.AWAITING_PAYMENT:
        raise DomainError(_("This booking is not waiting for a payment."), code="not_awaiting_payment", status=409)
    if booking.expires_at and booking.expires_at <= timezone.now():
        raise DomainError(
            _("The time to pay for this booking has run out. Please book again."), code="payment_expired", status=409
        )
    found = _open_payment(Payment.objects.filter(booking=booking))
    if found is not None:
        return found
    payment = Payment.objects.create(
        client=booking.client,
        booking=booking,
        kind=PaymentKind.DEPOSIT if booking.deposit else PaymentKind.FULL,
        backend=_backend(),
        amount_minor=amount_due_now(booking),
        currency=booking.currency,
        capture_manually=booking.status_after_payment == BookingStatus.REQUESTED,
        expires_at=booking.expires_at,
    )
    return _start(payment, base_url=base_url)


def balance_minor(booking: Booking) -> int:
    """What is left to pay on a booking paid later: the rest after a deposit, or an
    occurrence of a series, paid by ``balance_due_at`` (0 when nothing is, or when the
    series' up-front payment covers it)."""
    if not booking.deposit and booking.balance_due_at is None:
        return 0
    paid = paid_by_booking([booking.pk]).get(booking.pk, 0)
    if paid is SETTLED:
        return 0
    return max(to_minor(booking.price, booking.currency) - paid, 0)


def is_settled(booking: Booking, paid: int) -> bool:
    """Whether ``booking`` is paid, given what ``paid_by_booking`` says of it."""
    return paid == SETTLED or paid >= to_minor(booking.price, booking.currency)


# A booking settled by its share of a series' up-front payment (whatever the share's amount:
# the discount is the series', the session is paid).
SETTLED = -1


def paid_by_booking(booking_ids: list[int]) -> dict[int, int]:
    """Per booking: what its own payments collected (or hold authorised), or ``SETTLED``
    when a collected up-front payment of its series has a share for it. Two queries."""
    paid = dict(
        Payment.objects.filter(booking_id__in=booking_ids, status__in=(*COLLECTED, PaymentStatus.AUTHORISED))
        .values_list("booking_id")
        .annotate(total=Sum("amount_minor"))
        .values_list("booking_id", "total")
    )
    for booking_id in PaymentShare.objects.filter(
        booking_id__in=booking_ids, payment__status__in=COLLECTED
    ).values_list("booking_id", flat=True):
        paid[booking_id] = SETTLED
    return paid


def checkout_for_balance(booking: Booking, *, actor: User, base_url: str) -> Payment:
    """The payment of what is left after a deposit."""
    if actor.pk not in (booking.client_id, booking.booked_by_id) and not actor.is_staff_member:
        raise NotAllowed()
    due = balance_minor(booking)
    if booking.status not in (BookingStatus.FIRM_BOOKED, BookingStatus.CONFIRMED) or due <= 0:
        raise DomainError(_("Nothing is left to pay on this booking."), code="nothing_due", status=409)
    found = _open_payment(Payment.objects.filter(booking=booking, kind=PaymentKind.BALANCE))
    if found is not None:
        return found
    payment = Payment.objects.create(
        client=booking.client,
        booking=booking,
        kind=PaymentKind.BALANCE,
        backend=_backend(),
        amount_minor=due,
        currency=booking.currency,
    )
    return _start(payment, base_url=base_url)


def checkout_for_package(package: Package, *, client: User, base_url: str) -> Payment:
    if not package.is_active:
        raise DomainError(_("This package is no longer offered."), code="invalid", status=409)
    payment = Payment.objects.create(
        client=client,
        package=package,
        backend=_backend(),
        amount_minor=package.price_minor,
        currency=package.currency,
    )
    return _start(payment, base_url=base_url)


def checkout_for_programme(programme: Programme, *, client: User, base_url: str) -> Payment:
    if not programme.is_active:
        raise DomainError(_("This programme is not open for enrollment."), code="invalid", status=409)
    payment = Payment.objects.create(
        client=client,
        programme=programme,
        backend=_backend(),
        amount_minor=to_minor(programme.price, programme.currency),
        currency=programme.currency,
    )
    return _start(payment, base_url=base_url)


@dataclass(frozen=True)
class SeriesOffer:
    """Paying the rest of a series up front: the sessions it pays (upcoming, booked, and
    nothing paid on them yet), each one's share (its price less the type's series
    discount, rounded down to the minor unit), and the totals."""

    bookings: list[Booking]
    shares: list[int]
    full_minor: int
    amount_minor: int
    percent: int
    currency: str

    @property
    def saving_minor(self) -> int:
        return self.full_minor - self.amount_minor


# Up front means more than one session: a single one is paid from its own page.
SERIES_UP_FRONT_MINIMUM = 2


def series_offer(series: Series, *, now: dt.datetime | None = None) -> SeriesOffer | None:
    """What paying ``series`` up front would cover and cost now, or None when fewer than
    ``SERIES_UP_FRONT_MINIMUM`` sessions are left to pay. Three queries."""
    now = now or timezone.now()
    candidates = [
        booking
        for booking in Booking.objects.filter(
            series=series,
            status__in=(BookingStatus.FIRM_BOOKED, BookingStatus.CONFIRMED),
            session__start__gt=now,
            balance_due_at__isnull=False,
            price__gt=0,
        )
        .exclude(deposit__gt=0)
        .select_related("session")
        .order_by("session__start", "pk")
    ]
    paid = paid_by_booking([booking.pk for booking in candidates])
    unpaid = [booking for booking in candidates if not paid.get(booking.pk)]
    if len(unpaid) < SERIES_UP_FRONT_MINIMUM:
        return None
    percent = series.session_type.series_discount_percent
    full = [to_minor(booking.price, booking.currency) for booking in unpaid]
    shares = [amount * (100 - percent) // 100 for amount in full]
    return SeriesOffer(
        bookings=unpaid,
        shares=shares,
        full_minor=sum(full),
        amount_minor=sum(shares),
        percent=percent,
        currency=unpaid[0].currency,
    )


def may_pay_series(actor: User, series: Series) -> bool:
    return actor.pk in (series.client_id, series.booked_by_id) or actor.is_staff_member


def checkout_for_series(series: Series, *, actor: User, base_url: str, now: dt.datetime | None = None) -> Payment:
    """The payment of the rest of ``series`` up front, at the type's series discount: its
    open checkout when it still covers the same sessions, else a new one (an older open
    one is closed at the gateway). Refused when nothing is left to pay up front."""
    if not may_pay_series(actor, series):
        raise NotAllowed()
    offer = series_offer(series, now=now)
    if offer is None:
        raise DomainError(
            _("Nothing in this series is left to pay up front: pay each session from its own page."),
            code="nothing_due",
            status=409,
        )
    wanted = sorted(booking.pk for booking in offer.bookings)
    found = _open_payment(Payment.objects.filter(series=series, kind=PaymentKind.SERIES))
    if found is not None:
        if (
            found.amount_minor == offer.amount_minor
            and sorted(found.shares.values_list("booking_id", flat=True)) == wanted
        ):
            return found
        ask(found, "expire")
    with transaction.atomic():
        payment = Payment.objects.create(
            client=series.client,
            series=series,
            kind=PaymentKind.SERIES,
            backend=_backend(),
            amount_minor=offer.amount_minor,
            currency=offer.currency,
        )
        PaymentShare.objects.bulk_create(
            PaymentShare(payment=payment, booking=booking, amount_minor=share)
            for booking, share in zip(offer.bookings, offer.shares, strict=True)
        )
    return _start(payment, base_url=base_url)


def _backend() -> str:
    from django.conf import settings

    return settings.PAYMENT_BACKEND


# What a payment's change means --------------------------------------------------------


def on_payment_changed(payment: Payment) -> None:
    """Called by ``payments.events`` when a gateway event changed ``payment.status``
    (inside the event's transaction, the payment's row locked)."""
    if payment.status in (PaymentStatus.PAID, PaymentStatus.AUTHORISED):
        if payment.booking_id and payment.kind != PaymentKind.BALANCE:
            _booking_paid(payment)
        elif payment.package_id and payment.status == PaymentStatus.PAID:
            _package_paid(payment)
        elif payment.programme_id and payment.status == PaymentStatus.PAID:
            _programme_paid(payment)
        elif payment.series_id and payment.status == PaymentStatus.PAID:
            _series_paid(payment)
    elif payment.status == PaymentStatus.FAILED and payment.booking_id:
        notify.payment_failed(payment)


def _booking_paid(payment: Payment) -> None:
    booking = payment.booking
    if payment_received(booking=booking, method="gateway"):
        return
    # The booking no longer waited for this money (its hold lapsed, or another checkout
    # paid it first): give it back.
    logger.warning("Payment %s arrived for booking %s in %s: given back.", payment.pk, booking.pk, booking.status)
    if payment.status == PaymentStatus.AUTHORISED:
        ask(payment, "void")
    else:
        ask_refund(
            payment,
            amount_minor=payment.amount_minor,
            reason=reasons.PAID_AFTER_HOLD,
            source_key=f"late-{payment.pk}",
        )


def _package_paid(payment: Payment) -> None:
    package = payment.package
    expires_at = timezone.now() + dt.timedelta(days=package.validity_days)
    credits.grant(
        payment.client,
        credits=package.credits,
        package=package,
        expires_at=expires_at,
        note=reasons.BOUGHT.format(title=package.title),
    )
    notify.package_paid(payment)


def _programme_paid(payment: Payment) -> None:
    try:
        enroll(client=payment.client, programme=payment.programme, actor=None, source=EnrollmentSource.PURCHASE)
    except DomainError:
        # Already enrolled (bought twice): the second payment goes back.
        ask_refund(
            payment,
            amount_minor=payment.amount_minor,
            reason=reasons.ALREADY_ENROLLED,
            source_key=f"enrolled-{payment.pk}",
        )
        return
    notify.programme_paid(payment)


def _series_paid(payment: Payment) -> None:
    """The sessions of a series paid up front are settled. A session that ended while the
    client paid, or that was paid another way meanwhile, gets its share back."""
    shares = list(payment.shares.select_related("booking").order_by("pk"))
    booking_ids = [share.booking_id for share in shares]
    direct = set(
        Payment.objects.filter(
            booking_id__in=booking_ids, status__in=(*COLLECTED, PaymentStatus.AUTHORISED)
        ).values_list("booking_id", flat=True)
    )
    other_shares = set(
        PaymentShare.objects.filter(booking_id__in=booking_ids, payment__status__in=COLLECTED)
        .exclude(payment=payment)
        .values_list("booking_id", flat=True)
    )
    for share in shares:
        booking = share.booking
        if booking.status not in (BookingStatus.FIRM_BOOKED, BookingStatus.CONFIRMED):
            reason = reasons.SHARE_NOT_TAKING_PLACE
        elif booking.pk in direct or booking.pk in other_shares:
            reason = reasons.SHARE_ALREADY_PAID
        else:
            continue
        refund_share(share, amount_minor=share.amount_minor, reason=reason.format(ref=booking.reference))
    notify.series_paid(payment)


def refund_share(share: PaymentShare, *, amount_minor: int, reason: str, source_key: str = "") -> Refund | None:
    """Give back ``amount_minor`` of a session's share of its series' payment (at most what
    is left of the share), once per ``source_key``."""
    amount_minor = min(amount_minor, share.amount_minor - share.refunded_minor)
    if amount_minor <= 0:
        return None
    created = ask_refund(
        share.payment, amount_minor=amount_minor, reason=reason, source_key=source_key or f"share-{share.pk}"
    )
    if created is not None:
        PaymentShare.objects.filter(pk=share.pk).update(refunded_minor=F("refunded_minor") + created.amount_minor)
        share.refunded_minor += created.amount_minor
    return created


# Refunds, captures, voids: asked in a transaction, sent after it ---------------------------


def refunded_minor(payment: Payment) -> int:
    return payment.refunds.exclude(status=RefundStatus.FAILED).aggregate(total=Sum("amount_minor"))["total"] or 0


def ask_refund(
    payment: Payment, *, amount_minor: int, reason: str, source_key: str = "", actor: User | None = None
) -> Refund | None:
    """Record a refund of ``amount_minor`` (at most what is left of the payment) to send
    after the commit. Once per ``source_key``. Returns None when nothing is to give back."""
    amount_minor = min(int(amount_minor), payment.amount_minor - refunded_minor(payment))
    if amount_minor <= 0 or payment.status not in COLLECTED:
        return None
    try:
        with transaction.atomic():
            refund = Refund.objects.create(
                payment=payment,
                amount_minor=amount_minor,
                reason=reason[:500],
                requested_by=actor,
                source_key=source_key,
            )
    except IntegrityError:
        return None
    transaction.on_commit(send_pending_soon)
    return refund


def ask(payment: Payment, action: str) -> None:
    """Ask the gateway to ``capture``, ``void`` or ``expire`` the payment after the commit."""
    Payment.objects.filter(pk=payment.pk).update(pending_action=action, updated_at=timezone.now())
    payment.pending_action = action
    transaction.on_commit(send_pending_soon)


def refund(*, payment: Payment, amount_minor: int, reason: str, actor: User) -> Refund:
    """Staff give back any amount of a payment, with a reason (the admin's action)."""
    if not actor.is_staff_member:
        raise NotAllowed()
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why the money is given back."), code="reason_required", field="reason")
    if amount_minor <= 0:
        raise DomainError(_("The amount must be more than zero."), code="invalid", field="amount")
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        left = payment.amount_minor - refunded_minor(payment)
        if payment.status not in COLLECTED or left <= 0:
            raise DomainError(_("Nothing is left to refund on this payment."), code="nothing_to_refund", status=409)
        if amount_minor > left:
            raise DomainError(
                _("At most %(left)s can still be refunded.") % {"left": display(left, payment.currency)},
                code="invalid",
                field="amount",
            )
        created = ask_refund(payment, amount_minor=amount_minor, reason=reason, actor=actor)
    return created


def send_pending_soon() -> None:
    try:
        send_pending()
    except Exception:  # the schedule sends it again; the change that asked has committed
        logger.exception("Sending payment actions failed; the schedule retries.")


def send_pending(limit: int = 50) -> int:
    """Send the refunds and the captures/voids/expiries not yet sent. Each is claimed
    under its row lock (others skip it) and sent with its idempotency key, so two senders
    never send one twice and a failure is simply sent again later. Returns how many went."""
    sent = 0
    for _i in range(limit):
        if not (_send_one_refund() or _send_one_action()):
            break
        sent += 1
    return sent


def _send_one_refund() -> bool:
    with transaction.atomic():
        refund = (
            Refund.objects.select_for_update(skip_locked=True)
            .select_related("payment")
            .filter(status=RefundStatus.PENDING, gateway_refund_id="")
            .order_by("pk")
            .first()
        )
        if refund is None:
            return False
        try:
            gateway_id, status = get_gateway(refund.payment.backend).refund(refund)
        except PaymentGatewayError as exc:
            logger.warning("Refund %s not sent: %s", refund.pk, exc.message)
            if exc.status in (502, 503):
                return False  # the gateway is down: the schedule sends it again
            refund.status, refund.failure_message = RefundStatus.FAILED, exc.message[:500]
            refund.save(update_fields=["status", "failure_message", "updated_at"])
            return True
        refund.gateway_refund_id = gateway_id
        refund.failure_message = ""
        if status == "succeeded":
            refund.status = RefundStatus.SUCCEEDED
        elif status in ("failed", "canceled"):
            refund.status = RefundStatus.FAILED
        refund.save(update_fields=["gateway_refund_id", "status", "failure_message", "updated_at"])
        if refund.status == RefundStatus.SUCCEEDED:
            _mark_refunded(refund.payment)
            notify.refunded(refund)
        return True


def _mark_refunded(payment: Payment) -> None:
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    done = payment.refunds.filter(status=RefundStatus.SUCCEEDED).aggregate(total=Sum("amount_minor"))["total"] or 0
    if done <= 0 or payment.status not in COLLECTED:
        return
    payment.status = PaymentStatus.REFUNDED if done >= payment.amount_minor else PaymentStatus.PARTIALLY_REFUNDED
    payment.save(update_fields=["status", "updated_at"])


def _send_one_action() -> bool:
    with transaction.atomic():
        payment = Payment.objects.select_for_update(skip_locked=True).exclude(pending_action="").order_by("pk").first()
        if payment is None:
            return False
        gateway = get_gateway(payment.backend)
        action = payment.pending_action
        try:
            if action == "capture":
                gateway.capture(payment)
                if payment.status == PaymentStatus.AUTHORISED:
                    payment.status, payment.paid_at = PaymentStatus.PAID, timezone.now()
            elif action == "void":
                if payment.status == PaymentStatus.AUTHORISED:
                    gateway.cancel_authorisation(payment)
                    payment.status = PaymentStatus.CANCELLED
            elif action == "expire":
                # A declined card leaves the checkout open for a retry: close it all the same.
                if payment.status in (PaymentStatus.PENDING, PaymentStatus.FAILED) and payment.checkout_id:
                    gateway.expire_checkout(payment)
                if payment.status in (PaymentStatus.PENDING, PaymentStatus.FAILED):
                    payment.status = PaymentStatus.EXPIRED
        except PaymentGatewayError as exc:
            logger.warning("Payment %s: %s failed: %s", payment.pk, action, exc.message)
            if exc.status in (502, 503):
                return False  # the gateway is down: the schedule sends it again
            payment.pending_action, payment.failure_message = "", exc.message[:500]
            payment.save(update_fields=["pending_action", "failure_message", "updated_at"])
            return True
        payment.pending_action = ""
        payment.save(update_fields=["pending_action", "status", "paid_at", "updated_at"])
        return True
