"""The personal data download: one zip of the signed-in person's own data — account,
bookings with their history (JSON, CSV, .ics), payments, notifications, and coaches' notes
about them only when the setting says so — and nothing of anyone else's."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from icalendar import Calendar

from accounts.tests.factories import ClientFactory, StaffFactory
from bookings import services
from bookings.models import Booking
from bookings.tests.factories import SessionTypeFactory, open_coach
from conftest import logged_in
from intake import services as notes
from notifications.models import Channel, Delivery, DeliveryStatus, Kind, Notification
from payments.models import Backend, Payment, PaymentStatus, Refund, RefundStatus

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
START = dt.datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
URL = "/account/my-data/"
MINE = "Please use the side door"
THEIRS = "Olga's knee operation"
NOTE_ABOUT_NORA = "Nora seems tired lately"
NOTE_ABOUT_OLGA = "Olga asked about payment plans"
BASE_FILES = {
    "README.txt",
    "account.json",
    "bookings.json",
    "bookings.csv",
    "bookings.ics",
    "payments.json",
    "notifications.json",
    "intake_answers.json",  # the intake forms' answers (and intake_files/ when there are files)
    "consents.json",
}


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _notify(user, title: str, status: str = DeliveryStatus.SENT) -> Notification:
    notification = Notification.objects.create(recipient=user, kind=Kind.CONFIRMED, title=title)
    Delivery.objects.create(notification=notification, channel=Channel.EMAIL, status=status, to=user.email)
    return notification


@pytest.fixture
def world():
    """Nora (the one downloading) with two bookings of Carl's, one cancelled; Olga, another
    client of Carl's, with a booking, a payment, a message and a note of her own."""
    coach = open_coach()
    coach.name = "Carl Coach"
    coach.save()
    nora = ClientFactory(name="Nora Client", phone="+33612345678", timezone="Europe/Paris")
    olga = ClientFactory(name="Olga Other")
    session_type = SessionTypeFactory(coach=coach, title="Career consultation")
    kept = services.book_slot(client=nora, session_type=session_type, start=START, notes=MINE)
    dropped = services.book_slot(client=nora, session_type=session_type, start=START + dt.timedelta(days=1))
    services.cancel(booking=dropped, actor=nora, reason="Changed my plans")
    theirs = services.book_slot(
        client=olga, session_type=session_type, start=START + dt.timedelta(hours=2), notes=THEIRS
    )
    payment = Payment.objects.create(
        client=nora, booking=kept, backend=Backend.LOCAL, amount_minor=5000, currency="EUR", status=PaymentStatus.PAID
    )
    Refund.objects.create(payment=payment, amount_minor=1000, currency="EUR", reason="Goodwill", status="succeeded")
    Payment.objects.create(
        client=olga, booking=theirs, backend=Backend.LOCAL, amount_minor=7777, currency="EUR", status="paid"
    )
    _notify(nora, "Your booking is confirmed")
    _notify(olga, "Olga's booking is confirmed", DeliveryStatus.FAILED)
    notes.add_note(author=coach, client=nora, booking=kept, text=NOTE_ABOUT_NORA)
    notes.add_note(author=coach, client=olga, text=NOTE_ABOUT_OLGA)
    return {"coach": coach, "nora": nora, "olga": olga, "kept": kept, "dropped": dropped, "theirs": theirs}


def download(user) -> zipfile.ZipFile:
    response = logged_in(user).post(URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == 'attachment; filename="my-data-2026-12-01.zip"'
    return zipfile.ZipFile(io.BytesIO(response.content))


def read_json(archive: zipfile.ZipFile, name: str):
    return json.loads(archive.read(name).decode())


def everything(archive: zipfile.ZipFile) -> str:
    return "".join(archive.read(name).decode() for name in archive.namelist())


# --- the page -------------------------------------------------------------------------------


def test_the_page_and_the_download_need_a_sign_in():
    for method in ("get", "post"):
        response = getattr(Client(), method)(URL)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


def test_the_page_says_what_the_download_holds_and_the_profile_links_to_it(world):
    page = logged_in(world["nora"]).get(URL)
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-testid="my-data-download"' in text and 'method="post"' in text
    assert "bookings.ics" in text and "coach_notes.json" not in text and "hosted_sessions" not in text
    profile = logged_in(world["nora"]).get(reverse("profile")).content.decode()
    assert f'href="{URL}"' in profile and "Download my data" in profile


def test_other_methods_are_refused(world):
    assert logged_in(world["nora"]).put(URL).status_code == 405


# --- a client's zip ---------------------------------------------------------------------------


def test_the_zip_holds_each_file_and_each_parses(world):
    archive = download(world["nora"])
    assert set(archive.namelist()) == BASE_FILES
    assert archive.testzip() is None
    for name in BASE_FILES - {"README.txt", "bookings.csv", "bookings.ics"}:
        read_json(archive, name)
    rows = list(csv.DictReader(io.StringIO(archive.read("bookings.csv").decode())))
    assert [row["reference"] for row in rows] == [world["kept"].reference, world["dropped"].reference]
    assert rows[0]["your_notes"] == MINE and rows[0]["coach"] == "Carl Coach"
    assert "cancelled" in rows[1]["history"]
    calendar = Calendar.from_ical(archive.read("bookings.ics"))
    events = calendar.walk("VEVENT")
    assert {str(event["uid"]).split("@")[0] for event in events} == {
        f"booking-{world['kept'].pk}",
        f"booking-{world['dropped'].pk}",
    }
    assert {event.decoded("dtstart").astimezone(UTC) for event in events} == {START, START + dt.timedelta(days=1)}
    assert [str(zone["tzid"]) for zone in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]  # Nora's zone
    readme = archive.read("README.txt").decode()
    for name in BASE_FILES - {"README.txt"}:
        assert name in readme


def test_the_account_holds_the_person_and_their_notification_choices(world):
    account = read_json(download(world["nora"]), "account.json")
    assert account["name"] == "Nora Client" and account["email"] == world["nora"].email
    assert account["phone"] == "+33612345678" and account["time_zone"] == "Europe/Paris"
    assert account["role"] == "client" and account["date_joined"]
    assert Kind.CONFIRMED in account["notification_preferences"]["channels"]


def test_the_bookings_hold_the_persons_own_with_their_history(world):
    bookings = read_json(download(world["nora"]), "bookings.json")
    kept, dropped = bookings
    assert kept["reference"] == world["kept"].reference
    assert kept["your_notes"] == MINE and kept["session_type"] == "Career consultation"
    assert kept["start_utc"] == START.isoformat() and kept["end_utc"] == (START + dt.timedelta(hours=1)).isoformat()
    assert [event["action"] for event in kept["history"]] == list(
        world["kept"].events.order_by("created_at", "pk").values_list("action", flat=True)
    )
    assert kept["history"] and kept["history"][0]["to_status"] == world["kept"].events.first().to_status
    assert dropped["status"] == "cancelled" and dropped["cancellation_reason"] == "Changed my plans"
    assert dropped["history"][-1]["to_status"] == "cancelled" and dropped["history"][-1]["by"] == "Nora Client"
    assert "data" not in kept["history"][0]  # the product's bookkeeping stays out


def test_payments_and_notifications_are_the_persons_own(world):
    archive = download(world["nora"])
    money = read_json(archive, "payments.json")
    assert [(p["booking"], p["amount_minor"], p["status"]) for p in money["payments"]] == [
        (world["kept"].reference, 5000, "paid")
    ]
    assert money["payments"][0]["refunds"][0]["amount_minor"] == 1000
    assert money["credits"] == []
    messages = read_json(archive, "notifications.json")
    assert [(m["title"], m["deliveries"]) for m in messages if m["title"] == "Your booking is confirmed"] == [
        ("Your booking is confirmed", [{"channel": "email", "status": "sent", "sent_at": None}])
    ]
    assert all(
        Notification.objects.get(title=m["title"], created_at=m["created_at"]).recipient_id == world["nora"].pk
        for m in messages
    )


def test_nothing_of_another_client_is_in_the_zip(world, settings):
    settings.PRIVACY_EXPORT_COACH_NOTES = True
    text = everything(download(world["nora"]))
    olga = world["olga"]
    for leak in (olga.name, olga.email, world["theirs"].reference, THEIRS, NOTE_ABOUT_OLGA, "7777", "Olga's booking"):
        assert leak not in text


# --- coaches' notes about the person ------------------------------------------------------------


def test_coach_notes_are_left_out_by_default(world):
    archive = download(world["nora"])
    assert "coach_notes.json" not in archive.namelist()
    assert NOTE_ABOUT_NORA not in everything(archive)


def test_coach_notes_about_the_person_are_in_with_the_setting(world, settings):
    settings.PRIVACY_EXPORT_COACH_NOTES = True
    archive = download(world["nora"])
    assert "coach_notes.json" in archive.namelist() and "coach_notes.json" in archive.read("README.txt").decode()
    assert read_json(archive, "coach_notes.json") == [
        {
            "coach": "Carl Coach",
            "booking": world["kept"].reference,
            "text": NOTE_ABOUT_NORA,
            "created_at": NOW.isoformat(),
            "updated_at": NOW.isoformat(),
        }
    ]
    assert "coach_notes.json" in logged_in(world["nora"]).get(URL).content.decode()


# --- a coach's zip ---------------------------------------------------------------------------------


def test_a_coach_gets_their_hosted_sessions_with_client_names_only_and_their_notes(world):
    archive = download(world["coach"])
    assert set(archive.namelist()) == BASE_FILES | {"hosted_sessions.json", "hosted_sessions.csv", "notes_written.json"}
    hosted = read_json(archive, "hosted_sessions.json")
    assert [(row["reference"], row["client"]) for row in hosted] == [
        (world["kept"].reference, "Nora Client"),
        (world["theirs"].reference, "Olga Other"),
        (world["dropped"].reference, "Nora Client"),
    ]
    assert set(hosted[0]) == {"reference", "status", "session_type", "start_utc", "end_utc", "client"}
    rows = list(csv.DictReader(io.StringIO(archive.read("hosted_sessions.csv").decode())))
    assert [row["reference"] for row in rows] == [row["reference"] for row in hosted]
    written = read_json(archive, "notes_written.json")
    assert {(note["client"], note["text"]) for note in written} == {
        ("Nora Client", NOTE_ABOUT_NORA),
        ("Olga Other", NOTE_ABOUT_OLGA),
    }
    text = everything(archive)
    # The clients' contact details, notes and payments are theirs, not the coach's.
    for leak in (world["nora"].email, world["olga"].email, "+33612345678", MINE, THEIRS, "7777"):
        assert leak not in text
    assert read_json(archive, "bookings.json") == []  # they booked nothing as a client
    assert Calendar.from_ical(archive.read("bookings.ics")).walk("VEVENT") == []


def test_staff_download_only_their_own_data(world):
    staff = StaffFactory(name="Stella Staff")
    archive = download(staff)
    assert read_json(archive, "account.json")["email"] == staff.email
    assert read_json(archive, "bookings.json") == []
    text = everything(archive)
    assert world["nora"].email not in text and world["kept"].reference not in text
    # The page takes no one's id: asking for someone else's gives one's own.
    response = logged_in(staff).post(URL + f"?user={world['nora'].pk}", {"user": world["nora"].pk})
    assert world["nora"].email not in everything(zipfile.ZipFile(io.BytesIO(response.content)))


# --- cost -----------------------------------------------------------------------------------------


def _queries_for(user) -> int:
    http = logged_in(user)
    http.get(URL)  # the session and the user are read once, as on any page
    with CaptureQueriesContext(connection) as queries:
        assert http.post(URL).status_code == 200
    return len(queries)


def _client_with_bookings(session_type, count: int, *, hour: int):
    client = ClientFactory()
    for day in range(count):
        start = START.replace(hour=hour) + dt.timedelta(days=day)
        booking = services.book_slot(client=client, session_type=session_type, start=start)
        Payment.objects.create(
            client=client, booking=booking, backend=Backend.LOCAL, amount_minor=100, currency="EUR", status="paid"
        )
        _notify(client, f"Message {day}")
    services.cancel(booking=Booking.objects.filter(client=client).first(), actor=client)
    return client


def test_the_number_of_queries_does_not_grow_with_the_bookings(world, settings):
    settings.PRIVACY_EXPORT_COACH_NOTES = True
    session_type = SessionTypeFactory(coach=world["coach"], title="Short talk")
    few = _client_with_bookings(session_type, 2, hour=12)
    many = _client_with_bookings(session_type, 10, hour=14)
    Refund.objects.bulk_create(
        Refund(payment=payment, amount_minor=10, currency="EUR", reason="x", status=RefundStatus.SUCCEEDED)
        for payment in Payment.objects.filter(client=many)
    )
    assert len(read_json(download(many), "bookings.json")) == 10
    assert _queries_for(many) == _queries_for(few)
