"""Suggested times on the pages, on seeded histories: a client who always books Tuesdays at
18:00 (in winter, before Paris changed its clocks) is offered next Tuesday 18:00 first
(summer time: another UTC hour, the same local hour), then the times nearest the one they
wanted — in the wizard when the chosen time is gone or the day is full, on a declined
request's page, in the coach's "Suggest times" form (filled in), and in the API's 409."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import ClientFactory
from availability.selectors import free_slots
from availability.services import set_override
from bookings import services, suggestions
from bookings.models import BookingStatus
from bookings.tests.factories import SessionTypeFactory, open_coach

pytestmark = pytest.mark.django_db

UTC = dt.UTC
PARIS = ZoneInfo("Europe/Paris")
# Monday 30 March 2026, 08:00 in Paris: the day after the clocks went forward (UTC+2).
NOW = dt.datetime(2026, 3, 30, 6, 0, tzinfo=UTC)
# Six Tuesdays at 18:00 in Paris, all in winter time (17:00 UTC).
TUESDAYS = [dt.datetime(2026, 3, 24, 17, 0, tzinfo=UTC) - dt.timedelta(weeks=n) for n in range(6)]
# Next Tuesday, 31 March, 18:00 in Paris: 16:00 UTC in summer time.
NEXT_TUESDAY = dt.datetime(2026, 3, 31, 16, 0, tzinfo=UTC)
NEXT_TUESDAY_PARAM = "2026-03-31T16:00:00Z"
# What the client wants: Thursday 2 April, 10:00 in Paris.
WANTED = dt.datetime(2026, 4, 2, 8, 0, tzinfo=UTC)
WANTED_PARAM = "2026-04-02T08:00:00Z"
UNAVAILABLE = "This time is no longer available. Select another."


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def coach(db):
    coach = open_coach(timezone="Europe/Paris", hours=(9, 20))
    coach.name = "Nora Coach"
    coach.save()
    return coach


@pytest.fixture
def consult(coach):
    return SessionTypeFactory(coach=coach, title="Consultation", duration_minutes=60)


@pytest.fixture
def sofia(db):
    return ClientFactory(email="sofia@example.com", name="Sofia Marquez", timezone="Europe/Paris")


def seed_history(client, session_type, starts, frozen) -> None:
    """``client`` booked each of ``starts`` the day before, as the wizard does, and the
    sessions took place (completed by the task that completes past sessions)."""
    for start in sorted(starts):
        frozen.move_to(start - dt.timedelta(days=1))
        services.book_slot(client=client, session_type=session_type, start=start)
    frozen.move_to(NOW)
    assert services.complete_past_sessions() == len(starts)


@pytest.fixture
def regular(sofia, consult, frozen):
    """Sofia, who always books Tuesdays at 18:00 with Nora."""
    seed_history(sofia, consult, TUESDAYS, frozen)
    return sofia


def signed_in(user, *, htmx: bool = False) -> Client:
    http = Client(headers={"HX-Request": "true"} if htmx else {})
    http.force_login(user)
    return http


def text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.content.decode()))


def other_times(response) -> list[tuple[str, str, str]]:
    """The "Other times" of the time step: (kind, UTC instant, reason)."""
    body = html.unescape(response.content.decode())
    return re.findall(
        r'data-testid="other-time" data-kind="(\w+)" data-instant="([^"]+)">[^<]*</a>\s*'
        r'<span class="small muted" data-testid="other-time-reason">([^<]+)</span>',
        body,
    )


def type_url(st, **params: str) -> str:
    url = reverse("book_type", args=[st.coach_id, st.pk])
    return f"{url}?{'&'.join(f'{k}={v}' for k, v in params.items())}" if params else url


def free_starts(coach, st, client, first: dt.date, last: dt.date) -> set[dt.datetime]:
    return {
        slot.start
        for slot in free_slots(
            coach=coach, session_type=st, start_date=first, end_date=last, viewer_tz=PARIS, client=client
        )
    }


def as_instant(param: str) -> dt.datetime:
    return dt.datetime.fromisoformat(param.replace("Z", "+00:00"))


# ---------------------------------------------------------------------------------------
# The history and the ranking, with the database
# ---------------------------------------------------------------------------------------


def test_the_history_is_one_query_and_skips_cancelled_and_other_coaches(regular, consult, coach, frozen) -> None:
    elsewhere = SessionTypeFactory(coach=open_coach(timezone="Europe/Paris"))
    services.book_slot(client=regular, session_type=elsewhere, start=dt.datetime(2026, 4, 1, 8, tzinfo=UTC))
    dropped = services.book_slot(client=regular, session_type=consult, start=dt.datetime(2026, 4, 3, 8, tzinfo=UTC))
    services.cancel(booking=dropped, actor=regular, reason="")
    with CaptureQueriesContext(connection) as captured:
        history = suggestions.client_history(regular, coach)
    assert len(captured) == 1
    assert history == sorted(TUESDAYS, reverse=True)


def test_next_tuesday_at_18_is_first_across_the_clock_change(regular, consult, coach, frozen) -> None:
    found = suggestions.suggested_times(
        coach=coach,
        session_type=consult,
        client=regular,
        anchor=WANTED,
        zone=PARIS,
        nearest_text="Closest",
        viewer=regular,
    )
    assert found[0].start == NEXT_TUESDAY  # 18:00 in Paris, though the history was at 17:00 UTC
    assert found[0].kind == "pattern" and found[0].reason == "Your usual Tuesday 18:00"
    assert found[1].kind == "nearest" and found[1].start == WANTED - dt.timedelta(hours=1)
    assert found[2].start == NEXT_TUESDAY + dt.timedelta(weeks=1)
    assert len(found) == 5


def test_a_time_the_client_already_has_elsewhere_is_not_suggested(regular, consult, coach, frozen) -> None:
    # Sofia has another coach's session next Tuesday at 18:00: her usual time is taken.
    elsewhere = SessionTypeFactory(coach=open_coach(timezone="Europe/Paris", hours=(9, 20)), duration_minutes=60)
    services.book_slot(client=regular, session_type=elsewhere, start=NEXT_TUESDAY)
    found = suggestions.suggested_times(
        coach=coach, session_type=consult, client=regular, anchor=WANTED, zone=PARIS, nearest_text="Closest"
    )
    taken_until = NEXT_TUESDAY + dt.timedelta(hours=1)
    assert all(item.end <= NEXT_TUESDAY or item.start >= taken_until for item in found)
    # Her habit still leads: the nearest Tuesday evening time she is free.
    assert found[0].kind == "pattern" and found[0].start.astimezone(PARIS).weekday() == 1


def test_a_suggestion_is_always_free_busy_closed_and_beyond_the_window_are_not(regular, consult, coach) -> None:
    profile = coach.coach_profile
    profile.booking_window_days = 9  # to Wednesday 8 April, 08:00 in Paris
    profile.save()
    # Next Tuesday evening is taken by someone else; Wednesday 1 April is a day off.
    services.book_slot(client=ClientFactory(), session_type=consult, start=NEXT_TUESDAY)
    set_override(coach=coach, actor=coach, date=dt.date(2026, 4, 1), windows=[])
    found = suggestions.suggested_times(
        coach=coach,
        session_type=consult,
        client=regular,
        anchor=dt.datetime(2026, 4, 1, 10, tzinfo=UTC),
        zone=PARIS,
        nearest_text="Closest",
        limit=10,
    )
    free = free_starts(coach, consult, regular, dt.date(2026, 3, 30), dt.date(2026, 4, 9))
    assert found and {item.start for item in found} <= free
    assert NEXT_TUESDAY not in {item.start for item in found}
    for item in found:
        local = item.start.astimezone(PARIS)
        assert local.date() != dt.date(2026, 4, 1) and 9 <= local.hour < 20
        assert item.start >= NOW and item.end <= NOW + dt.timedelta(days=9)
    # The usual time gives way to the closest free time that Tuesday evening.
    assert found[0].kind == "pattern" and found[0].start == NEXT_TUESDAY - dt.timedelta(hours=1)


# ---------------------------------------------------------------------------------------
# The wizard
# ---------------------------------------------------------------------------------------


def test_a_time_taken_at_submission_comes_back_with_other_times(regular, consult, frozen) -> None:
    http = signed_in(regular)
    confirm = f"{reverse('book_confirm', args=[consult.coach_id, consult.pk])}?start={WANTED_PARAM}"
    assert http.get(confirm).status_code == 200
    services.book_slot(client=ClientFactory(), session_type=consult, start=WANTED)  # someone was quicker
    response = http.post(confirm, {"notes": "", "reminders": "on"})
    assert response.status_code == 303
    page = http.get(response["Location"])
    assert UNAVAILABLE in text(page)
    offered = other_times(page)
    assert offered[0] == ("pattern", NEXT_TUESDAY_PARAM, "Your usual Tuesday 18:00")
    assert offered[1] == ("nearest", "2026-04-02T07:00:00Z", "Closest to the time you chose")
    assert WANTED_PARAM not in {instant for _, instant, _ in offered}
    free = free_starts(consult.coach, consult, regular, dt.date(2026, 3, 30), dt.date(2026, 4, 16))
    assert {as_instant(instant) for _, instant, _ in offered} <= free

    # One click chooses it and the wizard goes on: its summary and the way to the confirm step.
    link = re.search(r'href="([^"]+)#times"[^>]*data-testid="other-time"', html.unescape(page.content.decode()))
    assert parse_qs(urlsplit(link.group(1)).query) == {"date": ["2026-03-31"], "start": [NEXT_TUESDAY_PARAM]}
    chosen = http.get(link.group(1))
    assert 'data-testid="booking-summary"' in chosen.content.decode()
    onward = re.search(r'href="([^"]+)" id="continue"', html.unescape(chosen.content.decode())).group(1)
    assert urlsplit(onward).path == reverse("book_confirm", args=[consult.coach_id, consult.pk])
    assert parse_qs(urlsplit(onward).query) == {"start": [NEXT_TUESDAY_PARAM]}
    assert 'data-testid="other-times"' not in chosen.content.decode()


def test_htmx_gets_the_other_times_in_the_times_fragment(regular, consult) -> None:
    services.book_slot(client=ClientFactory(), session_type=consult, start=WANTED)
    page = signed_in(regular, htmx=True).get(type_url(consult, date="2026-04-02", start=WANTED_PARAM))
    body = page.content.decode()
    assert page.status_code == 200 and "<html" not in body
    assert 'id="times"' in body and 'data-testid="slot-unavailable"' in body
    assert other_times(page)[0][:2] == ("pattern", NEXT_TUESDAY_PARAM)
    fetch = re.search(r'hx-get="([^"]+)"[^>]*data-testid="other-time"', html.unescape(body)).group(1)
    assert parse_qs(urlsplit(fetch).query) == {"date": ["2026-03-31"], "start": [NEXT_TUESDAY_PARAM]}


def test_a_full_day_offers_other_times_around_it(regular, consult, coach) -> None:
    set_override(coach=coach, actor=coach, date=dt.date(2026, 4, 2), windows=[])  # Thursday off
    page = signed_in(regular).get(type_url(consult, date="2026-04-02"))
    assert 'data-testid="no-times"' in page.content.decode()
    offered = other_times(page)
    assert offered[0] == ("pattern", NEXT_TUESDAY_PARAM, "Your usual Tuesday 18:00")
    # Nearest to that day's midday: Wednesday's and Friday's times, never Thursday's.
    nearest = [as_instant(instant).astimezone(PARIS) for kind, instant, _ in offered if kind == "nearest"]
    assert nearest and all(local.date() != dt.date(2026, 4, 2) for local in nearest)
    assert {reason for kind, _, reason in offered if kind == "nearest"} == {"Closest to the day you chose"}
    assert nearest[0] == dt.datetime(2026, 4, 1, 19, tzinfo=PARIS)  # the evening before: 17 hours away


def test_a_day_with_free_times_and_no_chosen_time_has_no_other_times(regular, consult) -> None:
    page = signed_in(regular).get(type_url(consult, date="2026-04-02"))
    assert 'data-testid="time-slot"' in page.content.decode()
    assert 'data-testid="other-times"' not in page.content.decode()


def test_a_visitor_gets_the_nearest_times_only(consult) -> None:
    services.book_slot(client=ClientFactory(), session_type=consult, start=WANTED)
    page = Client().get(type_url(consult, date="2026-04-02", start=WANTED_PARAM))
    offered = other_times(page)
    assert offered and {kind for kind, _, _ in offered} == {"nearest"}
    assert offered[0][1] == "2026-04-02T07:00:00Z"


def test_the_history_costs_one_query_whatever_its_length(consult, frozen) -> None:
    def queries(client) -> int:
        http = signed_in(client)
        http.get(type_url(consult))  # warm the session
        with CaptureQueriesContext(connection) as captured:
            page = http.get(type_url(consult, date="2026-04-02", start=WANTED_PARAM))
        assert other_times(page)[0][0] == "pattern"
        return len(captured)

    brief, long = ClientFactory(timezone="Europe/Paris"), ClientFactory(timezone="Europe/Paris")
    seed_history(brief, consult, TUESDAYS[:2], frozen)
    evenings = [t + dt.timedelta(hours=1) - dt.timedelta(weeks=w) for t in TUESDAYS[:2] for w in (0, 2, 4, 6, 8)]
    seed_history(long, consult, evenings, frozen)  # ten Tuesdays at 19:00
    services.book_slot(client=ClientFactory(), session_type=consult, start=WANTED)
    assert queries(long) == queries(brief)


def test_rescheduling_offers_other_times_but_not_the_time_already_held(regular, consult) -> None:
    held = services.book_slot(client=regular, session_type=consult, start=WANTED + dt.timedelta(hours=1))
    services.book_slot(client=ClientFactory(), session_type=consult, start=WANTED)
    base = reverse("booking_reschedule", args=[held.reference])
    page = signed_in(regular).get(f"{base}?date=2026-04-02&start={WANTED_PARAM}")
    offered = other_times(page)
    assert offered[0][:2] == ("pattern", NEXT_TUESDAY_PARAM)
    assert [instant for kind, instant, _ in offered if kind == "nearest"][:2] == [
        "2026-04-02T07:00:00Z",  # 09:00, then 12:00: 11:00 is the session being moved
        "2026-04-02T10:00:00Z",
    ]
    link = re.search(r'href="([^"]+)#times"[^>]*data-testid="other-time"', html.unescape(page.content.decode()))
    assert urlsplit(link.group(1)).path == base


# ---------------------------------------------------------------------------------------
# A declined request
# ---------------------------------------------------------------------------------------


@pytest.fixture
def declined(regular, consult, coach):
    coach.coach_profile.allow_firm_booking = False  # every booking is now a request
    coach.coach_profile.save()
    request = services.book_slot(client=regular, session_type=consult, start=WANTED)
    assert request.status == BookingStatus.REQUESTED
    answer = signed_in(coach).post(f"/bookings/{request.reference}/decline/", {"reason": "I'm travelling."})
    assert answer.status_code == 302
    request.refresh_from_db()
    assert request.status == BookingStatus.DECLINED
    return request


def test_the_declined_request_offers_times_to_book_instead(declined, regular, consult) -> None:
    page = signed_in(regular).get(f"/bookings/{declined.reference}/")
    body = html.unescape(page.content.decode())
    assert "Book one of these instead" in body
    links = re.findall(r'href="([^"]+)" data-testid="rebook-time">', body)
    reasons = re.findall(r'data-testid="rebook-reason">([^<]+)<', body)
    assert len(links) == 5
    assert parse_qs(urlsplit(links[0]).query) == {"date": ["2026-03-31"], "start": [NEXT_TUESDAY_PARAM]}
    assert urlsplit(links[0]).path == type_url(consult)
    assert reasons[0] == "Your usual Tuesday 18:00"
    assert "Closest to the time you asked for" in reasons
    # Not the declined time itself, though it is free again.
    assert all(parse_qs(urlsplit(link).query)["start"] != [WANTED_PARAM] for link in links)
    # The link opens the wizard with that time chosen.
    chosen = signed_in(regular).get(links[0])
    assert 'data-testid="booking-summary"' in chosen.content.decode()


def test_the_coach_does_not_get_the_clients_rebooking_links(declined, coach) -> None:
    page = signed_in(coach).get(f"/bookings/{declined.reference}/")
    assert page.status_code == 200 and 'data-testid="rebook-times"' not in page.content.decode()


def test_a_declined_request_of_a_type_no_longer_offered_offers_nothing(declined, regular, consult) -> None:
    consult.is_active = False
    consult.save()
    page = signed_in(regular).get(f"/bookings/{declined.reference}/")
    assert page.status_code == 200 and 'data-testid="rebook-times"' not in page.content.decode()


# ---------------------------------------------------------------------------------------
# The coach's "Suggest times" form
# ---------------------------------------------------------------------------------------


@pytest.fixture
def pending(regular, consult, coach):
    coach.coach_profile.allow_firm_booking = False
    coach.coach_profile.save()
    return services.book_slot(client=regular, session_type=consult, start=WANTED)


def prefilled(body: str) -> list[tuple[str, str]]:
    dates = dict(re.findall(r'name="alt_(\d)_date" value="([^"]*)"', body))
    times = dict(re.findall(r'name="alt_(\d)_time" value="([^"]*)"', body))
    return [(dates[str(i)], times[str(i)]) for i in range(1, 6)]


def test_the_coach_form_starts_with_the_best_three_times(pending, coach) -> None:
    page = signed_in(coach).get(f"/bookings/{pending.reference}/")
    body = html.unescape(page.content.decode())
    assert prefilled(body) == [
        ("2026-03-31", "18:00"),  # her usual Tuesday evening
        ("2026-04-02", "09:00"),  # the hour before the request (which still holds 10:00)
        ("2026-04-07", "18:00"),  # the Tuesday after
        ("", ""),
        ("", ""),
    ]
    assert re.search(r'data-testid="alt-1-reason">Sofia Marquez\'s usual Tuesday 18:00<', body)
    assert re.search(r'data-testid="alt-2-reason">Closest to the requested time<', body)

    # Sent as they are, they are the suggestions the client reads.
    fields = {"note": ""}
    for i, (day, time) in enumerate(prefilled(body), start=1):
        fields |= {f"alt_{i}_date": day, f"alt_{i}_time": time}
    sent = signed_in(coach).post(f"/bookings/{pending.reference}/suggest/", fields)
    assert sent.status_code == 302
    pending.refresh_from_db()
    assert [dt.datetime.fromisoformat(v) for v in pending.suggested_alternatives] == [
        NEXT_TUESDAY,
        WANTED - dt.timedelta(hours=1),
        NEXT_TUESDAY + dt.timedelta(weeks=1),
    ]


def test_a_refused_suggestion_form_shows_what_the_coach_typed(pending, coach) -> None:
    page = signed_in(coach).post(
        f"/bookings/{pending.reference}/suggest/", {"alt_1_date": "2026-03-31", "alt_1_time": "25:00"}
    )
    assert page.status_code == 400
    assert prefilled(html.unescape(page.content.decode()))[:2] == [("2026-03-31", "25:00"), ("", "")]


def test_the_queue_fetches_the_filled_form_when_it_opens(pending, coach, regular) -> None:
    dashboard = signed_in(coach).get(reverse("coach_dashboard"))
    url = reverse("booking_suggest_fields", args=[pending.reference])
    assert f'hx-get="{url}" hx-trigger="toggle once"' in dashboard.content.decode()
    fragment = signed_in(coach, htmx=True).get(url)
    body = html.unescape(fragment.content.decode())
    assert fragment.status_code == 200 and f'id="alt-{pending.pk}-1"' in body
    assert prefilled(body)[0] == ("2026-03-31", "18:00")
    assert signed_in(regular).get(url).status_code == 403
    assert signed_in(ClientFactory()).get(url).status_code == 404


# ---------------------------------------------------------------------------------------
# The API
# ---------------------------------------------------------------------------------------


def test_the_api_conflict_lists_suggestions(regular, consult, coach) -> None:
    services.book_slot(client=ClientFactory(), session_type=consult, start=WANTED)
    response = signed_in(regular).post(
        "/api/v1/bookings",
        json.dumps({"coach": coach.pk, "session_type": consult.pk, "start": WANTED_PARAM}),
        content_type="application/json",
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "slot_taken"
    assert error["suggestions"][0] == {
        "start": "2026-03-31T18:00:00+02:00",
        "end": "2026-03-31T19:00:00+02:00",
        "kind": "pattern",
        "reason": "Your usual Tuesday 18:00",
    }
    assert error["suggestions"][1]["start"] == "2026-04-02T09:00:00+02:00"
