"""The client's money pages: payments & credits (their own only), receipts, buying a package
through the local test gateway (the credits arrive with the gateway's event), and enrolling
in a free or a priced programme."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import ClientFactory, CoachFactory, StaffFactory
from bookings import services
from bookings.models import Enrollment, EnrollmentSource, Programme
from bookings.services.enrollment import enroll
from bookings.tests.factories import SessionTypeFactory, open_coach
from conftest import logged_in
from payments import credits, local
from payments.models import Backend, CreditKind, Package, Payment, PaymentStatus, Refund

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def payments_on(settings):
    settings.ENABLE_PAYMENT_GATEWAY = True
    settings.PAYMENT_BACKEND = "local"


def paid_package_payment(client, *, amount_minor=4500, title="Five sessions"):
    package = Package.objects.create(title=title, credits=5, price_minor=amount_minor, currency="EUR")
    return Payment.objects.create(
        client=client,
        package=package,
        backend=Backend.LOCAL,
        amount_minor=amount_minor,
        currency="EUR",
        status=PaymentStatus.PAID,
    )


def programme(*, price="0.00", **fields):
    session_type = fields.pop("session_type", None) or SessionTypeFactory(requires_enrollment=True)
    made = Programme.objects.create(
        title=fields.pop("title", "Ten-week course"), allowance=3, price=Decimal(price), currency="EUR", **fields
    )
    made.session_types.set([session_type])
    return made


# Payments & credits ----------------------------------------------------------------------


def test_the_page_shows_the_clients_credits_ledger_enrollments_and_payments():
    client = ClientFactory()
    payment = paid_package_payment(client)
    Refund.objects.create(payment=payment, amount_minor=1000, reason="Goodwill")
    credits.grant(client, credits=5, package=payment.package)
    credits.spend(client)
    enroll(client=client, programme=programme(title="Spring course"), actor=None, source=EnrollmentSource.PURCHASE)

    page = logged_in(client).get(reverse("payments:mine"))

    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="balance">4<' in html
    assert [row["kind"] for row in ledger_kinds(html)] == ["spend", "grant"]
    assert "Spring course" in html and "3 / 3" in html
    assert "45.00 EUR" in html and "10.00 EUR · Requested" in html
    assert reverse("payments:receipt", args=[payment.pk]) in html


def ledger_kinds(html):
    return [{"kind": kind} for kind in re.findall(r'data-testid="ledger-row" data-kind="(\w+)"', html)]


def test_a_client_sees_only_their_own_payments_and_receipts():
    mine, theirs = ClientFactory(), ClientFactory()
    other = paid_package_payment(theirs, amount_minor=9900, title="Other's package")
    browser = logged_in(mine)
    page = browser.get(reverse("payments:mine"))
    assert "Other&#x27;s package" not in page.content.decode() and "99.00 EUR" not in page.content.decode()
    assert browser.get(reverse("payments:receipt", args=[other.pk])).status_code == 404
    assert logged_in(theirs).get(reverse("payments:receipt", args=[other.pk])).status_code == 200
    assert logged_in(StaffFactory()).get(reverse("payments:receipt", args=[other.pk])).status_code == 200


def test_the_pages_ask_to_sign_in():
    for name in ("payments:mine", "payments:packages", "payments:programmes"):
        response = logged_in(ClientFactory()).get(reverse(name))
        assert response.status_code == 200
        assert Client().get(reverse(name)).status_code == 302


def test_a_receipt_names_the_amount_reference_and_the_refund_policy():
    with time_machine.travel(dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC), tick=False):
        session_type = SessionTypeFactory(
            coach=open_coach(),
            price=Decimal("60.00"),
            currency="EUR",
            cancellation_notice_hours=24,
            allow_late_cancellation=True,
            late_cancellation_refund_percent=50,
        )
        client = ClientFactory()
        booking = services.book_slot(
            client=client, session_type=session_type, start=dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)
        )
        browser = logged_in(client)
        checkout = browser.get(reverse("payments:pay", args=[booking.reference]))["Location"]
        browser.post(checkout, {"step": "card", "card": "4242 4242 4242 4242"})
        payment = Payment.objects.get(booking=booking)
        page = browser.get(reverse("payments:receipt", args=[payment.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "60.00 EUR" in html and booking.reference in html and "Receipt" in html
    assert "Cancel at least 24 hours before the session for a full refund" in html
    assert "50% of what you paid comes back" in html


# Packages ---------------------------------------------------------------------------------


def test_buying_a_package_through_the_local_gateway_grants_its_credits():
    coach = CoachFactory()
    package = Package.objects.create(coach=coach, title="Ten sessions", credits=10, price_minor=45000, currency="EUR")
    Package.objects.create(title="Retired", credits=2, price_minor=100, is_active=False)
    client = ClientFactory()
    browser = logged_in(client)

    listing = browser.get(reverse("payments:packages"), {"coach": coach.pk})
    assert listing.status_code == 200
    assert b"Ten sessions" in listing.content and b"450.00 EUR" in listing.content
    assert b"Retired" not in listing.content

    bought = browser.post(reverse("payments:buy_package", args=[package.pk]))
    assert bought.status_code == 302 and "/payments/local/" in bought["Location"]
    assert credits.balance(client) == 0
    paid = browser.post(bought["Location"], {"step": "card", "card": "4242 4242 4242 4242"})
    assert paid.status_code == 302

    payment = Payment.objects.get(client=client, package=package)
    assert payment.status == PaymentStatus.PAID and payment.amount_minor == 45000
    assert credits.balance(client) == 10
    grant = client.credit_entries.get(kind=CreditKind.GRANT)
    assert grant.package == package and grant.expires_at is not None
    assert b'data-testid="balance">10<' in browser.get(reverse("payments:mine")).content


def test_a_declined_card_grants_nothing():
    package = Package.objects.create(title="Five", credits=5, price_minor=4500)
    client = ClientFactory()
    browser = logged_in(client)
    checkout = browser.post(reverse("payments:buy_package", args=[package.pk]))["Location"]
    browser.post(checkout, {"step": "card", "card": local.CARD_DECLINED})
    assert credits.balance(client) == 0


def test_bad_package_requests_get_a_page_not_an_error():
    retired = Package.objects.create(title="Retired", credits=2, price_minor=100, is_active=False)
    browser = logged_in(ClientFactory())
    refused = browser.post(reverse("payments:buy_package", args=[retired.pk]))
    assert refused.status_code == 409 and b"no longer offered" in refused.content
    assert browser.post(reverse("payments:buy_package", args=[999999])).status_code == 404
    assert browser.get(reverse("payments:buy_package", args=[retired.pk])).status_code == 405
    for coach in ("abc", "-1", "99999999999999999999999", ""):
        assert browser.get(reverse("payments:packages"), {"coach": coach}).status_code == 200
    coach_refused = logged_in(CoachFactory()).post(
        reverse("payments:buy_package", args=[Package.objects.create(title="x", credits=1, price_minor=1).pk])
    )
    assert coach_refused.status_code == 403


# Programmes -------------------------------------------------------------------------------


def test_enrolling_in_a_free_programme_is_at_once():
    course = programme()
    session_type = course.session_types.get()
    client = ClientFactory()
    browser = logged_in(client)
    listing = browser.get(reverse("payments:programmes"), {"type": session_type.pk})
    assert b"Ten-week course" in listing.content and b"Free" in listing.content

    done = browser.post(reverse("payments:enroll", args=[course.pk]), {"type": session_type.pk})
    assert done.status_code == 302 and done["Location"].endswith(f"?type={session_type.pk}")
    enrollment = Enrollment.objects.get(client=client, programme=course)
    assert (enrollment.source, enrollment.enrolled_by) == (EnrollmentSource.PURCHASE, client)
    again = browser.get(done["Location"])
    assert b"You are enrolled (3 sessions left)." in again.content

    twice = browser.post(reverse("payments:enroll", args=[course.pk]))
    assert twice.status_code == 409 and b"already enrolled" in twice.content


def test_the_type_filter_shows_only_programmes_that_include_it():
    course = programme(title="Includes it")
    programme(title="Something else")
    listing = logged_in(ClientFactory()).get(reverse("payments:programmes"), {"type": course.session_types.get().pk})
    assert b"Includes it" in listing.content and b"Something else" not in listing.content


def test_a_priced_programme_is_paid_at_the_gateway_then_the_client_is_enrolled():
    course = programme(price="120.00")
    client = ClientFactory()
    browser = logged_in(client)
    assert b"120.00 EUR" in browser.get(reverse("payments:programmes")).content
    started = browser.post(reverse("payments:enroll", args=[course.pk]))
    assert started.status_code == 302 and "/payments/local/" in started["Location"]
    assert not Enrollment.objects.filter(client=client).exists()
    browser.post(started["Location"], {"step": "card", "card": "4242424242424242"})
    assert Payment.objects.get(programme=course).status == PaymentStatus.PAID
    assert Enrollment.objects.get(client=client, programme=course).source == EnrollmentSource.PURCHASE


def test_a_closed_programme_refuses_with_a_page():
    course = programme(is_active=False)
    refused = logged_in(ClientFactory()).post(reverse("payments:enroll", args=[course.pk]))
    assert refused.status_code == 409 and b"not open for enrollment" in refused.content
