"""In-app notifications: who is told what after each booking change, the bell, the list,
marking read, and the API."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import ClientFactory, GuardianLinkFactory
from bookings import services
from bookings.tests.factories import SessionTypeFactory, open_coach
from notifications.models import Channel, Delivery, DeliveryStatus, Kind, Notification

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
START = dt.datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # 10:00 in Paris

pytestmark = pytest.mark.django_db(transaction=True)  # notifications are made after the commit


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def signed_in(user) -> Client:
    http = Client()
    http.force_login(user)
    return http


def told(user) -> list[tuple[str, str]]:
    return [(n.kind, n.title) for n in Notification.objects.filter(recipient=user).order_by("pk")]


def test_a_request_tells_the_coach_and_the_answer_tells_the_client():
    coach = open_coach(require_approval_unconnected=True)
    coach.name = "Nora Coach"
    coach.save()
    st = SessionTypeFactory(coach=coach, title="Consultation")
    client = ClientFactory(name="Cleo Client", timezone="America/New_York")
    booking = services.book_slot(client=client, session_type=st, start=START)
    assert told(coach) == [(Kind.REQUEST_RECEIVED, "Booking request from Cleo Client: Consultation")]
    assert told(client) == [(Kind.BOOKING_CREATED, "Request sent: Consultation with Nora Coach")]
    # The text under the title goes on from it rather than saying it again.
    [sent] = Notification.objects.filter(recipient=client)
    assert sent.body == f"Wed 2 Dec 2026, 04:00 (America/New_York)\n{booking.reference}"
    [received] = Notification.objects.filter(recipient=coach)
    assert received.body == (
        f"Wed 2 Dec 2026, 10:00 (Europe/Paris). Approve, decline or suggest another time.\n{booking.reference}"
    )
    services.decline(booking=booking, actor=coach, reason="I'm away that week.")
    note = Notification.objects.get(recipient=client, kind=Kind.DECLINED)
    assert note.title == "Declined: Consultation with Nora Coach"
    assert "Wed 2 Dec 2026, 04:00 (America/New_York)" in note.body  # the client's own clock
    assert "Reason: I'm away that week." in note.body
    assert booking.reference in note.body
    assert "Declined" not in note.body
    # The coach acted: nothing for them about their own decline.
    assert [kind for kind, _ in told(coach)] == [Kind.REQUEST_RECEIVED]
    delivery = Delivery.objects.get(notification=note, channel=Channel.IN_APP)
    assert (delivery.channel, delivery.status) == (Channel.IN_APP, DeliveryStatus.SENT)


def test_a_cancellation_tells_the_other_side_and_the_guardian():
    coach = open_coach()
    st = SessionTypeFactory(coach=coach)
    dependent = ClientFactory()
    guardian = ClientFactory()
    GuardianLinkFactory(guardian=guardian, dependent=dependent)
    booking = services.book_slot(client=dependent, session_type=st, start=START, booked_by=guardian)
    assert [kind for kind, _ in told(dependent)] == [Kind.BOOKING_CREATED]
    assert [kind for kind, _ in told(guardian)] == [Kind.BOOKING_CREATED]  # confirmed to who booked
    services.cancel(booking=booking, actor=coach, reason="Ill today")
    assert [kind for kind, _ in told(dependent)] == [Kind.BOOKING_CREATED, Kind.CANCELLED]
    assert [kind for kind, _ in told(guardian)] == [Kind.BOOKING_CREATED, Kind.CANCELLED]
    assert [kind for kind, _ in told(coach)] == [Kind.BOOKING_CREATED]


def test_the_bell_the_list_and_marking_read():
    coach = open_coach()
    st = SessionTypeFactory(coach=coach)
    for hour in range(3):
        services.book_slot(client=ClientFactory(), session_type=st, start=START + dt.timedelta(hours=hour))
    http = signed_in(coach)
    bell = http.get(reverse("notifications_bell"))
    assert bell.status_code == 200 and 'data-testid="bell-count">3<' in bell.content.decode()
    assert http.get(reverse("notifications_bell") + "?n=3").status_code == 204  # nothing new
    page = http.get(reverse("notifications")).content.decode()
    assert page.count('data-testid="notification"') == 3 and "3 unread" in page
    first = Notification.objects.filter(recipient=coach).first()
    response = http.post(reverse("notification_read", args=[first.pk]), {"open": "1"})
    assert response.status_code == 302 and response["Location"] == reverse(
        "booking_detail", args=[first.booking.reference]
    )
    assert http.get(reverse("notifications_bell") + "?n=3").status_code == 200
    http.post(reverse("notifications_read_all"))
    assert not Notification.objects.filter(recipient=coach, read_at__isnull=True).exists()
    assert "bell-count" not in http.get(reverse("notifications_bell")).content.decode()
    # Someone else's notification is not found.
    other = signed_in(ClientFactory())
    assert other.post(reverse("notification_read", args=[first.pk])).status_code == 404


def test_the_api_lists_newest_first_and_marks_read():
    coach = open_coach()
    st = SessionTypeFactory(coach=coach)
    for hour in range(3):
        services.book_slot(client=ClientFactory(), session_type=st, start=START + dt.timedelta(hours=hour))
    http = signed_in(coach)
    body = http.get("/api/v1/notifications?limit=2").json()
    assert body["count"] == 3 and body["unread"] == 3 and len(body["results"]) == 2
    ids = [item["id"] for item in body["results"]]
    assert ids == sorted(ids, reverse=True)
    assert body["results"][0]["booking"].startswith("BK-")
    read = http.post(f"/api/v1/notifications/{ids[0]}/read")
    assert read.status_code == 200 and read.json()["read_at"] is not None
    assert http.get("/api/v1/notifications").json()["unread"] == 2
    stranger = signed_in(ClientFactory())
    missing = stranger.post(f"/api/v1/notifications/{ids[0]}/read")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert Client().get("/api/v1/notifications").status_code == 401
