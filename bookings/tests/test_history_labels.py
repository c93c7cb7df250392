"""Every change a booking's history can show has its own words (translated), never the
raw action name ("held_for_payment")."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

from bookings.manage_views import ACTION_LABELS

# The event's action as the services write it: ``action="…"`` or ``_record(booking, "…"``.
WRITTEN = re.compile(r'(?:\baction="([a-z_]+)"|\b_record\(\s*\w+,\s*"([a-z_]+)")')
APPS = ("bookings", "payments", "waitlist", "intake", "pages")


def test_every_action_the_services_record_has_a_label():
    recorded = set()
    for app in APPS:
        for path in (Path(settings.BASE_DIR) / app).rglob("*.py"):
            if {"tests", "migrations", "management"} & set(path.parts):
                continue
            for match in WRITTEN.finditer(path.read_text()):
                recorded.add(match.group(1) or match.group(2))
    assert {"held_for_payment", "paid", "payment_expired", "seat_taken"} <= recorded
    assert recorded - set(ACTION_LABELS) == set()
