"""A coach's own calendars, read for busy times.

A ``CalendarConnection`` is one calendar a coach connected: a calendar's address (ICS,
``webcal://`` — Google's, Apple's or Outlook's secret address), or an account — CalDAV
(iCloud, Fastmail, Nextcloud, Google's CalDAV…), Google Calendar or Microsoft 365 through
their APIs (OAuth) — whose chosen calendars are read and into one of which the coach's
bookings may be written (``WrittenEvent``). Each sync replaces
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
    CALDAV = "caldav", _("CalDAV account")
    GOOGLE = "google", _("Google Calendar")
    MICROSOFT = "microsoft", _("Outlook (Microsoft 365)")


# Connections whose calendars are chosen and written into (an account, not one address).
ACCOUNT_KINDS = (ConnectionKind.CALDAV, ConnectionKind.GOOGLE, ConnectionKind.MICROSOFT)
OAUTH_KINDS = (ConnectionKind.GOOGLE, ConnectionKind.MICROSOFT)


class CalendarConnection(models.Model):
    coach = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_connections", verbose_name=_("coach")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=ConnectionKind.choices, default=ConnectionKind.ICS)
    name = models.CharField(_("name"), max_length=80)
    # A secret address: whoever has it reads the calendar. Shown to its coach only, masked.
    # For a CalDAV account, the server's address.
    url = models.URLField(_("address"), max_length=2000)
    # A CalDAV account's user name and password (an app password), the password encrypted
    # (``config.crypto``); never shown again once given.
    username = models.CharField(_("user name"), max_length=200, blank=True)
    password_encrypted = models.TextField(blank=True)
    # A Google or Microsoft account's OAuth tokens (JSON: access and refresh token),
    # encrypted like the password, and when the access token runs out.
    token_encrypted = models.TextField(blank=True)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    # The account's calendars as last discovered: [{"url", "name", "read"}] ("url" is a
    # Google or Microsoft calendar's id); the busy times come from those with "read" on.
    calendars = models.JSONField(default=list, blank=True)
    # The calendar of the account the coach's bookings are written into ("" = none); for
    # Google and Microsoft the calendar's id.
    write_url = models.URLField(_("write bookings into"), max_length=2000, blank=True)
    private_details = models.BooleanField(
        _("hide the details"),
        default=False,
        help_text=_("Bookings written into your calendar say only “Busy”: no client name, no link, no notes."),
    )
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
    def is_account(self) -> bool:
        """An account (CalDAV, Google, Microsoft): calendars chosen, bookings written."""
        return self.kind in ACCOUNT_KINDS

    @property
    def masked_url(self) -> str:
        """The address with its secret part hidden: enough to recognise it."""
        parts = urlsplit(self.url)
        path = parts.path
        shown = path if len(path) <= 16 else f"{path[:12]}…{path[-4:]}"
        return f"{parts.scheme}://{parts.hostname or ''}{shown}"


class WrittenEvent(models.Model):
    """A booking (a one-on-one) or a session (a group session or workshop) of the coach's as
    an event in their CalDAV, Google or Microsoft calendar. The booking event stream marks it ``pending``; the
    writer then makes the calendar say what the database says now (written, moved, or
    deleted), so events handled twice or out of order write the same thing."""

    connection = models.ForeignKey(CalendarConnection, on_delete=models.CASCADE, related_name="written")
    # booking-<id>@<site host> or session-<id>@<site host>: the UID of the feeds and
    # invitations, which the reading side recognises and never reads back as busy.
    uid = models.CharField(max_length=255)
    booking = models.ForeignKey("bookings.Booking", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    session = models.ForeignKey("bookings.Session", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Where the event is on the server once written (its URL; for Google and Microsoft
    # "<calendar id>/<event id>", quoted), and what was written (sha256).
    href = models.CharField(max_length=2000, blank=True)
    digest = models.CharField(max_length=64, blank=True)
    pending = models.BooleanField(default=True)
    # Bumped at each marking: a write finishes the row only if nobody marked it meanwhile.
    version = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    written_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "uid"], name="written_event_once")]
        indexes = [models.Index(fields=["pending", "next_attempt_at"], name="written_event_due")]

    def __str__(self) -> str:
        return self.uid
