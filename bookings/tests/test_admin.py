"""The bookings back office: every page opens for an admin and for staff, nothing changes
a status behind the services' back, the actions call the services (recording the staff
member in the history), and the lists cost the same number of queries whatever their length."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib import admin
from django.db import connection
from django.db.models import Model
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import ClientFactory
from availability.models import Allocation
from bookings import services
from bookings.models import Booking, BookingEvent, BookingStatus, PlannedSession, Session, SessionStatus, SessionType
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
DAY2 = dt.datetime(2026, 12, 2, 8, 0, tzinfo=UTC)  # 09:00 in Paris


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def admin_url(model: type[Model], page: str = "changelist", *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}", args=args)


@pytest.fixture
def coach():
    return open_coach(timezone="Europe/Paris", require_approval_unconnected=True, firm_booking_threshold_hours=0)


@pytest.fixture
def calendar(coach):
    """A request, a firm booking (from a client who was told yes at once), a group session
    with a seat taken, and a plan to schedule later."""
    consultation = SessionTypeFactory(coach=coach, title="Career consultation", approval="coach")
    firm_type = SessionTypeFactory(coach=coach, title="Quick check-in", approval="never", duration_minutes=30)
    group_type = GroupTypeFactory(coach=coach, title="Leadership circle", capacity=6)
    requester = ClientFactory(email="rita@example.com", name="Rita Request")
    firm_client = ClientFactory(email="fred@example.com", name="Fred Firm")
    request = services.book_slot(client=requester, session_type=consultation, start=DAY2)
    firm = services.book_slot(client=firm_client, session_type=firm_type, start=DAY2 + dt.timedelta(hours=2))
    group = services.publish_session(actor=coach, session_type=group_type, start=DAY2 + dt.timedelta(hours=4))
    seat = services.take_seat(client=firm_client, session=group)
    plan = services.schedule_later(client=requester, session_type=group_type, notes="After the holidays")
    assert request.status == BookingStatus.REQUESTED
    assert firm.status == BookingStatus.FIRM_BOOKED
    return {
        SessionType: consultation,
        Session: group,
        Booking: request,
        BookingEvent: request.events.get(),
        PlannedSession: plan,
        Allocation: Allocation.objects.filter(session=firm.session).get(),
        "firm": firm,
        "seat": seat,
    }


# model, a search term that finds the object from ``calendar``, one filter of that model's admin
PAGES = [
    pytest.param(SessionType, "Career", "kind__exact=one_on_one", id="sessiontype"),
    pytest.param(Session, "Leadership", "kind=group", id="session"),
    pytest.param(Booking, "rita@example.com", "status__exact=requested", id="booking"),
    pytest.param(BookingEvent, "BK-", "action=requested", id="bookingevent"),
    pytest.param(PlannedSession, "rita@example.com", "state=open", id="plannedsession"),
    pytest.param(Allocation, "", "kind__exact=session", id="allocation"),
]


def test_every_bookings_model_is_registered():
    for param in PAGES:
        assert param.values[0] in admin.site._registry


@pytest.mark.parametrize("role", ["admin", "staff"])
@pytest.mark.parametrize(("model", "search", "filter_query"), PAGES)
class TestPages:
    def test_changelist_search_and_filter(self, as_role, calendar, role, model, search, filter_query):
        http = as_role(role)
        obj = calendar[model]

        listed = http.get(admin_url(model))
        searched = http.get(admin_url(model), {"q": search})
        filtered = http.get(f"{admin_url(model)}?{filter_query}")

        for response in (listed, searched, filtered):
            assert response.status_code == 200
            assert obj in response.context["cl"].result_list
        nothing = http.get(admin_url(model), {"q": "no-such-thing-zzz"})
        assert list(nothing.context["cl"].result_list) == []

    def test_change_page_opens(self, as_role, calendar, role, model, search, filter_query):
        obj = calendar[model]

        response = as_role(role).get(admin_url(model, "change", obj.pk))

        assert response.status_code == 200
        assert response.context["original"] == obj


def test_times_are_shown_in_the_viewers_zone_with_the_zone_named(as_role, calendar, staff_user):
    staff_user.timezone = "Asia/Kolkata"
    staff_user.save()

    response = as_role("staff").get(admin_url(Booking))

    # 08:00 UTC is 13:30 in Kolkata.
    assert "2026-12-02 13:30 (Asia/Kolkata)" in response.content.decode()


def test_session_filters_by_status_kind_and_coach(as_role, calendar, coach):
    http = as_role("staff")
    group = calendar[Session]
    one_on_one = calendar[Booking].session

    def listed(query: str) -> set[Session]:
        response = http.get(f"{admin_url(Session)}?{query}")
        assert response.status_code == 200
        return set(response.context["cl"].result_list)

    assert listed("kind=group") == {group}
    assert one_on_one in listed("kind=one_on_one")
    assert group not in listed("kind=one_on_one")
    assert group in listed(f"coach__id__exact={coach.pk}")
    assert listed("status__exact=cancelled") == set()
    assert group in listed("status__exact=scheduled")


def test_session_page_lists_its_bookings_read_only(as_role, calendar):
    session = calendar[Session]

    response = as_role("staff").get(admin_url(Session, "change", session.pk))

    inline, materials = response.context["inline_admin_formsets"]
    assert [form.original for form in inline] == [calendar["seat"]]
    assert not inline.has_add_permission and not inline.has_change_permission
    # Materials shared with its participants: staff see and may remove them, never add.
    assert not materials.has_add_permission and not materials.has_change_permission
    assert "1/6" in as_role("staff").get(admin_url(Session)).content.decode()
    form = response.context["adminform"].form
    assert "seats_taken" not in form.fields and "status" not in form.fields and "capacity" not in form.fields


def test_booking_search_by_reference_and_client_name(as_role, calendar):
    booking = calendar[Booking]
    http = as_role("staff")

    by_reference = http.get(admin_url(Booking), {"q": booking.reference}).context["cl"].result_list
    by_name = http.get(admin_url(Booking), {"q": "Rita Request"}).context["cl"].result_list

    assert list(by_reference) == [booking]
    assert list(by_name) == [booking]


def test_booking_page_shows_the_history_and_keeps_status_read_only(as_role, calendar, coach, staff_user):
    booking = calendar[Booking]
    services.approve(booking=booking, actor=coach)
    http = as_role("staff")

    response = http.get(admin_url(Booking, "change", booking.pk))

    (history,) = response.context["inline_admin_formsets"]
    assert [(form.original.action, form.original.actor) for form in history] == [
        ("requested", booking.client),
        ("approved", coach),
    ]
    form = response.context["adminform"].form
    assert "status" not in form.fields
    assert "status" in response.context["adminform"].readonly_fields
    # A hand-made POST can't change the status either.
    http.post(admin_url(Booking, "change", booking.pk), {"status": BookingStatus.CANCELLED})
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CONFIRMED
    assert booking.events.count() == 2


@pytest.mark.parametrize("role", ["admin", "staff"])
def test_history_can_be_read_but_never_written(as_role, calendar, role):
    event = calendar[BookingEvent]
    http = as_role(role)

    assert http.get(admin_url(BookingEvent, "add")).status_code == 403
    assert http.get(admin_url(BookingEvent, "delete", event.pk)).status_code == 403
    page = http.get(admin_url(BookingEvent, "change", event.pk))
    assert page.status_code == 200
    assert page.context["adminform"].form.fields == {}  # view only
    http.post(admin_url(BookingEvent, "change", event.pk), {"action": "tampered", "note": "tampered"})
    assert BookingEvent.objects.get(pk=event.pk).action == "requested"
    assert http.get(admin_url(BookingEvent)).context["action_form"] is None  # no bulk delete


@pytest.mark.parametrize("model", [Booking, Session, BookingEvent, PlannedSession, Allocation])
def test_no_adding_behind_the_services(as_role, model):
    assert as_role("admin").get(admin_url(model, "add")).status_code == 403


# --- actions ------------------------------------------------------------------------------


def run_action(http, action: str, bookings: list[Booking], reason: str = ""):
    return http.post(
        admin_url(Booking),
        {"action": action, "_selected_action": [str(b.pk) for b in bookings], "index": "0", "reason": reason},
    )


def messages_of(response) -> list[str]:
    return [str(message) for message in response.wsgi_request._messages]


@pytest.mark.parametrize("role", ["admin", "staff"])
def test_cancel_by_staff_goes_through_the_service(as_role, users_by_role, calendar, role):
    firm = calendar["firm"]

    response = run_action(as_role(role), "cancel_by_staff", [firm], reason="The coach is unwell.")

    assert response.status_code == 302
    firm.refresh_from_db()
    assert firm.status == BookingStatus.CANCELLED
    assert firm.cancelled_by == users_by_role[role]
    assert firm.cancellation_reason == "The coach is unwell."
    last = firm.events.last()
    assert (last.action, last.actor, last.note) == ("cancelled", users_by_role[role], "The coach is unwell.")
    assert not Allocation.objects.filter(session=firm.session, is_active=True).exists()
    assert "1 booking(s) cancelled." in messages_of(response)


def test_cancel_needs_a_reason(as_role, calendar):
    firm = calendar["firm"]

    response = run_action(as_role("staff"), "cancel_by_staff", [firm], reason="  ")

    assert response.status_code == 302
    assert Booking.objects.get(pk=firm.pk).status == BookingStatus.FIRM_BOOKED
    assert firm.events.count() == 1
    assert any("reason" in text for text in messages_of(response))


def run_session_action(http, sessions: list[Session], reason: str = ""):
    return http.post(
        admin_url(Session),
        {
            "action": "cancel_sessions",
            "_selected_action": [str(s.pk) for s in sessions],
            "index": "0",
            "reason": reason,
        },
    )


@pytest.mark.django_db(transaction=True)  # the attendees' notifications are sent after the commit
def test_staff_call_off_a_group_session_and_every_seat_in_it(as_role, calendar, staff_user):
    from notifications.models import Kind, Notification

    group, seat = calendar[Session], calendar["seat"]
    other = services.take_seat(client=ClientFactory(name="Olga Other"), session=group)

    response = run_session_action(as_role("staff"), [group], reason="The coach is ill.")

    assert response.status_code == 302
    assert "1 session(s) cancelled." in messages_of(response)
    group.refresh_from_db()
    assert (group.status, group.seats_taken) == (SessionStatus.CANCELLED, 0)
    for booking in (seat, other):
        booking.refresh_from_db()
        assert (booking.status, booking.cancelled_by, booking.cancellation_reason) == (
            BookingStatus.CANCELLED,
            staff_user,
            "The coach is ill.",
        )
        assert Notification.objects.filter(recipient=booking.client, booking=booking, kind=Kind.CANCELLED).exists()
    assert not Allocation.objects.filter(session=group, is_active=True).exists()

    again = run_session_action(as_role("staff"), [group], reason="Twice")
    assert again.status_code == 302
    assert any("already over or cancelled" in text for text in messages_of(again))


def test_calling_a_session_off_needs_a_reason(as_role, calendar):
    group = calendar[Session]

    response = run_session_action(as_role("staff"), [group], reason=" ")

    assert response.status_code == 302
    assert any("reason" in text for text in messages_of(response))
    group.refresh_from_db()
    assert group.status == SessionStatus.SCHEDULED
    assert calendar["seat"].events.count() == 1


def test_approve_requests_records_the_staff_member(as_role, calendar, staff_user):
    request, firm = calendar[Booking], calendar["firm"]

    response = run_action(as_role("staff"), "approve_requests", [request, firm])

    # The request is approved; the firm booking's refusal is a message, not an error page.
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == BookingStatus.CONFIRMED
    assert request.events.last().actor == staff_user
    assert Allocation.objects.get(session=request.session).kind == "session"
    assert Booking.objects.get(pk=firm.pk).status == BookingStatus.FIRM_BOOKED
    texts = messages_of(response)
    assert f"{firm.reference}: This request has already been answered." in texts
    assert "1 booking(s) approved." in texts


def test_decline_requests_with_a_reason(as_role, calendar, staff_user):
    request = calendar[Booking]

    run_action(as_role("staff"), "decline_requests", [request], reason="The coach is away that week.")

    request.refresh_from_db()
    assert request.status == BookingStatus.DECLINED
    assert request.decline_reason == "The coach is away that week."
    assert (request.events.last().action, request.events.last().actor) == ("declined", staff_user)
    assert Session.objects.get(pk=request.session_id).status == SessionStatus.CANCELLED


def test_mark_no_show_only_once_the_session_has_started(as_role, calendar, staff_user, frozen):
    firm = calendar["firm"]
    http = as_role("staff")

    too_early = run_action(http, "mark_no_show", [firm])

    assert too_early.status_code == 302
    assert Booking.objects.get(pk=firm.pk).status == BookingStatus.FIRM_BOOKED
    assert f"{firm.reference}: The session hasn't started yet." in messages_of(too_early)

    frozen.move_to(firm.session.start + dt.timedelta(minutes=20))
    run_action(http, "mark_no_show", [firm])

    firm.refresh_from_db()
    assert firm.status == BookingStatus.NO_SHOW
    assert (firm.events.last().action, firm.events.last().actor) == ("no_show", staff_user)


def test_a_client_with_admin_access_is_refused_by_the_service_not_a_500(calendar, client_user):
    """Someone let into the admin without being staff can't act on a coach's bookings."""
    from django.contrib.auth.models import Permission
    from django.test import Client

    client_user.is_staff = True
    client_user.save()
    client_user.user_permissions.add(*Permission.objects.filter(codename__in=["change_booking", "view_booking"]))
    http = Client()
    http.force_login(client_user)

    response = run_action(http, "approve_requests", [calendar[Booking]])

    assert response.status_code == 302
    assert Booking.objects.get(pk=calendar[Booking].pk).status == BookingStatus.REQUESTED
    assert any("Only the coach or back-office staff" in text for text in messages_of(response))


def test_session_type_form_keeps_group_capacity_within_the_limit(as_role, coach, settings):
    settings.MAX_GROUP_CAPACITY = 8
    data = {
        "coach": coach.pk,
        "title": "Big class",
        "kind": "group",
        "is_active": "on",
        "duration_minutes": 60,
        "capacity": 9,
        "price": "10.00",
        "currency": "EUR",
        "modality": "online",
        "approval": "coach",
    }
    http = as_role("staff")

    refused = http.post(admin_url(SessionType, "add"), data)
    accepted = http.post(admin_url(SessionType, "add"), {**data, "capacity": 8})

    assert refused.status_code == 200
    assert "A group session has at most 8 seats." in refused.content.decode()
    assert accepted.status_code == 302
    assert SessionType.objects.get(title="Big class").capacity == 8


# --- query counts -------------------------------------------------------------------------


def make_bookings(coach, count: int) -> None:
    consultation = SessionTypeFactory(coach=coach, approval="never")
    group_type = GroupTypeFactory(coach=coach, capacity=10)
    made = 0
    day = DAY2
    while made < count:
        for hour in range(8):
            if made >= count:
                break
            start = day + dt.timedelta(hours=hour)
            client = ClientFactory()
            if hour == 7:
                session = services.publish_session(actor=coach, session_type=group_type, start=start)
                services.take_seat(client=client, session=session)
            else:
                booking = services.book_slot(client=client, session_type=consultation, start=start)
                services.schedule_later(client=client, session_type=group_type)
                if hour % 3 == 0:
                    services.cancel(booking=booking, actor=client, reason="Changed my mind")
            made += 1
        day += dt.timedelta(days=1)


@pytest.mark.parametrize("model", [Booking, Session, BookingEvent, PlannedSession, SessionType, Allocation])
def test_changelist_queries_do_not_grow_with_rows(as_role, model):
    http = as_role("staff")

    def queries_for_list() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            response = http.get(admin_url(model))
        assert response.status_code == 200
        return len(queries), len(response.context["cl"].result_list)

    make_bookings(open_coach(), 3)
    few, few_rows = queries_for_list()
    make_bookings(open_coach(), 30)
    many, many_rows = queries_for_list()

    assert many_rows > few_rows
    if model in (Booking, Session, BookingEvent, Allocation):
        assert many_rows >= 30
    assert many == few
