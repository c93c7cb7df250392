"""Subjects and qualifications: a coach declares them on the booking settings page (picked
from the existing ones, or a new one by name: trimmed, a name that exists in another case
refused), the coach directory filters by subject with a plain GET form and shows each
coach's subjects, and the coach's page shows them too."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts import subjects
from accounts.models import CalendarVisibility, ClientTag, ClientTagging, ConnectionStatus, Subject
from accounts.selectors import coaches_visible_to
from accounts.tests.factories import ClientFactory, CoachFactory, ConnectionFactory, StaffFactory
from config.errors import DomainError, NotAllowed

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    http = Client()
    http.force_login(user)
    return http


@pytest.fixture
def maths():
    return Subject.objects.create(name="Mathematics")


@pytest.fixture
def physics():
    return Subject.objects.create(name="Physics")


def coach_with(*declared, name="Camille Coach", visibility=CalendarVisibility.PUBLIC):
    coach = CoachFactory(name=name)
    profile = coach.coach_profile
    profile.calendar_visibility = visibility
    profile.save()
    profile.subjects.set(declared)
    return coach


# --- the service ----------------------------------------------------------------------------


def test_a_coach_picks_subjects_and_adds_one_by_name(maths, physics):
    coach = coach_with()
    chosen = subjects.set_coach_subjects(
        profile=coach.coach_profile, actor=coach, subjects=[maths], new_name="  Couples   therapy "
    )
    assert [s.name for s in chosen] == ["Couples therapy", "Mathematics"]
    assert set(coach.coach_profile.subjects.values_list("name", flat=True)) == {"Mathematics", "Couples therapy"}
    subjects.set_coach_subjects(profile=coach.coach_profile, actor=coach, subjects=[physics])
    assert list(coach.coach_profile.subjects.all()) == [physics]
    assert Subject.objects.filter(name="Couples therapy").exists()  # kept for others to pick


@pytest.mark.parametrize(
    ("name", "words"),
    [("mathematics", "already a subject"), (" MATHEMATICS  ", "already a subject"), ("x" * 81, "at most 80")],
)
def test_a_new_subject_that_exists_in_another_case_or_is_too_long_is_refused(maths, name, words):
    coach = coach_with(maths)
    with pytest.raises(DomainError) as refused:
        subjects.set_coach_subjects(profile=coach.coach_profile, actor=coach, subjects=[], new_name=name)
    assert refused.value.field == "new_subject" and words in refused.value.message
    assert "Mathematics" in refused.value.message or words == "at most 80"
    assert Subject.objects.count() == 1
    assert list(coach.coach_profile.subjects.all()) == [maths]  # nothing changed


def test_only_the_coach_or_staff_set_the_subjects(maths):
    coach, other = coach_with(), coach_with(name="Other")
    with pytest.raises(NotAllowed):
        subjects.set_coach_subjects(profile=coach.coach_profile, actor=other, subjects=[maths])
    subjects.set_coach_subjects(profile=coach.coach_profile, actor=StaffFactory(), subjects=[maths])
    assert list(coach.coach_profile.subjects.all()) == [maths]


# --- the booking settings page --------------------------------------------------------------


def settings_form(coach, **extra) -> dict:
    profile = coach.coach_profile
    data = {
        name: getattr(profile, name)
        for name in (
            "headline",
            "bio",
            "firm_booking_threshold_hours",
            "calendar_visibility",
            "minimum_notice_hours",
            "booking_window_days",
            "slot_step_minutes",
            "buffer_before_minutes",
            "buffer_after_minutes",
            "max_sessions_per_day",
            "max_sessions_per_week",
            "cancellation_notice_hours",
        )
    }
    data["allow_firm_booking"] = "on"
    data.update(extra)
    return data


def test_the_settings_page_saves_ticked_subjects_and_a_new_one(maths, physics):
    coach = coach_with(physics)
    page = logged_in(coach).get(reverse("coach_settings"))
    html = page.content.decode()
    assert page.status_code == 200 and "Mathematics" in html and 'data-testid="subjects"' in html
    assert list(page.context["subjects_form"].initial["subjects"]) == [physics]
    response = logged_in(coach).post(
        reverse("coach_settings"),
        settings_form(
            coach, headline="Tutor", **{"subjects-subjects": [maths.pk], "subjects-new_subject": " Chemistry "}
        ),
    )
    assert response.status_code == 302
    coach.coach_profile.refresh_from_db()
    assert coach.coach_profile.headline == "Tutor"
    assert set(coach.coach_profile.subjects.values_list("name", flat=True)) == {"Mathematics", "Chemistry"}


def test_a_refused_subject_saves_nothing_and_says_why_beside_the_box(maths):
    coach = coach_with()
    response = logged_in(coach).post(
        reverse("coach_settings"), settings_form(coach, headline="Changed", **{"subjects-new_subject": "MATHEMATICS"})
    )
    assert response.status_code == 400
    assert response.context["subjects_form"].errors["new_subject"] == [
        "“Mathematics” is already a subject: tick it in the list instead."
    ]
    assert "tick it in the list instead" in response.content.decode()
    coach.coach_profile.refresh_from_db()
    assert coach.coach_profile.headline == "" and not coach.coach_profile.subjects.exists()


def test_a_refused_setting_keeps_the_subjects_as_they_were(maths):
    coach = coach_with()
    response = logged_in(coach).post(
        reverse("coach_settings"),
        settings_form(coach, max_sessions_per_day=5, max_sessions_per_week=2, **{"subjects-subjects": [maths.pk]}),
    )
    assert response.status_code == 400
    assert not coach.coach_profile.subjects.exists()


def test_an_unknown_subject_id_is_a_form_error(maths):
    coach = coach_with()
    response = logged_in(coach).post(
        reverse("coach_settings"), settings_form(coach, **{"subjects-subjects": ["99999"]})
    )
    assert response.status_code == 400 and "subjects" in response.context["subjects_form"].errors


# --- the directory and the coach's page ----------------------------------------------------


def test_the_directory_filters_by_subject_and_shows_each_coach_subjects(maths, physics):
    tutor = coach_with(maths, physics, name="Tina Tutor")
    coach_with(physics, name="Paul Physicist")
    coach_with(name="Nadia Nothing")
    Subject.objects.create(name="Nobody teaches this")
    everyone = Client().get(reverse("book_coach_list"))
    assert everyone.status_code == 200
    assert [c.display_name for c in everyone.context["coaches"]] == ["Nadia Nothing", "Paul Physicist", "Tina Tutor"]
    # The select offers only subjects some coach here declares.
    assert [s.name for s in everyone.context["subjects"]] == ["Mathematics", "Physics"]
    html = everyone.content.decode()
    assert '<select name="subject" id="id_subject">' in html and 'method="get"' in html
    tutor_card = html[html.index("Tina Tutor") :]
    assert "Mathematics" in tutor_card[:2000] and "Physics" in tutor_card[:2000]
    filtered = Client().get(reverse("book_coach_list"), {"subject": maths.pk})
    assert [c.pk for c in filtered.context["coaches"]] == [tutor.pk]
    assert f'<option value="{maths.pk}" selected>Mathematics</option>' in filtered.content.decode()


@pytest.mark.parametrize("raw", ["banana", "99999", "²", "9" * 30, "-1"])
def test_a_subject_filter_that_names_nothing_lists_every_coach_and_says_so(maths, raw):
    coach_with(maths)
    coach_with(name="Other")
    response = Client().get(reverse("book_coach_list"), {"subject": raw})
    assert response.status_code == 200
    assert len(response.context["coaches"]) == 2
    assert response.context["notices"] == ["That subject wasn't found; every coach is listed."]


def test_the_subject_filter_keeps_the_visibility_rules(maths):
    public = coach_with(maths, name="Public")
    connected_only = coach_with(maths, name="Connected", visibility=CalendarVisibility.CONNECTED)
    coach_with(maths, name="Private", visibility=CalendarVisibility.PRIVATE)
    client = ClientFactory()
    ConnectionFactory(client=client, coach=connected_only, status=ConnectionStatus.ACCEPTED)
    assert set(coaches_visible_to(None, subject=maths)) == {public}
    assert set(coaches_visible_to(client, subject=maths)) == {public, connected_only}
    assert coaches_visible_to(StaffFactory(), subject=maths).count() == 3
    empty = logged_in(ClientFactory()).get(reverse("book_coach_list"), {"subject": maths.pk})
    assert [c.pk for c in empty.context["coaches"]] == [public.pk]


def test_no_coach_for_a_subject_says_so(maths, physics):
    coach_with(physics)
    coach_with(maths, visibility=CalendarVisibility.PRIVATE)
    response = Client().get(reverse("book_coach_list"), {"subject": maths.pk})
    assert response.context["coaches"] == []
    assert "No coach you can book teaches Mathematics yet." in response.content.decode()


def test_the_coach_page_shows_their_subjects(maths, physics):
    coach = coach_with(physics, maths)
    coach.session_types.create(title="Intro", duration_minutes=60, capacity=1)
    coach.session_types.create(title="Deep dive", duration_minutes=60, capacity=1)
    response = Client().get(reverse("book_coach", args=[coach.pk]))
    assert response.status_code == 200
    assert [s.name for s in response.context["subjects"]] == ["Mathematics", "Physics"]
    assert 'data-testid="coach-subjects"' in response.content.decode()
    bare = coach_with(name="Bare")
    bare.session_types.create(title="Intro", duration_minutes=60, capacity=1)
    bare.session_types.create(title="Deep dive", duration_minutes=60, capacity=1)
    assert 'data-testid="coach-subjects"' not in Client().get(reverse("book_coach", args=[bare.pk])).content.decode()


# --- the back office ------------------------------------------------------------------------


def test_the_admin_lists_subjects_and_refuses_a_name_in_another_case(admin_user, maths):
    coach_with(maths)
    http = logged_in(admin_user)
    listed = http.get(reverse("admin:accounts_subject_changelist"), {"q": "math"})
    assert listed.status_code == 200 and list(listed.context["cl"].result_list) == [maths]
    assert listed.context["cl"].result_list[0].coach_total == 1
    refused = http.post(reverse("admin:accounts_subject_add"), {"name": " MATHEMATICS ", "description": ""})
    assert refused.status_code == 200 and "already a subject named" in refused.content.decode()
    assert (
        http.post(reverse("admin:accounts_subject_add"), {"name": " Music  theory ", "description": ""}).status_code
        == 302
    )
    assert Subject.objects.filter(name="Music theory").exists()


def test_the_admin_shows_a_coach_subjects_on_the_person_and_lists_client_tags(admin_user, maths):
    coach = coach_with(maths)
    client = ClientFactory(name="Nora Client")
    tag = ClientTag.objects.create(coach=coach, name="VIP")
    ClientTagging.objects.create(tag=tag, client=client)
    ClientTag.objects.create(coach=None, name="Sliding scale")
    http = logged_in(admin_user)
    person = http.get(reverse("admin:accounts_user_change", args=[coach.pk]))
    assert person.status_code == 200 and "Subjects and qualifications" in person.content.decode()
    tags = http.get(reverse("admin:accounts_clienttag_changelist"))
    assert tags.status_code == 200 and {t.name: t.client_total for t in tags.context["cl"].result_list} == {
        "VIP": 1,
        "Sliding scale": 0,
    }
    practice_only = http.get(reverse("admin:accounts_clienttag_changelist"), {"coach__isempty": "1"})
    assert [t.name for t in practice_only.context["cl"].result_list] == ["Sliding scale"]
    page = http.get(reverse("admin:accounts_clienttag_change", args=[tag.pk]))
    assert page.status_code == 200 and "Nora Client" in page.content.decode()
    data = {
        "name": "vip ",
        "coach": coach.pk,
        "description": "",
        "priority": 0,
        "taggings-TOTAL_FORMS": 0,
        "taggings-INITIAL_FORMS": 0,
    }
    refused = http.post(reverse("admin:accounts_clienttag_add"), data)
    assert refused.status_code == 200 and "already a tag named" in refused.content.decode()
    data["taggings-TOTAL_FORMS"] = 1
    data.update({"name": "New", "taggings-0-client": client.pk})
    assert http.post(reverse("admin:accounts_clienttag_add"), data).status_code == 302
    tagging = ClientTagging.objects.get(tag__name="New")
    assert (tagging.client, tagging.added_by) == (client, admin_user)


@pytest.mark.django_db
def test_the_coaches_api_lists_each_coachs_subjects_and_filters_by_one():
    maths = Subject.objects.create(name="Mathematics")
    tutor, other = CoachFactory(), CoachFactory()
    tutor.coach_profile.subjects.add(maths)
    everyone = Client().get("/api/v1/coaches").json()
    assert {c["id"]: c["subjects"] for c in everyone}[tutor.pk] == [{"id": maths.pk, "name": "Mathematics"}]
    assert {c["id"] for c in everyone} >= {tutor.pk, other.pk}
    filtered = Client().get("/api/v1/coaches", {"subject": maths.pk}).json()
    assert [c["id"] for c in filtered] == [tutor.pk]
    assert Client().get("/api/v1/coaches", {"subject": maths.pk + 1000}).json() == []
    assert Client().get("/api/v1/coaches", {"subject": "maths"}).status_code == 400
