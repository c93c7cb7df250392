"""Email and SMS through the whole pipeline: who gets which channel, the email's text, HTML
and .ics invitation parsed back, SMS through the real Twilio client to a fake Twilio,
staff's templates and their fallback, staff monitoring, limit warnings, feedback."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
import time_machine
from django.core import mail
from icalendar import Calendar

from accounts.tests.factories import ClientFactory, GuardianLinkFactory, StaffFactory
from bookings import services
from bookings.tests.factories import SessionTypeFactory, open_coach
from notifications import reminders
from notifications.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    Kind,
    MessageTemplate,
    Notification,
    NotificationSettings,
)

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
START = dt.datetime(2026, 12, 3, 14, 0, tzinfo=UTC)  # 09:00 in New York, 19:30 in Kolkata

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def coach():
    coach = open_coach(timezone="America/New_York", hours=(8, 18))
    coach.name = "Nora Haddad"
    coach.save()
    return coach


@pytest.fixture
def consultation(coach):
    return SessionTypeFactory(coach=coach, title="Consultation", meeting_link="https://meet.example.com/nora")


def invitation_of(message) -> tuple[str, Calendar]:
    [(_name, content, mimetype)] = [a for a in message.attachments if a[0].endswith(".ics")]
    return mimetype, Calendar.from_ical(content)


def mail_to(user) -> list:
    return [message for message in mail.outbox if message.to == [user.email]]


def test_a_booking_emails_both_sides_with_an_invitation_and_cancelling_sends_the_cancel(coach, consultation):
    client = ClientFactory(name="Cleo Martin", timezone="Asia/Kolkata")
    booking = services.book_slot(client=client, session_type=consultation, start=START)
    [message] = mail_to(client)
    assert message.subject == "Booked: Consultation with Nora Haddad"
    assert "Thu 3 Dec 2026, 19:30 (Asia/Kolkata)" in message.body
    assert booking.reference in message.body and "https://meet.example.com/nora" in message.body
    [(html, kind)] = message.alternatives
    assert kind == "text/html" and "<h1" in html and "Booked: Consultation with Nora Haddad" in html
    assert f"/bookings/{booking.reference}/" in html
    mimetype, invite = invitation_of(message)
    assert mimetype.startswith("text/calendar") and "method=REQUEST" in mimetype
    assert invite["METHOD"] == "REQUEST"
    [event] = invite.walk("VEVENT")
    uid = str(event["UID"])
    assert event.decoded("DTSTART") == START
    assert event["DTSTART"].params["TZID"] == "Asia/Kolkata"
    assert [tz["TZID"] for tz in invite.walk("VTIMEZONE")] == ["Asia/Kolkata"]
    assert str(event["STATUS"]) == "CONFIRMED"
    [coach_message] = mail_to(coach)
    assert coach_message.subject == "New booking: Consultation with Cleo Martin"
    assert "Thu 3 Dec 2026, 09:00 (America/New_York)" in coach_message.body

    mail.outbox.clear()
    services.cancel(booking=booking, actor=client, reason="Ill")
    assert mail_to(client) == []  # the client cancelled: only the coach is told
    [message] = mail_to(coach)
    assert message.subject == "Cancelled: Consultation with Cleo Martin"
    assert "Reason: Ill" in message.body
    mimetype, invite = invitation_of(message)
    assert "method=CANCEL" in mimetype and invite["METHOD"] == "CANCEL"
    [event] = invite.walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED"
    # The same event as the client's invitation (per booking, whoever receives it).
    assert str(event["UID"]) == uid
    assert int(event["SEQUENCE"]) > 0


def test_a_reschedule_sends_an_updated_invitation_with_the_same_uid(coach, consultation):
    client = ClientFactory()
    booking = services.book_slot(client=client, session_type=consultation, start=START)
    _, first = invitation_of(mail_to(client)[0])
    mail.outbox.clear()
    services.reschedule(booking=booking, actor=coach, start=START + dt.timedelta(hours=2))
    [message] = mail_to(client)
    assert message.subject == "Moved: Consultation with Nora Haddad"
    assert "moved from Thu 3 Dec 2026, 15:00 (Europe/Paris)" in message.body
    _, moved = invitation_of(message)
    [before], [after] = first.walk("VEVENT"), moved.walk("VEVENT")
    assert after["UID"] == before["UID"]
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
    assert after.decoded("DTSTART") == START + dt.timedelta(hours=2)


def test_channels_follow_preferences_and_sms_needs_a_phone(coach, consultation, settings, sms_outbox):
    settings.NOTIFICATION_METHOD = "both"
    with_phone = ClientFactory(phone="+33612345678")
    without = ClientFactory(phone="")
    services.book_slot(client=with_phone, session_type=consultation, start=START)
    services.book_slot(client=without, session_type=consultation, start=START + dt.timedelta(hours=1))

    def channels(user, kind=Kind.BOOKING_CREATED):
        return sorted(
            Delivery.objects.filter(notification__recipient=user, notification__kind=kind).values_list(
                "channel", flat=True
            )
        )

    assert channels(with_phone) == [Channel.EMAIL, Channel.IN_APP, Channel.SMS]
    assert channels(without) == [Channel.EMAIL, Channel.IN_APP]  # no number, no SMS
    [text] = sms_outbox
    assert text.to == "+33612345678" and text.body.startswith("Booked: Consultation, Thu 3 Dec 2026")
    sms = Delivery.objects.get(notification__recipient=with_phone, channel=Channel.SMS)
    assert (sms.status, sms.to, sms.provider_id.startswith("locmem-")) == (DeliveryStatus.SENT, "+33612345678", True)

    # A client who wants cancellations by SMS only, and nothing about reminders.
    NotificationSettings.objects.create(
        user=with_phone, channels={Kind.CANCELLED: [Channel.SMS], Kind.SESSION_REMINDER: []}
    )
    booking = services.book_slot(client=with_phone, session_type=consultation, start=START + dt.timedelta(hours=3))
    services.cancel(booking=booking, actor=coach, reason="Closed")
    assert channels(with_phone, Kind.CANCELLED) == [Channel.SMS]


def test_reminders_wanted_on_no_channel_are_skipped(coach, consultation, clock):
    client = ClientFactory()
    NotificationSettings.objects.create(user=client, channels={Kind.SESSION_REMINDER: []})
    booking = services.book_slot(client=client, session_type=consultation, start=START)
    clock.move_to(START - dt.timedelta(minutes=29))
    done = reminders.dispatch_due()
    assert not Notification.objects.filter(recipient=client, kind=Kind.SESSION_REMINDER).exists()
    assert Notification.objects.filter(recipient=coach, kind=Kind.SESSION_REMINDER).count() == 1
    skipped = booking.reminders.filter(recipient=client, kind=Kind.SESSION_REMINDER, status="skipped")
    assert done.sent == 1 and skipped.count() == 3


def test_an_sms_goes_through_the_real_twilio_client_and_records_the_sid(coach, consultation, settings, fake_twilio):
    settings.NOTIFICATION_METHOD = "sms"
    client = ClientFactory(phone="+33612345678")
    services.book_slot(client=client, session_type=consultation, start=START)
    sms = Delivery.objects.get(notification__recipient=client, channel=Channel.SMS)
    assert sms.status == DeliveryStatus.SENT and sms.provider_id.startswith("SM")
    [request] = [r for r in fake_twilio.requests if r.field("To") == "+33612345678"]
    assert request.field("Body").startswith("Booked: Consultation")
    assert request.field("StatusCallback") == f"{settings.SITE_URL}/sms/twilio/status/"
    assert not Delivery.objects.filter(notification__recipient=client, channel=Channel.EMAIL).exists()


def test_a_rejected_number_fails_at_once_and_a_twilio_outage_is_retried(coach, consultation, settings, fake_twilio):
    settings.NOTIFICATION_METHOD = "sms"
    client = ClientFactory(phone="+33612345678")
    fake_twilio.fail_next(400, 21211, "The 'To' number +33612345678 is not a valid phone number.")
    services.book_slot(client=client, session_type=consultation, start=START)
    sms = Delivery.objects.get(notification__recipient=client, channel=Channel.SMS)
    assert sms.status == DeliveryStatus.FAILED and "21211" in sms.error and sms.attempts == 1

    other = ClientFactory(phone="+33612345679")
    fake_twilio.fail_next(503)
    services.book_slot(client=other, session_type=consultation, start=START + dt.timedelta(hours=1))
    sms = Delivery.objects.get(notification__recipient=other, channel=Channel.SMS)
    assert sms.status == DeliveryStatus.QUEUED and sms.next_attempt_at == NOW + dt.timedelta(minutes=1)


def test_staff_template_is_used_and_a_broken_one_falls_back_and_is_logged(coach, consultation, caplog):
    MessageTemplate.objects.create(
        kind=Kind.BOOKING_CREATED,
        channel=Channel.EMAIL,
        subject="Your {{ session_title|lower }} is booked",
        body="Dear {{ recipient_name }}, see you {{ when }}.",
    )
    client = ClientFactory(name="Cleo")
    services.book_slot(client=client, session_type=consultation, start=START)
    [message] = mail_to(client)
    assert message.subject == "Your consultation is booked"
    assert message.body == "Dear Cleo, see you Thu 3 Dec 2026, 15:00 (Europe/Paris)."

    MessageTemplate.objects.filter(kind=Kind.BOOKING_CREATED).update(body="Dear {{ recipient_name|shout }}")
    MessageTemplate.objects.create(kind=Kind.BOOKING_CREATED, channel=Channel.IN_APP, subject="{% if %}", body="broken")
    mail.outbox.clear()
    other = ClientFactory(name="Otto")
    with caplog.at_level(logging.ERROR, logger="notifications.messages"):
        booking = services.book_slot(client=other, session_type=consultation, start=START + dt.timedelta(hours=1))
    assert booking.pk  # the booking stands
    [message] = mail_to(other)
    assert message.subject == "Booked: Consultation with Nora Haddad"  # built-in wording
    note = Notification.objects.get(recipient=other)
    assert note.title == "Booked: Consultation with Nora Haddad"
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "booking_created/email" in logged and "shout" in logged and "booking_created/in_app" in logged


def test_templates_are_kept_per_process_and_reread_after_a_while(coach, consultation, monkeypatch):
    """Saved here: used at once. Changed by another process (no signal here): used once
    the kept copy is older than TEMPLATES_KEPT_SECONDS."""
    from notifications import messages

    template = MessageTemplate.objects.create(
        kind=Kind.BOOKING_CREATED, channel=Channel.EMAIL, subject="First wording", body="Hello"
    )
    first = ClientFactory()
    services.book_slot(client=first, session_type=consultation, start=START)
    assert [message.subject for message in mail_to(first)] == ["First wording"]

    MessageTemplate.objects.filter(pk=template.pk).update(subject="Second wording")  # as another process would
    second = ClientFactory()
    services.book_slot(client=second, session_type=consultation, start=START + dt.timedelta(hours=1))
    assert [message.subject for message in mail_to(second)] == ["First wording"]

    later = messages.time.monotonic() + messages.TEMPLATES_KEPT_SECONDS + 1
    monkeypatch.setattr(messages.time, "monotonic", lambda: later)
    third = ClientFactory()
    services.book_slot(client=third, session_type=consultation, start=START + dt.timedelta(hours=2))
    assert [message.subject for message in mail_to(third)] == ["Second wording"]

    template.delete()
    fourth = ClientFactory()
    services.book_slot(client=fourth, session_type=consultation, start=START + dt.timedelta(hours=3))
    assert [message.subject for message in mail_to(fourth)] == ["Booked: Consultation with Nora Haddad"]


def test_staff_follow_new_and_cancelled_bookings_in_app(coach, consultation):
    staff = StaffFactory()
    client = ClientFactory(name="Cleo Martin")
    booking = services.book_slot(client=client, session_type=consultation, start=START)
    note = Notification.objects.get(recipient=staff)
    assert (note.kind, note.title) == (Kind.BOOKING_CREATED, "New booking: Cleo Martin with Nora Haddad")
    assert list(note.deliveries.values_list("channel", flat=True)) == [Channel.IN_APP]
    services.cancel(booking=booking, actor=staff, reason="Room closed")
    # Staff acted: not told of their own change; the client and the coach are.
    assert Notification.objects.filter(recipient=staff).count() == 1
    assert Notification.objects.filter(kind=Kind.CANCELLED).count() == 2


def test_the_coach_is_warned_near_the_day_limit(consultation, coach):
    profile = coach.coach_profile
    profile.max_sessions_per_day = 3
    profile.save()
    for hour in range(3):
        services.book_slot(client=ClientFactory(), session_type=consultation, start=START + dt.timedelta(hours=hour))
    warnings = Notification.objects.filter(recipient=coach, kind=Kind.SESSION_LIMIT_WARNING).order_by("pk")
    assert [note.title for note in warnings] == [
        "Nearly fully booked: 2 of 3 sessions on Thu 3 Dec",
        "Nearly fully booked: 3 of 3 sessions on Thu 3 Dec",
    ]


def test_the_week_warning_counts_alike_after_a_move_and_an_approval(consultation, coach):
    """A move reads the coach's week under the lock and passes it on; an approval has the
    warning count it itself — both give the same figures as the week really holds."""
    profile = coach.coach_profile
    profile.max_sessions_per_week = 4
    profile.save()
    day = dt.timedelta(days=1)
    services.book_slot(client=ClientFactory(), session_type=consultation, start=START)  # Thu 3 Dec
    services.book_slot(client=ClientFactory(), session_type=consultation, start=START + day)
    later = services.book_slot(client=ClientFactory(), session_type=consultation, start=START + 7 * day)
    assert not Notification.objects.filter(kind=Kind.SESSION_LIMIT_WARNING).exists()
    services.reschedule(booking=later, actor=later.client, start=START + 2 * day)  # into the busy week
    requested_type = SessionTypeFactory(coach=coach, title="Assessment", approval="always")
    request = services.book_slot(client=ClientFactory(), session_type=requested_type, start=START + 3 * day)
    services.approve(booking=request, actor=coach)
    warnings = Notification.objects.filter(recipient=coach, kind=Kind.SESSION_LIMIT_WARNING).order_by("pk")
    assert [(note.booking_id, note.title) for note in warnings] == [
        (later.pk, "Nearly fully booked: 3 of 4 sessions in the week of Mon 30 Nov"),
        (request.pk, "Nearly fully booked: 4 of 4 sessions in the week of Mon 30 Nov"),
    ]


def test_guardians_and_active_staff_are_told_and_nobody_else(coach, consultation):
    child = ClientFactory(name="Tom Child")
    mother, father = ClientFactory(name="Mia Mother"), ClientFactory(name="Finn Father")
    GuardianLinkFactory(guardian=mother, dependent=child)
    GuardianLinkFactory(guardian=father, dependent=child)
    other_child = ClientFactory()
    GuardianLinkFactory(guardian=ClientFactory(name="Someone Else"), dependent=other_child)
    staff = StaffFactory()
    gone = StaffFactory()
    gone.is_active = False
    gone.save()
    booking = services.book_slot(client=child, session_type=consultation, start=START, booked_by=mother)
    told = Notification.objects.filter(booking=booking, kind=Kind.BOOKING_CREATED)
    assert sorted(told.values_list("recipient_id", flat=True)) == sorted(
        [child.pk, mother.pk, father.pk, coach.pk, staff.pk]
    )


def test_the_feedback_request_links_to_the_rating_form(coach, consultation, clock):
    client = ClientFactory()
    booking = services.book_slot(client=client, session_type=consultation, start=START)
    clock.move_to(booking.session.end + dt.timedelta(minutes=61))
    services.complete_past_sessions()
    mail.outbox.clear()
    reminders.dispatch_due()
    [message] = mail_to(client)
    assert message.subject == "How was Consultation with Nora Haddad?"
    assert f"/bookings/{booking.reference}/#rate" in message.body
