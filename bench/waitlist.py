"""Waitlists: 10,000 waiting entries across 200 full group sessions, then a burst of 500
cancellations (through the booking service, each its own transaction and event) — how
long until the relay's waitlist consumer has offered every freed seat, and a check that
each seat is offered to exactly one person at a time (held seats = pending offers, per
session; nobody holds two offers; capacity never passed).

    .venv/bin/python bench/waitlist.py                   # SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/booking .venv/bin/python bench/waitlist.py

Baseline, same run and database: 500 plain one-row INSERT transactions. The sessions,
seats and entries are written directly (bulk inserts); what is measured is the
cancellations and the offers. The relay runs in this process, one batch after another, as
one worker does; each offer also writes its in-app, email and SMS notification rows.
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

SESSIONS = 200
CAPACITY = 10
ENTRIES = 10_000
CANCELLATIONS = 500
CLIENTS = 2_000


def main() -> None:
    vendor = setup_django()
    from django.conf import settings

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.RELAY_WAKE = False
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import CoachProfile, Role, User
    from bookings import relay, services
    from bookings.models import Booking, BookingEvent, BookingStatus, Session, SessionKind, SessionType
    from waitlist.models import EntryStatus, OfferStatus, WaitlistEntry, WaitlistOffer

    now = timezone.now().replace(microsecond=0)

    def people(prefix: str, count: int, role: str) -> list[User]:
        users = [
            User(email=f"{prefix}{i}@bench.example", name=f"{prefix.title()} {i}", role=role) for i in range(count)
        ]
        for index, user in enumerate(users):
            user.set_unusable_password()
            user.date_joined = now - dt.timedelta(days=index % 700)  # account ages that differ
        return User.objects.bulk_create(users)

    coaches = people("coach", 20, Role.COACH)
    CoachProfile.objects.bulk_create(CoachProfile(user=coach) for coach in coaches)
    clients = people("client", CLIENTS, Role.CLIENT)
    types = SessionType.objects.bulk_create(
        SessionType(coach=coach, title="Circle", kind=SessionKind.GROUP, capacity=CAPACITY, duration_minutes=60)
        for coach in coaches
    )
    sessions = Session.objects.bulk_create(
        Session(
            session_type=types[i % len(types)],
            coach=coaches[i % len(coaches)],
            start=now + dt.timedelta(days=3, hours=i),
            end=now + dt.timedelta(days=3, hours=i + 1),
            capacity=CAPACITY,
            seats_taken=CAPACITY,
        )
        for i in range(SESSIONS)
    )
    seats = Booking.objects.bulk_create(
        Booking(
            session=session,
            client=clients[(s * CAPACITY + k) % CLIENTS],
            booked_by=clients[(s * CAPACITY + k) % CLIENTS],
            reference=f"BK-BENCH-{s * CAPACITY + k:06d}",
            status=BookingStatus.FIRM_BOOKED,
            confirmed_at=now,
        )
        for s, session in enumerate(sessions)
        for k in range(CAPACITY)
    )
    per_session = ENTRIES // SESSIONS
    WaitlistEntry.objects.bulk_create(
        WaitlistEntry(
            client=clients[(s * 7 + CAPACITY * SESSIONS + k) % CLIENTS],
            added_by=clients[(s * 7 + CAPACITY * SESSIONS + k) % CLIENTS],
            session=session,
            coach_id=session.coach_id,
            joined_at=now - dt.timedelta(minutes=k),
        )
        for s, session in enumerate(sessions)
        for k in range(per_session)
    )
    assert WaitlistEntry.objects.filter(status=EntryStatus.WAITING).count() == ENTRIES
    BookingEvent.objects.update(relayed_at=now)

    # The baseline: plain one-row INSERT transactions on the same database.
    table = "bench_waitlist_baseline"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {table} (id integer PRIMARY KEY, note varchar(40))")
    started = time.perf_counter()
    for i in range(CANCELLATIONS):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {table} (id, note) VALUES (%s, %s)", [i, "row"])
    baseline_s = time.perf_counter() - started

    # The burst: 500 holders cancel — the first two or three seats of every session.
    chosen = sorted(seats, key=lambda b: (b.pk % CAPACITY, b.pk))[:CANCELLATIONS]
    chosen = Booking.objects.select_related("session__session_type", "session__coach", "client").filter(
        pk__in=[b.pk for b in chosen]
    )
    started = time.perf_counter()
    for booking in chosen:
        services.cancel(booking=booking, actor=booking.client, now=now)
    cancel_s = time.perf_counter() - started

    # The waitlist's own share of the relay's time (the other consumers run in it too:
    # messages and reminders of the cancellations, payments).
    spent = {"waitlist": 0.0}
    consumer = relay._consumers["waitlist"]

    def timed_consumer(events):
        begun = time.perf_counter()
        try:
            consumer(events)
        finally:
            spent["waitlist"] += time.perf_counter() - begun

    relay._consumers["waitlist"] = timed_consumer
    started = time.perf_counter()
    if os.environ.get("BENCH_PROFILE"):
        import cProfile
        import pstats

        profile = cProfile.Profile()
        relayed = profile.runcall(relay.relay_pending)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(os.environ["BENCH_PROFILE"], 30)
    else:
        relayed = relay.relay_pending()
    offers_s = time.perf_counter() - started

    offers = WaitlistOffer.objects.filter(status=OfferStatus.PENDING)
    made = offers.count()
    held = dict(Session.objects.values_list("pk", "seats_held"))
    pending = Counter(offers.values_list("session_id", flat=True))
    per_entry = Counter(offers.values_list("entry_id", flat=True))
    per_client = Counter(offers.values_list("session_id", "entry__client_id"))
    mismatched = sum(1 for pk, count in held.items() if count != pending.get(pk, 0))
    over = Session.objects.extra(where=["seats_taken + seats_held > capacity"]).count()
    twice = sum(1 for n in per_entry.values() if n > 1) + sum(1 for n in per_client.values() if n > 1)

    print(f"Waitlist offers ({vendor}): {ENTRIES:,} waiting across {SESSIONS} full sessions, {CANCELLATIONS} cancel")
    print(
        f"  baseline: {CANCELLATIONS} plain one-row INSERT transactions  {baseline_s * 1000:8.0f} ms "
        f"({baseline_s / CANCELLATIONS * 1000:.2f} ms each)"
    )
    print(
        f"  {CANCELLATIONS} cancellations (services.cancel)         {cancel_s * 1000:8.0f} ms "
        f"({cancel_s / CANCELLATIONS * 1000:.2f} ms each, {cancel_s / baseline_s:.1f}x baseline)"
    )
    print(
        f"  relay: {relayed.events} events -> {made} offers made in   {offers_s * 1000:8.0f} ms "
        f"({offers_s / max(made, 1) * 1000:.2f} ms per offer, {offers_s / baseline_s:.1f}x baseline)"
    )
    print(
        f"    of which the waitlist consumer               {spent['waitlist'] * 1000:8.0f} ms "
        f"({spent['waitlist'] / max(made, 1) * 1000:.2f} ms per offer)"
    )
    print(
        f"  seats offered {made} of {CANCELLATIONS} freed; sessions whose held seats != pending offers: {mismatched}; "
        f"over capacity: {over}; offered twice: {twice}"
    )
    if made != CANCELLATIONS or mismatched or over or twice or relayed.failures:
        raise SystemExit("the waitlist benchmark found a seat not offered, or offered twice")


if __name__ == "__main__":
    main()
