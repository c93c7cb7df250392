"""Background work on the django-q2 cluster (schedules created by migrations 0002 and 0004)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from reports.models import AnalyticsEvent


def prune_analytics(*, now: dt.datetime | None = None, chunk: int = 5000) -> int:
    """Every day: analytics events older than ``ANALYTICS_RETENTION_DAYS`` are deleted, a
    chunk at a time (no long lock on a big table). Returns how many."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.ANALYTICS_RETENTION_DAYS)
    deleted = 0
    while True:
        ids = list(AnalyticsEvent.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[:chunk])
        if not ids:
            return deleted
        deleted += AnalyticsEvent.objects.filter(pk__in=ids).delete()[0]


def fold_funnel() -> int:
    """Every minute: the booking funnel's new analytics events into its rollups."""
    from reports import visits

    return visits.fold()
