"""Recurring bookings: a series of one-on-one occurrences booked at once, each checked.

``preview_series`` lists every occurrence of the rule (``availability.series``: the same
wall-clock time in the coach's zone, across DST) with its verdict — free, or why not, with
the same codes as a single booking — and, for a refused one, the nearest free time that
day (or the next days). It reads the coach's windows, the busy ledger over the whole range
and the client's sessions once, then judges every occurrence in memory.

``book_series`` books the chosen occurrences in one transaction under the locks of a
single booking (the client's and the coach's user rows), re-reading the ledger and
re-judging under them: ``all_or_nothing`` refuses the whole series when one occurrence is
refused, ``skip`` books the free ones. The database's constraints stay the last word.
A series is one decision: it is firm when every occurrence would be firm by the rules
(and the coach doesn't ask to approve series), else every occurrence is a request that the
coach approves or declines once (``approve_series`` / ``decline_series``; one occurrence
may still be declined alone). Exceptions — skip or cancel one, this and the following, all;
move one; retime the following — reuse the single-booking services occurrence by
occurrence inside one transaction, so each keeps its notice, policy and checks, and
their events carry the series batch (``common.series_batch``) so messages speak of it once.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.access import can_book_for
from accounts.models import User
from availability import slots as engine
from availability.models import Allocation, AllocationKind
from availability.rules import SERIES_NEEDS_APPROVAL, BookingRules, rules_for
from availability.selectors import LONGEST_ALLOCATION, availability_inputs, tag_rules_for
from availability.series import occurrences as expand
from availability.slots import _instant, _wall
from bookings import relay
from bookings.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingEvent,
    BookingStatus,
    HostMode,
    Series,
    SeriesFrequency,
    Session,
    SessionKind,
    SessionType,
)
from bookings.pricing import quote
from bookings.services.booking import _close_plan, _price_fields
from bookings.services.changes import cancel, reschedule
from bookings.services.checks import Standing, _check_may_book, _offered_at
from bookings.services.common import (
    MSG_SLOT_TAKEN,
    REQUEST_EXPIRY,
    BookingRefused,
    _aware,
    _hours,
    _integrity_as_taken,
    _lock_users,
    _now,
    _reference,
    _require_manager,
    series_batch,
    series_data,
)
from bookings.services.ledger import _pick_resource
from bookings.services.payment import payment_needed
from bookings.services.requests import (
    accept_alternative,
    approve,
    decline,
    decline_alternatives,
    suggest_alternatives,
)
from bookings.throttle import open_requests_limit
from bookings.video import new_meeting_link
from config import sql
from config.dates import format_when
from config.errors import DomainError, NotAllowed
from config.inputs import LONG_TEXT, clean_text

ALL_OR_NOTHING, SKIP = "all_or_nothing", "skip"
ON_CONFLICT = (ALL_OR_NOTHING, SKIP)
SCOPES = ("one", "following", "all")
# How many days either side of a refused occurrence a suggested time may be.
SUGGEST_DAYS = 3
FAR = dt.timedelta(days=3 * 366)


@dataclass(frozen=True)
class Verdict:
    """One occurrence of a series and what the calendar says of it."""

    start: dt.datetime  # UTC
    end: dt.datetime
    code: str = ""  # "" when free, else a single booking's refusal code
    message: str = ""
    suggestion: dt.datetime | None = None  # a nearby free start, for a refused one
    firm_window: bool = True

    @property
    def free(self) -> bool:
        return not self.code


@dataclass
class SeriesPreview:
    client: User
    actor: User
    session_type: SessionType
    coach: User
    zone: ZoneInfo
    frequency: str
    rrule: str
    rules: BookingRules
    standing: Standing
    horizon_end: dt.datetime
    occurrences: list[Verdict]
    needs_approval: bool
    request_reasons: tuple[str, ...] = ()
    inputs: tuple = field(default=(), repr=False)
    offered: dict = field(default_factory=dict, repr=False)

    @property
    def free(self) -> list[Verdict]:
        return [verdict for verdict in self.occurrences if verdict.free]

    @property
    def refused(self) -> list[Verdict]:
        return [verdict for verdict in self.occurrences if not verdict.free]


@dataclass(frozen=True)
class Outcome:
    """One occurrence after ``book_series``: its booking, or why it was skipped."""

    start: dt.datetime
    end: dt.datetime
    booking: Booking | None = None
    code: str = ""
    message: str = ""

    @property
    def status(self) -> str:
        return self.booking.status if self.booking is not None else "skipped"


def series_horizon(profile) -> dt.timedelta:
    """How far ahead a series may reach: the coach's setting, else ``SERIES_HORIZON_DAYS``."""
    days = getattr(profile, "series_horizon_days", None) or settings.SERIES_HORIZON_DAYS
    return dt.timedelta(days=days)


def rule_text(
    *,
    frequency: str,
    first_local: dt.datetime,
    interval: int = 1,
    count: int | None = None,
    until: dt.date | None = None,
    rrule: str = "",
) -> str:
    """The RRULE (without ``RRULE:``) of a frequency, or the custom ``rrule`` given, with
    its count or end date."""
    if count is not None and until is not None:
        raise DomainError(_("Give an end date or a number of sessions, not both."), code="invalid", field="count")
    if count is not None and not 1 <= count <= settings.MAX_SERIES_OCCURRENCES:
        raise DomainError(
            _("A series has between 1 and %(max)s sessions.") % {"max": settings.MAX_SERIES_OCCURRENCES},
            code="invalid",
            field="count",
        )
    if until is not None and until < first_local.date():
        raise DomainError(_("The end date is before the first session."), code="invalid", field="until")
    if not 1 <= interval <= 12:
        raise DomainError(_("Repeat every 1 to 12 weeks or months."), code="invalid", field="interval")
    if frequency == SeriesFrequency.CUSTOM:
        text = (rrule or "").strip().removeprefix("RRULE:").removeprefix("rrule:")
        parts = {part.split("=", 1)[0].upper(): part.split("=", 1)[1] for part in text.split(";") if "=" in part}
        if not text:
            raise DomainError(_("Give the repetition rule."), code="invalid", field="rrule")
        if parts.get("FREQ", "").upper() in ("HOURLY", "MINUTELY", "SECONDLY"):
            raise DomainError(_("A series repeats at most once a day."), code="invalid", field="rrule")
        if {"BYHOUR", "BYMINUTE", "BYSECOND"} & parts.keys():
            raise DomainError(
                _("Every session of a series is at the first one's time: leave out BYHOUR, BYMINUTE and BYSECOND."),
                code="invalid",
                field="rrule",
            )
        if parts.get("COUNT", "").isdigit() and not 1 <= int(parts["COUNT"]) <= settings.MAX_SERIES_OCCURRENCES:
            raise DomainError(
                _("A series has between 1 and %(max)s sessions.") % {"max": settings.MAX_SERIES_OCCURRENCES},
                code="invalid",
                field="rrule",
            )
        return text
    weekday = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")[first_local.weekday()]
    if frequency == SeriesFrequency.WEEKLY:
        text = f"FREQ=WEEKLY;INTERVAL={interval}"
    elif frequency == SeriesFrequency.BIWEEKLY:
        text = "FREQ=WEEKLY;INTERVAL=2"
    elif frequency == SeriesFrequency.MONTHLY_WEEKDAY:
        nth = (first_local.day - 1) // 7 + 1
        text = f"FREQ=MONTHLY;INTERVAL={interval};BYDAY={'-1' if nth == 5 else nth}{weekday}"
    elif frequency == SeriesFrequency.MONTHLY_DATE:
        text = f"FREQ=MONTHLY;INTERVAL={interval};BYMONTHDAY={first_local.day}"
    else:
        raise DomainError(_("Choose how the series repeats."), code="invalid", field="frequency")
    if count is not None:
        text += f";COUNT={count}"
    elif until is not None:
        text += f";UNTIL={until:%Y%m%d}T235959"
    return text


def _bounded(text: str) -> bool:
    upper = text.upper()
    return "COUNT=" in upper or "UNTIL=" in upper


def _check_series_type(session_type: SessionType) -> None:
    if session_type.kind != SessionKind.ONE_ON_ONE:
        raise DomainError(_("Only one-on-one session types can be booked as a series."), code="invalid")
    if not session_type.is_active:
        raise BookingRefused(_("This session type is no longer offered."), code="outside_availability")
    if session_type.host_mode != HostMode.SINGLE or session_type.required_subject_id is not None:
        raise DomainError(
            _("%(type)s is hosted by a team: book its sessions one at a time.") % {"type": session_type.title},
            code="invalid",
        )
    if session_type.requires_enrollment:
        raise DomainError(
            _("%(type)s is part of a programme: book its sessions one at a time.") % {"type": session_type.title},
            code="invalid",
        )


@dataclass
class _Calendar:
    """What an occurrence is judged against, read once for the whole range."""

    coach: User
    zone: ZoneInfo
    rules: BookingRules
    session_type_id: int
    now: dt.datetime
    horizon_end: dt.datetime
    windows: list
    overrides: list
    time_off: list
    busy: list[engine.BusyInterval]
    client_busy: list[tuple[dt.datetime, dt.datetime]]
    # start → (offered, firm) by the windows: the same inputs give the same answer, so
    # the judgement under the lock reuses the preview's.
    offered: dict = field(default_factory=dict)


def _read_calendar(
    *,
    coach: User,
    client: User,
    rules: BookingRules,
    session_type_id: int,
    starts: list[dt.datetime],
    now: dt.datetime,
    horizon_end: dt.datetime,
    inputs: tuple | None = None,
    offered: dict | None = None,
    ignore_sessions: Iterable[int] = (),
    ledger: bool = True,
) -> _Calendar:
    """The coach's windows (unless ``inputs`` carries them already), the coach's busy
    ledger and the client's sessions over ``starts``' whole range: three reads, whatever
    the number of occurrences. The busy read covers whole local weeks (the weekly limit)."""
    zone = ZoneInfo(coach.timezone)
    first_day = min(starts).astimezone(zone).date() - dt.timedelta(days=SUGGEST_DAYS + 7)
    last_day = max(starts).astimezone(zone).date() + dt.timedelta(days=SUGGEST_DAYS + 7)
    if inputs is None:
        inputs = availability_inputs(coach, first_day=first_day, last_day=last_day)
    windows, overrides, time_off = inputs
    range_start = dt.datetime.combine(first_day, dt.time(), tzinfo=zone)
    range_end = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    ignored = set(ignore_sessions)
    busy, client_busy = [], []
    if ledger:
        busy = [
            interval
            for interval, session_id in _busy_with_sessions(coach, start=range_start, end=range_end)
            if session_id not in ignored
        ]
        client_busy = list(
            Session.objects.filter(
                bookings__client=client,
                bookings__status__in=ACTIVE_STATUSES,
                start__lt=range_end,
                end__gt=range_start,
            )
            .exclude(pk__in=ignored)
            .values_list("start", "end")
        )
    return _Calendar(
        coach=coach,
        zone=zone,
        rules=rules,
        session_type_id=session_type_id,
        now=now,
        horizon_end=horizon_end,
        windows=list(windows),
        overrides=list(overrides),
        time_off=list(time_off),
        busy=busy,
        client_busy=client_busy,
        offered={} if offered is None else offered,
    )


def _busy_with_sessions(coach: User, *, start: dt.datetime, end: dt.datetime):
    rows = Allocation.objects.filter(
        staff=coach,
        is_active=True,
        blocked_start__gte=start - LONGEST_ALLOCATION,
        blocked_start__lt=end,
        blocked_end__gt=start,
    ).values_list("start", "end", "blocked_start", "blocked_end", "counts_toward_limits", "session_id")
    return [
        (engine.BusyInterval(start=s, end=e, blocked_start=bs, blocked_end=be, counts_toward_limits=counts), session)
        for s, e, bs, be, counts, session in rows
    ]


def _judge(calendar: _Calendar, starts: Iterable[dt.datetime], *, suggest: bool = True) -> list[Verdict]:
    """Each start's verdict, in order, each free one counted as taken for the next (its
    time, and the coach's day and week limits). Pure: no read."""
    rules, zone = calendar.rules, calendar.zone
    busy = list(calendar.busy)
    day_load: Counter = Counter()
    week_load: Counter = Counter()
    for interval in busy:
        if interval.counts_toward_limits:
            local = interval.start.astimezone(zone).date()
            day_load[local] += 1
            week_load[local.isocalendar()[:2]] += 1
    verdicts = []
    for start in starts:
        end = start + rules.duration
        code, message, firm = _refusal(calendar, busy, day_load, week_load, start, end)
        if code:
            near = suggest and code not in ("too_soon", "beyond_window")
            suggestion = _suggest(calendar, busy, start) if near else None
            verdicts.append(Verdict(start, end, code, message, suggestion, False))
            continue
        verdicts.append(Verdict(start, end, firm_window=firm))
        busy.append(
            engine.BusyInterval(
                start=start,
                end=end,
                blocked_start=start - rules.buffer_before,
                blocked_end=end + rules.buffer_after,
            )
        )
        local = start.astimezone(zone).date()
        day_load[local] += 1
        week_load[local.isocalendar()[:2]] += 1
    return verdicts


def _refusal(calendar: _Calendar, busy, day_load, week_load, start, end) -> tuple[str, str, bool]:
    """The first reason a booking at ``start`` would be refused, as ``book_slot`` checks
    them (timing, the windows, the ledger, the limits, the client) — ``("", "", firm)``
    when none, ``firm`` saying whether its window allows firm booking."""
    rules, coach, now = calendar.rules, calendar.coach, calendar.now
    if start <= now:
        return "too_soon", _("This time has already passed."), False
    if start < now + rules.minimum_notice:
        notice = _hours(rules.minimum_notice)
        return (
            "too_soon",
            _("%(coach)s needs at least %(notice)s' notice.") % {"coach": coach.display_name, "notice": notice},
            False,
        )
    if start > calendar.horizon_end:
        return "beyond_window", _("Beyond how far ahead %(coach)s takes series.") % {"coach": coach.display_name}, False
    if start not in calendar.offered:
        calendar.offered[start] = _offered_at(
            windows=calendar.windows,
            overrides=calendar.overrides,
            time_off=calendar.time_off,
            zone=calendar.zone,
            rules=rules,
            session_type_id=calendar.session_type_id,
            start=start,
        )
    offered, firm = calendar.offered[start]
    if not offered:
        if any(away.start < end and away.end > start for away in calendar.time_off):
            return "outside_availability", _("%(coach)s is away (time off).") % {"coach": coach.display_name}, False
        return "outside_availability", _("Outside %(coach)s's hours.") % {"coach": coach.display_name}, False
    blocked_start, blocked_end = start - rules.buffer_before, end + rules.buffer_after
    for interval in busy:
        if interval.blocked_start < blocked_end and interval.blocked_end > blocked_start:
            return "slot_taken", _("This time is taken."), False
    local = start.astimezone(calendar.zone).date()
    if rules.max_per_week is not None and week_load[local.isocalendar()[:2]] >= rules.max_per_week:
        return "limit_reached", _("%(coach)s is fully booked that week.") % {"coach": coach.display_name}, False
    if rules.max_per_day is not None and day_load[local] >= rules.max_per_day:
        return "limit_reached", _("%(coach)s is fully booked that day.") % {"coach": coach.display_name}, False
    if any(other_start < end and other_end > start for other_start, other_end in calendar.client_busy):
        return "client_conflict", _("You have another session at this time."), False
    return "", "", firm


def _suggest(calendar: _Calendar, busy, start: dt.datetime) -> dt.datetime | None:
    """The free start nearest ``start`` on its local day, else on the nearest day within
    ``SUGGEST_DAYS`` (the slot engine over the same inputs, the client's sessions aside)."""
    rules, zone = calendar.rules, calendar.zone
    slot_rules = replace(rules.slot_rules(), booking_window=max(calendar.horizon_end - calendar.now, rules.duration))
    day = start.astimezone(zone).date()
    for distance in range(SUGGEST_DAYS + 1):
        for offset in sorted({distance, -distance}):
            candidate_day = day + dt.timedelta(days=offset)
            found = engine.free_slots(
                windows=calendar.windows,
                overrides=calendar.overrides,
                time_off=calendar.time_off,
                busy=busy,
                rules=slot_rules,
                zone=zone,
                range_start=dt.datetime.combine(candidate_day, dt.time(), tzinfo=zone),
                range_end=dt.datetime.combine(candidate_day + dt.timedelta(days=1), dt.time(), tzinfo=zone),
                now=calendar.now,
                session_type_id=calendar.session_type_id,
            )
            free = [
                slot.start
                for slot in found
                if slot.start <= calendar.horizon_end
                and not any(s < slot.end and e > slot.start for s, e in calendar.client_busy)
            ]
            if free:
                return min(free, key=lambda candidate: (abs(candidate - start), candidate))
    return None


def preview_series(
    *,
    client: User,
    session_type: SessionType,
    start: dt.datetime,
    frequency: str = SeriesFrequency.WEEKLY,
    interval: int = 1,
    count: int | None = None,
    until: dt.date | None = None,
    rrule: str = "",
    booked_by: User | None = None,
    now: dt.datetime | None = None,
    ledger: bool = True,
) -> SeriesPreview:
    """Every occurrence of the series with its verdict; books nothing, locks nothing.
    Four reads for the calendar whatever the number of occurrences. ``ledger=False``
    (``book_series``, which judges the ledger under its locks): the rule, the timing and
    the windows only, two reads fewer."""
    actor = booked_by or client
    now = _now(now)
    start = _aware(start)
    _check_series_type(session_type)
    coach = session_type.coach
    standing = _check_may_book(actor=actor, client=client, coach=coach, session_type=session_type)
    profile = coach.coach_profile
    if not profile.allow_series and not (actor.is_staff_member or actor.pk == coach.pk):
        raise BookingRefused(
            _("%(coach)s doesn't take series bookings: book one session at a time.") % {"coach": coach.display_name},
            code="policy_violation",
        )
    tag_rules = tag_rules_for(client, coach) if standing.tagged else []
    rules = rules_for(profile, session_type, tag_rules=tag_rules)
    zone = ZoneInfo(coach.timezone)
    first_local = _wall(start, zone)
    text = rule_text(
        frequency=frequency, first_local=first_local, interval=interval, count=count, until=until, rrule=rrule
    )
    horizon_end = now + series_horizon(profile)
    found = expand(
        first_start=start,
        rrule=text,
        zone=zone,
        horizon_end=start + FAR if _bounded(text) else horizon_end,
        limit=settings.MAX_SERIES_OCCURRENCES,
    )
    starts = [occurrence.start for occurrence in found]
    calendar = _read_calendar(
        coach=coach,
        client=client,
        rules=rules,
        session_type_id=session_type.pk,
        starts=starts,
        now=now,
        horizon_end=horizon_end,
        ledger=ledger,
    )
    verdicts = _judge(calendar, starts, suggest=ledger)
    reasons = _request_reasons(profile, rules, standing, [v for v in verdicts if v.free], now)
    return SeriesPreview(
        client=client,
        actor=actor,
        session_type=session_type,
        coach=coach,
        zone=zone,
        frequency=frequency,
        rrule=text,
        rules=rules,
        standing=standing,
        horizon_end=horizon_end,
        occurrences=verdicts,
        needs_approval=bool(reasons),
        request_reasons=reasons,
        inputs=(calendar.windows, calendar.overrides, calendar.time_off),
        offered=calendar.offered,
    )


def _request_reasons(profile, rules: BookingRules, standing: Standing, chosen: list[Verdict], now) -> tuple[str, ...]:
    """Why the series would be a request (empty: firm): the coach approves every series, or
    some occurrence would be a request by the single-booking rule."""
    reasons: list[str] = []
    if profile.series_requires_approval:
        reasons.append(SERIES_NEEDS_APPROVAL)
    for verdict in chosen:
        for reason in rules.request_reasons(
            start=verdict.start, now=now, connected=standing.connected, window_allows_firm=verdict.firm_window
        ):
            if reason not in reasons:
                reasons.append(reason)
    return tuple(reasons)


def book_series(
    *,
    client: User,
    session_type: SessionType,
    start: dt.datetime,
    frequency: str = SeriesFrequency.WEEKLY,
    interval: int = 1,
    count: int | None = None,
    until: dt.date | None = None,
    rrule: str = "",
    on_conflict: str = ALL_OR_NOTHING,
    moves: Mapping[dt.datetime, dt.datetime] | None = None,
    booked_by: User | None = None,
    notes: str = "",
    reminders: bool = True,
    now: dt.datetime | None = None,
) -> tuple[Series, list[Outcome]]:
    """Book the series: every free occurrence (``moves``: an occurrence's start → the time
    it is booked at instead, e.g. a suggested one) in one transaction, or none.
    ``on_conflict``: ``all_or_nothing`` refuses (409, the first refused occurrence's code
    and words, naming its date) when any occurrence is refused; ``skip`` books the others.
    Locks the user rows of the client and the coach (in id order), then the rooms when the
    type needs one."""
    if on_conflict not in ON_CONFLICT:
        raise DomainError(_("on_conflict is all_or_nothing or skip."), code="invalid", field="on_conflict")
    now = _now(now)
    notes = clean_text(notes, LONG_TEXT, field="notes")
    preview = preview_series(
        client=client,
        session_type=session_type,
        start=start,
        frequency=frequency,
        interval=interval,
        count=count,
        until=until,
        rrule=rrule,
        booked_by=booked_by,
        now=now,
        ledger=False,  # judged under the locks
    )
    moves = {_aware(key): _aware(value) for key, value in (moves or {}).items()}
    known = {verdict.start for verdict in preview.occurrences}
    for original in moves:
        if original not in known:
            raise DomainError(
                _("%(when)s is not one of this series' dates.") % {"when": _local(original, preview.zone)},
                code="invalid",
                field="moves",
            )
    wanted: list[tuple[dt.datetime, dt.datetime]] = []  # (occurrence, start booked)
    skipped: list[Outcome] = []
    for verdict in preview.occurrences:
        if verdict.start in moves:
            wanted.append((verdict.start, moves[verdict.start]))
        elif verdict.free:
            wanted.append((verdict.start, verdict.start))
        elif on_conflict == ALL_OR_NOTHING:
            _refuse(verdict, preview.zone)
        else:
            skipped.append(Outcome(verdict.start, verdict.end, code=verdict.code, message=verdict.message))
    if not wanted:
        first = preview.refused[0]
        raise BookingRefused(
            _("None of the series' dates is free. %(reason)s") % {"reason": first.message}, code=first.code
        )
    booking_ids = sql.next_ids(Booking, len(wanted))
    try:
        with transaction.atomic():
            series, outcomes = _book_locked(preview, wanted, skipped, on_conflict, booking_ids, notes, reminders, now)
    except IntegrityError as exc:
        raise _integrity_as_taken(exc) from exc
    return series, outcomes


def _local(instant: dt.datetime, zone: ZoneInfo) -> str:
    return format_when(timezone.localtime(instant, zone), "datetime_short")


def _refuse(verdict: Verdict, zone: ZoneInfo) -> None:
    raise BookingRefused(
        _("%(when)s: %(reason)s") % {"when": _local(verdict.start, zone), "reason": verdict.message},
        code=verdict.code,
    )


def _book_locked(preview, wanted, skipped, on_conflict, booking_ids, notes, reminders, now):
    client, coach, session_type, rules = preview.client, preview.coach, preview.session_type, preview.rules
    _lock_users(client, coach)
    calendar = _read_calendar(
        coach=coach,
        client=client,
        rules=rules,
        session_type_id=session_type.pk,
        starts=[booked for _original, booked in wanted],
        now=now,
        horizon_end=preview.horizon_end,
        inputs=preview.inputs,
        offered=preview.offered,
    )
    verdicts = _judge(calendar, [booked for _original, booked in wanted], suggest=False)
    chosen: list[tuple[dt.datetime, Verdict]] = []
    for (original, _booked), verdict in zip(wanted, verdicts, strict=True):
        if verdict.free:
            chosen.append((original, verdict))
        elif on_conflict == ALL_OR_NOTHING or original != verdict.start:
            # A time the client chose (the series whole, or a moved date) is refused, not dropped.
            _refuse(verdict, preview.zone)
        else:
            skipped.append(Outcome(verdict.start, verdict.end, code=verdict.code, message=verdict.message))
    if not chosen:
        raise BookingRefused(MSG_SLOT_TAKEN, code="slot_taken")
    if booking_ids is None:  # SQLite: ids taken under the write lock, so each row is written whole
        booking_ids = sql.next_ids_locked(Booking, len(chosen))
    reasons = _request_reasons(coach.coach_profile, rules, preview.standing, [v for _o, v in chosen], now)
    firm = not reasons
    if not firm:
        open_requests_limit(client, coach, now=now)
    first_start = min(verdict.start for _o, verdict in chosen)
    deadline = None if firm else min(now + REQUEST_EXPIRY, first_start)
    status = BookingStatus.FIRM_BOOKED if firm else BookingStatus.REQUESTED
    series = Series.objects.create(
        client=client,
        booked_by=preview.actor,
        coach=coach,
        session_type=session_type,
        frequency=preview.frequency,
        recurrence="RRULE:" + preview.rrule,
        first_start=preview.occurrences[0].start,
        local_time=_wall(preview.occurrences[0].start, preview.zone).time(),
        timezone=coach.timezone,
        exceptions=[
            {
                "kind": "moved",
                "date": original.isoformat(),
                "to": verdict.start.isoformat(),
                "at": now.isoformat(),
                "by": preview.actor.pk,
            }
            for original, verdict in chosen
            if original != verdict.start
        ]
        + [
            {
                "kind": "skipped",
                "date": outcome.start.isoformat(),
                "code": outcome.code,
                "message": outcome.message,
                "at": now.isoformat(),
            }
            for outcome in skipped
        ],
    )
    sessions = []
    for _original, verdict in chosen:
        resource = (
            _pick_resource(session_type, start=verdict.start, end=verdict.end) if session_type.resource_kind else None
        )
        sessions.append(
            Session(
                session_type=session_type,
                coach=coach,
                start=verdict.start,
                end=verdict.end,
                capacity=1,
                seats_taken=1,
                resource=resource,
                meeting_link=new_meeting_link(session_type),
                location=session_type.location or (resource.location if resource else ""),
            )
        )
    sessions = sql.insert_many(sessions)
    kind = AllocationKind.SESSION if firm else AllocationKind.REQUEST
    allocations = []
    for session in sessions:
        allocations.append(
            {
                "session_id": session.pk,
                "staff_id": coach.pk,
                "kind": kind,
                "start": session.start,
                "end": session.end,
                "blocked_start": session.start - rules.buffer_before,
                "blocked_end": session.end + rules.buffer_after,
            }
        )
        if session.resource is not None:
            allocations.append(
                {
                    "session_id": session.pk,
                    "resource_id": session.resource.pk,
                    "kind": kind,
                    "start": session.start,
                    "end": session.end,
                    "blocked_start": session.start,
                    "blocked_end": session.end,
                    "counts_toward_limits": False,
                }
            )
    sql.insert_values(Allocation, allocations)
    profile = coach.coach_profile
    bookings = []
    for index, session in enumerate(sessions):
        price = quote(
            session_type,
            start=session.start,
            now=now,
            connected=preview.standing.connected,
            discount_percent=getattr(profile, "connected_discount_percent", 0),
        )
        fields = _price_fields(session_type, price)
        if payment_needed(price.due_now) and not fields.get("balance_due_at"):
            # Paid occurrence by occurrence: each is due before it starts (the balance's
            # reminders and page), not held for payment now.
            fields["balance_due_at"] = max(now, session.start - dt.timedelta(days=session_type.balance_due_days))
        pk = booking_ids[index]
        bookings.append(
            Booking(
                id=pk,
                session=session,
                client=client,
                booked_by=preview.actor,
                reference=_reference(pk, now),
                status=status,
                client_notes=notes.strip(),
                expires_at=deadline,
                confirmed_at=now if firm else None,
                **fields,
                series=series,
                late_refund_percent=session_type.late_cancellation_refund_percent,
                reminders_enabled=reminders,
            )
        )
    sql.insert_many(bookings)
    decided_by = (
        {"reasons": [SERIES_NEEDS_APPROVAL], "tag": "", "never": False}
        if reasons == (SERIES_NEEDS_APPROVAL,)
        else rules.decided_by(
            start=first_start,
            now=now,
            connected=preview.standing.connected,
            window_allows_firm=all(v.firm_window for _o, v in chosen),
        )
    )
    with series_batch(series.pk, len(bookings)) as batch:
        sql.insert_values(
            BookingEvent,
            [
                {
                    "booking_id": booking.pk,
                    "actor_id": preview.actor.pk,
                    "action": "booked" if firm else "requested",
                    "from_status": "",
                    "to_status": booking.status,
                    "data": {**series_data(batch), "decided_by": decided_by},
                }
                for booking in bookings
            ],
        )
    transaction.on_commit(relay.wake)
    if preview.standing.planning:
        _close_plan(client, session_type, bookings[0], now)
    by_start = {booking.session.start: booking for booking in bookings}
    outcomes = [
        Outcome(verdict.start, verdict.end, booking=by_start[verdict.start]) for _original, verdict in chosen
    ] + skipped
    outcomes.sort(key=lambda outcome: outcome.start)
    return series, outcomes


# ---------------------------------------------------------------------------------------
# After booking: one decision, exceptions
# ---------------------------------------------------------------------------------------


def occurrences_of(series: Series):
    """The series' bookings, by start, with what their pages need."""
    return (
        Booking.objects.filter(series=series)
        .select_related("session", "session__coach", "session__session_type", "client")
        .order_by("session__start", "pk")
    )


def approve_series(*, series: Series, actor: User, note: str = "", now: dt.datetime | None = None) -> list[Booking]:
    """The coach approves every open request of the series at once (those still to come),
    in one transaction: all of them, or none with the reason."""
    now = _now(now)
    requested = _open_requests(series, now)
    _require_manager(actor, requested[0])
    with series_batch(series.pk, len(requested)), transaction.atomic():
        return [approve(booking=booking, actor=actor, note=note, now=now) for booking in requested]


def decline_series(*, series: Series, actor: User, reason: str, now: dt.datetime | None = None) -> list[Booking]:
    """The coach declines every open request of the series at once, saying why."""
    now = _now(now)
    requested = list(occurrences_of(series).filter(status=BookingStatus.REQUESTED))
    if not requested:
        raise DomainError(_("This series has no request waiting for an answer."), code="invalid_transition", status=409)
    _require_manager(actor, requested[0])
    if not clean_text(reason, LONG_TEXT, field="reason"):
        raise DomainError(_("Tell the client why you are declining."), code="reason_required")
    with series_batch(series.pk, len(requested)), transaction.atomic():
        return [decline(booking=booking, actor=actor, reason=reason, now=now) for booking in requested]


def _occurrence_at(series: Series, start: dt.datetime) -> Booking:
    start = _aware(start)
    for booking in occurrences_of(series).filter(status__in=ACTIVE_STATUSES):
        if booking.session.start == start:
            return booking
    raise DomainError(
        _("No active session of this series starts at %(when)s.") % {"when": _local(start, ZoneInfo(series.timezone))},
        code="not_found",
        status=404,
        field="start",
    )


def cancel_series(
    *,
    series: Series,
    actor: User,
    scope: str,
    start: dt.datetime | None = None,
    reason: str = "",
    skip: bool = False,
    now: dt.datetime | None = None,
) -> list[Booking]:
    """Cancel one occurrence (``skip``: recorded as skipped), this one and the following,
    or all still to come — in one transaction, each by the single-booking rules (its
    cancellation notice, its policy): a refusal of one refuses the change."""
    now = _now(now)
    if scope not in SCOPES:
        raise DomainError(_("scope is one, following or all."), code="invalid", field="scope")
    if scope == "all":
        targets = [b for b in occurrences_of(series).filter(status__in=ACTIVE_STATUSES) if b.session.start > now]
        if not targets:
            raise DomainError(_("Nothing of this series is left to cancel."), code="invalid_transition", status=409)
    else:
        if start is None:
            raise DomainError(_("Say which session: its start."), code="invalid", field="start")
        first = _occurrence_at(series, start)
        targets = (
            [first]
            if scope == "one"
            else [
                b
                for b in occurrences_of(series).filter(status__in=ACTIVE_STATUSES)
                if b.session.start >= first.session.start
            ]
        )
    kinds = {"one": "cancelled", "following": "cancelled_following", "all": "cancelled_all"}
    kind = "skipped" if skip else kinds[scope]
    with series_batch(series.pk, len(targets)), transaction.atomic():
        done = [cancel(booking=booking, actor=actor, reason=reason, now=now) for booking in targets]
        _note(series, kind=kind, date=targets[0].session.start, actor=actor, now=now, count=len(done))
    return done


def move_occurrence(
    *, series: Series, actor: User, start: dt.datetime, new_start: dt.datetime, now: dt.datetime | None = None
) -> Booking:
    """Move one occurrence to another free time (a reschedule by the single-booking rules,
    the series' horizon standing for the booking window)."""
    now = _now(now)
    booking = _occurrence_at(series, start)
    with transaction.atomic():
        moved = reschedule(booking=booking, actor=actor, start=new_start, now=now)
        _note(series, kind="moved", date=booking.session.start, actor=actor, now=now, to=moved.session.start)
    return moved


def _shifted(bookings: list[Booking], *, zone: ZoneInfo, first: Booking, new_start: dt.datetime):
    """Each booking's start moved as ``first`` moves to ``new_start``: the same weekday
    shift and the new wall-clock time in ``zone``; ordered so that no move lands on a
    neighbour's old time (moving later: the last goes first)."""
    old_local, new_local = _wall(first.session.start, zone), _wall(new_start, zone)
    shift = new_local.date() - old_local.date()
    plan = []
    for booking in bookings:
        local = dt.datetime.combine(_wall(booking.session.start, zone).date() + shift, new_local.time())
        instant, exists = _instant(local, zone)
        if not exists:
            raise BookingRefused(
                _("%(when)s doesn't exist on %(day)s (the clocks change).")
                % {"when": new_local.strftime("%H:%M"), "day": format_when(local.date(), "day_short")},
                code="outside_availability",
            )
        plan.append((booking, instant))
    if plan and plan[0][1] > plan[0][0].session.start:
        plan.reverse()
    return plan


def retime_following(
    *, series: Series, actor: User, start: dt.datetime, new_start: dt.datetime, now: dt.datetime | None = None
) -> list[Booking]:
    """From the occurrence at ``start`` on, every occurrence moves to ``new_start``'s
    wall-clock time (and weekday shift) in the series' zone, each checked like a new
    booking; all of them move, or none."""
    now = _now(now)
    first = _occurrence_at(series, start)
    new_start = _aware(new_start)
    targets = [
        b for b in occurrences_of(series).filter(status__in=ACTIVE_STATUSES) if b.session.start >= first.session.start
    ]
    plan = _shifted(targets, zone=ZoneInfo(series.timezone), first=first, new_start=new_start)
    with series_batch(series.pk, len(plan)), transaction.atomic():
        moved = [
            reschedule(booking=booking, actor=actor, start=instant, now=now)
            for booking, instant in plan
            if instant != booking.session.start
        ]
        _note(series, kind="retimed", date=first.session.start, actor=actor, now=now, to=new_start)
    return sorted(moved, key=lambda booking: booking.session.start)


def _open_requests(series: Series, now: dt.datetime) -> list[Booking]:
    found = [b for b in occurrences_of(series).filter(status=BookingStatus.REQUESTED) if b.session.start > now]
    if not found:
        raise DomainError(_("This series has no request waiting for an answer."), code="invalid_transition", status=409)
    return found


def suggest_series_time(
    *, series: Series, actor: User, new_start: dt.datetime, note: str = "", now: dt.datetime | None = None
) -> list[Booking]:
    """The coach answers a series request with another time for all of it: the first open
    date moves to ``new_start`` and every other open date by the same weekday shift, at
    ``new_start``'s wall-clock time. Each request keeps holding its time until the client
    accepts (``accept_series_time``) or declines (``decline_series_time``) — once."""
    now = _now(now)
    requested = _open_requests(series, now)
    _require_manager(actor, requested[0])
    plan = _shifted(requested, zone=ZoneInfo(series.timezone), first=requested[0], new_start=_aware(new_start))
    with series_batch(series.pk, len(plan)), transaction.atomic():
        done = [
            suggest_alternatives(booking=booking, actor=actor, alternatives=[instant], note=note, now=now)
            for booking, instant in sorted(plan, key=lambda item: item[1])
        ]
        _note(series, kind="time_suggested", date=requested[0].session.start, actor=actor, now=now, to=new_start)
    return done


def _with_suggestion(series: Series, now: dt.datetime) -> list[Booking]:
    found = [b for b in _open_requests(series, now) if b.suggested_alternatives]
    if not found:
        raise DomainError(_("The coach hasn't suggested another time."), code="invalid_transition", status=409)
    return found


def accept_series_time(*, series: Series, actor: User, now: dt.datetime | None = None) -> list[Booking]:
    """The client takes the time the coach suggested for the series: every open date
    moves there, confirmed, or none does."""
    now = _now(now)
    waiting = _with_suggestion(series, now)
    plan = [(booking, dt.datetime.fromisoformat(booking.suggested_alternatives[0])) for booking in waiting]
    if plan[0][1] > plan[0][0].session.start:
        plan.reverse()
    with series_batch(series.pk, len(plan)), transaction.atomic():
        moved = [accept_alternative(booking=booking, actor=actor, start=start, now=now) for booking, start in plan]
        _note(series, kind="time_accepted", date=waiting[0].session.start, actor=actor, now=now)
    return sorted(moved, key=lambda booking: booking.session.start)


def decline_series_time(
    *, series: Series, actor: User, note: str = "", now: dt.datetime | None = None
) -> list[Booking]:
    """The client turns the suggested time down: the series request is withdrawn."""
    now = _now(now)
    waiting = _with_suggestion(series, now)
    with series_batch(series.pk, len(waiting)), transaction.atomic():
        done = [decline_alternatives(booking=booking, actor=actor, note=note, now=now) for booking in waiting]
        _note(series, kind="time_declined", date=waiting[0].session.start, actor=actor, now=now)
    return done


def _note(series: Series, *, kind: str, date: dt.datetime, actor: User, now: dt.datetime, **extra) -> None:
    entry = {"kind": kind, "date": date.isoformat(), "at": now.isoformat(), "by": actor.pk}
    entry.update({key: value.isoformat() if isinstance(value, dt.datetime) else value for key, value in extra.items()})
    Series.objects.filter(pk=series.pk).update(exceptions=[*series.exceptions, entry])
    series.exceptions = [*series.exceptions, entry]


def describe(series: Series, *, left: int | None = None, total: int | None = None) -> str:
    """ "Weekly, Tuesdays 18:00" (the series' zone), with "7 of 12 left" when counts are given."""
    zone = ZoneInfo(series.timezone)
    local = _wall(series.first_start, zone)
    day = format_when(local, "weekday_long")
    text = {
        SeriesFrequency.WEEKLY: _("Weekly, %(day)ss %(time)s"),
        SeriesFrequency.BIWEEKLY: _("Every two weeks, %(day)ss %(time)s"),
        SeriesFrequency.MONTHLY_WEEKDAY: _("Monthly, a %(day)s at %(time)s"),
        SeriesFrequency.MONTHLY_DATE: _("Monthly, on the %(date)s at %(time)s"),
        SeriesFrequency.CUSTOM: _("Repeating, from %(day)s at %(time)s"),
    }[series.frequency] % {"day": day, "time": series.local_time.strftime("%H:%M"), "date": local.day}
    if left is not None and total is not None:
        text += ", " + ngettext("%(left)d of %(total)d left", "%(left)d of %(total)d left", total) % {
            "left": left,
            "total": total,
        }
    return text


def may_see(actor: User, series: Series) -> bool:
    """The client, who booked, the coach, staff, and whoever may book for the client."""
    return (
        actor.pk in (series.client_id, series.booked_by_id, series.coach_id)
        or actor.is_staff_member
        or can_book_for(actor, series.client, coach=series.coach)
    )


def require_may_see(actor: User, series: Series) -> None:
    if not may_see(actor, series):
        raise NotAllowed()
