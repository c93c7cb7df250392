"""Outgoing webhooks: addresses that staff and coaches register to hear of booking changes.

- ``WebhookEndpoint``: one HTTPS address of one owner, the event types it wants and the
  secret its messages are signed with (Standard Webhooks). A staff member's endpoint hears
  of every booking; a coach's only of the bookings of sessions they host (as the coach or a
  co-host). An endpoint whose deliveries keep failing for a day is disabled, and its owner
  told.
- ``WebhookDelivery``: one message to one endpoint — what was sent (payload and headers),
  how many times, what the endpoint answered last, and when the next try is due. Unique per
  endpoint and message id, and the message id names the booking event and the event type,
  so an event the relay hands over twice makes one delivery."""

from __future__ import annotations

import base64
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 24


def new_secret() -> str:
    """``whsec_`` and 24 random bytes in base64, as Standard Webhooks' libraries read it."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


class EventType(models.TextChoices):
    BOOKING_CREATED = "booking.created", _("Booking created (booked, requested or held for payment)")
    BOOKING_CONFIRMED = "booking.confirmed", _("Booking confirmed (a request approved, or paid)")
    BOOKING_DECLINED = "booking.declined", _("Request declined (by the coach, or expired)")
    BOOKING_CANCELLED = "booking.cancelled", _("Booking cancelled")
    BOOKING_RESCHEDULED = "booking.rescheduled", _("Booking rescheduled")
    BOOKING_COMPLETED = "booking.completed", _("Session completed")
    BOOKING_NO_SHOW = "booking.no_show", _("Client marked as a no-show")
    PAYMENT_RECEIVED = "payment.received", _("Payment received for a booking")
    PAYMENT_EXPIRED = "payment.expired", _("Time to pay for a booking ran out (or the client gave up)")


# The test message an owner sends from their page; not an event type one subscribes to.
PING = "webhook.test"


class WebhookEndpoint(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_endpoints", verbose_name=_("owner")
    )
    url = models.CharField(_("address"), max_length=2000)
    description = models.CharField(_("description"), max_length=200, blank=True)
    event_types = models.JSONField(_("event types"), default=list, help_text=_("The event types sent to it."))
    # Shown to the owner (their receiver needs it) and never in lists; rotating it keeps the
    # previous one signing too for a day, so a receiver can be switched without losing any.
    secret = models.CharField(max_length=100, default=new_secret, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_until = models.DateTimeField(null=True, blank=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["owner", "created_at", "pk"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return f"{self.url} ({self.owner})"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class WebhookDelivery(models.Model):
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    # The booking change it tells of (none for a test message).
    event = models.ForeignKey(
        "bookings.BookingEvent", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    event_type = models.CharField(_("event type"), max_length=40)
    # The ``webhook-id`` header: the same on every try, so a receiver can drop a repeat.
    message_id = models.CharField(_("message id"), max_length=80)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # When it is next due; while a worker sends it, the end of that worker's claim.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    request_headers = models.JSONField(default=dict, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "message_id"], name="webhook_delivery_one_per_message")
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="webhook_delivery_due"),
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_log"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint.url} ({self.status})"
