"""A coach's own calendars, read for busy times.

A ``CalendarConnection`` is one calendar a coach connected: today a calendar's address
(ICS, ``webcal://`` — Google's, Apple's or Outlook's secret address). Each sync replaces
the busy times read from it, which live in the scheduling ledger as ``Allocation`` rows of
kind ``external`` (``availability.models``), so the slot engine and the booking services
see them like any other busy time. What the events say (titles, places, people) is never
kept: only when they are."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ConnectionKind(models.TextChoices):
    ICS = "ics", _("Calendar address (ICS)")


class CalendarConnection(models.Model):
    coach = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_connections", verbose_name=_("coach")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=ConnectionKind.choices, default=ConnectionKind.ICS)
    name = models.CharField(_("name"), max_length=80)
    # A secret address: whoever has it reads the calendar. Shown to its coach only, masked.
    url = models.URLField(_("address"), max_length=2000)
    all_day_busy = models.BooleanField(
        _("all-day events make me busy"),
        default=True,
        help_text=_("Off: all-day events (birthdays, reminders, a trip you still work on) leave the day free."),
    )
    free_events_busy = models.BooleanField(
        _("events shown as free make me busy"),
        default=False,
        help_text=_("Events marked “free” or “available” in your calendar leave the time free unless this is on."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The last attempt, the last success (busy times as of then) and, when the last attempt
    # failed, why, in plain words; the busy times of the last success stay until the next.
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    failures = models.PositiveIntegerField(default=0)
    # What the calendar's server said last, to ask "anything new?" next time.
    etag = models.CharField(max_length=200, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    # The calendar as last read (sha256), for a server that never answers "nothing new".
    digest = models.CharField(max_length=64, blank=True)
    # The busy times read run until here (the expansion of recurring events).
    busy_until = models.DateTimeField(null=True, blank=True)
    # How many busy times that read gave (events at the same time count once).
    events = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["coach", "name", "pk"]
        verbose_name = _("connected calendar")
        verbose_name_plural = _("connected calendars")
        indexes = [models.Index(fields=["is_active", "last_attempt_at"], name="calconn_due")]

    def __str__(self) -> str:
        return f"{self.name} ({self.coach})"

    @property
    def masked_url(self) -> str:
        """The address with its secret part hidden: enough to recognise it."""
        parts = urlsplit(self.url)
        path = parts.path
        shown = path if len(path) <= 16 else f"{path[:12]}…{path[-4:]}"
        return f"{parts.scheme}://{parts.hostname or ''}{shown}"
