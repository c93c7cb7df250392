"""Rebuild the reports' facts and rollups from the bookings, and the booking funnel's from
the analytics events kept (after a restore, or to check them: a rebuild gives the same rows
the event stream's consumer and the funnel's fold keep)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from reports import visits
from reports.rollups import rebuild


class Command(BaseCommand):
    help = "Rebuild the reports' booking facts and rollups, and the booking funnel's rollups."

    def handle(self, *args, **options) -> None:
        started = time.perf_counter()
        facts, rollups = rebuild()
        events = visits.rebuild()
        seconds = time.perf_counter() - started
        self.stdout.write(
            f"{facts} booking facts, {rollups} rollup rows, {events} funnel events folded, in {seconds:.1f} s."
        )
