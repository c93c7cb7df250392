"""The coach's availability editor (/coach/availability/): every action as a plain POST
(redirect back, or the whole page with status 400 and the error next to the field) and
with htmx (the changed section, plus the preview and the status message out of band),
access rules, the preview's local times across a DST change, and a constant query count."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.services import COACH_SETTING_FIELDS
from accounts.tests.factories import CoachFactory
from availability import services
from availability.models import AvailabilityWindow, DateOverride, TimeOff

UTC = dt.UTC
NEW_YORK = ZoneInfo("America/New_York")
# Monday 23 November 2026, 09:00 in New York (the coach_user fixture's zone).
NOW = dt.datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
TODAY = dt.date(2026, 11, 23)
HX = {"HTTP_HX_REQUEST": "true"}
EDITOR = "/coach/availability/"


def t(value: str) -> dt.time:
    return dt.time.fromisoformat(value)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def coach(coach_user):
    profile = coach_user.coach_profile
    profile.minimum_notice_hours = 0
    profile.booking_window_days = 30
    profile.slot_step_minutes = 60
    profile.buffer_before_minutes = 0
    profile.buffer_after_minutes = 0
    profile.save()
    return coach_user


@pytest.fixture
def http(coach, as_role):
    return as_role("coach")


@pytest.fixture
def other_coach(db):
    return CoachFactory(email="other-coach@example.com", name="Olga Other", timezone="Europe/Paris")


def html(response) -> str:
    return unescape(response.content.decode())


def windows_of(coach, weekday: int) -> list[tuple[str, str]]:
    return [
        (f"{w.start:%H:%M}", f"{w.end:%H:%M}")
        for w in AvailabilityWindow.objects.filter(coach=coach, weekday=weekday).order_by("start")
    ]


def add(coach, weekday: int, start: str, end: str) -> AvailabilityWindow:
    return services.add_window(coach=coach, actor=coach, weekday=weekday, start=t(start), end=t(end))


def assert_week_partial(response, *, refreshed: bool) -> str:
    """An htmx answer: the week section alone (no page around it), with the preview and the
    status message out of band only after a change."""
    assert response.status_code == 200
    body = html(response)
    assert body.lstrip().startswith('<section id="week"')
    assert "<html" not in body
    assert ('id="preview"' in body and 'hx-swap-oob="true"' in body) is refreshed
    return body


def status_message(body: str) -> str:
    match = re.search(r'<div id="editor-status"[^>]*>(.*?)</div>\s*$', body, re.S)
    assert match, "no status region"
    return re.sub(r"<[^>]+>|×", "", match.group(1)).strip()


def flashes(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# ---------------------------------------------------------------------------------------
# Access
# ---------------------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_login(db, as_role) -> None:
    response = as_role(None).get(EDITOR)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    response = as_role(None).post(reverse("availability_window_add", args=[0]), {"start": "09:00", "end": "10:00"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert not AvailabilityWindow.objects.exists()


@pytest.mark.parametrize("role", ["client", "staff", "admin"])
def test_other_roles_get_404(role, as_role, coach) -> None:
    """Clients and staff fail the role check; an admin passes it but has no coach profile."""
    http = as_role(role)
    assert http.get(EDITOR).status_code == 404
    response = http.post(reverse("availability_default_pattern"))
    assert response.status_code == 404
    assert not AvailabilityWindow.objects.exists()


def test_coach_sees_the_editor_with_the_zone_named(http) -> None:
    response = http.get(EDITOR)
    assert response.status_code == 200
    body = html(response)
    assert "Times in <strong>America/New_York</strong>" in body
    for section in ('id="week"', 'id="calendar"', 'id="preview"', 'id="settings"'):
        assert section in body
    assert body.count("data-weekday=") == 7


def test_another_coachs_window_override_and_time_off_are_404(http, other_coach) -> None:
    window = add(other_coach, 0, "09:00", "12:00")
    override = services.set_override(
        coach=other_coach, actor=other_coach, date=TODAY + dt.timedelta(days=3), windows=()
    )
    time_off = services.add_time_off(
        coach=other_coach,
        actor=other_coach,
        start_date=TODAY + dt.timedelta(days=5),
        end_date=TODAY + dt.timedelta(days=6),
    )
    edit = reverse("availability_window_edit", args=[window.pk])
    assert http.get(edit, **HX).status_code == 404
    assert http.post(edit, {"start": "08:00", "end": "09:00"}).status_code == 404
    assert http.post(reverse("availability_window_delete", args=[window.pk]), **HX).status_code == 404
    assert http.post(reverse("availability_override_delete", args=[override.pk])).status_code == 404
    assert http.post(reverse("availability_time_off_delete", args=[time_off.pk])).status_code == 404
    window.refresh_from_db()
    assert (window.start, window.end) == (t("09:00"), t("12:00"))
    assert DateOverride.objects.filter(pk=override.pk).exists()
    assert TimeOff.objects.filter(pk=time_off.pk).exists()


def test_actions_only_accept_post(http) -> None:
    assert http.get(reverse("availability_window_add", args=[0])).status_code == 405
    assert http.get(reverse("availability_default_pattern")).status_code == 405
    assert http.post(EDITOR).status_code == 405


def test_unknown_weekday_is_404(http) -> None:
    assert (
        http.post(reverse("availability_window_add", args=[7]), {"start": "09:00", "end": "10:00"}).status_code == 404
    )
    assert http.post(reverse("availability_day_clear", args=[9])).status_code == 404


# ---------------------------------------------------------------------------------------
# Weekly windows
# ---------------------------------------------------------------------------------------


def test_add_window_plain_post_redirects_with_a_message(http, coach) -> None:
    response = http.post(reverse("availability_window_add", args=[0]), {"start": "09:00", "end": "12:00"})
    assert response.status_code == 302
    assert response["Location"] == f"{EDITOR}#week"
    assert windows_of(coach, 0) == [("09:00", "12:00")]
    page = http.get(response["Location"])
    assert "Added Monday 09:00–12:00." in flashes(page)
    assert 'aria-label="Change Monday 09:00–12:00"' in html(page)


def test_add_window_htmx_returns_the_week_and_refreshes_the_preview(http, coach) -> None:
    response = http.post(reverse("availability_window_add", args=[0]), {"start": "09:00", "end": "12:00"}, **HX)
    body = assert_week_partial(response, refreshed=True)
    assert ">09:00–12:00</a>" in body
    assert status_message(body) == "Added Monday 09:00–12:00."
    # Today is Monday 23 November, 09:00 in New York: the new window is bookable now.
    assert 'data-start="2026-11-23T14:00:00+00:00"' in body
    assert windows_of(coach, 0) == [("09:00", "12:00")]
    # The message was shown by htmx; it doesn't come back on the next page load.
    assert flashes(http.get(EDITOR)) == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"start": "12:00", "end": "09:00"}, "Monday: the window 12:00–09:00 ends before it starts."),
        ({"start": "11:00", "end": "13:00"}, "Monday: 09:00–12:00 overlaps 11:00–13:00."),
        ({"start": "9am", "end": "13:00"}, "Enter a time as HH:MM, for example 09:30."),
        ({"start": "", "end": "13:00"}, "Enter the start time."),
        ({"start": "25:00", "end": "26:00"}, "Enter a time as HH:MM, for example 09:30."),
    ],
)
def test_add_window_bad_input_plain_post_is_400_with_the_message(http, coach, data, message) -> None:
    add(coach, 0, "09:00", "12:00")
    response = http.post(reverse("availability_window_add", args=[0]), data)
    assert response.status_code == 400
    body = html(response)
    assert message in body
    assert "<html" in body  # the whole page again
    # Next to Monday's add form, which stays open with what was typed.
    monday = body[body.index('id="day-0"') : body.index('id="day-1"')]
    assert message in monday
    assert '<details class="window-add" open>' in monday
    assert windows_of(coach, 0) == [("09:00", "12:00")]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"start": "12:00", "end": "09:00"}, "Monday: the window 12:00–09:00 ends before it starts."),
        ({"start": "11:00", "end": "13:00"}, "Monday: 09:00–12:00 overlaps 11:00–13:00."),
        ({"start": "noon", "end": "13:00"}, "Enter a time as HH:MM, for example 09:30."),
    ],
)
def test_add_window_bad_input_htmx_returns_the_week_with_the_error(http, coach, data, message) -> None:
    add(coach, 0, "09:00", "12:00")
    response = http.post(reverse("availability_window_add", args=[0]), data, **HX)
    body = assert_week_partial(response, refreshed=False)
    monday = body[body.index('id="day-0"') : body.index('id="day-1"')]
    assert message in monday
    assert windows_of(coach, 0) == [("09:00", "12:00")]


def test_end_before_start_sits_next_to_the_end_field(http, coach) -> None:
    response = http.post(reverse("availability_window_add", args=[2]), {"start": "12:00", "end": "09:00"}, **HX)
    body = html(response)
    end_field = re.search(r'<div class="window-field has-error">\s*<label for="id_add2_end">.*?</div>', body, re.S)
    assert end_field and "ends before it starts" in end_field.group(0)


def test_edit_window_inline_form_htmx_and_no_js(http, coach) -> None:
    window = add(coach, 1, "09:00", "12:00")
    url = reverse("availability_window_edit", args=[window.pk])
    response = http.get(url, **HX)
    assert response.status_code == 200
    body = html(response)
    assert body.lstrip().startswith(f'<li id="window-{window.pk}"')
    assert 'value="09:00"' in body and 'value="12:00"' in body
    assert f'hx-post="{url}"' in body and f'action="{url}"' in body
    # Without JavaScript the same link opens the form inside the full page.
    response = http.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{EDITOR}?edit={window.pk}#window-{window.pk}"
    page = html(http.get(response["Location"]))
    assert f'id="id_window{window.pk}_start"' in page


def test_edit_window_plain_post(http, coach) -> None:
    window = add(coach, 1, "09:00", "12:00")
    response = http.post(reverse("availability_window_edit", args=[window.pk]), {"start": "09:30", "end": "12:30"})
    assert response.status_code == 302
    assert windows_of(coach, 1) == [("09:30", "12:30")]
    assert "Changed Tuesday 09:00–12:00 to 09:30–12:30." in flashes(http.get(response["Location"]))


def test_edit_window_htmx(http, coach) -> None:
    window = add(coach, 1, "09:00", "12:00")
    response = http.post(
        reverse("availability_window_edit", args=[window.pk]), {"start": "10:00", "end": "11:00"}, **HX
    )
    body = assert_week_partial(response, refreshed=True)
    assert ">10:00–11:00</a>" in body
    assert status_message(body) == "Changed Tuesday 09:00–12:00 to 10:00–11:00."
    assert windows_of(coach, 1) == [("10:00", "11:00")]


def test_edit_window_overlap_keeps_the_form_open_with_the_message(http, coach) -> None:
    add(coach, 1, "09:00", "12:00")
    second = add(coach, 1, "13:00", "17:00")
    url = reverse("availability_window_edit", args=[second.pk])
    data = {"start": "11:30", "end": "17:00"}
    message = "Tuesday: 09:00–12:00 overlaps 11:30–17:00."

    response = http.post(url, data, **HX)
    body = assert_week_partial(response, refreshed=False)
    assert message in body
    assert f'id="id_window{second.pk}_start"' in body and 'value="11:30"' in body

    response = http.post(url, data)
    assert response.status_code == 400
    assert message in html(response)
    assert windows_of(coach, 1) == [("09:00", "12:00"), ("13:00", "17:00")]


def test_remove_window_plain_and_htmx(http, coach) -> None:
    first, second = add(coach, 4, "09:00", "12:00"), add(coach, 4, "13:00", "17:00")
    response = http.post(reverse("availability_window_delete", args=[first.pk]))
    assert response.status_code == 302
    assert "Removed Friday 09:00–12:00." in flashes(http.get(response["Location"]))
    response = http.post(reverse("availability_window_delete", args=[second.pk]), **HX)
    body = assert_week_partial(response, refreshed=True)
    assert status_message(body) == "Removed Friday 13:00–17:00."
    assert windows_of(coach, 4) == []


def test_clear_day_plain_and_htmx(http, coach) -> None:
    add(coach, 2, "09:00", "12:00")
    add(coach, 2, "13:00", "17:00")
    add(coach, 3, "09:00", "12:00")
    response = http.post(reverse("availability_day_clear", args=[2]))
    assert response.status_code == 302
    assert "Cleared Wednesday: no weekly hours that day." in flashes(http.get(response["Location"]))
    assert windows_of(coach, 2) == []
    assert windows_of(coach, 3) == [("09:00", "12:00")]
    response = http.post(reverse("availability_day_clear", args=[3]), **HX)
    body = assert_week_partial(response, refreshed=True)
    assert status_message(body) == "Cleared Thursday: no weekly hours that day."
    assert windows_of(coach, 3) == []


def test_copy_monday_to_weekdays_plain_and_htmx(http, coach) -> None:
    add(coach, 0, "08:00", "11:00")
    add(coach, 0, "14:00", "16:00")
    add(coach, 3, "18:00", "20:00")
    add(coach, 5, "10:00", "12:00")
    response = http.post(reverse("availability_copy_monday"))
    assert response.status_code == 302
    assert "Tuesday to Friday now have Monday's hours." in flashes(http.get(response["Location"]))
    for weekday in range(1, 5):
        assert windows_of(coach, weekday) == [("08:00", "11:00"), ("14:00", "16:00")]
    assert windows_of(coach, 5) == [("10:00", "12:00")]  # the weekend is left alone

    services.set_day_windows(coach=coach, actor=coach, weekday=0, windows=[(t("07:00"), t("08:00"))])
    body = assert_week_partial(http.post(reverse("availability_copy_monday"), **HX), refreshed=True)
    assert status_message(body) == "Tuesday to Friday now have Monday's hours."
    assert windows_of(coach, 4) == [("07:00", "08:00")]


def test_copy_monday_button_is_disabled_while_monday_is_empty(http, coach) -> None:
    body = html(http.get(EDITOR))
    assert re.search(r'<button type="submit" class="btn btn-sm" disabled[^>]*>Copy Monday', body)


def test_default_pattern_plain_and_htmx(http, coach) -> None:
    add(coach, 6, "10:00", "11:00")
    response = http.post(reverse("availability_default_pattern"))
    assert response.status_code == 302
    for weekday in range(5):
        assert windows_of(coach, weekday) == [("09:00", "12:00"), ("13:00", "17:00")]
    assert windows_of(coach, 6) == []
    AvailabilityWindow.objects.filter(coach=coach).delete()
    body = assert_week_partial(http.post(reverse("availability_default_pattern"), **HX), refreshed=True)
    assert "Applied the default pattern" in status_message(body)
    assert body.count(">13:00–17:00</a>") == 5


def test_refreshed_preview_keeps_the_chosen_session_length(http, coach) -> None:
    """htmx sends the preview's select (hx-include) with every change."""
    add(coach, 0, "09:00", "12:00")
    response = http.post(
        reverse("availability_window_add", args=[1]), {"start": "09:00", "end": "12:00", "duration": "90"}, **HX
    )
    body = html(response)
    assert '<option value="90" selected>' in body
    monday = preview_days(body)["2026-11-23"]
    assert [label for label, _ in monday] == ["09:00", "10:00"]  # 90 minutes inside 09:00–12:00


# ---------------------------------------------------------------------------------------
# Date overrides and time off
# ---------------------------------------------------------------------------------------


def override_data(day: dt.date, kind: str = "off", reason: str = "", **rows: str) -> dict[str, str]:
    data = {"date": day.isoformat(), "kind": kind, "reason": reason, "month": day.strftime("%Y-%m")}
    for i in range(1, 4):
        data[f"start_{i}"] = rows.get(f"start_{i}", "")
        data[f"end_{i}"] = rows.get(f"end_{i}", "")
    return data


def test_calendar_month_grid_marks_overrides_and_time_off(http, coach) -> None:
    services.set_override(coach=coach, actor=coach, date=dt.date(2026, 12, 24), windows=(), reason="Christmas Eve")
    services.set_override(
        coach=coach, actor=coach, date=dt.date(2026, 12, 5), windows=((t("10:00"), t("13:00")),), reason="Clinic"
    )
    services.add_time_off(
        coach=coach, actor=coach, start_date=dt.date(2026, 12, 28), end_date=dt.date(2026, 12, 30), reason="Holiday"
    )
    body = html(http.get(EDITOR, {"month": "2026-12"}))
    assert 'data-testid="calendar-month">December 2026<' in body
    assert re.search(r'class="avail-day mark-off"[^>]*data-date="2026-12-24"', body)
    assert re.search(r'class="avail-day mark-custom"[^>]*data-date="2026-12-05"', body)
    for day in ("2026-12-28", "2026-12-29", "2026-12-30"):
        assert re.search(rf'class="avail-day mark-timeoff"[^>]*data-date="{day}"', body)
    assert 'href="/coach/availability/?month=2026-11#calendar"' in body  # previous month
    assert 'href="/coach/availability/?month=2027-01#calendar"' in body  # next month
    # Upcoming, with remove buttons.
    assert "Christmas Eve" in body and "Clinic" in body and "Holiday" in body
    assert body.count('data-testid="upcoming-override"') == 2
    assert body.count('data-testid="upcoming-time-off"') == 1


def test_calendar_navigation_with_htmx_returns_only_the_calendar(http, coach) -> None:
    response = http.get(EDITOR, {"month": "2027-02"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="calendar")
    body = html(response)
    assert body.lstrip().startswith('<section id="calendar"')
    assert "February 2027" in body and 'id="week"' not in body
    assert response["Vary"] and "HX-Request" in response["Vary"]


@pytest.mark.parametrize("month", ["2026-13", "nonsense", "2026-1", "1999-01"])
def test_bad_month_never_fails(http, coach, month) -> None:
    response = http.get(EDITOR, {"month": month})
    assert response.status_code == 200
    assert "November 2026" in html(response)


def test_clicking_a_day_opens_its_form_prefilled(http, coach) -> None:
    day = dt.date(2026, 12, 5)
    services.set_override(coach=coach, actor=coach, date=day, windows=((t("10:00"), t("13:00")),), reason="Clinic")
    response = http.get(
        EDITOR, {"month": "2026-12", "day": "2026-12-05"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="calendar"
    )
    body = html(response)
    panel = body[body.index('id="day-panel"') :]
    assert "Saturday 5 December 2026" in panel
    assert 'value="2026-12-05"' in panel
    assert re.search(r'value="custom"[^>]*checked', panel)
    assert 'id="id_override_start_1" value="10:00"' in panel or re.search(r'name="start_1" value="10:00"', panel)
    assert 'value="Clinic"' in panel
    # A past day doesn't open; the page says why.
    body = html(http.get(EDITOR, {"day": "2026-11-01"}))
    assert 'id="day-panel"' not in body
    assert "is in the past" in body


def test_day_off_override_plain_post(http, coach) -> None:
    day = dt.date(2026, 12, 24)
    response = http.post(reverse("availability_override_save"), override_data(day, reason="Christmas Eve"))
    assert response.status_code == 302
    assert response["Location"] == f"{EDITOR}?month=2026-12#calendar"
    override = DateOverride.objects.get(coach=coach, date=day)
    assert override.reason == "Christmas Eve" and not override.windows.exists()
    assert "Thursday 24 December 2026 is now a day off." in flashes(http.get(response["Location"]))


def test_custom_hours_override_htmx(http, coach) -> None:
    day = dt.date(2026, 11, 27)
    data = override_data(day, "custom", "Half day", start_1="09:00", end_1="12:00", start_2="14:00", end_2="15:00")
    response = http.post(reverse("availability_override_save"), data, **HX)
    assert response.status_code == 200
    body = html(response)
    assert body.lstrip().startswith('<section id="calendar"')
    assert 'id="preview"' in body and 'hx-swap-oob="true"' in body
    assert status_message(body) == "Friday 27 November 2026 now has its own hours: 09:00–12:00, 14:00–15:00."
    assert re.search(r'class="avail-day mark-custom"[^>]*data-date="2026-11-27"', body)
    override = DateOverride.objects.get(coach=coach, date=day)
    assert [(f"{w.start:%H:%M}", f"{w.end:%H:%M}") for w in override.windows.order_by("start")] == [
        ("09:00", "12:00"),
        ("14:00", "15:00"),
    ]
    # The preview follows: Friday has exactly the override's times.
    assert [label for label, _ in preview_days(body)["2026-11-27"]] == ["09:00", "10:00", "11:00", "14:00"]


@pytest.mark.parametrize(
    ("data", "message", "field"),
    [
        (override_data(dt.date(2026, 11, 20)), "20 Nov 2026 is in the past.", "date"),
        (
            override_data(
                dt.date(2026, 12, 1), "custom", start_1="09:00", end_1="12:00", start_2="11:00", end_2="13:00"
            ),
            "Tue 01 Dec: 09:00–12:00 overlaps 11:00–13:00.",
            None,
        ),
        (
            override_data(dt.date(2026, 12, 1), "custom", start_1="12:00", end_1="09:00"),
            "Tue 01 Dec: the window 12:00–09:00 ends before it starts.",
            None,
        ),
        (override_data(dt.date(2026, 12, 1), "custom"), "Enter at least one window, or choose “Day off”.", "start_1"),
        (
            override_data(dt.date(2026, 12, 1), "custom", start_1="9h", end_1="10:00"),
            "Enter a time as HH:MM",
            "start_1",
        ),
        (override_data(dt.date(2026, 12, 1), "custom", start_1="09:00"), "Enter the end time too.", "end_1"),
        ({**override_data(dt.date(2026, 12, 1)), "date": "01/12/2026"}, "Enter a date as YYYY-MM-DD", "date"),
    ],
)
def test_override_bad_input(http, coach, data, message, field) -> None:
    response = http.post(reverse("availability_override_save"), data)
    assert response.status_code == 400
    body = html(response)
    panel = body[body.index('id="day-panel"') :]
    assert message in panel
    if field:
        match = re.search(
            rf'<div class="[^"]*has-error[^"]*">\s*<label for="id_override_{field}">.*?</div>', panel, re.S
        )
        assert match and message in match.group(0)

    response = http.post(reverse("availability_override_save"), data, **HX)
    assert response.status_code == 200
    body = html(response)
    assert body.lstrip().startswith('<section id="calendar"')
    assert message in body
    assert not DateOverride.objects.exists()


def test_remove_override_plain_and_htmx(http, coach) -> None:
    first = services.set_override(coach=coach, actor=coach, date=dt.date(2026, 12, 24), windows=())
    second = services.set_override(coach=coach, actor=coach, date=dt.date(2026, 12, 31), windows=())
    response = http.post(reverse("availability_override_delete", args=[first.pk]), {"month": "2026-12"})
    assert response.status_code == 302
    assert response["Location"] == f"{EDITOR}?month=2026-12#calendar"
    assert "Thursday 24 December 2026 follows your weekly hours again." in flashes(http.get(response["Location"]))
    response = http.post(reverse("availability_override_delete", args=[second.pk]), {"month": "2026-12"}, **HX)
    body = html(response)
    assert body.lstrip().startswith('<section id="calendar"') and "December 2026" in body
    assert status_message(body) == "Thursday 31 December 2026 follows your weekly hours again."
    assert not DateOverride.objects.exists()


def test_add_time_off_plain_and_htmx(http, coach) -> None:
    data = {"start_date": "2026-12-21", "end_date": "2026-12-31", "reason": "Holidays"}
    response = http.post(reverse("availability_time_off_add"), data)
    assert response.status_code == 302
    assert "Time off added: Monday 21 December 2026 to Thursday 31 December 2026 (Holidays)." in flashes(
        http.get(response["Location"])
    )
    response = http.post(
        reverse("availability_time_off_add"), {"start_date": "2026-11-25", "end_date": "2026-11-25"}, **HX
    )
    body = html(response)
    assert body.lstrip().startswith('<section id="calendar"')
    assert status_message(body) == "Time off added: Wednesday 25 November 2026."
    assert "Time off" in preview_notes(body)["2026-11-25"]
    assert TimeOff.objects.filter(coach=coach).count() == 2


@pytest.mark.parametrize(
    ("data", "message", "field"),
    [
        ({"start_date": "2026-12-10", "end_date": "2026-12-01"}, "The time off ends before it starts.", "end_date"),
        ({"start_date": "2026-11-01", "end_date": "2026-11-30"}, "01 Nov 2026 is in the past.", "start_date"),
        ({"start_date": "tomorrow", "end_date": "2026-11-30"}, "Enter a date as YYYY-MM-DD", "start_date"),
        ({"start_date": "2026-12-01", "end_date": ""}, "Enter the last day off.", "end_date"),
    ],
)
def test_time_off_bad_input(http, coach, data, message, field) -> None:
    for headers, status in (({}, 400), (HX, 200)):
        response = http.post(reverse("availability_time_off_add"), data, **headers)
        assert response.status_code == status
        body = html(response)
        match = re.search(rf'<div class="field has-error">\s*<label for="id_timeoff_{field}">.*?</div>', body, re.S)
        assert match and message in match.group(0)
    assert not TimeOff.objects.exists()


def test_remove_time_off_plain_and_htmx(http, coach) -> None:
    first = services.add_time_off(
        coach=coach, actor=coach, start_date=dt.date(2026, 12, 1), end_date=dt.date(2026, 12, 2), reason="Course"
    )
    second = services.add_time_off(
        coach=coach, actor=coach, start_date=dt.date(2027, 1, 4), end_date=dt.date(2027, 1, 4)
    )
    response = http.post(reverse("availability_time_off_delete", args=[first.pk]))
    assert response.status_code == 302
    assert "Time off removed: Tuesday 1 December 2026 to Wednesday 2 December 2026 (Course)." in flashes(
        http.get(response["Location"])
    )
    body = html(http.post(reverse("availability_time_off_delete", args=[second.pk]), **HX))
    assert status_message(body) == "Time off removed: Monday 4 January 2027."
    assert not TimeOff.objects.exists()


# ---------------------------------------------------------------------------------------
# Preview
# ---------------------------------------------------------------------------------------


def preview_section(body: str) -> str:
    start = body.index('<section id="preview"')
    return body[start : body.index("</section>", start)]


def preview_rows(body: str) -> dict[str, str]:
    """{date: the row's HTML} for each row of the preview."""
    section = preview_section(body)
    starts = [
        (m.start(), m.group(1)) for m in re.finditer(r'<li class="preview-day[^"]*" data-date="([\d-]+)">', section)
    ]
    ends = [position for position, _ in starts[1:]] + [len(section)]
    return {day: section[position:end] for (position, day), end in zip(starts, ends)}


def preview_days(body: str) -> dict[str, list[tuple[str, str]]]:
    """{date: [(label, UTC start), ...]} as the preview shows them."""
    return {
        day: [
            (label, start)
            for start, label in re.findall(r'<li class="chip" data-start="([^"]+)"[^>]*>([^<]+)</li>', row)
        ]
        for day, row in preview_rows(body).items()
    }


def preview_notes(body: str) -> dict[str, str]:
    notes = {}
    for day, row in preview_rows(body).items():
        match = re.search(r'<p class="preview-note">(.*?)</p>', row, re.S)
        notes[day] = re.sub(r"<[^>]+>", "", match.group(1)) if match else ""
    return notes


def test_preview_times_across_the_new_york_spring_forward(http, coach) -> None:
    """09:00–12:00 every day stays 09:00–12:00 in New York across 8 March 2026 (clocks go
    from 02:00 to 03:00): the local labels don't move, the UTC instants do (14:00Z → 13:00Z)."""
    for weekday in range(7):
        add(coach, weekday, "09:00", "12:00")
    with time_machine.travel(dt.datetime(2026, 3, 5, 12, 0, tzinfo=UTC), tick=False):  # 07:00 EST
        body = html(http.get(EDITOR))
    assert "Times in <strong>America/New_York</strong>" in preview_section(body)
    days = preview_days(body)
    assert list(days)[:1] == ["2026-03-05"] and len(days) == 14
    for day, times in days.items():
        assert [label for label, _ in times] == ["09:00", "10:00", "11:00"], day
        offset = -5 if day < "2026-03-08" else -4
        for label, start in times:
            instant = dt.datetime.fromisoformat(start)
            assert instant.utcoffset() == dt.timedelta(0)
            local = instant.astimezone(NEW_YORK)
            assert local.strftime("%H:%M") == label and local.date().isoformat() == day
            assert local.utcoffset() == dt.timedelta(hours=offset)
    assert days["2026-03-06"][0][1] == "2026-03-06T14:00:00+00:00"
    assert days["2026-03-08"][0][1] == "2026-03-08T13:00:00+00:00"
    assert days["2026-03-09"][0][1] == "2026-03-09T13:00:00+00:00"


def test_preview_session_length_with_and_without_htmx(http, coach) -> None:
    add(coach, 0, "09:00", "12:00")
    response = http.get(EDITOR, {"duration": "90"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="preview")
    body = html(response)
    assert body.lstrip().startswith('<section id="preview"') and "hx-swap-oob" not in body
    assert [label for label, _ in preview_days(body)["2026-11-23"]] == ["09:00", "10:00"]
    page = html(http.get(EDITOR, {"duration": "30"}))
    assert [label for label, _ in preview_days(page)["2026-11-23"]] == ["09:00", "10:00", "11:00"]
    assert '<option value="30" selected>' in page
    # An unknown length falls back to 60 minutes.
    page = html(http.get(EDITOR, {"duration": "7"}))
    assert '<option value="60" selected>' in page


def test_preview_explains_empty_days(http, coach) -> None:
    add(coach, 0, "09:00", "12:00")
    add(coach, 1, "09:00", "12:00")
    services.set_override(coach=coach, actor=coach, date=dt.date(2026, 11, 24), windows=())
    services.add_time_off(coach=coach, actor=coach, start_date=dt.date(2026, 11, 30), end_date=dt.date(2026, 11, 30))
    profile = coach.coach_profile
    profile.booking_window_days = 10
    profile.save()
    body = html(http.get(EDITOR))
    notes = preview_notes(body)
    assert notes["2026-11-24"] == "Day off"
    assert notes["2026-11-25"] == "No hours set"
    assert notes["2026-11-30"] == "Time off"
    # Nothing starts after the 10-day window: one row for 4 to 6 December.
    assert "Not bookable yet: clients book up to 10 days ahead." in notes["2026-12-04"]
    assert "2026-12-05" not in preview_days(body)


# ---------------------------------------------------------------------------------------
# Booking settings
# ---------------------------------------------------------------------------------------


def settings_data(profile, **changes) -> dict[str, object]:
    data = {name: getattr(profile, name) for name in COACH_SETTING_FIELDS}
    data.update(changes)
    return {k: ("on" if v is True else v) for k, v in data.items() if v is not False}


def test_settings_plain_post_saves_through_the_service(http, coach) -> None:
    profile = coach.coach_profile
    response = http.post(reverse("availability_settings"), settings_data(profile, slot_step_minutes=45, headline="Hi"))
    assert response.status_code == 302
    assert response["Location"] == f"{EDITOR}#settings"
    profile.refresh_from_db()
    assert (profile.slot_step_minutes, profile.headline) == (45, "Hi")
    assert "Your booking settings are saved." in flashes(http.get(response["Location"]))


def test_settings_htmx_returns_the_section_and_a_fresh_preview(http, coach) -> None:
    add(coach, 0, "09:00", "12:00")
    profile = coach.coach_profile
    response = http.post(reverse("availability_settings"), settings_data(profile, slot_step_minutes=30), **HX)
    body = html(response)
    assert body.lstrip().startswith('<section id="settings"')
    assert status_message(body) == "Your booking settings are saved."
    # A 30-minute step: 09:00, 09:30, ... 11:00 for 60-minute sessions.
    assert [label for label, _ in preview_days(body)["2026-11-23"]] == ["09:00", "09:30", "10:00", "10:30", "11:00"]


def test_settings_errors_next_to_the_field(http, coach) -> None:
    profile = coach.coach_profile
    data = settings_data(profile, max_sessions_per_day=6, max_sessions_per_week=3, slot_step_minutes=2)
    for headers, status in (({}, 400), (HX, 200)):
        body = html(http.post(reverse("availability_settings"), data, **headers))
        assert "The weekly limit cannot be lower than the daily limit." in body
        assert re.search(
            r'<label for="id_slot_step_minutes">.*?Ensure this value is greater than or equal to 5', body, re.S
        )
        assert (status == 400) is ("<html" in body)
    profile.refresh_from_db()
    assert profile.max_sessions_per_week == 30 and profile.slot_step_minutes == 60


# ---------------------------------------------------------------------------------------
# The page as a whole
# ---------------------------------------------------------------------------------------


def test_every_htmx_element_also_works_without_javascript(http, coach) -> None:
    add(coach, 0, "09:00", "12:00")
    services.set_override(coach=coach, actor=coach, date=dt.date(2026, 12, 1), windows=())
    services.add_time_off(coach=coach, actor=coach, start_date=dt.date(2026, 12, 3), end_date=dt.date(2026, 12, 3))
    body = html(http.get(EDITOR, {"day": "2026-12-01"}))
    tags = re.findall(r"<(a|form|button)\b([^>]*\bhx-(?:get|post)=[^>]*)>", body)
    assert len(tags) > 40
    for name, attrs in tags:
        hx_url = re.search(r'hx-(?:get|post)="([^"]*)"', attrs).group(1)
        if name == "a":
            href = re.search(r'href="([^"]*)"', attrs).group(1)
            assert href.split("#")[0] == hx_url, attrs
        else:
            assert name == "form", attrs
            assert re.search(r'action="([^"]*)"', attrs).group(1).split("#")[0] == hx_url, attrs
            verb = "post" if "hx-post" in attrs else "get"
            assert f'method="{verb}"' in attrs, attrs


def test_editor_query_count_does_not_grow_with_windows(http, coach) -> None:
    services.set_override(coach=coach, actor=coach, date=dt.date(2026, 11, 27), windows=((t("09:00"), t("10:00")),))
    services.add_time_off(coach=coach, actor=coach, start_date=dt.date(2026, 12, 3), end_date=dt.date(2026, 12, 4))

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = http.get(EDITOR)
        assert response.status_code == 200
        return len(queries)

    add(coach, 0, "09:00", "12:00")
    add(coach, 1, "09:00", "12:00")
    few = count()
    AvailabilityWindow.objects.filter(coach=coach).delete()
    hours = [("07:00", "08:00"), ("09:00", "10:00"), ("11:00", "12:00")]
    for weekday in range(7):
        for start, end in hours[: 3 if weekday < 6 else 2]:
            add(coach, weekday, start, end)
    assert AvailabilityWindow.objects.filter(coach=coach).count() == 20
    assert count() == few
