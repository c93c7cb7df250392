"""The report pages: who may see what, the tabs, the filters, the CSV downloads, bad input,
and pages whose number of queries does not grow with the number of bookings."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import ClientFactory, StaffFactory
from availability.models import Resource
from bookings import relay, services
from bookings.models import Booking
from reports import figures, sections
from reports.tests.practice import BOOKED_AT, FIRST, LAST, PARIS, at

pytestmark = pytest.mark.django_db

RANGE = {"start": FIRST.isoformat(), "end": LAST.isoformat()}
PAGES = ["/reports/", *[f"/reports/{page.slug}/" for page in sections.PAGES[1:]]]


def signed_in(user) -> Client:
    http = Client()
    http.force_login(user)
    return http


def csv_rows(response) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode("utf-8").removeprefix("\ufeff")
    return list(csv.DictReader(io.StringIO(text)))


def kpi(response, label: str) -> str:
    """A key figure as the page shows it."""
    for figure in response.context["report"].key_figures:
        if figure.label == label:
            return figure.value
    raise AssertionError(f"no key figure {label!r}")


@pytest.fixture
def staff(practice):
    return StaffFactory(timezone="Europe/Paris")


def test_visitors_sign_in_first_and_clients_find_no_such_page(practice):
    assert Client().get("/reports/").status_code == 302
    for path in (*PAGES, "/reports/all/", "/reports/bookings.csv", "/reports/volume.csv"):
        assert signed_in(practice["people"][0]).get(path, RANGE).status_code == 404


def tabs(response) -> list[str]:
    return [href.split("?")[0] for _label, href, _current in response.context["tabs"]]


def test_each_report_is_a_page_of_its_own_with_the_filters_kept_across_tabs(practice, staff):
    http = signed_in(staff)
    query = RANGE | {"type": practice["talk"].pk}
    for path in PAGES:
        page = http.get(path, query)
        assert page.status_code == 200, path
        assert tabs(page) == PAGES
        current = [href for _label, href, is_current in page.context["tabs"] if is_current]
        assert [href.split("?")[0] for href in current] == [path]
        assert all(f"type={practice['talk'].pk}" in href for _label, href, _c in page.context["tabs"])
        assert len(page.context["report"].sections) == 1
        assert b'class="nav-link active" data-testid="nav-reports"' in page.content  # the menu's "Reports"
        # Key figures on the overview only.
        assert bool(page.context["report"].key_figures) == (path == "/reports/")
    assert http.get("/reports/no-such-report/", RANGE).status_code == 404
    assert http.get("/reports/volume/", RANGE).status_code == 404  # volume is the overview


def test_every_report_on_one_page_to_print(practice, staff):
    overview = signed_in(staff).get("/reports/", RANGE)
    everything = signed_in(staff).get("/reports/all/", RANGE)
    assert everything.status_code == 200
    slugs = [section.slug for section in everything.context["report"].sections]
    assert slugs == [
        "volume",
        "cancellations",
        "utilisation",
        "popular-times",
        "conversion",
        "revenue",
        "clients",
        "coaches",
    ]
    assert everything.context["report"].key_figures == overview.context["report"].key_figures
    assert b'href="/reports/all/?' in overview.content
    assert not any(current for _label, _href, current in everything.context["tabs"])
    # A coach's: their own reports, without the coaches side by side.
    own = signed_in(practice["paris"]).get("/reports/all/", RANGE)
    assert [section.slug for section in own.context["report"].sections] == slugs[:-1]
    assert kpi(own, "Bookings") == "6"


def test_staff_see_every_coach_and_may_choose_one(practice, staff):
    http = signed_in(staff)
    everyone = http.get("/reports/", RANGE)
    assert everyone.status_code == 200
    assert kpi(everyone, "Bookings") == "8"
    assert b"Every coach" in everyone.content
    # Both coaches' rows in the per-coach table, on its own page.
    coaches = {row[0] for row in _table(http.get("/reports/coaches/", RANGE), "coaches").rows}
    assert coaches == {practice["paris"].display_name, practice["new_york"].display_name}

    paris = http.get("/reports/", RANGE | {"coach": practice["paris"].pk})
    assert kpi(paris, "Bookings") == "6"
    assert paris.context["filters"].coach_id == practice["paris"].pk
    assert "/reports/coaches/" not in tabs(paris)  # one coach: no tab of coaches side by side

    talk = http.get("/reports/", RANGE | {"coach": practice["paris"].pk, "type": practice["talk"].pk})
    assert kpi(talk, "Bookings") == "4"


def test_a_coach_sees_their_own_figures_only(practice):
    paris = practice["paris"]
    http = signed_in(paris)
    page = http.get("/reports/", RANGE | {"coach": practice["new_york"].pk})
    assert page.status_code == 200
    assert kpi(page, "Bookings") == "6"
    assert page.context["filters"].coach_id == paris.pk
    assert b'name="coach"' not in page.content
    assert b"Your practice" in page.content
    assert "/reports/coaches/" not in tabs(page)
    assert http.get("/reports/coaches/", RANGE).status_code == 404
    assert http.get("/reports/coaches.csv", RANGE).status_code == 404
    assert http.get("/reports/rooms.csv", RANGE).status_code == 404  # rooms are staff's
    # Another coach's session type is not theirs to choose.
    other = http.get("/reports/", RANGE | {"type": practice["lesson"].pk})
    assert kpi(other, "Bookings") == "6"
    assert "That session type was not found" in " ".join(other.context["problems"])
    rows = csv_rows(http.get("/reports/bookings.csv", RANGE | {"coach": practice["new_york"].pk}))
    assert {row["coach_name"] for row in rows} == {paris.name}
    assert len(rows) == 6


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ({"start": "2026-02-30", "end": "2026-04-05"}, "The first day could not be read"),
        ({"start": "2026-03-23", "end": "tomorrow"}, "The last day could not be read"),
        ({"start": "2026-04-05", "end": "2026-03-23"}, "they were swapped"),
        ({"start": "2020-01-01", "end": "2026-04-05"}, "A report covers at most"),
        ({"start": "2026-03-23\x00", "end": "2026-04-05"}, "The first day could not be read"),
        ({"start": "2026-03-23", "end": "2026-04-05", "coach": "999999"}, "That coach was not found"),
        ({"start": "2026-03-23", "end": "2026-04-05", "room": "999999"}, "That room was not found"),
    ],
)
def test_bad_input_is_said_on_the_page_and_a_sensible_range_shown(practice, staff, query, problem):
    page = signed_in(staff).get("/reports/", query)
    assert page.status_code == 200
    assert problem in page.content.decode()
    filters = page.context["filters"]
    assert filters.first_day <= filters.last_day
    assert (filters.last_day - filters.first_day).days < figures.MAX_DAYS


def test_swapped_days_report_the_same_range(practice, staff):
    page = signed_in(staff).get("/reports/", {"start": LAST.isoformat(), "end": FIRST.isoformat()})
    assert (page.context["filters"].first_day, page.context["filters"].last_day) == (FIRST, LAST)
    assert kpi(page, "Bookings") == "8"


def test_each_table_downloads_as_the_csv_of_the_numbers_shown(practice, staff):
    Resource.objects.create(name="Room 1", kind="room", capacity=4, timezone="Europe/Paris")  # its table too
    http = signed_in(staff)
    seen = []
    for path in PAGES:
        page = http.get(path, RANGE)
        for section in page.context["report"].sections:
            for table in section.tables:
                response = http.get(f"/reports/{table.slug}.csv", RANGE)
                assert response.status_code == 200, table.slug
                assert response["Content-Type"].startswith("text/csv")
                text = b"".join(response.streaming_content).decode().removeprefix("\ufeff")
                assert list(csv.reader(io.StringIO(text))) == [table.headers, *table.rows], table.slug
                seen.append(table.slug)
    # Every table a page declares is on it.
    assert sorted(seen) == sorted(slug for page in sections.PAGES for slug in page.tables)
    assert http.get("/reports/no-such-table.csv", RANGE).status_code == 404


def test_the_bookings_csv_has_the_pages_filters_and_both_times(practice, staff):
    http = signed_in(staff)
    response = http.get("/reports/bookings.csv", RANGE | {"tz": "America/New_York"})
    assert response.streaming
    assert 'filename="bookings-2026-03-23-2026-04-05.csv"' in response["Content-Disposition"]
    rows = csv_rows(response)
    direct = Booking.objects.filter(
        session__start__gte=dt.datetime.combine(FIRST, dt.time(), tzinfo=PARIS).astimezone(dt.UTC)
    )
    assert len(rows) == 8
    assert {row["reference"] for row in rows} <= set(direct.values_list("reference", flat=True))
    monday = next(row for row in rows if row["reference"] == practice["ana_mon"].reference)
    assert monday["start_local"] == "2026-03-23T05:00:00-04:00"  # 10:00 Paris
    assert monday["start_utc"] == "2026-03-23T09:00:00Z"
    assert monday["timezone"] == "America/New_York"
    only_lesson = csv_rows(http.get("/reports/bookings.csv", RANGE | {"type": practice["lesson"].pk}))
    assert {row["session_type"] for row in only_lesson} == {"Lesson"}
    bad = http.get("/reports/bookings.csv", RANGE | {"tz": "Mars/Olympus"})
    assert bad.status_code == 400
    assert "Unknown time zone" in bad.content.decode()


def _table(response, slug: str):
    for section in response.context["report"].sections:
        for table in section.tables:
            if table.slug == slug:
                return table
    return None


def test_the_pages_read_the_same_number_of_queries_for_more_bookings(practice, staff):
    http = signed_in(staff)
    before = {}
    for path in (*PAGES, "/reports/all/"):
        with CaptureQueriesContext(connection) as queries:
            http.get(path, RANGE)
        before[path] = len(queries.captured_queries)
    # Twelve more bookings over the range, for a new client each.
    for day in range(12):
        services.book_slot(
            client=ClientFactory(),
            session_type=practice["talk"],
            start=at(PARIS, 3, 23, 7) + dt.timedelta(days=day),
            now=BOOKED_AT,
            hold_for_payment=False,
        )
    relay.relay_pending()
    after = {}
    for path in (*PAGES, "/reports/all/"):
        with CaptureQueriesContext(connection) as queries:
            page = http.get(path, RANGE)
        after[path] = len(queries.captured_queries)
        if path == "/reports/":
            assert kpi(page, "Bookings") == "20"
    assert after == before
    assert max(after[path] for path in PAGES) <= 20, after
