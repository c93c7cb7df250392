"""Workshops that confirm themselves at their deadline (the q2 schedule run itself), the
coach confirming early, materials shared with participants only, who else is coming, and
the certificate of attendance."""

from __future__ import annotations

import datetime as dt
import importlib
from html import unescape

import pytest
import time_machine
from django.apps import apps as django_apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from django_q.models import Schedule
from django_q.scheduler import scheduler

from accounts.tests.factories import ClientFactory, StaffFactory
from bookings import services
from bookings.models import BookingEvent, BookingStatus, SessionKind, SessionMaterial, SessionStatus
from bookings.services import workshops
from bookings.tests.factories import GroupTypeFactory, open_coach
from config.errors import DomainError

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
START = NOW + dt.timedelta(days=5)
schedule_migration = importlib.import_module("bookings.migrations.0023_workshop_schedule")


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def coach():
    return open_coach(timezone="Europe/Paris")


def workshop_type(coach, **extra):
    values = {"kind": SessionKind.WORKSHOP, "capacity": 6, "min_participants": 3, "confirm_hours_before": 48}
    return GroupTypeFactory(coach=coach, title="Negotiation workshop", **{**values, **extra})


def publish(coach, session_type, start=START):
    return services.publish_session(actor=coach, session_type=session_type, start=start)


def signed_in(user) -> Client:
    http = Client()
    http.force_login(user)
    return http


def run_the_schedule(clock, at: dt.datetime) -> None:
    schedule_migration.create_schedules(django_apps, None)  # test databases are emptied between tests
    schedule = Schedule.objects.get(name="Settle workshops")
    assert (schedule.func, schedule.schedule_type, schedule.minutes) == (
        "bookings.tasks.settle_workshops",
        Schedule.MINUTES,
        5,
    )
    clock.move_to(at)
    Schedule.objects.filter(pk=schedule.pk).update(next_run=at - dt.timedelta(minutes=1))
    scheduler()  # what the cluster runs; tasks run inline in the test settings


def test_publishing_sets_the_deadline_of_a_workshop_with_a_minimum(clock, coach):
    session = publish(coach, workshop_type(coach))
    assert session.confirm_by == START - dt.timedelta(hours=48)
    assert publish(coach, workshop_type(coach, min_participants=None), START + dt.timedelta(hours=2)).confirm_by is None
    plain = GroupTypeFactory(coach=coach)
    assert publish(coach, plain, START + dt.timedelta(hours=3)).confirm_by is None
    # Published after its deadline would be: nobody had time to book, the coach decides.
    assert publish(coach, workshop_type(coach), NOW + dt.timedelta(hours=30)).confirm_by is None


def test_at_the_deadline_enough_people_confirm_it(clock, coach):
    session = publish(coach, workshop_type(coach))
    seats = [services.take_seat(client=ClientFactory(), session=session) for _ in range(3)]

    run_the_schedule(clock, session.confirm_by + dt.timedelta(minutes=2))

    session.refresh_from_db()
    assert session.status == SessionStatus.SCHEDULED
    assert session.confirmed_at == session.confirm_by + dt.timedelta(minutes=2)
    for seat in seats:
        seat.refresh_from_db()
        assert seat.status == BookingStatus.FIRM_BOOKED
        assert seat.events.filter(action="workshop_confirmed").count() == 1
    # Run again: nothing more.
    assert workshops.settle_due() == (0, 0)


def test_at_the_deadline_too_few_call_it_off_for_everyone(clock, coach):
    session = publish(coach, workshop_type(coach))
    seats = [services.take_seat(client=ClientFactory(), session=session) for _ in range(2)]

    run_the_schedule(clock, session.confirm_by + dt.timedelta(minutes=1))

    session.refresh_from_db()
    assert session.status == SessionStatus.CANCELLED and session.seats_taken == 0
    for seat in seats:
        seat.refresh_from_db()
        assert seat.status == BookingStatus.CANCELLED
        assert seat.cancelled_by is None
        assert seat.cancellation_reason == ("Called off: 2 people had booked by the deadline, and it needs at least 3.")
        event = seat.events.get(action="cancelled")
        assert event.actor is None


def test_before_the_deadline_nothing_is_decided(clock, coach):
    session = publish(coach, workshop_type(coach))
    services.take_seat(client=ClientFactory(), session=session)
    clock.move_to(session.confirm_by - dt.timedelta(minutes=1))
    assert workshops.settle_due() == (0, 0)
    session.refresh_from_db()
    assert session.confirmed_at is None and session.status == SessionStatus.SCHEDULED


def test_the_coach_confirms_early_once(clock, coach):
    session = publish(coach, workshop_type(coach))
    seat = services.take_seat(client=ClientFactory(), session=session)
    with pytest.raises(DomainError) as stranger:
        workshops.confirm(session=session, actor=ClientFactory())
    assert stranger.value.status == 403
    answer = signed_in(coach).post(reverse("workshop_confirm", args=[session.pk]))
    assert answer.status_code == 302
    session.refresh_from_db()
    assert session.confirmed_at == NOW
    assert seat.events.filter(action="workshop_confirmed").exists()
    with pytest.raises(DomainError) as again:
        workshops.confirm(session=session, actor=coach)
    assert again.value.code == "invalid_transition"
    clock.move_to(session.confirm_by + dt.timedelta(minutes=1))
    assert workshops.settle_due() == (0, 0)  # already confirmed: not called off


def test_a_minimum_and_a_certificate_are_for_workshops(coach):
    group = GroupTypeFactory(coach=coach, capacity=5)
    for field, value in (("min_participants", 2), ("certificate", True)):
        setattr(group, field, value)
        with pytest.raises(DomainError) as refused:
            services.check_session_type(group, actor=coach)
        assert refused.value.field == field
        setattr(group, field, None if field == "min_participants" else False)
    workshop = workshop_type(coach, capacity=4)
    workshop.min_participants = 5
    with pytest.raises(DomainError) as too_many:
        services.check_session_type(workshop, actor=coach)
    assert too_many.value.field == "min_participants"


# --- materials --------------------------------------------------------------------------


@pytest.fixture
def booked(clock, coach):
    session = publish(coach, workshop_type(coach, show_participants=True))
    ana = ClientFactory(name="Ana Lima")
    ben = ClientFactory(name="Ben Ito")
    seats = [services.take_seat(client=person, session=session) for person in (ana, ben)]
    return session, seats


def test_a_link_and_a_file_are_shared_with_participants_only(booked):
    session, seats = booked
    coach = session.coach
    link = workshops.add_material(actor=coach, session=session, title="Reading list", url="https://example.com/read")
    pdf = SimpleUploadedFile("slides.pdf", b"%PDF-1.4 slides", content_type="application/pdf")
    stored = workshops.add_material(actor=coach, session=session, title="Slides", upload=pdf, after_session=True)
    assert stored.size == len(b"%PDF-1.4 slides") and stored.file.name.endswith("slides.pdf")
    for seat in seats:
        assert list(seat.events.filter(action="material_added").values_list("note", flat=True)) == [
            "Reading list",
            "Slides",
        ]
    page = signed_in(seats[0].client).get(reverse("booking_detail", args=[seats[0].reference])).content.decode()
    assert "Reading list" in page and "Slides" in page
    assert "Ben" in page  # who else is coming: first names
    download = signed_in(seats[1].client).get(reverse("material_file", args=[stored.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.4 slides"
    assert signed_in(ClientFactory()).get(reverse("material_file", args=[stored.pk])).status_code == 404
    assert signed_in(StaffFactory()).get(reverse("material_file", args=[stored.pk])).status_code == 200
    assert link.file.name == ""


@override_settings(MATERIAL_MAX_MB=1)
def test_materials_refuse_wrong_files_and_unclear_input(booked):
    session, _ = booked
    coach = session.coach
    cases = [
        ({"title": "Tool", "upload": SimpleUploadedFile("tool.exe", b"MZ")}, "file"),
        ({"title": "Big", "upload": SimpleUploadedFile("big.pdf", b"x" * (1024 * 1024 + 1))}, "file"),
        ({"title": "Both", "url": "https://example.com", "upload": SimpleUploadedFile("a.pdf", b"a")}, "url"),
        ({"title": "Neither"}, "url"),
        ({"title": "", "url": "https://example.com"}, "title"),
        ({"title": "Script", "url": "javascript:alert(1)"}, "url"),
    ]
    for kwargs, field in cases:
        with pytest.raises(DomainError) as refused:
            workshops.add_material(actor=coach, session=session, **kwargs)
        assert refused.value.field == field, kwargs
    with pytest.raises(DomainError) as stranger:
        workshops.add_material(actor=ClientFactory(), session=session, title="x", url="https://example.com")
    assert stranger.value.status == 403
    assert not SessionMaterial.objects.exists()
    assert not BookingEvent.objects.filter(action="material_added").exists()


def test_the_coach_shares_and_removes_from_the_session_page(booked):
    session, seats = booked
    http = signed_in(session.coach)
    url = reverse("workshop_session", args=[session.pk])
    page = http.get(url)
    assert page.status_code == 200 and "Ana Lima" in page.content.decode()
    bad = http.post(url, {"title": "Tool", "file": SimpleUploadedFile("tool.exe", b"MZ")})
    assert bad.status_code == 400 and "can't be shared" in unescape(bad.content.decode())
    added = http.post(url, {"title": "Slides", "file": SimpleUploadedFile("slides.pdf", b"%PDF")})
    assert added.status_code == 302
    material = SessionMaterial.objects.get()
    assert http.post(reverse("material_remove", args=[material.pk])).status_code == 302
    assert not SessionMaterial.objects.exists()
    assert signed_in(seats[0].client).get(url).status_code == 403


def test_who_else_is_coming_is_shown_only_when_the_type_allows(booked):
    session, seats = booked
    session.session_type.show_participants = False
    session.session_type.save()
    page = signed_in(seats[0].client).get(reverse("booking_detail", args=[seats[0].reference])).content.decode()
    assert "Who's coming" not in page


# --- certificate ------------------------------------------------------------------------


def test_a_participant_who_attended_downloads_a_certificate(clock, coach):
    session = publish(coach, workshop_type(coach, certificate=True, min_participants=None))
    zoe = ClientFactory(name="Zoë Δημητρίου", timezone="Europe/Athens")
    seat = services.take_seat(client=zoe, session=session)
    url = reverse("booking_certificate", args=[seat.reference])
    assert signed_in(zoe).get(url).status_code == 404  # not attended yet
    clock.move_to(session.end + dt.timedelta(minutes=5))
    services.complete_past_sessions()
    seat.refresh_from_db()
    assert seat.status == BookingStatus.COMPLETED
    answer = signed_in(zoe).get(url)
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF")
    assert signed_in(ClientFactory()).get(url).status_code == 404
    detail = signed_in(zoe).get(reverse("booking_detail", args=[seat.reference])).content.decode()
    assert 'data-testid="certificate"' in detail


def test_no_certificate_when_the_type_gives_none(clock, coach):
    session = publish(coach, workshop_type(coach, min_participants=None))
    seat = services.take_seat(client=ClientFactory(), session=session)
    clock.move_to(session.end + dt.timedelta(minutes=5))
    services.complete_past_sessions()
    assert signed_in(seat.client).get(reverse("booking_certificate", args=[seat.reference])).status_code == 404
