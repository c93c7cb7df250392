"""Encrypt every stored secret again under the first key of ``FIELD_ENCRYPTION_KEYS``.

Rotation: put a new key first (keeping the old ones after it), deploy, run this, then
remove the old keys. It goes through every ``EncryptedTextField`` and every plain column an
app registered (``config.crypto.register_encrypted_column``), so it lives here, in the
lowest app, and knows no model by name."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from config import crypto

SHOWN_IDS = 20  # of the values no key opens, per column


class Command(BaseCommand):
    help = (
        "Encrypt every stored secret again under the first key of FIELD_ENCRYPTION_KEYS, so the "
        "keys after it can be removed. Values already under the first key are left alone."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be encrypted again; change nothing."
        )
        parser.add_argument("--batch-size", type=int, default=500, help="Rows per transaction (default 500).")

    def handle(self, *args, dry_run: bool, batch_size: int, **options) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        verb = "would be encrypted again" if dry_run else "encrypted again"
        unreadable = 0
        for model, field in crypto.encrypted_columns():
            outcome = crypto.rotate_column(model, field, batch_size=batch_size, dry_run=dry_run)
            line = f"{outcome.label}: {outcome.rotated} {verb}, {outcome.current} already under the first key"
            if outcome.unreadable:
                ids = ", ".join(str(pk) for pk in outcome.unreadable[:SHOWN_IDS])
                if len(outcome.unreadable) > SHOWN_IDS:
                    ids += f" and {len(outcome.unreadable) - SHOWN_IDS} more"
                line += f", {len(outcome.unreadable)} that no key opens (left as they are; ids {ids})"
            self.stdout.write(line)
            unreadable += len(outcome.unreadable)
        if dry_run:
            self.stdout.write("Dry run: nothing was changed.")
        if unreadable:
            raise CommandError(
                f"{unreadable} stored value(s) could not be opened with any key in FIELD_ENCRYPTION_KEYS "
                "and were left as they are (listed above): put back the key that encrypted them and run "
                "this again, or have their owners enter them again. Keep the old keys until then."
            )
