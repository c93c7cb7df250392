"""``manage.py apply_retention [--dry-run]``: apply the retention policy now (the daily task
does the same), or with ``--dry-run`` only count what it would remove."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from pages import retention


class Command(BaseCommand):
    help = "Delete or anonymise what the retention policy (RETENTION_YEARS) no longer keeps."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count what would go; change nothing.")

    def handle(self, *args, dry_run: bool = False, **options):
        done = retention.apply(dry_run=dry_run)
        verb = "would remove" if dry_run else "removed"
        for kind, count in done.items():
            years = settings.RETENTION_YEARS.get(kind)
            if count is None:
                self.stdout.write(f"{kind}: kept for ever")
            else:
                self.stdout.write(f"{kind} (older than {years} years): {verb} {count}")
