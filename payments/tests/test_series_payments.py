"""A paid series (issue 17) with payments on: paid occurrence by occurrence. Each occurrence
is booked as the rules say (not held for payment), owes its price by ``balance_due_at``
(the type's balance_due_days before it starts, or at booking when that has passed), is paid from its page
like a balance, and a cancelled paid occurrence is refunded by its policy."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from accounts.models import Connection, ConnectionStatus
from accounts.tests.factories import ClientFactory
from bookings import relay
from bookings.models import Booking, BookingStatus
from bookings.services import series as series_services
from bookings.tests.factories import SessionTypeFactory, open_coach
from payments import local
from payments import services as payments
from payments.models import Refund

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")


@pytest.fixture(autouse=True)
def payments_on(settings):
    settings.RELAY_WAKE = False
    settings.ENABLE_PAYMENT_GATEWAY = True
    settings.PAYMENT_BACKEND = "local"


def _series(count=4):
    coach = open_coach(timezone="America/New_York", hours=(8, 18), booking_window_days=60, cancellation_notice_hours=0)
    session_type = SessionTypeFactory(coach=coach, price=Decimal("50.00"), currency="USD")
    client = ClientFactory(timezone="America/New_York")
    Connection.objects.create(client=client, coach=coach, status=ConnectionStatus.ACCEPTED)
    now = dt.datetime.now(dt.UTC)
    first = dt.datetime.combine((now + dt.timedelta(days=3)).astimezone(NY).date(), dt.time(10), tzinfo=NY)
    series, outcomes = series_services.book_series(
        client=client, session_type=session_type, start=first, count=count, now=now
    )
    return client, series, [outcome.booking for outcome in outcomes], now


def test_each_occurrence_owes_its_price_before_it_starts_not_held():
    _client, _series_row, bookings, now = _series()
    for booking in bookings:
        assert booking.status == BookingStatus.FIRM_BOOKED
        assert booking.price == Decimal("50.00")
        assert booking.balance_due_at == max(now, booking.session.start - dt.timedelta(days=7))
        assert payments.balance_minor(booking) == 5000


def test_paying_one_occurrence_settles_it_alone_and_its_cancellation_refunds_it():
    client, _series_row, bookings, _now = _series()
    payment = payments.checkout_for_balance(bookings[1], actor=client, base_url="http://testserver")
    assert payment.amount_minor == 5000
    local.complete(payment)
    relay.relay_pending()
    assert payments.balance_minor(Booking.objects.get(pk=bookings[1].pk)) == 0
    assert payments.balance_minor(Booking.objects.get(pk=bookings[2].pk)) == 5000
    series_services.cancel_series(series=_series_row, actor=client, scope="one", start=bookings[1].session.start)
    relay.relay_pending()
    refund = Refund.objects.get(payment=payment)
    assert refund.amount_minor == 5000


# Paying the rest of a series up front, at the type's series discount ---------------------


def _discounted(count=4, percent=10, late_percent=0, notice=0):
    client, series, bookings, now = _series(count)
    session_type = series.session_type
    session_type.series_discount_percent = percent
    session_type.allow_late_cancellation = True
    session_type.late_cancellation_refund_percent = late_percent
    session_type.cancellation_notice_hours = notice
    session_type.save()
    for booking in bookings:
        Booking.objects.filter(pk=booking.pk).update(late_refund_percent=late_percent)
    return client, series, bookings, now


def test_the_offer_covers_every_unpaid_session_at_the_discount():
    client, series, bookings, _now = _discounted(count=4, percent=10)
    paid_one = payments.checkout_for_balance(bookings[0], actor=client, base_url="http://testserver")
    local.complete(paid_one)
    offer = payments.series_offer(series)
    assert [b.pk for b in offer.bookings] == [b.pk for b in bookings[1:]]
    assert offer.shares == [4500, 4500, 4500]
    assert (offer.full_minor, offer.amount_minor, offer.saving_minor, offer.percent) == (15000, 13500, 1500, 10)


def test_each_share_is_rounded_down_so_the_discount_never_falls_short():
    _client, series, bookings, _now = _discounted(count=3, percent=33)
    offer = payments.series_offer(series)
    # 50.00 less 33 % is 33.50 exactly; 3 × 3350
    assert offer.shares == [3350, 3350, 3350]
    type_ = series.session_type
    type_.series_discount_percent = 7
    type_.save()
    offer = payments.series_offer(series)
    assert offer.shares == [4650] * 3  # 5000 × 93 % = 4650
    Booking.objects.filter(pk=bookings[0].pk).update(price=Decimal("33.33"))
    offer = payments.series_offer(series)
    assert offer.shares[0] == 3099  # 3333 × 93 % = 3099.69, down to 3099
    assert offer.full_minor == 3333 + 5000 + 5000


def test_paying_up_front_settles_every_covered_session_and_sends_one_receipt():
    from notifications.models import Kind, Notification

    client, series, bookings, _now = _discounted(count=4, percent=10)
    payment = payments.checkout_for_series(series, actor=client, base_url="http://testserver")
    assert payment.amount_minor == 18000 and payment.series_id == series.pk
    assert payment.kind == "series"
    assert sorted(payment.shares.values_list("booking_id", flat=True)) == sorted(b.pk for b in bookings)
    # Before the gateway's word, nothing is settled.
    assert payments.balance_minor(Booking.objects.get(pk=bookings[0].pk)) == 5000
    local.complete(payment)
    for booking in bookings:
        assert payments.balance_minor(Booking.objects.get(pk=booking.pk)) == 0
    assert payments.series_offer(series) is None
    receipts = Notification.objects.filter(recipient=client, kind=Kind.PAYMENT_RECEIVED)
    assert receipts.count() == 1
    assert "4 sessions of" in receipts.get().body


def test_an_open_checkout_is_reused_while_it_covers_the_same_sessions_and_replaced_when_not():
    client, series, bookings, _now = _discounted(count=4)
    first = payments.checkout_for_series(series, actor=client, base_url="http://testserver")
    assert payments.checkout_for_series(series, actor=client, base_url="http://testserver").pk == first.pk
    series_services.cancel_series(series=series, actor=client, scope="one", start=bookings[3].session.start)
    second = payments.checkout_for_series(series, actor=client, base_url="http://testserver")
    assert second.pk != first.pk and second.amount_minor == 3 * 4500
    first.refresh_from_db()
    assert first.pending_action == "expire"  # to be closed at the gateway after the commit


def test_nothing_to_pay_up_front_and_strangers_are_refused():
    from config.errors import DomainError, NotAllowed

    client, series, bookings, _now = _discounted(count=2)
    stranger = ClientFactory()
    with pytest.raises(NotAllowed):
        payments.checkout_for_series(series, actor=stranger, base_url="http://testserver")
    local.complete(payments.checkout_for_balance(bookings[0], actor=client, base_url="http://testserver"))
    with pytest.raises(DomainError) as refused:
        payments.checkout_for_series(series, actor=client, base_url="http://testserver")
    assert refused.value.code == "nothing_due"


def test_a_session_cancelled_in_time_refunds_its_whole_share():
    client, series, bookings, _now = _discounted(count=4, percent=10)
    payment = payments.checkout_for_series(series, actor=client, base_url="http://testserver")
    local.complete(payment)
    relay.relay_pending()
    series_services.cancel_series(series=series, actor=client, scope="one", start=bookings[2].session.start)
    relay.relay_pending()
    relay.relay_pending()  # replayed: asked once
    refund = Refund.objects.get(payment=payment)
    assert refund.amount_minor == 4500
    share = payment.shares.get(booking=bookings[2])
    assert share.refunded_minor == 4500
    assert payments.balance_minor(Booking.objects.get(pk=bookings[1].pk)) == 0


def test_a_late_cancellation_refunds_the_policys_share_of_the_share():
    client, series, bookings, _now = _discounted(count=3, percent=10, late_percent=50, notice=24 * 30)
    payment = payments.checkout_for_series(series, actor=client, base_url="http://testserver")
    local.complete(payment)
    relay.relay_pending()
    series_services.cancel_series(series=series, actor=client, scope="one", start=bookings[0].session.start)
    relay.relay_pending()
    assert Refund.objects.get(payment=payment).amount_minor == 2250  # half of 45.00


def test_the_coach_cancelling_the_rest_refunds_every_share_in_full():
    client, series, bookings, _now = _discounted(count=3, percent=20, late_percent=0, notice=24 * 30)
    payment = payments.checkout_for_series(series, actor=client, base_url="http://testserver")
    local.complete(payment)
    relay.relay_pending()
    series_services.cancel_series(
        series=series, actor=series.coach, scope="all", start=bookings[0].session.start, reason="Away"
    )
    relay.relay_pending()
    assert sum(Refund.objects.filter(payment=payment).values_list("amount_minor", flat=True)) == 12000
    payment.refresh_from_db()
    assert payment.status in ("paid", "partially_refunded", "refunded")


def test_a_session_cancelled_while_the_client_was_paying_gets_its_share_back_at_once():
    client, series, bookings, _now = _discounted(count=3, percent=10)
    payment = payments.checkout_for_series(series, actor=client, base_url="http://testserver")
    series_services.cancel_series(series=series, actor=client, scope="one", start=bookings[1].session.start)
    relay.relay_pending()  # the payment is not collected yet: nothing to refund
    assert not Refund.objects.exists()
    local.complete(payment)
    refund = Refund.objects.get(payment=payment)
    assert refund.amount_minor == 4500 and bookings[1].reference in refund.reason
    relay.relay_pending()
    assert Refund.objects.filter(payment=payment).count() == 1


def test_a_session_paid_on_its_own_while_the_series_was_being_paid_gets_its_share_back():
    client, series, bookings, _now = _discounted(count=3, percent=10)
    payment = payments.checkout_for_series(series, actor=client, base_url="http://testserver")
    local.complete(payments.checkout_for_balance(bookings[0], actor=client, base_url="http://testserver"))
    local.complete(payment)
    refund = Refund.objects.get(payment=payment)
    assert refund.amount_minor == 4500 and "already paid" in refund.reason


# The pages and the API ------------------------------------------------------------------


def _page(user, url):
    from django.test import Client

    http = Client()
    http.force_login(user)
    return http, http.get(url)


def test_the_series_page_offers_the_client_the_up_front_price_and_the_checkout_settles_it():
    client, series, bookings, _now = _discounted(count=4, percent=10)
    http, page = _page(client, f"/series/{series.pk}/")
    text = page.content.decode()
    assert 'data-testid="series-payments"' in text
    assert "Each session costs 50.00" in text and "0 of 4 booked sessions paid." in text
    assert "Pay for the 4 remaining sessions at once: 180.00" in text and "instead of 200.00" in text
    assert "10% series discount" in text and 'data-testid="series-pay-up-front"' in text
    response = http.post(f"/payments/series/{series.pk}/pay/")
    assert response.status_code == 302 and "/payments/local/" in response["Location"]
    payment = series.payments.get()
    local.complete(payment)
    text = http.get(f"/series/{series.pk}/").content.decode()
    assert "4 of 4 booked sessions paid." in text and 'data-testid="series-up-front"' not in text
    booking_page = http.get(f"/bookings/{bookings[0].reference}/").content.decode()
    assert "Paid with its series, up front: 45.00" in booking_page
    assert 'data-testid="pay-balance-button"' not in booking_page
    returned = http.get(f"/payments/{payment.pk}/return/?outcome=success").content.decode()
    assert "4 sessions of" in returned and "are paid" in returned


def test_the_coach_sees_the_series_payments_without_a_pay_button_and_may_not_pay():
    _client, series, _bookings, _now = _discounted(count=3)
    http, page = _page(series.coach, f"/series/{series.pk}/")
    text = page.content.decode()
    assert 'data-testid="series-payments"' in text and 'data-testid="series-pay-up-front"' not in text
    assert http.post(f"/payments/series/{series.pk}/pay/").status_code == 404


def test_nothing_left_to_pay_up_front_says_so_on_a_page_not_a_500():
    client, series, bookings, _now = _discounted(count=2)
    local.complete(payments.checkout_for_balance(bookings[0], actor=client, base_url="http://testserver"))
    http, _page_response = _page(client, f"/series/{series.pk}/")
    response = http.post(f"/payments/series/{series.pk}/pay/")
    assert response.status_code == 409
    assert "Nothing in this series is left to pay up front" in response.content.decode()


def test_the_cancel_step_of_a_session_paid_with_its_series_says_what_comes_back():
    client, series, bookings, _now = _discounted(count=3, percent=10)
    local.complete(payments.checkout_for_series(series, actor=client, base_url="http://testserver"))
    _http, page = _page(client, f"/bookings/{bookings[1].reference}/cancel/confirm/")
    text = page.content.decode()
    assert "You paid 45.00" in text and "refunds the full 45.00" in text


def test_the_api_shows_the_offer_and_starts_its_checkout():
    import json

    from django.test import Client

    client, series, bookings, _now = _discounted(count=3, percent=10)
    http = Client()
    http.force_login(client)
    body = http.get(f"/api/v1/series/{series.pk}/payment").json()
    assert body["price_minor"] == 5000 and body["booked"] == 3 and body["paid"] == 0
    assert body["offer"]["amount_minor"] == 13500 and body["offer"]["full_minor"] == 15000
    assert body["offer"]["sessions"] == [b.reference for b in bookings]
    created = http.post(f"/api/v1/series/{series.pk}/pay", "", content_type="application/json")
    assert created.status_code == 201, created.content
    checkout = created.json()
    assert checkout["amount_minor"] == 13500 and checkout["sessions"] == [b.reference for b in bookings]
    assert "/payments/local/" in checkout["checkout_url"]
    local.complete(series.payments.get(pk=checkout["payment"]))
    body = http.get(f"/api/v1/series/{series.pk}/payment").json()
    assert body["paid"] == 3 and body["offer"] is None
    again = http.post(f"/api/v1/series/{series.pk}/pay", "", content_type="application/json")
    assert again.status_code == 409 and json.loads(again.content)["error"]["code"] == "nothing_due"
    stranger = Client()
    stranger.force_login(ClientFactory())
    assert stranger.get(f"/api/v1/series/{series.pk}/payment").status_code == 404
    coach = Client()
    coach.force_login(series.coach)
    assert coach.get(f"/api/v1/series/{series.pk}/payment").status_code == 200
    assert coach.post(f"/api/v1/series/{series.pk}/pay", "", content_type="application/json").status_code == 403


def test_the_coach_sets_the_series_discount_on_the_type_and_a_bad_one_is_refused():
    import json

    from django.test import Client

    _client, series, _bookings, _now = _discounted(count=2, percent=0)
    http = Client()
    http.force_login(series.coach)
    url = f"/api/v1/session-types/{series.session_type.pk}"
    ok = http.patch(url, json.dumps({"series_discount_percent": 15}), content_type="application/json")
    assert ok.status_code == 200, ok.content
    assert ok.json()["series_discount_percent"] == 15
    series.session_type.refresh_from_db()
    assert payments.series_offer(series).amount_minor == 2 * 4250
    refused = http.patch(url, json.dumps({"series_discount_percent": 101}), content_type="application/json")
    assert 400 <= refused.status_code < 500
    series.session_type.refresh_from_db()
    assert series.session_type.series_discount_percent == 15
    form = http.get(f"/coach/session-types/{series.session_type.pk}/").content.decode()
    assert 'name="series_discount_percent"' in form


def test_a_series_paid_up_front_through_stripe_and_one_session_cancelled_refunds_its_share(fake_stripe):
    from payments.models import PaymentStatus, RefundStatus
    from payments.tests.conftest import deliver, settle
    from payments.tests.fake_stripe import event

    client, series, bookings, _now = _discounted(count=3, percent=10)
    payment = payments.checkout_for_series(series, actor=client, base_url="http://testserver")
    (created,) = fake_stripe.posts("/v1/checkout/sessions")
    item = created.form["line_items"][0]["price_data"]
    assert item["unit_amount"] == "13500" and item["product_data"]["name"].endswith("3 sessions of a series")
    completed = event("checkout.session.completed", fake_stripe.complete_session(payment.checkout_id))
    assert deliver(completed).status_code == 200
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert all(payments.balance_minor(Booking.objects.get(pk=b.pk)) == 0 for b in bookings)
    series_services.cancel_series(series=series, actor=client, scope="one", start=bookings[2].session.start)
    settle()
    (refund_call,) = fake_stripe.posts("/v1/refunds")
    assert refund_call.form["amount"] == "4500"
    refund = payment.refunds.get()
    refund.refresh_from_db()
    payment.refresh_from_db()
    assert (refund.status, payment.status) == (RefundStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED)


def test_the_back_office_shows_a_series_payment_and_each_sessions_share(admin_user):
    from django.test import Client

    client, series, bookings, _now = _discounted(count=2, percent=10)
    payment = payments.checkout_for_series(series, actor=client, base_url="http://testserver")
    local.complete(payment)
    http = Client()
    http.force_login(admin_user)
    page = http.get(f"/admin/payments/payment/{payment.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert f"{bookings[0].reference}: 45.00 USD" in text and f"/admin/bookings/series/{series.pk}/change/" in text
    listing = http.get("/admin/payments/payment/").content.decode()
    assert f"Series {series.pk}, up front" in listing
