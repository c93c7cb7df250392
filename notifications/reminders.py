"""Planned messages: session reminders, the cancellation window closing, the feedback
request — kept in step with their booking, and sent once by whichever worker claims them.

``sync`` runs for every booking change (the notifications consumer of the booking event
stream, just after the change commits): it works out the reminders the
booking should have now (its status, its time, each person's choices) and makes the
stored ones match — new ones added, ones no longer wanted cancelled, a reschedule thus
moving them and a cancellation removing them. A reminder already sent stays sent: the
(booking, recipient, kind, due time) key is unique, so it can't be planned twice.

``dispatch_due`` claims due reminders in batches — ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, the database write lock (``BEGIN IMMEDIATE``) on SQLite — and, in the same
transaction, turns each into its notification and queued deliveries and marks it done.
Two workers never get the same reminder; a worker that dies mid-batch commits nothing,
and the batch is claimed again by the next run. One that dies after that commit leaves
the email and SMS queued, or claimed by it and taken back once the claim times out, for
the next run to send (``notifications.delivery``). One that is late by more than its own
window (half its lead time) is skipped, not sent: a "tomorrow" message hours late only
confuses.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.language import in_language_of
from accounts.models import GuardianLink, User
from bookings import selectors
from bookings.models import BOOKED_STATUSES, Booking, BookingStatus
from notifications import preferences
from notifications.compose import Wanted, build, save
from notifications.models import Kind, Reminder, ReminderStatus

FEEDBACK_WINDOW = dt.timedelta(days=3)
MINIMUM_WINDOW = dt.timedelta(minutes=5)


def _window(lead: dt.timedelta) -> dt.timedelta:
    return max(lead / 2, MINIMUM_WINDOW)


def wanted(
    booking, *, now: dt.datetime, guardians: list[User] | None = None, choices: dict | None = None
) -> dict[tuple, dt.timedelta]:
    """The reminders ``booking`` should have that are still worth sending:
    ``{(recipient_id, kind, due_at): window}``."""
    from availability.rules import rules_for

    session = booking.session
    session_type = session.session_type
    coach = session.coach
    hosts = selectors.hosts_of(session)  # the coach and the co-hosts each get their reminders
    if guardians is None:
        guardians = [
            link.guardian for link in GuardianLink.objects.filter(dependent=booking.client).select_related("guardian")
        ]
    client_side = [booking.client, *[g for g in guardians if g.pk != booking.client_id]]
    carries_coach = _carries_coach_reminders(booking)
    people = (client_side if booking.reminders_enabled else []) + (hosts if carries_coach else [])
    if choices is None:
        choices = preferences.settings_of(people)
    result: dict[tuple, dt.timedelta] = {}

    def add(person: User, kind: str, due: dt.datetime, window: dt.timedelta) -> None:
        if due + window > now:
            result[(person.pk, kind, due)] = window

    if booking.status in BOOKED_STATUSES and session.start > now:
        for person in people:
            for minutes in preferences.reminder_minutes(session_type, choices.get(person.pk)):
                lead = dt.timedelta(minutes=minutes)
                add(person, Kind.SESSION_REMINDER, session.start - lead, _window(lead))
        if booking.reminders_enabled:
            notice = rules_for(coach.coach_profile, session_type).cancellation_notice
            if notice > dt.timedelta(0):
                warning = dt.timedelta(hours=settings.NOTIFICATION_CANCELLATION_WARNING_HOURS)
                due = session.start - notice - warning
                # Only worth it when the booking was made before the warning was due.
                if due > booking.created_at:
                    for person in client_side:
                        add(person, Kind.CANCELLATION_WINDOW, due, _window(warning))
    if booking.status in (*BOOKED_STATUSES, BookingStatus.COMPLETED):
        due = session.end + dt.timedelta(minutes=settings.NOTIFICATION_FEEDBACK_DELAY_MINUTES)
        add(booking.client, Kind.FEEDBACK_REQUEST, due, FEEDBACK_WINDOW)
    return result


def _carries_coach_reminders(booking) -> bool:
    """The hosts' reminders for a session ride on one booking: the booking itself for a
    one-on-one, the earliest active seat of a group session."""
    if booking.status not in BOOKED_STATUSES:
        return False
    session = booking.session
    if not session.session_type.is_group:
        return True
    first = (
        type(booking)
        .objects.filter(session=session, status__in=BOOKED_STATUSES)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    return first == booking.pk


def sync(
    booking,
    *,
    now: dt.datetime | None = None,
    guardians: list[User] | None = None,
    choices: dict | None = None,
    new: bool = False,
    into: list[Reminder] | None = None,
) -> None:
    """Make ``booking``'s stored reminders what they should be now (``new``: it was just
    made, so it has none yet; ``into``: collect the reminders to add there, for one
    ``save_plans`` of a whole batch, instead of writing them). For a seat in a group
    session the coach's reminders may move to another seat."""
    now = now or timezone.now()
    _sync_one(booking, now=now, guardians=guardians, choices=choices, new=new, into=into)
    if booking.session.session_type.is_group:
        for other in _other_seats(booking):
            _sync_one(other, now=now, coach_only=True, into=into)


def save_plans(plans: list[Reminder]) -> None:
    """Write the reminders ``sync`` collected; one already planned (its booking, person,
    kind and due time are unique) is left as it is."""
    if plans:
        Reminder.objects.bulk_create(plans, ignore_conflicts=True)


def _other_seats(booking):
    return (
        type(booking)
        .objects.filter(session=booking.session, status__in=BOOKED_STATUSES)
        .exclude(pk=booking.pk)
        .select_related("session__session_type", "session__coach", "client")
        .prefetch_related("session__co_hosts")
        .order_by("pk")[:1]
    )


def _sync_one(
    booking,
    *,
    now: dt.datetime,
    coach_only: bool = False,
    guardians: list[User] | None = None,
    choices: dict | None = None,
    new: bool = False,
    into: list[Reminder] | None = None,
) -> None:
    should = wanted(booking, now=now, guardians=guardians, choices=choices)
    host_ids = {host.pk for host in selectors.hosts_of(booking.session)}
    if coach_only:
        should = {key: window for key, window in should.items() if key[0] in host_ids}
    existing = (
        {}
        if new
        else {
            (row.recipient_id, row.kind, row.due_at): row
            for row in Reminder.objects.filter(booking=booking).only("pk", "recipient_id", "kind", "due_at", "status")
        }
    )
    new = [
        Reminder(booking=booking, recipient_id=person, kind=kind, due_at=due, window=window)
        for (person, kind, due), window in should.items()
        if (person, kind, due) not in existing
    ]
    revive = [row.pk for key, row in existing.items() if key in should and row.status == ReminderStatus.CANCELLED]
    drop = [
        row.pk
        for key, row in existing.items()
        if key not in should
        and row.status == ReminderStatus.PENDING
        and (not coach_only or row.recipient_id in host_ids)
        # Overdue ones are the dispatcher's to skip; only future plans change here.
        and row.due_at > now
    ]
    if new and into is not None:
        into.extend(new)
    elif new:
        Reminder.objects.bulk_create(new, ignore_conflicts=True)
    if revive:
        Reminder.objects.filter(pk__in=revive).update(status=ReminderStatus.PENDING, handled_at=None)
    if drop:
        Reminder.objects.filter(pk__in=drop, status=ReminderStatus.PENDING).update(
            status=ReminderStatus.CANCELLED, handled_at=now
        )


# Saving new reminder choices re-plans this many of the person's next bookings at once;
# the rest are re-planned in the background, the same number at a time.
RESYNC_LIMIT = 200


def upcoming_bookings(user: User, *, limit: int | None = None, after: tuple[dt.datetime, int] | None = None):
    """The booked sessions ahead whose reminders depend on ``user``'s choices: as the
    client, as a guardian of the client, or as a host (coach or co-host); soonest first
    (``after``: those after this (start, booking id), to go on from where a previous batch
    stopped)."""
    dependents = GuardianLink.objects.filter(guardian=user).values("dependent")
    bookings = Booking.objects.filter(
        Q(client=user) | Q(client__in=dependents) | Q(session__coach=user) | Q(selectors.co_hosting(user, "session")),
        status__in=BOOKED_STATUSES,
        session__start__gt=timezone.now(),
    )
    if after is not None:
        start, pk = after
        bookings = bookings.filter(Q(session__start__gt=start) | Q(session__start=start, pk__gt=pk))
    return (
        bookings.select_related("session__session_type", "session__coach", "client")
        .prefetch_related("session__co_hosts")
        .order_by("session__start", "pk")[: limit or RESYNC_LIMIT]
    )


def resync_upcoming(user: User, *, after: tuple[dt.datetime, int] | None = None) -> int:
    """Re-plan the reminders of ``user``'s next bookings (inside the caller's transaction),
    locking each booking as the booking changes do. When there are more bookings than
    one batch holds, the next batch is queued for the background worker once this one
    commits (a queue that fails is logged; the save itself stands)."""
    now = timezone.now()
    bookings = list(upcoming_bookings(user, after=after).select_for_update(of=("self",)))
    for booking in bookings:
        sync(booking, now=now)
    if len(bookings) == RESYNC_LIMIT:
        last = bookings[-1]
        transaction.on_commit(lambda: _queue_rest(user.pk, last.session.start, last.pk), robust=True)
    return len(bookings)


def _queue_rest(user_id: int, start: dt.datetime, pk: int) -> None:
    from django_q.tasks import async_task

    async_task("notifications.tasks.resync_reminders", user_id, start.isoformat(), pk, task_name="re-plan reminders")


# ---------------------------------------------------------------------------------------
# Dispatch
# ---------------------------------------------------------------------------------------


@dataclass
class Dispatched:
    sent: int = 0
    skipped: int = 0
    delivery_ids: list[int] | None = None


def _still_valid(reminder: Reminder) -> bool:
    """The booking still wants this reminder (a safety net behind ``sync``)."""
    booking = reminder.booking
    session = booking.session
    if reminder.kind == Kind.FEEDBACK_REQUEST:
        return booking.status in (*BOOKED_STATUSES, BookingStatus.COMPLETED) and reminder.due_at > session.end
    return booking.status in BOOKED_STATUSES and reminder.due_at < session.start


def claim_batch(*, now: dt.datetime, worker: str, batch: int) -> Dispatched:
    """Claim up to ``batch`` due reminders and turn them into notifications, all in one
    transaction. Returns the counts and the queued deliveries to send."""
    with transaction.atomic():
        due = Reminder.objects.filter(status=ReminderStatus.PENDING, due_at__lte=now).order_by("due_at", "pk")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        rows = list(
            due.select_related(
                "recipient",
                "booking__session__session_type",
                "booking__session__coach",
                "booking__session__resource",
                "booking__client",
            ).prefetch_related("booking__session__co_hosts")[:batch]
        )
        if not rows:
            return Dispatched(delivery_ids=[])
        to_send, skipped = [], []
        for row in rows:
            row.claimed_by, row.handled_at = worker, now
            if now > row.due_at + row.window or not _still_valid(row):
                row.status = ReminderStatus.SKIPPED
                skipped.append(row)
            else:
                row.status = ReminderStatus.SENT
                to_send.append(row)
        wanted = [
            Wanted(
                row.booking,
                row.recipient,
                row.kind,
                extra=_extra(row),
                due_at=row.due_at,
                payload={"reminder": row.pk},
            )
            for row in to_send
        ]
        made = build(wanted)
        queued = save(made, now=now)
        by_key = {(note.recipient_id, note.booking_id, note.kind, note.due_at): note for note, _ in made}
        for row in to_send:
            row.notification = by_key.get((row.recipient_id, row.booking_id, row.kind, row.due_at))
            if row.notification is None:  # the person wants it on no channel
                row.status = ReminderStatus.SKIPPED
        Reminder.objects.bulk_update(rows, ["status", "claimed_by", "handled_at", "notification"])
    sent = sum(row.status == ReminderStatus.SENT for row in rows)
    return Dispatched(sent=sent, skipped=len(rows) - sent, delivery_ids=[d.pk for d in queued])


def _extra(reminder: Reminder) -> dict:
    """The reminder's own words, in its recipient's language (kept for its email and SMS)."""
    with in_language_of(reminder.recipient):
        return _extra_words(reminder)


def _extra_words(reminder: Reminder) -> dict:
    from notifications.messages import lead_text, local_when

    session = reminder.booking.session
    if reminder.kind == Kind.SESSION_REMINDER:
        return {"lead": lead_text(session.start - reminder.due_at)}
    if reminder.kind == Kind.CANCELLATION_WINDOW:
        deadline = reminder.due_at + dt.timedelta(hours=settings.NOTIFICATION_CANCELLATION_WARNING_HOURS)
        return {"cancellation_deadline": local_when(deadline, reminder.recipient.timezone)}
    return {}


def dispatch_due(
    *, now: dt.datetime | None = None, worker: str = "", batch: int = 200, send: bool = True
) -> Dispatched:
    """Claim and handle every due reminder, batch by batch; then (``send``) send the email
    and SMS deliveries they made, each claimed and recorded on its own (a worker that stops
    here leaves the rest queued for the next run)."""
    from notifications import delivery

    now = now or timezone.now()
    worker = worker or f"w-{uuid.uuid4().hex[:12]}"
    total = Dispatched(delivery_ids=[])
    while True:
        done = claim_batch(now=now, worker=worker, batch=batch)
        total.sent += done.sent
        total.skipped += done.skipped
        total.delivery_ids += done.delivery_ids
        if send and done.delivery_ids:
            delivery.send_deliveries(done.delivery_ids, now=now, worker=worker)
        if done.sent + done.skipped < batch:
            return total
