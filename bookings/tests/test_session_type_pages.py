"""The coach's session-type pages: create, edit, reorder, duplicate, archive and restore in
the browser, through the same service (and so with the same refusals) as the API and the
admin; the order the coach sets is the order of the wizard and of the API's list."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import ClientFactory, CoachFactory, StaffFactory
from bookings import services
from bookings.models import SessionType
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach
from bookings.tests.test_session_types import GOOD, through_api

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC)

FORM = {
    "title": "Career review",
    "description": "",
    "kind": "one_on_one",
    "duration_minutes": "60",
    "capacity": "",
    "price": "45.00",
    "currency": "EUR",
    "modality": "online",
    "location": "",
    "meeting_link": "",
    "resource_kind": "",
    "approval": "coach",
    "buffer_before_minutes": "",
    "buffer_after_minutes": "",
    "minimum_notice_hours": "",
    "booking_window_days": "",
    "cancellation_notice_hours": "",
    "reminders_mode": "usual",
    "is_active": "on",
}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def coach():
    return open_coach(timezone="Europe/Paris")


def logged_in(user) -> Client:
    http = Client()
    http.force_login(user)
    return http


def titles(coach, *, active_only: bool = True) -> list[str]:
    types = SessionType.objects.filter(coach=coach).order_by("position", "pk")
    return list((types.filter(is_active=True) if active_only else types).values_list("title", flat=True))


def through_page(coach, body: dict) -> tuple[int, dict]:
    """POST the coach's "New session type" form; (status, {field: message}) on a refusal."""
    response = logged_in(coach).post(reverse("session_type_create"), body)
    if response.status_code == 303:
        return 303, {}
    return response.status_code, {
        field: " ".join(messages) for field, messages in response.context["form"].errors.items()
    }


# --- the same rules as the API and the admin ----------------------------------------------------

REFUSED = [
    pytest.param({"kind": "group", "capacity": 11}, "capacity", "A group session has at most 10 seats.", id="max"),
    pytest.param({"capacity": 3}, "capacity", "A one-on-one session type has exactly 1 seat.", id="one-on-one"),
    pytest.param(
        {"kind": "workshop", "capacity": 4, "__groups_off": True},
        "kind",
        "Group sessions and workshops are turned off.",
        id="groups-off",
    ),
    pytest.param(
        {"kind": "group"}, "capacity", "Give the number of seats (capacity) of a group session.", id="no-seats"
    ),
]


@pytest.mark.parametrize(("change", "field", "message"), REFUSED)
def test_the_page_refuses_what_the_api_refuses_beside_the_same_field_in_the_same_words(
    coach, settings, change, field, message
) -> None:
    change = dict(change)
    if change.pop("__groups_off", False):
        settings.ENABLE_GROUP_SESSIONS = False
    api_status, api_errors = through_api(coach, {**GOOD, **change})
    page_status, page_errors = through_page(coach, {**FORM, **{k: str(v) for k, v in change.items()}})

    assert 400 <= page_status < 500
    assert field in page_errors
    assert page_errors[field] == api_errors[field] == message
    assert api_status >= 400
    assert not SessionType.objects.exists()


def test_seven_reminders_are_refused_by_the_page_as_by_the_api(coach) -> None:
    minutes = [10080, 2880, 1440, 240, 120, 60, 30]
    _status, api_errors = through_api(coach, {**GOOD, "reminder_minutes": minutes})
    status, errors = through_page(coach, {**FORM, "reminders_mode": "own", "reminders": [str(m) for m in minutes]})

    assert status == 400
    assert errors == {"reminders": "At most 6 reminders."}
    assert api_errors["reminder_minutes"] == "At most 6 reminders."


def test_a_new_type_comes_last_in_the_coachs_list_with_every_field_the_form_sets(coach) -> None:
    SessionTypeFactory(coach=coach, title="Intro call")
    body = {
        **FORM,
        "title": "  Leadership circle ",
        "description": "Six leaders, one topic.",
        "kind": "group",
        "capacity": "6",
        "duration_minutes": "90",
        "price": "35",
        "currency": "usd",
        "modality": "in_person",
        "location": "12 Rue de Rivoli, Paris",
        "resource_kind": "room",
        "approval": "always",
        "buffer_before_minutes": "10",
        "buffer_after_minutes": "15",
        "minimum_notice_hours": "24",
        "booking_window_days": "30",
        "cancellation_notice_hours": "48",
        "allow_late_cancellation": "on",
        "reminders_mode": "own",
        "reminders": ["30", "1440"],
    }
    status, errors = through_page(coach, body)

    assert (status, errors) == (303, {})
    st = SessionType.objects.get(title="Leadership circle")
    assert (st.kind, st.capacity, st.duration_minutes, str(st.price), st.currency) == ("group", 6, 90, "35.00", "USD")
    assert (st.modality, st.location, st.resource_kind, st.approval) == (
        "in_person",
        "12 Rue de Rivoli, Paris",
        "room",
        "always",
    )
    assert (st.buffer_before_minutes, st.buffer_after_minutes, st.minimum_notice_hours) == (10, 15, 24)
    assert (st.booking_window_days, st.cancellation_notice_hours, st.allow_late_cancellation) == (30, 48, True)
    assert st.reminder_minutes == [1440, 30]
    assert st.is_active
    assert titles(coach) == ["Intro call", "Leadership circle"]


def test_editing_keeps_blank_rules_blank_and_a_kind_change_of_a_used_type_is_refused_beside_kind(coach) -> None:
    st = SessionTypeFactory(coach=coach, title="Intro call", minimum_notice_hours=12)
    http = logged_in(coach)
    response = http.post(reverse("session_type_edit", args=[st.pk]), {**FORM, "title": "Intro call (30 min)"})
    assert response.status_code == 303
    st.refresh_from_db()
    assert (st.title, st.minimum_notice_hours, st.reminder_minutes) == ("Intro call (30 min)", None, None)

    client = ClientFactory()
    services.book_slot(client=client, session_type=st, start=NOW + dt.timedelta(days=2, hours=4), booked_by=client)
    response = http.post(reverse("session_type_edit", args=[st.pk]), {**FORM, "kind": "group", "capacity": "4"})
    assert response.status_code == 400
    assert response.context["form"].errors["kind"] == [
        "This type already has sessions, so its kind can't change. Create a new type instead."
    ]
    st.refresh_from_db()
    assert st.kind == "one_on_one"


# --- order, duplicate, archive ------------------------------------------------------------------


def test_moving_a_type_changes_the_order_of_the_wizard_and_of_the_apis_list(coach) -> None:
    first = SessionTypeFactory(coach=coach, title="Intro call")
    second = GroupTypeFactory(coach=coach, title="Leadership circle")
    third = SessionTypeFactory(coach=coach, title="Career review")
    http = logged_in(coach)

    response = http.post(reverse("session_type_move", args=[third.pk]), {"direction": "up"})
    assert response.status_code == 303
    assert response.url == f"{reverse('session_types')}?moved={third.pk}&dir=up"
    http.post(reverse("session_type_move", args=[third.pk]), {"direction": "up"})
    http.post(reverse("session_type_move", args=[third.pk]), {"direction": "up"})  # already first: stays
    http.post(reverse("session_type_move", args=[first.pk]), {"direction": "down"})

    assert titles(coach) == ["Career review", "Leadership circle", "Intro call"]
    api = http.get("/api/v1/session-types")
    assert [t["id"] for t in api.json()] == [third.pk, second.pk, first.pk]
    visitor = logged_in(ClientFactory()).get(reverse("book_coach", args=[coach.pk]) + "?all=1")
    assert [st.pk for st in visitor.context["session_types"]] == [third.pk, second.pk, first.pk]
    assert http.post(reverse("session_type_move", args=[first.pk]), {"direction": "sideways"}).status_code == 400


def test_a_copy_comes_right_after_its_original_archived_until_the_coach_offers_it(coach) -> None:
    first = SessionTypeFactory(coach=coach, title="Intro call", reminder_minutes=[120], buffer_after_minutes=5)
    SessionTypeFactory(coach=coach, title="Career review")
    response = logged_in(coach).post(reverse("session_type_duplicate", args=[first.pk]))

    copy = SessionType.objects.get(title="Copy of Intro call")
    assert response.status_code == 303
    assert response.url == reverse("session_type_edit", args=[copy.pk])
    assert (copy.is_active, copy.reminder_minutes, copy.buffer_after_minutes) == (False, [120], 5)
    assert titles(coach, active_only=False) == ["Intro call", "Copy of Intro call", "Career review"]
    assert titles(coach) == ["Intro call", "Career review"]


def test_unticking_offered_in_the_form_archives_the_type_and_a_copy_is_offered_from_its_form(coach) -> None:
    st = SessionTypeFactory(coach=coach, title="Intro call")
    http = logged_in(coach)
    body = {key: value for key, value in FORM.items() if key != "is_active"}
    assert http.post(reverse("session_type_edit", args=[st.pk]), {**body, "title": "Intro call"}).status_code == 303
    st.refresh_from_db()
    assert not st.is_active

    http.post(reverse("session_type_duplicate", args=[st.pk]))
    copy = SessionType.objects.get(title="Copy of Intro call")
    form = http.get(reverse("session_type_edit", args=[copy.pk])).context["form"]
    assert form["is_active"].value() is False
    http.post(reverse("session_type_edit", args=[copy.pk]), {**FORM, "title": "Intro call, 30 minutes"})
    copy.refresh_from_db()
    assert (copy.title, copy.is_active) == ("Intro call, 30 minutes", True)


def test_an_archived_type_leaves_the_wizard_and_comes_back_when_restored(coach) -> None:
    st = SessionTypeFactory(coach=coach, title="Intro call")
    SessionTypeFactory(coach=coach, title="Career review")
    http = logged_in(coach)
    visitor = logged_in(ClientFactory())
    wizard = reverse("book_coach", args=[coach.pk]) + "?all=1"

    assert http.post(reverse("session_type_archive", args=[st.pk])).status_code == 303
    assert st.pk not in [t.pk for t in visitor.get(wizard).context["session_types"]]
    page = http.get(reverse("session_types"))
    assert [t.pk for t in page.context["archived"]] == [st.pk]
    assert "Archived" in page.content.decode()

    assert http.post(reverse("session_type_restore", args=[st.pk])).status_code == 303
    assert st.pk in [t.pk for t in visitor.get(wizard).context["session_types"]]


def test_the_live_preview_shows_the_unsaved_type_as_clients_see_it_and_saves_nothing(coach) -> None:
    body = {**FORM, "title": "Deep dive", "kind": "workshop", "capacity": "8", "price": "0", "approval": "always"}
    response = logged_in(coach).post(reverse("session_type_preview"), body)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Deep dive" in html
    assert "Workshop · up to 8" in html
    assert "Free" in html
    assert "Every booking is a request" in html
    assert not SessionType.objects.exists()


def test_only_the_coach_reaches_their_types(coach) -> None:
    st = SessionTypeFactory(coach=coach)
    other = logged_in(CoachFactory())
    for url in (reverse("session_type_edit", args=[st.pk]),):
        assert other.get(url).status_code == 404
    for name in ("session_type_duplicate", "session_type_archive", "session_type_restore"):
        assert other.post(reverse(name, args=[st.pk])).status_code == 404
    assert logged_in(ClientFactory()).get(reverse("session_types")).status_code == 404
    assert logged_in(StaffFactory()).get(reverse("session_types")).status_code == 404
    assert Client().get(reverse("session_types")).status_code == 302
    assert logged_in(coach).get(reverse("session_types")).status_code == 200


def test_the_coach_dashboard_and_the_menu_link_to_the_session_types(coach) -> None:
    html = logged_in(coach).get(reverse("coach_dashboard")).content.decode()
    assert html.count(f'href="{reverse("session_types")}"') == 2


def test_the_api_list_follows_the_coachs_order_for_visitors_too(coach) -> None:
    a = SessionTypeFactory(coach=coach, title="B first", position=2)
    b = SessionTypeFactory(coach=coach, title="A second", position=1)
    listed = Client().get(f"/api/v1/session-types?coach={coach.pk}").json()
    assert [t["id"] for t in listed] == [b.pk, a.pk]
