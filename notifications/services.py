"""Turning booking changes into notifications, and marking them read.

``on_booking_events`` is this app's consumer of the booking event stream
(``bookings.relay``, registered in ``apps``): after a change commits, the relay hands it
the change's ``BookingEvent`` (with others, in batches), and it writes the notifications
the change makes, each with one delivery per channel the recipient wants — in-app ones
already sent, email and SMS ones queued — and brings the booking's reminders in step.
Nothing of it runs in the booking's transaction or under its locks; the event, written in
that transaction, is the promise that it will run. Sending happens after the relay's
commit (``delivery``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from accounts.language import in_language_of
from accounts.models import GuardianLink, Role, User
from bookings.models import BOOKED_STATUSES, BookingStatus
from config.dates import format_when
from notifications import messages, preferences, receipts, reminders
from notifications.compose import Wanted, build, save
from notifications.models import Channel, Kind, Notification

logger = logging.getLogger(__name__)

CLIENT, COACH, STAFF = "client", "coach", "staff"

# action -> the kinds it makes, and for whom. Nobody is told about their own action, except
# that a new booking is confirmed to the person who made it.
RULES: dict[str, list[tuple[str, str]]] = {
    "booked": [(Kind.BOOKING_CREATED, CLIENT), (Kind.BOOKING_CREATED, COACH), (Kind.BOOKING_CREATED, STAFF)],
    "seat_taken": [(Kind.BOOKING_CREATED, CLIENT), (Kind.BOOKING_CREATED, COACH), (Kind.BOOKING_CREATED, STAFF)],
    "requested": [(Kind.BOOKING_CREATED, CLIENT), (Kind.REQUEST_RECEIVED, COACH), (Kind.BOOKING_CREATED, STAFF)],
    "approved": [(Kind.CONFIRMED, CLIENT)],
    "alternative_accepted": [(Kind.CONFIRMED, CLIENT), (Kind.CONFIRMED, COACH)],
    "declined": [(Kind.DECLINED, CLIENT)],
    "expired": [(Kind.DECLINED, CLIENT)],
    "alternatives_suggested": [(Kind.ALTERNATIVES_SUGGESTED, CLIENT)],
    "alternatives_declined": [(Kind.CANCELLED, COACH)],
    "information_requested": [(Kind.INFORMATION_REQUESTED, CLIENT)],
    "information_given": [(Kind.INFORMATION_GIVEN, COACH)],
    "cancelled": [(Kind.CANCELLED, CLIENT), (Kind.CANCELLED, COACH), (Kind.CANCELLED, STAFF)],
    "rescheduled": [(Kind.RESCHEDULED, CLIENT), (Kind.RESCHEDULED, COACH), (Kind.RESCHEDULED, STAFF)],
    # A booking held while the client pays is not booked yet: nobody hears of it, nor of
    # the client giving up. Once paid it is what it would have been unpaid (``paid`` is
    # read as ``booked`` or ``requested``, see ``_rules``), with the client's receipt.
    "held_for_payment": [],
    "payment_abandoned": [],
    "payment_expired": [(Kind.PAYMENT_EXPIRED, CLIENT)],
    "workshop_confirmed": [(Kind.WORKSHOP_CONFIRMED, CLIENT)],
    "material_added": [(Kind.MATERIAL_AVAILABLE, CLIENT)],
}
TOLD_TO_THE_ACTOR = {"booked", "seat_taken", "requested", "paid"}
# Changes told once for a whole series batch (``bookings.services.common.series_batch``):
# the batch's lead event makes the messages, in the series' words; the others make none.
# Other changes (a payment's receipt, say) stay one message per booking.
TOLD_ONCE_PER_SERIES = {
    "booked",
    "requested",
    "approved",
    "declined",
    "expired",
    "cancelled",
    "rescheduled",
    "alternatives_suggested",
    "alternative_accepted",
    "alternatives_declined",
}
# Changes after which the coach may be close to their day or week limit.
ADDS_TO_THE_CALENDAR = {"booked", "approved", "alternative_accepted", "rescheduled", "paid"}


def _rules(event) -> list[tuple[str, str]]:
    """The kinds a change makes, for whom. A paid booking makes what its booking would have
    made unpaid — a new booking, or a request for the coach — and the client's receipt."""
    if event.action == "paid":
        made = RULES["requested"] if event.to_status == BookingStatus.REQUESTED else RULES["booked"]
        return [*made, (Kind.PAYMENT_RECEIVED, CLIENT)]
    return RULES.get(event.action, [])


@dataclass
class People:
    """Everyone a batch of changes may concern, read at once: the people by id with their
    saved choices, each client's guardians, and active staff (when wanted)."""

    by_id: dict[int, User]
    guardians_of: dict[int, list[int]]
    staff: list[User]
    choices: dict

    @classmethod
    def of(cls, bookings, *, with_staff: bool) -> People:
        """Two small indexed reads whatever the batch: the clients' guardian links, then the
        people by id (and active staff, by role) with their choices — never a scan of all
        users. The sessions' co-hosts come from the bookings (read with
        ``prefetch_related("session__co_hosts")``)."""
        client_ids = {booking.client_id for booking in bookings}
        guardians_of: dict[int, list[int]] = defaultdict(list)
        for dependent, guardian in (
            GuardianLink.objects.filter(dependent_id__in=client_ids)
            .order_by("guardian_id")
            .values_list("dependent_id", "guardian_id")
        ):
            if guardian != dependent:
                guardians_of[dependent].append(guardian)
        ids = {pk for guardians in guardians_of.values() for pk in guardians}
        for booking in bookings:
            ids |= {booking.client_id, booking.session.coach_id, booking.booked_by_id}
            ids |= {host.pk for host in booking.session.co_hosts.all()}
        wanted = Q(pk__in=ids)
        if with_staff:
            wanted |= Q(role=Role.STAFF, is_active=True)
        by_id = {
            user.pk: user for user in User.objects.filter(wanted).order_by().select_related("notification_settings")
        }
        choices = {
            pk: user.notification_settings for pk, user in by_id.items() if hasattr(user, "notification_settings")
        }
        staff = sorted((user for user in by_id.values() if user.role == Role.STAFF and user.is_active), key=_pk)
        return cls(by_id, guardians_of, staff, choices)

    def around(self, booking) -> tuple[list[User], list[User], list[User], list[User]]:
        """The client side (client, their guardians, whoever booked), the guardians alone,
        the hosts (the coach, then the session's co-hosts), and the staff who are not
        already on either side."""
        guardians = [self.by_id[pk] for pk in self.guardians_of.get(booking.client_id, ()) if pk in self.by_id]
        clients = [booking.client, *guardians]
        session = booking.session
        hosts = [session.coach] + [
            self.by_id.get(host.pk, host)
            for host in sorted(session.co_hosts.all(), key=_pk)
            if host.pk != session.coach_id
        ]
        host_ids = {host.pk for host in hosts}
        # Whoever booked for the client hears of it too, unless it was a host (a coach
        # booking a connected client), who is told as a host.
        if booking.booked_by_id not in {person.pk for person in clients} | host_ids:
            clients.append(booking.booked_by)
        on_a_side = {person.pk for person in clients} | host_ids
        staff = [user for user in self.staff if user.pk not in on_a_side]
        return clients, guardians, hosts, staff


def _pk(user: User) -> int:
    return user.pk


def _series_batch_of(event) -> str | None:
    """The series batch ``event`` is told with (see ``TOLD_ONCE_PER_SERIES``), or None:
    a change to one session (even of a series) is told as any single booking's."""
    data = event.data or {}
    if not (data.get("series") and data.get("batch")) or event.action not in TOLD_ONCE_PER_SERIES:
        return None
    try:
        count = int(data.get("count") or 0)
    except (TypeError, ValueError):
        return None
    return str(data["batch"]) if count > 1 else None


@dataclass
class SeriesBatch:
    """The sessions one series change touched together, as its lead event tells them."""

    series_id: int
    frequency: str
    booking_ids: list[int]
    starts: list[dt.datetime]
    previous: list[dt.datetime]
    suggested: list[dt.datetime]

    def words_for(self, person: User, action: str) -> dict[str, str]:
        """The series_* variables for ``person``: the sessions' times now (and before a
        move), or for a suggested time, the times suggested (and the times asked for)."""
        if action == "alternatives_suggested" and len(self.suggested) == len(self.starts):
            starts, previous = self.suggested, self.starts
        else:
            starts, previous = self.starts, self.previous
        return messages.series_extra(starts, person.timezone, frequency=self.frequency, previous=previous or None)


def _series_batches(leads) -> dict[str, SeriesBatch]:
    """Every session of the batches of ``leads`` (lead events): one query for them all,
    through the bookings' series (indexed) and the events' batch (a JSON key)."""
    from bookings.models import BookingEvent

    if not leads:
        return {}
    series_ids = {event.data["series"] for event in leads}
    batches = {str(event.data["batch"]) for event in leads}
    rows = (
        BookingEvent.objects.filter(booking__series_id__in=series_ids, data__batch__in=sorted(batches))
        .order_by("booking__session__start", "pk")
        .values(
            "booking_id",
            "booking__session__start",
            "booking__series__frequency",
            "booking__series_id",
            "booking__suggested_alternatives",
            "data",
        )
    )
    found: dict[str, SeriesBatch] = {}
    for row in rows:
        data = row["data"] or {}
        key = str(data.get("batch"))
        if key not in batches:
            continue
        batch = found.setdefault(
            key, SeriesBatch(row["booking__series_id"], row["booking__series__frequency"] or "", [], [], [], [])
        )
        if row["booking_id"] in batch.booking_ids:
            continue
        batch.booking_ids.append(row["booking_id"])
        batch.starts.append(row["booking__session__start"])
        if data.get("previous_start"):
            batch.previous.append(dt.datetime.fromisoformat(data["previous_start"]))
        if row["booking__suggested_alternatives"]:
            batch.suggested.append(dt.datetime.fromisoformat(row["booking__suggested_alternatives"][0]))
    # A batch that came to one session (the others unchanged) is told as a single booking.
    return {key: batch for key, batch in found.items() if len(batch.booking_ids) > 1}


@dataclass
class _Load:
    """The coach's day and week as the change counted them (``BookingEvent.data``)."""

    day: dt.date
    in_day: int
    in_week: int


def _load_of(event) -> _Load | None:
    load = (event.data or {}).get("coach_load")
    if not load:
        return None
    return _Load(dt.date.fromisoformat(load["day"]), load["in_day"], load["in_week"])


def on_booking_events(events) -> None:
    """The notifications consumer of the booking event stream (``bookings.relay``), run
    after the changes' commits, a batch at a time: the notifications each change makes —
    each with one delivery per channel its recipient wants, in-app ones delivered at once,
    email and SMS ones queued — and every changed booking's reminders brought in step.
    About a dozen queries per batch whatever its size, plus one per group-session seat.
    Idempotent: a notification names its event (unique per recipient and kind) and
    reminders are unique per booking, recipient, kind and due time, so an event given
    twice makes nothing twice."""
    from bookings.models import Booking

    if not events:
        return
    now = timezone.now()
    made_before = set(
        Notification.objects.filter(event_id__in=[event.pk for event in events]).values_list("event_id", flat=True)
    )
    bookings = {
        booking.pk: booking
        for booking in Booking.objects.filter(pk__in={event.booking_id for event in events})
        .select_related(
            "session__session_type", "session__coach__coach_profile", "session__resource", "client", "booked_by"
        )
        .prefetch_related("session__co_hosts")
    }
    with_staff = any(side == STAFF for event in events for _, side in _rules(event))
    people = People.of(bookings.values(), with_staff=with_staff)
    fresh = [event for event in events if event.pk not in made_before]
    in_series = {event.pk: _series_batch_of(event) for event in fresh}
    series = _series_batches([event for event in fresh if in_series[event.pk] and event.data.get("lead")])
    wanted: list[Wanted] = []
    for event in fresh:
        batch = in_series[event.pk]
        if batch is None:
            wanted += _told_of(event, bookings[event.booking_id], people)
        elif event.data.get("lead"):
            wanted += _told_of(event, bookings[event.booking_id], people, series=series.get(batch))
        # Any other event of a series batch is told by its lead's message.
    made = build(_not_made_yet(wanted), choices=people.choices)
    queued = save(made, now=now)
    first_event = {}
    for event in events:
        first_event.setdefault(event.booking_id, event)
    plans: list = []
    for booking_id, event in first_event.items():
        booking = bookings[booking_id]
        _, guardians, _, _ = people.around(booking)
        new = event.from_status == "" and event.pk not in made_before
        reminders.sync(booking, now=now, guardians=guardians, choices=people.choices, new=new, into=plans)
    reminders.save_plans(plans)
    if queued:
        ids = [delivery.pk for delivery in queued]
        transaction.on_commit(lambda: _send_soon(ids))


def _told_of(event, booking, people: People, *, series: SeriesBatch | None = None) -> list[Wanted]:
    """The messages one change makes, for whom: what goes to the coach goes to every host.
    With ``series`` (the change is the lead of a series batch) they speak of the batch's
    every session, and the payload names its bookings (the email's calendar invitation)."""
    action, actor_id = event.action, event.actor_id
    clients, _, hosts, staff = people.around(booking)
    previous = (event.data or {}).get("previous_start")
    previous = dt.datetime.fromisoformat(previous) if previous else None
    wanted = []
    for kind, side in _rules(event):
        for person in {CLIENT: clients, COACH: hosts, STAFF: staff}[side]:
            if person.pk == actor_id and action not in TOLD_TO_THE_ACTOR:
                continue
            with in_language_of(person):  # the words made now are kept for the email and SMS
                extra = {"previous_when": messages.local_when(previous, person.timezone)} if previous else {}
                if kind == Kind.PAYMENT_RECEIVED:
                    extra.update(receipts.receipt_extra(booking, event, person))
                if kind == Kind.MATERIAL_AVAILABLE:
                    extra["material"] = event.note
                payload = {"action": action}
                if series is not None:
                    extra.update(series.words_for(person, action))
                    payload["series"] = {"id": series.series_id, "bookings": series.booking_ids}
            wanted.append(Wanted(booking, person, kind, side == STAFF, extra, payload=payload, event=event))
    if action in ADDS_TO_THE_CALENDAR and booking.status in BOOKED_STATUSES:
        wanted += _limit_warning(booking, _load_of(event), event=event)
        for co_host in hosts[1:]:  # each co-host's own day and week (the change counted the coach's)
            wanted += _limit_warning(booking, event=event, host=co_host)
    return wanted


def _not_made_yet(wanted: list[Wanted]) -> list[Wanted]:
    """Planned-time messages (the limit warnings) are once per recipient, booking, kind and
    due time: drop the ones this batch repeats or that an earlier change already made."""
    keyed = [item for item in wanted if item.due_at is not None]
    if not keyed:
        return wanted
    existing = set(
        Notification.objects.filter(
            booking_id__in={item.booking.pk for item in keyed},
            kind__in={item.kind for item in keyed},
            due_at__isnull=False,
        ).values_list("recipient_id", "booking_id", "kind", "due_at")
    )
    kept = []
    for item in wanted:
        if item.due_at is not None:
            key = (item.person.pk, item.booking.pk, item.kind, item.due_at)
            if key in existing:
                continue
            existing.add(key)
        kept.append(item)
    return kept


def _send_soon(delivery_ids: list[int]) -> None:
    """After the commit: hand the new email and SMS deliveries to the worker now rather
    than at its next minute — when the broker makes that cheap (Redis, or tests running
    tasks inline). The ORM broker would cost a queue row and a reconnection per change, so
    there the minute's scheduled run sends them; so it does if queueing fails."""
    if not settings.NOTIFICATION_SEND_AT_ONCE:
        return
    from django_q.tasks import async_task

    try:
        async_task("notifications.tasks.send_deliveries", delivery_ids, task_name="send notifications")
    except Exception:
        logger.exception("Could not queue deliveries %s; the next scheduled run sends them.", delivery_ids)


def _limit_warning(booking, load=None, *, event=None, host: User | None = None) -> list[Wanted]:
    """The coach (or ``host``, a co-host) is told when a day (or ISO week) of theirs has one
    session left, or none. Counts their sessions unless the change already did (``load``,
    the coach's)."""
    from accounts.models import CoachProfile
    from availability.models import Allocation
    from availability.rules import rules_for

    session = booking.session
    coach = host or session.coach
    profile = coach.coach_profile if host is None else CoachProfile.objects.filter(user=host).first()
    if profile is None:
        return []
    limits = rules_for(profile, session.session_type)
    if limits.max_per_day is None and limits.max_per_week is None:
        return []
    zone = ZoneInfo(coach.timezone)
    day = session.start.astimezone(zone).date()
    monday = day - dt.timedelta(days=day.weekday())
    day_start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    week_start = dt.datetime.combine(monday, dt.time(), tzinfo=zone)
    if load is not None and load.day == day:
        in_day, in_week = load.in_day, load.in_week
    else:
        week_end = dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(), tzinfo=zone)
        starts = list(
            Allocation.objects.filter(
                staff=coach, is_active=True, counts_toward_limits=True, start__gte=week_start, start__lt=week_end
            ).values_list("start", flat=True)
        )
        in_week = len(starts)
        in_day = sum(day_start <= start < day_start + dt.timedelta(days=1) for start in starts)
    with in_language_of(coach):
        label = format_when(day, "day_short_no_year")
        if limits.max_per_day is not None and in_day >= limits.max_per_day - 1:
            text = gettext("%(count)d of %(limit)d sessions on %(day)s") % {
                "count": in_day,
                "limit": limits.max_per_day,
                "day": label,
            }
            key = day_start
        elif limits.max_per_week is not None and in_week >= limits.max_per_week - 1:
            text = gettext("%(count)d of %(limit)d sessions in the week of %(day)s") % {
                "count": in_week,
                "limit": limits.max_per_week,
                "day": format_when(monday, "day_short_no_year"),
            }
            key = week_start
        else:
            return []
    return [Wanted(booking, coach, Kind.SESSION_LIMIT_WARNING, extra={"limit_text": text}, due_at=key, event=event)]


# ---------------------------------------------------------------------------------------
# Messages about payments (``payments.notify``)
# ---------------------------------------------------------------------------------------


def tell(
    person: User,
    kind: str,
    *,
    key: str = "",
    booking=None,
    due_at: dt.datetime | None = None,
    extra: dict | None = None,
    now: dt.datetime | None = None,
) -> Notification | None:
    """One message for ``person`` that no booking change makes: a failed payment, a
    refund, a purchase's receipt, a balance due. It is made once: per ``key`` (unique per
    recipient and kind, e.g. ``"refund:7"``), or per booking and ``due_at`` for a planned
    one — the database refuses the second, even from another worker at the same moment.
    Its email and SMS go out after the commit. Returns None when it was made before or
    ``person`` wants it nowhere. ``booking`` (if any) needs its session, type and people."""
    if not key and due_at is None:
        raise ValueError("a payment message is made once per key or due time")
    now = now or timezone.now()
    made_before = Notification.objects.filter(recipient=person, kind=kind)
    made_before = made_before.filter(key=key) if key else made_before.filter(booking=booking, due_at=due_at)
    if made_before.exists():
        return None
    channels = preferences.channels_for(person, kind, preferences.settings_of([person]).get(person.pk))
    if not channels:
        return None
    note = _keyed_note(
        person, kind, key=key, booking=booking, due_at=due_at, extra=extra, custom=messages.custom_templates({kind})
    )
    made = _save_sent_soon([(note, channels)], now=now)
    return note if made else None


@dataclass(frozen=True)
class Told:
    """One keyed message of ``tell_each``: about no booking, made once per key."""

    person: User
    kind: str
    key: str
    extra: dict


def tell_each(told: list[Told], *, now: dt.datetime | None = None) -> list[Notification]:
    """``tell`` for many messages at once (each about no booking, made once per key): a
    few queries whatever their number — waitlist offers made in a burst. When another
    worker made one of them at the same moment, each is made on its own instead."""
    if not told:
        return []
    now = now or timezone.now()
    made_before = set(
        Notification.objects.filter(key__in={item.key for item in told}).values_list("recipient_id", "kind", "key")
    )
    choices = preferences.settings_of([item.person for item in told])
    custom = messages.custom_templates({item.kind for item in told})
    made = []
    for item in told:
        if (item.person.pk, item.kind, item.key) in made_before:
            continue
        channels = preferences.channels_for(item.person, item.kind, choices.get(item.person.pk))
        if channels:
            made.append((_keyed_note(item.person, item.kind, key=item.key, extra=item.extra, custom=custom), channels))
    if _save_sent_soon(made, now=now):
        return [note for note, _ in made]
    return [note for item in told if (note := tell(item.person, item.kind, key=item.key, extra=item.extra, now=now))]


def _keyed_note(person: User, kind: str, *, key: str, extra: dict | None, custom: dict, booking=None, due_at=None):
    with in_language_of(person):
        extra = {name: str(value) for name, value in (extra or {}).items() if value is not None}
        if booking is not None:
            context = messages.booking_context(booking, person, **extra)
        else:
            context = messages.person_context(person, **extra)
        words = messages.render(kind, Channel.IN_APP, context, custom=custom.get((kind, Channel.IN_APP)))
    return Notification(
        recipient=person,
        kind=kind,
        booking=booking,
        title=words.subject,
        body=words.text,
        due_at=due_at,
        key=key,
        payload={"reference": context.get("reference", ""), "extra": extra, "staff": False},
    )


def _save_sent_soon(made: list, *, now: dt.datetime) -> bool:
    """Save the notifications with their deliveries, the email and SMS sent after the
    commit. False, saving none, when one was made at the same moment by another worker."""
    try:
        with transaction.atomic():
            queued = save(made, now=now)
    except IntegrityError:
        return False
    if queued:
        ids = [delivery.pk for delivery in queued]
        transaction.on_commit(lambda: _send_soon(ids))
    return True


# ---------------------------------------------------------------------------------------
# Reading and marking read
# ---------------------------------------------------------------------------------------


def unread_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def mark_read(*, user: User, notification_id: int) -> bool:
    """Mark one of ``user``'s notifications read; False when it isn't theirs."""
    found = Notification.objects.filter(recipient=user, pk=notification_id)
    if not found.exists():
        return False
    found.filter(read_at__isnull=True).update(read_at=timezone.now())
    return True


def mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())
