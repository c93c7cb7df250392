"""Connecting a calendar and reading its busy times into the scheduling ledger.

A sync fetches the calendar's address (``config.outbound``: a public address only, a
deadline, a size limit; ``If-None-Match``/``If-Modified-Since`` so an unchanged calendar
costs one short answer), reads its busy times from a day ago to a year and a day ahead
(``calendar_sync.ics``; the longest booking window is a year) and, in one transaction
under the connection's row lock, replaces the busy times read before: an event deleted or
cancelled in the calendar frees its time at the next sync. When the fetch or the reading
fails, the busy times of the last success stay (nothing is lost) and the reason is kept
in plain words for the coach's page. After a sync, a booking that a busy time of the
coach's own calendar now overlaps is told to the coach, once per session and start."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from availability.models import Allocation, AllocationKind
from bookings.models import ACTIVE_STATUSES, Booking
from calendar_sync import dav, ics, oauth, providers, writer
from calendar_sync.models import CalendarConnection, ConnectionKind
from calendar_sync.providers.google import GoogleProvider
from calendar_sync.providers.microsoft import MicrosoftProvider
from config import crypto, outbound
from notifications import services as notify
from notifications.models import Kind

BEHIND = dt.timedelta(days=1)
AHEAD = dt.timedelta(days=367)
# A calendar read once is read again (without "anything new?") when its busy times end
# within this of the horizon: the recurring events' next days must be expanded.
REEXPAND = dt.timedelta(days=1)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    changed: bool
    events: int
    message: str = ""


def connect(
    coach: User, *, name: str, url: str, all_day_busy: bool = True, free_busy: bool = False
) -> CalendarConnection:
    """A new connection of ``coach``'s, read at once (its first sync's outcome is on it)."""
    connection = CalendarConnection.objects.create(
        coach=coach,
        kind=ConnectionKind.ICS,
        name=name,
        url=url,
        all_day_busy=all_day_busy,
        free_events_busy=free_busy,
    )
    sync(connection)
    connection.refresh_from_db()
    return connection


def set_options(
    connection: CalendarConnection, *, all_day_busy: bool, free_busy: bool, now: dt.datetime | None = None
) -> Outcome:
    """Change how the calendar's all-day and free events count, and read it again at once
    in full (the same calendar now gives other busy times)."""
    _record(
        connection,
        all_day_busy=all_day_busy,
        free_events_busy=free_busy,
        etag="",
        last_modified="",
        digest="",
        busy_until=None,
    )
    return sync(connection, now=now)


def connect_caldav(
    coach: User,
    *,
    name: str,
    url: str,
    username: str,
    password: str,
    write: bool = True,
    private: bool = False,
    all_day_busy: bool = True,
    free_busy: bool = False,
    now: dt.datetime | None = None,
) -> CalendarConnection:
    """A new CalDAV account of ``coach``'s: its calendars found (``dav.DavError`` in plain
    words when the account can't be reached or has none), every one read for busy times,
    the first written into when ``write``; read at once, the bookings ahead written."""
    with dav.Account(url, username, password) as conversation:
        found = conversation.calendars()
    if not found:
        raise dav.DavError(_("The account has no calendar of events."))
    connection = CalendarConnection.objects.create(
        coach=coach,
        kind=ConnectionKind.CALDAV,
        name=name,
        url=url,
        username=username,
        password_encrypted=crypto.encrypt(password),
        calendars=[{"url": item.url, "name": item.name, "read": True} for item in found],
        write_url=found[0].url if write else "",
        private_details=private,
        all_day_busy=all_day_busy,
        free_events_busy=free_busy,
    )
    sync(connection, now=now)
    if connection.write_url:
        writer.backfill(connection, now=now)
        transaction.on_commit(writer.write_soon)
    connection.refresh_from_db()
    return connection


def connect_oauth(
    coach: User, found_app: oauth.App, tokens: oauth.Tokens, *, now: dt.datetime | None = None
) -> CalendarConnection:
    """A Google or Microsoft account of ``coach``'s, given the tokens of its consent
    (``calendar_sync.oauth``): its calendars found, every one read for busy times, the main
    one written into; read at once, the bookings ahead written. The same account connected
    again (after its access was withdrawn) gets the new tokens and keeps its choices."""
    kind = found_app.kind
    opening = GoogleProvider if kind == ConnectionKind.GOOGLE else MicrosoftProvider
    with opening(oauth.Grant(found_app, tokens)) as provider:
        found = provider.calendars()
        account = provider.account_name
    if not found:
        raise providers.ProviderError(_("The account has no calendar of events."))
    fields = {"token_encrypted": tokens.sealed(), "token_expires_at": tokens.expires_at}
    connection = (
        CalendarConnection.objects.filter(coach=coach, kind=kind, username=account).first() if account else None
    )
    if connection is not None:
        reading = {item["url"]: item.get("read", True) for item in connection.calendars}
        write_url = connection.write_url if connection.write_url in {item.url for item in found} else ""
        _record(
            connection,
            calendars=[{"url": item.url, "name": item.name, "read": reading.get(item.url, True)} for item in found],
            write_url=write_url,
            last_error="",
            digest="",
            busy_until=None,
            is_active=True,
            **fields,
        )
    else:
        primary = next((item for item in found if item.primary), found[0])
        connection = CalendarConnection.objects.create(
            coach=coach,
            kind=kind,
            name=account or found_app.label,
            url=found_app.api_url,
            username=account,
            calendars=[{"url": item.url, "name": item.name, "read": True} for item in found],
            write_url=primary.url,
            **fields,
        )
    sync(connection, now=now)
    if connection.write_url:
        writer.backfill(connection, now=now)
        transaction.on_commit(writer.write_soon)
    connection.refresh_from_db()
    return connection


def set_caldav_calendars(connection: CalendarConnection, *, read: list[str], write_url: str, private: bool) -> None:
    """Choose which of the account's calendars make the coach busy, which one the bookings
    are written into ("" for none) and whether their details are hidden; what was written
    is moved, rewritten or deleted accordingly, and the busy times read again."""
    known = {item["url"] for item in connection.calendars}
    if write_url and write_url not in known:
        raise ValueError("not a calendar of this account")
    calendars = [{**item, "read": item["url"] in read} for item in connection.calendars]
    rewrite = write_url != connection.write_url or private != connection.private_details
    _record(connection, calendars=calendars, write_url=write_url, private_details=private, digest="", busy_until=None)
    if rewrite:
        writer.backfill(connection)
        transaction.on_commit(writer.write_soon)


def disconnect(connection: CalendarConnection) -> None:
    """Forget the calendar and every busy time read from it; the bookings written into an
    account's calendar are deleted from it first (as far as its server lets us now)."""
    if connection.is_account:
        writer.forget(connection)
    connection.delete()


def _ours(uid: str) -> bool:
    """This product's own events (a booking or session written into the coach's calendar,
    or a feed the coach subscribed to): never read back as busy a second time."""
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    return uid.endswith(f"@{host}") and uid.startswith(("booking-", "session-"))


def _status_words(status: int) -> str:
    if status in (401, 403):
        return _(
            "The calendar's server refused access (HTTP %(status)s). Copy the calendar's secret address again."
        ) % {"status": status}
    if status in (404, 410):
        return _(
            "There is no calendar at this address any more (HTTP %(status)s): it may have been deleted, "
            "or its secret address reset."
        ) % {"status": status}
    if status >= 500:
        return _("The calendar's server had a problem (HTTP %(status)s); it will be tried again.") % {"status": status}
    return _("The calendar's server answered HTTP %(status)s instead of the calendar.") % {"status": status}


def _record(connection: CalendarConnection, **fields) -> None:
    """Write these fields of the connection, in the database and on the object in hand."""
    CalendarConnection.objects.filter(pk=connection.pk).update(**fields)
    for name, value in fields.items():
        setattr(connection, name, value)


def _failed(connection: CalendarConnection, message: str, now: dt.datetime) -> Outcome:
    _record(connection, last_attempt_at=now, last_error=message[:300], failures=connection.failures + 1)
    return Outcome(ok=False, changed=False, events=connection.events, message=message)


def _fetch_ics(
    connection: CalendarConnection, *, now: dt.datetime, fresh_enough: bool
) -> tuple[bytes, str, str] | Outcome:
    """The calendar at the connection's address, its ETag and Last-Modified; or the
    outcome when there is nothing to read (unchanged, or failed)."""
    headers = {"Accept": "text/calendar, */*;q=0.5", "User-Agent": "Booking calendar sync"}
    if fresh_enough and connection.etag:
        headers["If-None-Match"] = connection.etag
    if fresh_enough and connection.last_modified:
        headers["If-Modified-Since"] = connection.last_modified
    try:
        answer = outbound.get(
            connection.url,
            headers=headers,
            timeout=settings.CALENDAR_FETCH_TIMEOUT_SECONDS,
            max_bytes=settings.CALENDAR_MAX_BYTES,
        )
    except outbound.OutboundError as error:
        message = error.message
        if error.reason == "too_large":
            message = _("The calendar is larger than %(megabytes)s MB; connect a smaller one.") % {
                "megabytes": round(settings.CALENDAR_MAX_BYTES / 1_000_000, 1)
            }
        return _failed(connection, message, now)
    if answer.status == 304:
        _record(connection, last_attempt_at=now, last_synced_at=now, last_error="", failures=0)
        return Outcome(ok=True, changed=False, events=connection.events)
    if answer.status != 200:
        return _failed(connection, _status_words(answer.status), now)
    return answer.body, answer.headers.get("ETag", "")[:200], answer.headers.get("Last-Modified", "")[:100]


def read_urls(connection: CalendarConnection) -> list[str]:
    """The calendars of an account whose events make the coach busy."""
    return [item["url"] for item in connection.calendars if item.get("read", True)]


def _read_account(
    connection: CalendarConnection, *, start: dt.datetime, end: dt.datetime, zone: ZoneInfo
) -> list[ics.Busy]:
    with providers.open_for(connection) as provider:
        return provider.busy(
            read_urls(connection),
            start=start,
            end=end,
            zone=zone,
            all_day_busy=connection.all_day_busy,
            free_busy=connection.free_events_busy,
            ours=_ours,
        )


def _digest(busy: list[ics.Busy]) -> str:
    text = "\n".join(f"{item.start.isoformat()} {item.end.isoformat()}" for item in sorted(set(busy)))
    return hashlib.sha256(text.encode()).hexdigest()


def sync(connection: CalendarConnection, *, now: dt.datetime | None = None) -> Outcome:
    """Read the connection's calendar now; see the module's docstring."""
    now = now or timezone.now()
    start, end = now - BEHIND, now + AHEAD
    fresh_enough = connection.busy_until is not None and connection.busy_until >= end - REEXPAND
    zone = ZoneInfo(connection.coach.timezone or "UTC")
    etag = last_modified = ""
    if connection.is_account:
        # An account (CalDAV, Google, Microsoft) is asked for the events of the chosen
        # calendars; what they give is compared by its busy times.
        try:
            busy = _read_account(connection, start=start, end=end, zone=zone)
        except providers.ProviderError as error:
            return _failed(connection, error.message, now)
        digest = _digest(busy)
        if fresh_enough and digest == connection.digest:
            _record(connection, last_attempt_at=now, last_synced_at=now, last_error="", failures=0)
            return Outcome(ok=True, changed=False, events=connection.events)
    else:
        fetched = _fetch_ics(connection, now=now, fresh_enough=fresh_enough)
        if isinstance(fetched, Outcome):
            return fetched
        body, etag, last_modified = fetched
        digest = hashlib.sha256(body).hexdigest()
        if fresh_enough and digest == connection.digest:
            # The same calendar as last time (a server that doesn't say so with a 304).
            _record(connection, last_attempt_at=now, last_synced_at=now, last_error="", failures=0)
            return Outcome(ok=True, changed=False, events=connection.events)
        try:
            busy = ics.busy_times(
                body,
                zone=zone,
                start=start,
                end=end,
                all_day_busy=connection.all_day_busy,
                free_busy=connection.free_events_busy,
                ours=_ours,
            )
        except ics.FeedError as error:
            return _failed(connection, str(error), now)
    with transaction.atomic():
        locked = CalendarConnection.objects.select_for_update().filter(pk=connection.pk).first()
        if locked is None:  # disconnected meanwhile
            return Outcome(ok=False, changed=False, events=0)
        spans = {(item.start, item.end) for item in busy}
        changed = _replace_busy(locked, spans)
        _record(
            connection,
            last_attempt_at=now,
            last_synced_at=now,
            last_error="",
            failures=0,
            etag=etag,
            last_modified=last_modified,
            digest=digest,
            busy_until=end,
            events=len(spans),
        )
    if changed:
        tell_clashes(connection.coach, now=now)
    return Outcome(ok=True, changed=changed, events=len(spans))


def _replace_busy(connection: CalendarConnection, wanted: set[tuple[dt.datetime, dt.datetime]]) -> bool:
    """Make the connection's busy times exactly ``wanted``: delete those gone, add those
    new (an unchanged calendar writes nothing). Whether anything changed."""
    kept: dict[tuple[dt.datetime, dt.datetime], int] = {}
    gone = []
    for pk, start, end in Allocation.objects.filter(calendar=connection).values_list("pk", "start", "end"):
        if (start, end) in wanted and (start, end) not in kept:
            kept[(start, end)] = pk
        else:
            gone.append(pk)
    if gone:
        Allocation.objects.filter(pk__in=gone).delete()
    new = sorted(wanted - set(kept))
    Allocation.objects.bulk_create(
        [
            Allocation(
                staff_id=connection.coach_id,
                calendar=connection,
                kind=AllocationKind.EXTERNAL,
                start=start,
                end=end,
                blocked_start=start,
                blocked_end=end,
                counts_toward_limits=False,
            )
            for start, end in new
        ],
        batch_size=1000,
    )
    return bool(gone or new)


def clashes(coach: User, *, now: dt.datetime | None = None) -> list[Booking]:
    """The coach's bookings ahead (active) whose session a busy time of one of their own
    calendars overlaps, soonest first."""
    now = now or timezone.now()
    busy = Allocation.objects.filter(
        staff=coach,
        kind=AllocationKind.EXTERNAL,
        is_active=True,
        start__lt=OuterRef("end"),
        end__gt=OuterRef("start"),
    )
    sessions = (
        Allocation.objects.filter(staff=coach, is_active=True, session__isnull=False, end__gt=now)
        .filter(Exists(busy))
        .values("session_id")
    )
    return list(
        Booking.objects.filter(session_id__in=sessions, status__in=ACTIVE_STATUSES)
        .select_related("session__session_type", "session__coach", "client")
        .order_by("session__start", "pk")
    )


def tell_clashes(coach: User, *, now: dt.datetime | None = None) -> int:
    """Tell the coach of each session ahead that their own calendar now contradicts (once
    per session and start time; a group session once, whoever booked it)."""
    told = 0
    seen: set[int] = set()
    for booking in clashes(coach, now=now):
        if booking.session_id in seen:
            continue
        seen.add(booking.session_id)
        key = f"calendar-clash:{booking.session_id}:{booking.session.start:%Y%m%dT%H%M}"
        if notify.tell(coach, Kind.CALENDAR_CLASH, key=key, booking=booking, now=now):
            told += 1
    return told


def due(now: dt.datetime | None = None) -> list[CalendarConnection]:
    """The active connections not read for ``CALENDAR_SYNC_MINUTES`` (a failing one waits
    longer after each failure, up to an hour), oldest first."""
    now = now or timezone.now()
    every = dt.timedelta(minutes=settings.CALENDAR_SYNC_MINUTES)
    candidates = (
        CalendarConnection.objects.filter(is_active=True)
        .filter(Q(last_attempt_at__isnull=True) | Q(last_attempt_at__lte=now - every))
        .select_related("coach")
        .order_by(F("last_attempt_at").asc(nulls_first=True), "pk")
    )
    found = []
    for connection in candidates:
        wait = min(every * (2 ** min(connection.failures, 6)), dt.timedelta(hours=1))
        if connection.last_attempt_at is None or connection.last_attempt_at <= now - wait:
            found.append(connection)
    return found
