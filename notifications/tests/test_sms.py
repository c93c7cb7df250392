"""SMS: the backends (console, locmem, Twilio through the real ``twilio`` client against a fake
Twilio on 127.0.0.1), how Twilio's errors are mapped, and Twilio's signed delivery reports."""

from __future__ import annotations

import base64
import datetime as dt
import io
import logging
import socket
from urllib.parse import urlencode

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse
from twilio.request_validator import RequestValidator

from accounts.tests.factories import ClientFactory
from notifications.models import Channel, Delivery, DeliveryStatus, Kind, Notification
from notifications.sms import (
    SmsConfigurationError,
    SmsError,
    SmsMessage,
    get_backend,
    send_sms,
    status_callback_url,
)
from notifications.sms import console as console_backend
from notifications.sms import twilio as twilio_backend
from notifications.tests.conftest import TWILIO_FROM_NUMBER

TO = "+33612345678"
SITE = "https://booking.example.com"
CALLBACK_TOKEN = "callback-signing-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Twilio backend against the fake ---------------------------------------------------------


def test_the_twilio_client_sends_to_the_fake_and_returns_the_message_sid(fake_twilio):
    sid = send_sms(
        TO, "Reminder: Consultation tomorrow at 10:00 (Paris).", status_callback=f"{SITE}/sms/twilio/status/"
    )

    assert sid.startswith("SM") and len(sid) == 34
    assert [m["sid"] for m in fake_twilio.messages] == [sid]
    [request] = fake_twilio.requests
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json"
    assert request.field("To") == TO
    assert request.field("From") == TWILIO_FROM_NUMBER
    assert request.field("Body") == "Reminder: Consultation tomorrow at 10:00 (Paris)."
    assert request.field("StatusCallback") == f"{SITE}/sms/twilio/status/"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    scheme, _, credentials = request.headers["Authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(credentials).decode() == f"{fake_twilio.account_sid}:{fake_twilio.auth_token}"
    assert request.authorized


def test_no_status_callback_sends_no_such_field_and_text_keeps_its_accents(fake_twilio):
    send_sms(TO, "Séance confirmée ✔ — à demain")
    [request] = fake_twilio.requests
    assert "StatusCallback" not in request.form
    assert request.field("Body") == "Séance confirmée ✔ — à demain"


def test_the_fake_refuses_a_wrong_auth_token_and_that_is_not_retryable(fake_twilio, settings):
    settings.TWILIO_AUTH_TOKEN = "not-the-token"
    with pytest.raises(SmsError) as caught:
        send_sms(TO, "Hello")
    assert not fake_twilio.requests[0].authorized
    assert caught.value.status == 401
    assert caught.value.code == 20003
    assert not caught.value.retryable
    assert fake_twilio.messages == []


def test_the_client_follows_settings_changes(fake_twilio, settings):
    first = twilio_backend.get_client()
    assert twilio_backend.get_client() is first  # kept for the next message
    settings.TWILIO_AUTH_TOKEN = "rotated-token"
    assert twilio_backend.get_client() is not first


def test_an_edge_in_the_environment_does_not_move_the_fake_address(fake_twilio, monkeypatch):
    monkeypatch.setenv("TWILIO_EDGE", "sydney")
    monkeypatch.setenv("TWILIO_REGION", "au1")
    assert send_sms(TO, "Hello").startswith("SM")
    assert len(fake_twilio.requests) == 1


# Error mapping ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "retryable"),
    [(400, 21211, False), (500, 20500, True), (503, 20503, True), (429, 20429, True)],
)
def test_twilio_errors_keep_their_code_and_are_retryable_only_when_temporary(fake_twilio, status, code, retryable):
    fake_twilio.fail_next(status)
    with pytest.raises(SmsError) as caught:
        send_sms(TO, "Hello")
    error = caught.value
    assert (error.status, error.code, error.retryable) == (status, code, retryable)
    assert str(error).startswith(f"Twilio error {code}: ")
    assert fake_twilio.messages == []


def test_an_invalid_number_is_twilios_21211_with_its_message(fake_twilio):
    with pytest.raises(SmsError) as caught:
        send_sms("0612", "Hello")
    assert str(caught.value) == "Twilio error 21211: The 'To' number 0612 is not a valid phone number."
    assert caught.value.code == 21211
    assert not caught.value.retryable


def test_a_scripted_invalid_number_answer_names_the_number(fake_twilio):
    fake_twilio.fail_next(400)
    with pytest.raises(SmsError, match=r"The 'To' number \+33612345678 is not a valid phone number"):
        send_sms(TO, "Hello")


def test_a_problem_details_answer_is_mapped_too(fake_twilio):
    fake_twilio.answer_next(
        400,
        {
            "type": "https://www.twilio.com/docs/errors/21610",
            "title": "Unsubscribed recipient",
            "status": 400,
            "code": 21610,
            "detail": "Attempt to send to unsubscribed recipient",
        },
    )
    with pytest.raises(SmsError) as caught:
        send_sms(TO, "Hello")
    assert str(caught.value) == "Twilio error 21610: Attempt to send to unsubscribed recipient"
    assert not caught.value.retryable


def test_a_gateway_error_without_json_is_retryable(fake_twilio):
    fake_twilio.answer_next(502, "<html>Bad gateway</html>")
    with pytest.raises(SmsError) as caught:
        send_sms(TO, "Hello")
    assert caught.value.status == 502
    assert caught.value.retryable


def test_connection_refused_is_retryable(fake_twilio, settings):
    settings.TWILIO_API_BASE = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(SmsError) as caught:
        send_sms(TO, "Hello")
    assert caught.value.retryable
    assert str(caught.value).startswith("Could not reach Twilio")
    assert fake_twilio.requests == []


def test_no_answer_in_time_is_not_retried_as_the_message_may_have_gone(fake_twilio):
    fake_twilio.hold_next(30)
    with pytest.raises(SmsError) as caught:
        send_sms(TO, "Hello", backend=get_backend(timeout=0.2))
    assert not caught.value.retryable
    assert "did not answer" in str(caught.value)
    assert len(fake_twilio.requests) == 1


@pytest.mark.parametrize("name", ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER"])
def test_a_missing_twilio_setting_is_named(fake_twilio, settings, name):
    setattr(settings, name, "")
    with pytest.raises(ImproperlyConfigured) as caught:
        send_sms(TO, "Hello")
    assert f"settings.{name}" in str(caught.value)
    # The sending code sees an SmsError it can record, not worth retrying as it stands.
    assert isinstance(caught.value, SmsError)
    assert not caught.value.retryable
    assert fake_twilio.requests == []


def test_a_malformed_api_base_is_named(fake_twilio, settings):
    settings.TWILIO_API_BASE = "127.0.0.1:8765"
    with pytest.raises(SmsConfigurationError, match=r"TWILIO_API_BASE must be an http\(s\) address"):
        send_sms(TO, "Hello")


# Console and locmem backends, get_backend -----------------------------------------------------


def test_console_backend_prints_the_message_and_returns_an_id():
    stream = io.StringIO()
    backend = console_backend.SmsBackend(stream=stream)
    message_id = backend.send(SmsMessage(to=TO, body="See you at 10:00.", status_callback=f"{SITE}/cb/"))
    assert message_id.startswith("console-") and len(message_id) > len("console-")
    out = stream.getvalue()
    assert f"SMS {message_id}" in out
    assert f"To: {TO}" in out
    assert "See you at 10:00." in out
    assert f"Status callback: {SITE}/cb/" in out
    assert backend.send(SmsMessage(to=TO, body="again")) != message_id


def test_console_is_the_default_and_prints_to_stdout(settings, capsys):
    settings.SMS_BACKEND = "notifications.sms.console.SmsBackend"
    message_id = send_sms(TO, "Printed, not sent.")
    out = capsys.readouterr().out
    assert message_id in out
    assert "Printed, not sent." in out


def test_locmem_backend_keeps_messages_in_the_outbox(sms_outbox):
    first = send_sms(TO, "One", status_callback=f"{SITE}/cb/")
    second = send_sms("+14155550123", "Two")
    assert sms_outbox == [
        SmsMessage(to=TO, body="One", status_callback=f"{SITE}/cb/"),
        SmsMessage(to="+14155550123", body="Two"),
    ]
    assert first.startswith("locmem-") and second.startswith("locmem-")
    assert int(second.removeprefix("locmem-")) == int(first.removeprefix("locmem-")) + 1


def test_no_number_or_no_text_is_refused_before_any_backend(sms_outbox):
    for to, body in [("", "Hello"), ("   ", "Hello"), (TO, "")]:
        with pytest.raises(SmsError) as caught:
            send_sms(to, body)
        assert not caught.value.retryable
    assert sms_outbox == []


@pytest.mark.parametrize(
    "path",
    [
        "notifications.sms.nowhere.SmsBackend",
        "notifications.sms.locmem.NoSuchBackend",
        "nodots",
        "notifications.sms.locmem.outbox",  # exists, but is no backend
    ],
)
def test_a_bad_backend_path_is_a_clear_error(settings, path):
    with pytest.raises(ImproperlyConfigured, match="SMS backend") as caught:
        get_backend(path)
    assert repr(path) in str(caught.value)
    settings.SMS_BACKEND = path
    with pytest.raises(SmsError) as caught:  # what the sending code catches and records
        send_sms(TO, "Hello")
    assert isinstance(caught.value, ImproperlyConfigured)
    assert not caught.value.retryable


def test_get_backend_follows_the_setting(settings):
    settings.SMS_BACKEND = "notifications.sms.locmem.SmsBackend"
    assert type(get_backend()).__module__ == "notifications.sms.locmem"
    assert type(get_backend("notifications.sms.twilio.SmsBackend")).__module__ == "notifications.sms.twilio"


# Twilio's delivery reports --------------------------------------------------------------------


@pytest.fixture
def callback_settings(settings):
    settings.SITE_URL = SITE
    settings.TWILIO_AUTH_TOKEN = CALLBACK_TOKEN
    return settings


def make_delivery(provider_id: str = "SM" + "a" * 32, **fields) -> Delivery:
    notification = Notification.objects.create(
        recipient=ClientFactory(), kind=Kind.CONFIRMED, title="Booking confirmed: Consultation"
    )
    values = {"status": DeliveryStatus.SENT, "to": TO, "attempts": 1, "provider_status": "queued"}
    values.update(fields)
    return Delivery.objects.create(notification=notification, channel=Channel.SMS, provider_id=provider_id, **values)


def report(sid: str, status: str, **extra) -> dict:
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "AccountSid": "AC" + "0f" * 16,
        "From": TWILIO_FROM_NUMBER,
        "To": TO,
        "ApiVersion": "2010-04-01",
        **extra,
    }


def sign(url: str, params: dict, token: str = CALLBACK_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def post_report(params: dict, signature: str | None = "sign", *, query: str = ""):
    """POSTs like Twilio does (form-encoded), signed for the public URL unless told otherwise."""
    path = reverse("sms_twilio_status") + (f"?{query}" if query else "")
    if signature == "sign":
        signature = sign(f"{SITE}{path}", params)
    headers = {"X-Twilio-Signature": signature} if signature is not None else {}
    return Client().post(
        path, data=urlencode(params), content_type="application/x-www-form-urlencoded", headers=headers
    )


def snapshot(delivery: Delivery) -> tuple:
    delivery.refresh_from_db()
    return (delivery.status, delivery.provider_status, delivery.error, delivery.sent_at)


def test_status_callback_url_is_the_public_address_and_needs_the_token(settings):
    settings.SITE_URL = SITE
    settings.TWILIO_AUTH_TOKEN = ""
    assert status_callback_url() is None
    settings.TWILIO_AUTH_TOKEN = CALLBACK_TOKEN
    assert status_callback_url() == f"{SITE}/sms/twilio/status/"


@pytest.mark.django_db
def test_delivered_keeps_the_delivery_sent_and_sets_sent_at(callback_settings):
    delivery = make_delivery(sent_at=None)
    response = post_report(report(delivery.provider_id, "delivered"))
    assert response.status_code == 200
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.provider_status == "delivered"
    assert delivery.sent_at is not None
    assert delivery.error == ""


@pytest.mark.django_db
def test_delivered_keeps_an_existing_sent_at(callback_settings):
    sent_at = dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC)
    delivery = make_delivery(sent_at=sent_at)
    assert post_report(report(delivery.provider_id, "delivered")).status_code == 200
    delivery.refresh_from_db()
    assert delivery.sent_at == sent_at


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        ("undelivered", "30003", "30003: Unreachable destination handset"),
        ("failed", "30007", "30007: Message filtered by the carrier"),
        ("failed", "39999", "39999: SMS failed"),
    ],
)
def test_failed_or_undelivered_marks_the_delivery_failed_with_the_error_code(callback_settings, status, code, error):
    delivery = make_delivery()
    assert post_report(report(delivery.provider_id, status, ErrorCode=code)).status_code == 200
    assert snapshot(delivery)[:3] == (DeliveryStatus.FAILED, status, error)


@pytest.mark.django_db
def test_a_failed_delivery_moves_back_to_sent_only_when_delivered_arrives(callback_settings):
    delivery = make_delivery()
    sid = delivery.provider_id
    post_report(report(sid, "failed", ErrorCode="30008"))
    failed = snapshot(delivery)
    assert failed[:3] == (DeliveryStatus.FAILED, "failed", "30008: Unknown error")

    for late in ("queued", "sending", "sent"):
        assert post_report(report(sid, late)).status_code == 200
        assert snapshot(delivery) == failed

    post_report(report(sid, "delivered"))
    assert snapshot(delivery)[:3] == (DeliveryStatus.SENT, "delivered", "")


@pytest.mark.django_db
def test_nothing_after_delivered_changes_the_delivery(callback_settings):
    delivery = make_delivery()
    sid = delivery.provider_id
    post_report(report(sid, "sent"))
    assert snapshot(delivery)[:2] == (DeliveryStatus.SENT, "sent")
    post_report(report(sid, "delivered"))
    delivered = snapshot(delivery)
    for late in ("sent", "undelivered"):
        post_report(report(sid, late, ErrorCode="30003"))
        assert snapshot(delivery) == delivered


@pytest.mark.django_db
def test_a_forged_signature_is_refused_and_changes_nothing(callback_settings):
    delivery = make_delivery()
    before = snapshot(delivery)
    params = report(delivery.provider_id, "failed", ErrorCode="30003")
    url = f"{SITE}/sms/twilio/status/"
    for signature in [
        sign(url, params, token="someone-elses-token"),
        sign(url, report(delivery.provider_id, "delivered")),  # signed for other fields
        sign("http://testserver/sms/twilio/status/", params),  # not the public address
        "not-even-base64",
    ]:
        response = post_report(params, signature)
        assert response.status_code == 403
        assert response["Content-Type"].startswith("text/plain")
        assert response.content.decode().strip() == "Invalid or missing Twilio signature."
    assert snapshot(delivery) == before


@pytest.mark.django_db
def test_a_missing_signature_is_refused(callback_settings):
    delivery = make_delivery()
    before = snapshot(delivery)
    for signature in (None, ""):
        response = post_report(report(delivery.provider_id, "delivered"), signature)
        assert response.status_code == 403
    assert snapshot(delivery) == before


@pytest.mark.django_db
def test_without_an_auth_token_nothing_can_be_verified(callback_settings):
    delivery = make_delivery()
    before = snapshot(delivery)
    callback_settings.TWILIO_AUTH_TOKEN = ""
    params = report(delivery.provider_id, "delivered")
    response = post_report(params, sign(f"{SITE}/sms/twilio/status/", params, token=""))
    assert response.status_code == 403
    assert snapshot(delivery) == before


@pytest.mark.django_db
def test_the_query_string_is_part_of_the_signed_address(callback_settings):
    delivery = make_delivery()
    params = report(delivery.provider_id, "delivered")
    signed_without_query = sign(f"{SITE}/sms/twilio/status/", params)
    assert post_report(params, signed_without_query, query="attempt=2").status_code == 403
    assert post_report(params, query="attempt=2").status_code == 200
    assert snapshot(delivery)[1] == "delivered"


@pytest.mark.django_db
def test_an_unknown_message_is_answered_200_and_logged(callback_settings, caplog):
    delivery = make_delivery()
    before = snapshot(delivery)
    with caplog.at_level(logging.WARNING, logger="notifications.sms_views"):
        response = post_report(report("SM" + "b" * 32, "delivered"))
    assert response.status_code == 200
    assert "unknown message" in caplog.text
    assert "SM" + "b" * 32 in caplog.text
    assert snapshot(delivery) == before


@pytest.mark.django_db
def test_only_sms_deliveries_are_touched(callback_settings):
    sms = make_delivery()
    email = Delivery.objects.create(
        notification=sms.notification, channel=Channel.EMAIL, status=DeliveryStatus.SENT, provider_id=sms.provider_id
    )
    post_report(report(sms.provider_id, "undelivered", ErrorCode="30005"))
    assert snapshot(sms)[0] == DeliveryStatus.FAILED
    assert snapshot(email)[:2] == (DeliveryStatus.SENT, "")


def test_the_callback_only_takes_post(callback_settings):
    assert Client().get(reverse("sms_twilio_status")).status_code == 405


@pytest.mark.django_db
def test_a_message_sent_through_twilio_is_updated_by_its_signed_report(fake_twilio, settings):
    """End to end: the callback address handed to Twilio is the one whose signature is checked."""
    settings.SITE_URL = SITE
    sid = send_sms(TO, "Your session is confirmed.", status_callback=status_callback_url())
    delivery = make_delivery(provider_id=sid)
    callback = fake_twilio.requests[0].field("StatusCallback")
    assert callback == f"{SITE}/sms/twilio/status/"

    params = report(sid, "undelivered", ErrorCode="30006")
    signature = RequestValidator(fake_twilio.auth_token).compute_signature(callback, params)
    response = post_report(params, signature)
    assert response.status_code == 200
    assert snapshot(delivery)[:3] == (DeliveryStatus.FAILED, "undelivered", "30006: Landline or unreachable carrier")
