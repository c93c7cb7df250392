"""The waitlist: who waits for a seat in a full group session or workshop, and the seats
offered to them.

An entry waits until a seat frees; the relay's consumer (``waitlist.consumer``) then
offers it to the best-placed entry (``waitlist.scoring``), holding the seat for them
(``Session.seats_held``) until they accept (the seat becomes their booking), decline, or
let the offer expire — then it goes to the next. An entry is open while it waits or holds
an offer; a client has at most one open entry per session (a database constraint), and an
entry at most one pending offer.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EntryStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    OFFERED = "offered", _("Offered a seat")
    BOOKED = "booked", _("Booked")
    LEFT = "left", _("Left the waitlist")
    DECLINED = "declined", _("Declined the seat")
    MISSED = "missed", _("The offer expired")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = (EntryStatus.WAITING, EntryStatus.OFFERED)


class WaitlistEntry(models.Model):
    """Who waits: for a seat in one full group session or workshop (``session``), or for
    one-on-one time with a coach (``session_type``) on some days of the week, within some
    hours of the client's day (``time_ranges`` in ``zone``), between two dates — an entry
    of the second kind expires at the end of ``date_to``."""

    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="waitlist_entries")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The client, their guardian, staff or the coach."),
    )
    session = models.ForeignKey(
        "bookings.Session", null=True, blank=True, on_delete=models.CASCADE, related_name="waitlist_entries"
    )
    coach = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="waitlisted_by", db_index=False
    )
    session_type = models.ForeignKey(
        "bookings.SessionType", null=True, blank=True, on_delete=models.CASCADE, related_name="waitlist_entries"
    )
    days_of_week = models.JSONField(default=list, blank=True, help_text=_("0 Monday … 6 Sunday."))
    time_ranges = models.JSONField(
        default=list, blank=True, help_text=_('Wall-clock ranges in the client\'s zone, e.g. [["09:00", "12:00"]].')
    )
    zone = models.CharField(max_length=64, blank=True, help_text=_("The client's time zone when they joined."))
    date_from = models.DateField(null=True, blank=True)
    date_to = models.DateField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text=_("The end of date_to, in the client's zone."))
    status = models.CharField(max_length=16, choices=EntryStatus.choices, default=EntryStatus.WAITING)
    joined_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=200, blank=True)
    # The place in line the client was last told (at joining, then when they move up into
    # the first few places): a move is told once.
    told_position = models.PositiveIntegerField(null=True, blank=True)
    # Staff's move by hand: score points added to (or taken from) the entry's own score.
    adjustment = models.FloatField(default=0.0)
    adjustment_reason = models.TextField(blank=True)
    booking = models.ForeignKey(
        "bookings.Booking", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    class Meta:
        ordering = ["joined_at", "pk"]
        verbose_name_plural = _("waitlist entries")
        indexes = [
            models.Index(fields=["session", "status", "joined_at"], name="waitlist_session_status"),
            models.Index(
                fields=["coach", "session_type"],
                condition=Q(status="waiting", session__isnull=True),
                name="waitlist_times_waiting",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "client"],
                condition=Q(status__in=["waiting", "offered"]),
                name="waitlist_one_open_entry_per_client",
            ),
            models.UniqueConstraint(
                fields=["session_type", "client"],
                condition=Q(status__in=["waiting", "offered"], session__isnull=True),
                name="waitlist_one_open_times_entry",
            ),
            models.CheckConstraint(
                condition=(Q(session__isnull=False) & Q(session_type__isnull=True))
                | (Q(session__isnull=True) & Q(session_type__isnull=False) & Q(expires_at__isnull=False)),
                name="waitlist_session_or_times",
            ),
        ]

    def __str__(self) -> str:
        what = f"session {self.session_id}" if self.session_id else f"type {self.session_type_id}"
        return f"{self.client} waits for {what} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def for_times(self) -> bool:
        """Waits for one-on-one time (preferences), not a seat in one session."""
        return self.session_id is None


class OfferStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for an answer")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    TAKEN = "taken", _("Taken by someone else")


class WaitlistOffer(models.Model):
    """A seat held for one entry until ``expires_at``; or a one-on-one time (``start`` of
    ``session_type``) held by ``hold`` — a tentative allocation of the coach's time shared
    by the offers made for it at once (the first to accept takes it). ``score`` and
    ``factors`` are the entry's priority when the offer was made (what put it first)."""

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers")
    session = models.ForeignKey(
        "bookings.Session", null=True, blank=True, on_delete=models.CASCADE, related_name="waitlist_offers"
    )
    session_type = models.ForeignKey(
        "bookings.SessionType", null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    start = models.DateTimeField(null=True, blank=True)
    hold = models.ForeignKey(
        "availability.Allocation", null=True, blank=True, on_delete=models.PROTECT, related_name="waitlist_offers"
    )
    status = models.CharField(max_length=16, choices=OfferStatus.choices, default=OfferStatus.PENDING)
    offered_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    score = models.FloatField(default=0.0)
    factors = models.JSONField(default=dict, blank=True)
    booking = models.ForeignKey(
        "bookings.Booking", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    class Meta:
        ordering = ["-offered_at", "-pk"]
        indexes = [
            models.Index(fields=["expires_at"], condition=Q(status="pending"), name="waitlist_offer_pending"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["entry"], condition=Q(status="pending"), name="waitlist_one_pending_offer"),
            models.CheckConstraint(condition=Q(expires_at__gt=models.F("offered_at")), name="waitlist_offer_expires"),
        ]

    def __str__(self) -> str:
        return f"Offer {self.pk} to entry {self.entry_id} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status == OfferStatus.PENDING


class WaitlistMove(models.Model):
    """Staff moved an entry by hand: from where to where, why, and the score points that
    put it there (``WaitlistEntry.adjustment``)."""

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="moves")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    from_position = models.PositiveIntegerField()
    to_position = models.PositiveIntegerField()
    adjustment = models.FloatField(help_text=_("The entry's adjustment after the move, in score points."))
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Entry {self.entry_id}: {self.from_position} → {self.to_position}"
