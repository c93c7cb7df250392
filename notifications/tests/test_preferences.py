"""The notification settings page: what it shows (defaults, kinds per role, the SMS note),
what saving stores, tampered requests refused or ignored without an error page, reminders
re-planned for bookings ahead, and the pipeline following the channels people picked."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import ClientFactory, CoachFactory, GuardianLinkFactory, StaffFactory
from bookings import services
from bookings.tests.factories import SessionTypeFactory, open_coach
from notifications import reminders
from notifications.models import (
    Channel,
    Delivery,
    Kind,
    Notification,
    NotificationSettings,
    Reminder,
    ReminderStatus,
)

URL = "/profile/notifications/"
UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
START = dt.datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
PHONE = "+33612345678"
CLIENT_KINDS = [
    Kind.BOOKING_CREATED,
    Kind.CONFIRMED,
    Kind.DECLINED,
    Kind.ALTERNATIVES_SUGGESTED,
    Kind.INFORMATION_REQUESTED,
    Kind.CANCELLED,
    Kind.RESCHEDULED,
    Kind.SESSION_REMINDER,
    Kind.CANCELLATION_WINDOW,
    Kind.FEEDBACK_REQUEST,
    Kind.PAYMENT_RECEIVED,
    Kind.PAYMENT_FAILED,
    Kind.PAYMENT_EXPIRED,
    Kind.PAYMENT_REFUNDED,
    Kind.PAYMENT_DUE,
    Kind.WAITLIST_OFFER,
    Kind.WAITLIST_EXPIRED,
    Kind.WAITLIST_POSITION,
    Kind.WORKSHOP_CONFIRMED,
    Kind.MATERIAL_AVAILABLE,
]
COACH_ONLY = {Kind.REQUEST_RECEIVED, Kind.SESSION_LIMIT_WARNING}


class Page(HTMLParser):
    """The inputs of the page, the text of each label (by ``for``), and the kinds' rows."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.inputs: list[dict] = []
        self.labels: dict[str, str] = {}
        self.kinds: list[str] = []
        self._label_for: list[str | None] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input":
            self.inputs.append(attrs)
        elif tag == "label":
            self._label_for.append(attrs.get("for"))
            if attrs.get("for"):
                self.labels.setdefault(attrs["for"], "")
        elif tag == "tr" and attrs.get("data-kind"):
            self.kinds.append(attrs["data-kind"])

    def handle_endtag(self, tag):
        if tag == "label" and self._label_for:
            self._label_for.pop()

    def handle_data(self, data):
        for target in self._label_for:
            if target:
                self.labels[target] += data

    def ticked(self, name: str) -> list[str]:
        return [
            i["value"]
            for i in self.inputs
            if i.get("name") == name and i.get("type") in ("checkbox", "radio") and "checked" in i
        ]

    def form_data(self) -> dict[str, list[str]]:
        """What the browser would send as the page stands."""
        data: dict[str, list[str]] = {}
        for i in self.inputs:
            if i.get("type") in ("checkbox", "radio") and "checked" not in i:
                continue
            if i.get("name") and i.get("name") != "csrfmiddlewaretoken":
                data.setdefault(i["name"], []).append(i.get("value", ""))
        return data


def signed_in(user) -> Client:
    http = Client()
    http.force_login(user)
    return http


def page(http: Client) -> Page:
    response = http.get(URL)
    assert response.status_code == 200
    return Page(response.content.decode())


# What the page shows -------------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_shows_the_default_channels_and_reminders(settings):
    settings.NOTIFICATION_METHOD = "email"
    settings.NOTIFICATION_REMINDER_MINUTES = [24 * 60, 120, 30]
    shown = page(signed_in(ClientFactory()))
    assert shown.kinds == CLIENT_KINDS
    for kind in CLIENT_KINDS:
        assert shown.ticked(f"ch_{kind}") == [Channel.IN_APP, Channel.EMAIL], kind
    assert shown.ticked("reminders_mode") == ["usual"]
    assert shown.ticked("reminders") == ["1440", "120", "30"]

    settings.NOTIFICATION_METHOD = "both"
    settings.NOTIFICATION_REMINDER_MINUTES = [60]
    shown = page(signed_in(ClientFactory()))
    for kind in CLIENT_KINDS:
        assert shown.ticked(f"ch_{kind}") == [Channel.IN_APP, Channel.EMAIL, Channel.SMS], kind
    assert shown.ticked("reminders") == ["60"]


@pytest.mark.django_db
def test_a_client_sees_only_client_kinds_a_coach_also_the_coach_ones_staff_their_own_defaults():
    client_kinds = set(page(signed_in(ClientFactory())).kinds)
    coach_kinds = set(page(signed_in(CoachFactory())).kinds)
    assert not client_kinds & COACH_ONLY
    assert coach_kinds >= COACH_ONLY
    assert client_kinds <= coach_kinds  # a coach is someone's client now and then

    staff_page = page(signed_in(StaffFactory()))
    assert not set(staff_page.kinds) & COACH_ONLY
    # What staff monitor comes in-app only unless they choose otherwise.
    assert staff_page.ticked(f"ch_{Kind.CANCELLED}") == [Channel.IN_APP]
    assert staff_page.ticked(f"ch_{Kind.CONFIRMED}") == [Channel.IN_APP, Channel.EMAIL]


@pytest.mark.django_db
def test_each_checkbox_is_labelled_with_its_kind_and_channel():
    shown = page(signed_in(ClientFactory()))
    boxes = [i for i in shown.inputs if i.get("name", "").startswith("ch_")]
    assert len(boxes) == len(CLIENT_KINDS) * 3
    labels = {" ".join(shown.labels[box["id"]].split()) for box in boxes}
    assert "Booking confirmed: Email" in labels
    assert "Session reminder: SMS" in labels
    assert len(labels) == len(boxes)  # every one different
    reminder_labels = {" ".join(shown.labels[i["id"]].split()) for i in shown.inputs if i.get("name") == "reminders"}
    assert "1 hour before" in reminder_labels


@pytest.mark.django_db
def test_without_a_usable_phone_the_page_says_how_to_get_sms():
    no_phone = signed_in(ClientFactory()).get(URL).content.decode()
    assert "Add a mobile number on your profile" in no_phone
    assert f'href="{reverse("profile")}#id_phone"' in no_phone
    with_phone = signed_in(ClientFactory(phone=PHONE)).get(URL).content.decode()
    assert "Add a mobile number on your profile" not in with_phone
    assert PHONE in with_phone


def test_signing_in_is_required(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


@pytest.mark.django_db
def test_the_inbox_links_to_the_page():
    html = signed_in(ClientFactory()).get(reverse("notifications")).content.decode()
    assert f'href="{URL}"' in html and "Notification settings" in html


# Saving --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_saving_stores_the_changes_and_keeps_following_the_defaults_elsewhere(settings):
    settings.NOTIFICATION_METHOD = "email"
    user = ClientFactory(phone=PHONE)
    http = signed_in(user)
    data = page(http).form_data()
    data[f"ch_{Kind.CONFIRMED}"] = [Channel.SMS]
    data[f"ch_{Kind.FEEDBACK_REQUEST}"] = []
    data["reminders_mode"] = ["own"]
    data["reminders"] = ["60", "10"]
    response = http.post(URL, data, follow=True)
    assert response.redirect_chain == [(URL, 302)]
    assert "Your notification settings were saved." in response.content.decode()

    stored = NotificationSettings.objects.get(user=user)
    assert stored.channels == {Kind.CONFIRMED: [Channel.SMS], Kind.FEEDBACK_REQUEST: []}
    assert stored.reminder_minutes == [60, 10]
    shown = Page(response.content.decode())
    assert shown.ticked(f"ch_{Kind.CONFIRMED}") == [Channel.SMS]
    assert shown.ticked(f"ch_{Kind.FEEDBACK_REQUEST}") == []
    assert shown.ticked("reminders_mode") == ["own"]
    assert shown.ticked("reminders") == ["60", "10"]

    # Untouched kinds follow the product's default when it changes.
    settings.NOTIFICATION_METHOD = "both"
    shown = page(http)
    assert shown.ticked(f"ch_{Kind.CANCELLED}") == [Channel.IN_APP, Channel.EMAIL, Channel.SMS]
    assert shown.ticked(f"ch_{Kind.CONFIRMED}") == [Channel.SMS]

    # Back to the usual reminders: stored as "none of my own".
    data = shown.form_data()
    data["reminders_mode"] = ["usual"]
    assert http.post(URL, data).status_code == 302
    stored.refresh_from_db()
    assert stored.reminder_minutes is None
    assert stored.channels[Kind.CONFIRMED] == [Channel.SMS]


@pytest.mark.django_db
def test_own_reminders_with_none_ticked_means_no_session_reminders():
    user = ClientFactory()
    http = signed_in(user)
    data = page(http).form_data()
    data["reminders_mode"] = ["own"]
    data.pop("reminders")
    assert http.post(URL, data).status_code == 302
    assert NotificationSettings.objects.get(user=user).reminder_minutes == []
    assert page(http).ticked("reminders") == []


@pytest.mark.django_db
def test_unknown_kinds_and_channels_are_ignored():
    user = ClientFactory()
    http = signed_in(user)
    data = page(http).form_data()
    data["ch_bogus"] = ["email"]
    data[f"ch_{Kind.REQUEST_RECEIVED}"] = ["email"]  # a coach's kind, not a client's
    data[f"ch_{Kind.CONFIRMED}"] = ["fax", "email", "<script>", "email"]
    response = http.post(URL, data)
    assert response.status_code == 302
    stored = NotificationSettings.objects.get(user=user)
    assert stored.channels == {Kind.CONFIRMED: [Channel.EMAIL]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        {"reminders_mode": ["own"], "reminders": ["abc"]},
        {"reminders_mode": ["own"], "reminders": ["-30"]},
        {"reminders_mode": ["own"], "reminders": ["7"]},  # not one of the offered times
        {"reminders_mode": ["own"], "reminders": ["9" * 40]},
        {"reminders_mode": ["sometimes"]},
        {"reminders_mode": []},
    ],
)
def test_tampered_reminders_get_a_clear_error_and_nothing_is_saved(change):
    user = ClientFactory()
    http = signed_in(user)
    data = {**page(http).form_data(), **change}
    response = http.post(URL, data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Your settings were not saved." in html
    assert "Pick reminder times from the list." in html or "Choose the usual reminders or your own." in html
    assert not NotificationSettings.objects.filter(user=user).exists()


@pytest.mark.django_db
def test_an_empty_or_odd_post_does_not_break_the_page():
    user = ClientFactory()
    http = signed_in(user)
    assert http.post(URL, {}).status_code == 400
    assert http.post(URL, "not a form", content_type="text/plain").status_code == 400
    assert http.put(URL).status_code == 405
    # Everything unticked with the usual reminders: a valid (if quiet) choice.
    response = http.post(URL, {"reminders_mode": "usual"})
    assert response.status_code == 302
    stored = NotificationSettings.objects.get(user=user)
    assert stored.channels == {kind: [] for kind in CLIENT_KINDS}


# Reminders re-planned, and the channels honoured ----------------------------------------


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def pending_reminders(booking, person) -> list[dt.datetime]:
    return sorted(
        Reminder.objects.filter(
            booking=booking, recipient=person, kind=Kind.SESSION_REMINDER, status=ReminderStatus.PENDING
        ).values_list("due_at", flat=True)
    )


def choose(http: Client, **changes) -> None:
    data = page(http).form_data()
    data.update(changes)
    response = http.post(URL, data)
    assert response.status_code == 302, response.content.decode()[:2000]


@pytest.mark.django_db(transaction=True)
def test_changing_reminders_replans_the_bookings_ahead(clock):
    coach = open_coach()
    session_type = SessionTypeFactory(coach=coach)
    client = ClientFactory()
    booking = services.book_slot(client=client, session_type=session_type, start=START)
    usual = [START - dt.timedelta(minutes=m) for m in (24 * 60, 120, 30)]
    assert pending_reminders(booking, client) == usual

    http = signed_in(client)
    choose(http, reminders_mode=["own"], reminders=["60"])
    assert pending_reminders(booking, client) == [START - dt.timedelta(hours=1)]
    assert pending_reminders(booking, coach) == usual  # the coach's own choice is untouched
    # The other planned messages stay as they were.
    assert Reminder.objects.filter(
        booking=booking, kind=Kind.CANCELLATION_WINDOW, status=ReminderStatus.PENDING
    ).exists()

    choose(http, reminders_mode=["usual"])
    assert pending_reminders(booking, client) == usual

    choose(signed_in(coach), reminders_mode=["own"], reminders=["10"])
    assert pending_reminders(booking, coach) == [START - dt.timedelta(minutes=10)]
    assert pending_reminders(booking, client) == usual


@pytest.mark.django_db(transaction=True)
def test_a_guardians_choice_replans_their_dependents_bookings(clock):
    coach = open_coach()
    dependent, guardian = ClientFactory(), ClientFactory()
    GuardianLinkFactory(guardian=guardian, dependent=dependent)
    booking = services.book_slot(
        client=dependent, session_type=SessionTypeFactory(coach=coach), start=START, booked_by=guardian
    )
    assert len(pending_reminders(booking, guardian)) == 3
    choose(signed_in(guardian), reminders_mode=["own"], reminders=["120"])
    assert pending_reminders(booking, guardian) == [START - dt.timedelta(hours=2)]
    assert len(pending_reminders(booking, dependent)) == 3


@pytest.mark.django_db(transaction=True)
def test_only_bookings_ahead_are_replanned_soonest_first_up_to_the_limit(clock):
    coach = open_coach()
    session_type = SessionTypeFactory(coach=coach)
    client = ClientFactory()
    later = services.book_slot(client=client, session_type=session_type, start=START + dt.timedelta(days=1))
    sooner = services.book_slot(client=client, session_type=session_type, start=START)
    cancelled = services.book_slot(client=client, session_type=session_type, start=START + dt.timedelta(hours=2))
    services.cancel(booking=cancelled, actor=client)
    assert list(reminders.upcoming_bookings(client)) == [sooner, later]
    assert list(reminders.upcoming_bookings(client, limit=1)) == [sooner]
    assert list(reminders.upcoming_bookings(coach)) == [sooner, later]
    clock.move_to(START + dt.timedelta(minutes=1))
    assert list(reminders.upcoming_bookings(client)) == [later]


@pytest.mark.django_db(transaction=True)
def test_bookings_beyond_one_batch_are_replanned_in_the_background(clock, monkeypatch):
    """Saving re-plans one batch at once and queues the next (tasks run inline in tests),
    batch after batch, until every booking ahead follows the new choice."""
    monkeypatch.setattr(reminders, "RESYNC_LIMIT", 2)
    coach = open_coach()
    session_type = SessionTypeFactory(coach=coach)
    client = ClientFactory()
    starts = [START + dt.timedelta(days=day, hours=hour) for day in range(3) for hour in (0, 2)][:5]
    bookings = [services.book_slot(client=client, session_type=session_type, start=start) for start in starts]
    choose(signed_in(client), reminders_mode=["own"], reminders=["60"])
    for booking, start in zip(bookings, starts, strict=True):
        assert pending_reminders(booking, client) == [start - dt.timedelta(hours=1)], start
    assert pending_reminders(bookings[-1], coach) == [starts[-1] - dt.timedelta(minutes=m) for m in (24 * 60, 120, 30)]


@pytest.mark.django_db(transaction=True)
def test_a_failing_queue_for_the_rest_leaves_the_save_and_the_first_batch(clock, monkeypatch, caplog):
    import django_q.tasks

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(reminders, "RESYNC_LIMIT", 1)
    coach = open_coach()
    session_type = SessionTypeFactory(coach=coach)
    client = ClientFactory()
    first = services.book_slot(client=client, session_type=session_type, start=START)
    second = services.book_slot(client=client, session_type=session_type, start=START + dt.timedelta(days=1))
    monkeypatch.setattr(django_q.tasks, "async_task", broker_down)
    choose(signed_in(client), reminders_mode=["own"], reminders=["60"])  # answered 302: saved
    assert NotificationSettings.objects.get(user=client).reminder_minutes == [60]
    assert pending_reminders(first, client) == [START - dt.timedelta(hours=1)]
    assert len(pending_reminders(second, client)) == 3  # left for its next change
    assert "broker down" in caplog.text


def confirmation_deliveries(client) -> list[str]:
    return sorted(
        Delivery.objects.filter(notification__recipient=client, notification__kind=Kind.CONFIRMED).values_list(
            "channel", flat=True
        )
    )


def request_and_approve(client):
    coach = open_coach(require_approval_unconnected=True)
    booking = services.book_slot(client=client, session_type=SessionTypeFactory(coach=coach), start=START)
    mail.outbox.clear()
    services.approve(booking=booking, actor=coach)
    return booking


@pytest.mark.django_db(transaction=True)
def test_a_confirmation_goes_by_sms_only_when_that_is_the_choice(clock, settings, sms_outbox):
    settings.NOTIFICATION_METHOD = "email"
    client = ClientFactory(phone=PHONE)
    choose(signed_in(client), **{f"ch_{Kind.CONFIRMED}": [Channel.SMS]})

    booking = request_and_approve(client)

    assert confirmation_deliveries(client) == [Channel.SMS]
    assert [message.to for message in sms_outbox] == [PHONE]
    assert booking.reference in sms_outbox[0].body
    assert not [message for message in mail.outbox if message.to == [client.email]]
    # Kinds left alone still come in-app and by email.
    created = Notification.objects.get(recipient=client, kind=Kind.BOOKING_CREATED)
    assert sorted(created.deliveries.values_list("channel", flat=True)) == [Channel.EMAIL, Channel.IN_APP]


@pytest.mark.django_db(transaction=True)
def test_without_a_phone_an_sms_only_choice_sends_nothing_by_sms(clock, settings, sms_outbox):
    settings.NOTIFICATION_METHOD = "email"
    client = ClientFactory()
    choose(signed_in(client), **{f"ch_{Kind.CONFIRMED}": [Channel.SMS, Channel.IN_APP]})

    request_and_approve(client)

    assert confirmation_deliveries(client) == [Channel.IN_APP]
    assert sms_outbox == []
    assert not [message for message in mail.outbox if message.to == [client.email]]
