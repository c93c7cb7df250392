"""The client's pages of a recurring series (issue 17):

- ``/book/series/preview/<coach>/<type>/?start=&frequency=&ends=&count=&until=``: every
  occurrence of the series the wizard's confirm step asked for ("Repeat this session"),
  in the viewer's zone, each "Free" or why not with the nearby time suggested; its POST
  books the series through ``series_services.book_series`` (all of it, or the free ones
  and the moved ones, skipping the rest) and goes on to the series page;
- ``/series/<id>/``: the series, its occurrences and its history, with the changes a
  client makes (skip one, cancel this and the following or all that remain, move one,
  change the time of this and the following), each after a confirm step
  (``/series/<id>/<action>/?start=``) that states the cancellation policy.

Every write goes through ``bookings.services.series``; a refusal is shown on the page with
its message and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import User
from availability import rules as booking_rules
from availability.selectors import free_slots
from bookings import gates, idempotency, services, views
from bookings.forms import BookingForm
from bookings.models import ACTIVE_STATUSES, Booking, BookingStatus, HostMode, Series, SessionKind, SessionType
from bookings.series_forms import DEFAULT_COUNT, NewTimeForm, ReasonForm, RepeatForm
from bookings.services import series as series_services
from config.dates import format_when
from config.errors import DomainError

logger = logging.getLogger(__name__)

ALREADY_BOOKED_SERIES = _lazy("This series was already booked.")
SERIES_FAILED = _lazy("Unable to book the series. Please try again.")
CHANGE_FAILED = _lazy("Unable to change the series. Please try again.")
ACTIONS = ("skip", "cancel-following", "cancel-all", "move", "retime")
CANCEL_ACTIONS = ("skip", "cancel-following", "cancel-all")
NEARBY_DAYS = 2  # the free times offered for a move: the occurrence's day and this many either side
NEARBY_LIMIT = 12
NOTE_LIMIT = 1000  # the client's note when declining a suggested time


# ---------------------------------------------------------------------------------------
# The confirm step's "Repeat this session"
# ---------------------------------------------------------------------------------------


def series_offered(user: User, coach: User, session_type: SessionType) -> bool:
    """Whether the wizard offers to repeat a session of ``session_type``: a one-on-one type
    hosted by its coach alone, outside a programme, and a coach who takes series (staff and
    the coach themself may book one for a client anyway)."""
    if session_type.kind != SessionKind.ONE_ON_ONE or not session_type.is_active:
        return False
    if session_type.host_mode != HostMode.SINGLE or session_type.required_subject_id is not None:
        return False
    if session_type.requires_enrollment:
        return False
    profile = getattr(coach, "coach_profile", None)
    allowed = bool(profile and profile.allow_series)
    return allowed or (user.is_authenticated and (user.is_staff_member or user.pk == coach.pk))


def preview_url(coach: User, session_type: SessionType, start: dt.datetime, **query: str) -> str:
    base = reverse("series_preview", args=[coach.pk, session_type.pk])
    return f"{base}?{urlencode({'start': views._instant_param(start), **query})}"


# ---------------------------------------------------------------------------------------
# The preview, then booking
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewRow:
    index: int
    verdict: series_services.Verdict
    move_value: str  # "<occurrence>|<suggested>" (UTC instants) for the "Book at … instead" box
    moved: bool  # that box was ticked (shown again after a refusal)


def _repeat_form(query) -> RepeatForm:
    data = {"frequency": "weekly", "ends": "count", "count": str(DEFAULT_COUNT)}
    if any(key in query for key in ("frequency", "ends", "count", "until")):
        data = {key: query.get(key, "") for key in ("frequency", "ends", "count", "until")}
    return RepeatForm(data)


def _client_asked(people: list[User], raw: str) -> User:
    """The person the series is for: one of ``people`` by ``book_for``, else the first."""
    chosen = {str(person.pk): person for person in people}
    return chosen.get((raw or "").strip(), people[0])


def _wanted(request: HttpRequest, people: list[User]) -> User:
    """Whom the preview is for before its form is sent: ``?book_for=``, else ``?for=`` (as
    the Questions step passes it back), else the first of ``people``."""
    return _client_asked(people, request.GET.get("book_for") or request.GET.get("for") or "")


def _moves_posted(values: list[str]) -> dict[dt.datetime, dt.datetime]:
    """The ticked "Book at … instead" boxes: each "<occurrence>|<suggested>"."""
    moves: dict[dt.datetime, dt.datetime] = {}
    for value in values[: settings.MAX_SERIES_OCCURRENCES]:
        original, _sep, new = (value or "").partition("|")
        original_at, new_at = views._parse_instant(original.strip()), views._parse_instant(new.strip())
        if original_at is None or new_at is None:
            raise DomainError(gettext("A suggested time could not be read: preview the series again."), code="invalid")
        moves[original_at] = new_at
    return moves


def _request_words(preview: series_services.SeriesPreview) -> list[str]:
    coach = preview.coach.display_name
    words = {
        series_services.SERIES_NEEDS_APPROVAL: gettext("%(coach)s approves every series personally."),
        booking_rules.TYPE_NEEDS_APPROVAL: gettext("This session type always needs %(coach)s's approval."),
        booking_rules.COACH_APPROVES_ALL: gettext("%(coach)s approves every booking personally."),
        booking_rules.NOT_CONNECTED: gettext("Bookings from clients not yet connected with %(coach)s need approval."),
        booking_rules.TOO_SOON: gettext("A session starts soon: bookings this close to the start need approval."),
        booking_rules.TAG_NEEDS_APPROVAL: gettext("%(coach)s approves bookings like this one personally."),
        booking_rules.WINDOW_REQUESTS_ONLY: gettext("%(coach)s approves bookings at some of these times personally."),
    }
    return [
        words.get(code, gettext("%(coach)s approves it personally.")) % {"coach": coach}
        for code in preview.request_reasons
    ]


@login_required
@require_http_methods(["GET", "POST"])
def series_preview(request: HttpRequest, coach_id: int, type_id: int) -> HttpResponse:
    """Every occurrence of the series with its verdict; the POST books it."""
    coach = views._visible_coach(request, coach_id)
    session_type = views._offered_type(coach, type_id)
    type_url = reverse("book_type", args=[coach.pk, session_type.pk])
    if session_type.is_group:
        return redirect(type_url)
    zone = ZoneInfo(request.viewer_timezone)
    raw = (request.GET.get("start") or "").strip()
    start = views._parse_instant(raw) if raw else None
    if start is None:
        return views._back_to_times(type_url, None, raw, zone)
    user = request.user
    who = views._who_for(request, coach)
    people = who.people
    repeat = _repeat_form(request.GET)
    repeat_ok = repeat.is_valid()
    posted = request.method == "POST"
    form = BookingForm(request.POST if posted else None, people=people)
    if not posted and "book_for" in form.fields:
        form.fields["book_for"].initial = _wanted(request, people).pk
    views._label_reminders(form, who)
    client = form.client() if posted and form.is_valid() else _wanted(request, people)
    error: str | None = None
    status = 200
    moves_ticked: set[str] = set(request.POST.getlist("move")) if posted else set()
    # What the client accepts and answers before the series, as before a single booking
    # (``bookings.gates``): the documents ticked here, the intake forms on the Questions
    # step, which comes back here. Checked before anything is booked.
    consents = views.consents_for(request, who, client, coach)
    intake: list[gates.Asked] = []
    if not posted and (unanswered := gates.unanswered(views.intake_for(request, who, client, session_type))):
        return views.redirect_303_to(unanswered)

    if not repeat_ok:
        error, status = repeat.error_text(), 400
    elif posted and not who.may_book:
        error, status = views.NOT_A_CLIENT, 403
    elif posted and (changed := views._picked_changed(request, who)):
        error, status = changed, 409
    elif posted and not form.is_valid():
        error, status = " ".join(str(e) for errors in form.errors.values() for e in errors), 400
    elif posted and gates.missing(consents, request.POST.getlist("accept")):
        error, status = str(views.CONSENT_MISSING), 400
    elif posted and (unanswered := gates.unanswered(intake := views.intake_for(request, who, client, session_type))):
        return views.redirect_303_to(unanswered)  # the answers first: nothing is booked without them
    elif posted:
        on_conflict = request.POST.get("on_conflict", "")
        submission = idempotency.claim_form_submission(request=request, scope=request.get_full_path())
        if submission.repeated:
            return views._submitted_before(request, submission, "series_detail", ALREADY_BOOKED_SERIES)
        try:
            series, outcomes = series_services.book_series(
                client=form.client(),
                session_type=session_type,
                start=start,
                booked_by=user,
                on_conflict=on_conflict,
                moves=_moves_posted(request.POST.getlist("move")),
                notes=form.cleaned_data["notes"],
                reminders=form.cleaned_data["reminders"],
                **repeat.service_kwargs(),
            )
        except DomainError as exc:
            error, status = exc.message, exc.status
        except Exception:
            logger.exception("Series booking failed: type %s, start %s, by user %s", session_type.pk, start, user.pk)
            error, status = str(SERIES_FAILED), 500
        else:
            # Accepted and answered with the series' first booking, once the series is made.
            first = series_services.occurrences_of(series).first()
            gates.record(request, client, consents=consents, intake=intake, booking=first, by=request.user)
            submission.done(str(series.pk))
            messages.success(request, _booked_text(series, outcomes, zone))
            return views.redirect_303("series_detail", series.pk)
        finally:
            submission.release()

    preview = None
    if repeat_ok:
        try:
            preview = series_services.preview_series(
                client=client, session_type=session_type, start=start, booked_by=user, **repeat.service_kwargs()
            )
        except DomainError as exc:
            if not error:
                error, status = exc.message, exc.status
    rows = []
    if preview is not None:
        for index, verdict in enumerate(preview.occurrences, start=1):
            value = (
                f"{views._instant_param(verdict.start)}|{views._instant_param(verdict.suggestion)}"
                if verdict.suggestion is not None
                else ""
            )
            rows.append(PreviewRow(index, verdict, value, bool(value) and value in moves_ticked))
    free = len(preview.free) if preview else 0
    total = len(preview.occurrences) if preview else 0
    confirm_url = f"{reverse('book_confirm', args=[coach.pk, session_type.pk])}?{urlencode({'start': raw})}"
    return render(
        request,
        "bookings/series_preview.html",
        {
            "coach": coach,
            "session_type": session_type,
            "start": start,
            "repeat": repeat,
            "preview": preview,
            "rows": rows,
            "free_count": free,
            "total": total,
            "refused_count": total - free,
            "all_free": preview is not None and free == total,
            "any_suggestion": any(row.move_value for row in rows),
            "request_words": _request_words(preview) if preview and preview.needs_approval else [],
            "coach_zone": coach.timezone,
            # The coach's wall-clock time as text: a datetime would be shown in the viewer's zone.
            "local_time": f"{preview.occurrences[0].start.astimezone(ZoneInfo(coach.timezone)):%H:%M}" if rows else "",
            "client": client,
            "form": form,
            "consents": consents,
            "consents_ticked": request.POST.getlist("accept"),
            "error": error,
            "may_book": who.may_book,
            "picked": who.picked,
            "not_a_client": views.NOT_A_CLIENT,
            "submit_token": idempotency.new_form_token(),
            "confirm_url": confirm_url,
            "start_param": raw,
            "max_count": settings.MAX_SERIES_OCCURRENCES,
        },
        status=status,
    )


def _booked_text(series: Series, outcomes: list[series_services.Outcome], zone: ZoneInfo) -> str:
    booked = [outcome for outcome in outcomes if outcome.booking is not None]
    skipped = len(outcomes) - len(booked)
    requested = any(outcome.booking.status == BookingStatus.REQUESTED for outcome in booked)
    if requested:
        text = ngettext(
            "Series requested: %(count)d session. %(coach)s answers once for the whole series.",
            "Series requested: %(count)d sessions. %(coach)s answers once for the whole series.",
            len(booked),
        )
    else:
        text = ngettext("Series booked: %(count)d session.", "Series booked: %(count)d sessions.", len(booked))
    text %= {"count": len(booked), "coach": series.coach.display_name}
    if skipped:
        text += " " + ngettext("%(count)d date was skipped.", "%(count)d dates were skipped.", skipped) % {
            "count": skipped
        }
    return text


# ---------------------------------------------------------------------------------------
# The series page
# ---------------------------------------------------------------------------------------


def _series_for(request: HttpRequest, pk: int) -> Series:
    series = Series.objects.select_related("coach", "client", "session_type", "booked_by").filter(pk=pk).first()
    if series is None or not series_services.may_see(request.user, series):
        raise Http404("No such series.")
    return series


def _may_change(user: User, booking: Booking) -> bool:
    return services.can_act_for_client(user, booking) or services.is_manager(user, booking.session.coach)


def _counts(bookings: list[Booking], now: dt.datetime) -> tuple[int, int]:
    left = sum(1 for b in bookings if b.status in ACTIVE_STATUSES and b.session.end > now)
    return left, len(bookings)


def _history(series: Series, zone: ZoneInfo) -> list[dict]:
    """The series' exceptions in plain words, oldest first, with when and by whom."""
    ids = {entry.get("by") for entry in series.exceptions if isinstance(entry, dict) and entry.get("by")}
    people = {person.pk: person.display_name for person in User.objects.filter(pk__in=ids)}
    rows = [
        {
            "text": gettext("Booked by %(who)s.") % {"who": series.booked_by.display_name},
            "at": series.created_at,
        }
    ]
    for entry in series.exceptions:
        if not isinstance(entry, dict):
            continue
        when = _parse_iso(entry.get("date"))
        to = _parse_iso(entry.get("to"))
        day = _when_text(when, zone) if when else "?"
        who = people.get(entry.get("by"), gettext("someone"))
        kind = entry.get("kind")
        count = int(entry.get("count") or 1)
        if kind == "skipped" and not entry.get("by") and entry.get("message"):
            text = gettext("%(day)s was not booked: %(reason)s") % {"day": day, "reason": entry["message"]}
        elif kind == "skipped" and not entry.get("by"):
            text = gettext("%(day)s was not booked: it wasn't free.") % {"day": day}
        elif kind == "skipped":
            text = gettext("%(who)s skipped %(day)s.") % {"who": who, "day": day}
        elif kind == "moved" and to:
            text = gettext("%(who)s moved %(day)s to %(to)s.") % {"who": who, "day": day, "to": _when_text(to, zone)}
        elif kind == "cancelled":
            text = gettext("%(who)s cancelled %(day)s.") % {"who": who, "day": day}
        elif kind == "cancelled_following":
            text = ngettext(
                "%(who)s cancelled %(day)s and the following (%(count)d session).",
                "%(who)s cancelled %(day)s and the following (%(count)d sessions).",
                count,
            ) % {"who": who, "day": day, "count": count}
        elif kind == "cancelled_all":
            text = ngettext(
                "%(who)s cancelled all remaining sessions (%(count)d), from %(day)s.",
                "%(who)s cancelled all remaining sessions (%(count)d), from %(day)s.",
                count,
            ) % {"who": who, "day": day, "count": count}
        elif kind == "retimed" and to:
            text = gettext("%(who)s moved %(day)s and the following to %(time)s (first: %(to)s).") % {
                "who": who,
                "day": day,
                "time": timezone.localtime(to, zone).strftime("%H:%M"),
                "to": _when_text(to, zone),
            }
        elif kind == "time_suggested" and to:
            local = timezone.localtime(to, zone)
            text = gettext("%(who)s suggested another time for the series: %(day)ss %(time)s, from %(to)s.") % {
                "who": who,
                "day": format_when(local, "weekday_long"),
                "time": f"{local:%H:%M}",
                "to": _when_text(to, zone),
            }
        elif kind == "time_accepted":
            text = gettext("%(who)s accepted the suggested time.") % {"who": who}
        elif kind == "time_declined":
            text = gettext("%(who)s declined the suggested time; the series request was withdrawn.") % {"who": who}
        else:
            text = gettext("%(who)s changed %(day)s.") % {"who": who, "day": day}
        rows.append({"text": text, "at": _parse_iso(entry.get("at"))})
    return rows


def _parse_iso(value) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def _when_text(instant: dt.datetime, zone: ZoneInfo) -> str:
    local = timezone.localtime(instant, zone)
    return format_when(local, "datetime_short")


def _action_url(series: Series, action: str, booking: Booking | None = None) -> str:
    url = reverse("series_action", args=[series.pk, action])
    return f"{url}?{urlencode({'start': views._instant_param(booking.session.start)})}" if booking else url


@login_required
def series_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _series_for(request, pk))


def _detail(
    request: HttpRequest, series: Series, *, error: str = "", note: str = "", status: int = 200
) -> HttpResponse:
    user = request.user
    zone = ZoneInfo(request.viewer_timezone)
    now = timezone.now()
    bookings = list(series_services.occurrences_of(series))
    left, total = _counts(bookings, now)
    rows = []
    for booking in bookings:
        changeable = booking.is_active and booking.session.start > now and _may_change(user, booking)
        rows.append(
            {
                "booking": booking,
                "changeable": changeable,
                "skip_url": _action_url(series, "skip", booking) if changeable else "",
                "following_url": _action_url(series, "cancel-following", booking) if changeable else "",
                "move_url": _action_url(series, "move", booking) if changeable else "",
                "retime_url": _action_url(series, "retime", booking) if changeable else "",
            }
        )
    upcoming = [row for row in rows if row["changeable"]]
    manager = services.is_manager(user, series.coach)
    return render(
        request,
        "bookings/series_detail.html",
        {
            "series": series,
            "description": series_services.describe(series, left=left, total=total),
            "left": left,
            "total": total,
            "rows": rows,
            "next_booking": next((row["booking"] for row in upcoming), None),
            "cancel_all_url": _action_url(series, "cancel-all") if upcoming else "",
            "history": _history(series, zone),
            "coach_zone": series.timezone,
            "local_time_text": series.local_time.strftime("%H:%M"),
            "manager": manager,
            "suggestion": _suggestion(series, bookings, user, zone, now, manager=manager),
            "time_error": error,
            "time_note": note,
            "back_url": reverse("dashboard"),
        },
        status=status,
    )


def _suggestion(
    series: Series, bookings: list[Booking], user: User, zone: ZoneInfo, now: dt.datetime, *, manager: bool
) -> dict | None:
    """The time the coach suggested for the series' open requests, for the page's panel:
    its words in the viewer's zone, each date's old and new time, and whether the viewer
    answers it (the client's side)."""
    waiting = [
        b
        for b in bookings
        if b.status == BookingStatus.REQUESTED and b.suggested_alternatives and b.session.start > now
    ]
    if not waiting:
        return None
    moves = [(b.session.start, dt.datetime.fromisoformat(b.suggested_alternatives[0])) for b in waiting]
    first = timezone.localtime(min(new for _old, new in moves), zone)
    text = gettext(
        "%(coach)s suggested another time for this series: %(day)ss %(time)s (your zone, %(zone)s), from %(first)s."
    ) % {
        "coach": series.coach.display_name,
        "day": format_when(first, "weekday_long"),
        "time": f"{first:%H:%M}",
        "zone": zone.key,
        "first": format_when(first, "day_short"),
    }
    return {
        "text": text,
        "moves": moves,
        "note": waiting[0].coach_notes,
        "answers": not manager and all(services.can_act_for_client(user, b) for b in waiting),
    }


@login_required
@require_POST
def series_accept_time(request: HttpRequest, pk: int) -> HttpResponse:
    """The client takes the time the coach suggested: every open date moves there,
    confirmed, or none does (the page shows why)."""
    series = _series_for(request, pk)
    zone = ZoneInfo(request.viewer_timezone)
    try:
        moved = series_services.accept_series_time(series=series, actor=request.user)
    except DomainError as exc:
        return _detail(request, series, error=exc.message, status=_client_error(exc))
    messages.success(
        request,
        ngettext(
            "Done: %(count)d session is confirmed at the new time, from %(first)s.",
            "Done: %(count)d sessions are confirmed at the new time, from %(first)s.",
            len(moved),
        )
        % {"count": len(moved), "first": _when_text(moved[0].session.start, zone)},
    )
    return HttpResponseRedirect(reverse("series_detail", args=[series.pk]), status=303)


@login_required
@require_POST
def series_decline_time(request: HttpRequest, pk: int) -> HttpResponse:
    """The client turns the suggested time down: the series request is withdrawn."""
    series = _series_for(request, pk)
    note = (request.POST.get("note") or "").strip()
    try:
        if len(note) > NOTE_LIMIT:
            raise DomainError(gettext("Keep the note under 1000 characters."), code="invalid")
        declined = series_services.decline_series_time(series=series, actor=request.user, note=note)
    except DomainError as exc:
        return _detail(request, series, error=exc.message, note=note, status=_client_error(exc))
    messages.success(
        request,
        ngettext(
            "You declined the suggested time; the request for %(count)d session is withdrawn.",
            "You declined the suggested time; the request for %(count)d sessions is withdrawn.",
            len(declined),
        )
        % {"count": len(declined)},
    )
    return HttpResponseRedirect(reverse("series_detail", args=[series.pk]), status=303)


def _client_error(exc: DomainError) -> int:
    return exc.status if 400 <= exc.status < 500 else 400


# ---------------------------------------------------------------------------------------
# Changes: a confirm step, then one call to the series services
# ---------------------------------------------------------------------------------------


def _targets(series: Series, action: str, start: dt.datetime | None, now: dt.datetime) -> list[Booking]:
    """The occurrences a change touches, as the services will pick them."""
    active = [b for b in series_services.occurrences_of(series).filter(status__in=ACTIVE_STATUSES)]
    if action == "cancel-all":
        return [b for b in active if b.session.start > now]
    first = next((b for b in active if b.session.start == start), None)
    if first is None:
        return []
    if action in ("skip", "move"):
        return [first]
    return [b for b in active if b.session.start >= first.session.start]


def _nearby_times(booking: Booking, zone: ZoneInfo) -> list[dt.datetime]:
    """Free times near the occurrence (its day and ``NEARBY_DAYS`` either side) for a move."""
    session = booking.session
    day = session.start.astimezone(zone).date()
    today = timezone.now().astimezone(zone).date()
    try:
        found = free_slots(
            coach=session.coach,
            session_type=session.session_type,
            start_date=max(today, day - dt.timedelta(days=NEARBY_DAYS)),
            end_date=day + dt.timedelta(days=NEARBY_DAYS),
            viewer_tz=zone,
            ignore_session_id=session.pk,
            client=booking.client,
        )
    except DomainError:
        return []
    times = sorted((slot.start for slot in found if slot.start != session.start), key=lambda s: abs(s - session.start))
    return sorted(times[:NEARBY_LIMIT])


@login_required
@require_http_methods(["GET", "POST"])
def series_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Skip, cancel this and the following, cancel all, move one, or retime the following:
    the occurrences it touches and the policy, then the change."""
    series = _series_for(request, pk)
    if action not in ACTIONS:
        raise Http404("No such change.")
    user = request.user
    zone = ZoneInfo(request.viewer_timezone)
    now = timezone.now()
    detail_url = reverse("series_detail", args=[series.pk])
    raw = (request.GET.get("start") or "").strip()
    start = views._parse_instant(raw) if raw else None
    if action != "cancel-all" and start is None:
        messages.error(request, gettext("Choose a session of the series first."))
        return HttpResponseRedirect(detail_url, status=303)
    targets = _targets(series, action, start, now)
    manager = services.is_manager(user, series.coach)
    blocked: str | None = None
    if not targets:
        blocked = gettext("No session of this series is left to change there.")
    elif not all(_may_change(user, booking) for booking in targets):
        raise Http404("No such series.")
    elif any(booking.session.start <= now for booking in targets):
        blocked = gettext("This session has already started, so it can't be changed.")
    policies = []
    refused = None
    if not blocked and action in CANCEL_ACTIONS:
        for booking in targets:
            policy = views._cancel_policy(booking, manager=manager, now=now, zone=zone)
            policies.append((booking, policy))
            refused = refused or policy.refused
    moving = action in ("move", "retime")
    time_form = NewTimeForm(request.POST if request.method == "POST" and moving else None, zone=zone)
    if moving and targets and not time_form.is_bound:
        local = timezone.localtime(targets[0].session.start, zone)
        time_form.initial = {"new_start": local.strftime("%Y-%m-%dT%H:%M")}
    reason_form = ReasonForm(request.POST if request.method == "POST" else None)
    error: str | None = None
    status = 409 if blocked else 200
    if request.method == "POST" and not blocked and not refused:
        picked = (request.POST.get("pick") or "").strip()
        try:
            if moving and picked:
                new_start = views._parse_instant(picked)
                if new_start is None:
                    raise DomainError(gettext("Choose one of the free times, or type a date and time."), code="invalid")
            elif moving:
                if not time_form.is_valid():
                    raise DomainError(
                        " ".join(str(e) for errs in time_form.errors.values() for e in errs), code="invalid"
                    )
                new_start = time_form.cleaned_data["new_start"]
            reason = reason_form.cleaned_data.get("reason", "") if reason_form.is_valid() else ""
            text = _apply(series, action, user, start, new_start if moving else None, reason, zone)
        except DomainError as exc:
            error, status = exc.message, exc.status
        except Exception:
            logger.exception("Series change %s failed: series %s, by user %s", action, series.pk, user.pk)
            error, status = str(CHANGE_FAILED), 500
        else:
            messages.success(request, text)
            return HttpResponseRedirect(detail_url, status=303)
    elif request.method == "POST":
        status = 409
    return render(
        request,
        "bookings/series_change.html",
        {
            "series": series,
            "action": action,
            "description": series_services.describe(series),
            "targets": targets,
            "policies": policies,
            "refused": refused,
            "blocked": blocked,
            "error": error,
            "manager": manager,
            "time_form": time_form if moving else None,
            "nearby": _nearby_times(targets[0], zone) if action == "move" and targets and not blocked else [],
            "reason": reason_form.data.get("reason", "") if reason_form.is_bound else "",
            "reason_required": manager and series.client_id != user.pk and action in CANCEL_ACTIONS,
            "detail_url": detail_url,
        },
        status=status,
    )


def _apply(
    series: Series,
    action: str,
    user: User,
    start: dt.datetime | None,
    new_start: dt.datetime | None,
    reason: str,
    zone: ZoneInfo,
) -> str:
    """Make the change; the words of the message shown after it."""
    if action == "skip":
        series_services.cancel_series(series=series, actor=user, scope="one", start=start, reason=reason, skip=True)
        return gettext("Skipped %(day)s. The rest of the series is unchanged.") % {"day": _when_text(start, zone)}
    if action == "cancel-following":
        done = series_services.cancel_series(series=series, actor=user, scope="following", start=start, reason=reason)
        return ngettext(
            "Cancelled %(count)d session, from %(day)s.", "Cancelled %(count)d sessions, from %(day)s.", len(done)
        ) % {"count": len(done), "day": _when_text(start, zone)}
    if action == "cancel-all":
        done = series_services.cancel_series(series=series, actor=user, scope="all", reason=reason)
        return ngettext(
            "Cancelled the %(count)d remaining session.", "Cancelled all %(count)d remaining sessions.", len(done)
        ) % {"count": len(done)}
    if action == "move":
        moved = series_services.move_occurrence(series=series, actor=user, start=start, new_start=new_start)
        if moved.status == BookingStatus.REQUESTED:
            return gettext("Change requested: %(coach)s confirms the new time, %(when)s.") % {
                "coach": series.coach.display_name,
                "when": _when_text(moved.session.start, zone),
            }
        return gettext("Moved %(day)s to %(when)s.") % {
            "day": _when_text(start, zone),
            "when": _when_text(moved.session.start, zone),
        }
    moved = series_services.retime_following(series=series, actor=user, start=start, new_start=new_start)
    return ngettext(
        "%(count)d session moved to %(time)s, from %(day)s.",
        "%(count)d sessions moved to %(time)s, from %(day)s.",
        len(moved),
    ) % {
        "count": len(moved),
        "time": timezone.localtime(new_start, zone).strftime("%H:%M"),
        "day": _when_text(start, zone),
    }
