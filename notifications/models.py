"""What people are told about their bookings, how each message went out, and when.

- ``Notification``: one thing a person should know (a request received, a reminder…).
- ``Delivery``: its journey through one channel (in-app, email, SMS); at most one per
  notification and channel. A reminder's notification carries its due time and is unique
  per (recipient, booking, kind, due time), so DESIGN.md invariant 4 — at most once per
  booking, kind, channel and due time — is held by the database itself.
- ``Reminder``: a message planned for later (session reminders, the cancellation window
  closing, the feedback request), kept in step with the booking by ``reminders.sync``.
- ``MessageTemplate``: staff's own wording for one kind and channel, in one language or
  in every language (built-in otherwise).
- ``NotificationSettings``: a person's channels per kind and which reminders they want.
- ``CalendarFeed``: a person's private iCal feed address.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    BOOKING_CREATED = "booking_created", _("Booking created")
    REQUEST_RECEIVED = "request_received", _("Request received")
    CONFIRMED = "confirmed", _("Booking confirmed")
    DECLINED = "declined", _("Request declined")
    ALTERNATIVES_SUGGESTED = "alternatives_suggested", _("Other times suggested")
    INFORMATION_REQUESTED = "information_requested", _("More information requested")
    INFORMATION_GIVEN = "information_given", _("Information given")
    CANCELLED = "cancelled", _("Booking cancelled")
    RESCHEDULED = "rescheduled", _("Booking rescheduled")
    SESSION_REMINDER = "session_reminder", _("Session reminder")
    CANCELLATION_WINDOW = "cancellation_window", _("Cancellation window closing")
    SESSION_LIMIT_WARNING = "session_limit_warning", _("Session limit warning")
    FEEDBACK_REQUEST = "feedback_request", _("Feedback request")
    PAYMENT_RECEIVED = "payment_received", _("Payment received")
    PAYMENT_FAILED = "payment_failed", _("Payment failed")
    PAYMENT_EXPIRED = "payment_expired", _("Time to pay ran out")
    PAYMENT_REFUNDED = "payment_refunded", _("Payment refunded")
    PAYMENT_DUE = "payment_due", _("Payment due")
    WAITLIST_OFFER = "waitlist_offer", _("A seat offered from the waitlist")
    WAITLIST_EXPIRED = "waitlist_expired", _("Waitlist offer expired")
    WAITLIST_POSITION = "waitlist_position", _("Waitlist place moved up")
    WORKSHOP_CONFIRMED = "workshop_confirmed", _("Workshop confirmed")
    MATERIAL_AVAILABLE = "material_available", _("Material available")
    CALENDAR_CLASH = "calendar_clash", _("A booking your own calendar now contradicts")
    WEBHOOK_DISABLED = "webhook_disabled", _("A webhook of yours was disabled")
    INTAKE_ANSWERS = "intake_answers", _("New intake answers")


class Channel(models.TextChoices):
    IN_APP = "in_app", _("In-app")
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")


class Notification(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    booking = models.ForeignKey(
        "bookings.Booking", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    due_at = models.DateTimeField(null=True, blank=True, help_text=_("For planned messages: when it was due."))
    # For messages about a payment rather than a booking change: what they are once for,
    # e.g. "payment:42" (a failed payment) or "refund:7"; unique per recipient and kind.
    key = models.CharField(max_length=80, blank=True, default="")
    event = models.ForeignKey(
        "bookings.BookingEvent",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("The booking change this tells of (empty for planned messages)."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notif_recipient_recent"),
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="notif_recipient_unread"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "booking", "kind", "due_at"],
                condition=Q(due_at__isnull=False),
                name="notif_once_per_due_time",
            ),
            # A booking event replayed by the relay makes nothing twice.
            models.UniqueConstraint(
                fields=["recipient", "event", "kind"],
                condition=Q(event__isnull=False),
                name="notif_once_per_event",
            ),
            # A payment's message (a receipt, a failure, a refund) is made once.
            models.UniqueConstraint(
                fields=["recipient", "kind", "key"],
                condition=~Q(key=""),
                name="notif_once_per_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient}: {self.title}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class Delivery(models.Model):
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    to = models.CharField(_("sent to"), max_length=254, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=40, blank=True)
    provider_id = models.CharField(max_length=120, blank=True, db_index=True)
    provider_status = models.CharField(max_length=40, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # While ``sending``: when the worker took it, and — set and committed just before the
    # provider is called — when that call started. A claim left by a worker that stopped
    # is queued again; if its call had started, the message may reach the person twice.
    claimed_at = models.DateTimeField(null=True, blank=True)
    call_started_at = models.DateTimeField(_("provider call started"), null=True, blank=True)
    possibly_duplicated = models.BooleanField(
        _("possibly sent twice"),
        default=False,
        help_text=_("A worker stopped during the provider call and the message was sent again."),
    )

    class Meta:
        ordering = ["created_at"]
        verbose_name_plural = _("deliveries")
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="queued"), name="delivery_queued_due"),
            models.Index(fields=["claimed_at"], condition=Q(status="sending"), name="delivery_sending_claimed"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["notification", "channel"], name="delivery_one_per_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.notification_id} by {self.channel}: {self.status}"


class ReminderStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    SKIPPED = "skipped", _("Skipped (too late)")
    CANCELLED = "cancelled", _("Cancelled")


class Reminder(models.Model):
    """A message planned for ``due_at``: claimed once by whichever worker gets it first."""

    booking = models.ForeignKey("bookings.Booking", on_delete=models.CASCADE, related_name="reminders")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    due_at = models.DateTimeField()
    # How long after ``due_at`` it is still worth sending; later than that it is skipped.
    window = models.DurationField()
    status = models.CharField(max_length=16, choices=ReminderStatus.choices, default=ReminderStatus.PENDING)
    claimed_by = models.CharField(max_length=40, blank=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    notification = models.ForeignKey(Notification, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["due_at"]
        indexes = [
            models.Index(fields=["due_at"], condition=Q(status="pending"), name="reminder_pending_due"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["booking", "recipient", "kind", "due_at"], name="reminder_once_per_due"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.booking_id} at {self.due_at:%Y-%m-%d %H:%M}Z"


def template_languages() -> list[tuple[str, object]]:
    """A template's language choices: every language (empty), then each of
    ``settings.LANGUAGES`` by its name in the reader's language. A callable, so that the
    migration names it rather than the list, and a language added to the settings needs
    no migration."""
    every = [("", _("Every language"))]
    return every + [
        (code, translation.get_language_info(code)["name_translated"]) for code, _name in settings.LANGUAGES
    ]


class MessageTemplate(models.Model):
    """Staff's wording for one kind and channel, in one language or in every language
    (empty); the built-in one is used otherwise. A recipient gets the template in their
    language, else the one for every language, else the built-in wording in their language
    (``messages.custom_templates``)."""

    kind = models.CharField(max_length=32, choices=Kind.choices)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    language = models.CharField(
        _("language"),
        max_length=10,
        blank=True,
        default="",
        choices=template_languages,
        help_text=_(
            "Whose messages use it: people who read this language, or everyone. A person gets the template in "
            "their language, else the one for every language, else the built-in wording (translated)."
        ),
    )
    subject = models.CharField(max_length=200, blank=True, help_text=_("Email subject, or the in-app title."))
    body = models.TextField(help_text=_("Plain text (email, SMS) or the in-app text."))
    html_body = models.TextField(_("HTML body"), blank=True, help_text=_("Email only; built from the text when empty."))
    is_active = models.BooleanField(_("in use"), default=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["kind", "channel", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "channel", "language"], name="template_one_per_kind_channel_language"
            ),
        ]

    def __str__(self) -> str:
        text = f"{self.get_kind_display()} · {self.get_channel_display()}"
        return f"{text} · {self.get_language_display()}" if self.language else text


class NotificationSettings(models.Model):
    """A person's choices; no row (or an empty choice) means the product's defaults."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_settings"
    )
    # {kind: [channel, ...]} for the kinds the person changed.
    channels = models.JSONField(default=dict, blank=True)
    # Minutes before the session; None = the defaults (settings or the session type).
    reminder_minutes = models.JSONField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = _("notification settings")

    def __str__(self) -> str:
        return f"Notification settings of {self.user}"


class CalendarFeed(models.Model):
    """A private feed address ``/calendar/<lookup><verifier>.ics``: the lookup part finds the
    row, the verifier is compared in constant time. Rotating replaces both."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    lookup = models.CharField(max_length=12, unique=True)
    verifier = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Calendar feed of {self.user}"

    @property
    def secret(self) -> str:
        return f"{self.lookup}{self.verifier}"
