"""When coaches work, in their own wall-clock time, the rooms and equipment sessions use,
and the ledger of busy time (``Allocation``) that conflict checks and the slot engine read.

Times here are local to the coach's zone (``User.timezone``) so that a DST change moves
nothing a coach wrote; the slot engine turns them into UTC instants.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from recurrence.fields import RecurrenceField

from accounts.validators import validate_timezone


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class AvailabilityWindow(models.Model):
    """A recurring stretch of bookable time: every ``weekday`` (or by ``recurrence``), from
    ``start`` to ``end`` local time, optionally only between two dates."""

    coach = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="availability_windows")
    weekday = models.PositiveSmallIntegerField(
        choices=Weekday.choices,
        null=True,
        blank=True,
        validators=[MaxValueValidator(6)],
        help_text=_("Leave empty when a recurrence rule decides the days."),
    )
    recurrence = RecurrenceField(
        null=True, blank=True, help_text=_("Optional rule (e.g. every other Monday) used instead of the weekday.")
    )
    start = models.TimeField(help_text=_("Local time in the coach's zone."))
    end = models.TimeField()
    valid_from = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)
    session_types = models.ManyToManyField(
        "bookings.SessionType",
        blank=True,
        related_name="availability_windows",
        help_text=_("Leave empty to offer every session type in this window."),
    )
    allow_firm_booking = models.BooleanField(
        _("firm booking allowed"),
        default=True,
        help_text=_("Off: every booking in this window is a request for you to approve."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["coach", "weekday", "start"]
        indexes = [models.Index(fields=["coach", "weekday"], name="avail_window_coach_day")]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="avail_window_end_after_start"),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_until__gte=F("valid_from")),
                name="avail_window_valid_range",
            ),
            models.CheckConstraint(
                condition=Q(weekday__isnull=True) | Q(weekday__gte=0, weekday__lte=6), name="avail_window_weekday_0_6"
            ),
        ]

    def __str__(self) -> str:
        day = self.get_weekday_display() if self.weekday is not None else gettext("By rule")
        return f"{day} {self.start:%H:%M}–{self.end:%H:%M}"


class DateOverride(models.Model):
    """One local day that doesn't follow the weekly pattern: a day off (no windows), or its
    own windows instead of the weekly ones."""

    coach = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="date_overrides")
    date = models.DateField()
    reason = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["coach", "date"]
        constraints = [models.UniqueConstraint(fields=["coach", "date"], name="unique_override_per_day")]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} ({self.reason or gettext('override')})"

    @property
    def is_day_off(self) -> bool:
        # all() uses the prefetched windows when there are some, so a list costs no query each.
        return not self.windows.all()


class OverrideWindow(models.Model):
    override = models.ForeignKey(DateOverride, on_delete=models.CASCADE, related_name="windows")
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        ordering = ["override", "start"]
        constraints = [models.CheckConstraint(condition=Q(end__gt=F("start")), name="override_window_end_after_start")]

    def __str__(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}"


class TimeOff(models.Model):
    """Holidays and other absences: whole local days from ``start_date`` to ``end_date``."""

    coach = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="time_off")
    start_date = models.DateField()
    end_date = models.DateField()
    reason = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["coach", "start_date"]
        verbose_name_plural = _("time off")
        indexes = [models.Index(fields=["coach", "end_date"], name="time_off_coach_end")]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="time_off_end_not_before_start")
        ]

    def __str__(self) -> str:
        return f"{self.start_date:%Y-%m-%d} → {self.end_date:%Y-%m-%d} ({self.reason or gettext('time off')})"


class ResourceKind(models.TextChoices):
    ROOM = "room", _("Room")
    EQUIPMENT = "equipment", _("Equipment")
    ONLINE = "online", _("Online room")


class Resource(models.Model):
    """A room or piece of equipment that a session may need; booked through allocations.

    Open when its opening hours (``ResourceHours``, wall-clock times in ``timezone``) say
    so and no closure covers the day; a resource without opening hours is open around the
    clock. A group session's seats never exceed its room's ``capacity``."""

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=ResourceKind.choices, default=ResourceKind.ROOM)
    capacity = models.PositiveIntegerField(
        _("capacity"), default=1, validators=[MinValueValidator(1)], help_text=_("How many people it holds.")
    )
    location = models.CharField(_("location"), max_length=200, blank=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    timezone = models.CharField(
        _("time zone"),
        max_length=64,
        default="UTC",
        validators=[validate_timezone],
        help_text=_("The zone its opening hours are written in."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=1), name="resource_capacity_positive"),
            models.UniqueConstraint(fields=["name", "location"], name="unique_resource_name_location"),
        ]

    def __str__(self) -> str:
        return self.name if not self.location else f"{self.name} ({self.location})"


class ResourceHours(models.Model):
    """Opening hours of a resource: every ``weekday`` from ``start`` to ``end``, wall-clock
    time in the resource's zone."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(_("day"), choices=Weekday.choices, validators=[MaxValueValidator(6)])
    start = models.TimeField(_("opens"))
    end = models.TimeField(_("closes"))

    class Meta:
        ordering = ["resource", "weekday", "start"]
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="resource_hours_end_after_start"),
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="resource_hours_weekday_0_6"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"


class ResourceClosure(models.Model):
    """Whole local days (in the resource's zone) a resource is closed: works, holidays."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="closures")
    start_date = models.DateField(_("first day"))
    end_date = models.DateField(_("last day"))
    reason = models.CharField(_("reason"), max_length=120, blank=True)

    class Meta:
        ordering = ["resource", "start_date"]
        verbose_name = _("closure")
        verbose_name_plural = _("closures")
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="resource_closure_end_not_before")
        ]

    def __str__(self) -> str:
        return f"{self.start_date:%Y-%m-%d} → {self.end_date:%Y-%m-%d} ({self.reason or gettext('closed')})"


class TagRule(models.Model):
    """Booking rules for the clients wearing ``tag``: for one session type, or (type empty)
    for every type of the tag's coach (every coach, for a practice-wide tag). Each blank
    field follows the session type and the coach; a set one overrides them. Resolved by
    ``availability.rules.rules_for``, which also says which rule decided."""

    tag = models.ForeignKey("accounts.ClientTag", on_delete=models.CASCADE, related_name="rules")
    session_type = models.ForeignKey(
        "bookings.SessionType",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tag_rules",
        help_text=_("Empty: every session type."),
    )
    approval = models.CharField(
        _("approval"),
        max_length=16,
        blank=True,
        choices=[("always", _("Every booking is a request")), ("never", _("Never needs approval"))],
        help_text=_("Empty: follow the session type and the coach."),
    )
    minimum_notice_hours = models.PositiveIntegerField(
        _("minimum notice (hours)"), null=True, blank=True, validators=[MaxValueValidator(24 * 30)]
    )
    booking_window_days = models.PositiveIntegerField(
        _("booking window (days)"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    max_per_day = models.PositiveIntegerField(
        _("most sessions a day"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(48)]
    )
    max_per_week = models.PositiveIntegerField(
        _("most sessions a week"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(200)]
    )
    price_adjustment_percent = models.IntegerField(
        _("price adjustment (%)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(-100), MaxValueValidator(100)],
        help_text=_("For example -20 for a sliding-scale discount; applied when payments are on."),
    )
    waitlist_priority = models.PositiveSmallIntegerField(
        _("waitlist priority bonus"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(100)],
        help_text=_("Points (0–100) added to a waiting client's priority once waitlists exist."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["tag", "session_type"]
        verbose_name = _("tag rule")
        verbose_name_plural = _("tag rules")
        constraints = [
            models.UniqueConstraint(fields=["tag", "session_type"], name="tag_rule_one_per_type"),
            models.UniqueConstraint(
                fields=["tag"], condition=Q(session_type__isnull=True), name="tag_rule_one_for_all_types"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tag} · {self.session_type or gettext('every type')}"


class AllocationKind(models.TextChoices):
    SESSION = "session", _("Session")
    REQUEST = "request", _("Request holding a slot")
    BLOCK = "block", _("Blocked time")
    HOLD = "hold", _("Held for a waitlist offer")
    # An event of the coach's own calendar (``calendar_sync``): busy, never a session. These
    # may overlap each other and the coach's sessions (the database's exclusion constraint
    # leaves them out); the services and the slot engine treat them as any busy time.
    EXTERNAL = "external", _("Busy in the coach's own calendar")


class Allocation(models.Model):
    """The single ledger of “X is busy from A to B”: a staff member or a resource.

    ``start``/``end`` are the session's own times; ``blocked_start``/``blocked_end`` add the
    coach's buffers. Conflict detection and the slot engine read only active rows, through
    the (staff, blocked_start) index, so the cost doesn't grow with a coach's history.
    ``session`` names ``bookings.Session`` by string: the booking side that holds the time;
    ``calendar`` names ``calendar_sync.CalendarConnection``: the calendar an ``external`` row
    was read from (no event lasts more than a day here: a longer one is kept in pieces).
    """

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="allocations"
    )
    resource = models.ForeignKey(
        "availability.Resource", null=True, blank=True, on_delete=models.PROTECT, related_name="allocations"
    )
    session = models.ForeignKey(
        "bookings.Session", null=True, blank=True, on_delete=models.PROTECT, related_name="allocations"
    )
    calendar = models.ForeignKey(
        "calendar_sync.CalendarConnection", null=True, blank=True, on_delete=models.CASCADE, related_name="busy"
    )
    kind = models.CharField(max_length=16, choices=AllocationKind.choices, default=AllocationKind.SESSION)
    start = models.DateTimeField()
    end = models.DateTimeField()
    blocked_start = models.DateTimeField()
    blocked_end = models.DateTimeField()
    counts_toward_limits = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # The table was created by the bookings app and keeps its name (and, on
        # PostgreSQL, the exclusion constraints of bookings' migration 0004).
        db_table = "bookings_allocation"
        ordering = ["start"]
        indexes = [
            models.Index(
                fields=["staff", "blocked_start"], condition=Q(is_active=True), name="alloc_active_staff_start"
            ),
            models.Index(
                fields=["resource", "blocked_start"], condition=Q(is_active=True), name="alloc_active_res_start"
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="alloc_end_after_start"),
            models.CheckConstraint(
                condition=Q(blocked_start__lte=F("start")) & Q(blocked_end__gte=F("end")), name="alloc_blocked_covers"
            ),
            models.CheckConstraint(
                condition=(Q(staff__isnull=False) & Q(resource__isnull=True))
                | (Q(staff__isnull=True) & Q(resource__isnull=False)),
                name="alloc_staff_xor_resource",
            ),
        ]

    def __str__(self) -> str:
        who = self.staff or self.resource
        return f"{who}: {self.start:%Y-%m-%d %H:%M}–{self.end:%H:%M} UTC"
