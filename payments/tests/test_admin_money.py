"""The money back office: a payment's refund form (the amount in its currency, through the
refund service; a refusal is a message, never an error page) and the refund then sent;
promotion codes, programmes and enrollments written through their services."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib import admin
from django.urls import reverse

from accounts.tests.factories import ClientFactory
from bookings.models import Enrollment, EnrollmentSource, Programme, PromoCode
from bookings.tests.factories import SessionTypeFactory
from payments import services
from payments.models import Backend, Package, Payment, PaymentStatus, Refund, RefundStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_payment():
    package = Package.objects.create(title="Ten sessions", credits=10, price_minor=45000)
    return Payment.objects.create(
        client=ClientFactory(),
        package=package,
        backend=Backend.LOCAL,
        amount_minor=45000,
        currency="EUR",
        checkout_id="cs_local_1",
        status=PaymentStatus.PAID,
    )


def refund_url(payment):
    return reverse("admin:payments_payment_refund", args=[payment.pk])


def messages_of(response):
    return [str(message) for message in response.context["messages"]] if response.context else []


@pytest.mark.parametrize("role", ["admin", "staff"])
def test_a_refund_goes_through_the_service_then_is_sent(as_role, paid_payment, role, staff_user, admin_user):
    http = as_role(role)
    page = http.get(refund_url(paid_payment))
    assert page.status_code == 200 and b"450.00 EUR" in page.content

    done = http.post(refund_url(paid_payment), {"amount": "12.50", "reason": "Goodwill"}, follow=True)

    assert "A refund of 12.50 EUR was asked of the payment provider." in messages_of(done)
    refund = Refund.objects.get(payment=paid_payment)
    assert (refund.amount_minor, refund.reason) == (1250, "Goodwill")
    assert refund.currency == paid_payment.currency == "EUR"  # kept for the reports
    assert refund.requested_by == {"admin": admin_user, "staff": staff_user}[role]
    services.send_pending()
    refund.refresh_from_db()
    paid_payment.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED and refund.gateway_refund_id
    assert paid_payment.status == PaymentStatus.PARTIALLY_REFUNDED


def test_too_much_is_a_message_not_an_error(as_role, paid_payment):
    response = as_role("staff").post(refund_url(paid_payment), {"amount": "450.01", "reason": "Too much"})
    assert response.status_code == 200
    assert "At most 450.00 EUR can still be refunded." in messages_of(response)
    assert not Refund.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"amount": "abc", "reason": "x"},
        {"amount": "-1", "reason": "x"},
        {"amount": "1.001", "reason": "x"},
        {"amount": "1", "reason": ""},
        {"amount": "1e400", "reason": "x"},
    ],
)
def test_bad_input_shows_on_the_form(as_role, paid_payment, data):
    response = as_role("staff").post(refund_url(paid_payment), data)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Refund.objects.exists()


def test_an_unpaid_payment_has_nothing_to_refund(as_role, paid_payment):
    Payment.objects.filter(pk=paid_payment.pk).update(status=PaymentStatus.PENDING)
    response = as_role("staff").post(refund_url(paid_payment), {"amount": "1", "reason": "x"}, follow=True)
    assert "Nothing is left to refund on this payment." in messages_of(response)
    assert as_role("staff").get(reverse("admin:payments_payment_refund", args=[999999]), follow=True).status_code == 200


@pytest.mark.parametrize("role", ["client", "coach"])
def test_others_cannot_refund(as_role, paid_payment, role):
    response = as_role(role).post(refund_url(paid_payment), {"amount": "1", "reason": "x"})
    assert response.status_code == 302 and "/login" in response["Location"]
    assert not Refund.objects.exists()


def test_the_list_action_opens_the_refund_form_for_one_payment(as_role, paid_payment):
    http = as_role("staff")
    changelist = reverse("admin:payments_payment_changelist")
    one = http.post(changelist, {"action": "refund_action", "_selected_action": [paid_payment.pk]})
    assert one.status_code == 302 and one["Location"] == refund_url(paid_payment)
    assert b"Refund" in http.get(reverse("admin:payments_payment_change", args=[paid_payment.pk])).content


def test_the_money_models_are_registered():
    for model in (PromoCode, Programme, Enrollment):
        assert admin.site.is_registered(model)


def test_staff_make_a_promotion_code_through_the_service(as_role):
    http = as_role("staff")
    response = http.post(
        reverse("admin:bookings_promocode_add"),
        {
            "code": "spring 10",
            "description": "",
            "percent_off": "10",
            "amount_off": "",
            "currency": "",
            "valid_from_0": "",
            "valid_from_1": "",
            "valid_until_0": "",
            "valid_until_1": "",
            "max_uses": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    code = PromoCode.objects.get()
    assert (code.code, code.percent_off, code.times_used) == ("SPRING10", 10, 0)
    page = http.get(reverse("admin:bookings_promocode_change", args=[code.pk]))
    assert page.status_code == 200 and b'name="times_used"' not in page.content


def test_a_programme_with_another_coachs_type_is_refused_on_the_form(as_role, coach_user):
    theirs = SessionTypeFactory()
    response = as_role("staff").post(
        reverse("admin:bookings_programme_add"),
        {
            "coach": coach_user.pk,
            "title": "Course",
            "description": "",
            "allowance": "5",
            "price": "10.00",
            "currency": "EUR",
            "validity_days": "30",
            "is_active": "on",
            "session_types": [theirs.pk],
        },
    )
    assert response.status_code == 200
    assert "session_types" in response.context["adminform"].form.errors
    assert not Programme.objects.exists()


def test_staff_make_a_programme_and_enroll_a_client(as_role, coach_user, staff_user):
    mine = SessionTypeFactory(coach=coach_user)
    http = as_role("staff")
    made = http.post(
        reverse("admin:bookings_programme_add"),
        {
            "coach": coach_user.pk,
            "title": "Course",
            "description": "",
            "allowance": "5",
            "price": "10.00",
            "currency": "eur",
            "validity_days": "30",
            "is_active": "on",
            "session_types": [mine.pk],
        },
    )
    assert made.status_code == 302, made.context["adminform"].form.errors
    course = Programme.objects.get()
    assert (course.coach, course.currency, course.price) == (coach_user, "EUR", Decimal("10.00"))

    client = ClientFactory()
    enrolled = http.post(reverse("admin:bookings_enrollment_add"), {"client": client.pk, "programme": course.pk})
    assert enrolled.status_code == 302, enrolled.context["adminform"].form.errors
    enrollment = Enrollment.objects.get()
    assert (enrollment.source, enrollment.enrolled_by, enrollment.ends_at is not None) == (
        EnrollmentSource.STAFF,
        staff_user,
        True,
    )
    twice = http.post(reverse("admin:bookings_enrollment_add"), {"client": client.pk, "programme": course.pk})
    assert twice.status_code == 200 and b"already enrolled" in twice.content
    assert http.get(reverse("admin:bookings_enrollment_change", args=[enrollment.pk])).status_code == 200

    ended = http.post(
        reverse("admin:bookings_enrollment_changelist"),
        {"action": "end_selected", "_selected_action": [enrollment.pk]},
        follow=True,
    )
    assert "1 enrollment ended." in messages_of(ended)
    enrollment.refresh_from_db()
    assert enrollment.ended_at is not None
