"""The coach's side of recurring series (issue 17): the settings, one item in the requests
queue answered once (or one date declined alone), the agenda's "Series" badge, the
running series on the dashboard, and the series in the back office."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import ClientFactory, make_token
from bookings import services
from bookings.models import Booking, BookingStatus, Series
from bookings.services import series as series_services
from bookings.tests.factories import SessionTypeFactory, open_coach
from conftest import logged_in

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC)  # a Tuesday
FIRST = dt.datetime(2026, 12, 3, 18, 0, tzinfo=PARIS)  # Thursday, within the agenda's 7 days
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def coach():
    return open_coach(timezone="Europe/Paris", hours=(8, 20), series_requires_approval=True)


@pytest.fixture
def sofia():
    return ClientFactory(name="Sofia Marquez", timezone="Europe/Paris")


@pytest.fixture
def series(coach, sofia) -> Series:
    session_type = SessionTypeFactory(coach=coach, title="Weekly tutoring", duration_minutes=60)
    booked, outcomes = series_services.book_series(client=sofia, session_type=session_type, start=FIRST, count=4)
    assert {outcome.status for outcome in outcomes} == {BookingStatus.REQUESTED}
    return booked


def occurrences(series: Series) -> list[Booking]:
    return list(Booking.objects.filter(series=series).select_related("session").order_by("session__start"))


def statuses(series: Series) -> list[str]:
    return [booking.status for booking in occurrences(series)]


def items(page: str, testid: str) -> list[str]:
    return re.findall(rf'data-testid="{testid}"', page)


# --- settings ---------------------------------------------------------------------------


def settings_post(profile, **changes) -> dict:
    from accounts.services import COACH_SETTING_FIELDS

    data = {name: getattr(profile, name) for name in COACH_SETTING_FIELDS}
    data = {name: ("on" if value is True else value) for name, value in data.items() if value is not False}
    return {**data, "max_sessions_per_day": 8, "max_sessions_per_week": 40, **changes}


def test_the_settings_page_shows_the_series_settings_with_the_sites_horizon(coach) -> None:
    page = logged_in(coach).get(reverse("coach_settings")).content.decode()
    assert "Clients may book recurring series" in page
    assert "Every new series needs my approval" in page
    assert f'placeholder="{settings.SERIES_HORIZON_DAYS}"' in page
    assert 'href="#series"' in page


def test_the_settings_page_saves_the_series_settings(coach) -> None:
    profile = coach.coach_profile
    data = settings_post(profile, series_horizon_days="300")
    data.pop("allow_series", None)  # unticked
    data.pop("series_requires_approval", None)
    response = logged_in(coach).post(reverse("coach_settings"), data)
    assert response.status_code == 302
    profile.refresh_from_db()
    assert (profile.allow_series, profile.series_horizon_days, profile.series_requires_approval) == (False, 300, False)

    data = settings_post(profile, allow_series="on", series_requires_approval="on", series_horizon_days="")
    assert logged_in(coach).post(reverse("coach_settings"), data).status_code == 302
    profile.refresh_from_db()
    assert (profile.allow_series, profile.series_horizon_days, profile.series_requires_approval) == (True, None, True)


@pytest.mark.parametrize("value", ["0", "731", "ten", "12.5", "-3"])
def test_a_wrong_horizon_is_refused_with_a_message(coach, value) -> None:
    profile = coach.coach_profile
    profile.series_horizon_days = 90
    profile.save()
    response = logged_in(coach).post(reverse("coach_settings"), settings_post(profile, series_horizon_days=value))
    assert response.status_code == 400
    assert "Give the series horizon as a whole number of days from 1 to 730" in response.content.decode()
    profile.refresh_from_db()
    assert profile.series_horizon_days == 90


def test_the_availability_editor_leaves_the_series_settings_alone(coach) -> None:
    """Its settings form doesn't show them: saving it must not untick them."""
    profile = coach.coach_profile
    profile.allow_series, profile.series_requires_approval, profile.series_horizon_days = True, True, 120
    profile.save()
    response = logged_in(coach).post(reverse("availability_settings"), settings_post(profile, slot_step_minutes=30))
    assert response.status_code == 302
    profile.refresh_from_db()
    assert (profile.slot_step_minutes, profile.allow_series, profile.series_requires_approval) == (30, True, True)
    assert profile.series_horizon_days == 120


def test_the_api_reads_and_changes_the_series_settings(coach) -> None:
    auth = {"HTTP_AUTHORIZATION": f"Bearer {make_token(coach)[1]}"}
    profile = coach.coach_profile
    profile.max_sessions_per_day, profile.max_sessions_per_week = 8, 40  # within the model's limits
    profile.save()

    def patch(body):
        return Client().patch("/api/v1/coach/settings", json.dumps(body), content_type="application/json", **auth)

    body = Client().get("/api/v1/coach/settings", **auth).json()
    assert (body["allow_series"], body["series_horizon_days"], body["series_requires_approval"]) == (True, None, True)
    changed = patch({"allow_series": False, "series_horizon_days": 90})
    assert changed.status_code == 200, changed.content
    assert (changed.json()["allow_series"], changed.json()["series_horizon_days"]) == (False, 90)
    assert patch({"series_horizon_days": None}).json()["series_horizon_days"] is None
    for wrong in ({"series_horizon_days": 0}, {"series_horizon_days": 731}, {"allow_series": None}):
        refused = patch(wrong)
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid"
    coach.coach_profile.refresh_from_db()
    assert (coach.coach_profile.allow_series, coach.coach_profile.series_horizon_days) == (False, None)


# --- the requests queue: one item, one decision ------------------------------------------


def test_a_series_request_is_one_item_in_the_queue(coach, series) -> None:
    single_type = SessionTypeFactory(coach=coach, title="First consultation", approval="always")
    single = services.book_slot(
        client=ClientFactory(name="Rita Request"), session_type=single_type, start=FIRST + dt.timedelta(hours=-2)
    )
    assert single.status == BookingStatus.REQUESTED
    response = logged_in(coach).get(reverse("coach_dashboard"))
    page = response.content.decode()
    assert response.status_code == 200
    assert len(items(page, "series-request")) == 1
    assert len(items(page, "series-date")) == 4
    assert len(items(page, "request-row")) == 1  # the single request, on its own
    assert response.context["requests_count"] == 2
    assert re.search(r'data-testid="requests-count">2<', page)
    assert "Sofia Marquez" in page
    assert "Weekly, Thursdays 18:00 from 3 Dec, 4 sessions" in page
    assert f'id="approve-series-{series.pk}"' in page and "Approve series" in page
    assert "Decline series" in page and "Decline only this date" in page
    for booking in occurrences(series):
        assert booking.reference in page
        assert f'id="approve-{booking.pk}"' not in page  # no per-occurrence approve in the queue


def test_approve_series_confirms_every_occurrence_and_refreshes_the_dashboard(coach, series) -> None:
    http = logged_in(coach)
    response = http.post(reverse("series_approve", args=[series.pk]), {"ui": "queue"}, **HTMX)
    page = response.content.decode()
    assert response.status_code == 200
    assert set(statuses(series)) == {BookingStatus.CONFIRMED}
    assert "Series approved: 4 sessions are confirmed." in page
    assert "Approve series" not in page  # answered
    assert 'id="agenda" hx-swap-oob="true"' in page and 'id="week-agenda" hx-swap-oob="true"' in page
    assert 'id="running-series" hx-swap-oob="true"' in page
    assert re.search(r'id="requests-count"[^>]*hx-swap-oob="true">0<', page)
    again = http.post(reverse("series_approve", args=[series.pk]), {"ui": "queue"}, **HTMX)
    assert again.status_code == 409
    assert "no request waiting" in again.content.decode()


def test_approve_series_without_htmx_says_so_on_the_dashboard(coach, series) -> None:
    http = logged_in(coach)
    response = http.post(reverse("series_approve", args=[series.pk]), {"next": reverse("coach_dashboard")})
    assert response.status_code == 302 and response["Location"] == reverse("coach_dashboard")
    page = http.get(response["Location"]).content.decode()
    assert "Series approved: 4 sessions are confirmed." in page
    assert not items(page, "series-request")
    assert set(statuses(series)) == {BookingStatus.CONFIRMED}


def test_decline_series_needs_a_reason_then_declines_every_occurrence(coach, series) -> None:
    http = logged_in(coach)
    url = reverse("series_decline", args=[series.pk])
    blank = http.post(url, {"ui": "queue", "reason": "   "}, **HTMX)
    assert blank.status_code == 400
    assert "Tell the client why you are declining." in blank.content.decode()
    assert set(statuses(series)) == {BookingStatus.REQUESTED}

    response = http.post(url, {"ui": "queue", "reason": "I'm full on Thursdays until spring."}, **HTMX)
    assert response.status_code == 200
    assert "Series declined: 4 requests are withdrawn." in response.content.decode()
    declined = occurrences(series)
    assert {b.status for b in declined} == {BookingStatus.DECLINED}
    assert {b.decline_reason for b in declined} == {"I'm full on Thursdays until spring."}


def test_one_date_can_be_declined_alone(coach, series) -> None:
    http = logged_in(coach)
    second = occurrences(series)[1]
    url = reverse("series_decline_one", args=[series.pk])
    blank = http.post(url, {"ui": "queue", "reference": second.reference, "reason": ""}, **HTMX)
    assert blank.status_code == 400 and set(statuses(series)) == {BookingStatus.REQUESTED}

    response = http.post(url, {"ui": "queue", "reference": second.reference, "reason": "Away that week."}, **HTMX)
    page = response.content.decode()
    assert response.status_code == 200
    assert statuses(series) == [
        BookingStatus.REQUESTED,
        BookingStatus.DECLINED,
        BookingStatus.REQUESTED,
        BookingStatus.REQUESTED,
    ]
    assert "Declined Thu 10 Dec, 18:00 only" in page
    assert "Approve series" in page  # the rest still waits, as one item
    assert re.search(r'id="requests-count"[^>]*>1<', page)

    approved = http.post(reverse("series_approve", args=[series.pk]), {"ui": "queue"}, **HTMX)
    assert approved.status_code == 200
    assert statuses(series) == [
        BookingStatus.CONFIRMED,
        BookingStatus.DECLINED,
        BookingStatus.CONFIRMED,
        BookingStatus.CONFIRMED,
    ]


def test_decline_one_refuses_a_booking_of_another_series(coach, series, sofia) -> None:
    other_type = SessionTypeFactory(coach=coach, title="Other", approval="always")
    other = services.book_slot(client=sofia, session_type=other_type, start=FIRST + dt.timedelta(hours=-3))
    response = logged_in(coach).post(
        reverse("series_decline_one", args=[series.pk]),
        {"ui": "queue", "reference": other.reference, "reason": "No"},
        **HTMX,
    )
    assert response.status_code == 404
    assert "part of this series" in response.content.decode()
    other.refresh_from_db()
    assert other.status == BookingStatus.REQUESTED


def suggest(http, series, day="2026-12-03", time="14:00", **extra):
    data = {"ui": "queue", "new_start_date": day, "new_start_time": time, **extra}
    return http.post(reverse("series_suggest", args=[series.pk]), data, **HTMX)


def test_the_coach_suggests_another_time_for_the_whole_series(coach, series) -> None:
    http = logged_in(coach)
    page = http.get(reverse("coach_dashboard")).content.decode()
    assert "Suggest another time" in page and 'data-testid="suggest-series-form"' in page
    assert 'name="new_start_date" value="2026-12-03"' in page  # the first date, to change
    response = suggest(http, series, note="Could Thursday afternoons work?")
    page = response.content.decode()
    assert response.status_code == 200, page
    assert "Suggested Thursdays 14:00 from 3 Dec for the 4 sessions; the client answers once." in page
    assert "Suggested: Thursdays 14:00 from 3 Dec — waiting for the client" in page
    assert re.search(r'id="requests-count"[^>]*hx-swap-oob="true">1<', page)  # still the client's turn
    waiting = occurrences(series)
    assert {b.status for b in waiting} == {BookingStatus.REQUESTED}
    assert [dt.datetime.fromisoformat(b.suggested_alternatives[0]) for b in waiting] == [
        dt.datetime(2026, 12, 3, 14, 0, tzinfo=PARIS) + dt.timedelta(weeks=weeks) for weeks in range(4)
    ]
    assert [b.session.start for b in waiting] == [FIRST + dt.timedelta(weeks=weeks) for weeks in range(4)]
    again = http.get(reverse("coach_dashboard")).content.decode()
    assert "Suggested: Thursdays 14:00 from 3 Dec — waiting for the client" in again


def test_a_suggested_time_moves_the_weekday_too_and_works_without_htmx(coach, series) -> None:
    http = logged_in(coach)
    response = http.post(
        reverse("series_suggest", args=[series.pk]),
        {"new_start_date": "2026-12-04", "new_start_time": "9:30", "next": reverse("coach_dashboard")},
    )
    assert response.status_code == 302 and response["Location"] == reverse("coach_dashboard")
    page = http.get(response["Location"]).content.decode()
    assert "Suggested Fridays 09:30 from 4 Dec for the 4 sessions" in page
    assert "Suggested: Fridays 09:30 from 4 Dec — waiting for the client" in page


@pytest.mark.parametrize(
    ("day", "time", "words", "status"),
    [
        ("2026-12-03", "25:00", "24-hour time", 400),
        ("", "14:00", "Give the new date", 400),
        ("2026-11-30", "14:00", "in the future", 400),
        ("2027-03-28", "02:30", "doesn't exist in Europe/Paris", 400),  # the clocks skip it
        ("2026-12-03", "12:00", "You already have something at Thu 3 Dec, 12:00", 409),
    ],
)
def test_a_suggestion_that_cannot_be_made_is_the_rows_error(coach, series, day, time, words, status) -> None:
    other = SessionTypeFactory(coach=coach, title="One-off", approval="never")
    services.book_slot(client=ClientFactory(), session_type=other, start=dt.datetime(2026, 12, 3, 12, 0, tzinfo=PARIS))
    response = suggest(logged_in(coach), series, day=day, time=time)
    page = html.unescape(response.content.decode())
    assert response.status_code == status, page
    assert 'data-testid="row-error"' in page and words in page
    assert "Approve series" in page  # the item stays, to answer otherwise
    assert not any(b.suggested_alternatives for b in occurrences(series))


def test_the_client_cannot_answer_their_series_and_others_dont_see_it(series, sofia) -> None:
    for name in ("series_approve", "series_decline", "series_decline_one", "series_suggest"):
        url = reverse(name, args=[series.pk])
        data = {
            "reason": "x",
            "reference": occurrences(series)[0].reference,
            "new_start_date": "2026-12-03",
            "new_start_time": "14:00",
        }
        assert logged_in(sofia).post(url, data).status_code == 403
        assert logged_in(ClientFactory()).post(url, data).status_code == 404
        assert Client().post(url, data).status_code == 302  # to the login page
    assert logged_in(sofia).get(reverse("series_approve", args=[series.pk])).status_code == 405
    assert set(statuses(series)) == {BookingStatus.REQUESTED}


def test_an_unknown_series_is_404(coach) -> None:
    assert logged_in(coach).post(reverse("series_approve", args=[999999])).status_code == 404


def test_the_coachs_post_needs_the_csrf_token(coach, series) -> None:
    http = Client(enforce_csrf_checks=True)
    http.force_login(coach)
    assert http.post(reverse("series_approve", args=[series.pk])).status_code == 403
    assert set(statuses(series)) == {BookingStatus.REQUESTED}


# --- the dashboard: the agenda's badge, the running series -------------------------------


def test_the_agenda_marks_series_sessions_and_the_dashboard_lists_the_series(coach, series) -> None:
    series_services.approve_series(series=series, actor=coach)
    single_type = SessionTypeFactory(coach=coach, title="One-off", approval="never")
    services.book_slot(client=ClientFactory(), session_type=single_type, start=FIRST + dt.timedelta(hours=-4))
    page = logged_in(coach).get(reverse("coach_dashboard")).content.decode()
    badges = re.findall(r'<a class="badge" href="([^"]+)" data-testid="series-badge"', page)
    assert badges == [f"/series/{series.pk}/"]  # the Thursday occurrence only, not the one-off
    rows = re.findall(r'data-testid="running-series-link">([^<]+)<', page)
    assert rows == ["Weekly, Thursdays 18:00, 4 of 4 left"]


def test_the_running_series_counts_what_is_left(coach, series, frozen) -> None:
    series_services.approve_series(series=series, actor=coach)
    first, second = occurrences(series)[:2]
    services.cancel(booking=second, actor=coach, reason="Ill")
    frozen.move_to(first.session.end + dt.timedelta(minutes=5))
    page = logged_in(coach).get(reverse("coach_dashboard")).content.decode()
    assert re.findall(r'data-testid="running-series-link">([^<]+)<', page) == ["Weekly, Thursdays 18:00, 2 of 3 left"]


# --- back office ------------------------------------------------------------------------


def test_the_series_admin_lists_and_shows_a_series_read_only(series, admin_user, staff_user) -> None:
    for user in (admin_user, staff_user):
        http = logged_in(user)
        listed = http.get(reverse("admin:bookings_series_changelist"))
        assert listed.status_code == 200
        assert series in listed.context["cl"].result_list
        assert http.get(reverse("admin:bookings_series_changelist"), {"q": "Sofia"}).status_code == 200
        page = http.get(reverse("admin:bookings_series_change", args=[series.pk]))
        assert page.status_code == 200
        text = page.content.decode()
        for booking in occurrences(series):
            assert booking.reference in text
        assert "FREQ=WEEKLY" in text
        assert http.get(reverse("admin:bookings_series_add")).status_code == 403


def test_the_dashboard_reads_the_same_whatever_the_number_of_series(coach, series) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def reads() -> int:
        http = logged_in(coach)
        with CaptureQueriesContext(connection) as captured:
            assert http.get(reverse("coach_dashboard")).status_code == 200
        return len(captured)

    before = reads()
    for hour in (9, 11, 13):
        session_type = SessionTypeFactory(coach=coach, title=f"Type {hour}")
        start = FIRST.replace(hour=hour)
        series_services.book_series(client=ClientFactory(), session_type=session_type, start=start, count=3)
    confirmed = Series.objects.exclude(pk=series.pk).first()
    series_services.approve_series(series=confirmed, actor=coach)
    page = logged_in(coach).get(reverse("coach_dashboard")).content.decode()
    assert len(items(page, "series-request")) == 3 and len(items(page, "running-series-row")) == 4
    assert reads() == before
