"""Notifications: 10,000 due reminders dispatched by two concurrent workers (forked
processes, as two q2 clusters would run) with the locmem email and SMS backends — the rate,
and how many messages went out twice (must be 0) — and a private calendar feed of 1,000
events: p50 of GET /calendar/<secret>.ics beside a bare Django view of the same run.

    .venv/bin/python bench/notifications.py                   # SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/booking .venv/bin/python bench/notifications.py

The bookings are written directly (bulk inserts) rather than through the booking
services: what is measured here is the dispatch and the feed, not booking.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import setup_django

REMINDERS = 10_000
WORKERS = 2
FEED_EVENTS = 1_000
TARGET_FEED_P50_MS = 100


def time_requests(call, *, count: int = 100, warmup: int = 10) -> tuple[float, float]:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return samples[len(samples) // 2], samples[int(len(samples) * 0.95) - 1]


def main() -> None:
    os.environ["EMAIL_URL"] = ""
    vendor = setup_django()
    from django.conf import settings

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SMS_BACKEND = "notifications.sms.locmem.SmsBackend"
    settings.NOTIFICATION_METHOD = "both"
    settings.ALLOWED_HOSTS = ["*"]
    from django.utils import timezone

    from accounts.models import Role, User
    from bookings.models import Booking, BookingStatus, Session, SessionType
    from notifications.models import Kind, Notification, Reminder, ReminderStatus

    now = timezone.now().replace(microsecond=0)

    def people(prefix: str, count: int, role: str, **extra) -> list[User]:
        users = [
            User(email=f"{prefix}{i}@bench.example", name=f"{prefix.title()} {i}", role=role, **extra)
            for i in range(count)
        ]
        for index, user in enumerate(users):
            user.set_unusable_password()
            if role == Role.CLIENT and index % 2 == 0:
                user.phone = f"+3361234{index:04d}"
        return User.objects.bulk_create(users)

    def bookings_for(coach: User, clients: list[User], starts: list[dt.datetime], ref: int) -> list[Booking]:
        session_type = SessionType.objects.create(coach=coach, title="Consultation", duration_minutes=60)
        sessions = Session.objects.bulk_create(
            Session(session_type=session_type, coach=coach, start=s, end=s + dt.timedelta(hours=1), seats_taken=1)
            for s in starts
        )
        return Booking.objects.bulk_create(
            Booking(
                session=session,
                client=clients[i % len(clients)],
                booked_by=clients[i % len(clients)],
                reference=f"BK-{session.start.year}-{ref + i:06d}",
                status=BookingStatus.CONFIRMED,
                confirmed_at=now,
            )
            for i, session in enumerate(sessions)
        )

    # --- 10,000 due reminders: 2,500 bookings x (24 h, 2 h, 1 h for the client + 24 h for the coach) ---
    coaches = people("coach", 50, Role.COACH, timezone="Europe/Paris")
    clients = people("client", 500, Role.CLIENT, timezone="America/New_York")
    per_coach = REMINDERS // 4 // len(coaches)
    bookings = []
    for index, coach in enumerate(coaches):
        # Sessions a minute apart from 10 minutes on: every reminder below is due by now.
        starts = [now + dt.timedelta(minutes=10 + k) for k in range(per_coach)]
        bookings += bookings_for(coach, clients[index * 10 : index * 10 + 10], starts, ref=1 + index * per_coach)
    rows = []
    for booking in bookings:
        start = booking.session.start
        leads = [(booking.client_id, dt.timedelta(hours=h)) for h in (24, 2, 1)]
        leads.append((booking.session.coach_id, dt.timedelta(hours=24)))
        for recipient, lead in leads:
            rows.append(
                Reminder(
                    booking=booking,
                    recipient_id=recipient,
                    kind=Kind.SESSION_REMINDER,
                    due_at=start - lead,
                    window=dt.timedelta(days=30),
                )
            )
    Reminder.objects.bulk_create(rows)
    assert Reminder.objects.filter(status=ReminderStatus.PENDING).count() == REMINDERS

    elapsed, outboxes = dispatch_in_processes(now)
    emails = Counter(key for box in outboxes for key in box["email"])
    texts = Counter(key for box in outboxes for key in box["sms"])
    twice = sum(n - 1 for n in emails.values() if n > 1) + sum(n - 1 for n in texts.values() if n > 1)
    per_reminder = Counter(
        note.payload.get("reminder") for note in Notification.objects.filter(kind=Kind.SESSION_REMINDER).only("payload")
    )
    notified_twice = sum(n - 1 for n in per_reminder.values() if n > 1)
    sent = Reminder.objects.filter(status=ReminderStatus.SENT).count()
    handled = [box["sent"] for box in outboxes]
    email_count, sms_count = sum(emails.values()), sum(texts.values())

    # --- a feed of 1,000 events -----------------------------------------------------
    from django.http import HttpResponse
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import include, path

    from notifications import feeds

    feed_coach = people("feedcoach", 1, Role.COACH, timezone="America/New_York")[0]
    feed_clients = people("feedclient", 50, Role.CLIENT, timezone="Asia/Kolkata")
    base = now.replace(minute=0, second=0) + dt.timedelta(days=1)
    starts = [base + dt.timedelta(hours=2 * k) for k in range(FEED_EVENTS)]
    bookings_for(feed_coach, feed_clients, starts, ref=500_000)
    feed_path = feeds.feed_url(feed_coach).removeprefix(settings.SITE_URL)

    import types

    def bare(request):
        return HttpResponse("ok")

    urls = types.ModuleType("bench_notification_urls")
    urls.urlpatterns = [path("__bare__/", bare), path("", include("config.urls"))]
    sys.modules["bench_notification_urls"] = urls
    with override_settings(ROOT_URLCONF="bench_notification_urls"):
        http = Client()
        first = http.get(feed_path)
        assert first.status_code == 200, first.status_code
        events = first.content.count(b"BEGIN:VEVENT")
        bare_p50, _ = time_requests(lambda: http.get("/__bare__/"))
        feed_p50, feed_p95 = time_requests(lambda: http.get(feed_path), count=50, warmup=3)
        etag = first["ETag"]
        cached_p50, _ = time_requests(lambda: http.get(feed_path, HTTP_IF_NONE_MATCH=etag))
        assert http.get(feed_path, HTTP_IF_NONE_MATCH=etag).status_code == 304

    print(f"Notifications ({vendor})")
    print(
        f"  reminders: {REMINDERS:,} due, {WORKERS} workers (processes) at once: {sent:,} sent in {elapsed:.2f} s "
        f"= {sent / elapsed:,.0f} reminders/s (worker shares {handled}); {email_count:,} emails + {sms_count:,} SMS "
        f"= {(email_count + sms_count) / elapsed:,.0f} messages/s"
    )
    print(f"  sent twice: {twice} messages, {notified_twice} notifications (must be 0)")
    print(f"  baseline: bare Django view p50 {bare_p50:.2f} ms (in-process test client)")
    print(
        f"  GET /calendar/<secret>.ics, {events:,} events: p50 {feed_p50:.1f} ms, p95 {feed_p95:.1f} ms "
        f"= {feed_p50 / bare_p50:.0f}x baseline (target p50 <= {TARGET_FEED_P50_MS} ms); "
        f"unchanged (If-None-Match -> 304): p50 {cached_p50:.2f} ms"
    )
    if twice or notified_twice or sent != REMINDERS or events != FEED_EVENTS:
        raise SystemExit(1)


def dispatch_in_processes(now) -> tuple[float, list[dict]]:
    """Both workers released together; each returns what its locmem outboxes received."""
    import multiprocessing

    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(WORKERS + 1)
    queue = context.Queue()

    def worker_main(name: str) -> None:
        from django.core import mail

        from notifications import reminders
        from notifications.sms import locmem

        mail.outbox = []
        locmem.outbox.clear()
        barrier.wait()
        done = reminders.dispatch_due(now=now, worker=name, batch=250)
        queue.put(
            {
                "sent": done.sent,
                "email": [(m.to[0], m.body) for m in mail.outbox],
                "sms": [(m.to, m.body) for m in locmem.outbox],
            }
        )
        connections.close_all()

    workers = [context.Process(target=worker_main, args=(f"bench-{i}",)) for i in range(WORKERS)]
    for worker in workers:
        worker.start()
    barrier.wait()
    started = time.perf_counter()
    results = [queue.get() for _ in workers]
    elapsed = time.perf_counter() - started
    for worker in workers:
        worker.join()
    return elapsed, results


if __name__ == "__main__":
    main()
