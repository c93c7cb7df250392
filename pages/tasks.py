"""Background work on the django-q2 cluster (schedules created by migration 0002)."""

from __future__ import annotations


def run_erasures() -> int:
    """Every hour: erase the accounts whose erasure request's grace period is over."""
    from pages import erasure

    return erasure.run_due()


def apply_retention() -> dict:
    """Every day: delete or anonymise what the retention policy no longer keeps."""
    from pages import retention

    return retention.apply()
