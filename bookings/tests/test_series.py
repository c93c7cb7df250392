"""Recurring series (issue 17): preview verdicts, booking all-or-nothing or skipping, one
decision, exceptions; every occurrence at the coach's wall-clock time across DST."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from accounts.models import Connection, ConnectionStatus
from accounts.tests.factories import ClientFactory
from availability.models import Allocation, AllocationKind
from bookings import services
from bookings.models import Booking, BookingEvent, BookingStatus, Series
from bookings.services import series as series_services
from bookings.services.common import BookingRefused
from bookings.tests.factories import SessionTypeFactory, open_coach
from config.errors import DomainError

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")
NOW = dt.datetime(2027, 2, 20, 12, 0, tzinfo=dt.UTC)  # a Saturday, before the March change


def _tuesday_10_ny(weeks: int = 0) -> dt.datetime:
    return dt.datetime(2027, 2, 23, 10, 0, tzinfo=NY) + dt.timedelta(weeks=weeks)


@pytest.fixture
def setup():
    coach = open_coach(timezone="America/New_York", hours=(8, 18), booking_window_days=21)
    session_type = SessionTypeFactory(coach=coach, duration_minutes=60)
    client = ClientFactory()
    Connection.objects.create(client=client, coach=coach, status=ConnectionStatus.ACCEPTED)
    return coach, session_type, client


def _book(setup, **kwargs):
    _coach, session_type, client = setup
    return series_services.book_series(
        client=client, session_type=session_type, start=_tuesday_10_ny(), now=NOW, **kwargs
    )


def test_weekly_series_keeps_wall_clock_across_march_change(setup):
    series, outcomes = _book(setup, count=8)
    assert len(outcomes) == 8
    assert all(outcome.status == BookingStatus.FIRM_BOOKED for outcome in outcomes)
    locals_ = [outcome.start.astimezone(NY) for outcome in outcomes]
    assert {(local.weekday(), local.hour, local.minute) for local in locals_} == {(1, 10, 0)}
    utc_hours = [outcome.start.hour for outcome in outcomes]
    assert utc_hours[0] == 15 and utc_hours[-1] == 14  # EST then EDT
    assert Booking.objects.filter(series=series).count() == 8
    assert len({b.reference for b in Booking.objects.filter(series=series)}) == 8
    assert all(b.reference.startswith("BK-") for b in Booking.objects.filter(series=series))
    events = BookingEvent.objects.filter(booking__series=series)
    assert events.count() == 8
    assert sum(1 for event in events if event.data.get("lead")) == 1


def test_all_or_nothing_refuses_with_the_conflicting_date_and_writes_nothing(setup):
    coach, session_type, client = setup
    other = ClientFactory()
    Connection.objects.create(client=other, coach=coach, status=ConnectionStatus.ACCEPTED)
    services.book_slot(client=other, session_type=session_type, start=_tuesday_10_ny(2), now=NOW)
    with pytest.raises(BookingRefused) as caught:
        _book(setup, count=8)
    assert caught.value.code == "slot_taken"
    assert "9 Mar 2027" in str(caught.value)
    assert not Series.objects.exists()
    assert Booking.objects.filter(client=client).count() == 0


def test_preview_names_each_verdict_and_suggests_a_nearby_time(setup):
    coach, session_type, client = setup
    other = ClientFactory()
    Connection.objects.create(client=other, coach=coach, status=ConnectionStatus.ACCEPTED)
    services.book_slot(client=other, session_type=session_type, start=_tuesday_10_ny(2), now=NOW)
    preview = series_services.preview_series(
        client=client, session_type=session_type, start=_tuesday_10_ny(), count=8, now=NOW
    )
    codes = [verdict.code for verdict in preview.occurrences]
    assert codes == ["", "", "slot_taken", "", "", "", "", ""]
    suggestion = preview.occurrences[2].suggestion
    assert suggestion is not None and suggestion.astimezone(NY).date() == dt.date(2027, 3, 9)
    assert suggestion.astimezone(NY).hour in (9, 11)


def test_skip_books_the_free_ones_and_a_move_takes_the_suggestion(setup):
    coach, session_type, _client = setup
    other = ClientFactory()
    Connection.objects.create(client=other, coach=coach, status=ConnectionStatus.ACCEPTED)
    services.book_slot(client=other, session_type=session_type, start=_tuesday_10_ny(2), now=NOW)
    series, outcomes = _book(setup, count=8, on_conflict="skip")
    assert [outcome.status for outcome in outcomes].count("skipped") == 1
    assert Booking.objects.filter(series=series).count() == 7
    skipped = next(outcome for outcome in outcomes if outcome.status == "skipped")
    assert skipped.code == "slot_taken" and skipped.start == _tuesday_10_ny(2)
    assert series.exceptions[0]["kind"] == "skipped"


def test_a_refused_date_moved_to_its_suggestion_books_all(setup):
    coach, session_type, _client = setup
    other = ClientFactory()
    Connection.objects.create(client=other, coach=coach, status=ConnectionStatus.ACCEPTED)
    services.book_slot(client=other, session_type=session_type, start=_tuesday_10_ny(2), now=NOW)
    moved = dt.datetime(2027, 3, 9, 11, 0, tzinfo=NY)
    series, outcomes = _book(setup, count=8, moves={_tuesday_10_ny(2): moved})
    assert [outcome.status for outcome in outcomes].count("firm_booked") == 8
    assert moved in [outcome.start for outcome in outcomes]
    assert series.exceptions[0]["kind"] == "moved"


def test_series_needing_approval_is_one_decision(setup):
    coach, _session_type, _client = setup
    coach.coach_profile.series_requires_approval = True
    coach.coach_profile.save()
    series, outcomes = _book(setup, count=4)
    assert {outcome.status for outcome in outcomes} == {BookingStatus.REQUESTED}
    assert Allocation.objects.filter(session__bookings__series=series, kind=AllocationKind.REQUEST).count() == 4
    approved = series_services.approve_series(series=series, actor=coach, now=NOW)
    assert len(approved) == 4
    assert set(Booking.objects.filter(series=series).values_list("status", flat=True)) == {BookingStatus.CONFIRMED}
    events = BookingEvent.objects.filter(booking__series=series, action="approved")
    assert events.count() == 4 and sum(1 for e in events if e.data.get("lead")) == 1


def test_cancel_this_and_following(setup):
    _coach, _session_type, client = setup
    series, outcomes = _book(setup, count=6)
    done = series_services.cancel_series(
        series=series, actor=client, scope="following", start=outcomes[3].start, now=NOW
    )
    assert len(done) == 3
    statuses = list(Booking.objects.filter(series=series).order_by("session__start").values_list("status", flat=True))
    assert statuses == [BookingStatus.FIRM_BOOKED] * 3 + [BookingStatus.CANCELLED] * 3
    series.refresh_from_db()
    assert series.exceptions[-1]["kind"] == "cancelled_following"


def test_move_one_beyond_the_booking_window_within_the_horizon(setup):
    _coach, _session_type, client = setup
    series, outcomes = _book(setup, count=8)
    last = outcomes[-1].start
    moved = series_services.move_occurrence(
        series=series, actor=client, start=last, new_start=last + dt.timedelta(hours=2), now=NOW
    )
    assert moved.session.start == last + dt.timedelta(hours=2)


def test_retime_following(setup):
    _coach, _session_type, client = setup
    series, outcomes = _book(setup, count=6)
    new = dt.datetime.combine(outcomes[2].start.astimezone(NY).date(), dt.time(14), tzinfo=NY)
    moved = series_services.retime_following(
        series=series, actor=client, start=outcomes[2].start, new_start=new, now=NOW
    )
    assert len(moved) == 4
    assert {b.session.start.astimezone(NY).hour for b in moved} == {14}


def test_group_types_and_bad_rules_are_refused(setup):
    _coach, session_type, client = setup
    with pytest.raises(DomainError) as caught:
        series_services.preview_series(
            client=client,
            session_type=session_type,
            start=_tuesday_10_ny(),
            frequency="custom",
            rrule="FREQ=HOURLY;COUNT=3",
            now=NOW,
        )
    assert caught.value.code == "invalid"
    with pytest.raises(DomainError):
        series_services.preview_series(
            client=client, session_type=session_type, start=_tuesday_10_ny(), count=500, now=NOW
        )


def test_an_unanswered_series_request_expires_as_one_change(setup):
    coach, _session_type, _client = setup
    coach.coach_profile.series_requires_approval = True
    coach.coach_profile.save()
    series, _outcomes = _book(setup, count=5)
    assert services.expire_requests(now=NOW + dt.timedelta(hours=25)) == 1
    assert set(Booking.objects.filter(series=series).values_list("status", flat=True)) == {BookingStatus.DECLINED}
    events = BookingEvent.objects.filter(booking__series=series, action="expired")
    assert events.count() == 5
    assert len({event.data["batch"] for event in events}) == 1
    assert sum(1 for event in events if event.data["lead"]) == 1


@pytest.mark.parametrize(
    ("rrule", "words"),
    [
        ("FREQ=HOURLY;COUNT=3", "at most once a day"),
        ("FREQ=DAILY;BYHOUR=9,15;COUNT=4", "first one's time"),
        ("FREQ=WEEKLY;COUNT=60", "between 1 and 52"),
        ("FREQ=SOMETIMES", "not valid"),
        ("", "Give the repetition rule"),
    ],
)
def test_custom_rules_that_cannot_make_a_series_say_why(setup, rrule, words):
    _coach, session_type, client = setup
    with pytest.raises(DomainError) as caught:
        series_services.preview_series(
            client=client, session_type=session_type, start=_tuesday_10_ny(), frequency="custom", rrule=rrule, now=NOW
        )
    assert caught.value.code == "invalid"
    assert words in str(caught.value)


def test_monthly_on_the_fifth_weekday_means_the_last(setup):
    _coach, session_type, client = setup
    start = dt.datetime(2027, 3, 30, 10, 0, tzinfo=NY)  # the fifth Tuesday of March 2027
    preview = series_services.preview_series(
        client=client, session_type=session_type, start=start, frequency="monthly_weekday", count=3, now=NOW
    )
    assert "BYDAY=-1TU" in preview.rrule
    assert [v.start.astimezone(NY).date() for v in preview.occurrences] == [
        dt.date(2027, 3, 30),
        dt.date(2027, 4, 27),
        dt.date(2027, 5, 25),
    ]


def _requested_series(setup, count=4):
    coach = setup[0]
    coach.coach_profile.series_requires_approval = True
    coach.coach_profile.save()
    return _book(setup, count=count)


def test_the_coach_answers_a_series_with_another_time_once_and_the_client_accepts(setup):
    coach, _session_type, client = setup
    series, outcomes = _requested_series(setup)
    thursday_14 = dt.datetime(2027, 2, 25, 14, 0, tzinfo=NY)
    suggested = series_services.suggest_series_time(series=series, actor=coach, new_start=thursday_14, now=NOW)
    assert len(suggested) == 4
    events = BookingEvent.objects.filter(booking__series=series, action="alternatives_suggested")
    assert sum(1 for event in events if event.data["lead"]) == 1
    moved = series_services.accept_series_time(series=series, actor=client, now=NOW)
    assert [b.status for b in moved] == [BookingStatus.CONFIRMED] * 4
    locals_ = [b.session.start.astimezone(NY) for b in moved]
    assert {(local.weekday(), local.hour) for local in locals_} == {(3, 14)}  # Thursdays 14:00, across the change
    assert [local.date() for local in locals_] == [
        o.start.astimezone(NY).date() + dt.timedelta(days=2) for o in outcomes
    ]


def test_the_client_declines_the_suggested_time_once(setup):
    coach, _session_type, client = setup
    series, _outcomes = _requested_series(setup, count=3)
    series_services.suggest_series_time(
        series=series, actor=coach, new_start=dt.datetime(2027, 2, 23, 15, 0, tzinfo=NY), now=NOW
    )
    series_services.decline_series_time(series=series, actor=client, note="Afternoons don't work.", now=NOW)
    assert set(Booking.objects.filter(series=series).values_list("status", flat=True)) == {BookingStatus.CANCELLED}
    with pytest.raises(DomainError):
        series_services.accept_series_time(series=series, actor=client, now=NOW)


def test_only_the_coach_suggests_and_only_the_client_accepts(setup):
    coach, _session_type, client = setup
    series, _outcomes = _requested_series(setup, count=2)
    with pytest.raises(DomainError):
        series_services.suggest_series_time(
            series=series, actor=client, new_start=dt.datetime(2027, 2, 23, 15, 0, tzinfo=NY), now=NOW
        )
    series_services.suggest_series_time(
        series=series, actor=coach, new_start=dt.datetime(2027, 2, 23, 15, 0, tzinfo=NY), now=NOW
    )
    with pytest.raises(DomainError):
        series_services.accept_series_time(series=series, actor=ClientFactory(), now=NOW)
