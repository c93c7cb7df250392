"""Deliveries from the booking event stream to a receiver on 127.0.0.1: signed by the
Standard Webhooks scheme (checked with the ``standardwebhooks`` library, not our own code),
one per event and type whatever the replays, only to endpoints that may see the booking
and want the type; tried again with backoff, then failed, the endpoint disabled and its
owner told."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
import time_machine
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from accounts.tests.factories import ClientFactory, StaffFactory
from bookings import relay, services
from bookings.models import BookingEvent
from bookings.services.payment import payment_lapsed, payment_received
from bookings.tests.factories import SessionTypeFactory, open_coach
from notifications.models import Kind, Notification
from webhooks import services as webhooks
from webhooks import signing
from webhooks.consumer import on_booking_events
from webhooks.models import DeliveryStatus, EventType, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
START = dt.datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
EVERYTHING = list(EventType.values)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def endpoint_for(owner, url: str, types=None) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(owner=owner, url=url, event_types=types or EVERYTHING)


def verified(endpoint: WebhookEndpoint, request) -> dict:
    """The body as the receiver's standardwebhooks library reads it (raises if the
    signature, id or timestamp is wrong)."""
    return Webhook(endpoint.secret).verify(request.body, request.headers)


def book(coach=None, *, client=None, hours_later: int = 0, **rules):
    coach = coach or open_coach(**rules)
    session_type = SessionTypeFactory(coach=coach, title="Career consultation")
    start = START + dt.timedelta(hours=hours_later)
    return services.book_slot(client=client or ClientFactory(), session_type=session_type, start=start)


def test_a_booking_reaches_a_staff_endpoint_signed_as_standard_webhooks_says(receiver, clock):
    endpoint = endpoint_for(StaffFactory(), receiver.answer("/hook", 200))
    booking = book(client=ClientFactory(name="Cleo Martin", email="cleo@example.com"))
    assert not WebhookDelivery.objects.exists()  # nothing inside the booking's transaction

    relay.relay_pending()
    (delivery,) = WebhookDelivery.objects.all()
    assert (delivery.event_type, delivery.status, delivery.attempts) == ("booking.created", "pending", 0)
    assert webhooks.send_due() == 1

    (request,) = receiver.at("/hook")
    body = verified(endpoint, request)
    assert request.headers["webhook-id"] == delivery.message_id
    assert request.headers["webhook-timestamp"] == str(int(NOW.timestamp()))
    assert request.headers["Content-Type"] == "application/json"
    assert body["type"] == "booking.created"
    data = body["data"]
    assert data["reference"] == booking.reference
    assert data["status"] == "firm_booked" and data["previous_status"] is None
    assert (data["start"], data["end"]) == ("2026-12-03T09:00:00Z", "2026-12-03T10:00:00Z")
    assert data["session_type"]["title"] == "Career consultation"
    assert data["client"]["name"] == "Cleo Martin" and data["client"]["email"] == "cleo@example.com"
    assert data["coach"]["email"] == booking.session.coach.email
    assert data["url"].endswith(f"/bookings/{booking.reference}/")
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 1
    assert delivery.response_status == 200 and delivery.response_body == '{"ok": true}'
    assert delivery.request_headers["webhook-signature"] == request.headers["webhook-signature"]
    # Another secret does not verify it.
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 32).verify(request.body, request.headers)


def test_our_signature_is_the_librarys_own():
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = '{"type":"booking.created"}'
    ours = signing.sign(secret, msg_id="msg_1", timestamp=1_700_000_000, body=body)
    theirs = Webhook(secret).sign("msg_1", dt.datetime.fromtimestamp(1_700_000_000, tz=UTC), body)
    assert ours == theirs


def test_each_change_of_a_booking_has_its_event_type(receiver, clock):
    staff = StaffFactory()
    coach = open_coach(require_approval_unconnected=True, firm_booking_threshold_hours=0)
    request = book(coach)
    assert request.status == "requested"
    services.approve(booking=request, actor=coach)
    services.reschedule(booking=request, actor=coach, start=START + dt.timedelta(hours=2))
    services.cancel(booking=request, actor=coach, reason="Away")
    declined = book(coach, hours_later=1)
    services.decline(booking=declined, actor=coach, reason="Not my field")
    absent = book(coach, hours_later=3)
    services.approve(booking=absent, actor=coach)
    kept = book(coach, hours_later=4)
    services.approve(booking=kept, actor=coach)
    endpoint = endpoint_for(staff, receiver.answer("/hook", 200))

    relay.relay_pending()
    with time_machine.travel(START + dt.timedelta(hours=3, minutes=10), tick=False):
        services.mark_no_show(booking=absent, actor=coach)
        services.complete_past_sessions(now=START + dt.timedelta(hours=6))
        relay.relay_pending()

    def types(booking) -> list[str]:
        return list(
            WebhookDelivery.objects.filter(endpoint=endpoint, payload__data__reference=booking.reference)
            .order_by("event_id", "pk")
            .values_list("event_type", flat=True)
        )

    assert types(request) == ["booking.created", "booking.confirmed", "booking.rescheduled", "booking.cancelled"]
    assert types(declined) == ["booking.created", "booking.declined"]
    assert types(absent) == ["booking.created", "booking.confirmed", "booking.no_show"]
    assert types(kept) == ["booking.created", "booking.confirmed", "booking.completed"]
    moved = WebhookDelivery.objects.get(endpoint=endpoint, event_type="booking.rescheduled").payload["data"]
    assert moved["previous_start"] == "2026-12-03T09:00:00Z" and moved["start"] == "2026-12-03T11:00:00Z"
    cancelled = WebhookDelivery.objects.get(endpoint=endpoint, event_type="booking.cancelled").payload["data"]
    assert cancelled["note"] == "Away" and cancelled["actor"]["id"] == coach.pk


def test_a_payment_confirms_the_booking_and_is_its_own_event(receiver, clock, settings):
    settings.ENABLE_PAYMENT_GATEWAY = True
    endpoint = endpoint_for(StaffFactory(), receiver.answer("/hook", 200))
    priced = SessionTypeFactory(coach=open_coach(), price=Decimal("60.00"), currency="EUR")
    paid = services.book_slot(client=ClientFactory(), session_type=priced, start=START)
    lapsed = services.book_slot(client=ClientFactory(), session_type=priced, start=START + dt.timedelta(hours=2))
    assert payment_received(booking=paid, method="card") is True
    assert payment_lapsed(booking=lapsed) is True
    relay.relay_pending()

    by_booking: dict[str, list[str]] = {}
    for delivery in WebhookDelivery.objects.filter(endpoint=endpoint).order_by("event_id", "pk"):
        by_booking.setdefault(delivery.payload["data"]["reference"], []).append(delivery.event_type)
    assert by_booking[paid.reference] == ["booking.created", "booking.confirmed", "payment.received"]
    assert by_booking[lapsed.reference] == ["booking.created", "booking.cancelled", "payment.expired"]
    created = WebhookDelivery.objects.filter(endpoint=endpoint, event_type="booking.created").first()
    assert created.payload["data"]["status"] == "awaiting_payment"
    assert created.payload["data"]["price"] == "60.00" and created.payload["data"]["currency"] == "EUR"
    received = WebhookDelivery.objects.get(endpoint=endpoint, event_type="payment.received")
    assert received.payload["data"]["payment_method"] == "card"


def test_an_endpoint_gets_only_the_types_it_wants(receiver, clock):
    cancelled_only = endpoint_for(StaffFactory(), receiver.answer("/hook", 200), types=["booking.cancelled"])
    booking = book()
    relay.relay_pending()
    assert not WebhookDelivery.objects.exists()
    services.cancel(booking=booking, actor=booking.client)
    relay.relay_pending()
    assert list(WebhookDelivery.objects.values_list("endpoint", "event_type")) == [
        (cancelled_only.pk, "booking.cancelled")
    ]


def test_replayed_events_make_no_second_delivery(receiver, clock):
    endpoint = endpoint_for(StaffFactory(), receiver.answer("/hook", 200))
    booking = book()
    services.cancel(booking=booking, actor=booking.client)
    assert relay.relay_pending().events == 2
    assert WebhookDelivery.objects.count() == 2

    BookingEvent.objects.update(relayed_at=None)  # as if every mark were lost
    assert relay.relay_pending().events == 2
    on_booking_events(list(BookingEvent.objects.order_by("pk")))  # and once more, directly
    assert WebhookDelivery.objects.count() == 2
    assert webhooks.send_due() == 2
    assert webhooks.send_due() == 0
    assert len(receiver.at("/hook")) == 2
    assert sorted(WebhookDelivery.objects.values_list("event_type", flat=True)) == [
        "booking.cancelled",
        "booking.created",
    ]
    assert endpoint.deliveries.filter(status=DeliveryStatus.SUCCEEDED).count() == 2


def test_a_coachs_endpoint_hears_only_of_the_sessions_they_host(receiver, clock):
    host, other = open_coach(), open_coach()
    staff = StaffFactory()
    hosts_endpoint = endpoint_for(host, receiver.answer("/host", 200))
    others_endpoint = endpoint_for(other, receiver.answer("/other", 200))
    staff_endpoint = endpoint_for(staff, receiver.answer("/staff", 200))
    client_endpoint = endpoint_for(ClientFactory(), receiver.answer("/client", 200))  # not a role that may
    booking = book(host)
    relay.relay_pending()
    assert set(WebhookDelivery.objects.values_list("endpoint", flat=True)) == {hosts_endpoint.pk, staff_endpoint.pk}
    assert webhooks.send_due() == 2
    assert verified(hosts_endpoint, receiver.at("/host")[0])["data"]["reference"] == booking.reference
    assert receiver.at("/other") == [] and receiver.at("/client") == []
    assert not others_endpoint.deliveries.exists() and not client_endpoint.deliveries.exists()

    # A co-host hosts the session too: their endpoint hears of its changes.
    booking.session.co_hosts.add(other)
    services.cancel(booking=booking, actor=host, reason="Ill")
    relay.relay_pending()
    (told,) = others_endpoint.deliveries.all()
    assert told.event_type == "booking.cancelled"
    assert [person["id"] for person in told.payload["data"]["co_hosts"]] == [other.pk]
    assert not client_endpoint.deliveries.exists()


def test_a_failing_endpoint_is_tried_again_with_backoff_until_it_answers(receiver, clock):
    endpoint = endpoint_for(StaffFactory(), receiver.answer("/hook", 500, 502, 200))
    book()
    relay.relay_pending()
    delivery = WebhookDelivery.objects.get()

    assert webhooks.send_due() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("pending", 1, 500)
    assert delivery.error == "The endpoint answered 500."
    assert delivery.next_attempt_at == NOW + dt.timedelta(minutes=1)
    assert webhooks.send_due() == 0  # not due yet

    clock.shift(dt.timedelta(minutes=1))
    assert webhooks.send_due() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("pending", 2, 502)
    assert delivery.next_attempt_at == NOW + dt.timedelta(minutes=1 + 5)

    clock.shift(dt.timedelta(minutes=5))
    assert webhooks.send_due() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("succeeded", 3, 200)
    assert delivery.next_attempt_at is None and delivery.error == ""
    tries = receiver.at("/hook")
    assert len(tries) == 3
    assert {request.headers["webhook-id"] for request in tries} == {delivery.message_id}
    assert verified(endpoint, tries[-1])["type"] == "booking.created"


def test_what_went_wrong_is_kept_in_the_owners_language(receiver, clock):
    endpoint_for(StaffFactory(language="fr"), receiver.answer("/hook", 500))
    book()
    relay.relay_pending()
    assert webhooks.send_due() == 1
    assert WebhookDelivery.objects.get().error == "Le point de terminaison a répondu 500."


def test_an_endpoint_that_does_not_answer_in_time_is_tried_again(receiver, clock, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    endpoint_for(StaffFactory(), receiver.answer("/slow", 200, delay=2.5))
    book()
    relay.relay_pending()
    assert webhooks.send_due() == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("pending", 1, None)
    assert delivery.error == "The server took too long to answer."
    assert delivery.next_attempt_at == NOW + dt.timedelta(minutes=1)


def test_after_the_last_try_the_endpoint_is_disabled_and_its_owner_told(receiver, clock, settings):
    settings.WEBHOOK_RETRY_SCHEDULE = [1, 5]
    owner = StaffFactory()
    endpoint = endpoint_for(owner, receiver.answer("/down", 503), types=["booking.created"])
    book()
    relay.relay_pending()
    first = WebhookDelivery.objects.get()
    for wait in (0, 1, 5):
        clock.shift(dt.timedelta(minutes=wait))
        # A second booking waits in the queue with its own schedule.
        if wait == 5:
            book(open_coach())
            relay.relay_pending()
            second = WebhookDelivery.objects.exclude(pk=first.pk).get()
            second.next_attempt_at = dt.datetime(2030, 1, 1, tzinfo=UTC)
            second.save()
        assert webhooks.send_due() == 1
    first.refresh_from_db()
    assert (first.status, first.attempts, first.next_attempt_at) == ("failed", 3, None)
    endpoint.refresh_from_db()
    assert endpoint.is_active is False and endpoint.disabled_at is not None
    assert "503" in endpoint.disabled_reason
    second.refresh_from_db()
    assert second.status == DeliveryStatus.FAILED and second.error == "The endpoint was disabled."
    (told,) = Notification.objects.filter(recipient=owner, kind=Kind.WEBHOOK_DISABLED)
    assert endpoint.url in told.title and "503" in told.body
    assert len(receiver.at("/down")) == 3

    # Nothing more is written for it, nor sent to it.
    book(open_coach())
    relay.relay_pending()
    assert endpoint.deliveries.count() == 2
    clock.shift(dt.timedelta(days=1))
    assert webhooks.send_due() == 0


def test_the_default_retries_last_about_a_day():
    from config.settings import base

    schedule = base.WEBHOOK_RETRY_SCHEDULE
    assert schedule == sorted(schedule) and schedule[0] == 1
    assert dt.timedelta(hours=22) <= dt.timedelta(minutes=sum(schedule)) <= dt.timedelta(hours=26)


def test_a_delivery_is_claimed_by_one_worker_and_taken_back_when_its_worker_died(receiver, clock):
    endpoint_for(StaffFactory(), receiver.answer("/hook", 200))
    book()
    relay.relay_pending()
    claimed = webhooks._claim_next(NOW)
    assert claimed is not None
    assert webhooks._claim_next(NOW) is None  # the other worker finds nothing due
    # The first worker died: once its claim runs out, the delivery is due again.
    later = NOW + webhooks._claim_length() + dt.timedelta(seconds=1)
    assert webhooks._claim_next(later).pk == claimed.pk


def test_a_test_event_is_sent_once_and_never_disables_the_endpoint(receiver, clock):
    endpoint = endpoint_for(StaffFactory(), receiver.answer("/hook", 200, 500))
    ok = webhooks.ping(endpoint)
    assert ok.status == DeliveryStatus.SUCCEEDED
    assert verified(endpoint, receiver.at("/hook")[0]) == {
        "type": "webhook.test",
        "timestamp": "2026-12-01T06:00:00Z",
        "data": {"endpoint_id": endpoint.pk, "message": "It works."},
    }
    failed = webhooks.ping(endpoint)
    assert (failed.status, failed.next_attempt_at, failed.response_status) == ("failed", None, 500)
    endpoint.refresh_from_db()
    assert endpoint.is_active


def test_a_rotated_secret_goes_on_signing_for_a_day(receiver, clock):
    endpoint = endpoint_for(StaffFactory(), receiver.answer("/hook", 200))
    old = endpoint.secret
    webhooks.rotate_secret(endpoint)
    assert endpoint.secret != old and endpoint.secret.startswith("whsec_")
    webhooks.ping(endpoint)
    request = receiver.at("/hook")[-1]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(request.body, request.headers)
    Webhook(endpoint.secret).verify(request.body, request.headers)

    clock.shift(dt.timedelta(hours=24, seconds=1))
    webhooks.ping(endpoint)
    request = receiver.at("/hook")[-1]
    Webhook(endpoint.secret).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(request.body, request.headers)


def test_send_again_sends_the_same_message_once_more(receiver, clock):
    endpoint = endpoint_for(StaffFactory(), receiver.answer("/hook", 200))
    book()
    relay.relay_pending()
    webhooks.send_due()
    delivery = WebhookDelivery.objects.get()
    clock.shift(dt.timedelta(hours=1))
    again = webhooks.send_again(delivery)
    assert (again.status, again.attempts) == ("succeeded", 1)
    first, second = receiver.at("/hook")
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.message_id
    assert json.loads(first.body) == verified(endpoint, second)

    pending = WebhookDelivery.objects.filter(pk=delivery.pk)
    pending.update(status=DeliveryStatus.PENDING)
    with pytest.raises(webhooks.WebhookError, match="still being tried"):
        webhooks.send_again(pending.get())
    pending.update(status=DeliveryStatus.FAILED)
    webhooks.disable(endpoint, reason="Paused")
    with pytest.raises(webhooks.WebhookError, match="Enable this webhook first"):
        webhooks.send_again(WebhookDelivery.objects.get(pk=delivery.pk))
    assert len(receiver.at("/hook")) == 2


def test_a_long_answer_is_cut_in_the_log_and_still_a_success(receiver, clock):
    endpoint = endpoint_for(StaffFactory(), "")
    endpoint.url = receiver.answer("/big", 200, body=b"x" * 500_000)
    endpoint.save()
    delivery = webhooks.ping(endpoint)
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.response_body == "x" * 2000


def test_the_task_sends_what_is_due_and_forgets_old_finished_deliveries(receiver, clock, settings):
    from django_q.models import Schedule

    from webhooks import tasks

    assert Schedule.objects.filter(func="webhooks.tasks.send_due", minutes=1).exists()
    settings.WEBHOOK_LOG_DAYS = 30
    endpoint = endpoint_for(StaffFactory(), receiver.answer("/hook", 200))
    old = webhooks.ping(endpoint)
    WebhookDelivery.objects.filter(pk=old.pk).update(created_at=NOW - dt.timedelta(days=31))
    book()
    relay.relay_pending()
    assert tasks.send_due() == 1
    assert not WebhookDelivery.objects.filter(pk=old.pk).exists()
    assert WebhookDelivery.objects.get().status == DeliveryStatus.SUCCEEDED
