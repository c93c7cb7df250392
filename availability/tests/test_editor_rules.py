"""The availability editor expresses everything a window holds: how it repeats (every week,
every 2nd to 4th week, the Nth or last weekday of the month, a custom RRULE), its dates,
the session types it is for and whether clients may book firm in it; the week shows each
window on its days with a short label, the preview follows the rules, and editing a
window (even through a form that shows only its hours) never loses what it holds.

Session types are made through the window's relation (``bookings`` sits above this app)."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from html.parser import HTMLParser

import pytest
import recurrence
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import CoachFactory
from availability import services
from availability.forms import (
    CUSTOM,
    WEEKLY,
    WindowForm,
    repeats_choices,
    repeats_of,
    rule_for,
    rule_weekdays,
)
from availability.models import AvailabilityWindow
from config.errors import DomainError

UTC = dt.UTC
# Monday 23 November 2026, 09:00 in New York (the coach_user fixture's zone).
NOW = dt.datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
TODAY = dt.date(2026, 11, 23)
HX = {"HTTP_HX_REQUEST": "true"}
EDITOR = "/coach/availability/"
SessionType = AvailabilityWindow.session_types.field.related_model


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
def types(coach):
    return {
        "intro": SessionType.objects.create(coach=coach, title="Intro", duration_minutes=60, position=1),
        "deep": SessionType.objects.create(coach=coach, title="Deep dive", duration_minutes=60, position=2),
        "paused": SessionType.objects.create(
            coach=coach, title="Paused one", duration_minutes=60, position=3, is_active=False
        ),
    }


def html(response) -> str:
    return unescape(response.content.decode())


def flashes(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def status_message(body: str) -> str:
    match = re.search(r'<div id="editor-status"[^>]*>(.*?)</div>\s*$', body, re.S)
    assert match, "no status region"
    return re.sub(r"<[^>]+>|×", "", match.group(1)).strip()


def column(body: str, weekday: int) -> str:
    start = body.index(f'id="day-{weekday}"')
    end = body.index(f'id="day-{weekday + 1}"') if weekday < 6 else body.index("</ol>", start)
    return body[start:end]


def panel_of(body: str) -> str:
    """The window's full form below the week."""
    start = body.index('<div id="window-panel"')
    return body[start : body.index("</form>", start)]


def open_panel(http, **query) -> str:
    """The week with a window's full form open (``add=weekday`` or ``window=pk``), as htmx
    asks for it."""
    response = http.get(EDITOR, query, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="week")
    assert response.status_code == 200
    body = html(response)
    assert body.lstrip().startswith('<section id="week"')
    return panel_of(body)


def preview_rows(body: str) -> dict[str, str]:
    start = body.index('<section id="preview"')
    section = body[start : body.index("</section>", start)]
    found = [
        (m.start(), m.group(1)) for m in re.finditer(r'<li class="preview-day[^"]*" data-date="([\d-]+)">', section)
    ]
    ends = [position for position, _ in found[1:]] + [len(section)]
    return {day: section[position:end] for (position, day), end in zip(found, ends, strict=True)}


def preview_times(body: str) -> dict[str, list[str]]:
    return {
        day: re.findall(r'<li class="chip" data-start="[^"]+"[^>]*>([^<]+)</li>', row)
        for day, row in preview_rows(body).items()
    }


def preview_notes(body: str) -> dict[str, str]:
    notes = {}
    for day, row in preview_rows(body).items():
        match = re.search(r'<p class="preview-note">(.*?)</p>', row, re.S)
        notes[day] = re.sub(r"<[^>]+>", "", match.group(1)).strip() if match else ""
    return notes


def rule_note(html_part: str, window: AvailabilityWindow) -> str:
    """The short label of a window's rule in the week (its full RRULE in the title)."""
    rule = services.WindowSpec.of(window).rrule
    match = re.search(
        rf'<span class="window-valid" title="RRULE:{re.escape(rule)}" data-rule-note>([^<]+)</span>', html_part
    )
    assert match, html_part
    return match.group(1)


def window_data(start: str = "09:00", end: str = "12:00", **options) -> dict:
    """What a window form with its options posts: ticked boxes only, as a browser does."""
    data = {"start": start, "end": end, "options": "1", "repeats": WEEKLY, "allow_firm_booking": "on", **options}
    if data.get("allow_firm_booking") is False:
        del data["allow_firm_booking"]
    return data


def make(coach, start: str, end: str, *, weekday=None, rule=None, types=(), **fields) -> AvailabilityWindow:
    window = AvailabilityWindow.objects.create(
        coach=coach,
        weekday=weekday,
        recurrence=recurrence.deserialize(f"RRULE:{rule}") if rule else None,
        start=t(start),
        end=t(end),
        **fields,
    )
    window.session_types.set(types)
    return window


def stored(window: AvailabilityWindow) -> services.WindowSpec:
    return services.WindowSpec.of(AvailabilityWindow.objects.get(pk=window.pk))


def snapshot(coach) -> list[dict]:
    rows = []
    for row in AvailabilityWindow.objects.filter(coach=coach).order_by("pk").values():
        row["recurrence"] = recurrence.serialize(row["recurrence"]) if row["recurrence"] is not None else None
        row["types"] = sorted(
            AvailabilityWindow.session_types.through.objects.filter(availabilitywindow_id=row["id"]).values_list(
                "pk", "sessiontype_id"
            )
        )
        rows.append(row)
    return rows


class FormReader(HTMLParser):
    """What a browser would post for the form whose action is ``action``: text, hidden and
    date inputs, ticked boxes, the selected option of each select."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside, self.select = action, False, None
        self.data: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.inside = attr.get("action") == self.action
        if not self.inside:
            return
        if tag == "input" and attr.get("name") and attr.get("name") != "csrfmiddlewaretoken":
            if attr.get("type") in ("checkbox", "radio") and "checked" not in attr:
                return
            self.data.setdefault(attr["name"], []).append(attr.get("value", "on" if "checked" in attr else ""))
        elif tag == "select":
            self.select = attr.get("name")
        elif tag == "option" and self.select and "selected" in attr:
            self.data.setdefault(self.select, []).append(attr.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None


def form_data(body: str, action: str) -> dict[str, list[str]]:
    reader = FormReader(action)
    reader.feed(body)
    assert reader.data, f"no form posting to {action}"
    return reader.data


# ---------------------------------------------------------------------------------------
# The form: how a window repeats, both ways
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("repeats", "weekday", "rule"),
    [
        (WEEKLY, 2, None),
        ("2w", 2, "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE"),
        ("3w", 0, "FREQ=WEEKLY;INTERVAL=3;BYDAY=MO"),
        ("4w", 6, "FREQ=WEEKLY;INTERVAL=4;BYDAY=SU"),
        ("m1", 0, "FREQ=MONTHLY;BYDAY=1MO"),
        ("m2", 1, "FREQ=MONTHLY;BYDAY=2TU"),
        ("m3", 3, "FREQ=MONTHLY;BYDAY=3TH"),
        ("m4", 4, "FREQ=MONTHLY;BYDAY=4FR"),
        ("m-1", 4, "FREQ=MONTHLY;BYDAY=-1FR"),
    ],
)
def test_each_way_to_repeat_is_a_rule_the_services_accept_and_reads_back(repeats, weekday, rule) -> None:
    assert rule_for(repeats, weekday) == rule
    if rule is not None:
        assert services.parse_rule(rule).text == rule  # already in its stored form
    assert repeats_of(None if rule else weekday, rule) == (repeats, weekday)
    assert repeats in dict(repeats_choices(weekday))


def test_other_rules_read_back_as_custom_on_their_first_day() -> None:
    assert repeats_of(None, "FREQ=WEEKLY;BYDAY=TU,TH") == (CUSTOM, 1)
    assert repeats_of(None, "FREQ=MONTHLY;BYMONTHDAY=15") == (CUSTOM, None)
    assert repeats_of(None, "FREQ=WEEKLY;INTERVAL=5;BYDAY=MO") == (CUSTOM, 0)
    assert rule_weekdays("FREQ=MONTHLY;BYDAY=1MO,-1FR") == [0, 4]
    assert rule_weekdays("FREQ=DAILY") == []
    assert repeats_choices(None) == [(CUSTOM, "Custom rule (RRULE)")]
    assert dict(repeats_choices(0))["m-1"] == "Last Monday of the month"


def test_a_form_without_its_options_keeps_the_window_or_takes_the_defaults() -> None:
    form = WindowForm({"start": "10:00", "end": "11:00"}, weekday=2)
    assert form.is_valid(), form.errors
    assert not form.shows_options
    assert form.spec(window_id=7) == services.WindowSpec(2, t("10:00"), t("11:00"), id=7, keep=services.OPTION_FIELDS)
    assert form.spec() == services.WindowSpec(2, t("10:00"), t("11:00"))
    # With its options posted, every field is what the form says (an unticked box: off).
    form = WindowForm(window_data("10:00", "11:00", repeats="2w", allow_firm_booking=False), weekday=2)
    assert form.is_valid(), form.errors
    assert form.spec(window_id=7) == services.WindowSpec(
        None, t("10:00"), t("11:00"), rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=WE", allow_firm_booking=False, id=7
    )


def test_a_custom_rule_comes_from_the_rule_box_and_only_then() -> None:
    data = window_data(repeats=CUSTOM, rrule="FREQ=WEEKLY;BYDAY=TU,TH")
    form = WindowForm(data, weekday=1)
    assert form.is_valid(), form.errors
    assert (form.spec().weekday, form.spec().rrule) == (None, "FREQ=WEEKLY;BYDAY=TU,TH")
    form = WindowForm({**data, "repeats": WEEKLY}, weekday=1)  # a rule left in the box counts for nothing
    assert form.is_valid(), form.errors
    assert (form.spec().weekday, form.spec().rrule) == (1, None)


# ---------------------------------------------------------------------------------------
# Adding windows with options
# ---------------------------------------------------------------------------------------


def test_every_other_week_from_the_next_weekday_plain_post(http, coach) -> None:
    response = http.post(reverse("availability_window_add", args=[2]), window_data(repeats="2w"))
    assert response.status_code == 302
    window = AvailabilityWindow.objects.get(coach=coach)
    spec = services.WindowSpec.of(window)
    assert (spec.weekday, spec.rrule) == (None, "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE")
    assert spec.valid_from == dt.date(2026, 11, 25)  # the next Wednesday pins the phase
    page = http.get(response["Location"])
    assert "Added Wednesday 09:00–12:00, every other week from 25 Nov." in flashes(page)
    body = html(page)
    wednesday = column(body, 2)
    assert f'id="window-{window.pk}"' in wednesday
    assert rule_note(wednesday, window) == "every other week from 25 Nov"
    # The preview follows the rule: 25 November and 9 December, not 2 December.
    times, notes = preview_times(body), preview_notes(body)
    assert times["2026-11-25"] == ["09:00", "10:00", "11:00"]
    assert times["2026-12-02"] == [] and notes["2026-12-02"] == "No hours set"


def test_the_last_weekday_of_the_month_with_htmx(http, coach) -> None:
    response = http.post(reverse("availability_window_add", args=[0]), window_data(repeats="m-1"), **HX)
    assert response.status_code == 200
    body = html(response)
    assert body.lstrip().startswith('<section id="week"')
    assert status_message(body) == "Added Monday 09:00–12:00, last Monday monthly."
    window = AvailabilityWindow.objects.get(coach=coach)
    assert rule_note(column(body, 0), window) == "last Monday monthly"
    assert services.WindowSpec.of(window).rrule == "FREQ=MONTHLY;BYDAY=-1MO"
    assert window.valid_from is None  # the rule doesn't depend on where it starts
    times, notes = preview_times(body), preview_notes(body)
    assert times["2026-11-30"] == ["09:00", "10:00", "11:00"]
    assert times["2026-11-23"] == [] and notes["2026-11-23"] == "No hours set"


def test_a_custom_rule_shows_on_each_of_its_days_and_opens_in_the_first(http, coach) -> None:
    data = window_data("14:00", "16:00", repeats=CUSTOM, rrule="FREQ=WEEKLY;BYDAY=TU,TH")
    assert http.post(reverse("availability_window_add", args=[1]), data).status_code == 302
    window = AvailabilityWindow.objects.get(coach=coach)
    body = html(http.get(EDITOR))
    tuesday, thursday = column(body, 1), column(body, 3)
    assert f'id="window-{window.pk}"' in tuesday and rule_note(tuesday, window) == "weekly on Tue, Thu"
    assert f'id="window-{window.pk}-3"' in thursday and f'id="window-{window.pk}"' not in thursday
    assert f'hx-target="#window-{window.pk}"' in thursday  # its form opens on Tuesday
    assert body.count(f'id="window-{window.pk}"') == 1
    times = preview_times(body)
    assert times["2026-11-24"] == ["14:00", "15:00"] and times["2026-11-26"] == ["14:00", "15:00"]
    assert times["2026-11-25"] == []


@pytest.mark.parametrize(
    ("rule", "valid_from", "label"),
    [
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=WE", dt.date(2026, 11, 23), "every other week from 25 Nov"),
        ("FREQ=WEEKLY;INTERVAL=3;BYDAY=MO", dt.date(2027, 1, 4), "every 3rd week from 4 Jan 2027"),
        ("FREQ=WEEKLY;INTERVAL=4;BYDAY=FR", None, "every 4th week"),
        ("FREQ=MONTHLY;BYDAY=1MO", None, "1st Monday monthly"),
        ("FREQ=MONTHLY;BYDAY=2TU", None, "2nd Tuesday monthly"),
        ("FREQ=MONTHLY;BYDAY=3WE", None, "3rd Wednesday monthly"),
        ("FREQ=MONTHLY;BYDAY=4TH", None, "4th Thursday monthly"),
        ("FREQ=MONTHLY;BYDAY=-1SU", None, "last Sunday monthly"),
        ("FREQ=WEEKLY;BYDAY=TU,TH", None, "weekly on Tue, Thu"),
        ("FREQ=DAILY", None, "every day"),
        ("FREQ=MONTHLY;BYMONTHDAY=15", None, "monthly on day 15"),
        ("FREQ=MONTHLY;BYMONTHDAY=-1", None, "last day of the month"),
        ("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", None, "custom rule"),
    ],
)
def test_each_rule_has_a_short_label(http, coach, rule, valid_from, label) -> None:
    window = make(coach, "09:00", "10:00", rule=rule, valid_from=valid_from)
    assert rule_note(html(http.get(EDITOR)), window) == label


def test_a_rule_without_weekdays_is_listed_below_the_week(http, coach) -> None:
    data = window_data("10:00", "11:00", repeats=CUSTOM, rrule="FREQ=MONTHLY;BYMONTHDAY=1")
    assert http.post(reverse("availability_window_add", args=[0]), data).status_code == 302
    window = AvailabilityWindow.objects.get(coach=coach)
    body = html(http.get(EDITOR))
    below = body[body.index('class="rule-windows"') :]
    assert f'id="window-{window.pk}"' in below
    assert all(f"window-{window.pk}" not in column(body, day) for day in range(7))
    assert preview_times(body)["2026-12-01"] == ["10:00"]
    # Its form offers only a custom rule (no weekday to repeat on) and keeps the rule.
    form = open_panel(http, window=window.pk)
    assert re.search(r'<option value="custom" selected>', form)
    assert 'value="FREQ=MONTHLY;BYMONTHDAY=1"' in form
    assert 'value="weekly"' not in form


def test_dates_session_types_and_requests_only(http, coach, types) -> None:
    data = window_data(
        valid_from="2026-12-01",
        valid_until="2027-02-28",
        session_types=[str(types["intro"].pk), str(types["deep"].pk)],
        allow_firm_booking=False,
    )
    response = http.post(reverse("availability_window_add", args=[3]), data, **HX)
    body = html(response)
    window = AvailabilityWindow.objects.get(coach=coach)
    spec = services.WindowSpec.of(window)
    assert spec == services.WindowSpec(
        3,
        t("09:00"),
        t("12:00"),
        valid_from=dt.date(2026, 12, 1),
        valid_until=dt.date(2027, 2, 28),
        session_type_ids=frozenset({types["intro"].pk, types["deep"].pk}),
        allow_firm_booking=False,
        id=window.pk,
    )
    thursday = column(body, 3)
    for note in ("from 1 Dec until 28 Feb 2027", "only Deep dive, Intro", "requests only"):
        assert f'<span class="window-valid">{note}</span>' in thursday
    assert "data-requests-only" in thursday and "data-limited" in thursday
    # Only for two types: the preview (which lists times open to every type) says so.
    assert preview_notes(body)["2026-12-03"] == "Hours only for some session types"
    assert preview_notes(body)["2026-11-26"] == "No hours set"  # before the window starts


def test_the_type_boxes_list_the_coachs_active_types(http, coach, types) -> None:
    other = CoachFactory(email="olga@example.com")
    SessionType.objects.create(coach=other, title="Not mine", duration_minutes=60)
    shared = SessionType.objects.create(coach=other, title="Shared workshop", duration_minutes=60)
    shared.co_hosts.add(coach)
    panel = open_panel(http, add=0)
    labels = re.findall(r'<label class="kind-option" for="id_panel_session_types_\d+">.*?<span>([^<]+)</span>', panel)
    assert labels == ["Intro", "Deep dive", "Shared workshop (co-hosted)"]
    # A paused type shows only where a window already names it, so saving keeps it.
    window = make(coach, "09:00", "10:00", weekday=0, types=[types["paused"]])
    form = open_panel(http, window=window.pk)
    assert re.search(rf'value="{types["paused"].pk}"[^>]*checked', form)
    assert "Paused one (inactive)" in form


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (window_data(repeats=CUSTOM, rrule="FREQ=SOMETIMES"), "rrule", "can't be read"),
        (window_data(repeats=CUSTOM, rrule=""), "rrule", "Write a rule"),
        (window_data(repeats=CUSTOM, rrule="FREQ=YEARLY"), "rrule", "FREQ=DAILY, WEEKLY or MONTHLY"),
        (window_data(valid_from="2027-01-10", valid_until="2027-01-09"), "valid_until", "ends (2027-01-09) before"),
        (window_data(valid_from="10/01/2027"), "valid_from", "Enter a date as YYYY-MM-DD"),
        (window_data(repeats="fortnightly"), "repeats", "Select a valid choice"),
        (window_data(session_types=["999999"]), "session_types", "Select a valid choice"),
    ],
)
def test_bad_options_sit_next_to_their_field(http, coach, types, data, field, message) -> None:
    for headers, status in (({}, 400), (HX, 200)):
        response = http.post(reverse("availability_window_add", args=[0]), data, **headers)
        assert response.status_code == status
        # The full form again, below the week, with what was typed and the message by its field.
        body = panel_of(html(response))
        assert "New Monday window" in body
        if field == "session_types":
            match = re.search(r'<fieldset class="kind-choice has-error">.*?</fieldset>', body, re.S)
        else:
            match = re.search(rf'<div class="field has-error">\s*<label for="id_panel_{field}">.*?</div>', body, re.S)
        assert match and message in match.group(0), body
        assert 'name="start" value="09:00"' in body
    assert not AvailabilityWindow.objects.exists()


@pytest.mark.parametrize(
    ("weekday", "repeats", "rule", "label"),
    [
        (1, CUSTOM, "FREQ=WEEKLY;BYDAY=TU,TH", "Tuesday, Thursday"),
        (1, "2w", "", "Tuesday"),
        (0, CUSTOM, "FREQ=MONTHLY;BYMONTHDAY=1", "Window"),
    ],
)
def test_a_reversed_window_names_its_days(http, coach, weekday, repeats, rule, label) -> None:
    data = window_data("10:00", "09:00", repeats=repeats, rrule=rule)
    body = panel_of(html(http.post(reverse("availability_window_add", args=[weekday]), data, **HX)))
    match = re.search(r'<div class="field has-error">\s*<label for="id_panel_end">.*?</div>', body, re.S)
    assert match and f"{label}: the window 10:00–09:00 ends before it starts." in match.group(0)


def test_another_coachs_type_is_refused_by_the_service_too(coach, types) -> None:
    theirs = SessionType.objects.create(coach=CoachFactory(email="olga@example.com"), title="X", duration_minutes=60)
    spec = services.WindowSpec(0, t("09:00"), t("10:00"), session_type_ids=frozenset({theirs.pk}))
    with pytest.raises(DomainError) as refused:
        services.save_window(coach=coach, actor=coach, spec=spec)
    assert refused.value.code == "unknown_session_type" and refused.value.field == "session_types"


def test_windows_for_other_types_or_dates_may_share_hours(http, coach, types) -> None:
    first = window_data(session_types=[str(types["intro"].pk)])
    assert http.post(reverse("availability_window_add", args=[0]), first).status_code == 302
    second = window_data("10:00", "13:00", session_types=[str(types["deep"].pk)])
    assert http.post(reverse("availability_window_add", args=[0]), second).status_code == 302
    third = window_data("11:00", "12:00")  # every type: meets both
    response = http.post(reverse("availability_window_add", args=[0]), third)
    assert response.status_code == 400
    assert "Monday: 09:00–12:00 overlaps 11:00–12:00." in panel_of(html(response))
    assert AvailabilityWindow.objects.filter(coach=coach).count() == 2


# ---------------------------------------------------------------------------------------
# Editing never loses what the form doesn't show
# ---------------------------------------------------------------------------------------


@pytest.fixture
def rich(coach, types):
    """A window with everything: every other Tuesday from 1 Dec until March, two types,
    requests only."""
    return make(
        coach,
        "14:00",
        "17:00",
        rule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TU",
        valid_from=dt.date(2026, 12, 1),
        valid_until=dt.date(2027, 3, 31),
        types=[types["intro"], types["deep"]],
        allow_firm_booking=False,
    )


def test_the_edit_form_shows_everything_the_window_holds(http, rich, types) -> None:
    body = open_panel(http, window=rich.pk)
    assert "Change Tuesday 14:00–17:00, every other week from 1 Dec" in body
    assert '<option value="2w" selected>Every other week</option>' in body
    assert 'name="valid_from" value="2026-12-01"' in body and 'name="valid_until" value="2027-03-31"' in body
    for key in ("intro", "deep"):
        assert re.search(rf'value="{types[key].pk}"[^>]*checked', body)
    assert not re.search(r'name="allow_firm_booking"[^>]*checked', body)
    assert 'value="14:00"' in body and 'value="17:00"' in body


def test_posting_the_edit_form_back_as_shown_changes_nothing(http, coach, rich) -> None:
    """The round trip through the editor, for every kind of window."""
    others = [
        make(coach, "09:00", "12:00", weekday=0),
        make(coach, "10:00", "11:00", rule="FREQ=MONTHLY;BYDAY=1MO"),
        make(coach, "10:00", "11:00", rule="FREQ=WEEKLY;BYDAY=MO,WE;WKST=SU"),
        make(coach, "08:00", "09:00", rule="FREQ=MONTHLY;BYMONTHDAY=15"),
        make(coach, "12:30", "13:30", rule="FREQ=WEEKLY;INTERVAL=3;BYDAY=FR"),  # set without a start
        make(coach, "18:00", "19:00", weekday=4, valid_until=dt.date(2026, 12, 24), allow_firm_booking=False),
    ]
    before = snapshot(coach)
    for window in [rich, *others]:
        url = reverse("availability_window_edit", args=[window.pk])
        data = form_data(open_panel(http, window=window.pk), url)
        response = http.post(url, data, **HX)
        assert response.status_code == 200
        assert "has-error" not in html(response), (window, html(response))
        assert snapshot(coach) == before, window


def test_a_post_of_the_hours_alone_keeps_the_rest(http, coach, rich) -> None:
    """An old page (or a script) posting start and end only: the times change, nothing else."""
    response = http.post(reverse("availability_window_edit", args=[rich.pk]), {"start": "15:00", "end": "18:00"})
    assert response.status_code == 302
    after = stored(rich)
    assert (after.start, after.end) == (t("15:00"), t("18:00"))
    assert after.rrule == "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"
    assert (after.valid_from, after.valid_until) == (dt.date(2026, 12, 1), dt.date(2027, 3, 31))
    assert len(after.session_type_ids) == 2 and after.allow_firm_booking is False
    assert "Changed Tuesday 14:00–17:00 to 15:00–18:00." in flashes(http.get(response["Location"]))


def test_changing_how_a_window_repeats(http, coach, rich) -> None:
    url = reverse("availability_window_edit", args=[rich.pk])
    data = form_data(open_panel(http, window=rich.pk), url)
    data["repeats"] = ["weekly"]
    data["valid_until"] = [""]
    response = http.post(url, data, **HX)
    body = html(response)
    assert status_message(body).startswith("Changed Tuesday 14:00–17:00: now Tuesday 14:00–17:00")
    after = stored(rich)
    assert (after.weekday, after.rrule, after.valid_until) == (1, None, None)
    assert after.valid_from == dt.date(2026, 12, 1) and len(after.session_type_ids) == 2


def test_an_edit_with_a_bad_rule_keeps_the_form_open_and_the_window(http, coach, rich) -> None:
    url = reverse("availability_window_edit", args=[rich.pk])
    data = form_data(open_panel(http, window=rich.pk), url)
    before = snapshot(coach)
    data.update(repeats=[CUSTOM], rrule=["FREQ=WEEKLY;BYDAY=TU;BYHOUR=9"])
    for headers, status in (({}, 400), (HX, 200)):
        body = panel_of(html(http.post(url, data, **headers)))
        match = re.search(r'<div class="field has-error">\s*<label for="id_panel_rrule">.*?</div>', body, re.S)
        assert match and "Leave out BYHOUR" in match.group(0)
    assert snapshot(coach) == before


# ---------------------------------------------------------------------------------------
# The week's other actions and the page as a whole
# ---------------------------------------------------------------------------------------


def test_clearing_a_day_leaves_its_rule_windows_and_copy_monday_copies_options(http, coach, types, rich) -> None:
    monday = make(coach, "09:00", "12:00", weekday=0, valid_until=dt.date(2027, 1, 31), types=[types["intro"]])
    tuesday_plain = make(coach, "09:00", "10:00", weekday=1)
    assert http.post(reverse("availability_day_clear", args=[1])).status_code == 302
    assert not AvailabilityWindow.objects.filter(pk=tuesday_plain.pk).exists()
    assert AvailabilityWindow.objects.filter(pk=rich.pk).exists()
    assert http.post(reverse("availability_copy_monday")).status_code == 302
    copies = AvailabilityWindow.objects.filter(coach=coach, weekday__in=[1, 2, 3, 4])
    assert copies.count() == 4
    for copy in copies:
        spec = services.WindowSpec.of(copy)
        assert (spec.start, spec.end, spec.valid_until) == (monday.start, monday.end, dt.date(2027, 1, 31))
        assert spec.session_type_ids == {types["intro"].pk}
    assert AvailabilityWindow.objects.filter(pk=rich.pk).exists()  # still every other Tuesday


def test_a_day_with_only_a_rule_window_has_no_clear_button(http, coach, rich) -> None:
    tuesday = column(html(http.get(EDITOR)), 1)
    assert "Clear Tuesday" not in tuesday and "Not available" not in tuesday


def test_the_quick_forms_post_the_hours_and_lead_to_the_full_form(http, coach, rich) -> None:
    plain = make(coach, "09:00", "12:00", weekday=0)
    page = html(http.get(EDITOR))
    assert 'name="options"' not in page and 'name="repeats"' not in page  # no full form open
    assert 'id="window-panel"' not in page
    link = re.search(r'<a class="small window-more" href="([^"]+)" hx-get="([^"]+)"', column(page, 2))
    assert (
        link
        and link.group(1) == "/coach/availability/?add=2#window-panel"
        and link.group(2) == "/coach/availability/?add=2"
    )
    # The quick edit form of a window leads to its full form.
    quick = html(http.get(reverse("availability_window_edit", args=[plain.pk]), **HX))
    assert 'name="repeats"' not in quick
    assert f'href="/coach/availability/?window={plain.pk}#window-panel"' in quick
    # Without JavaScript the link opens the full form in the page.
    body = html(http.get(EDITOR, {"window": plain.pk}))
    panel = panel_of(body)
    assert "Change Monday 09:00–12:00" in panel
    assert '<option value="weekly" selected>' in panel
    assert re.search(r'name="allow_firm_booking"[^>]*checked', panel)
    assert re.search(r'name="start"[^>]*autofocus|autofocus[^>]*name="start"', panel)
    # A new window's form starts every week, firm booking allowed, no dates, every type.
    panel = panel_of(html(http.get(EDITOR, {"add": "4"})))
    assert "New Friday window" in panel
    assert (
        '<option value="weekly" selected>' in panel and '<option value="m-1">Last Friday of the month</option>' in panel
    )
    assert re.search(r'name="allow_firm_booking"[^>]*checked', panel)


@pytest.mark.parametrize("query", [{"window": "999999"}, {"window": "x"}, {"add": "7"}, {"add": "-1"}])
def test_a_full_form_for_nothing_is_no_form_and_no_error(http, coach, query) -> None:
    response = http.get(EDITOR, query)
    assert response.status_code == 200
    assert 'id="window-panel"' not in html(response)


def test_another_coachs_window_has_no_full_form(http, coach) -> None:
    theirs = make(CoachFactory(email="olga@example.com"), "09:00", "10:00", weekday=0)
    assert 'id="window-panel"' not in html(http.get(EDITOR, {"window": theirs.pk}))
    response = http.post(reverse("availability_window_edit", args=[theirs.pk]), window_data())
    assert response.status_code == 404


def test_a_saved_full_form_closes(http, coach) -> None:
    response = http.post(reverse("availability_window_add", args=[1]), window_data(repeats="3w"), **HX)
    body = html(response)
    assert 'id="window-panel"' not in body
    assert status_message(body) == "Added Tuesday 09:00–12:00, every 3rd week from 24 Nov."
    response = http.post(reverse("availability_window_add", args=[1]), window_data("13:00", "14:00"))
    assert response.status_code == 302 and response["Location"] == f"{EDITOR}#week"


def test_the_page_loads_its_rule_script_and_every_option_is_translatable_text(http, coach) -> None:
    body = html(http.get(EDITOR))
    assert re.search(r'<script src="/static/js/availability-rules\.js" defer></script>', body)
    assert "<script>" not in body  # CSP: no inline script


def test_editor_query_count_does_not_grow_with_windows_rules_or_types(http, coach, types) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert http.get(EDITOR).status_code == 200
        return len(queries)

    make(coach, "09:00", "12:00", weekday=0, types=[types["intro"]])
    make(coach, "10:00", "11:00", rule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", valid_from=TODAY)
    few = count()
    for weekday in range(7):
        make(coach, "07:00", "08:00", weekday=weekday, types=[types["intro"], types["deep"]])
        make(coach, "13:00", "14:00", rule=f"FREQ=MONTHLY;BYDAY={weekday % 4 + 1}MO")
    make(coach, "15:00", "16:00", rule="FREQ=MONTHLY;BYMONTHDAY=2", allow_firm_booking=False)
    assert count() == few
