"""Session types, sessions, bookings and their history. (The ledger of busy time,
``Allocation``, is the scheduling core's: ``availability.models``.)

The status machine lives here (``TRANSITIONS``) so the services, the pages and the
property tests read one definition.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from availability.rules import ApprovalPolicy


class SessionKind(models.TextChoices):
    ONE_ON_ONE = "one_on_one", "One-on-one"
    GROUP = "group", "Group session"
    WORKSHOP = "workshop", "Workshop"


class Modality(models.TextChoices):
    ONLINE = "online", "Online"
    IN_PERSON = "in_person", "In person"
    HYBRID = "hybrid", "Hybrid"


def validate_reminder_minutes(value) -> None:
    """Reminder lead times: a list of whole minutes, each from 5 minutes to 14 days."""
    if value is None:
        return
    if not isinstance(value, list) or not all(isinstance(m, int) and not isinstance(m, bool) for m in value):
        raise ValidationError("Give the reminders as a list of minutes, e.g. [1440, 120, 30].")
    if len(value) > 6:
        raise ValidationError("At most 6 reminders.")
    if any(not 5 <= m <= 14 * 24 * 60 for m in value):
        raise ValidationError("Each reminder must be between 5 minutes and 14 days before the session.")


class HostMode(models.TextChoices):
    SINGLE = "single", _("The coach alone")
    ALL = "all", _("The coach and every co-host together")
    ANY = "any", _("Any one of the team (round robin)")


class SessionType(models.Model):
    """What can be booked with a coach. Blank rule fields follow the coach's settings."""

    coach = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="session_types")
    title = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=16, choices=SessionKind.choices, default=SessionKind.ONE_ON_ONE)
    duration_minutes = models.PositiveIntegerField(
        "duration (minutes)", default=60, validators=[MinValueValidator(5), MaxValueValidator(24 * 60)]
    )
    capacity = models.PositiveIntegerField(
        default=1, validators=[MinValueValidator(1)], help_text="Seats per session; 1 for one-on-one."
    )
    price = models.DecimalField(max_digits=9, decimal_places=2, default=Decimal("0.00"))
    currency = models.CharField(max_length=3, default="EUR", help_text="ISO 4217 code, e.g. EUR, USD, INR.")
    modality = models.CharField(max_length=16, choices=Modality.choices, default=Modality.ONLINE)
    location = models.CharField(max_length=200, blank=True, help_text="Address, for sessions in person.")
    meeting_link = models.URLField(blank=True, help_text="Video call link, for online sessions.")
    resource_kind = models.CharField(
        "required resource",
        max_length=16,
        blank=True,
        choices=[("room", "Room"), ("equipment", "Equipment"), ("online", "Online room")],
        help_text="A free resource of this kind is reserved with every session.",
    )
    resources = models.ManyToManyField(
        "availability.Resource",
        blank=True,
        related_name="session_types",
        verbose_name=_("rooms allowed"),
        help_text=_("Empty: any active resource of the required kind."),
    )
    host_mode = models.CharField(_("hosts"), max_length=8, choices=HostMode.choices, default=HostMode.SINGLE)
    co_hosts = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="co_hosted_types",
        verbose_name=_("co-hosts or team"),
        help_text=_("The other coaches: all of them host with you, or one of you hosts, by the hosts setting."),
    )
    required_subject = models.ForeignKey(
        "accounts.Subject",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="session_types",
        verbose_name=_("subject required"),
        help_text=_("Only hosts who declare this subject can host it."),
    )
    approval = models.CharField(max_length=16, choices=ApprovalPolicy.choices, default=ApprovalPolicy.COACH)
    buffer_before_minutes = models.PositiveIntegerField(null=True, blank=True)
    buffer_after_minutes = models.PositiveIntegerField(null=True, blank=True)
    minimum_notice_hours = models.PositiveIntegerField(null=True, blank=True)
    booking_window_days = models.PositiveIntegerField(null=True, blank=True)
    cancellation_notice_hours = models.PositiveIntegerField(null=True, blank=True)
    allow_late_cancellation = models.BooleanField(
        default=False, help_text="Let clients cancel inside the notice period; the booking is marked late."
    )
    late_cancellation_refund_percent = models.PositiveSmallIntegerField(
        _("refund on a late cancellation (%)"),
        default=0,
        validators=[MaxValueValidator(100)],
        help_text=_("What a client paid that comes back when they cancel late (when payments are on)."),
    )
    reminder_minutes = models.JSONField(
        "reminders",
        null=True,
        blank=True,
        validators=[validate_reminder_minutes],
        help_text="Minutes before the session, e.g. [1440, 120, 30]; empty for the usual reminders.",
    )
    is_active = models.BooleanField("active", default=True)
    position = models.PositiveIntegerField(
        default=0, help_text="Where the type comes in the coach's list, lowest first (the order clients see)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["coach", "position", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=1), name="sessiontype_capacity_positive"),
            models.CheckConstraint(
                condition=~Q(kind="one_on_one") | Q(capacity=1), name="sessiontype_one_on_one_single_seat"
            ),
            models.CheckConstraint(condition=Q(duration_minutes__gte=1), name="sessiontype_duration_positive"),
            models.CheckConstraint(condition=Q(price__gte=0), name="sessiontype_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.duration_minutes} min)"

    @property
    def duration(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.duration_minutes)

    @property
    def is_group(self) -> bool:
        return self.kind != SessionKind.ONE_ON_ONE

    @property
    def is_free(self) -> bool:
        return self.price == 0


class SessionStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class Session(models.Model):
    """One occurrence on the calendar. A one-on-one booking creates its session; a coach
    publishes group sessions and workshops and clients take seats. ``seats_taken`` counts
    active bookings and can never exceed ``capacity`` (a check constraint)."""

    session_type = models.ForeignKey(SessionType, on_delete=models.PROTECT, related_name="sessions")
    coach = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="hosted_sessions")
    start = models.DateTimeField()
    end = models.DateTimeField()
    capacity = models.PositiveIntegerField(default=1)
    seats_taken = models.PositiveIntegerField(default=0)
    resource = models.ForeignKey(
        "availability.Resource", null=True, blank=True, on_delete=models.PROTECT, related_name="sessions"
    )
    co_hosts = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="co_hosted_sessions",
        help_text="Hosts beside the coach, each allocated for the session's time.",
    )
    status = models.CharField(max_length=16, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED)
    meeting_link = models.URLField(blank=True)
    location = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start"]
        indexes = [models.Index(fields=["coach", "start"], name="session_coach_start")]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="session_end_after_start"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="session_capacity_positive"),
            models.CheckConstraint(condition=Q(seats_taken__lte=F("capacity")), name="session_seats_within_capacity"),
        ]

    def __str__(self) -> str:
        return f"{self.session_type.title}, {self.start:%Y-%m-%d %H:%M} UTC"

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.seats_taken, 0)

    @property
    def is_full(self) -> bool:
        return self.seats_taken >= self.capacity


class BookingStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    FIRM_BOOKED = "firm_booked", "Booked"
    CONFIRMED = "confirmed", "Confirmed"
    DECLINED = "declined", "Declined"
    CANCELLED = "cancelled", "Cancelled"
    COMPLETED = "completed", "Completed"
    NO_SHOW = "no_show", "No-show"


# Statuses that hold a seat and the coach's time.
ACTIVE_STATUSES = (BookingStatus.REQUESTED, BookingStatus.FIRM_BOOKED, BookingStatus.CONFIRMED)
BOOKED_STATUSES = (BookingStatus.FIRM_BOOKED, BookingStatus.CONFIRMED)
FINAL_STATUSES = (BookingStatus.DECLINED, BookingStatus.CANCELLED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)

# The status machine: which status may follow which. A status may "follow itself" when a
# change keeps it (a reschedule, alternatives suggested, a question asked and answered).
TRANSITIONS: dict[str, frozenset[str]] = {
    # A client's move of a request to a time that would be firm if booked anew makes it firm.
    BookingStatus.REQUESTED: frozenset(
        {
            BookingStatus.REQUESTED,
            BookingStatus.FIRM_BOOKED,
            BookingStatus.CONFIRMED,
            BookingStatus.DECLINED,
            BookingStatus.CANCELLED,
        }
    ),
    BookingStatus.FIRM_BOOKED: frozenset(
        {
            BookingStatus.FIRM_BOOKED,
            BookingStatus.REQUESTED,
            BookingStatus.CANCELLED,
            BookingStatus.COMPLETED,
            BookingStatus.NO_SHOW,
        }
    ),
    BookingStatus.CONFIRMED: frozenset(
        {
            BookingStatus.CONFIRMED,
            BookingStatus.FIRM_BOOKED,
            BookingStatus.REQUESTED,
            BookingStatus.CANCELLED,
            BookingStatus.COMPLETED,
            BookingStatus.NO_SHOW,
        }
    ),
    BookingStatus.DECLINED: frozenset(),
    BookingStatus.CANCELLED: frozenset(),
    BookingStatus.COMPLETED: frozenset(),
    BookingStatus.NO_SHOW: frozenset(),
}
INITIAL_STATUSES = frozenset({BookingStatus.REQUESTED, BookingStatus.FIRM_BOOKED, BookingStatus.CONFIRMED})


class Booking(models.Model):
    """One client's seat in a session."""

    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="bookings")
    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings")
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="bookings_made",
        help_text="Client, guardian or staff.",
    )
    reference = models.CharField(max_length=40, unique=True, editable=False)
    status = models.CharField(max_length=16, choices=BookingStatus.choices, db_index=True)
    client_notes = models.TextField("notes to the coach", blank=True)
    coach_notes = models.TextField(blank=True)
    decline_reason = models.TextField(blank=True)
    suggested_alternatives = models.JSONField(default=list, blank=True, help_text="ISO 8601 start times.")
    info_request = models.TextField("question from the coach", blank=True)
    info_response = models.TextField("client's answer", blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="A request not answered by then is declined.")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancellation_reason = models.TextField(blank=True)
    is_late_cancellation = models.BooleanField(default=False)
    rescheduled_from = models.ForeignKey(
        Session, null=True, blank=True, on_delete=models.PROTECT, related_name="rescheduled_bookings"
    )
    price = models.DecimalField(max_digits=9, decimal_places=2, default=Decimal("0.00"))
    currency = models.CharField(max_length=3, default="EUR")
    late_refund_percent = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(100)],
        help_text="The type's late-cancellation refund when this booking was made: the policy it keeps.",
    )
    reminders_enabled = models.BooleanField(default=True)
    rating = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    feedback = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["client", "status"], name="booking_client_status"),
            models.Index(fields=["status", "expires_at"], name="booking_status_expires"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "client"],
                condition=Q(status__in=["requested", "firm_booked", "confirmed"]),
                name="booking_one_active_per_client_session",
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5), name="booking_rating_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def is_request(self) -> bool:
        return self.status == BookingStatus.REQUESTED


class BookingEvent(models.Model):
    """Append-only history of a booking: who changed what, when. Written in the same
    transaction as the change it records; never updated or deleted."""

    booking = models.ForeignKey(Booking, on_delete=models.PROTECT, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty when the system acted (an expiry, an automatic completion).",
    )
    action = models.CharField(max_length=32)
    from_status = models.CharField(max_length=16, blank=True, choices=BookingStatus.choices)
    to_status = models.CharField(max_length=16, choices=BookingStatus.choices)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # The outbox mark: empty until the relay has handed the event to every consumer
    # (``bookings.relay``). The only field ever written after the event itself.
    relayed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["id"], condition=Q(relayed_at__isnull=True), name="bookingevent_unrelayed")]

    def __str__(self) -> str:
        return f"{self.booking_id}: {self.from_status or '∅'} → {self.to_status} ({self.action})"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("Booking history is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Booking history is append-only.")


class RelayRetry(models.Model):
    """A booking event one consumer failed on: the others went on, and the relay gives it
    to this consumer again after a wait (1, 5, 25… minutes) until it succeeds or
    ``RELAY_MAX_ATTEMPTS`` is reached (then ``next_attempt_at`` is empty: given up, for
    staff to look at)."""

    consumer = models.CharField(max_length=64)
    event = models.ForeignKey(BookingEvent, on_delete=models.PROTECT, related_name="+")
    attempts = models.PositiveIntegerField(default=1)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["next_attempt_at", "pk"]
        verbose_name = _("event to retry")
        verbose_name_plural = _("events to retry")
        constraints = [models.UniqueConstraint(fields=["consumer", "event"], name="relay_retry_one_per_consumer")]
        indexes = [models.Index(fields=["next_attempt_at"], name="relay_retry_due")]

    def __str__(self) -> str:
        return f"{self.consumer} · event {self.event_id} ({self.attempts} attempt(s))"


class PlannedSession(models.Model):
    """“Schedule later”: a client records the session type they want without a time; it
    stays on their dashboard as to be scheduled until they book it or drop it."""

    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="planned_sessions")
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    session_type = models.ForeignKey(SessionType, on_delete=models.CASCADE, related_name="planned")
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    booking = models.ForeignKey(Booking, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "session_type"], condition=Q(closed_at__isnull=True), name="planned_one_open_per_type"
            )
        ]

    def __str__(self) -> str:
        return f"{self.client}: {self.session_type.title} (to schedule)"


class IdempotencyRecord(models.Model):
    """A claimed ``Idempotency-Key`` (API) or one-time form token (the wizard) of one user,
    and the answer its first request got. ``status_code`` is empty while that request is
    still running; the row is inserted before the work starts (the unique constraint
    decides between two requests with the same key) and completed after it. Kept 24 hours
    (``bookings.idempotency.RETENTION``), then pruned."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64, help_text="SHA-256 of the method, path and body.")
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=255)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_one_per_user_key")]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.key} ({self.status_code or 'in progress'})"
