"""Hosts, subjects and rooms of a session type: who hosts (the coach alone, with co-hosts,
or any one of a team), the subject every host must declare, and the rooms allowed. The
coach's form and the API go through the one session-type service, so each refusal reads
the same beside the same field in both."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.models import Subject
from accounts.tests.factories import ClientFactory, CoachFactory, StaffFactory
from availability.models import Resource
from bookings import services
from bookings.models import HostMode, SessionType
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach
from bookings.tests.test_session_type_pages import FORM
from bookings.tests.test_session_types import GOOD
from config.errors import DomainError

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def coach():
    return open_coach(timezone="Europe/Paris")


@pytest.fixture
def ben():
    return CoachFactory(name="Ben Ito")


@pytest.fixture
def cleo():
    return CoachFactory(name="Cleo Diaz")


@pytest.fixture
def maths():
    return Subject.objects.create(name="Mathematics")


def room(name: str, *, capacity: int = 6, kind: str = "room", location: str = "12 rue X", active: bool = True):
    return Resource.objects.create(name=name, kind=kind, capacity=capacity, location=location, is_active=active)


def declares(person, subject) -> None:
    person.coach_profile.subjects.add(subject)


def logged_in(user) -> Client:
    http = Client()
    http.force_login(user)
    return http


def api(user, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    """Call the API as ``user``; (status, the body, or the refusal as {field: message} with its code)."""
    call = getattr(logged_in(user), method)
    response = call(path, json.dumps(body or {}), content_type="application/json")
    data = response.json()
    if response.status_code >= 400:
        error = data["error"]
        return response.status_code, {f["field"]: f["message"] for f in error.get("fields", [])} | {
            "code": error["code"]
        }
    return response.status_code, data


def create_by_api(user, **change) -> tuple[int, dict]:
    return api(user, "post", "/api/v1/session-types", {**GOOD, **change})


def create_by_page(user, **change) -> tuple[int, dict]:
    """POST the coach's "New session type" form; (status, {field: message}) on a refusal."""
    body = {**FORM}
    for name, value in change.items():
        body[name] = [str(v) for v in value] if isinstance(value, list) else str(value)
    response = logged_in(user).post(reverse("session_type_create"), body)
    if response.status_code == 303:
        return 303, {}
    return response.status_code, {name: " ".join(errors) for name, errors in response.context["form"].errors.items()}


def both_refuse(user, field: str, message: str, **change) -> None:
    """The API and the form refuse the same input beside the same field in the same words,
    and write nothing."""
    api_status, api_errors = create_by_api(user, **change)
    page_status, page_errors = create_by_page(user, **{k: ("" if v is None else v) for k, v in change.items()})
    assert 400 <= api_status < 500, api_errors
    assert 400 <= page_status < 500, page_errors
    assert api_errors[field] == message
    assert page_errors == {field: message}
    assert not SessionType.objects.exists()


# --- who hosts ------------------------------------------------------------------------------------


def test_a_type_hosted_together_keeps_its_co_hosts_through_the_api(coach, ben, cleo) -> None:
    status, created = create_by_api(coach, host_mode="all", co_hosts=[cleo.pk, ben.pk])

    assert status == 201
    assert created["host_mode"] == "all"
    assert created["co_hosts"] == sorted([ben.pk, cleo.pk])
    assert created["resources"] == [] and created["required_subject"] is None
    st = SessionType.objects.get(pk=created["id"])
    assert set(st.co_hosts.all()) == {ben, cleo}
    listed = Client().get(f"/api/v1/session-types?coach={coach.pk}").json()
    assert listed[0]["co_hosts"] == sorted([ben.pk, cleo.pk])


@pytest.mark.parametrize(
    ("mode", "message"),
    [("all", "Choose at least one co-host."), ("any", "Choose the coaches of the team.")],
)
def test_hosting_together_or_as_a_team_needs_co_hosts(coach, mode, message) -> None:
    both_refuse(coach, "co_hosts", message, host_mode=mode, co_hosts=[])


def test_a_coach_cant_list_themself(coach, ben) -> None:
    status, errors = create_by_api(coach, host_mode="all", co_hosts=[ben.pk, coach.pk])
    assert (status, errors["co_hosts"]) == (400, "You host your own sessions already: list the other coaches only.")
    # The form offers only the other coaches: it refuses the choice itself, beside the field.
    page_status, page_errors = create_by_page(coach, host_mode="all", co_hosts=[ben.pk, coach.pk])
    assert page_status == 400
    assert list(page_errors) == ["co_hosts"]
    assert not SessionType.objects.exists()


def test_only_active_coaches_can_co_host_and_no_name_leaks_by_id(coach, ben) -> None:
    client = ClientFactory(name="Private Person")
    gone = CoachFactory(name="Gone Coach")
    gone.is_active = False
    gone.save()

    status, errors = create_by_api(coach, host_mode="all", co_hosts=[client.pk])
    assert (status, errors["co_hosts"]) == (400, f"There is no coach with the id {client.pk}.")
    status, errors = create_by_api(coach, host_mode="all", co_hosts=[999_999_999_999])
    assert (status, errors["co_hosts"]) == (400, "There is no coach with the id 999999999999.")
    status, errors = create_by_api(coach, host_mode="all", co_hosts=[gone.pk])
    assert (status, errors["co_hosts"]) == (400, "Gone Coach is not an active coach.")
    assert not SessionType.objects.exists()


def test_the_form_offers_the_other_active_coaches_only(coach, ben) -> None:
    gone = CoachFactory(name="Gone Coach")
    gone.is_active = False
    gone.save()
    ClientFactory(name="Some Client")

    form = logged_in(coach).get(reverse("session_type_create")).context["form"]

    offered = set(form.fields["co_hosts"].queryset)
    assert ben in offered
    assert not offered & {coach, gone}
    assert all(person.is_coach for person in offered)


def test_just_me_refuses_co_hosts_in_the_api_and_the_form_drops_them(coach, ben) -> None:
    status, errors = create_by_api(coach, host_mode="single", co_hosts=[ben.pk])
    assert status == 400
    assert errors["co_hosts"].startswith("Co-hosts are for sessions you host together or as a team")

    # In the form the boxes stay ticked below "Just me": the type keeps no co-hosts.
    assert create_by_page(coach, host_mode="single", co_hosts=[ben.pk]) == (303, {})
    st = SessionType.objects.get()
    assert st.host_mode == HostMode.SINGLE
    assert not st.co_hosts.exists()


def test_the_form_saves_a_team_and_shows_it_ticked_when_edited(coach, ben, cleo) -> None:
    assert create_by_page(coach, title="Intake", host_mode="any", co_hosts=[ben.pk, cleo.pk]) == (303, {})
    st = SessionType.objects.get(title="Intake")
    assert (st.host_mode, set(st.co_hosts.all())) == ("any", {ben, cleo})

    page = logged_in(coach).get(reverse("session_type_edit", args=[st.pk]))
    form = page.context["form"]
    assert form.initial["host_mode"] == "any"
    assert sorted(form.initial["co_hosts"]) == sorted([ben.pk, cleo.pk])
    html = page.content.decode()
    ticked = set(re.findall(r'<input type="checkbox" name="co_hosts" value="(\d+)"[^>]*checked', html))
    assert ticked == {str(ben.pk), str(cleo.pk)}
    assert f"Hosted by one of {coach.display_name}, Ben Ito and Cleo Diaz: whoever is free, in turn." in html

    # Back to "just me": the team is forgotten.
    response = logged_in(coach).post(reverse("session_type_edit", args=[st.pk]), {**FORM, "title": "Intake"})
    assert response.status_code == 303
    st.refresh_from_db()
    assert st.host_mode == "single"
    assert not st.co_hosts.exists()


def test_the_list_and_the_preview_name_the_hosts_and_the_rooms(coach, ben, cleo) -> None:
    room_2 = room("Room 2", capacity=8)
    st = services.create_session_type(
        actor=coach,
        coach=coach,
        title="Supervision",
        host_mode="all",
        co_hosts=[ben, cleo],
        resource_kind="room",
        resources=[room_2],
    )
    listing = logged_in(coach).get(reverse("session_types")).content.decode()
    assert "With Ben Ito and Cleo Diaz" in listing
    assert "In Room 2" in listing

    preview = logged_in(coach).post(
        reverse("session_type_preview"),
        {
            **FORM,
            "editing": st.pk,
            "title": "Supervision",
            "host_mode": "all",
            "co_hosts": [ben.pk],
            "resource_kind": "room",
            "resources": [room_2.pk],
        },
    )
    html = preview.content.decode()
    assert preview.status_code == 200
    assert f"Hosted by {coach.display_name} and Ben Ito together." in html
    assert "Reserved with each session, whichever is free: Room 2." in html
    # Nothing is saved by a preview.
    assert set(st.co_hosts.all()) == {ben, cleo}


def test_patch_changes_only_what_it_sends_and_a_get_put_back_changes_nothing(coach, ben, cleo, maths) -> None:
    declares(coach, maths)
    declares(ben, maths)
    room_2 = room("Room 2", capacity=10)
    status, created = create_by_api(
        coach,
        kind="group",
        capacity=6,
        host_mode="all",
        co_hosts=[ben.pk],
        required_subject=maths.pk,
        resource_kind="room",
        resources=[room_2.pk],
    )
    assert status == 201, created
    path = f"/api/v1/session-types/{created['id']}"

    status, patched = api(coach, "patch", path, {"title": "Algebra circle"})
    assert status == 200
    assert (patched["co_hosts"], patched["resources"], patched["required_subject"]) == (
        [ben.pk],
        [room_2.pk],
        maths.pk,
    )
    sent_back = {k: v for k, v in patched.items() if k not in ("id", "coach")}
    status, again = api(coach, "patch", path, sent_back)
    assert (status, again) == (200, patched)

    status, patched = api(coach, "patch", path, {"host_mode": "single"})
    assert (status, patched["host_mode"], patched["co_hosts"]) == (200, "single", [])
    status, patched = api(coach, "patch", path, {"required_subject": None, "resources": []})
    assert (status, patched["required_subject"], patched["resources"]) == (200, None, [])


def test_a_co_host_who_stops_coaching_later_doesnt_block_an_edit_of_the_title(coach, ben) -> None:
    st = services.create_session_type(actor=coach, coach=coach, title="Duo", host_mode="all", co_hosts=[ben])
    ben.is_active = False
    ben.save()

    services.update_session_type(session_type=st, actor=coach, title="Duo (renamed)")
    status, patched = api(coach, "patch", f"/api/v1/session-types/{st.pk}", {"co_hosts": [ben.pk]})

    st.refresh_from_db()
    assert st.title == "Duo (renamed)"
    assert (status, patched["co_hosts"]) == (200, [ben.pk])


def test_a_copy_keeps_the_hosts_the_subject_and_the_rooms(coach, ben, maths) -> None:
    declares(coach, maths)
    room_2 = room("Room 2")
    st = services.create_session_type(
        actor=coach,
        coach=coach,
        title="Tutoring",
        host_mode="any",
        co_hosts=[ben],
        required_subject=maths,
        resource_kind="room",
        resources=[room_2],
    )
    copy = services.duplicate_session_type(actor=coach, session_type=st)
    assert (copy.host_mode, copy.required_subject) == ("any", maths)
    assert list(copy.co_hosts.all()) == [ben]
    assert list(copy.resources.all()) == [room_2]


def test_staff_may_set_another_coachs_hosts_and_other_coaches_may_not(coach, ben) -> None:
    st = SessionTypeFactory(coach=coach)
    changed = services.update_session_type(session_type=st, actor=StaffFactory(), host_mode="all", co_hosts=[ben.pk])
    assert list(changed.co_hosts.all()) == [ben]
    status, _ = api(ben, "patch", f"/api/v1/session-types/{st.pk}", {"co_hosts": []})
    assert status == 404


# --- the subject ----------------------------------------------------------------------------------


def test_the_coach_must_declare_the_subject(coach, maths) -> None:
    both_refuse(
        coach,
        "required_subject",
        f"{coach.display_name} doesn't declare Mathematics: add it to the coach's subjects first, or choose another.",
        required_subject=maths.pk,
    )
    declares(coach, maths)
    assert create_by_page(coach, required_subject=maths.pk) == (303, {})
    assert SessionType.objects.get().required_subject == maths


def test_hosting_together_every_co_host_must_declare_it(coach, ben, cleo, maths) -> None:
    declares(coach, maths)
    declares(ben, maths)
    both_refuse(
        coach,
        "required_subject",
        "Every host must declare Mathematics; Cleo Diaz doesn't.",
        host_mode="all",
        co_hosts=[ben.pk, cleo.pk],
        required_subject=maths.pk,
    )
    dora = CoachFactory(name="Dora Lee")
    status, errors = create_by_api(
        coach, host_mode="all", co_hosts=[ben.pk, cleo.pk, dora.pk], required_subject=maths.pk
    )
    assert errors["required_subject"] == "Every host must declare Mathematics; Cleo Diaz and Dora Lee don't."
    declares(cleo, maths)
    status, _ = create_by_api(coach, host_mode="all", co_hosts=[ben.pk, cleo.pk], required_subject=maths.pk)
    assert status == 201


def test_a_team_needs_one_host_with_the_subject_the_others_are_just_not_offered(coach, ben, cleo, maths) -> None:
    both_refuse(
        coach,
        "required_subject",
        "No one in the team declares Mathematics: a host must declare it in their subjects.",
        host_mode="any",
        co_hosts=[ben.pk, cleo.pk],
        required_subject=maths.pk,
    )
    declares(cleo, maths)  # not the coach: a team member is enough
    status, created = create_by_api(coach, host_mode="any", co_hosts=[ben.pk, cleo.pk], required_subject=maths.pk)
    assert (status, created["required_subject"]) == (201, maths.pk)


def test_an_unknown_subject_is_a_clear_400(coach) -> None:
    status, errors = create_by_api(coach, required_subject=123456)
    assert (status, errors["required_subject"]) == (400, "There is no subject with the id 123456.")


# --- the rooms ------------------------------------------------------------------------------------


def test_a_room_must_be_of_the_kind_the_type_reserves(coach) -> None:
    projector = room("Projector", kind="equipment", capacity=1)
    both_refuse(
        coach,
        "resources",
        "Projector (12 rue X) is equipment, not a room: choose ones of the kind this type reserves.",
        resource_kind="room",
        resources=[projector.pk],
    )
    both_refuse(
        coach,
        "resources",
        "Choose what to reserve (a room, equipment or an online room) before choosing which ones.",
        resource_kind="",
        resources=[projector.pk],
    )


def test_a_groups_seats_never_exceed_a_rooms_capacity(coach) -> None:
    small, big = room("Small room", capacity=6), room("Big room", capacity=12)
    message = (
        "Small room (12 rue X) holds 6 people, fewer than the 10 seats of this type: a session's seats never "
        "exceed its room's capacity. Choose a bigger room or fewer seats."
    )
    both_refuse(
        coach, "resources", message, kind="group", capacity=10, resource_kind="room", resources=[big.pk, small.pk]
    )

    status, created = create_by_api(coach, kind="group", capacity=6, resource_kind="room", resources=[small.pk, big.pk])
    assert status == 201
    # Growing the group beyond its smallest room is refused beside the seats.
    status, errors = api(coach, "patch", f"/api/v1/session-types/{created['id']}", {"capacity": 8})
    assert (status, errors["capacity"]) == (400, message.replace("10 seats", "8 seats"))
    assert SessionType.objects.get().capacity == 6


def test_a_one_on_one_or_equipment_is_not_held_to_a_capacity(coach) -> None:
    booth = room("Booth", capacity=1)
    projector = room("Projector", kind="equipment", capacity=1)
    assert create_by_api(coach, title="Talk", resource_kind="room", resources=[booth.pk])[0] == 201
    status, _ = create_by_api(
        coach, title="Slides", kind="workshop", capacity=9, resource_kind="equipment", resources=[projector.pk]
    )
    assert status == 201


def test_a_room_no_longer_in_use_cant_be_chosen_but_one_chosen_before_stays(coach) -> None:
    old = room("Old room", capacity=4)
    st = services.create_session_type(actor=coach, coach=coach, title="Talk", resource_kind="room", resources=[old])
    old.is_active = False
    old.save()

    # Kept while it stays chosen (an edit of the title isn't blocked) …
    services.update_session_type(session_type=st, actor=coach, title="Talk (renamed)", resources=[old])
    # … but it can't be chosen anew.
    with pytest.raises(DomainError) as refused:
        services.create_session_type(actor=coach, coach=coach, title="New", resource_kind="room", resources=[old.pk])
    assert (refused.value.field, refused.value.message) == ("resources", "Old room (12 rue X) is not in use any more.")
    form = logged_in(coach).get(reverse("session_type_create")).context["form"]
    assert old not in set(form.fields["resources"].queryset)
    assert old in set(
        logged_in(coach).get(reverse("session_type_edit", args=[st.pk])).context["form"].fields["resources"].queryset
    )


def test_an_unknown_room_id_is_a_clear_400(coach) -> None:
    status, errors = create_by_api(coach, resource_kind="room", resources=[987654])
    assert (status, errors["resources"]) == (400, "There is no room with the id 987654.")


def test_the_rooms_of_a_group_type_are_saved_from_the_form(coach) -> None:
    hall = room("Hall", capacity=20, location="1 place Y")
    status, errors = create_by_page(
        coach, title="Circle", kind="group", capacity=8, resource_kind="room", resources=[hall.pk]
    )
    assert (status, errors) == (303, {})
    st = SessionType.objects.get(title="Circle")
    assert list(st.resources.all()) == [hall]


def test_a_bad_list_is_refused_by_the_api_with_a_400(coach) -> None:
    response = logged_in(coach).post(
        "/api/v1/session-types", json.dumps({**GOOD, "co_hosts": "everyone"}), content_type="application/json"
    )
    assert response.status_code == 400
    assert not SessionType.objects.exists()


def test_a_group_type_can_be_hosted_together(coach, ben) -> None:
    group = GroupTypeFactory(coach=coach, capacity=5)
    changed = services.update_session_type(session_type=group, actor=coach, host_mode="all", co_hosts=[ben])
    assert (changed.host_mode, list(changed.co_hosts.all())) == ("all", [ben])


@pytest.mark.django_db
def test_the_admin_sets_hosts_and_rooms_through_the_same_checks(admin_client):
    from django.urls import reverse

    from bookings.tests.factories import open_coach

    ana, ben = open_coach(), open_coach()
    st = SessionTypeFactory(coach=ana)
    url = reverse("admin:bookings_sessiontype_change", args=[st.pk])
    form = admin_client.get(url).context["adminform"].form
    lists = ("co_hosts", "resources")
    data = {name: value for name, value in form.initial.items() if value is not None and name not in lists}
    data.update({"coach": ana.pk, "host_mode": "all", "reminder_minutes": ""})
    refused = admin_client.post(url, data)
    assert refused.status_code == 200 and refused.context["adminform"].form.errors
    st.refresh_from_db()
    assert st.host_mode == "single"
    data["co_hosts"] = [ben.pk]
    saved = admin_client.post(url, data, follow=True)
    assert saved.status_code == 200
    assert [str(m) for m in saved.context["messages"]] and "error" not in str(
        [m.tags for m in saved.context["messages"]]
    ), [str(m) for m in saved.context["messages"]]
    st.refresh_from_db()
    assert st.host_mode == "all" and list(st.co_hosts.all()) == [ben]
