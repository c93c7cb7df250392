"""The coach's and staff's money pages: payments (a coach sees their own, staff all) with
filters and totals per currency; packages and programmes made and changed through their
services; enrolling a client (a coach: their connected clients) and ending an enrollment."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import ConnectionStatus
from accounts.tests.factories import ClientFactory, CoachFactory, ConnectionFactory, StaffFactory
from bookings.models import Enrollment, EnrollmentSource, Programme
from bookings.tests.factories import SessionTypeFactory
from conftest import logged_in
from payments.models import Backend, Package, Payment, PaymentStatus, Refund, RefundStatus

pytestmark = pytest.mark.django_db


def paid(package, *, amount_minor, currency="EUR", status=PaymentStatus.PAID):
    return Payment.objects.create(
        client=ClientFactory(),
        package=package,
        backend=Backend.LOCAL,
        amount_minor=amount_minor,
        currency=currency,
        status=status,
    )


@pytest.fixture
def two_coaches():
    mine, theirs = CoachFactory(name="Mia Mine"), CoachFactory(name="Theo Theirs")
    my_package = Package.objects.create(coach=mine, title="Mine ten", credits=10, price_minor=45000)
    their_package = Package.objects.create(coach=theirs, title="Their five", credits=5, price_minor=2000)
    return mine, theirs, my_package, their_package


def rows(response):
    return sorted(
        int(pk) for pk in re.findall(r'data-testid="payment-row" data-payment-id="(\d+)"', response.content.decode())
    )


def test_a_coach_sees_only_the_payments_for_their_own(two_coaches):
    mine, _theirs, my_package, their_package = two_coaches
    a = paid(my_package, amount_minor=45000)
    b = paid(their_package, amount_minor=2000)
    assert rows(logged_in(mine).get(reverse("payments:list"))) == [a.pk]
    assert rows(logged_in(StaffFactory()).get(reverse("payments:list"))) == sorted([a.pk, b.pk])


def test_clients_may_not_open_the_coach_pages():
    browser = logged_in(ClientFactory())
    for name in ("payments:list", "payments:manage_packages", "payments:manage_programmes", "payments:package_create"):
        assert browser.get(reverse(name)).status_code == 403


def test_filters_and_totals_per_currency(two_coaches):
    mine, _theirs, my_package, _their = two_coaches
    eur = paid(my_package, amount_minor=45000)
    Refund.objects.create(payment=eur, amount_minor=5000, reason="Goodwill", status=RefundStatus.SUCCEEDED)
    paid(my_package, amount_minor=1500, currency="JPY")
    failed = paid(my_package, amount_minor=700, status=PaymentStatus.FAILED)
    browser = logged_in(mine)
    page = browser.get(reverse("payments:list")).content.decode()
    assert "450.00 EUR" in page and "50.00 EUR" in page and "400.00 EUR" in page and "1500 JPY" in page
    only_failed = browser.get(reverse("payments:list"), {"status": "failed"})
    assert rows(only_failed) == [failed.pk]
    today = dt.date.today()
    future = browser.get(reverse("payments:list"), {"date_from": (today + dt.timedelta(days=3)).isoformat()})
    assert rows(future) == []


def test_bad_filters_are_a_message_not_an_error(two_coaches):
    browser = logged_in(two_coaches[0])
    for query in (
        {"status": "nope"},
        {"date_from": "yesterday"},
        {"date_from": "2026-05-02", "date_to": "2026-05-01"},
        {"page": "x"},
    ):
        response = browser.get(reverse("payments:list"), query)
        assert response.status_code == 200
    bad = browser.get(reverse("payments:list"), {"date_from": "2026-05-02", "date_to": "2026-05-01"})
    assert b"The end date is before the start date." in bad.content


def test_a_coach_makes_edits_and_stops_offering_a_package(two_coaches):
    mine, _theirs, _mp, their_package = two_coaches
    kind = SessionTypeFactory(coach=mine)
    browser = logged_in(mine)
    made = browser.post(
        reverse("payments:package_create"),
        {
            "title": "Five",
            "credits": "5",
            "price": "99.50",
            "currency": "eur",
            "validity_days": "90",
            "session_types": [kind.pk],
            "is_active": "on",
        },
    )
    assert made.status_code == 302
    package = Package.objects.get(title="Five")
    assert (package.coach, package.price_minor, package.currency, list(package.session_types.all())) == (
        mine,
        9950,
        "EUR",
        [kind],
    )
    edit = reverse("payments:package_edit", args=[package.pk])
    assert b"99.50" in browser.get(edit).content
    browser.post(
        edit,
        {
            "title": "Five+",
            "credits": "6",
            "price": "99.50",
            "currency": "EUR",
            "validity_days": "90",
            "is_active": "on",
        },
    )
    package.refresh_from_db()
    assert (package.title, package.credits) == ("Five+", 6)
    browser.post(edit, {"deactivate": "1"})
    package.refresh_from_db()
    assert not package.is_active
    assert browser.get(reverse("payments:package_edit", args=[their_package.pk])).status_code == 404
    assert (
        browser.post(reverse("payments:package_edit", args=[their_package.pk]), {"deactivate": "1"}).status_code == 404
    )


def test_package_refusals_show_on_the_form(two_coaches):
    mine = two_coaches[0]
    other_type = SessionTypeFactory()
    browser = logged_in(mine)
    refused = browser.post(
        reverse("payments:package_create"),
        {"title": "Five", "credits": "0", "price": "9.999", "currency": "EUR", "validity_days": "90"},
    )
    assert refused.status_code == 200
    form = refused.context["form"]
    assert set(form.errors) >= {"credits", "price"}
    wrong_type = browser.post(
        reverse("payments:package_create"),
        {
            "title": "Five",
            "credits": "5",
            "price": "9",
            "currency": "EUR",
            "validity_days": "90",
            "session_types": [other_type.pk],
        },
    )
    assert "session_types" in wrong_type.context["form"].errors
    bad_currency = browser.post(
        reverse("payments:package_create"),
        {"title": "Five", "credits": "5", "price": "9", "currency": "E1", "validity_days": "90"},
    )
    assert "3-letter" in str(bad_currency.context["form"].errors["currency"])
    assert not Package.objects.filter(title="Five").exists()


def test_staff_make_a_practice_wide_package():
    browser = logged_in(StaffFactory())
    browser.post(
        reverse("payments:package_create"),
        {
            "title": "Practice pass",
            "credits": "3",
            "price": "30",
            "currency": "EUR",
            "validity_days": "30",
            "is_active": "on",
        },
    )
    assert Package.objects.get(title="Practice pass").coach is None


def test_a_coach_makes_a_programme_enrolls_a_connected_client_and_ends_it():
    coach = CoachFactory()
    kind = SessionTypeFactory(coach=coach, requires_enrollment=True)
    browser = logged_in(coach)
    made = browser.post(
        reverse("payments:programme_create"),
        {
            "title": "Spring",
            "session_types": [kind.pk],
            "allowance": "4",
            "price": "0",
            "currency": "EUR",
            "validity_days": "60",
            "is_active": "on",
        },
    )
    assert made.status_code == 302
    course = Programme.objects.get(title="Spring")
    assert (course.coach, course.allowance, course.price) == (coach, 4, Decimal("0.00"))

    connected = ClientFactory(name="Connie Connected")
    ConnectionFactory(client=connected, coach=coach, status=ConnectionStatus.ACCEPTED)
    stranger = ClientFactory(name="Stan Stranger")
    page = browser.get(reverse("payments:programme_edit", args=[course.pk])).content.decode()
    assert "Connie Connected" in page and "Stan Stranger" not in page

    refused = browser.post(reverse("payments:enroll_client", args=[course.pk]), {"client": stranger.pk})
    assert refused.status_code == 400 and not Enrollment.objects.exists()
    browser.post(reverse("payments:enroll_client", args=[course.pk]), {"client": connected.pk})
    enrollment = Enrollment.objects.get(client=connected, programme=course)
    assert (enrollment.source, enrollment.enrolled_by) == (EnrollmentSource.COACH, coach)
    twice = browser.post(reverse("payments:enroll_client", args=[course.pk]), {"client": connected.pk})
    assert twice.status_code == 400 and b"already enrolled" in twice.content

    browser.post(reverse("payments:end_enrollment", args=[enrollment.pk]))
    enrollment.refresh_from_db()
    assert enrollment.ended_at is not None


def test_a_coach_cannot_touch_another_coachs_programme_or_enrollment():
    theirs = Programme.objects.create(coach=CoachFactory(), title="Theirs")
    enrollment = Enrollment.objects.create(
        client=ClientFactory(), programme=theirs, source=EnrollmentSource.STAFF, starts_at=dt.datetime.now(dt.UTC)
    )
    browser = logged_in(CoachFactory())
    assert browser.get(reverse("payments:programme_edit", args=[theirs.pk])).status_code == 404
    assert browser.post(reverse("payments:enroll_client", args=[theirs.pk]), {"client": "1"}).status_code == 404
    assert browser.post(reverse("payments:end_enrollment", args=[enrollment.pk])).status_code == 404
    enrollment.refresh_from_db()
    assert enrollment.ended_at is None


def test_staff_enroll_anyone_in_a_practice_programme():
    course = Programme.objects.create(title="Practice course")
    course.session_types.set([SessionTypeFactory()])
    staff, client = StaffFactory(), ClientFactory()
    response = logged_in(staff).post(reverse("payments:enroll_client", args=[course.pk]), {"client": client.pk})
    assert response.status_code == 302
    assert Enrollment.objects.get(client=client).source == EnrollmentSource.STAFF
    bad = logged_in(staff).post(reverse("payments:enroll_client", args=[course.pk]), {"client": "abc"})
    assert bad.status_code == 400


def test_programme_refusals_show_on_the_form():
    coach = CoachFactory()
    browser = logged_in(coach)
    refused = browser.post(
        reverse("payments:programme_create"),
        {
            "title": "Spring",
            "session_types": [SessionTypeFactory().pk],
            "allowance": "4",
            "price": "0",
            "currency": "EUR",
            "validity_days": "60",
        },
    )
    assert refused.status_code == 200 and "session_types" in refused.context["form"].errors
    assert not Programme.objects.exists()
