"""What reports read: the booking funnel's analytics events (seed 004), recorded on the
server — no third-party script, no personal data beyond the user's id."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class FunnelStep(models.TextChoices):
    PAGE_VIEW = "page_view", _("Coach page viewed")
    ST_SELECTED = "st_selected", _("Session type chosen")
    DATE_SELECTED = "date_selected", _("Day chosen")
    TIME_SELECTED = "time_selected", _("Time chosen")
    BOOKING_ATTEMPTED = "booking_attempted", _("Confirm clicked")
    BOOKING_SUCCESS = "booking_success", _("Booked")
    BOOKING_FAILED = "booking_failed", _("Booking refused")
    SCHEDULE_LATER = "schedule_later", _("Scheduled later")


class AnalyticsEvent(models.Model):
    """One step of someone's way through the booking pages. ``visitor`` is a keyed hash of
    the browser session (it groups one visit's steps without naming anyone); ``user`` is set
    when signed in. Kept ``ANALYTICS_RETENTION_DAYS`` (pruned every day)."""

    name = models.CharField(max_length=24, choices=FunnelStep.choices)
    # Ids, not foreign keys: an event names what the request named (even a type deleted
    # since, or one that never existed) and is written without a lookup.
    user_id = models.BigIntegerField(null=True, blank=True)
    visitor = models.CharField(max_length=32, blank=True)
    coach_id = models.BigIntegerField(null=True, blank=True)
    session_type_id = models.BigIntegerField(null=True, blank=True)
    via = models.CharField(max_length=8, default="page", help_text=_("page or api"))
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["coach_id", "created_at"], name="analytics_coach_created")]

    def __str__(self) -> str:
        return f"{self.name} at {self.created_at:%Y-%m-%d %H:%M}"


class CancelledBy(models.TextChoices):
    NOBODY = "", _("Not cancelled")
    CLIENT = "client", _("Client")
    COACH = "coach", _("Coach")
    STAFF = "staff", _("Staff")
    SYSTEM = "system", _("The system")


# A quarter of an hour: every time zone's offset is a whole number of them, so a bucket never
# straddles a local day or hour anywhere, and a viewer's days, weeks and weekday × hour cells
# are exact sums of whole buckets in every zone, across DST changes.
BUCKET_MINUTES = 15


class BookingFact(models.Model):
    """What the reports know of one booking, one row per booking, kept by the reports'
    consumer of the booking event stream (``reports.rollups``). Ids, not foreign keys: a
    row is rewritten whole from the booking, never joined back to it."""

    booking_id = models.BigIntegerField(primary_key=True)
    session_id = models.BigIntegerField()
    client_id = models.BigIntegerField()
    coach_id = models.BigIntegerField()
    session_type_id = models.BigIntegerField()
    resource_id = models.BigIntegerField(default=0, help_text=_("0: no room."))
    kind = models.CharField(max_length=16)
    status = models.CharField(max_length=16)
    currency = models.CharField(max_length=3)
    start = models.DateTimeField()
    bucket = models.DateTimeField(help_text=_("The start, to the quarter hour below (UTC)."))
    minutes = models.PositiveIntegerField(help_text=_("The session's length."))
    held_minutes = models.PositiveIntegerField(
        default=0, help_text=_("The session's length on one of its bookings that hold or used the coach's time.")
    )
    was_request = models.BooleanField(default=False)
    approved = models.BooleanField(default=False)
    approval_minutes = models.PositiveIntegerField(default=0)
    cancelled_by = models.CharField(max_length=8, choices=CancelledBy.choices, blank=True)
    late = models.BooleanField(default=False)
    cancel_lead_minutes = models.IntegerField(default=0)
    value_minor = models.BigIntegerField(default=0)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    actual_minutes = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        indexes = [
            # bucket first for a range; status and client for the clients' figures (read from the index alone).
            models.Index(fields=["bucket", "status", "client_id"], name="fact_bucket_status_client"),
            models.Index(fields=["coach_id", "bucket"], name="fact_coach_bucket"),
            models.Index(fields=["session_id"], name="fact_session"),
            # Whether a client came before a range (with anyone; with one coach).
            models.Index(fields=["client_id", "start"], name="fact_client_start"),
            models.Index(fields=["client_id", "coach_id", "start"], name="fact_client_coach_start"),
        ]

    def __str__(self) -> str:
        return f"booking {self.booking_id}: {self.status}"


class RollupSums(models.Model):
    """What a rollup row sums of its bookings (``reports.rollups.SUMS`` says how)."""

    bookings = models.PositiveIntegerField(default=0)
    requests = models.PositiveIntegerField(default=0)
    approved = models.PositiveIntegerField(default=0)
    approval_minutes = models.BigIntegerField(default=0)
    cancelled_client = models.PositiveIntegerField(default=0)
    cancelled_coach = models.PositiveIntegerField(default=0)
    cancelled_staff = models.PositiveIntegerField(default=0)
    cancelled_system = models.PositiveIntegerField(default=0)
    late = models.PositiveIntegerField(default=0)
    cancel_lead_minutes = models.BigIntegerField(default=0)
    minutes = models.BigIntegerField(default=0)
    held_minutes = models.BigIntegerField(default=0)
    value_minor = models.BigIntegerField(default=0)
    ratings = models.PositiveIntegerField(default=0)
    rating_sum = models.PositiveIntegerField(default=0)
    timed = models.PositiveIntegerField(default=0)
    actual_minutes = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class BookingRollup(RollupSums):
    """The booking facts summed per quarter hour, coach, session type, room, status and
    currency: what the report pages read when they are narrowed to a coach, a type or a
    room, or when the viewer's zone is not a whole number of hours from UTC."""

    bucket = models.DateTimeField()
    coach_id = models.BigIntegerField()
    session_type_id = models.BigIntegerField()
    resource_id = models.BigIntegerField(default=0)
    status = models.CharField(max_length=16)
    currency = models.CharField(max_length=3)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["bucket", "coach_id", "session_type_id", "resource_id", "status", "currency"],
                name="rollup_one_row_per_key",
            )
        ]
        indexes = [models.Index(fields=["coach_id", "bucket"], name="rollup_coach_bucket")]

    def __str__(self) -> str:
        return f"{self.bucket:%Y-%m-%d %H:%M} coach {self.coach_id} {self.status}: {self.bookings}"


# The practice-wide rollups: an hour (UTC) instead of a quarter, and no coach, type or room.
# A practice's bookings are sparse per coach (a few a day), so the quarter-hour rows are
# nearly one per booking; summed over every coach an hour holds many. A viewer whose zone is
# a whole number of hours from UTC over the range (nearly every zone) has days, weeks and
# hours that are whole UTC hours, so the unnarrowed pages read these, exactly.
PRACTICE_BUCKET_MINUTES = 60


class PracticeRollup(RollupSums):
    """The booking rollups summed per hour (UTC), status and currency over every coach."""

    bucket = models.DateTimeField()
    status = models.CharField(max_length=16)
    currency = models.CharField(max_length=3)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bucket", "status", "currency"], name="practice_rollup_one_row_per_key")
        ]

    def __str__(self) -> str:
        return f"{self.bucket:%Y-%m-%d %H:%M} {self.status}: {self.bookings}"


class RollupState(models.Model):
    """One row: locked while the rollups are written (the consumer, a rebuild), so two
    writers never interleave; says when they were last rebuilt."""

    rebuilt_at = models.DateTimeField(null=True, blank=True)
    # The last analytics event folded into the funnel's rollups (reports.visits).
    funnel_through = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"rollups rebuilt at {self.rebuilt_at}"


class FunnelRollup(models.Model):
    """Visits that reached each step of the booking funnel, per quarter hour (UTC), coach
    and session type (0: none named). A visit is one visitor's steps of one kind on one UTC
    day, counted in the quarter hour of the first of them folded; a step recorded without a
    browser session counts alone. Kept by ``reports.visits`` from the analytics events."""

    bucket = models.DateTimeField()
    coach_id = models.BigIntegerField(default=0)
    session_type_id = models.BigIntegerField(default=0)
    step = models.CharField(max_length=24, choices=FunnelStep.choices)
    visits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["bucket", "coach_id", "session_type_id", "step"], name="funnel_rollup_one_row_per_key"
            )
        ]
        indexes = [models.Index(fields=["coach_id", "bucket"], name="funnel_rollup_coach_bucket")]

    def __str__(self) -> str:
        return f"{self.bucket:%Y-%m-%d %H:%M} coach {self.coach_id} {self.step}: {self.visits}"


class DemandRollup(models.Model):
    """Times chosen on the booking pages (the funnel's "time chosen"), per quarter hour
    (UTC) of the time chosen, coach and session type (0: none named)."""

    bucket = models.DateTimeField()
    coach_id = models.BigIntegerField(default=0)
    session_type_id = models.BigIntegerField(default=0)
    chosen = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bucket", "coach_id", "session_type_id"], name="demand_one_row_per_key")
        ]
        indexes = [models.Index(fields=["coach_id", "bucket"], name="demand_coach_bucket")]

    def __str__(self) -> str:
        return f"{self.bucket:%Y-%m-%d %H:%M} coach {self.coach_id}: {self.chosen}"


class PracticeFunnel(models.Model):
    """``FunnelRollup`` summed per hour (UTC) and step over every coach and type."""

    bucket = models.DateTimeField()
    step = models.CharField(max_length=24, choices=FunnelStep.choices)
    visits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bucket", "step"], name="practice_funnel_one_row_per_key")]

    def __str__(self) -> str:
        return f"{self.bucket:%Y-%m-%d %H:%M} {self.step}: {self.visits}"


class PracticeDemand(models.Model):
    """``DemandRollup`` summed per hour (UTC) of the time chosen over every coach and type."""

    bucket = models.DateTimeField(unique=True)
    chosen = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.bucket:%Y-%m-%d %H:%M}: {self.chosen}"
