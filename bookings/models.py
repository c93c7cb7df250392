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
from django.utils.translation import pgettext_lazy
from recurrence.fields import RecurrenceField

from availability.rules import ApprovalPolicy


class SessionKind(models.TextChoices):
    ONE_ON_ONE = "one_on_one", _("One-on-one")
    GROUP = "group", _("Group session")
    WORKSHOP = "workshop", _("Workshop")


class Modality(models.TextChoices):
    ONLINE = "online", _("Online")
    IN_PERSON = "in_person", _("In person")
    HYBRID = "hybrid", _("Hybrid")


def validate_reminder_minutes(value) -> None:
    """Reminder lead times: a list of whole minutes, each from 5 minutes to 14 days."""
    if value is None:
        return
    if not isinstance(value, list) or not all(isinstance(m, int) and not isinstance(m, bool) for m in value):
        raise ValidationError(_("Give the reminders as a list of minutes, e.g. [1440, 120, 30]."))
    if len(value) > 6:
        raise ValidationError(_("At most 6 reminders."))
    if any(not 5 <= m <= 14 * 24 * 60 for m in value):
        raise ValidationError(_("Each reminder must be between 5 minutes and 14 days before the session."))


class VideoProvider(models.TextChoices):
    """Where an online session meets (``SessionType.video``)."""

    NONE = "none", _("No video link")
    ROOMS = "rooms", _("A private video room for each session")
    FIXED = "fixed", _("My own fixed link")


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
        _("duration (minutes)"), default=60, validators=[MinValueValidator(5), MaxValueValidator(24 * 60)]
    )
    capacity = models.PositiveIntegerField(
        default=1, validators=[MinValueValidator(1)], help_text=_("Seats per session; 1 for one-on-one.")
    )
    max_waitlist_size = models.PositiveIntegerField(
        _("waitlist size"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(1000)],
        help_text=_(
            "Group sessions and workshops: how many may wait for a seat when a session is full (0: no waitlist). "
            "Empty: the site's setting."
        ),
    )
    price = models.DecimalField(max_digits=9, decimal_places=2, default=Decimal("0.00"))
    currency = models.CharField(max_length=3, default="EUR", help_text=_("ISO 4217 code, e.g. EUR, USD, INR."))
    modality = models.CharField(max_length=16, choices=Modality.choices, default=Modality.ONLINE)
    location = models.CharField(max_length=200, blank=True, help_text=_("Address, for sessions in person."))
    video = models.CharField(
        _("video call"),
        max_length=8,
        choices=VideoProvider.choices,
        default=VideoProvider.NONE,
        help_text=_(
            "A private room on the site's video server for each session, your own fixed link (every session of "
            "this type uses it), or none. Only the session's people see it."
        ),
    )
    meeting_link = models.URLField(
        blank=True, help_text=_("Your own video call link, used by every session of this type (video: fixed link).")
    )
    resource_kind = models.CharField(
        _("required resource"),
        max_length=16,
        blank=True,
        choices=[("room", _("Room")), ("equipment", _("Equipment")), ("online", _("Online room"))],
        help_text=_("A free resource of this kind is reserved with every session."),
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
        default=False, help_text=_("Let clients cancel inside the notice period; the booking is marked late.")
    )
    late_cancellation_refund_percent = models.PositiveSmallIntegerField(
        _("refund on a late cancellation (%)"),
        default=0,
        validators=[MaxValueValidator(100)],
        help_text=_("What a client paid that comes back when they cancel late (when payments are on)."),
    )
    early_bird_price = models.DecimalField(
        _("early-bird price"),
        max_digits=9,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("A lower price for bookings made early enough (see the next field). Empty: none."),
    )
    early_bird_days = models.PositiveIntegerField(
        _("early bird until (days before)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(365)],
        help_text=_("The early-bird price applies to bookings made at least this many days before the session."),
    )
    deposit = models.DecimalField(
        _("deposit"),
        max_digits=9,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("Pay this much at booking and the rest later (group sessions and workshops). Empty: pay in full."),
    )
    balance_due_days = models.PositiveIntegerField(
        _("balance due (days before)"),
        default=7,
        validators=[MaxValueValidator(365)],
        help_text=_("With a deposit: the rest is due this many days before the session."),
    )
    series_discount_percent = models.PositiveSmallIntegerField(
        _("series discount (%)"),
        default=0,
        validators=[MaxValueValidator(100)],
        help_text=_(
            "One-on-one types: a client who pays for the remaining sessions of a series up front gets this much off "
            "(when payments are on)."
        ),
    )
    min_participants = models.PositiveSmallIntegerField(
        _("minimum participants"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text=_(
            "Workshops: called off (everyone told and refunded) when fewer have booked by the confirmation deadline. "
            "Empty: it always takes place."
        ),
    )
    confirm_hours_before = models.PositiveIntegerField(
        _("confirmation deadline (hours before)"),
        default=48,
        validators=[MaxValueValidator(24 * 60)],
        help_text=_("Workshops with a minimum: this long before the start it is confirmed, or called off."),
    )
    show_participants = models.BooleanField(
        _("participants see each other"),
        default=False,
        help_text=_("Group sessions and workshops: participants see who else is coming (first names)."),
    )
    certificate = models.BooleanField(
        _("certificate of attendance"),
        default=False,
        help_text=_("Workshops: participants who attended download a certificate of attendance (PDF)."),
    )
    requires_enrollment = models.BooleanField(
        _("enrolled clients only"),
        default=False,
        help_text=_("Only clients enrolled in a programme that includes this type can book it."),
    )
    reminder_minutes = models.JSONField(
        _("reminders"),
        null=True,
        blank=True,
        validators=[validate_reminder_minutes],
        help_text=_("Minutes before the session, e.g. [1440, 120, 30]; empty for the usual reminders."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveIntegerField(
        default=0, help_text=_("Where the type comes in the coach's list, lowest first (the order clients see).")
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
            models.CheckConstraint(
                condition=Q(deposit__isnull=True) | Q(deposit__lte=F("price")), name="sessiontype_deposit_within_price"
            ),
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
    SCHEDULED = "scheduled", _("Scheduled")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class Session(models.Model):
    """One occurrence on the calendar. A one-on-one booking creates its session; a coach
    publishes group sessions and workshops and clients take seats. ``seats_taken`` counts
    active bookings; ``seats_held`` the seats offered to people on the waitlist and held
    for them until they answer. Together they can never exceed ``capacity`` (a check
    constraint)."""

    session_type = models.ForeignKey(SessionType, on_delete=models.PROTECT, related_name="sessions")
    coach = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="hosted_sessions")
    start = models.DateTimeField()
    end = models.DateTimeField()
    capacity = models.PositiveIntegerField(default=1)
    seats_taken = models.PositiveIntegerField(default=0)
    seats_held = models.PositiveIntegerField(
        default=0, help_text=_("Seats offered to people on the waitlist, held until they answer.")
    )
    resource = models.ForeignKey(
        "availability.Resource", null=True, blank=True, on_delete=models.PROTECT, related_name="sessions"
    )
    co_hosts = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="co_hosted_sessions",
        help_text=_("Hosts beside the coach, each allocated for the session's time."),
    )
    status = models.CharField(max_length=16, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED)
    # Its own video room (or its type's fixed link), set when it is created and kept when
    # the booking moves; shown only to the session's people (``bookings.video``).
    meeting_link = models.URLField(blank=True, max_length=300)
    location = models.CharField(max_length=200, blank=True)
    # A workshop with a minimum number of participants: when it is confirmed or called off
    # (its type's deadline when published), and when it was confirmed.
    confirm_by = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # When the coach really started and closed it (not set when it was completed by the
    # clock): the reports' actual duration.
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start"]
        indexes = [
            models.Index(fields=["coach", "start"], name="session_coach_start"),
            models.Index(
                fields=["confirm_by"],
                condition=Q(confirm_by__isnull=False, confirmed_at__isnull=True, status="scheduled"),
                name="session_to_confirm",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="session_end_after_start"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="session_capacity_positive"),
            models.CheckConstraint(
                condition=Q(seats_taken__lte=F("capacity") - F("seats_held")), name="session_seats_within_capacity"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.session_type.title}, {self.start:%Y-%m-%d %H:%M} UTC"

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.seats_taken - self.seats_held, 0)

    @property
    def is_full(self) -> bool:
        return self.seats_taken + self.seats_held >= self.capacity


class BookingStatus(models.TextChoices):
    REQUESTED = "requested", pgettext_lazy("booking status", "Requested")
    FIRM_BOOKED = "firm_booked", pgettext_lazy("booking status", "Booked")
    CONFIRMED = "confirmed", pgettext_lazy("booking status", "Confirmed")
    DECLINED = "declined", pgettext_lazy("booking status", "Declined")
    CANCELLED = "cancelled", pgettext_lazy("booking status", "Cancelled")
    COMPLETED = "completed", pgettext_lazy("booking status", "Completed")
    NO_SHOW = "no_show", pgettext_lazy("booking status", "No-show")
    # Held while the client pays (seed 002's "pending_payment"); expires and frees its place.
    AWAITING_PAYMENT = "awaiting_payment", pgettext_lazy("booking status", "Awaiting payment")


# Statuses that hold a seat and the coach's time.
ACTIVE_STATUSES = (
    BookingStatus.REQUESTED,
    BookingStatus.FIRM_BOOKED,
    BookingStatus.CONFIRMED,
    BookingStatus.AWAITING_PAYMENT,
)
BOOKED_STATUSES = (BookingStatus.FIRM_BOOKED, BookingStatus.CONFIRMED)
# Statuses a booking can be moved in (one awaiting its payment is paid or let go first).
MOVABLE_STATUSES = (BookingStatus.REQUESTED, BookingStatus.FIRM_BOOKED, BookingStatus.CONFIRMED)
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
    # Paid (or authorised): what the firm/request rule decided at booking; else it lapses.
    BookingStatus.AWAITING_PAYMENT: frozenset(
        {
            BookingStatus.AWAITING_PAYMENT,
            BookingStatus.FIRM_BOOKED,
            BookingStatus.REQUESTED,
            BookingStatus.CANCELLED,
        }
    ),
    BookingStatus.DECLINED: frozenset(),
    BookingStatus.CANCELLED: frozenset(),
    # A session that took place keeps its status: materials shared after it are recorded.
    BookingStatus.COMPLETED: frozenset({BookingStatus.COMPLETED}),
    BookingStatus.NO_SHOW: frozenset(),
}
INITIAL_STATUSES = frozenset(
    {BookingStatus.REQUESTED, BookingStatus.FIRM_BOOKED, BookingStatus.CONFIRMED, BookingStatus.AWAITING_PAYMENT}
)


class Booking(models.Model):
    """One client's seat in a session."""

    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="bookings")
    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings")
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="bookings_made",
        help_text=_("Client, guardian or staff."),
    )
    reference = models.CharField(max_length=40, unique=True, editable=False)
    status = models.CharField(max_length=16, choices=BookingStatus.choices, db_index=True)
    client_notes = models.TextField(_("notes to the coach"), blank=True)
    coach_notes = models.TextField(blank=True)
    decline_reason = models.TextField(blank=True)
    suggested_alternatives = models.JSONField(default=list, blank=True, help_text=_("ISO 8601 start times."))
    info_request = models.TextField(_("question from the coach"), blank=True)
    info_response = models.TextField(_("client's answer"), blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text=_("A request not answered by then is declined."))
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
    price_note = models.CharField(
        max_length=200, blank=True, help_text=_("How the price was reached: early bird, a discount, a code.")
    )
    deposit = models.DecimalField(
        max_digits=9,
        decimal_places=2,
        default=Decimal("0.00"),
        help_text=_("Paid at booking when the rest is due later; 0 when the whole price is paid at once."),
    )
    balance_due_at = models.DateTimeField(null=True, blank=True, help_text=_("With a deposit: when the rest is due."))
    status_after_payment = models.CharField(
        max_length=16,
        blank=True,
        choices=BookingStatus.choices,
        help_text=_("While awaiting payment: what the booking becomes once paid (booked, or a request)."),
    )
    # Indexed only where set (Meta.indexes): most bookings have neither, and a booking's
    # insert then maintains no index entry for them.
    promo_code = models.ForeignKey(
        "bookings.PromoCode",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bookings",
        db_index=False,
    )
    enrollment = models.ForeignKey(
        "bookings.Enrollment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bookings",
        db_index=False,
    )
    series = models.ForeignKey(
        "bookings.Series",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bookings",
        db_index=False,
        help_text=_("The recurring series this booking is one occurrence of."),
    )
    late_refund_percent = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(100)],
        help_text=_("The type's late-cancellation refund when this booking was made: the policy it keeps."),
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
            models.Index(fields=["promo_code"], condition=Q(promo_code__isnull=False), name="booking_promo_code"),
            models.Index(fields=["enrollment"], condition=Q(enrollment__isnull=False), name="booking_enrollment"),
            models.Index(fields=["series"], condition=Q(series__isnull=False), name="booking_series"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "client"],
                condition=Q(status__in=["requested", "firm_booked", "confirmed", "awaiting_payment"]),
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

    @property
    def awaits_payment(self) -> bool:
        return self.status == BookingStatus.AWAITING_PAYMENT


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
        help_text=_("Empty when the system acted (an expiry, an automatic completion)."),
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
    request_hash = models.CharField(max_length=64, help_text=_("SHA-256 of the method, path and body."))
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


class PromoCode(models.Model):
    """A promotion code: a percentage or an amount off, for some session types (or all of
    the coach's; all of the practice's when made by staff), within dates and a number of
    uses. ``times_used`` is counted under the code's row lock, in the booking's transaction."""

    code = models.CharField(
        _("code"), max_length=40, unique=True, help_text=_("Letters and digits; not case-sensitive.")
    )
    coach = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="promo_codes"
    )
    description = models.CharField(_("description"), max_length=200, blank=True)
    percent_off = models.PositiveSmallIntegerField(
        _("percent off"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    amount_off = models.DecimalField(
        _("amount off"), max_digits=9, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    currency = models.CharField(_("currency of the amount"), max_length=3, blank=True)
    session_types = models.ManyToManyField(SessionType, blank=True, related_name="promo_codes")
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    max_uses = models.PositiveIntegerField(_("uses allowed"), null=True, blank=True, help_text=_("Empty: no limit."))
    times_used = models.PositiveIntegerField(_("times used"), default=0, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("promotion code")
        constraints = [
            models.CheckConstraint(
                condition=(Q(percent_off__isnull=False) & Q(amount_off__isnull=True))
                | (Q(percent_off__isnull=True) & Q(amount_off__isnull=False)),
                name="promo_percent_or_amount",
            ),
            models.CheckConstraint(
                condition=Q(max_uses__isnull=True) | Q(times_used__lte=F("max_uses")), name="promo_uses_within_limit"
            ),
        ]

    def __str__(self) -> str:
        return self.code


class Programme(models.Model):
    """A programme or course clients are enrolled in (bought, or enrolled by staff or the
    coach), with an allowance of sessions among its session types."""

    coach = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="programmes"
    )
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    session_types = models.ManyToManyField(SessionType, related_name="programmes", verbose_name=_("session types"))
    allowance = models.PositiveIntegerField(
        _("sessions included"), default=10, validators=[MinValueValidator(1), MaxValueValidator(1000)]
    )
    price = models.DecimalField(_("price"), max_digits=9, decimal_places=2, default=Decimal("0.00"))
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    validity_days = models.PositiveIntegerField(
        _("valid for (days)"), default=365, validators=[MinValueValidator(1), MaxValueValidator(3650)]
    )
    is_active = models.BooleanField(_("open for enrollment"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title"]
        verbose_name = _("programme")
        constraints = [
            models.CheckConstraint(condition=Q(allowance__gte=1), name="programme_allowance_positive"),
            models.CheckConstraint(condition=Q(price__gte=0), name="programme_price_not_negative"),
        ]

    def __str__(self) -> str:
        return self.title


class EnrollmentSource(models.TextChoices):
    PURCHASE = "purchase", _("Bought")
    STAFF = "staff", _("Enrolled by staff")
    COACH = "coach", _("Enrolled by the coach")


class Enrollment(models.Model):
    """A client's place in a programme, from ``starts_at`` until ``ends_at`` (or until
    ended). Bookings that use it point at it; their number is the allowance used."""

    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="enrollments")
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="enrollments")
    source = models.CharField(max_length=16, choices=EnrollmentSource.choices)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True, help_text=_("Set when the enrollment was ended early."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "programme"], condition=Q(ended_at__isnull=True), name="enrollment_one_open"
            )
        ]

    def __str__(self) -> str:
        return f"{self.client} in {self.programme}"


class SeriesFrequency(models.TextChoices):
    WEEKLY = "weekly", _("Weekly")
    BIWEEKLY = "biweekly", _("Every two weeks")
    MONTHLY_WEEKDAY = "monthly_weekday", _("Monthly, same weekday")
    MONTHLY_DATE = "monthly_date", _("Monthly, same date")
    CUSTOM = "custom", _("Custom")


class Series(models.Model):
    """A recurring booking: one client, one one-on-one session type, occurrences at the same
    wall-clock time in the coach's zone by an RRULE (``availability.series``). Each
    occurrence is a ``Booking`` of its own (``Booking.series``) with its reference, events
    and reminders; the series keeps the rule and the history of its exceptions (skipped,
    moved, cancelled from a date, retimed)."""

    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="series")
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    coach = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="hosted_series")
    session_type = models.ForeignKey(SessionType, on_delete=models.PROTECT, related_name="series")
    frequency = models.CharField(max_length=16, choices=SeriesFrequency.choices)
    recurrence = RecurrenceField(help_text=_("The repetition rule (RFC 5545 RRULE)."))
    first_start = models.DateTimeField(help_text=_("The first occurrence, UTC."))
    local_time = models.TimeField(help_text=_("The wall-clock time of every occurrence in the series' zone."))
    timezone = models.CharField(max_length=64, help_text=_("The coach's zone when the series was booked."))
    exceptions = models.JSONField(
        default=list, blank=True, help_text=_("Skipped, moved and cancelled occurrences, and retimes, in order.")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = _("series")
        indexes = [models.Index(fields=["client", "created_at"], name="series_client_created")]

    def __str__(self) -> str:
        return f"{self.get_frequency_display()} {self.session_type} ({self.client})"


def material_path(instance: SessionMaterial, filename: str) -> str:
    return f"materials/{instance.session_id}/{filename}"


class SessionMaterial(models.Model):
    """A link or a file the coach shares with a group session's or workshop's participants,
    before it or after it. Files are kept with Django's storage API and served only to
    participants, the hosts and staff (``bookings.workshop_views``)."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="materials")
    title = models.CharField(max_length=200)
    url = models.URLField(blank=True)
    file = models.FileField(upload_to=material_path, blank=True, max_length=300)
    size = models.PositiveIntegerField(default=0)
    after_session = models.BooleanField(
        default=False, help_text=_("A follow-up (after the session) rather than something to prepare.")
    )
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["after_session", "created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(~Q(url="") & Q(file="")) | (Q(url="") & ~Q(file="")), name="material_link_or_file"
            ),
        ]

    def __str__(self) -> str:
        return self.title
