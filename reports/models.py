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
