"""Who reads intake answers: the client who answered, the coach of their booking, and staff
only with ``intake.view_intake_answers`` — every such read logged and shown to the client.
A stranger, another coach and plain staff are refused on every path: the pages, the
booking's page, a file's download, the API, the admin, the reports' CSV export."""

from __future__ import annotations

import json

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.tests.factories import ClientFactory, CoachFactory, StaffFactory
from bookings.models import Booking
from bookings.tests.factories import SessionTypeFactory, open_coach
from conftest import logged_in
from intake.models import AnswerRead, IntakeFile, IntakeResponse
from intake.tests.forms_helpers import NOW, api, book, confirm_url, make_form, page, question

pytestmark = pytest.mark.django_db

SECRET = "Fear of flying since 2011"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def answered():
    """A client booked after answering: a text and a file."""
    coach = open_coach()
    consult = SessionTypeFactory(coach=coach, price=0)
    form = make_form(
        coach,
        "Welcome",
        [("You", [{"kind": "long_text", "label": "Worries"}, {"kind": "file", "label": "Letter"}])],
        session_type=consult,
    )
    client = ClientFactory(name="Nia Client")
    http = logged_in(client)
    location = http.get(confirm_url(consult)).url
    letter = SimpleUploadedFile("letter.pdf", b"%PDF secret letter", content_type="application/pdf")
    done = http.post(location, {question(form, "Worries").pk: SECRET, question(form, "Letter").pk: letter})
    assert done.status_code == 302
    assert book(http, consult).status_code == 303
    return {
        "coach": coach,
        "client": client,
        "booking": Booking.objects.get(),
        "response": IntakeResponse.objects.get(),
        "file": IntakeFile.objects.get(),
    }


def staff_with_permission():
    staff = StaffFactory(name="Sam Staff")
    staff.user_permissions.add(Permission.objects.get(codename="view_intake_answers"))
    return staff


def paths(answered) -> dict[str, str]:
    return {
        "answers": reverse("intake_answers", args=[answered["response"].pk]),
        "file": reverse("intake_file", args=[answered["file"].pk]),
        "api": f"/api/v1/intake/responses/{answered['response'].pk}",
    }


@pytest.mark.parametrize("who", ["stranger", "other_coach", "plain_staff"])
def test_every_path_is_refused(answered, who):
    viewer = {"stranger": ClientFactory, "other_coach": CoachFactory, "plain_staff": StaffFactory}[who]()
    http = logged_in(viewer)
    found = paths(answered)
    assert http.get(found["answers"]).status_code == 404
    assert http.get(found["file"]).status_code == 404
    assert api(viewer).get(found["api"]).status_code == 404
    booking_page = http.get(reverse("booking_detail", args=[answered["booking"].reference]))
    assert SECRET not in page(booking_page) and "letter.pdf" not in page(booking_page)
    assert 'data-testid="intake-answers"' not in page(booking_page)
    assert SECRET not in page(http.get(reverse("my_answers")))
    assert not AnswerRead.objects.exists()


def test_the_admin_has_no_answers_even_for_a_superuser(answered, admin_user):
    http = logged_in(admin_user)
    assert http.get("/admin/intake/intakeresponse/").status_code == 404
    assert http.get("/admin/intake/intakefile/").status_code == 404
    assert http.get("/admin/intake/answerread/").status_code == 404
    assert SECRET not in page(http.get("/admin/"))


def test_the_reports_export_has_no_answers(answered):
    staff = staff_with_permission()
    response = logged_in(staff).get(reverse("reports_bookings_csv"))
    assert response.status_code in (200, 302, 403, 404)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert SECRET.encode() not in body and b"letter.pdf" not in body


def test_the_client_reads_their_answers_and_downloads_their_file(answered):
    http = logged_in(answered["client"])
    mine = page(http.get(reverse("my_answers")))
    assert SECRET in mine and "letter.pdf" in mine
    download = http.get(paths(answered)["file"])
    assert download.status_code == 200 and download.content == b"%PDF secret letter"
    assert "attachment" in download["Content-Disposition"]
    assert http.get(paths(answered)["answers"]).status_code == 200
    assert api(answered["client"]).get(paths(answered)["api"]).status_code == 200
    assert not AnswerRead.objects.exists()  # only staff reads are logged


def test_the_coach_reads_them_on_the_booking_and_the_clients_page(answered):
    http = logged_in(answered["coach"])
    booking_page = page(http.get(reverse("booking_detail", args=[answered["booking"].reference])))
    assert 'data-testid="intake-answers"' in booking_page and SECRET in booking_page
    client_page = page(http.get(reverse("client_notes", args=[answered["client"].pk])))
    assert SECRET in client_page
    assert http.get(paths(answered)["file"]).content == b"%PDF secret letter"
    body = api(answered["coach"]).get(paths(answered)["api"]).json()
    assert any(item["value"] == SECRET for item in body["answers"])
    assert not AnswerRead.objects.exists()


def test_staff_with_the_permission_read_and_every_read_is_logged_and_shown(answered):
    staff = staff_with_permission()
    http = logged_in(staff)
    booking_page = page(http.get(reverse("booking_detail", args=[answered["booking"].reference])))
    assert SECRET not in booking_page  # links only: reading is a logged step
    assert 'data-testid="staff-answers-link"' in booking_page
    assert not AnswerRead.objects.exists()
    read = http.get(paths(answered)["answers"])
    assert read.status_code == 200 and SECRET in page(read)
    assert http.get(paths(answered)["file"]).status_code == 200
    assert api(staff).get(paths(answered)["api"]).status_code == 200
    reads = list(AnswerRead.objects.order_by("pk"))
    assert len(reads) == 3
    assert all(r.reader == staff and r.response == answered["response"] for r in reads)
    assert reads[1].file == answered["file"]
    # The client sees who read what, and when.
    mine = page(logged_in(answered["client"]).get(reverse("my_answers")))
    assert mine.count('data-testid="staff-read"') == 3 and "Sam Staff" in mine


def test_the_booking_api_never_carries_answers(answered):
    for viewer in (answered["coach"], answered["client"]):
        body = api(viewer).get(f"/api/v1/bookings/{answered['booking'].reference}")
        assert body.status_code == 200
        assert SECRET not in json.dumps(body.json())


def test_download_my_data_holds_the_answers_files_and_consents(answered):
    import io
    import zipfile

    from intake import consents

    version = consents.create_document(actor=answered["coach"], kind="terms", title="Terms", body="Be on time.")
    consents.accept_versions(
        client=answered["client"],
        versions=[version.versions.get()],
        by=answered["client"],
        address="203.0.113.9",
    )
    zipped = logged_in(answered["client"]).post(reverse("my_data"))
    assert zipped.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(zipped.content))
    names = archive.namelist()
    exported = json.loads(archive.read("intake_answers.json"))
    assert exported[0]["form"] == "Welcome" and any(item["answer"] == SECRET for item in exported[0]["answers"])
    (letter,) = [name for name in names if name.startswith("intake_files/")]
    assert archive.read(letter) == b"%PDF secret letter"
    (record,) = json.loads(archive.read("consents.json"))
    assert record["document"] == "Terms" and record["address"] == "203.0.113.9"
    assert "intake_answers.json" in archive.read("README.txt").decode()
    # The coach's own download holds none of the client's answers.
    coach_zip = zipfile.ZipFile(io.BytesIO(logged_in(answered["coach"]).post(reverse("my_data")).content))
    assert all(SECRET.encode() not in coach_zip.read(name) for name in coach_zip.namelist())
    assert not [name for name in coach_zip.namelist() if name.startswith("intake_files/")]
