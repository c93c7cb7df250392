"""Delivery when workers die: due reminders are sent by a real ``manage.py qcluster``
(the ORM broker, several worker processes, a file standing in for the email provider);
once some but not all emails are out the cluster's whole process group gets SIGKILL, and a
new cluster finishes the work. Prints the reminders, the worker processes killed, and how
many reminders' emails went out once, twice, or never (DESIGN.md invariant 4: never zero
times; twice at most once per killed worker), and the seconds the whole scenario took.

    .venv/bin/python bench/sigkill.py [REMINDERS [WORKERS]]             # SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/booking .venv/bin/python bench/sigkill.py

The scenario is the one ``notifications/tests/test_sigkill.py`` runs (shared in
``notifications/tests/sigkill.py``); the reminders and bookings are written directly.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import setup_django

REMINDERS = 1_000
WORKERS = 3


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else REMINDERS
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else WORKERS
    os.environ["REDIS_URL"] = ""  # the ORM broker: this process queues the tasks the cluster runs
    vendor = setup_django()
    from notifications.tests import sigkill

    outcome = sigkill.run(count=count, workers=workers, database_url=os.environ["DATABASE_URL"], timeout=300)
    print(f"Worker killed mid-send ({vendor})")
    print(f"  reminders:               {outcome.reminders}")
    print(f"  killed worker processes: {outcome.killed_workers} (emails out at the kill: {outcome.sent_at_kill})")
    print(f"  sent once:               {outcome.sent_once}")
    print(f"  sent twice:              {outcome.sent_twice} (at most {outcome.killed_workers})")
    print(f"  sent more than twice:    {outcome.sent_more} (must be 0)")
    print(f"  never sent:              {outcome.never_sent} (must be 0)")
    print(f"  marked possibly sent twice in the admin: {outcome.possibly_duplicated}")
    print(f"  seconds:                 {outcome.seconds:.1f}")
    ok = outcome.never_sent == 0 and outcome.sent_more == 0 and outcome.sent_twice <= outcome.killed_workers
    if not ok:
        print(outcome.log_tails())
        sys.exit(1)


if __name__ == "__main__":
    main()
