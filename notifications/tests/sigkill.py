"""The worker-kill scenario shared by ``test_sigkill.py`` and ``bench/sigkill.py``.

``count`` due reminders are written straight into the database; a real ``manage.py
qcluster`` (its own process group, the ORM broker, ``workers`` worker processes, the
file "provider" of ``file_email``) is given ``send_due`` tasks; once some but not all
emails are out, the whole process group gets SIGKILL. A second cluster (one worker, a
claim timeout of a second) then finishes the work. The outcome says how many reminders'
emails went out once, twice, more, or never.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from notifications.tests import file_email

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Outcome:
    reminders: int
    killed_workers: int
    sent_at_kill: int = 0
    sent_once: int = 0
    sent_twice: int = 0
    sent_more: int = 0
    never_sent: int = 0
    possibly_duplicated: int = 0
    seconds: float = 0.0
    logs: list[Path] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"reminders {self.reminders}, killed worker processes {self.killed_workers} "
            f"(emails out at the kill: {self.sent_at_kill}), sent once {self.sent_once}, "
            f"sent twice {self.sent_twice}, sent more than twice {self.sent_more}, never sent {self.never_sent}, "
            f"marked possibly duplicated {self.possibly_duplicated}, {self.seconds:.1f} s"
        )

    def log_tails(self, size: int = 3000) -> str:
        # The second cluster's log exists only once it has started.
        return "\n".join(
            f"--- {path}\n{path.read_text(errors='replace')[-size:]}" for path in self.logs if path.exists()
        )


def make_due_reminders(count: int) -> list[int]:
    """``count`` confirmed bookings an hour or more ahead, each with one client reminder
    due a minute ago (room to be sent for a day); returns the reminders' ids."""
    from django.utils import timezone

    from accounts.models import Role, User
    from bookings.models import Booking, BookingStatus, Session, SessionType
    from notifications.models import Kind, Reminder

    now = timezone.now().replace(microsecond=0)
    coaches = User.objects.bulk_create(
        User(email=f"kill-coach{i}@example.com", name=f"Coach {i}", role=Role.COACH, password="!") for i in range(10)
    )
    clients = User.objects.bulk_create(
        User(email=f"kill-client{i}@example.com", name=f"Client {i}", role=Role.CLIENT, password="!")
        for i in range(100)
    )
    types = SessionType.objects.bulk_create(
        SessionType(coach=coach, title="Consultation", duration_minutes=30) for coach in coaches
    )
    sessions = Session.objects.bulk_create(
        Session(
            session_type=types[i % len(types)],
            coach=coaches[i % len(coaches)],
            start=now + dt.timedelta(hours=1, minutes=30 * (i // len(coaches))),
            end=now + dt.timedelta(hours=1, minutes=30 * (i // len(coaches)) + 30),
            seats_taken=1,
        )
        for i in range(count)
    )
    bookings = Booking.objects.bulk_create(
        Booking(
            session=session,
            client=clients[i % len(clients)],
            booked_by=clients[i % len(clients)],
            reference=f"BK-{session.start.year}-{900_000 + i:06d}",
            status=BookingStatus.CONFIRMED,
            confirmed_at=now,
        )
        for i, session in enumerate(sessions)
    )
    reminders = Reminder.objects.bulk_create(
        Reminder(
            booking=booking,
            recipient_id=booking.client_id,
            kind=Kind.SESSION_REMINDER,
            due_at=now - dt.timedelta(minutes=1),
            window=dt.timedelta(days=1),
        )
        for booking in bookings
    )
    return [row.pk for row in reminders]


def _cache_table() -> None:
    """The database cache the cluster's processes use (config.settings.base without Redis)."""
    from django.core.management import call_command
    from django.test.utils import override_settings

    cache = {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "cache_entries"}
    with override_settings(CACHES={"default": cache}):
        call_command("createcachetable", verbosity=0)


def _enqueue_send_due() -> None:
    from django_q.tasks import async_task

    async_task("notifications.tasks.send_due", task_name="send due (kill test)", sync=False)


def _queue_size() -> int:
    from django_q.brokers import get_broker

    return get_broker().queue_size()


def _start_cluster(env: dict, *, workers: int, claim_timeout: int, log: Path) -> subprocess.Popen:
    cluster_env = {**env, "Q_WORKERS": str(workers), "NOTIFICATION_CLAIM_TIMEOUT_SECONDS": str(claim_timeout)}
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "qcluster"],
            cwd=ROOT,
            env=cluster_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so the kill reaches every process
        )


def _kill_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def _handled(reminder_ids: list[int]) -> bool:
    from notifications.models import Channel, Delivery, DeliveryStatus, Reminder, ReminderStatus

    if Reminder.objects.filter(pk__in=reminder_ids, status=ReminderStatus.PENDING).exists():
        return False
    notes = Reminder.objects.filter(pk__in=reminder_ids).values("notification")
    return not Delivery.objects.filter(
        notification__in=notes, channel=Channel.EMAIL, status__in=[DeliveryStatus.QUEUED, DeliveryStatus.SENDING]
    ).exists()


def run(*, count: int, workers: int, database_url: str, timeout: float = 50.0, kill_at: float = 0.3) -> Outcome:
    """Run the scenario on ``database_url`` (the database this process uses too)."""
    from django.conf import settings

    from notifications.models import Channel, Delivery, Reminder

    started = time.monotonic()
    deadline = started + timeout
    work = Path(tempfile.mkdtemp(prefix="sigkill-"))
    outbox = work / "outbox.txt"
    outcome = Outcome(reminders=count, killed_workers=workers, logs=[work / "cluster-1.log", work / "cluster-2.log"])
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST", "DJANGO_", "Q_", "NOTIFICATION_", "EMAIL_", "REDIS_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        SECRET_KEY=settings.SECRET_KEY,  # the tasks this process queues are signed with it
        DATABASE_URL=database_url,
        DEBUG="false",
        LOG_LEVEL="WARNING",
        EMAIL_BACKEND="notifications.tests.file_email.EmailBackend",
        FILE_EMAIL_PATH=str(outbox),
        NOTIFICATION_METHOD="email",
        NOTIFICATION_SEND_AT_ONCE="false",
        PYTHONUNBUFFERED="1",
    )
    _cache_table()
    reminder_ids = make_due_reminders(count)
    first = second = None
    try:
        # The first cluster: the usual claim timeout, so none of its own claims look stale.
        first = _start_cluster(env, workers=workers, claim_timeout=180, log=outcome.logs[0])
        for _ in range(workers):
            _enqueue_send_due()
        threshold = max(1, int(count * kill_at))
        while len(sent := file_email.sent(outbox)) < threshold:
            if time.monotonic() > deadline or first.poll() is not None:
                raise RuntimeError(f"the first cluster sent {len(sent)} of {count}\n{outcome.log_tails()}")
            time.sleep(0.01)
        _kill_group(first)
        outcome.sent_at_kill = sum(file_email.sent(outbox).values())
        if len(file_email.sent(outbox)) >= count:
            raise RuntimeError(f"everything was sent before the kill; nothing was tested\n{outcome.log_tails()}")
        # The second cluster: one worker (so its own claims are never taken for stale) and
        # a claim timeout of a second, so that the killed workers' claims are taken back.
        second = _start_cluster(env, workers=1, claim_timeout=1, log=outcome.logs[1])
        while not _handled(reminder_ids):
            if time.monotonic() > deadline or second.poll() is not None:
                raise RuntimeError(f"not everything handled in time\n{outcome.log_tails()}")
            if _queue_size() == 0:
                _enqueue_send_due()
            time.sleep(0.2)
    finally:
        for cluster in (first, second):
            if cluster is not None:
                _kill_group(cluster)
    outcome.seconds = time.monotonic() - started
    counts = file_email.sent(outbox)
    notes = Reminder.objects.filter(pk__in=reminder_ids).values("notification")
    emails = Delivery.objects.filter(notification__in=notes, channel=Channel.EMAIL)
    by_reminder = [counts.get(pk, 0) for pk in emails.values_list("pk", flat=True)]
    outcome.never_sent = count - len(by_reminder) + by_reminder.count(0)
    outcome.sent_once = by_reminder.count(1)
    outcome.sent_twice = by_reminder.count(2)
    outcome.sent_more = sum(n > 2 for n in by_reminder)
    outcome.possibly_duplicated = emails.filter(possibly_duplicated=True).count()
    return outcome
