"""The booking wizard, one URL per step so back, refresh and shared links all work:

1. ``/book/`` choose a coach (``book_coach_list``);
2. ``/book/<coach>/`` choose one of the coach's session types (``book_coach``; ``?type=``
   or a coach with a single type skips ahead);
3. ``/book/<coach>/<type>/`` a month calendar of the free days, then the chosen day's
   times (``book_type``); the query string holds the state (``?month=YYYY-MM``,
   ``?date=YYYY-MM-DD``, ``?start=<UTC instant>``). Group sessions and workshops list
   their upcoming sessions here instead;
4. ``/book/<coach>/<type>/confirm/?start=`` the summary, notes and reminders, then one
   call to ``services.book_slot`` (``book_confirm``); ``/book/session/<id>/`` the same for
   a seat in a group session (``book_seat``);
5. ``/bookings/<reference>/done/`` the confirmation screen (``booking_done``).

``/bookings/<reference>/reschedule/`` reuses the calendar and times for a booking's type.
With htmx the calendar view answers with the ``times`` partial plus out-of-band copies of
the calendar, the step indicator and the notices, so every region stays in step with the
URL. Bad query values never fail a page: each falls back to a sensible default and says so.
Every write goes through ``bookings.services``; a refusal is shown with its message and
leaves nothing written.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
import re
from dataclasses import dataclass
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from accounts.access import clients_bookable_by
from accounts.models import Role, Subject, User
from accounts.selectors import (
    coaches_visible_to,
    dependents_of,
    is_connected,
    subjects_by_coach,
    subjects_of_coaches,
)
from availability.rules import rules_for
from availability.selectors import MAX_RANGE_DAYS, allowed_resources, free_slots, tag_rules_for
from availability.slots import Slot
from bookings import gates, idempotency, payment_methods, selectors, services, suggestions
from bookings.forms import BookingForm
from bookings.models import ACTIVE_STATUSES, Booking, BookingStatus, Session, SessionType
from bookings.pricing import PromoRefused, Quote, find_promo, quote
from bookings.request_reasons import explain_request, window_allows_firm_at
from bookings.selectors import room_text
from bookings.services.enrollment import check_enrollment, enrollments_for, sessions_left
from bookings.services.payment import payment_needed, payments_enabled
from config import money
from config.dates import format_when
from config.errors import DomainError
from config.inputs import in_range_day, in_range_instant

logger = logging.getLogger(__name__)

SLOT_UNAVAILABLE = services.MSG_SLOT_TAKEN  # "This time is no longer available. Select another."
CLIENT_CONFLICT = services.MSG_CLIENT_CONFLICT  # "You have another session at this time."
BOOKING_FAILED = services.MSG_FAILED  # "Unable to book. Please try again."
SESSION_FULL = _lazy("This session is full.")
ALREADY_BOOKED = _lazy("This booking was already made.")
ALREADY_MOVED = _lazy("This booking was already moved.")
STILL_BOOKING = _lazy("Your booking is still being made: it appears on your dashboard in a moment.")
CONSENT_MISSING = _lazy("To book, read and accept each document below: tick its box.")
NOT_A_CLIENT = _lazy(
    "Sessions are booked from a client account. As a coach or staff member you can look "
    "around here, but not book a session for yourself."
)
ONE_DAY = dt.timedelta(days=1)
REFERENCE_SHAPE = re.compile(r"BK-\d{4}-\d{1,12}")
GROUP_LIST_LIMIT = 60


@dataclass(frozen=True)
class CalendarDay:
    date: dt.date
    free_count: int
    bookable: bool
    is_today: bool
    selected: bool
    url: str


@dataclass(frozen=True)
class TimeChoice:
    start: dt.datetime  # in the viewer's zone
    end: dt.datetime
    label: str
    url: str
    selected: bool
    instant: str  # the UTC start as it goes in a URL


@dataclass(frozen=True)
class TimeGroup:
    label: str
    times: list[TimeChoice]


@dataclass(frozen=True)
class WizardState:
    """The calendar page's query string, parsed; every bad value replaced by a default."""

    month: dt.date  # the first of the shown month
    date: dt.date | None
    start: dt.datetime | None  # UTC
    start_unreadable: bool
    notices: list[str]


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    url: str | None
    state: str  # "done", "current" or "todo"


STEP_LABELS = {
    "coach": _lazy("Coach"),
    "session": _lazy("Session"),
    "day": _lazy("Day"),
    "time": _lazy("Time"),
    "date": _lazy("Date"),
    "confirm": _lazy("Confirm"),
    "questions": _lazy("Questions"),
}
ONE_ON_ONE_STEPS = ("coach", "session", "day", "time", "confirm")
GROUP_STEPS = ("coach", "session", "date", "confirm")
# With an intake form to answer (``bookings.gates.asked``), its Questions step comes before confirming.
ONE_ON_ONE_QUESTION_STEPS = ("coach", "session", "day", "time", "questions", "confirm")
GROUP_QUESTION_STEPS = ("coach", "session", "date", "questions", "confirm")
RESCHEDULE_STEPS = ("day", "time", "confirm")


def _steps(keys: tuple[str, ...], current: str, urls: dict[str, str] | None = None) -> list[Step]:
    """The step indicator: steps before ``current`` are done (and link back when a URL is
    known), the current one is marked, the rest are still to come."""
    urls = urls or {}
    index = keys.index(current)
    return [
        Step(
            key=key,
            label=STEP_LABELS[key],
            url=urls.get(key) if position < index else None,
            state="done" if position < index else "current" if position == index else "todo",
        )
        for position, key in enumerate(keys)
    ]


# ---------------------------------------------------------------------------------------
# Steps 1 and 2: coach, session type
# ---------------------------------------------------------------------------------------


def book_coach_list(request: HttpRequest) -> HttpResponse:
    """Step 1: choose a coach. Open to visitors; only coaches the viewer may see are listed,
    each with their subjects; ``?subject=<id>`` keeps those who declare that subject (a
    select and a button: it works without JavaScript)."""
    everyone = coaches_visible_to(request.user)
    subject, notices = _subject_asked(request)
    coaches = list(coaches_visible_to(request.user, subject=subject) if subject is not None else everyone)
    subjects = subjects_by_coach(coaches)
    for coach in coaches:
        coach.subject_list = subjects[coach.pk]
    return render(
        request,
        "bookings/coach_list.html",
        {
            "coaches": coaches,
            "subjects": list(subjects_of_coaches(everyone)),
            "subject": subject,
            "notices": notices,
            "steps": _steps(ONE_ON_ONE_STEPS, "coach"),
        },
    )


def _subject_asked(request: HttpRequest) -> tuple[Subject | None, list[str]]:
    """The subject ``?subject=`` names, or None (and a notice when it names none)."""
    raw = (request.GET.get("subject") or "").strip()
    if not raw:
        return None, []
    subject = Subject.objects.filter(pk=int(raw)).first() if raw.isascii() and raw.isdigit() and len(raw) < 19 else None
    if subject is None:
        return None, [gettext("That subject wasn't found; every coach is listed.")]
    return subject, []


def _visible_coach(request: HttpRequest, coach_id: int) -> User:
    user = request.user
    if user.is_authenticated and user.pk == coach_id and user.role == Role.COACH:  # their own, whatever its visibility
        return get_object_or_404(User.objects.select_related("coach_profile"), pk=coach_id, is_active=True)
    return get_object_or_404(coaches_visible_to(request.user), pk=coach_id)


def _offered_type(coach: User, type_id: int) -> SessionType:
    return get_object_or_404(selectors.session_types_of(coach), pk=type_id)


def _coach_url(coach: User) -> str:
    # ``all=1`` keeps a coach with a single session type on the list instead of skipping it.
    return f"{reverse('book_coach', args=[coach.pk])}?all=1"


def _type_url(session_type: SessionType, **params: object) -> str:
    url = reverse("book_type", args=[session_type.coach_id, session_type.pk])
    query = {key: value for key, value in params.items() if value is not None}
    return f"{url}?{urlencode(query)}" if query else url


def book_coach(request: HttpRequest, coach_id: int) -> HttpResponse:
    """Step 2: the coach's session types. ``?type=ID`` (a link from elsewhere) or a coach
    who offers exactly one type goes straight on to that type's calendar, keeping any
    month, date or start the link carried."""
    coach = _visible_coach(request, coach_id)
    # In the order the coach put them in (their session types page).
    types = list(selectors.session_types_of(coach))
    carried = {key: request.GET[key] for key in ("month", "date", "start") if request.GET.get(key)}
    notices: list[str] = []
    raw_type = (request.GET.get("type") or "").strip()
    if raw_type:
        chosen = next((st for st in types if str(st.pk) == raw_type), None)
        if chosen is not None:
            return redirect(_type_url(chosen, **carried))
        notices.append(gettext("That session type isn't offered; choose one below."))
    elif len(types) == 1 and not request.GET.get("all"):
        return redirect(_type_url(types[0], **carried))
    return render(
        request,
        "bookings/coach.html",
        {
            "coach": coach,
            "profile": coach.coach_profile,
            "subjects": list(coach.coach_profile.subjects.order_by("name")),
            "session_types": types,
            "groups_enabled": settings.ENABLE_GROUP_SESSIONS,
            "notices": notices,
            "steps": _steps(ONE_ON_ONE_STEPS, "session", {"coach": reverse("book_coach_list")}),
        },
    )


# ---------------------------------------------------------------------------------------
# Step 3: date and time (one-on-one), or the list of sessions (group, workshop)
# ---------------------------------------------------------------------------------------


@vary_on_headers("HX-Request")
def book_type(request: HttpRequest, coach_id: int, type_id: int) -> HttpResponse:
    """The type's month calendar of free days, the chosen day's times in the viewer's zone,
    and the chosen time's summary with the way on to the confirm step."""
    coach = _visible_coach(request, coach_id)
    session_type = _offered_type(coach, type_id)
    if session_type.is_group:
        return _group_sessions(request, coach, session_type)
    base = reverse("book_type", args=[coach.pk, session_type.pk])
    context = _picker_context(request, coach=coach, session_type=session_type, base=base)
    selected = context["selected"]
    context |= {
        "rebooking": None,
        "continue_url": (
            f"{reverse('book_confirm', args=[coach.pk, session_type.pk])}?{urlencode({'start': selected.instant})}"
            if selected
            else None
        ),
        "steps": _steps(
            ONE_ON_ONE_STEPS,
            "time" if context["selected_date"] else "day",
            {"coach": reverse("book_coach_list"), "session": _coach_url(coach), "day": base},
        ),
        "may_book": _who_for(request, coach).may_book,
    }
    return _render_picker(request, context)


def _render_picker(request: HttpRequest, context: dict) -> HttpResponse:
    if request.htmx and not request.htmx.history_restore_request:
        context["oob"] = True
        return render(request, "bookings/type.html#times", context)
    return render(request, "bookings/type.html", context)


def _group_sessions(request: HttpRequest, coach: User, session_type: SessionType) -> HttpResponse:
    """A group type's or workshop's upcoming sessions, with the seats left in each."""
    sessions = list(
        selectors.upcoming_group_sessions(coach=coach, session_type=session_type)[:GROUP_LIST_LIMIT]
        if settings.ENABLE_GROUP_SESSIONS
        else []
    )
    who = _who_for(request, coach)
    held = _seats_held(who.picked or request.user, sessions)
    for session in sessions:
        session.held_reference = held.get(session.pk)
    _price_sessions(request, who, coach, session_type, sessions)
    refusal = SESSION_FULL if request.GET.get("full") else None
    return render(
        request,
        "bookings/group.html",
        {
            "coach": coach,
            "profile": coach.coach_profile,
            "session_type": session_type,
            "sessions": sessions,
            "groups_enabled": settings.ENABLE_GROUP_SESSIONS,
            "refusal": refusal,
            "may_book": who.may_book,
            "steps": _steps(GROUP_STEPS, "date", {"coach": reverse("book_coach_list"), "session": _coach_url(coach)}),
        },
    )


def _price_sessions(request: HttpRequest, who: WhoFor, coach: User, session_type: SessionType, sessions) -> None:
    """With payments on, each session's price for the viewer (``session.price_view``): the
    early bird depends on the date, the connected discount on the client."""
    if not payments_enabled() or session_type.price <= 0 or session_type.requires_enrollment:
        return
    client = who.picked or request.user
    connected = client.is_authenticated and is_connected(client, coach)
    now = timezone.now()
    for session in sessions:
        session.price_view = _price_view(quote(session_type, start=session.start, now=now, connected=connected))


def _seats_held(user: User, sessions: list[Session]) -> dict[int, str]:
    """The sessions among ``sessions`` where ``user`` holds a seat: session id → the
    booking's reference (one query)."""
    if not user.is_authenticated or not sessions:
        return {}
    return dict(
        Booking.objects.filter(
            client=user, session__in=[session.pk for session in sessions], status__in=ACTIVE_STATUSES
        ).values_list("session_id", "reference")
    )


def _picker_context(
    request: HttpRequest, *, coach: User, session_type: SessionType, base: str, moving: Booking | None = None
) -> dict:
    """The calendar, the chosen day's times and the chosen time, for ``session_type``
    with ``coach``; links lead to ``base`` with the wizard's query string."""
    zone = ZoneInfo(request.viewer_timezone)
    now = timezone.now()
    today = now.astimezone(zone).date()
    client = moving.client if moving is not None else _slot_client(request, coach)
    tag_rules = tag_rules_for(client, coach)
    rules = rules_for(coach.coach_profile, session_type, tag_rules=tag_rules)
    # The last viewer-local day on which a slot can start: slots must end inside the window.
    last_day = (now + rules.booking_window).astimezone(zone).date()
    state = _parse_state(request.GET, today=today, last_day=last_day, zone=zone)

    def month_slots(first: dt.date) -> tuple[dt.date, list[Slot]]:
        # One free_slots call for the whole visible month: the calendar's marks and the
        # chosen day's times both come from it.
        last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
        range_first, range_last = max(first, today), min(last, last_day)
        if range_first > range_last:
            return last, []
        return last, free_slots(
            coach=coach,
            session_type=session_type,
            start_date=range_first,
            end_date=range_last,
            viewer_tz=zone,
            now=now,
            ignore_session_id=moving.session_id if moving is not None else None,
            client=client,
            tag_rules=tag_rules,
        )

    month_first = state.month
    month_last, slots = month_slots(month_first)
    # Opened without a month or a day, the calendar shows the month of the first free day
    # rather than an empty current month (one bounded look ahead, then that month's slots).
    skipped_month: dt.date | None = None
    opened_plain = state.date is None and not (request.GET.get("month") or "").strip()
    if opened_plain and not slots and month_last < last_day:
        first_free = _first_free_day(
            coach,
            session_type,
            first=month_last + ONE_DAY,
            last=last_day,
            zone=zone,
            now=now,
            ignore_session_id=moving.session_id if moving is not None else None,
            client=client,
        )
        if first_free is not None:
            skipped_month, month_first = month_first, first_free.replace(day=1)
            month_last, slots = month_slots(month_first)
    by_day: dict[dt.date, list[Slot]] = {}
    for slot in slots:
        by_day.setdefault(slot.start.astimezone(zone).date(), []).append(slot)

    def link(**params: object) -> str:
        query = {key: value for key, value in params.items() if value is not None}
        return f"{base}?{urlencode(query)}" if query else base

    day_slots = by_day.get(state.date, []) if state.date else []
    selected_slot = next((s for s in day_slots if state.start is not None and s.start == state.start), None)
    # Seed 004: a chosen time that isn't free (taken meanwhile, or never a slot) is refused
    # above the refreshed list.
    slot_unavailable = state.start_unreadable or (state.start is not None and selected_slot is None)

    # The next day with free times after the chosen one (or from today when none is
    # chosen), to suggest when the chosen day or the month has nothing. Usually the month's
    # slots answer; past the month's end one more bounded call looks ahead.
    next_free_day: dt.date | None = None
    if not day_slots:
        after = state.date or (today - ONE_DAY)
        next_free_day = next((day for day in sorted(by_day) if day > after), None)
        if next_free_day is None and month_last < last_day:
            next_free_day = _first_free_day(
                coach, session_type, first=month_last + ONE_DAY, last=last_day, zone=zone, now=now, client=client
            )

    other_times = _other_times(
        state,
        day_slots=day_slots,
        slot_unavailable=slot_unavailable,
        coach=coach,
        session_type=session_type,
        client=client,
        viewer=request.user if request.user.is_authenticated else None,
        zone=zone,
        now=now,
        last_day=last_day,
        loaded=(max(month_first, today), min(month_last, last_day), slots),
        tag_rules=tag_rules,
        moving=moving,
        link=link,
    )

    weeks = [
        [
            None
            if day.month != month_first.month
            else CalendarDay(
                date=day,
                free_count=len(by_day.get(day, [])),
                bookable=today <= day <= last_day,
                is_today=day == today,
                selected=day == state.date,
                url=link(date=day.isoformat()),
            )
            for day in week
        ]
        for week in calendar.Calendar(firstweekday=calendar.MONDAY).monthdatescalendar(
            month_first.year, month_first.month
        )
    ]
    first_month = today.replace(day=1)
    last_month = last_day.replace(day=1)
    prev_month = _add_months(month_first, -1) if month_first > first_month else None
    next_month = _add_months(month_first, 1) if month_first < last_month else None

    selected = None
    time_groups: list[TimeGroup] = []
    # A day whose slots straddle a clock change shows the zone's abbreviation on each time,
    # so 01:30 before and 01:30 after a fall-back can be told apart.
    show_offset = len({slot.start.astimezone(zone).utcoffset() for slot in day_slots}) > 1
    for slot in day_slots:
        local_start, local_end = slot.start.astimezone(zone), slot.end.astimezone(zone)
        instant = _instant_param(slot.start)
        choice = TimeChoice(
            start=local_start,
            end=local_end,
            label=local_start.strftime("%H:%M %Z" if show_offset else "%H:%M"),
            url=link(date=state.date.isoformat(), start=instant),
            selected=slot is selected_slot,
            instant=instant,
        )
        if choice.selected:
            selected = choice
        group = _part_of_day(local_start)
        if not time_groups or time_groups[-1].label != group:
            time_groups.append(TimeGroup(label=group, times=[]))
        time_groups[-1].times.append(choice)

    return {
        "coach": coach,
        "profile": coach.coach_profile,
        "session_type": session_type,
        "notices": state.notices,
        "month": month_first,
        "month_free_days": sum(1 for day in by_day if month_first <= day <= month_last),
        "skipped_month": skipped_month,
        "prev_month_url": link(month=prev_month.strftime("%Y-%m")) if prev_month else None,
        "next_month_url": link(month=next_month.strftime("%Y-%m")) if next_month else None,
        "prev_month": prev_month,
        "next_month": next_month,
        "weekday_names": [str(WEEKDAYS_ABBR[i]) for i in range(7)],
        "weeks": weeks,
        "today": today,
        "last_day": last_day,
        "selected_date": state.date,
        "time_groups": time_groups,
        "selected": selected,
        "slot_unavailable": slot_unavailable,
        "slot_unavailable_text": SLOT_UNAVAILABLE,
        "next_free_day": next_free_day,
        "next_free_day_url": link(date=next_free_day.isoformat()) if next_free_day else None,
        "other_times": other_times,
        "page_url": request.get_full_path(),
    }


@dataclass(frozen=True)
class OtherTime:
    """A suggested time on the time step: one click selects it, like a time of the day."""

    start: dt.datetime  # in the viewer's zone
    end: dt.datetime
    reason: str
    kind: str  # suggest.NEAREST or suggest.PATTERN
    url: str
    instant: str


def _other_times(
    state: WizardState,
    *,
    day_slots: list[Slot],
    slot_unavailable: bool,
    coach: User,
    session_type: SessionType,
    client: User | None,
    viewer: User | None,
    zone: ZoneInfo,
    now: dt.datetime,
    last_day: dt.date,
    loaded: tuple[dt.date, dt.date, list[Slot]],
    tag_rules: list,
    moving: Booking | None,
    link,
) -> list[OtherTime]:
    """The "Other times" when the chosen time is gone (anchored on it) or the chosen day has no
    free time (anchored on its midday): the client's usual times and the nearest free ones
    (``bookings.suggestions``). Nothing is read when neither happened; otherwise the
    month's slots serve when they cover the window, and the history is one query."""
    if state.date is None:
        return []
    if slot_unavailable and state.start is not None:
        anchor, nearest_text = state.start, gettext("Closest to the time you chose")
    elif not day_slots:
        anchor = dt.datetime.combine(state.date, dt.time(12), tzinfo=zone).astimezone(dt.UTC)
        nearest_text = gettext("Closest to the day you chose")
    else:
        return []
    found = suggestions.suggested_times(
        coach=coach,
        session_type=session_type,
        client=client,
        anchor=anchor,
        zone=zone,
        nearest_text=nearest_text,
        viewer=viewer,
        now=now,
        last_day=last_day,
        loaded=loaded,
        tag_rules=tag_rules,
        ignore_session_id=moving.session_id if moving is not None else None,
        exclude=[moving.session.start] if moving is not None else [],  # not the time it has
    )
    return [
        OtherTime(
            start=item.start.astimezone(zone),
            end=item.end.astimezone(zone),
            reason=item.reason,
            kind=item.kind,
            url=link(date=item.start.astimezone(zone).date().isoformat(), start=_instant_param(item.start)),
            instant=_instant_param(item.start),
        )
        for item in found
    ]


# ---------------------------------------------------------------------------------------
# Step 4: confirm (one-on-one, or a seat) → book
# ---------------------------------------------------------------------------------------


def _may_book(user: User) -> bool:
    """Bookings are made from client accounts (for oneself or a dependent). Coaches and
    staff may walk through the wizard, but a coach can't book a session as a client."""
    return not user.is_authenticated or (user.role == Role.CLIENT and not user.is_superuser)


def _people(user: User) -> list[User]:
    """Whom ``user`` may book for from the wizard: themself, then their dependents."""
    return [user, *(link.dependent for link in dependents_of(user).order_by("dependent__name", "dependent__pk"))]


BOOK_FOR_KEY = "book_for"  # the session's {"id", "name"} of the client staff or a coach book for
BOOK_FOR_RESULTS = 20


@dataclass(frozen=True)
class WhoFor:
    """Whom the viewer books for on a coach's pages: ``people`` (themself first, then their
    dependents; or the one client staff or the coach picked), and whether they may book."""

    may_book: bool
    people: list[User]
    picked: User | None  # the client picked in "Book for a client"


def _picked_client(request: HttpRequest) -> User | None:
    """The client picked in "Book for a client", if the viewer may still pick them."""
    chosen = request.session.get(BOOK_FOR_KEY) if request.user.is_authenticated else None
    if not isinstance(chosen, dict) or not isinstance(chosen.get("id"), int):
        return None
    client = clients_bookable_by(request.user).filter(pk=chosen["id"]).first()
    if client is None:
        request.session.pop(BOOK_FOR_KEY, None)
    return client


def _who_for(request: HttpRequest, coach: User) -> WhoFor:
    user = request.user
    picked = _picked_client(request)
    if picked is not None:
        # Staff book a client with any coach; a coach, their connected client with themself.
        return WhoFor(may_book=user.is_staff_member or user.pk == coach.pk, people=[picked], picked=picked)
    if _may_book(user):
        return WhoFor(may_book=True, people=_people(user) if user.is_authenticated else [user], picked=None)
    return WhoFor(may_book=False, people=[user], picked=None)


def _picked_changed(request: HttpRequest, who: WhoFor) -> str | None:
    """A confirm form sent for another client than the one now picked (changed in another tab)."""
    if who.picked is None or request.POST.get("for_client") == str(who.picked.pk):
        return None
    text = gettext("You are now booking for %(name)s (changed in another tab). Check the details and confirm again.")
    return text % {"name": who.picked.display_name}


def _label_reminders(form: BookingForm, who: WhoFor) -> None:
    if who.picked is not None:
        form.fields["reminders"].label = gettext("Send %(name)s reminders before the session") % {
            "name": who.picked.display_name
        }


@login_required
@require_http_methods(["GET", "POST"])
def book_for_client(request: HttpRequest) -> HttpResponse:
    """ "Book for a client": staff (any client) and coaches (their connected clients) search
    and pick the client, then go through the usual wizard for them; POST ``stop`` ends it."""
    user = request.user
    if not (user.is_staff_member or user.role == Role.COACH):
        raise Http404("Page not found")
    if request.method == "POST":
        if request.POST.get("stop"):
            request.session.pop(BOOK_FOR_KEY, None)
            return redirect_303("book_coach_list" if user.is_staff_member else "dashboard")
        raw = (request.POST.get("client") or "").strip()
        client = clients_bookable_by(user).filter(pk=int(raw)).first() if raw.isdigit() and len(raw) < 12 else None
        if client is None:
            raise Http404("No such client.")
        request.session[BOOK_FOR_KEY] = {"id": client.pk, "name": client.display_name, "zone": client.timezone}
        if user.is_staff_member:
            return redirect_303("book_coach_list")
        return redirect_303("book_coach", user.pk)
    query = (request.GET.get("q") or "").strip()[:100]
    clients = clients_bookable_by(user)
    if query:
        clients = clients.filter(Q(name__icontains=query) | Q(email__icontains=query))
    found = list(clients.order_by("name", "email", "pk")[: BOOK_FOR_RESULTS + 1])
    context = {
        "query": query,
        "clients": found[:BOOK_FOR_RESULTS],
        "more": len(found) > BOOK_FOR_RESULTS,
        "picked": _picked_client(request),
        "as_coach": not user.is_staff_member,
    }
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "bookings/book_for.html#results", context)
    return render(request, "bookings/book_for.html", context)


def _slot_client(request: HttpRequest, coach: User) -> User | None:
    """Whom the times are offered to (their tags' rules apply): the client picked in "Book
    for a client", else the signed-in person; nobody for a visitor."""
    if not request.user.is_authenticated:
        return None
    return _picked_client(request) or request.user


def _free_at(
    coach: User,
    session_type: SessionType,
    start: dt.datetime,
    zone: ZoneInfo,
    moving: Booking | None = None,
    tag_rules: list | None = None,
) -> bool:
    """Whether ``start`` is still one of the free slots offered for ``session_type`` to
    the client whose tags' rules are ``tag_rules`` (for ``moving``, a booking being
    rescheduled, its own time doesn't count as taken, and its client is the one)."""
    day = start.astimezone(zone).date()
    today = timezone.now().astimezone(zone).date()
    if day < today:
        return False
    found = free_slots(
        coach=coach,
        session_type=session_type,
        start_date=day,
        end_date=day,
        viewer_tz=zone,
        ignore_session_id=moving.session_id if moving is not None else None,
        client=moving.client if moving is not None else None,
        tag_rules=None if moving is not None else (tag_rules or []),
    )
    return any(slot.start == start for slot in found)


def _back_to_times(base_url: str, start: dt.datetime | None, raw: str, zone: ZoneInfo) -> HttpResponseRedirect:
    """The time step again: the chosen day with its refreshed slots, and (for a start that
    isn't free or can't be read) seed 004's "This time is no longer available"."""
    if start is None:
        query = {"start": raw} if raw else {}
    else:
        query = {"date": start.astimezone(zone).date().isoformat(), "start": _instant_param(start)}
    return HttpResponseRedirect(f"{base_url}?{urlencode(query)}" if query else base_url, status=303)


@login_required
@require_http_methods(["GET", "POST"])
def book_confirm(request: HttpRequest, coach_id: int, type_id: int) -> HttpResponse:
    """The summary of the chosen time; its POST books it through ``services.book_slot``."""
    coach = _visible_coach(request, coach_id)
    session_type = _offered_type(coach, type_id)
    type_url = reverse("book_type", args=[coach.pk, session_type.pk])
    if session_type.is_group:
        return redirect(type_url)
    zone = ZoneInfo(request.viewer_timezone)
    raw = (request.GET.get("start") or "").strip()
    start = _parse_instant(raw) if raw else None
    if start is None:
        return _back_to_times(type_url, None, raw, zone)
    user = request.user
    who = _who_for(request, coach)
    may_book, people = who.may_book, who.people
    form = BookingForm(request.POST if request.method == "POST" else None, people=people)
    _initial_for(request, form, who)
    _label_reminders(form, who)
    error: str | None = None
    status = 200

    refusal: dict = {}
    consents = _consents(request, who, form, coach)

    tag_rules = tag_rules_for(people[0] if user.is_authenticated else None, coach)
    intake: list[gates.Asked] = []
    if request.method == "GET":
        if not _free_at(coach, session_type, start, zone, tag_rules=tag_rules):
            return _back_to_times(type_url, start, raw, zone)
        intake = intake_for(request, who, _wanted(request, who), session_type)
        if unanswered := gates.unanswered(intake):
            return redirect_303_to(unanswered)
    elif not may_book:
        error, status = NOT_A_CLIENT, 403
    elif changed := _picked_changed(request, who):
        error, status = changed, 409
    elif form.is_valid() and request.POST.get("apply_promo"):
        pass  # "Apply": the quote again with the code, nothing booked
    elif form.is_valid() and gates.missing(consents, request.POST.getlist("accept")):
        error, status = CONSENT_MISSING, 400
    elif form.is_valid() and (
        unanswered := gates.unanswered(intake := intake_for(request, who, form.client(), session_type))
    ):
        return _to_questions(request, form, unanswered)  # the answers first: nothing is booked without them
    elif form.is_valid():
        submission = idempotency.claim_form_submission(
            request=request, scope=f"{request.path}?start={_instant_param(start)}"
        )
        if submission.repeated:
            return _submitted_before(request, submission, "booking_done", ALREADY_BOOKED)
        try:
            booking = _book(
                services.book_slot,
                _pay_with(request),
                client=form.client(),
                session_type=session_type,
                start=start,
                booked_by=user,
                notes=form.cleaned_data["notes"],
                reminders=form.cleaned_data["reminders"],
                promo_code=form.promo() if payments_enabled() else "",
            )
        except DomainError as exc:
            request.refusal_code = exc.code  # what refused it, for the booking funnel (reports)
            if exc.code == "slot_taken" and exc.message == SLOT_UNAVAILABLE:
                return _back_to_times(type_url, start, raw, zone)
            status = exc.status
            error, refusal = _refusal_context(exc, form, session_type)
        except Exception:
            logger.exception("Booking failed: type %s, start %s, by user %s", session_type.pk, start, user.pk)
            error = BOOKING_FAILED
        else:
            gates.record(request, form.client(), consents=consents, intake=intake, booking=booking, by=user)
            submission.done(booking.reference)
            request.session.pop(_draft_key(request), None)
            return _after_booking(booking)
        finally:
            submission.release()  # nothing booked: the form may be sent again
    else:
        status = 400

    client = form.client() if form.is_bound and form.is_valid() else people[0]
    if request.method == "POST" and not intake:
        intake = intake_for(request, who, client, session_type)  # its step stays in the steps shown
    if client.pk != people[0].pk:
        tag_rules = tag_rules_for(client, coach)
    rules = rules_for(coach.coach_profile, session_type, tag_rules=tag_rules)
    now, connected = timezone.now(), is_connected(client, coach)
    why_request = explain_request(
        rules,
        start=start,
        now=now,
        connected=connected,
        coach=coach,
        client=client,
        booker=user,
        # Read only when it can change the answer: a booking otherwise firm.
        window_allows_firm=not rules.is_firm(start=start, now=now, connected=connected)
        or window_allows_firm_at(session_type, rules, start),
    )
    back_url = _back_to_times(type_url, start, raw, zone).url
    paying = _pay_context(
        form, client, session_type, start=start, now=now, connected=connected, firm=why_request is None
    )
    return render(
        request,
        "bookings/confirm.html",
        {
            **paying,
            **refusal,
            "coach": coach,
            "profile": coach.coach_profile,
            "session_type": session_type,
            "start": start,
            "end": start + rules.duration,
            "firm": why_request is None,
            "why_request": why_request,
            "room_hint": _room_hint(session_type),
            "form": form,
            "consents": consents,
            "consents_ticked": request.POST.getlist("accept"),
            "error": error,
            "may_book": may_book,
            "picked": who.picked,
            "not_a_client": NOT_A_CLIENT,
            "submit_token": idempotency.new_form_token(),
            "back_url": back_url,
            "steps": _steps(
                ONE_ON_ONE_QUESTION_STEPS if intake else ONE_ON_ONE_STEPS,
                "confirm",
                {
                    "coach": reverse("book_coach_list"),
                    "session": _coach_url(coach),
                    "day": type_url,
                    "time": back_url,
                    "questions": intake[0].url if intake else "",
                },
            ),
        },
        status=status,
    )


# ---------------------------------------------------------------------------------------
# Paying at booking: the quote, a promotion code, the ways to pay (payments on only)
# ---------------------------------------------------------------------------------------

ENROLLMENT_CODES = ("not_enrolled", "no_credits")


@dataclass(frozen=True)
class PriceView:
    """A quote as the confirm step shows it."""

    quote: Quote
    price: str  # "54.00 EUR"
    list_price: str  # the type's price, shown struck through when the quote is lower
    due_now: str
    deposit: str
    balance_due_at: dt.datetime | None

    @property
    def discounted(self) -> bool:
        return self.quote.price < self.quote.list_price


def _amount(value, currency: str) -> str:
    return money.display(money.to_minor(value, currency), currency)


def _price_view(found: Quote) -> PriceView:
    currency = found.currency
    return PriceView(
        quote=found,
        price=_amount(found.price, currency),
        list_price=_amount(found.list_price, currency),
        due_now=_amount(found.due_now, currency),
        deposit=_amount(found.deposit, currency) if found.deposit else "",
        balance_due_at=found.balance_due_at,
    )


def _enroll_url(session_type: SessionType) -> str:
    """Where a client enrolls in a programme that includes ``session_type`` ("" when that
    page isn't there)."""
    try:
        return reverse("payments:programmes") + "?" + urlencode({"type": session_type.pk})
    except NoReverseMatch:
        return ""


def _pay_with(request: HttpRequest) -> str:
    """The way to pay posted besides the gateway ("credits"), with payments on."""
    return (request.POST.get("pay_with") or "").strip()[:40] if payments_enabled() else ""


def _book(service, pay_with: str, **kwargs: object) -> Booking:
    """Book through ``service``, paid with ``pay_with`` when one was chosen."""
    if pay_with:
        return payment_methods.book_with(pay_with, service, **kwargs)
    return service(**kwargs)


def _consents(request: HttpRequest, who: WhoFor, form: BookingForm, coach: User) -> list[gates.Item]:
    client = form.client() if form.is_bound and form.is_valid() else who.people[0]
    return consents_for(request, who, client, coach)


def consents_for(request: HttpRequest, who: WhoFor, client: User, coach: User) -> list[gates.Item]:
    """What ``client`` has yet to accept before booking with ``coach`` (the consent
    documents, ``bookings.gates``) — asked of a client booking for themself or a dependent,
    not of staff or a coach booking for a client. The wizard and the series preview ask it."""
    if not who.may_book or who.picked is not None or not gates.asks(request.user):
        return []
    return gates.pending(client, coach)


def _wanted(request: HttpRequest, who: WhoFor) -> User:
    """Whom the confirm step is for before its form is sent: ``?for=`` (one of the people
    the viewer books for, as the Questions step passes it back), else the first of them."""
    raw = request.GET.get("for") or ""
    if raw.isdigit() and len(raw) < 12:
        for person in who.people:
            if person.pk == int(raw):
                return person
    return who.people[0]


def _initial_for(request: HttpRequest, form: BookingForm, who: WhoFor) -> None:
    if form.is_bound:
        return
    if "book_for" in form.fields:
        form.fields["book_for"].initial = _wanted(request, who).pk
    draft = request.session.get(_draft_key(request)) if hasattr(request, "session") else None
    if isinstance(draft, dict):  # what was typed before the Questions step (``_to_questions``)
        for name in ("notes", "reminders", "promo_code"):
            if name in draft and name in form.fields:
                form.fields[name].initial = draft[name]


def _draft_key(request: HttpRequest) -> str:
    return f"confirm-draft:{request.path}?{request.GET.get('start', '')}"


def _to_questions(request: HttpRequest, form: BookingForm, url: str) -> HttpResponseRedirect:
    """On to the Questions step from a sent confirm form (a guardian who picked the
    dependant there): what was typed is kept in the session and filled in again when the
    step comes back here, so the notes are not lost."""
    request.session[_draft_key(request)] = {
        name: form.cleaned_data[name] for name in ("notes", "reminders", "promo_code") if name in form.cleaned_data
    }
    return redirect_303_to(url)


def intake_for(request: HttpRequest, who: WhoFor, client: User, session_type: SessionType) -> list[gates.Asked]:
    """The intake forms ``client`` answers before this booking (``bookings.gates``) — asked
    of a client booking for themself or a dependent, like the consents. Their Questions
    step comes back here, to this step for this person."""
    if not who.may_book or who.picked is not None or not request.user.is_authenticated:
        return []
    query = request.GET.copy()
    query["for"] = str(client.pk)
    return gates.asked(client, session_type, booker=request.user, next_url=f"{request.path}?{query.urlencode()}")


def redirect_303_to(url: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(url, status=303)


def _after_booking(booking: Booking) -> HttpResponseRedirect:
    """A booking held for its payment goes on to pay; any other to the confirmation."""
    if booking.status == BookingStatus.AWAITING_PAYMENT:
        return redirect_303("payments:pay", booking.reference)
    return redirect_303("booking_done", booking.reference)


def _refusal_context(exc: DomainError, form: BookingForm, session_type: SessionType) -> tuple[str | None, dict]:
    """A booking refusal shown on the page: a refused promotion code on its field, a
    missing enrollment with where to enroll. Returns the page's error and extra context."""
    if exc.code == "invalid_promo_code":
        form.add_error("promo_code", exc.message)
        return None, {}
    if exc.code == "not_enrolled":
        return exc.message, {"enroll_url": _enroll_url(session_type)}
    return exc.message, {}


def _pay_context(
    form: BookingForm,
    client: User,
    session_type: SessionType,
    *,
    start: dt.datetime,
    now: dt.datetime,
    connected: bool,
    firm: bool,
    seat: bool = False,
) -> dict:
    """What the confirm step shows about paying: nothing for a free type or with payments
    off (the page is as before); else the quote (with a promotion code typed and applied),
    the main button's "Pay … and book", and the other ways to pay (credits)."""
    if not _may_book(client):
        return {}
    # An enrolled-only type says so whatever it costs and whether payments are on.
    if session_type.requires_enrollment:
        context: dict = {"payment_on": True}
        try:
            check_enrollment(client, session_type, now=now)
        except DomainError as exc:
            context["enrollment_refused"] = exc.message
            if exc.code == "not_enrolled":
                context["enroll_url"] = _enroll_url(session_type)
            return context
        left = sum(sessions_left(enrollment) for enrollment in enrollments_for(client, session_type, now=now))
        context["covered"] = ngettext(
            "Included in your programme (%(left)s session left).",
            "Included in your programme (%(left)s sessions left).",
            left,
        ) % {"left": left}
        return context
    if not payments_enabled() or session_type.price <= 0:
        return {}
    context = {"payment_on": True}
    context["show_promo"] = True
    promo = None
    code = form.promo() if form.is_bound else ""
    if code and "promo_code" not in form.errors:
        try:
            promo = find_promo(code, session_type, now=now)
        except PromoRefused as exc:
            form.add_error("promo_code", exc.message)
    found = quote(session_type, start=start, now=now, connected=connected, promo=promo)
    context["price"] = _price_view(found)
    if payment_needed(found.due_now):
        due = context["price"].due_now
        if seat or firm:
            context["pay_label"] = gettext("Pay %(amount)s and book") % {"amount": due}
        else:
            context["pay_label"] = gettext("Pay %(amount)s and send request") % {"amount": due}
        context["pay_offers"] = payment_methods.offers(client, session_type, now=now)
    return context


def _room_hint(session_type: SessionType) -> str:
    """Where a type that needs a room takes place, before the room is chosen: the room when
    it can only be one, else the place its rooms share."""
    if not session_type.resource_kind:
        return ""
    rooms = allowed_resources(session_type)
    if len(rooms) == 1:
        return room_text(rooms[0])
    places = {room.location for room in rooms}
    if len(places) == 1 and places != {""}:
        return gettext("a room at %(place)s (chosen when you book)") % {"place": places.pop()}
    return gettext("a room (chosen when you book)")


def redirect_303(to: str, *args: object) -> HttpResponseRedirect:
    """After a POST that changed something: "see other", so a refresh doesn't repeat it."""
    return HttpResponseRedirect(reverse(to, args=args), status=303)


def _submitted_before(
    request: HttpRequest, submission: idempotency.FormSubmission, to: str, already: str
) -> HttpResponseRedirect:
    """A confirm form sent again (a double click, back and submit, a retry after a lost
    answer): the booking the first submit made, never a second one or "slot taken"."""
    if submission.still_running:
        messages.info(request, STILL_BOOKING)
        return redirect_303("dashboard")
    messages.info(request, already)
    return redirect_303(to, submission.earlier_reference)


def _bookable_session(request: HttpRequest, session_id: int) -> Session:
    """An upcoming group session or workshop of a coach the viewer may see, else 404."""
    session = get_object_or_404(selectors.upcoming_group_sessions(), pk=session_id)
    if not settings.ENABLE_GROUP_SESSIONS or not coaches_visible_to(request.user).filter(pk=session.coach_id).exists():
        raise Http404("No such session.")
    return session


@login_required
@require_http_methods(["GET", "POST"])
def book_seat(request: HttpRequest, session_id: int) -> HttpResponse:
    """Confirm a seat in a group session or workshop; its POST calls ``services.take_seat``."""
    session = _bookable_session(request, session_id)
    session_type, coach = session.session_type, session.coach
    list_url = _type_url(session_type)
    if request.method == "GET" and session.is_full:
        return HttpResponseRedirect(_type_url(session_type, full=1))
    user = request.user
    who = _who_for(request, coach)
    may_book, people = who.may_book, who.people
    held = _seats_held(people[0] if who.picked else user, [session]).get(session.pk)
    form = BookingForm(
        request.POST if request.method == "POST" else None, people=people, without_self=bool(held) and not who.picked
    )
    _initial_for(request, form, who)
    _label_reminders(form, who)
    error: str | None = None
    status = 200
    refusal: dict = {}
    consents = _consents(request, who, form, coach)
    intake: list[gates.Asked] = []
    if request.method == "GET" and may_book and not held:
        intake = intake_for(request, who, _wanted(request, who), session_type)
        if unanswered := gates.unanswered(intake):
            return redirect_303_to(unanswered)
    if request.method == "POST":
        if not may_book:
            error, status = NOT_A_CLIENT, 403
        elif changed := _picked_changed(request, who):
            error, status = changed, 409
        elif form.is_valid() and request.POST.get("apply_promo"):
            pass  # "Apply": the quote again with the code, nothing booked
        elif form.is_valid() and gates.missing(consents, request.POST.getlist("accept")):
            error, status = CONSENT_MISSING, 400
        elif form.is_valid() and (
            unanswered := gates.unanswered(intake := intake_for(request, who, form.client(), session_type))
        ):
            return _to_questions(request, form, unanswered)  # the answers first: nothing is booked without them
        elif form.is_valid():
            submission = idempotency.claim_form_submission(request=request, scope=request.path)
            if submission.repeated:
                return _submitted_before(request, submission, "booking_done", ALREADY_BOOKED)
            try:
                booking = _book(
                    services.take_seat,
                    _pay_with(request),
                    client=form.client(),
                    session=session,
                    booked_by=user,
                    notes=form.cleaned_data["notes"],
                    reminders=form.cleaned_data["reminders"],
                    promo_code=form.promo() if payments_enabled() else "",
                )
            except DomainError as exc:
                request.refusal_code = exc.code  # what refused it, for the booking funnel (reports)
                if exc.code == "full":
                    return HttpResponseRedirect(_type_url(session_type, full=1), status=303)
                status = exc.status
                error, refusal = _refusal_context(exc, form, session_type)
            except Exception:
                logger.exception("Seat booking failed: session %s, by user %s", session.pk, user.pk)
                error = BOOKING_FAILED
            else:
                gates.record(request, form.client(), consents=consents, intake=intake, booking=booking, by=user)
                submission.done(booking.reference)
                request.session.pop(_draft_key(request), None)
                return _after_booking(booking)
            finally:
                submission.release()
        else:
            status = 400
    client = form.client() if form.is_bound and form.is_valid() else people[0]
    if request.method == "POST" and may_book and not held and not intake:
        intake = intake_for(request, who, client, session_type)  # its step stays in the steps shown
    paying = (
        _pay_context(
            form,
            client,
            session_type,
            start=session.start,
            now=timezone.now(),
            connected=user.is_authenticated and is_connected(client, coach),
            firm=True,
            seat=True,
        )
        if may_book
        else {}
    )
    return render(
        request,
        "bookings/seat.html",
        {
            **paying,
            **refusal,
            "coach": coach,
            "profile": coach.coach_profile,
            "session_type": session_type,
            "session": session,
            "form": form,
            "consents": consents,
            "consents_ticked": request.POST.getlist("accept"),
            "error": error,
            "may_book": may_book,
            "held_reference": held,
            "picked": who.picked,
            # Holding a seat, a guardian may still book one for a dependent.
            "may_book_more": may_book and not (held and len(people) == 1),
            "not_a_client": NOT_A_CLIENT,
            "submit_token": idempotency.new_form_token(),
            "back_url": list_url,
            "steps": _steps(
                GROUP_QUESTION_STEPS if intake else GROUP_STEPS,
                "confirm",
                {
                    "coach": reverse("book_coach_list"),
                    "session": _coach_url(coach),
                    "date": list_url,
                    "questions": intake[0].url if intake else "",
                },
            ),
        },
        status=status,
    )


# ---------------------------------------------------------------------------------------
# Step 5: the confirmation screen; "Schedule later"
# ---------------------------------------------------------------------------------------


def _booking_by_reference(user: User, reference: str) -> Booking:
    # Only well-formed references reach the database: a bare number would be read as a row
    # id by get_booking_for, and PostgreSQL refuses text with a NUL byte (an error, not a 404).
    if not REFERENCE_SHAPE.fullmatch(reference):
        raise Http404("No such booking.")
    return selectors.get_booking_for(user, reference)


@login_required
def booking_done(request: HttpRequest, reference: str) -> HttpResponse:
    booking = _booking_by_reference(request.user, reference)
    if booking.status == BookingStatus.AWAITING_PAYMENT:
        return HttpResponseRedirect(reverse("payments:pay", args=[booking.reference]))  # not booked yet
    session = booking.session
    return render(
        request,
        "bookings/done.html",
        {
            "booking": booking,
            "session": session,
            "session_type": session.session_type,
            "coach": session.coach,
            "is_request": booking.status == BookingStatus.REQUESTED,
            "for_someone_else": booking.client_id != request.user.pk,
            "book_another_url": _coach_url(session.coach)
            if coaches_visible_to(request.user).filter(pk=session.coach_id).exists()
            else reverse("book_coach_list"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def book_later(request: HttpRequest, coach_id: int, type_id: int) -> HttpResponse:
    """ "Schedule later": keep the type on the client's dashboard without a time."""
    coach = _visible_coach(request, coach_id)
    session_type = _offered_type(coach, type_id)
    type_url = reverse("book_type", args=[coach.pk, session_type.pk])
    if request.method == "GET":  # e.g. back from the login page
        return redirect(type_url)
    who = _who_for(request, coach)
    if not who.may_book:
        messages.error(request, NOT_A_CLIENT)
        return HttpResponseRedirect(type_url, status=303)
    client = who.picked or request.user
    try:
        services.schedule_later(client=client, session_type=session_type, booked_by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(type_url, status=303)
    if who.picked:
        messages.success(
            request,
            gettext("Saved: %(title)s with %(coach)s is on %(client)s's dashboard to schedule later.")
            % {"title": session_type.title, "coach": coach.display_name, "client": client.display_name},
        )
        return HttpResponseRedirect(type_url, status=303)
    messages.success(
        request,
        gettext("Saved: %(title)s with %(coach)s is on your dashboard to schedule later.")
        % {"title": session_type.title, "coach": coach.display_name},
    )
    return redirect_303("dashboard")


# ---------------------------------------------------------------------------------------
# Reschedule: the same calendar and times for the booking's type, then old → new
# ---------------------------------------------------------------------------------------


def _movable_booking(request: HttpRequest, reference: str) -> Booking:
    booking = _booking_by_reference(request.user, reference)
    user = request.user
    if not (services.can_act_for_client(user, booking) or services.is_manager(user, booking.session.coach)):
        raise Http404("No such booking.")
    return booking


def _why_not_movable(booking: Booking) -> str | None:
    if booking.session.session_type.is_group:
        return gettext("A seat in a group session can't be moved: cancel it and take a seat in another session.")
    if not booking.is_active:
        return gettext("This booking is no longer active, so it can't be moved.")
    return None


@vary_on_headers("HX-Request")
@login_required
def reschedule(request: HttpRequest, reference: str) -> HttpResponse:
    booking = _movable_booking(request, reference)
    session = booking.session
    blocked = _why_not_movable(booking)
    if blocked:
        return _reschedule_blocked(request, booking, blocked)
    base = reverse("booking_reschedule", args=[booking.reference])
    context = _picker_context(
        request, coach=session.coach, session_type=session.session_type, base=base, moving=booking
    )
    selected = context["selected"]
    confirm_url = reverse("booking_reschedule_confirm", args=[booking.reference])
    context |= {
        "rebooking": booking,
        "continue_url": f"{confirm_url}?{urlencode({'start': selected.instant})}" if selected else None,
        "steps": _steps(RESCHEDULE_STEPS, "time" if context["selected_date"] else "day", {"day": base}),
        "may_book": True,
    }
    return _render_picker(request, context)


def _reschedule_blocked(request: HttpRequest, booking: Booking, reason: str) -> HttpResponse:
    return render(
        request,
        "bookings/reschedule_confirm.html",
        {"booking": booking, "session": booking.session, "blocked": reason, "steps": _steps(RESCHEDULE_STEPS, "day")},
        status=409,
    )


@login_required
@require_http_methods(["GET", "POST"])
def reschedule_confirm(request: HttpRequest, reference: str) -> HttpResponse:
    booking = _movable_booking(request, reference)
    blocked = _why_not_movable(booking)
    if blocked:
        return _reschedule_blocked(request, booking, blocked)
    session = booking.session
    coach, session_type = session.coach, session.session_type
    base = reverse("booking_reschedule", args=[booking.reference])
    zone = ZoneInfo(request.viewer_timezone)
    raw = (request.GET.get("start") or "").strip()
    start = _parse_instant(raw) if raw else None
    if start is None:
        return _back_to_times(base, None, raw, zone)
    error: str | None = None
    status = 200
    if request.method == "GET":
        if start != session.start and not _free_at(coach, session_type, start, zone, moving=booking):
            return _back_to_times(base, start, raw, zone)
    else:
        submission = idempotency.claim_form_submission(
            request=request, scope=f"{request.path}?start={_instant_param(start)}"
        )
        if submission.repeated:
            return _submitted_before(request, submission, "booking_detail", ALREADY_MOVED)
        try:
            moved = services.reschedule(booking=booking, actor=request.user, start=start)
        except DomainError as exc:
            if exc.code == "slot_taken" and exc.message == SLOT_UNAVAILABLE:
                return _back_to_times(base, start, raw, zone)
            error, status = exc.message, exc.status
        except Exception:
            logger.exception("Reschedule failed: booking %s, start %s, by user %s", booking.pk, start, request.user.pk)
            error = gettext("Unable to move the booking. Please try again.")
        else:
            submission.done(moved.reference)
            when = timezone.localtime(moved.session.start, zone)
            text = gettext("%(day)s at %(time)s (%(zone)s)") % {
                "day": format_when(when, "day_long_no_year"),
                "time": format_when(when, "time_short"),
                "zone": zone.key,
            }
            if moved.status == BookingStatus.REQUESTED:
                messages.success(
                    request,
                    gettext("Change requested: %(coach)s confirms the new time, %(when)s.")
                    % {"coach": coach.display_name, "when": text},
                )
            else:
                messages.success(request, gettext("Moved to %(when)s.") % {"when": text})
            return redirect_303("booking_detail", moved.reference)
        finally:
            submission.release()
    rules = rules_for(coach.coach_profile, session_type, tag_rules=tag_rules_for(booking.client, session_type.coach))
    manager = services.is_manager(request.user, coach)
    firm = manager or rules.is_firm(
        start=start,
        now=timezone.now(),
        connected=is_connected(booking.client, session_type.coach),
        window_allows_firm=window_allows_firm_at(session_type, rules, start),
    )
    back_url = _back_to_times(base, start, raw, zone).url
    return render(
        request,
        "bookings/reschedule_confirm.html",
        {
            "booking": booking,
            "session": session,
            "coach": coach,
            "session_type": session_type,
            "start": start,
            "end": start + rules.duration,
            "firm": firm,
            "error": error,
            "back_url": back_url,
            "submit_token": idempotency.new_form_token(),
            "steps": _steps(RESCHEDULE_STEPS, "confirm", {"day": base, "time": back_url}),
        },
        status=status,
    )


# ---------------------------------------------------------------------------------------
# Cancel from the booking page: a confirm step with the policy, then one service call
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CancelPolicy:
    """What the confirm step says before a cancellation: the rule that applies, whether
    this one is late (and what that means), or why the client can't cancel it here."""

    rule: str
    late: str | None = None
    refused: str | None = None


def _cancel_policy(booking: Booking, *, manager: bool, now: dt.datetime, zone: ZoneInfo) -> CancelPolicy:
    session = booking.session
    coach = session.coach
    if manager:
        return CancelPolicy(
            rule=gettext("%(client)s is told at once, with your reason.") % {"client": booking.client.display_name}
        )
    if booking.status == BookingStatus.REQUESTED:
        return CancelPolicy(rule=gettext("This is a request: you can withdraw it at any time, free of charge."))
    rules = rules_for(coach.coach_profile, session.session_type)
    notice = _duration_text(rules.cancellation_notice)
    deadline = timezone.localtime(session.start - rules.cancellation_notice, zone)
    until = _when_text(deadline, zone)
    if now < session.start - rules.cancellation_notice:
        return CancelPolicy(
            rule=gettext("Free cancellation up to %(notice)s before the session (until %(until)s).")
            % {"notice": notice, "until": until}
        )
    ended = gettext("Free cancellation ended %(until)s, %(notice)s before the session.") % {
        "until": until,
        "notice": notice,
    }
    if rules.allow_late_cancellation:
        return CancelPolicy(
            rule=ended,
            late=gettext("This is a late cancellation: it is recorded as late on the booking, which %(coach)s sees.")
            % {"coach": coach.display_name},
        )
    return CancelPolicy(
        rule=ended,
        refused=gettext(
            "Sessions can be cancelled up to %(notice)s before they start. Contact %(coach)s to change this one."
        )
        % {"notice": notice, "coach": coach.display_name},
    )


def _duration_text(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes % 60 == 0:
        return ngettext("%(count)d hour", "%(count)d hours", minutes // 60) % {"count": minutes // 60}
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


def _when_text(instant: dt.datetime, zone: ZoneInfo) -> str:
    local = timezone.localtime(instant, zone)
    return f"{format_when(local, 'datetime_long_no_year')} ({zone.key})"


@login_required
@require_http_methods(["GET", "POST"])
def cancel_confirm(request: HttpRequest, reference: str) -> HttpResponse:
    """The booking page's Cancel: the session, the cancellation policy and what a late
    cancellation means, a reason, then ``services.cancel``; back on the booking's page
    with a "Cancelled" message shown once."""
    booking = _booking_by_reference(request.user, reference)
    user = request.user
    session = booking.session
    manager = services.is_manager(user, session.coach)
    if not (manager or services.can_act_for_client(user, booking)):
        raise Http404("No such booking.")
    zone = ZoneInfo(request.viewer_timezone)
    now = timezone.now()
    detail_url = reverse("booking_detail", args=[booking.reference])
    blocked: str | None = None
    if not booking.is_active:
        blocked = gettext("This booking is %(status)s; there is nothing to cancel.") % {
            "status": booking.get_status_display().lower()
        }
    elif session.start <= now:
        blocked = gettext("This session has already started, so it can't be cancelled.")
    policy = None if blocked else _cancel_policy(booking, manager=manager, now=now, zone=zone)
    reason_required = manager and booking.client_id != user.pk
    error: str | None = None
    status = 409 if blocked else 200
    reason = ""
    if request.method == "POST" and policy is not None and policy.refused is None:
        reason = (request.POST.get("reason") or "").strip()
        try:
            cancelled = services.cancel(booking=booking, actor=user, reason=reason)
        except DomainError as exc:
            error, status = exc.message, exc.status
        else:
            when = _when_text(session.start, zone)
            text = gettext("Cancelled. %(title)s on %(when)s won't take place; %(other)s has been told.") % {
                "title": session.session_type.title,
                "when": when,
                "other": session.coach.display_name if not manager else cancelled.client.display_name,
            }
            if cancelled.is_late_cancellation:
                text += " " + gettext("It is marked as a late cancellation.")
            messages.success(request, text)
            return HttpResponseRedirect(detail_url, status=303)
    elif request.method == "POST":
        status = 409
    return render(
        request,
        "bookings/cancel_confirm.html",
        {
            "booking": booking,
            "session": session,
            "policy": policy,
            "blocked": blocked,
            "error": error,
            "manager": manager,
            "reason": reason,
            "reason_required": reason_required,
            "detail_url": detail_url,
        },
        status=status,
    )


# ---------------------------------------------------------------------------------------
# Parsing the query string
# ---------------------------------------------------------------------------------------


def _parse_state(query: QueryDict, *, today: dt.date, last_day: dt.date, zone: ZoneInfo) -> WizardState:
    notices: list[str] = []
    get = query.get
    bookable = {"first": _day_label(today), "last": _day_label(last_day)}

    raw_start = (get("start") or "").strip()
    start = _parse_instant(raw_start) if raw_start else None
    start_unreadable = bool(raw_start) and start is None

    raw_date = (get("date") or "").strip()
    date: dt.date | None = None
    if raw_date:
        date = _parse_date(raw_date)
        if date is None:
            notices.append(gettext("That date could not be read; showing today."))
            date = today
        elif not today <= date <= last_day:
            notices.append(gettext("This coach takes bookings from %(first)s to %(last)s; showing today.") % bookable)
            date = today
    elif start is not None:
        local_day = start.astimezone(zone).date()
        date = local_day if today <= local_day <= last_day else today

    raw_month = (get("month") or "").strip()
    first_month, last_month = today.replace(day=1), last_day.replace(day=1)
    if date is not None:
        month = date.replace(day=1)
    elif raw_month:
        parsed = _parse_month(raw_month)
        if parsed is None:
            notices.append(gettext("That month could not be read; showing this month."))
            month = first_month
        elif not first_month <= parsed <= last_month:
            notices.append(
                gettext("This coach takes bookings from %(first)s to %(last)s; showing this month.") % bookable
            )
            month = first_month
        else:
            month = parsed
    else:
        month = first_month
    return WizardState(month=month, date=date, start=start, start_unreadable=start_unreadable, notices=notices)


def _parse_date(value: str) -> dt.date | None:
    if len(value) != 10:  # only YYYY-MM-DD, not the other forms fromisoformat accepts
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return None
    return day if in_range_day(day) else None


def _parse_month(value: str) -> dt.date | None:
    if len(value) != 7:
        return None
    return _parse_date(f"{value}-01")


def _parse_instant(value: str) -> dt.datetime | None:
    # An unencoded "+01:00" arrives as " 01:00".
    try:
        parsed = dt.datetime.fromisoformat(value.replace(" ", "+"))
    except ValueError:
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return None
    try:
        instant = parsed.astimezone(dt.UTC)
    except OverflowError:  # the first or last hours of the calendar, in another zone
        return None
    return instant if in_range_instant(instant) else None


def _instant_param(instant: dt.datetime) -> str:
    # UTC with a "Z": no "+" to be mangled in a URL.
    return instant.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------


def _first_free_day(
    coach: User,
    session_type: SessionType,
    *,
    first: dt.date,
    last: dt.date,
    zone: ZoneInfo,
    now: dt.datetime,
    ignore_session_id: int | None = None,
    client: User | None = None,
) -> dt.date | None:
    if first > last:
        return None
    last = min(last, first + dt.timedelta(days=MAX_RANGE_DAYS - 1))
    found = free_slots(
        coach=coach,
        session_type=session_type,
        start_date=first,
        end_date=last,
        viewer_tz=zone,
        now=now,
        ignore_session_id=ignore_session_id,
        client=client,
    )
    return found[0].start.astimezone(zone).date() if found else None


def _add_months(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def _part_of_day(local: dt.datetime) -> str:
    if local.hour < 5:
        return gettext("Night")
    if local.hour < 12:
        return gettext("Morning")
    if local.hour < 17:
        return gettext("Afternoon")
    return gettext("Evening")


def _day_label(day: dt.date) -> str:
    return format_when(day, "date_long")
