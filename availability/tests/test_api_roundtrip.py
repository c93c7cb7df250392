"""``GET`` then ``PUT /api/v1/availability`` of the same body changes nothing, whatever the
coach's windows hold (a weekly window, every other week from a date, the first Monday of
the month, a validity period, two session types only, requests only, seconds in a time,
an expired window, a rule set in the back office without a start) and whatever their
overrides (past, today, ahead); and a ``PUT`` never drops what it doesn't mention.

Session types are made through the window's relation (``bookings`` sits above this app)."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
import recurrence
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import CoachFactory
from availability.models import AvailabilityWindow, DateOverride, OverrideWindow, TimeOff
from availability.selectors import free_slots

PARIS = "Europe/Paris"
NOW = dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC)  # Monday 23 November 2026, 07:00 in Paris
TODAY = dt.date(2026, 11, 23)
SessionType = AvailabilityWindow.session_types.field.related_model


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def session_type(coach, title: str, **fields):
    return SessionType.objects.create(coach=coach, title=title, duration_minutes=60, **fields)


def window(coach, start: str, end: str, *, weekday=None, rule=None, types=(), **fields) -> AvailabilityWindow:
    made = AvailabilityWindow.objects.create(
        coach=coach,
        weekday=weekday,
        recurrence=recurrence.deserialize(f"RRULE:{rule}") if rule else None,
        start=dt.time.fromisoformat(start),
        end=dt.time.fromisoformat(end),
        **fields,
    )
    made.session_types.set(types)
    return made


def override(coach, day: dt.date, *hours: tuple[str, str], reason: str = "") -> DateOverride:
    made = DateOverride.objects.create(coach=coach, date=day, reason=reason)
    for start, end in hours:
        OverrideWindow.objects.create(override=made, start=dt.time.fromisoformat(start), end=dt.time.fromisoformat(end))
    return made


@pytest.fixture
def coach(db):
    coach = CoachFactory(email="camille@example.com", name="Camille Laurent", timezone=PARIS)
    profile = coach.coach_profile
    profile.minimum_notice_hours = 0
    profile.booking_window_days = 60
    profile.slot_step_minutes = 60
    profile.save()
    return coach


@pytest.fixture
def types(coach):
    return [session_type(coach, "Intro"), session_type(coach, "Deep dive"), session_type(coach, "Review")]


@pytest.fixture
def everything(coach, types):
    """Every kind of window and override, made through the ORM as the back office would."""
    intro, deep_dive, _review = types
    windows = {
        "weekly": window(coach, "09:00", "12:00", weekday=0),
        "biweekly": window(
            coach, "14:00", "17:00", rule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", valid_from=dt.date(2026, 12, 1)
        ),
        "first_monday": window(coach, "13:00", "15:00", rule="FREQ=MONTHLY;BYDAY=1MO"),
        "validity": window(
            coach, "09:00", "11:00", weekday=2, valid_from=dt.date(2026, 12, 1), valid_until=dt.date(2027, 3, 31)
        ),
        "two_types": window(coach, "10:00", "12:00", weekday=3, types=[intro, deep_dive]),
        "requests_only": window(coach, "08:00", "09:30", weekday=4, allow_firm_booking=False),
        "seconds": window(coach, "10:00:30", "10:45:15", weekday=5),
        "expired": window(
            coach, "10:00", "12:00", weekday=6, valid_from=dt.date(2026, 1, 1), valid_until=dt.date(2026, 1, 31)
        ),
        # Set in the back office without a start: its phase floats, but a PUT leaves it be.
        "floating": window(coach, "18:00", "19:00", rule="FREQ=WEEKLY;INTERVAL=3;BYDAY=FR"),
        "everything_at_once": window(
            coach,
            "16:00",
            "18:00",
            rule="FREQ=MONTHLY;BYDAY=-1FR",
            valid_from=dt.date(2026, 6, 1),
            valid_until=dt.date(2027, 6, 30),
            types=[deep_dive],
            allow_firm_booking=False,
        ),
    }
    override(coach, dt.date(2026, 11, 2), reason="Past day off")
    override(coach, dt.date(2026, 11, 9), ("10:00", "11:00"), reason="Past clinic")
    override(coach, TODAY, ("10:00", "12:00"), reason="Today")
    override(coach, dt.date(2026, 12, 24), reason="Christmas Eve")
    override(coach, dt.date(2026, 12, 5), ("09:00", "10:00"), ("14:00", "16:30"), reason="Saturday clinic")
    TimeOff.objects.create(coach=coach, start_date=dt.date(2026, 12, 28), end_date=dt.date(2026, 12, 31))
    return windows


def logged_in(user) -> Client:
    http = Client()
    http.force_login(user)
    return http


def put(http: Client, body: dict):
    return http.put("/api/v1/availability", json.dumps(body), content_type="application/json")


def error_of(response, status: int = 400) -> dict:
    assert response.status_code == status, response.content
    return response.json()["error"]


def snapshot(coach) -> dict:
    """Every stored field of the coach's availability, ids and creation times included."""
    windows = []
    for row in AvailabilityWindow.objects.filter(coach=coach).order_by("pk").values():
        row["recurrence"] = recurrence.serialize(row["recurrence"]) if row["recurrence"] is not None else None
        row["session_types"] = sorted(
            AvailabilityWindow.session_types.through.objects.filter(availabilitywindow_id=row["id"]).values_list(
                "pk", "sessiontype_id"
            )
        )
        windows.append(row)
    coach.refresh_from_db()
    return {
        "timezone": coach.timezone,
        "windows": windows,
        "overrides": list(DateOverride.objects.filter(coach=coach).order_by("pk").values()),
        "override_windows": list(OverrideWindow.objects.filter(override__coach=coach).order_by("pk").values()),
        "time_off": list(TimeOff.objects.filter(coach=coach).order_by("pk").values()),
    }


def writes(queries) -> list[str]:
    return [
        query["sql"]
        for query in queries
        if query["sql"].split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"} and "availability_" in query["sql"]
    ]


# ---------------------------------------------------------------------------------------
# The round trip
# ---------------------------------------------------------------------------------------


def test_get_then_put_of_the_same_body_changes_nothing(coach, everything) -> None:
    http = logged_in(coach)
    before = snapshot(coach)
    body = http.get("/api/v1/availability").json()

    with CaptureQueriesContext(connection) as queries:
        response = put(http, body)
    assert response.status_code == 200, response.content
    assert response.json() == body
    assert writes(queries) == []  # not even a rewrite of the same values
    assert snapshot(coach) == before
    assert http.get("/api/v1/availability").json() == body
    # And again, for good measure.
    assert put(http, body).json() == body
    assert snapshot(coach) == before


def test_get_shows_every_field_of_every_window(coach, everything, types) -> None:
    intro, deep_dive, _review = types
    body = logged_in(coach).get("/api/v1/availability").json()
    shown = {item["id"]: item for item in body["weekly"]}
    assert len(shown) == len(everything) == AvailabilityWindow.objects.filter(coach=coach).count()
    plain = {"rrule": None, "valid_from": None, "valid_until": None, "session_types": [], "allow_firm_booking": True}

    def of(name: str) -> dict:
        item = dict(shown[everything[name].pk])
        del item["id"]
        return item

    assert of("weekly") == {**plain, "weekday": 0, "start": "09:00", "end": "12:00"}
    assert of("biweekly") == {
        **plain,
        "weekday": None,
        "rrule": "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU",
        "start": "14:00",
        "end": "17:00",
        "valid_from": "2026-12-01",
    }
    assert of("first_monday") == {
        **plain,
        "weekday": None,
        "rrule": "FREQ=MONTHLY;BYDAY=1MO",
        "start": "13:00",
        "end": "15:00",
    }
    assert of("validity") == {
        **plain,
        "weekday": 2,
        "start": "09:00",
        "end": "11:00",
        "valid_from": "2026-12-01",
        "valid_until": "2027-03-31",
    }
    assert of("two_types") == {
        **plain,
        "weekday": 3,
        "start": "10:00",
        "end": "12:00",
        "session_types": sorted([intro.pk, deep_dive.pk]),
    }
    assert of("requests_only") == {**plain, "weekday": 4, "start": "08:00", "end": "09:30", "allow_firm_booking": False}
    assert of("seconds") == {**plain, "weekday": 5, "start": "10:00:30", "end": "10:45:15"}
    assert of("everything_at_once") == {
        "weekday": None,
        "rrule": "FREQ=MONTHLY;BYDAY=-1FR",
        "start": "16:00",
        "end": "18:00",
        "valid_from": "2026-06-01",
        "valid_until": "2027-06-30",
        "session_types": [deep_dive.pk],
        "allow_firm_booking": False,
    }
    # Weekly windows by weekday, then those with a rule.
    assert [item["weekday"] for item in body["weekly"]] == [0, 2, 3, 4, 5, 6, None, None, None, None]
    # Overrides from today on; the past ones are history and stay out of the body.
    assert body["overrides"] == [
        {"date": "2026-11-23", "windows": [{"start": "10:00", "end": "12:00"}], "reason": "Today"},
        {
            "date": "2026-12-05",
            "windows": [{"start": "09:00", "end": "10:00"}, {"start": "14:00", "end": "16:30"}],
            "reason": "Saturday clinic",
        },
        {"date": "2026-12-24", "windows": [], "reason": "Christmas Eve"},
    ]


def test_a_put_keeps_the_past_overrides_and_accepts_one_sent_back_unchanged(coach, everything) -> None:
    http = logged_in(coach)
    body = http.get("/api/v1/availability").json()
    past = {"date": "2026-11-09", "windows": [{"start": "10:00", "end": "11:00"}], "reason": "Past clinic"}
    before = snapshot(coach)
    assert put(http, {**body, "overrides": [past, *body["overrides"]]}).status_code == 200
    assert snapshot(coach) == before
    # Changed, or new, a past day is refused.
    for changed in ({**past, "reason": "Moved"}, {**past, "windows": []}, {**past, "date": "2026-11-10"}):
        assert error_of(put(http, {**body, "overrides": [changed, *body["overrides"]]}))["code"] == "date_in_past"
    assert snapshot(coach) == before
    # Leaving every override out removes those from today on, and only those.
    assert put(http, {**body, "overrides": []}).status_code == 200
    assert list(DateOverride.objects.filter(coach=coach).order_by("date").values_list("date", flat=True)) == [
        dt.date(2026, 11, 2),
        dt.date(2026, 11, 9),
    ]
    assert TimeOff.objects.filter(coach=coach).count() == 1  # time off is not part of this body


def test_overrides_change_in_place(coach, everything) -> None:
    http = logged_in(coach)
    body = http.get("/api/v1/availability").json()
    christmas = DateOverride.objects.get(coach=coach, date=dt.date(2026, 12, 24))
    clinic = DateOverride.objects.get(coach=coach, date=dt.date(2026, 12, 5))
    body["overrides"][2]["reason"] = "Christmas"
    body["overrides"][1]["windows"] = [{"start": "09:00", "end": "11:00"}]
    with CaptureQueriesContext(connection) as queries:
        assert put(http, body).json()["overrides"] == body["overrides"]
    assert writes(queries)  # the check above sees writes when there are some
    christmas.refresh_from_db()
    assert christmas.reason == "Christmas"  # the same row
    assert [(w.start, w.end) for w in clinic.windows.all()] == [(dt.time(9), dt.time(11))]


# ---------------------------------------------------------------------------------------
# What a PUT leaves out
# ---------------------------------------------------------------------------------------


def test_a_window_sent_with_its_id_keeps_what_the_item_leaves_out(coach, everything, types) -> None:
    http = logged_in(coach)
    body = http.get("/api/v1/availability").json()
    target = everything["everything_at_once"]
    created = target.created_at
    body["weekly"] = [
        {"id": item["id"], "start": "15:00", "end": "18:00"} if item["id"] == target.pk else item
        for item in body["weekly"]
    ]
    answer = put(http, body).json()
    item = next(item for item in answer["weekly"] if item["id"] == target.pk)
    assert item == {
        "id": target.pk,
        "weekday": None,
        "rrule": "FREQ=MONTHLY;BYDAY=-1FR",
        "start": "15:00",
        "end": "18:00",
        "valid_from": "2026-06-01",
        "valid_until": "2027-06-30",
        "session_types": [types[1].pk],
        "allow_firm_booking": False,
    }
    target.refresh_from_db()
    assert target.created_at == created


def test_a_field_sent_even_empty_changes(coach, everything) -> None:
    http = logged_in(coach)
    target = everything["everything_at_once"]
    others = [item for item in http.get("/api/v1/availability").json()["weekly"] if item["id"] != target.pk]
    change = {
        "id": target.pk,
        "start": "16:00",
        "end": "18:00",
        "weekday": 4,  # every Friday now: the rule goes (sending weekday sets both)
        "valid_from": None,
        "session_types": [],
        "allow_firm_booking": True,
    }
    item = next(i for i in put(http, {"weekly": [*others, change]}).json()["weekly"] if i["id"] == target.pk)
    assert item == {**change, "rrule": None, "valid_until": "2027-06-30"}
    target.refresh_from_db()
    assert target.recurrence is None and target.weekday == 4 and not target.session_types.exists()


def test_a_window_without_id_is_new_and_takes_the_defaults(coach, everything) -> None:
    http = logged_in(coach)
    body = http.get("/api/v1/availability").json()
    body["weekly"].append({"weekday": 6, "start": "14:00", "end": "15:00"})
    answer = put(http, body).json()
    new = [item for item in answer["weekly"] if item["id"] not in {w.pk for w in everything.values()}]
    assert len(new) == 1
    assert new[0] | {"id": 0} == {
        "id": 0,
        "weekday": 6,
        "rrule": None,
        "start": "14:00",
        "end": "15:00",
        "valid_from": None,
        "valid_until": None,
        "session_types": [],
        "allow_firm_booking": True,
    }


def test_a_window_the_list_does_not_name_is_removed(coach, everything) -> None:
    http = logged_in(coach)
    body = http.get("/api/v1/availability").json()
    gone = everything["biweekly"].pk
    body["weekly"] = [item for item in body["weekly"] if item["id"] != gone]
    assert gone not in {item["id"] for item in put(http, body).json()["weekly"]}
    assert not AvailabilityWindow.objects.filter(pk=gone).exists()
    assert AvailabilityWindow.objects.filter(coach=coach).count() == len(everything) - 1


# ---------------------------------------------------------------------------------------
# Rules: a start for those that need one, and what they produce
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "valid_from"),
    [
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=WE", "2026-11-25"),  # the next Wednesday, not two weeks on
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", "2026-11-23"),  # today is a Monday
        ("FREQ=MONTHLY;INTERVAL=2;BYDAY=1MO", "2026-12-07"),  # the next first Monday
        ("FREQ=WEEKLY;COUNT=4;BYDAY=TH", "2026-11-26"),
        ("FREQ=WEEKLY", "2026-11-23"),  # no BYDAY: the day it starts on
        ("FREQ=WEEKLY;BYDAY=TU", None),  # every Tuesday: no start needed
        ("FREQ=MONTHLY;BYDAY=1MO", None),
        ("FREQ=MONTHLY;BYMONTHDAY=15", None),
    ],
)
def test_a_rule_that_depends_on_its_start_gets_one(coach, rule, valid_from) -> None:
    body = {"weekly": [{"rrule": rule, "start": "09:00", "end": "10:00"}]}
    answer = put(logged_in(coach), body).json()
    assert answer["weekly"][0]["valid_from"] == valid_from
    assert answer["weekly"][0]["rrule"] == rule


def test_rules_are_normalized_once_and_then_round_trip(coach) -> None:
    http = logged_in(coach)
    body = {"weekly": [{"rrule": "RRULE:byday=mo;freq=monthly;bysetpos=1", "start": "09:00", "end": "10:00"}]}
    answer = put(http, body).json()
    assert answer["weekly"][0]["rrule"] == "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=1"
    before = snapshot(coach)
    assert put(http, answer).json() == answer
    assert snapshot(coach) == before


def test_windows_by_rule_give_slots_on_their_days(coach) -> None:
    """Every other Wednesday from 25 November, and the first Monday of the month."""
    body = {
        "weekly": [
            {"rrule": "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE", "start": "09:00", "end": "10:00"},
            {"rrule": "FREQ=MONTHLY;BYDAY=1MO", "start": "11:00", "end": "12:00"},
        ]
    }
    assert put(logged_in(coach), body).status_code == 200
    coach.refresh_from_db()
    zone = ZoneInfo(PARIS)
    slots = free_slots(
        coach=coach,
        start_date=TODAY,
        end_date=dt.date(2027, 1, 10),
        viewer_tz=zone,
        duration=dt.timedelta(hours=1),
    )
    days = sorted({slot.start.astimezone(zone).date() for slot in slots})
    assert days == [
        dt.date(2026, 11, 25),
        dt.date(2026, 12, 7),
        dt.date(2026, 12, 9),
        dt.date(2026, 12, 23),
        dt.date(2027, 1, 4),
        dt.date(2027, 1, 6),
    ]


# ---------------------------------------------------------------------------------------
# Refusals: a 400 naming the input, and nothing written
# ---------------------------------------------------------------------------------------


def item(**fields) -> dict:
    return {"start": "09:00", "end": "10:00", **fields}


@pytest.mark.parametrize(
    ("window_item", "code", "field", "words"),
    [
        (item(rrule="FREQ=SOMETIMES"), "invalid", "rrule", "can't be read"),
        (item(rrule="every other monday"), "invalid", "rrule", "can't be read"),
        (item(rrule="FREQ=YEARLY;BYMONTH=9;BYDAY=1MO"), "invalid", "rrule", "FREQ=DAILY, WEEKLY or MONTHLY"),
        (item(rrule="FREQ=WEEKLY;BYDAY=MO;BYHOUR=9"), "invalid", "rrule", "BYHOUR"),
        (item(rrule="FREQ=WEEKLY;BYDAY=1MO"), "invalid", "rrule", "FREQ=MONTHLY"),
        (item(rrule="FREQ=WEEKLY;BYDAY=MO\nEXDATE:20261130T000000Z"), "invalid", "rrule", "one RRULE line"),
        (item(rrule="DTSTART:20261201T000000Z"), "invalid", "rrule", "one RRULE line"),
        (item(rrule="FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30"), "invalid", "rrule", "never falls"),
        (item(rrule="FREQ=WEEKLY;INTERVAL=0"), "invalid", "rrule", "can't be read"),
        (item(rrule=""), "invalid", "rrule", "Write a rule"),
        (item(rrule="FREQ=WEEKLY;BYDAY=MO", weekday=0), "invalid", "rrule", "not both"),
        (item(), "invalid", "weekday", "weekday"),
        (item(weekday=None, rrule=None), "invalid", "weekday", "weekday"),
        (item(weekday=1, valid_from="2027-01-10", valid_until="2027-01-09"), "invalid", "valid_until", "ends"),
        (
            item(rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", valid_until="2026-11-20"),
            "invalid",
            "valid_until",
            "ends",
        ),
        (item(weekday=1, end="08:00"), "window_end_before_start", "end", "ends before it starts"),
        (item(weekday=1, id=10**20), "invalid", "id", "not one of yours"),
        (item(weekday=1, session_types=[10**20]), "unknown_session_type", "session_types", "not one of yours"),
        (item(weekday=8), "invalid", "weekday", ""),
        (item(weekday=1, allow_firm_booking="sometimes"), "invalid", "allow_firm_booking", ""),
        (item(weekday=1, session_types=None), "invalid", "session_types", ""),
    ],
)
def test_a_bad_window_is_a_400_naming_it_and_nothing_changes(coach, everything, window_item, code, field, words):
    http = logged_in(coach)
    body = http.get("/api/v1/availability").json()
    before = snapshot(coach)
    body["weekly"].append(window_item)
    error = error_of(put(http, body))
    assert error["code"] == code
    assert [f["field"] for f in error["fields"]] == [f"weekly.{len(body['weekly']) - 1}.{field}"]
    assert words in error["message"]
    assert snapshot(coach) == before


def test_another_coachs_window_or_session_type_is_refused(coach, everything) -> None:
    other = CoachFactory(email="olga@example.com", timezone=PARIS)
    theirs = window(other, "09:00", "10:00", weekday=1)
    their_type = session_type(other, "Theirs")
    http = logged_in(coach)
    body = http.get("/api/v1/availability").json()
    before = snapshot(coach)
    error = error_of(
        put(http, {**body, "weekly": [*body["weekly"], {"id": theirs.pk, "start": "09:00", "end": "10:00"}]})
    )
    assert error["code"] == "invalid" and "not one of yours" in error["message"]
    error = error_of(put(http, {**body, "weekly": [*body["weekly"], item(weekday=1, session_types=[their_type.pk])]}))
    assert error["code"] == "unknown_session_type"
    assert snapshot(coach) == before
    theirs.refresh_from_db()
    assert (theirs.coach_id, theirs.start) == (other.pk, dt.time(9))


def test_a_type_the_coach_co_hosts_may_limit_a_window(coach) -> None:
    other = CoachFactory(email="olga@example.com", timezone=PARIS)
    workshop = session_type(other, "Workshop")
    workshop.co_hosts.add(coach)
    answer = put(logged_in(coach), {"weekly": [item(weekday=1, session_types=[workshop.pk])]})
    assert answer.status_code == 200, answer.content
    assert answer.json()["weekly"][0]["session_types"] == [workshop.pk]


def test_a_window_listed_twice_is_refused(coach, everything) -> None:
    http = logged_in(coach)
    body = http.get("/api/v1/availability").json()
    error = error_of(put(http, {**body, "weekly": [*body["weekly"], body["weekly"][0]]}))
    assert error["code"] == "invalid" and error["fields"][0]["field"] == f"weekly.{len(body['weekly'])}.id"


MONDAY_9_TO_12 = item(weekday=0, start="09:00", end="12:00", session_types=["intro"])


@pytest.mark.parametrize(
    ("first", "second", "clash"),
    [
        (MONDAY_9_TO_12, item(weekday=0, start="11:00", end="13:00"), True),
        (MONDAY_9_TO_12, item(weekday=0, start="12:00", end="13:00"), False),  # touching is not overlapping
        (MONDAY_9_TO_12, item(weekday=0, start="11:00", end="13:00", valid_from="2027-01-01"), True),
        (
            {**MONDAY_9_TO_12, "valid_until": "2026-12-31"},
            item(weekday=0, start="11:00", end="13:00", valid_from="2027-01-01"),
            False,
        ),
        (
            {**MONDAY_9_TO_12, "valid_until": "2027-01-01"},
            item(weekday=0, start="11:00", end="13:00", valid_from="2027-01-01"),
            True,
        ),
        (MONDAY_9_TO_12, item(weekday=0, start="11:00", end="13:00", session_types=["deep_dive", "review"]), False),
        (MONDAY_9_TO_12, item(weekday=0, start="11:00", end="13:00", session_types=["review", "intro"]), True),
        (MONDAY_9_TO_12, item(weekday=1, start="11:00", end="13:00"), False),
        (MONDAY_9_TO_12, item(rrule="FREQ=WEEKLY;BYDAY=MO", start="11:00", end="13:00"), False),  # rules: not compared
    ],
)
def test_weekly_windows_clash_only_when_they_could_serve_the_same_booking(coach, types, first, second, clash) -> None:
    ids = dict(zip(("intro", "deep_dive", "review"), (t.pk for t in types), strict=True))

    def with_ids(window_item: dict) -> dict:
        return {**window_item, "session_types": [ids[name] for name in window_item.get("session_types", [])]}

    response = put(logged_in(coach), {"weekly": [with_ids(first), with_ids(second)]})
    if clash:
        error = error_of(response)
        assert error["code"] == "windows_overlap"
        assert error["message"] == "Monday: 09:00–12:00 overlaps 11:00–13:00."
        assert not AvailabilityWindow.objects.filter(coach=coach).exists()
    else:
        assert response.status_code == 200, response.content
        assert AvailabilityWindow.objects.filter(coach=coach).count() == 2


# ---------------------------------------------------------------------------------------
# The schema documents it
# ---------------------------------------------------------------------------------------


def test_the_schema_documents_the_window_fields_and_the_put_rules(db) -> None:
    schema = Client().get("/api/v1/openapi.json").json()
    components = schema["components"]["schemas"]
    window_in, window_out = components["WindowIn"], components["WindowOut"]
    assert (
        set(window_in["properties"])
        == set(window_out["properties"])
        == {
            "id",
            "weekday",
            "rrule",
            "start",
            "end",
            "valid_from",
            "valid_until",
            "session_types",
            "allow_firm_booking",
        }
    )
    assert window_in["required"] == ["start", "end"]
    assert "keeps what the item leaves out" in window_in["description"]
    assert "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO" in window_in["properties"]["rrule"]["description"]
    assert "valid_from" in window_in["properties"]["rrule"]["description"]
    assert components["AvailabilityIn"]["properties"]["weekly"]["items"] == {"$ref": "#/components/schemas/WindowIn"}
    put_doc = " ".join(schema["paths"]["/api/v1/availability"]["put"]["description"].split())
    assert "`PUT` of what `GET` answered changes nothing" in put_doc
