"""Money: payments through a gateway (Stripe, or the local test gateway), their refunds,
the gateway events seen (each processed once), packages of credits and the credit ledger.

Amounts are whole minor units of their currency (cents) in integers, never floats. The
gateway's webhook, not the browser coming back, is the truth about a payment."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from config.money import display


class Backend(models.TextChoices):
    STRIPE = "stripe", "Stripe"
    LOCAL = "local", _("Local test gateway")


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for payment")
    AUTHORISED = "authorised", _("Authorised (captured on approval)")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")
    REFUNDED = "refunded", _("Refunded")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partly refunded")


class PaymentKind(models.TextChoices):
    FULL = "full", _("Full price")
    DEPOSIT = "deposit", _("Deposit")
    BALANCE = "balance", _("Balance")
    SERIES = "series", _("Series, paid up front")


class Payment(models.Model):
    """One attempt to collect money: for a booking, a package of credits, a programme, or
    the remaining sessions of a series paid up front (its ``shares``)."""

    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments")
    booking = models.ForeignKey(
        "bookings.Booking", null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    package = models.ForeignKey(
        "payments.Package", null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    programme = models.ForeignKey(
        "bookings.Programme", null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    series = models.ForeignKey(
        "bookings.Series", null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    kind = models.CharField(max_length=8, choices=PaymentKind.choices, default=PaymentKind.FULL)
    backend = models.CharField(max_length=16, choices=Backend.choices)
    amount_minor = models.PositiveBigIntegerField(_("amount (minor units)"))
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=24, choices=PaymentStatus.choices, default=PaymentStatus.PENDING)
    capture_manually = models.BooleanField(
        default=False, help_text=_("Authorise only; captured when the coach approves the request.")
    )
    checkout_id = models.CharField(max_length=255, blank=True, help_text=_("The gateway's checkout session id."))
    payment_intent_id = models.CharField(max_length=255, blank=True)
    checkout_url = models.URLField(max_length=2000, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    pending_action = models.CharField(
        max_length=8,
        blank=True,
        choices=[("capture", _("Capture")), ("void", _("Cancel the authorisation")), ("expire", _("Expire"))],
        help_text=_("Asked of the gateway and not done yet (sent after the commit, retried until done)."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["backend", "checkout_id"], condition=~Q(checkout_id=""), name="payment_one_per_checkout"
            ),
            models.CheckConstraint(
                condition=Q(booking__isnull=False)
                | Q(package__isnull=False)
                | Q(programme__isnull=False)
                | Q(series__isnull=False),
                name="payment_for_something",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "expires_at"], name="payment_status_expires"),
            models.Index(fields=["pending_action"], condition=~Q(pending_action=""), name="payment_pending_action"),
            # The reports' money received in a range.
            # (what it sums too: read from the index alone)
            models.Index(
                fields=["paid_at", "status", "currency", "amount_minor"],
                condition=Q(paid_at__isnull=False),
                name="payment_paid_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{display(self.amount_minor, self.currency)} ({self.get_status_display()})"


class PaymentShare(models.Model):
    """The part of a series' up-front payment that pays one of its sessions: the session's
    price less the type's series discount. A share of a collected payment settles the
    session; its cancellation refunds the share by the session's policy."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="shares")
    booking = models.ForeignKey("bookings.Booking", on_delete=models.PROTECT, related_name="payment_shares")
    amount_minor = models.PositiveBigIntegerField(_("amount (minor units)"))
    refunded_minor = models.PositiveBigIntegerField(_("refunded (minor units)"), default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["payment", "booking"], name="payment_share_once"),
            models.CheckConstraint(condition=Q(refunded_minor__lte=models.F("amount_minor")), name="share_refund_le"),
        ]

    def __str__(self) -> str:
        return f"{self.amount_minor} for booking {self.booking_id}"


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("Requested")
    SUCCEEDED = "succeeded", _("Refunded")
    FAILED = "failed", _("Failed")


class Refund(models.Model):
    """Money given back on a payment; requested from the gateway once, with this row's id
    as the idempotency key."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount_minor = models.PositiveBigIntegerField(_("amount (minor units)"), validators=[MinValueValidator(1)])
    # The payment's, kept here so the reports sum refunds per currency without a join.
    currency = models.CharField(max_length=3, editable=False)
    reason = models.CharField(max_length=500)
    status = models.CharField(max_length=16, choices=RefundStatus.choices, default=RefundStatus.PENDING)
    gateway_refund_id = models.CharField(max_length=255, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source_key = models.CharField(
        max_length=64, blank=True, help_text=_("What caused it (a booking event), so it is asked for once.")
    )
    failure_message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gte=1), name="refund_amount_positive"),
            models.UniqueConstraint(
                fields=["payment", "source_key"], condition=~Q(source_key=""), name="refund_once_per_cause"
            ),
        ]
        # The reports' refunds made in a range (what they sum too: read from the index alone).
        indexes = [models.Index(fields=["created_at", "status", "currency", "amount_minor"], name="refund_created")]

    def __str__(self) -> str:
        return f"{self.amount_minor} ({self.get_status_display()})"

    def save(self, *args, **kwargs) -> None:
        if not self.currency:
            self.currency = self.payment.currency
        super().save(*args, **kwargs)


class GatewayEvent(models.Model):
    """A webhook event the gateway sent: stored once by its id (a replay finds it and does
    nothing), marked processed once handled."""

    backend = models.CharField(max_length=16, choices=Backend.choices)
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["received_at"]
        constraints = [models.UniqueConstraint(fields=["backend", "event_id"], name="gateway_event_once")]

    def __str__(self) -> str:
        return f"{self.backend} {self.type} {self.event_id}"


class Package(models.Model):
    """N credits for one or several session types, at a price, valid for some days after
    purchase. A coach's own (``coach`` set) or the practice's (made by staff)."""

    coach = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="packages"
    )
    title = models.CharField(_("title"), max_length=120)
    credits = models.PositiveIntegerField(_("credits"), validators=[MinValueValidator(1), MaxValueValidator(1000)])
    price_minor = models.PositiveBigIntegerField(_("price (minor units)"))
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    validity_days = models.PositiveIntegerField(
        _("valid for (days)"), default=365, validators=[MinValueValidator(1), MaxValueValidator(3650)]
    )
    session_types = models.ManyToManyField("bookings.SessionType", blank=True, related_name="packages")
    is_active = models.BooleanField(_("offered"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title"]
        constraints = [models.CheckConstraint(condition=Q(credits__gte=1), name="package_credits_positive")]

    def __str__(self) -> str:
        return f"{self.title} ({self.credits} credits)"


class CreditKind(models.TextChoices):
    GRANT = "grant", _("Granted")
    SPEND = "spend", _("Spent")
    REFUND = "refund", _("Returned")
    EXPIRE = "expire", _("Expired")


class CreditEntry(models.Model):
    """One signed line of a client's credit ledger; the balance is their sum and never goes
    below zero (``payments.credits`` writes under the client's row lock). Append-only."""

    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="credit_entries")
    kind = models.CharField(max_length=8, choices=CreditKind.choices)
    amount = models.IntegerField(help_text=_("Positive for grants and returns, negative for spending and expiry."))
    package = models.ForeignKey(Package, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    grant = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="uses",
        help_text=_("The grant these credits come from (spending, returns and expiry)."),
    )
    booking = models.ForeignKey(
        "bookings.Booking", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_entries"
    )
    expires_at = models.DateTimeField(null=True, blank=True, help_text=_("For a grant: when its credits expire."))
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("credit entry")
        verbose_name_plural = _("credit ledger")
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind__in=["grant", "refund"]) & Q(amount__gt=0))
                | (Q(kind__in=["spend", "expire"]) & Q(amount__lt=0)),
                name="credit_entry_sign_by_kind",
            )
        ]
        indexes = [models.Index(fields=["client", "created_at"], name="credit_client_time")]

    def __str__(self) -> str:
        return f"{self.client_id}: {self.amount:+d} ({self.kind})"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("The credit ledger is append-only.")
        super().save(*args, **kwargs)
