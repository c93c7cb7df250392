"""The owner's webhook pages and the admin: who may see them, adding (and what a wrong
address is told), the secret and its rotation, a test event, disabling and enabling,
deleting, the delivery log and "Send again"; someone else's endpoint out of reach."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from accounts.tests.factories import AdminFactory, ClientFactory, CoachFactory, StaffFactory
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

PAGE = "/webhooks/"


def signed_in(user) -> Client:
    http = Client()
    http.force_login(user)
    return http


def an_endpoint(owner, url: str = "https://hooks.example.com/x", **fields) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(owner=owner, url=url, event_types=["booking.created"], **fields)


def test_coaches_and_staff_have_the_page_clients_do_not():
    assert Client().get(PAGE).status_code == 302
    assert signed_in(ClientFactory()).get(PAGE).status_code == 404
    for user in (CoachFactory(), StaffFactory(), AdminFactory()):
        page = signed_in(user).get(PAGE)
        assert page.status_code == 200
        assert "No webhook yet" in page.content.decode()
    assert "every booking" in signed_in(StaffFactory()).get(PAGE).content.decode()
    assert "sessions you host" in signed_in(CoachFactory()).get(PAGE).content.decode()


def test_the_page_is_linked_from_the_coachs_settings_and_the_staff_menu():
    assert 'data-testid="webhooks-link"' in signed_in(CoachFactory()).get("/coach/settings/").content.decode()
    assert 'data-testid="nav-webhooks"' in signed_in(StaffFactory()).get(PAGE).content.decode()


def test_a_coach_adds_a_webhook_sees_its_secret_and_tests_it(receiver):
    coach = CoachFactory()
    http = signed_in(coach)
    url = receiver.answer("/crm", 200)
    response = http.post(
        PAGE,
        {"url": url, "description": "CRM", "event_types": ["booking.created", "booking.cancelled"]},
        follow=True,
    )
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get(owner=coach)
    assert endpoint.event_types == ["booking.created", "booking.cancelled"] and endpoint.is_active
    text = response.content.decode()
    assert "Webhook added" in text and endpoint.secret in text and endpoint.secret.startswith("whsec_")
    assert "Nothing sent yet" in text

    response = http.post(f"{PAGE}{endpoint.pk}/ping/", follow=True)
    text = response.content.decode()
    assert "Test event sent: the endpoint answered 200." in text
    assert "webhook.test" in text
    (request,) = receiver.at("/crm")
    assert request.headers["webhook-id"].startswith("msg_test_")

    old = endpoint.secret
    response = http.post(f"{PAGE}{endpoint.pk}/rotate/", follow=True)
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.secret in response.content.decode()
    assert "New signing secret" in response.content.decode()

    listing = http.get(PAGE).content.decode()
    assert "CRM" in listing and "Last delivery: webhook.test" in listing
    assert endpoint.secret not in listing  # the secret is shown on the webhook's own page only


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("", "This field is required"),
        ("http://hooks.example.com/x", "starts with https://"),
        ("just words", "starts with https://"),
        ("https://127.0.0.1/hook", "private network"),
        ("https://169.254.169.254/latest", "private network"),
        ("https://[::1]/hook", "private network"),
    ],
)
def test_a_wrong_address_is_told_next_to_the_field(settings, url, said):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    response = signed_in(CoachFactory()).post(PAGE, {"url": url, "event_types": ["booking.created"]})
    assert response.status_code == 400
    assert said in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_at_least_one_event_type_is_needed(receiver):
    response = signed_in(StaffFactory()).post(PAGE, {"url": receiver.url(), "event_types": []})
    assert response.status_code == 400
    assert "Choose at least one event to send." in response.content.decode()
    response = signed_in(StaffFactory()).post(PAGE, {"url": receiver.url(), "event_types": ["booking.nothing"]})
    assert response.status_code == 400
    assert not WebhookEndpoint.objects.exists()


def test_the_owner_edits_disables_enables_and_deletes(receiver):
    coach = CoachFactory()
    endpoint = an_endpoint(coach, receiver.answer("/a", 200))
    http = signed_in(coach)
    response = http.post(
        f"{PAGE}{endpoint.pk}/",
        {"url": endpoint.url, "description": "Zapier", "event_types": ["booking.confirmed"]},
        follow=True,
    )
    assert "Webhook saved." in response.content.decode()
    endpoint.refresh_from_db()
    assert (endpoint.description, endpoint.event_types) == ("Zapier", ["booking.confirmed"])

    pending = WebhookDelivery.objects.create(
        endpoint=endpoint, event_type="booking.confirmed", message_id="msg_1", next_attempt_at=dt.datetime.now(dt.UTC)
    )
    response = http.post(f"{PAGE}{endpoint.pk}/disable/", follow=True)
    assert "is disabled" in response.content.decode()
    endpoint.refresh_from_db()
    pending.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_reason.startswith("Disabled by")
    assert pending.status == DeliveryStatus.FAILED
    assert 'data-testid="webhook-send-again"' not in response.content.decode()  # not while disabled

    response = http.post(f"{PAGE}{endpoint.pk}/enable/", follow=True)
    assert "is enabled" in response.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.disabled_reason == "" and endpoint.disabled_at is None

    response = http.post(f"{PAGE}{endpoint.pk}/delete/", follow=True)
    assert "is deleted" in response.content.decode()
    assert not WebhookEndpoint.objects.exists() and not WebhookDelivery.objects.exists()


def test_the_delivery_log_shows_what_was_sent_and_sends_again(receiver):
    coach = CoachFactory()
    endpoint = an_endpoint(coach, receiver.answer("/log", 500, 200, body=b'{"error": "database down"}'))
    http = signed_in(coach)
    http.post(f"{PAGE}{endpoint.pk}/ping/")
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED

    page = http.get(f"{PAGE}{endpoint.pk}/").content.decode()
    assert "The endpoint answered 500." in page and 'data-testid="webhook-send-again"' in page
    detail = http.get(f"{PAGE}{endpoint.pk}/deliveries/{delivery.pk}/").content.decode()
    assert delivery.message_id in detail
    assert "webhook-signature: v1," in detail and "webhook-timestamp:" in detail
    assert "database down" in detail and "&quot;type&quot;: &quot;webhook.test&quot;" in detail

    response = http.post(f"{PAGE}{endpoint.pk}/deliveries/{delivery.pk}/send/", follow=True)
    assert "Sent again: the endpoint answered 200." in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert len(receiver.at("/log")) == 2
    assert http.get(f"{PAGE}{endpoint.pk}/deliveries/{delivery.pk}/send/").status_code == 405


def test_the_log_is_paginated_latest_first():
    coach = CoachFactory()
    endpoint = an_endpoint(coach)
    for number in range(30):
        WebhookDelivery.objects.create(
            endpoint=endpoint, event_type="booking.created", message_id=f"msg_{number}", status="succeeded"
        )
    http = signed_in(coach)
    first = http.get(f"{PAGE}{endpoint.pk}/").content.decode()
    assert first.count('data-testid="webhook-delivery"') == 25 and "Page 1 of 2" in first
    second = http.get(f"{PAGE}{endpoint.pk}/?page=2").content.decode()
    assert second.count('data-testid="webhook-delivery"') == 5


def test_someone_elses_webhook_is_out_of_reach():
    owner = CoachFactory()
    endpoint = an_endpoint(owner, description="Private CRM")
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event_type="booking.created", message_id="m")
    for intruder in (CoachFactory(), StaffFactory()):
        http = signed_in(intruder)
        assert "Private CRM" not in http.get(PAGE).content.decode()
        assert http.get(f"{PAGE}{endpoint.pk}/").status_code == 404
        assert http.post(f"{PAGE}{endpoint.pk}/", {"url": "https://x.example.com/"}).status_code == 404
        for action in ("rotate", "ping", "disable", "enable", "delete"):
            assert http.post(f"{PAGE}{endpoint.pk}/{action}/").status_code == 404
        assert http.get(f"{PAGE}{endpoint.pk}/deliveries/{delivery.pk}/").status_code == 404
        assert http.post(f"{PAGE}{endpoint.pk}/deliveries/{delivery.pk}/send/").status_code == 404
    client = signed_in(ClientFactory())
    assert client.get(f"{PAGE}{endpoint.pk}/").status_code == 404
    assert client.post(f"{PAGE}{endpoint.pk}/ping/").status_code == 404
    # A delivery of another endpoint is not reached through one's own either.
    mine = an_endpoint(CoachFactory())
    assert signed_in(mine.owner).get(f"{PAGE}{mine.pk}/deliveries/{delivery.pk}/").status_code == 404
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.description == "Private CRM"
    assert signed_in(owner).get(f"{PAGE}{endpoint.pk}/ping/").status_code == 405


def test_the_admin_lists_without_secrets_and_sends_again(receiver):
    admin = signed_in(AdminFactory())
    endpoint = an_endpoint(CoachFactory(), receiver.answer("/adm", 200))
    failed = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_type="booking.created",
        message_id="msg_9_booking_created",
        payload={"type": "booking.created", "data": {}},
        status=DeliveryStatus.FAILED,
        attempts=9,
    )
    listing = admin.get("/admin/webhooks/webhookendpoint/")
    assert listing.status_code == 200 and endpoint.url in listing.content.decode()
    assert endpoint.secret not in listing.content.decode()
    change = admin.get(f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/")
    assert change.status_code == 200 and endpoint.secret not in change.content.decode()
    assert admin.get(f"/admin/webhooks/webhookdelivery/{failed.pk}/change/").status_code == 200

    response = admin.post(
        "/admin/webhooks/webhookdelivery/",
        {"action": "send_again", "_selected_action": [failed.pk]},
        follow=True,
    )
    assert "1 delivery queued to be sent again." in response.content.decode()
    failed.refresh_from_db()
    # The task runs inline in the tests: sent at once, as the same message.
    assert failed.status == DeliveryStatus.SUCCEEDED and failed.attempts == 1
    assert receiver.at("/adm")[0].headers["webhook-id"] == "msg_9_booking_created"

    admin.post("/admin/webhooks/webhookendpoint/", {"action": "disable_endpoints", "_selected_action": [endpoint.pk]})
    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_reason == "Disabled by staff."
    admin.post("/admin/webhooks/webhookendpoint/", {"action": "enable_endpoints", "_selected_action": [endpoint.pk]})
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.disabled_reason == ""


def test_staff_may_view_the_log_in_the_admin():
    staff = StaffFactory(is_staff=True)
    endpoint = an_endpoint(CoachFactory())
    WebhookDelivery.objects.create(endpoint=endpoint, event_type="booking.created", message_id="m")
    http = signed_in(staff)
    assert http.get("/admin/webhooks/webhookdelivery/").status_code == 200
    assert http.get("/admin/webhooks/webhookendpoint/").status_code == 200
