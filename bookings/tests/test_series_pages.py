"""The client's pages of a recurring series (issue 17): "Repeat this session" on the
wizard's confirm step, the preview with a verdict per date and the nearby time for a
taken one, booking all / the free ones / with a date moved, the series page and its
changes (skip, cancel this and the following, cancel all, move, retime), the client's
dashboard with a series as one entry, and bad input answered with a message."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.models import Connection, ConnectionStatus
from accounts.tests.factories import ClientFactory, StaffFactory
from bookings import services
from bookings.models import Booking, BookingStatus, Series
from bookings.services import series as series_services
from bookings.tests.factories import SessionTypeFactory, open_coach

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")
NOW = dt.datetime(2027, 2, 20, 12, 0, tzinfo=dt.UTC)  # a Saturday, before the March change
TOKEN = re.compile(r'<input type="hidden" name="submit_token" value="([^"]+)">')


def tuesday(weeks: int = 0, hour: int = 10) -> dt.datetime:
    """A Tuesday at ``hour`` in New York, ``weeks`` after 23 February 2027 (UTC)."""
    local = dt.datetime(2027, 2, 23, hour, 0) + dt.timedelta(weeks=weeks)
    return local.replace(tzinfo=NY).astimezone(dt.UTC)


def param(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def coach():
    coach = open_coach(timezone="America/New_York", hours=(8, 18), booking_window_days=21)
    coach.name = "Nora Coach"
    coach.save()
    profile = coach.coach_profile
    profile.allow_series = True
    profile.save()
    return coach


@pytest.fixture
def session_type(coach):
    return SessionTypeFactory(coach=coach, title="Tutoring", duration_minutes=60)


@pytest.fixture
def client_user(coach):
    client = ClientFactory(name="Cleo Client", timezone="America/New_York")
    Connection.objects.create(client=client, coach=coach, status=ConnectionStatus.ACCEPTED)
    return client


@pytest.fixture
def http(client_user) -> Client:
    http = Client()
    http.force_login(client_user)
    return http


@pytest.fixture
def taken(coach, session_type):
    """Another client's booking on the third Tuesday at 10:00: the series' conflict."""
    other = ClientFactory()
    Connection.objects.create(client=other, coach=coach, status=ConnectionStatus.ACCEPTED)
    return services.book_slot(client=other, session_type=session_type, start=tuesday(2), now=NOW)


def preview_url(coach, session_type, start=None, **query) -> str:
    base = reverse("series_preview", args=[coach.pk, session_type.pk])
    return f"{base}?{urlencode({'start': param(start or tuesday()), **query})}"


def weekly(count: int = 8) -> dict:
    return {"frequency": "weekly", "ends": "count", "count": str(count)}


def page(response) -> str:
    return response.content.decode()


def token_of(response) -> str:
    return TOKEN.search(page(response)).group(1)


def book(http, coach, session_type, on_conflict: str, *, count: int = 8, moves=(), **extra):
    url = preview_url(coach, session_type, **weekly(count))
    shown = http.get(url)
    data = {"submit_token": token_of(shown), "on_conflict": on_conflict, "reminders": "on", "move": list(moves)}
    return http.post(url, {**data, **extra})


# --- the confirm step -------------------------------------------------------------------


def test_confirm_step_offers_to_repeat_the_session(http, coach, session_type):
    url = reverse("book_confirm", args=[coach.pk, session_type.pk]) + f"?start={param(tuesday())}"
    response = http.get(url)
    assert response.status_code == 200
    html = page(response)
    assert 'data-testid="series-repeat"' in html
    assert f'action="{reverse("series_preview", args=[coach.pk, session_type.pk])}"' in html
    assert 'name="frequency"' in html and 'value="biweekly"' in html and 'value="monthly_date"' in html
    assert 'name="count" value="8"' in html and 'name="until"' in html
    assert "See all dates" in html


def test_confirm_step_leaves_repeat_out_when_the_coach_takes_no_series(http, coach, session_type):
    coach.coach_profile.allow_series = False
    coach.coach_profile.save()
    url = reverse("book_confirm", args=[coach.pk, session_type.pk]) + f"?start={param(tuesday())}"
    response = http.get(url)
    assert response.status_code == 200
    assert 'data-testid="series-repeat"' not in page(response)


# --- the preview ----------------------------------------------------------------------


def test_preview_lists_each_date_with_its_verdict_and_a_suggestion(http, coach, session_type, taken):
    response = http.get(preview_url(coach, session_type, **weekly(8)))
    assert response.status_code == 200
    html = page(response)
    rows = re.findall(r'data-testid="series-row" data-code="([^"]*)"', html)
    assert rows == ["", "", "slot_taken", "", "", "", "", ""]
    assert html.count('data-testid="verdict">Free<') == 7
    assert "This time is taken." in html
    suggestion = (
        series_services.preview_series(
            client=taken.client, session_type=session_type, start=tuesday(), count=8, now=NOW
        )
        .occurrences[2]
        .suggestion
    )  # the coach's nearest free time that day
    assert 'data-testid="series-move-3"' in html
    assert f"{param(tuesday(2))}|" in html
    assert suggestion is not None
    assert f"{param(tuesday(2))}|{param(suggestion)}" in html
    assert f"Book at Tue 9 Mar, {suggestion.astimezone(NY):%H:%M} instead" in html
    assert "America/New_York" in page(response).split('data-testid="series-zone"', 1)[1][:300]
    assert "Book the 7 free ones, skip the rest" in html
    assert 'id="series-book-all"' not in html  # not every date is free
    assert "The series is booked at once." in html


def test_preview_of_a_series_the_coach_approves_says_it_is_a_request(http, coach, session_type):
    coach.coach_profile.series_requires_approval = True
    coach.coach_profile.save()
    response = http.get(preview_url(coach, session_type, **weekly(4)))
    html = page(response)
    assert "This series will be a request:" in html
    assert "Nora Coach approves every series personally." in html
    assert "Request all 4" in html


@pytest.mark.parametrize(
    "query, words",
    [
        ({"frequency": "weekly", "ends": "count", "count": "0"}, "A series has between 1 and"),
        ({"frequency": "weekly", "ends": "count", "count": "999"}, "A series has between 1 and"),
        ({"frequency": "weekly", "ends": "count", "count": "lots"}, "whole number"),
        ({"frequency": "weekly", "ends": "until", "until": "2027-01-01"}, "The end date is before the first session."),
        ({"frequency": "weekly", "ends": "until", "until": "yesterday"}, "Give the end date as a date"),
        ({"frequency": "weekly", "ends": "until", "until": ""}, "Give the last date of the series."),
        ({"frequency": "hourly", "ends": "count", "count": "3"}, "Choose how the series repeats."),
    ],
)
def test_bad_repetition_is_a_message_not_an_error(http, coach, session_type, query, words):
    response = http.get(preview_url(coach, session_type, **query))
    assert response.status_code == 400
    html = page(response)
    assert 'data-testid="series-error"' in html
    assert words in html
    assert 'data-testid="series-row"' not in html


def test_bad_input_to_the_booking_post_is_a_message(http, coach, session_type):
    url = preview_url(coach, session_type, **weekly(0))
    response = http.post(url, {"submit_token": "x", "on_conflict": "skip"})
    assert response.status_code == 400
    assert "A series has between 1 and" in page(response)
    assert not Series.objects.exists()


def test_an_unreadable_start_goes_back_to_the_times(http, coach, session_type):
    url = reverse("series_preview", args=[coach.pk, session_type.pk]) + "?start=soon"
    response = http.get(url)
    assert response.status_code == 303
    assert reverse("book_type", args=[coach.pk, session_type.pk]) in response["Location"]


def test_an_until_date_ends_the_series(http, coach, session_type):
    response = http.get(preview_url(coach, session_type, frequency="biweekly", ends="until", until="2027-04-06"))
    assert response.status_code == 200
    assert len(re.findall(r'data-testid="series-row"', page(response))) == 4  # 23 Feb, 9 Mar, 23 Mar, 6 Apr


# --- booking ----------------------------------------------------------------------------


def test_booking_with_skip_books_the_free_ones_and_shows_the_series(http, client_user, coach, session_type, taken):
    response = book(http, coach, session_type, "skip")
    assert response.status_code == 303
    series = Series.objects.get(client=client_user)
    assert response["Location"] == reverse("series_detail", args=[series.pk])
    bookings = Booking.objects.filter(series=series)
    assert bookings.count() == 7
    assert {b.status for b in bookings} == {BookingStatus.FIRM_BOOKED}
    assert tuesday(2) not in {b.session.start for b in bookings}
    shown = http.get(response["Location"])
    html = page(shown)
    assert "Series booked: 7 sessions. 1 date was skipped." in html
    assert html.count('data-testid="series-occurrence"') == 7
    assert "Weekly, Tuesdays 10:00, 7 of 7 left" in html
    assert "was not booked: This time is taken." in html


def test_book_all_refused_when_a_date_is_taken_shows_the_preview_again(http, client_user, coach, session_type, taken):
    response = book(http, coach, session_type, "all_or_nothing")
    assert response.status_code == 409
    html = page(response)
    assert "9 Mar 2027" in html and "This time is taken." in html
    assert 'data-testid="series-row"' in html
    assert not Series.objects.exists()


def test_a_taken_date_moved_to_its_suggestion_books_every_date(http, client_user, coach, session_type, taken):
    shown = http.get(preview_url(coach, session_type, **weekly(8)))
    move = re.search(r'name="move" value="([^"]+)"', page(shown)).group(1)
    response = book(http, coach, session_type, "all_or_nothing", moves=[move])
    assert response.status_code == 303
    series = Series.objects.get(client=client_user)
    starts = sorted(b.session.start for b in Booking.objects.filter(series=series))
    assert len(starts) == 8
    assert starts[2] == dt.datetime.fromisoformat(move.split("|")[1].replace("Z", "+00:00"))
    assert starts[2] != tuesday(2)


def test_a_forged_move_is_refused_with_a_message(http, coach, session_type, taken):
    response = book(http, coach, session_type, "skip", moves=["garbage|2027-03-09T15:00:00Z"])
    assert response.status_code == 400
    assert "could not be read" in page(response)
    assert not Series.objects.exists()


def test_all_free_books_all_at_once_and_a_resubmit_books_nothing_more(http, client_user, coach, session_type):
    url = preview_url(coach, session_type, **weekly(4))
    shown = http.get(url)
    assert "Book all 4" in page(shown)
    data = {"submit_token": token_of(shown), "on_conflict": "all_or_nothing", "reminders": "on"}
    first = http.post(url, data)
    second = http.post(url, data)
    series = Series.objects.get(client=client_user)
    assert first.status_code == second.status_code == 303
    assert second["Location"] == reverse("series_detail", args=[series.pk])
    assert Series.objects.count() == 1
    assert Booking.objects.filter(series=series).count() == 4


def test_a_coach_who_takes_no_series_refuses_with_a_message(http, coach, session_type):
    coach.coach_profile.allow_series = False
    coach.coach_profile.save()
    response = http.get(preview_url(coach, session_type, **weekly(4)))
    assert response.status_code == 409
    assert "doesn&#x27;t take series bookings" in page(response) or "doesn't take series bookings" in page(response)


# --- the dashboard and the booking page ---------------------------------------------------


def test_the_dashboard_shows_a_series_as_one_entry(http, client_user, coach, session_type, taken):
    book(http, coach, session_type, "skip")
    single = services.book_slot(client=client_user, session_type=session_type, start=tuesday(0, hour=14), now=NOW)
    response = http.get(reverse("client_dashboard"))
    html = page(response)
    assert html.count('data-testid="series-group"') == 1
    assert "Weekly, Tuesdays 10:00, 7 of 7 left" in html
    rows = re.findall(r'data-testid="upcoming-row" data-reference="([^"]+)"', html)
    assert rows == [single.reference]  # the single booking as before, the series' seven as one
    series = Series.objects.get(client=client_user)
    assert reverse("series_detail", args=[series.pk]) in html


def test_an_occurrence_page_links_to_its_series(http, client_user, coach, session_type):
    book(http, coach, session_type, "all_or_nothing", count=3)
    series = Series.objects.get(client=client_user)
    booking = Booking.objects.filter(series=series).order_by("session__start").first()
    html = page(http.get(reverse("booking_detail", args=[booking.reference])))
    assert "Part of a series:" in html and "Weekly, Tuesdays 10:00" in html
    assert reverse("series_detail", args=[series.pk]) in html


# --- the series page's changes ---------------------------------------------------------------


@pytest.fixture
def series(http, client_user, coach, session_type):
    book(http, coach, session_type, "all_or_nothing", count=6)
    return Series.objects.get(client=client_user)


def action_url(series, action: str, start: dt.datetime | None = None) -> str:
    url = reverse("series_action", args=[series.pk, action])
    return f"{url}?{urlencode({'start': param(start)})}" if start else url


def active_starts(series) -> list[dt.datetime]:
    return sorted(
        b.session.start
        for b in Booking.objects.filter(series=series, status__in=(BookingStatus.FIRM_BOOKED, BookingStatus.REQUESTED))
    )


def test_cancel_this_and_following_from_the_series_page(http, series):
    detail = page(http.get(reverse("series_detail", args=[series.pk])))
    assert action_url(series, "cancel-following", tuesday(3)).replace("&", "&amp;") in detail
    confirm = http.get(action_url(series, "cancel-following", tuesday(3)))
    assert confirm.status_code == 200
    html = page(confirm)
    assert html.count('data-testid="series-target"') == 3
    assert "Free cancellation up to" in html
    assert "Cancel 3 sessions" in html
    done = http.post(action_url(series, "cancel-following", tuesday(3)), {"reason": "Moving away"})
    assert done.status_code == 303 and done["Location"] == reverse("series_detail", args=[series.pk])
    assert active_starts(series) == [tuesday(0), tuesday(1), tuesday(2)]
    after = page(http.get(done["Location"]))
    assert "Cancelled 3 sessions, from Tue 16 Mar 2027, 10:00." in after
    assert "3 of 6 left" in after
    assert "cancelled Tue 16 Mar 2027, 10:00 and the following (3 sessions)." in after


def test_skip_one_and_cancel_all_remaining(http, series):
    assert http.post(action_url(series, "skip", tuesday(1))).status_code == 303
    assert tuesday(1) not in active_starts(series)
    assert len(active_starts(series)) == 5
    confirm = http.get(action_url(series, "cancel-all"))
    assert "Cancel all 5 sessions" in page(confirm)
    assert http.post(action_url(series, "cancel-all")).status_code == 303
    assert active_starts(series) == []
    html = page(http.get(reverse("series_detail", args=[series.pk])))
    assert "skipped Tue 2 Mar 2027, 10:00." in html
    assert 'id="series-cancel-all"' not in html


def test_move_one_to_a_free_time_and_retime_the_following(http, series):
    confirm = http.get(action_url(series, "move", tuesday(1)))
    assert confirm.status_code == 200
    assert 'data-testid="series-pick"' in page(confirm)
    moved = http.post(
        action_url(series, "move", tuesday(1)), {"new_start_date": "2027-03-02", "new_start_time": "1300"}
    )
    assert moved.status_code == 303
    assert tuesday(1, hour=13) in active_starts(series)
    retimed = http.post(
        action_url(series, "retime", tuesday(3)), {"new_start_date": "2027-03-16", "new_start_time": "15:00"}
    )
    assert retimed.status_code == 303
    starts = active_starts(series)
    assert [s.astimezone(NY).hour for s in starts] == [10, 13, 10, 15, 15, 15]  # across the March change
    assert "3 sessions moved to 15:00" in page(http.get(reverse("series_detail", args=[series.pk])))


def test_a_move_to_a_taken_or_unreadable_time_is_a_message(http, series):
    taken = http.post(
        action_url(series, "move", tuesday(1)), {"new_start_date": "2027-03-09", "new_start_time": "10:00"}
    )
    assert taken.status_code in (400, 409)
    assert 'data-testid="series-change-error"' in page(taken)
    unreadable = http.post(
        action_url(series, "move", tuesday(1)), {"new_start_date": "2027-03-02", "new_start_time": "25:99"}
    )
    assert unreadable.status_code == 400
    assert "24-hour time" in page(unreadable)
    assert tuesday(1) in active_starts(series)


def test_an_action_on_a_date_not_in_the_series_is_a_message(http, series):
    response = http.get(action_url(series, "skip", tuesday(1, hour=11)))
    assert response.status_code == 409
    assert 'data-testid="series-change-blocked"' in page(response)
    assert http.get(reverse("series_action", args=[series.pk, "explode"])).status_code == 404
    assert http.get(reverse("series_action", args=[series.pk, "skip"])).status_code == 303  # no date: back


def test_a_stranger_gets_404(series):
    stranger = Client()
    stranger.force_login(ClientFactory())
    assert stranger.get(reverse("series_detail", args=[series.pk])).status_code == 404
    assert stranger.get(action_url(series, "cancel-all")).status_code == 404
    assert stranger.post(action_url(series, "cancel-all")).status_code == 404
    assert len(active_starts(series)) == 6
    assert Client().get(reverse("series_detail", args=[series.pk])).status_code == 302  # to the login page
    assert stranger.get(reverse("series_detail", args=[999999])).status_code == 404


def test_the_coach_sees_the_series_page(series, coach):
    http = Client()
    http.force_login(coach)
    response = http.get(reverse("series_detail", args=[series.pk]))
    assert response.status_code == 200
    assert "Cleo Client" in page(response)


def test_staff_book_a_series_for_a_client_with_a_coach_who_takes_none(coach, session_type, client_user):
    coach.coach_profile.allow_series = False
    coach.coach_profile.save()
    staff = StaffFactory(name="Sam Staff")
    http = Client()
    http.force_login(staff)
    assert http.post(reverse("book_for_client"), {"client": client_user.pk}).status_code == 303
    confirm = http.get(reverse("book_confirm", args=[coach.pk, session_type.pk]) + f"?start={param(tuesday())}")
    assert 'data-testid="series-repeat"' in page(confirm)
    url = preview_url(coach, session_type, **weekly(3))
    shown = http.get(url)
    assert shown.status_code == 200
    response = http.post(
        url, {"submit_token": token_of(shown), "on_conflict": "all_or_nothing", "for_client": client_user.pk}
    )
    assert response.status_code == 303
    series = Series.objects.get(client=client_user)
    assert series.booked_by == staff
    assert Booking.objects.filter(series=series, client=client_user).count() == 3


def test_a_visitor_who_may_not_book_is_told_so(coach, session_type):
    other_coach = open_coach(timezone="America/New_York")
    http = Client()
    http.force_login(other_coach)
    url = preview_url(coach, session_type, **weekly(3))
    response = http.post(url, {"submit_token": "t", "on_conflict": "skip"})
    assert response.status_code == 403
    assert not Series.objects.exists()


# --- the coach's suggested time: the client answers once -------------------------------------


def thursday(weeks: int = 0, hour: int = 14) -> dt.datetime:
    return tuesday(weeks, hour) + dt.timedelta(days=2)


@pytest.fixture
def suggested(http, client_user, coach, session_type):
    """A series of three Tuesdays at 10:00 that the coach answered with Thursdays at 14:00."""
    coach.coach_profile.series_requires_approval = True
    coach.coach_profile.save()
    book(http, coach, session_type, "all_or_nothing", count=3)
    series = Series.objects.get(client=client_user)
    series_services.suggest_series_time(
        series=series, actor=coach, new_start=thursday(), note="Thursdays suit me better."
    )
    return series


def statuses_of(series) -> list[str]:
    return list(Booking.objects.filter(series=series).order_by("session__start").values_list("status", flat=True))


def starts_of(series) -> list[dt.datetime]:
    return [b.session.start for b in Booking.objects.filter(series=series).order_by("session__start")]


def test_the_series_page_shows_the_suggested_time_with_each_date(http, suggested):
    html = page(http.get(reverse("series_detail", args=[suggested.pk])))
    assert 'data-testid="series-suggested"' in html
    assert (
        "Nora Coach suggested another time for this series: Thursdays 14:00 (your zone, America/New_York), "
        "from Thu 25 Feb 2027." in html
    )
    assert "Thursdays suit me better." in html
    moves = re.findall(r'data-testid="series-suggested-move">(.*?)</li>', html, re.S)
    assert len(moves) == 3
    assert "Tue 23 Feb, 10:00" in moves[0] and "Thu 25 Feb, 14:00" in moves[0]
    assert "Tue 9 Mar, 10:00" in moves[2] and "Thu 11 Mar, 14:00" in moves[2]
    assert "Accept the new time" in html and 'data-testid="series-decline-time"' in html


def test_accepting_the_suggested_time_confirms_every_date_there(http, suggested):
    response = http.post(reverse("series_accept_time", args=[suggested.pk]))
    assert response.status_code == 303 and response["Location"] == reverse("series_detail", args=[suggested.pk])
    assert statuses_of(suggested) == [BookingStatus.CONFIRMED] * 3
    assert starts_of(suggested) == [thursday(weeks) for weeks in range(3)]
    html = page(http.get(response["Location"]))
    assert "Done: 3 sessions are confirmed at the new time, from Thu 25 Feb 2027, 14:00." in html
    assert 'data-testid="series-suggested"' not in html
    assert "Cleo Client accepted the suggested time." in html
    assert "Nora Coach suggested another time for the series: Thursdays 14:00, from Thu 25 Feb 2027, 14:00." in html
    again = http.post(reverse("series_accept_time", args=[suggested.pk]))
    assert again.status_code == 409
    assert "no request waiting" in page(again)


def test_declining_the_suggested_time_withdraws_the_series_request(http, suggested):
    response = http.post(reverse("series_decline_time", args=[suggested.pk]), {"note": "Thursdays don't work."})
    assert response.status_code == 303
    assert statuses_of(suggested) == [BookingStatus.CANCELLED] * 3
    html = page(http.get(response["Location"]))
    assert "You declined the suggested time; the request for 3 sessions is withdrawn." in html
    assert "Cleo Client declined the suggested time; the series request was withdrawn." in html
    assert 'data-testid="series-suggested"' not in html


def test_a_taken_suggested_time_is_refused_on_the_page_and_nothing_moves(http, suggested, coach, session_type):
    other = ClientFactory()
    Connection.objects.create(client=other, coach=coach, status=ConnectionStatus.ACCEPTED)
    services.book_slot(client=other, session_type=session_type, start=thursday(1))
    response = http.post(reverse("series_accept_time", args=[suggested.pk]))
    assert response.status_code == 409
    html = page(response)
    assert 'data-testid="series-time-error"' in html and 'data-testid="series-suggested"' in html
    assert statuses_of(suggested) == [BookingStatus.REQUESTED] * 3
    assert starts_of(suggested) == [tuesday(weeks) for weeks in range(3)]


def test_a_too_long_note_is_a_message_and_keeps_what_was_typed(http, suggested):
    note = "Sorry, " + "x" * 1000
    response = http.post(reverse("series_decline_time", args=[suggested.pk]), {"note": note})
    assert response.status_code == 400
    html = page(response)
    assert "Keep the note under 1000 characters." in html and f'value="{note}"' in html
    assert statuses_of(suggested) == [BookingStatus.REQUESTED] * 3


def test_nothing_suggested_is_a_message(http, series):
    response = http.post(reverse("series_accept_time", args=[series.pk]))
    assert response.status_code == 409
    assert 'data-testid="series-time-error"' in page(response)


def test_the_coach_sees_the_suggestion_waiting_and_strangers_cannot_answer(suggested, coach):
    http = Client()
    http.force_login(coach)
    html = page(http.get(reverse("series_detail", args=[suggested.pk])))
    assert 'data-testid="series-suggested-waiting"' in html
    assert 'data-testid="series-accept-time"' not in html
    stranger = Client()
    stranger.force_login(ClientFactory())
    for name in ("series_accept_time", "series_decline_time"):
        assert stranger.post(reverse(name, args=[suggested.pk])).status_code == 404
        assert Client().post(reverse(name, args=[suggested.pk])).status_code == 302  # to the login page
    logged = Client()
    logged.force_login(suggested.client)
    assert logged.get(reverse("series_accept_time", args=[suggested.pk])).status_code == 405
    assert statuses_of(suggested) == [BookingStatus.REQUESTED] * 3
