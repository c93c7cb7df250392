"""Sessions and bookings. This module starts with the ledger every conflict check reads."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class AllocationKind(models.TextChoices):
    SESSION = "session", "Session"
    REQUEST = "request", "Request holding a slot"
    BLOCK = "block", "Blocked time"


class Allocation(models.Model):
    """The single ledger of “X is busy from A to B”: a staff member or a resource.

    ``start``/``end`` are the session's own times; ``blocked_start``/``blocked_end`` add the
    coach's buffers. Conflict detection and the slot engine read only active rows, through
    the (staff, blocked_start) index, so the cost doesn't grow with a coach's history.
    """

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="allocations"
    )
    resource = models.ForeignKey(
        "availability.Resource", null=True, blank=True, on_delete=models.PROTECT, related_name="allocations"
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
