"""Rebuild the reports' facts and rollups from the bookings (after a restore, or to check
them: a rebuild gives the same rows the event stream's consumer keeps)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from reports.rollups import rebuild


class Command(BaseCommand):
    help = "Rebuild the reports' booking facts and rollups from the bookings."

    def handle(self, *args, **options) -> None:
        started = time.perf_counter()
        facts, rollups = rebuild()
        seconds = time.perf_counter() - started
        self.stdout.write(f"{facts} booking facts, {rollups} rollup rows, in {seconds:.1f} s.")
