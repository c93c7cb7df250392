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
    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="waitlist_entries")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The client, their guardian, staff or the coach."),
    )
    session = models.ForeignKey("bookings.Session", on_delete=models.CASCADE, related_name="waitlist_entries")
    status = models.CharField(max_length=16, choices=EntryStatus.choices, default=EntryStatus.WAITING)
    joined_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=200, blank=True)
    # Staff's move by hand: score points added to (or taken from) the entry's own score.
    adjustment = models.FloatField(default=0.0)
    adjustment_reason = models.TextField(blank=True)
    booking = models.ForeignKey(
        "bookings.Booking", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    class Meta:
        ordering = ["joined_at", "pk"]
        verbose_name_plural = _("waitlist entries")
        indexes = [models.Index(fields=["session", "status", "joined_at"], name="waitlist_session_status")]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "client"],
                condition=Q(status__in=["waiting", "offered"]),
                name="waitlist_one_open_entry_per_client",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client} waits for {self.session_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class OfferStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for an answer")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class WaitlistOffer(models.Model):
    """A seat held for one entry until ``expires_at``. ``score`` and ``factors`` are the
    entry's priority when the offer was made (what put it first)."""

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers")
    session = models.ForeignKey("bookings.Session", on_delete=models.CASCADE, related_name="waitlist_offers")
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
