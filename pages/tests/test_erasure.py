"""Erasure: a person asks (with their password), may cancel during the grace period, and the
hourly task then anonymises their account — removing them from every table while the
reports' figures and the coach's past bookings stay exactly as they were."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session as WebSession
from django.core import mail
from django.db import models
from django.db.models.functions import Cast
from django.test import Client, override_settings

from accounts.models import ApiToken, Connection, ConnectionStatus, GuardianLink, User
from accounts.tests.factories import PASSWORD, ClientFactory, GuardianLinkFactory, StaffFactory, make_token
from bookings import relay, services
from bookings.models import Booking, BookingStatus
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach
from conftest import logged_in
from intake import services as notes
from intake.models import (
    CoachNote,
    ConsentDocument,
    ConsentRecord,
    ConsentVersion,
    FormVersion,
    IntakeForm,
    IntakeResponse,
)
from notifications import feeds
from notifications.models import CalendarFeed, Delivery, Kind, Notification, NotificationSettings
from pages import erasure
from pages.models import Blocked, ErasureRecord, ErasureSource, ErasureStatus
from pages.tasks import run_erasures
from reports import figures
from waitlist import services as waitlist
from waitlist.models import EntryStatus, WaitlistEntry
from webhooks.models import EventType, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

UTC = dt.UTC
PARIS = ZoneInfo("Europe/Paris")
BOOKED_AT = dt.datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
ERASE_AT = dt.datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
URL = "/account/erase/"
NAME = "Quentin Erasable"
EMAIL = "quentin.erasable@example.com"
OTHER_EMAIL = "q.erasable.work@example.com"
PHONE = "+33612349876"


def at(month: int, day: int, hour: int) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=PARIS)


def mentions(*needles: str) -> list[tuple[str, str, object]]:
    """Every row of every model's table whose text, char or JSON column holds one of the
    needles (as written, or as JSON escapes it), read through a cast to text."""
    import json

    found = []
    variants = {variant for needle in needles for variant in (needle, json.dumps(needle)[1:-1])}
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if not isinstance(field, (models.CharField, models.TextField, models.JSONField)):
                continue
            rows = model._base_manager.annotate(_text=Cast(field.attname, models.TextField()))
            for variant in variants:
                for pk in rows.filter(_text__icontains=variant).values_list("pk", flat=True):
                    found.append((model._meta.label, field.name, pk))
    return found


def report_figures(coach) -> list[dict]:
    """The reports' summary of March and April, practice-wide and for the coach."""
    first, last = dt.date(2026, 3, 1), dt.date(2026, 4, 30)
    return [
        figures.summary(figures.Filters(first, last, PARIS)),
        figures.summary(figures.Filters(first, last, PARIS, coach_id=coach.pk)),
        figures.summary(figures.Filters(first, last, UTC)),
    ]


@pytest.fixture
def clock():
    with time_machine.travel(BOOKED_AT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(clock):
    """Quentin, a client of Carl's, with a completed and rated session, a no-show and a
    cancellation in March, one session to come in May, a seat waited for, a coach's note, a
    connection, a dependant, a token, a calendar feed, a signed-in browser and an admin's
    edit; Olga, another client, with her own session; Carl's webhook endpoint logging it all."""
    coach = open_coach(hours=(9, 17))
    coach.name = "Carl Coach"
    coach.save()
    WebhookEndpoint.objects.create(
        owner=coach, url="https://hooks.example.com/in", event_types=[kind.value for kind in EventType]
    )
    quentin = ClientFactory(name=NAME, email=EMAIL, phone=PHONE, timezone="Europe/Paris")
    EmailAddress.objects.create(user=quentin, email=OTHER_EMAIL, verified=True, primary=False)
    olga = ClientFactory(name="Olga Other")
    talk = SessionTypeFactory(coach=coach, title="Talk")
    Connection.objects.create(
        client=quentin, coach=coach, status=ConnectionStatus.ACCEPTED, message=f"Hello, {NAME} here"
    )

    done = services.book_slot(client=quentin, session_type=talk, start=at(3, 9, 10), notes=f"Call me: {PHONE}")
    missed = services.book_slot(client=quentin, session_type=talk, start=at(3, 10, 10))
    dropped = services.book_slot(client=quentin, session_type=talk, start=at(3, 11, 10))
    hers = services.book_slot(client=olga, session_type=talk, start=at(3, 12, 10), notes=f"I know {NAME}")
    services.cancel(booking=dropped, actor=quentin, reason=f"{NAME} is unwell")
    clock.move_to(at(3, 9, 10))
    services.mark_started(session=done.session, actor=coach)
    clock.move_to(at(3, 9, 11))
    services.mark_completed(session=done.session, actor=coach)
    clock.move_to(at(3, 10, 11))
    services.mark_no_show(booking=missed, actor=coach)
    clock.move_to(at(3, 20, 10))
    services.complete_past_sessions()
    services.rate(booking=Booking.objects.get(pk=done.pk), actor=quentin, rating=4, feedback=f"Thanks from {NAME}")

    clock.move_to(ERASE_AT - dt.timedelta(days=2))
    coming = services.book_slot(client=quentin, session_type=talk, start=at(5, 12, 10))
    group = GroupTypeFactory(coach=coach, capacity=1, title="Circle")
    circle = services.publish_session(actor=coach, session_type=group, start=at(5, 13, 14))
    services.take_seat(client=olga, session=circle)
    entry = waitlist.join(actor=quentin, client=quentin, session=circle)
    notes.add_note(author=coach, client=quentin, booking=done, text=f"{NAME} is making progress")
    GuardianLinkFactory(guardian=quentin, dependent=ClientFactory(name="Quinn Junior"))
    make_token(quentin)
    NotificationSettings.objects.create(user=quentin, channels={"confirmed": ["email"]})
    feed = feeds.feed_of(quentin)
    staff = StaffFactory()
    LogEntry.objects.create(
        user=staff,
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(quentin.pk),
        object_repr=str(quentin),
        action_flag=CHANGE,
        change_message=f"Changed phone to {PHONE}.",
    )
    form = IntakeForm.objects.create(owner=coach, title="First visit")
    version = FormVersion.objects.create(form=form, number=1, published_at=BOOKED_AT)
    IntakeResponse.objects.create(
        client=quentin, coach=coach, version=version, booking=done, answers=f'{{"name": "{NAME}"}}'
    )
    document = ConsentDocument.objects.create(owner=coach, title="Terms", required_before_booking=False)
    consent = ConsentVersion.objects.create(document=document, number=1, body="Be kind.", published_at=BOOKED_AT)
    ConsentRecord.objects.create(
        client=quentin, accepted_by=quentin, version=consent, accepted_at=BOOKED_AT, ip_address="203.0.113.9"
    )
    browser = logged_in(quentin)
    relay.relay_pending()
    clock.move_to(ERASE_AT)
    return {
        "coach": coach,
        "quentin": quentin,
        "olga": olga,
        "past": [done, missed, dropped],
        "hers": hers,
        "coming": coming,
        "entry": entry,
        "feed_url": f"/calendar/{feed.secret}.ics",
        "browser": browser,
    }


# --- the request ------------------------------------------------------------------------------


def test_the_profile_links_to_the_page_which_needs_a_sign_in(client_user):
    assert Client().get(URL).status_code == 302
    profile = logged_in(client_user).get("/profile/")
    assert URL in profile.content.decode()


def test_asking_needs_the_password_then_shows_the_date_and_can_be_cancelled(clock):
    person = ClientFactory(name=NAME, email=EMAIL, timezone="Europe/Paris")
    browser = logged_in(person)
    page = browser.get(URL)
    assert page.status_code == 200 and 'data-testid="erasure-request"' in page.content.decode()

    wrong = browser.post(URL, {"action": "request", "password": "not-it"})
    assert wrong.status_code == 400
    assert "That is not your password." in wrong.content.decode()
    assert not ErasureRecord.objects.exists()

    asked = browser.post(URL, {"action": "request", "password": PASSWORD})
    assert asked.status_code == 302
    record = ErasureRecord.objects.get()
    assert (record.status, record.account_id, record.source) == (ErasureStatus.PENDING, person.pk, "request")
    assert record.due_at == BOOKED_AT + dt.timedelta(days=14)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [EMAIL]
    assert "2026" in mail.outbox[0].subject
    shown = browser.get(URL).content.decode()
    assert 'data-testid="erasure-due"' in shown and "2026" in shown
    assert 'data-testid="erasure-cancel"' in shown

    # Asking again while one waits changes nothing.
    browser.post(URL, {"action": "request", "password": PASSWORD})
    assert ErasureRecord.objects.count() == 1

    cancelled = browser.post(URL, {"action": "cancel"})
    assert cancelled.status_code == 302
    record.refresh_from_db()
    assert record.status == ErasureStatus.CANCELLED and record.cancelled_at == BOOKED_AT
    assert len(mail.outbox) == 2 and mail.outbox[1].to == [EMAIL]
    clock.move_to(BOOKED_AT + dt.timedelta(days=30))
    assert run_erasures() == 0
    person.refresh_from_db()
    assert person.is_active and person.email == EMAIL


@override_settings(ERASURE_GRACE_DAYS=3)
def test_the_task_waits_for_the_grace_period(clock):
    person = ClientFactory(name=NAME, email=EMAIL)
    erasure.request_erasure(person)
    clock.move_to(BOOKED_AT + dt.timedelta(days=3) - dt.timedelta(seconds=1))
    assert run_erasures() == 0
    person.refresh_from_db()
    assert person.email == EMAIL
    clock.move_to(BOOKED_AT + dt.timedelta(days=3))
    assert run_erasures() == 1
    person.refresh_from_db()
    assert person.email == f"erased-{person.pk}@erased.invalid" and not person.is_active
    record = ErasureRecord.objects.get()
    assert record.status == ErasureStatus.DONE and record.done_at == BOOKED_AT + dt.timedelta(days=3)


def test_staff_cannot_ask_and_are_told_what_to_do(clock):
    staff = StaffFactory()
    page = logged_in(staff).get(URL).content.decode()
    assert 'data-testid="erasure-blocked"' in page and "administrator" in page
    response = logged_in(staff).post(URL, {"action": "request", "password": PASSWORD})
    assert response.status_code == 400
    assert not ErasureRecord.objects.exists()


def test_a_coach_with_sessions_to_come_is_refused_and_a_due_request_waits(clock):
    coach = open_coach()
    coach.set_password(PASSWORD)
    coach.save()
    assert erasure.blocked_by(coach) == ""
    record = erasure.request_erasure(coach)
    talk = SessionTypeFactory(coach=coach)
    booking = services.book_slot(client=ClientFactory(), session_type=talk, start=at(3, 20, 10))
    # The session booked during the grace period holds the erasure back, with the reason.
    clock.move_to(BOOKED_AT + dt.timedelta(days=14))
    assert run_erasures() == 0
    record.refresh_from_db()
    assert record.status == ErasureStatus.PENDING and record.blocked == Blocked.HOSTS_SESSIONS
    shown = logged_in(coach).get(URL).content.decode()
    assert "still to come" in shown
    with pytest.raises(erasure.ErasureRefused):
        erasure.request_erasure(coach)
    # Once the session is over, the next run erases the coach; the booking stays.
    clock.move_to(at(3, 21, 10))
    services.complete_past_sessions()
    assert run_erasures() == 1
    coach.refresh_from_db()
    assert not coach.is_active and coach.name == ""
    assert Booking.objects.get(pk=booking.pk).session.coach_id == coach.pk


# --- what erasure removes and keeps ------------------------------------------------------------


def test_erasure_removes_the_person_everywhere_and_keeps_the_reports(world, clock):
    quentin, coach = world["quentin"], world["coach"]
    assert Client().get(world["feed_url"]).status_code == 200
    assert mentions(NAME), "the world should mention Quentin somewhere before"
    before = report_figures(coach)
    past_before = list(
        Booking.objects.filter(pk__in=[b.pk for b in world["past"]])
        .order_by("pk")
        .values_list("pk", "status", "session_id", "price")
    )
    erasure.request_erasure(quentin, now=ERASE_AT - dt.timedelta(days=14))
    mail.outbox.clear()

    assert run_erasures() == 1
    relay.relay_pending()

    # The reports count exactly what they counted.
    assert report_figures(coach) == before
    # Past bookings stay, pointing at the anonymised account, what Quentin wrote cleared.
    past = Booking.objects.filter(pk__in=[b.pk for b in world["past"]]).order_by("pk")
    assert list(past.values_list("pk", "status", "session_id", "price")) == past_before
    assert set(past.values_list("client_id", flat=True)) == {quentin.pk}
    assert set(past.values_list("client_notes", flat=True)) == {""}
    assert set(past.values_list("feedback", flat=True)) == {""}
    assert Booking.objects.get(pk=world["past"][0].pk).rating == 4
    # The session to come is cancelled by the system, and the coach is told.
    coming = Booking.objects.get(pk=world["coming"].pk)
    assert coming.status == BookingStatus.CANCELLED and coming.cancelled_by_id is None
    assert Notification.objects.filter(recipient=coach, booking=coming, kind=Kind.CANCELLED).exists()
    assert WaitlistEntry.objects.get(pk=world["entry"].pk).status == EntryStatus.LEFT
    # Olga's booking is untouched but for the mention of Quentin's name.
    hers = Booking.objects.get(pk=world["hers"].pk)
    assert hers.status == BookingStatus.COMPLETED
    assert hers.client_notes == f"I know erased-{quentin.pk}@erased.invalid"

    # The account itself.
    quentin.refresh_from_db()
    assert quentin.email == f"erased-{quentin.pk}@erased.invalid"
    assert (quentin.name, quentin.phone, quentin.is_active) == ("", "", False)
    assert not quentin.has_usable_password()
    for model, field in (
        (EmailAddress, "user"),
        (ApiToken, "user"),
        (CalendarFeed, "user"),
        (NotificationSettings, "user"),
        (Notification, "recipient"),
        (CoachNote, "client"),
        (Connection, "client"),
        (GuardianLink, "guardian"),
    ):
        assert not model.objects.filter(**{field: quentin}).exists(), model
    assert not IntakeResponse.objects.filter(client=quentin).exists()
    assert IntakeResponse.objects.count() == 0
    # The consent stays as proof of what was accepted when, without the address.
    assert list(ConsentRecord.objects.filter(client=quentin).values_list("accepted_at", "ip_address")) == [
        (BOOKED_AT, None)
    ]
    assert not Delivery.objects.filter(to__in=[EMAIL, PHONE]).exists()
    assert not [s for s in WebSession.objects.all() if s.get_decoded().get("_auth_user_id") == str(quentin.pk)]

    # Nobody can sign in as them, their feed is gone, their old browser is signed out.
    assert not Client().login(email=EMAIL, password=PASSWORD)
    assert not Client().login(email=quentin.email, password=PASSWORD)
    assert Client().get(world["feed_url"]).status_code == 404
    assert world["browser"].get("/profile/").status_code == 302

    # Nothing anywhere still holds the name, either email address or the phone.
    assert mentions(NAME, EMAIL, OTHER_EMAIL, PHONE) == []
    # The webhook log still has its deliveries, about an anonymous client.
    assert WebhookDelivery.objects.exists()

    record = ErasureRecord.objects.get()
    assert record.status == ErasureStatus.DONE and record.done_at == ERASE_AT
    assert record.removed["bookings_cancelled"] == 1 and record.removed["waitlist_withdrawn"] == 1


def test_erasing_twice_or_running_the_task_again_changes_nothing(world):
    quentin = world["quentin"]
    erasure.request_erasure(quentin, now=ERASE_AT - dt.timedelta(days=14))
    assert run_erasures() == 1
    snapshot = list(User.objects.values_list("pk", "email", "name", "is_active", "password").order_by("pk"))
    bookings = list(Booking.objects.values_list("pk", "status", "client_notes").order_by("pk"))
    assert run_erasures() == 0
    assert erasure.erase(User.objects.get(pk=quentin.pk)) == {}
    assert list(User.objects.values_list("pk", "email", "name", "is_active", "password").order_by("pk")) == snapshot
    assert list(Booking.objects.values_list("pk", "status", "client_notes").order_by("pk")) == bookings
    assert ErasureRecord.objects.filter(status=ErasureStatus.DONE).count() == 1


def test_the_record_is_read_only_in_the_admin(clock):
    from accounts.tests.factories import AdminFactory

    person = ClientFactory(name=NAME, email=EMAIL)
    record = erasure.request_erasure(person)
    admin = logged_in(AdminFactory())
    listing = admin.get("/admin/pages/erasurerecord/")
    assert listing.status_code == 200 and str(person.pk) in listing.content.decode()
    assert NAME not in listing.content.decode() and EMAIL not in listing.content.decode()
    assert admin.get(f"/admin/pages/erasurerecord/{record.pk}/change/").status_code == 200
    assert admin.post(f"/admin/pages/erasurerecord/{record.pk}/delete/", {"post": "yes"}).status_code == 403
    assert record.source == ErasureSource.REQUEST


@pytest.mark.django_db(transaction=True)
def test_two_tasks_at_once_erase_once():
    from bookings.tests.test_concurrency import run_together

    people = [ClientFactory(name=f"Twin Person{n}") for n in range(3)]
    past = dt.datetime.now(UTC) - dt.timedelta(days=30)
    for person in people:
        erasure.request_erasure(person, now=past)
    results = run_together([run_erasures for _ in range(4)])
    assert sum(results) == 3
    assert ErasureRecord.objects.filter(status=ErasureStatus.DONE).count() == 3
    for person in people:
        person.refresh_from_db()
        assert person.email == f"erased-{person.pk}@erased.invalid" and not person.is_active
