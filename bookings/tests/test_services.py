"""The booking services, rule by rule: each refusal with its code, each change with its
history. The clock is frozen at Tuesday 1 December 2026, 06:00 UTC; the default coach is
in Europe/Paris (UTC+1 in December), open 09:00–17:00 local = 08:00–16:00 UTC."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.test import override_settings

from accounts.models import CalendarVisibility, ConnectionStatus
from accounts.tests.factories import ClientFactory, ConnectionFactory, GuardianLinkFactory, StaffFactory
from availability.models import Allocation, AllocationKind, Resource
from availability.rules import ApprovalPolicy
from bookings import services, tasks
from bookings.models import Booking, BookingEvent, BookingStatus, Session, SessionStatus
from bookings.tests.factories import GroupTypeFactory, SessionTypeFactory, open_coach
from config.errors import DomainError, NotAllowed

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
TOMORROW_10_PARIS = dt.datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
H = dt.timedelta(hours=1)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def refused(code: str, fn, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as exc:
        fn(*args, **kwargs)
    assert exc.value.code == code, exc.value.message
    return exc.value


def events(booking: Booking) -> list[tuple[str, str, str, int | None]]:
    return [(e.action, e.from_status, e.to_status, e.actor_id) for e in booking.events.order_by("pk")]


def book(session_type, client=None, start=TOMORROW_10_PARIS, **kwargs) -> Booking:
    return services.book_slot(client=client or ClientFactory(), session_type=session_type, start=start, **kwargs)


# --- firm or request ----------------------------------------------------------------------


def test_firm_booking_when_the_rules_allow():
    coach = open_coach()
    client = ClientFactory()
    booking = book(SessionTypeFactory(coach=coach), client)
    assert booking.status == BookingStatus.FIRM_BOOKED
    assert booking.confirmed_at == NOW and booking.expires_at is None
    assert booking.booked_by == client
    assert events(booking) == [("booked", "", BookingStatus.FIRM_BOOKED, client.pk)]
    assert Allocation.objects.get(session=booking.session).kind == AllocationKind.SESSION


@pytest.mark.parametrize(
    ("profile", "connected", "start", "firm"),
    [
        ({"allow_firm_booking": False}, True, TOMORROW_10_PARIS, False),
        ({"require_approval_unconnected": True}, False, TOMORROW_10_PARIS, False),
        ({"require_approval_unconnected": True}, True, TOMORROW_10_PARIS, True),
        ({"firm_booking_threshold_hours": 48}, True, TOMORROW_10_PARIS, False),
        ({"firm_booking_threshold_hours": 48}, True, TOMORROW_10_PARIS + 2 * 24 * H, True),
    ],
)
def test_firm_or_request_follows_design_rule(profile, connected, start, firm):
    coach = open_coach(**profile)
    client = ClientFactory()
    if connected:
        ConnectionFactory(client=client, coach=coach, status=ConnectionStatus.ACCEPTED)
    booking = book(SessionTypeFactory(coach=coach), client, start)
    assert booking.status == (BookingStatus.FIRM_BOOKED if firm else BookingStatus.REQUESTED)


def test_session_type_approval_overrides_the_coach():
    coach = open_coach(require_approval_unconnected=True)
    always = SessionTypeFactory(coach=open_coach(), approval=ApprovalPolicy.ALWAYS)
    never = SessionTypeFactory(coach=coach, approval=ApprovalPolicy.NEVER)
    assert book(always).status == BookingStatus.REQUESTED
    assert book(never).status == BookingStatus.FIRM_BOOKED


def test_pending_connection_is_not_a_connection():
    coach = open_coach(require_approval_unconnected=True)
    client = ClientFactory()
    ConnectionFactory(client=client, coach=coach, status=ConnectionStatus.PENDING)
    assert book(SessionTypeFactory(coach=coach), client).status == BookingStatus.REQUESTED


# --- timing, availability ----------------------------------------------------------------


def test_too_soon_by_notice_and_in_the_past():
    st = SessionTypeFactory(coach=open_coach(minimum_notice_hours=24))
    error = refused("too_soon", book, st, start=dt.datetime(2026, 12, 1, 13, 0, tzinfo=UTC))
    assert "24 hours" in error.message
    refused("too_soon", book, st, start=NOW - H)
    assert book(st, start=dt.datetime(2026, 12, 2, 8, 0, tzinfo=UTC)).status == BookingStatus.FIRM_BOOKED


def test_type_notice_overrides_the_coach():
    st = SessionTypeFactory(coach=open_coach(minimum_notice_hours=0), minimum_notice_hours=48)
    refused("too_soon", book, st)


def test_beyond_window():
    st = SessionTypeFactory(coach=open_coach(booking_window_days=7))
    error = refused("beyond_window", book, st, start=TOMORROW_10_PARIS + 9 * 24 * H)
    assert "7 days" in error.message
    assert book(st, start=TOMORROW_10_PARIS + 5 * 24 * H)


def test_outside_availability():
    st = SessionTypeFactory(coach=open_coach())
    refused("outside_availability", book, st, start=dt.datetime(2026, 12, 2, 7, 0, tzinfo=UTC))  # 08:00 Paris
    refused("outside_availability", book, st, start=dt.datetime(2026, 12, 2, 15, 30, tzinfo=UTC))  # ends 17:30
    refused("outside_availability", book, st, start=TOMORROW_10_PARIS + dt.timedelta(minutes=20))  # off the grid
    st.is_active = False
    st.save()
    refused("outside_availability", book, st)
    assert not Booking.objects.exists()


def test_naive_time_is_refused():
    st = SessionTypeFactory(coach=open_coach())
    refused("invalid", book, st, start=dt.datetime(2026, 12, 2, 9, 0))


# --- the calendar ------------------------------------------------------------------------


def test_slot_taken_including_buffers():
    coach = open_coach()
    st = SessionTypeFactory(coach=coach, buffer_after_minutes=30, buffer_before_minutes=0)
    first = book(st)
    hold = Allocation.objects.get(session=first.session)
    assert (hold.blocked_start, hold.blocked_end) == (
        TOMORROW_10_PARIS,
        TOMORROW_10_PARIS + 90 * dt.timedelta(minutes=1),
    )
    error = refused("slot_taken", book, st)
    assert error.message == "This time is no longer available. Select another."
    refused("slot_taken", book, st, start=TOMORROW_10_PARIS + H)  # inside the 30-minute buffer
    assert book(st, start=TOMORROW_10_PARIS + 2 * H)
    # An hour earlier: the new session's own 30-minute buffer after would overlap.
    refused("slot_taken", book, st, start=TOMORROW_10_PARIS - H)
    assert Booking.objects.count() == 2


def test_limit_per_day_in_the_coachs_local_day():
    # Auckland is UTC+13 in December: 09:00 and 16:00 local on Thursday 3 December are
    # on two different UTC days, yet the same day for the coach.
    coach = open_coach(timezone="Pacific/Auckland", max_sessions_per_day=2)
    st = SessionTypeFactory(coach=coach)
    book(st, start=dt.datetime(2026, 12, 2, 20, 0, tzinfo=UTC))  # Thu 09:00 local
    book(st, start=dt.datetime(2026, 12, 3, 3, 0, tzinfo=UTC))  # Thu 16:00 local
    error = refused("limit_reached", book, st, start=dt.datetime(2026, 12, 2, 23, 0, tzinfo=UTC))
    assert "day" in error.message
    assert book(st, start=dt.datetime(2026, 12, 3, 20, 0, tzinfo=UTC))  # Fri 09:00 local


def test_limit_per_week_in_the_coachs_iso_week():
    coach = open_coach(timezone="Pacific/Auckland", max_sessions_per_week=2)
    st = SessionTypeFactory(coach=coach)
    # Monday 7 December 09:00 local is Sunday 6 December 20:00 UTC.
    book(st, start=dt.datetime(2026, 12, 6, 20, 0, tzinfo=UTC))
    book(st, start=dt.datetime(2026, 12, 8, 20, 0, tzinfo=UTC))
    error = refused("limit_reached", book, st, start=dt.datetime(2026, 12, 12, 20, 0, tzinfo=UTC))  # Sun 13th
    assert "week" in error.message
    # Sunday 6 December local (UTC Saturday) is the week before.
    assert book(st, start=dt.datetime(2026, 12, 5, 20, 0, tzinfo=UTC))
    # A cancelled booking no longer counts.
    services.cancel(booking=Booking.objects.order_by("pk").first(), actor=coach, reason="Ill")
    assert book(st, start=dt.datetime(2026, 12, 12, 20, 0, tzinfo=UTC))


def test_client_conflict_across_coaches():
    client = ClientFactory()
    book(SessionTypeFactory(coach=open_coach()), client)
    other = SessionTypeFactory(coach=open_coach(timezone="Europe/London"))  # 09–17 London = 09–17 UTC
    error = refused("client_conflict", book, other, client, TOMORROW_10_PARIS + dt.timedelta(minutes=0))
    assert error.message == "You have another session at this time."
    assert book(other, client, TOMORROW_10_PARIS + H)


@pytest.mark.parametrize(
    ("visibility", "connected", "allowed"),
    [
        (CalendarVisibility.PUBLIC, False, True),
        (CalendarVisibility.CONNECTED, False, False),
        (CalendarVisibility.CONNECTED, True, True),
        (CalendarVisibility.PRIVATE, True, False),
    ],
)
def test_calendar_visibility(visibility, connected, allowed):
    coach = open_coach(calendar_visibility=visibility)
    client = ClientFactory()
    if connected:
        ConnectionFactory(client=client, coach=coach, status=ConnectionStatus.ACCEPTED)
    st = SessionTypeFactory(coach=coach)
    if allowed:
        assert book(st, client)
    else:
        refused("not_connected", book, st, client)
        # Staff book for the client anyway.
        staff = StaffFactory()
        booking = book(st, client, booked_by=staff)
        assert booking.booked_by == staff and booking.client == client
        assert events(booking)[0][3] == staff.pk


def test_guardian_books_for_dependent_and_others_cannot():
    link = GuardianLinkFactory()
    st = SessionTypeFactory(coach=open_coach())
    booking = book(st, link.dependent, booked_by=link.guardian)
    assert booking.client == link.dependent and booking.booked_by == link.guardian
    assert events(booking) == [("booked", "", BookingStatus.FIRM_BOOKED, link.guardian.pk)]
    with pytest.raises(NotAllowed):
        book(st, link.dependent, TOMORROW_10_PARIS + H, booked_by=ClientFactory())
    # The guardian can cancel it too.
    services.cancel(booking=booking, actor=link.guardian)
    assert events(booking)[-1] == ("cancelled", BookingStatus.FIRM_BOOKED, BookingStatus.CANCELLED, link.guardian.pk)


def test_reference_format_and_uniqueness():
    st = SessionTypeFactory(coach=open_coach())
    references = {book(st, start=TOMORROW_10_PARIS + n * H).reference for n in range(4)}
    assert len(references) == 4
    assert all(re.fullmatch(r"BK-2026-\d{6}", ref) for ref in references)
    assert set(Booking.objects.values_list("reference", flat=True)) == references


# --- requests ----------------------------------------------------------------------------


@pytest.fixture
def request_setup():
    coach = open_coach(require_approval_unconnected=True)
    st = SessionTypeFactory(coach=coach)
    client = ClientFactory()
    booking = book(st, client)
    assert booking.status == BookingStatus.REQUESTED
    return coach, st, client, booking


def test_request_holds_its_slot(request_setup):
    coach, st, client, booking = request_setup  # noqa: RUF059
    assert booking.expires_at == NOW + 24 * H
    assert Allocation.objects.get(session=booking.session).kind == AllocationKind.REQUEST
    refused("slot_taken", book, st)
    assert events(booking) == [("requested", "", BookingStatus.REQUESTED, client.pk)]


def test_approve(request_setup):
    coach, st, client, booking = request_setup  # noqa: RUF059
    with pytest.raises(NotAllowed):
        services.approve(booking=booking, actor=client)
    services.approve(booking=booking, actor=coach, note="See you")
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED and booking.confirmed_at == NOW and booking.expires_at is None
    assert Allocation.objects.get(session=booking.session).kind == AllocationKind.SESSION
    assert events(booking)[-1] == ("approved", BookingStatus.REQUESTED, BookingStatus.CONFIRMED, coach.pk)
    refused("invalid_transition", services.approve, booking=booking, actor=coach)


def test_staff_approves(request_setup):
    coach, st, client, booking = request_setup  # noqa: RUF059
    staff = StaffFactory()
    services.approve(booking=booking, actor=staff)
    assert events(booking)[-1][3] == staff.pk


def test_decline_needs_a_reason_and_frees_the_slot(request_setup):
    coach, st, client, booking = request_setup  # noqa: RUF059
    refused("reason_required", services.decline, booking=booking, actor=coach, reason="  ")
    services.decline(booking=booking, actor=coach, reason="Fully booked")
    booking.refresh_from_db()
    assert booking.status == BookingStatus.DECLINED and booking.decline_reason == "Fully booked"
    assert not Allocation.objects.filter(is_active=True).exists()
    assert events(booking)[-1] == ("declined", BookingStatus.REQUESTED, BookingStatus.DECLINED, coach.pk)
    assert book(st).status == BookingStatus.REQUESTED  # the slot is free again
    refused("invalid_transition", services.approve, booking=booking, actor=coach)


def test_suggest_and_accept_alternative(request_setup):
    coach, st, client, booking = request_setup
    alternatives = [TOMORROW_10_PARIS + 3 * H, TOMORROW_10_PARIS + 5 * H]
    services.suggest_alternatives(booking=booking, actor=coach, alternatives=alternatives, note="Later?")
    booking.refresh_from_db()
    assert booking.status == BookingStatus.REQUESTED
    assert booking.suggested_alternatives == [value.isoformat() for value in alternatives]
    refused("slot_taken", book, st)  # still holding the original slot
    refused("invalid", services.accept_alternative, booking=booking, actor=client, start=TOMORROW_10_PARIS + H)
    with pytest.raises(NotAllowed):
        services.accept_alternative(booking=booking, actor=ClientFactory(), start=alternatives[1])
    old_session = booking.session
    services.accept_alternative(booking=booking, actor=client, start=alternatives[1])
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.session.start == alternatives[1]
    assert booking.rescheduled_from == old_session
    assert Session.objects.get(pk=old_session.pk).status == SessionStatus.CANCELLED
    assert list(Allocation.objects.filter(is_active=True).values_list("session_id", "kind")) == [
        (booking.session_id, AllocationKind.SESSION)
    ]
    assert [e[0] for e in events(booking)] == ["requested", "alternatives_suggested", "alternative_accepted"]
    assert events(booking)[-1] == ("alternative_accepted", BookingStatus.REQUESTED, BookingStatus.CONFIRMED, client.pk)


def test_suggesting_a_busy_time_is_refused(request_setup):
    coach, st, client, booking = request_setup  # noqa: RUF059
    book(SessionTypeFactory(coach=coach, approval=ApprovalPolicy.NEVER), start=TOMORROW_10_PARIS + 2 * H)
    refused(
        "slot_taken",
        services.suggest_alternatives,
        booking=booking,
        actor=coach,
        alternatives=[TOMORROW_10_PARIS + 2 * H],
    )
    booking.refresh_from_db()
    assert booking.suggested_alternatives == []


def test_decline_alternatives(request_setup):
    coach, st, client, booking = request_setup  # noqa: RUF059
    services.suggest_alternatives(booking=booking, actor=coach, alternatives=[TOMORROW_10_PARIS + 3 * H])
    services.decline_alternatives(booking=booking, actor=client, note="None suit me")
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED and booking.cancellation_reason == "None suit me"
    assert not Allocation.objects.filter(is_active=True).exists()
    assert events(booking)[-1] == ("alternatives_declined", BookingStatus.REQUESTED, BookingStatus.CANCELLED, client.pk)


def test_request_and_answer_information(request_setup):
    coach, st, client, booking = request_setup  # noqa: RUF059
    refused("invalid_transition", services.answer_information, booking=booking, actor=client, answer="Hi")
    refused("invalid", services.request_information, booking=booking, actor=coach, question=" ")
    services.request_information(booking=booking, actor=coach, question="What is it about?")
    services.answer_information(booking=booking, actor=client, answer="My career.")
    booking.refresh_from_db()
    assert booking.status == BookingStatus.REQUESTED
    assert (booking.info_request, booking.info_response) == ("What is it about?", "My career.")
    assert events(booking)[1:] == [
        ("information_requested", BookingStatus.REQUESTED, BookingStatus.REQUESTED, coach.pk),
        ("information_given", BookingStatus.REQUESTED, BookingStatus.REQUESTED, client.pk),
    ]


# --- expiry ------------------------------------------------------------------------------


def test_requests_expire_after_24_hours(request_setup, frozen):
    coach, st, client, booking = request_setup  # noqa: RUF059
    assert services.expire_requests(now=NOW + 23 * H) == 0
    assert services.expire_requests(now=NOW + 24 * H) == 1
    booking.refresh_from_db()
    assert booking.status == BookingStatus.DECLINED
    assert not Allocation.objects.filter(is_active=True).exists()
    assert events(booking)[-1] == ("expired", BookingStatus.REQUESTED, BookingStatus.DECLINED, None)


def test_request_expires_at_session_start_if_sooner(frozen):
    st = SessionTypeFactory(coach=open_coach(allow_firm_booking=False))
    start = dt.datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # in 4 hours
    booking = book(st, start=start)
    assert booking.expires_at == start
    frozen.move_to(start)
    assert tasks.expire_requests() == 1  # the django-q2 task
    booking.refresh_from_db()
    assert booking.status == BookingStatus.DECLINED


def test_expiry_task_leaves_answered_requests(request_setup, frozen):
    coach, st, client, booking = request_setup  # noqa: RUF059
    services.approve(booking=booking, actor=coach)
    frozen.move_to(NOW + 48 * H)
    assert tasks.expire_requests() == 0
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED


# --- cancel ------------------------------------------------------------------------------


def test_client_cancels_within_notice():
    coach = open_coach(cancellation_notice_hours=24)
    client = ClientFactory()
    booking = book(SessionTypeFactory(coach=coach), client)  # 27 hours ahead
    services.cancel(booking=booking, actor=client, reason="Conflict")
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED and not booking.is_late_cancellation
    assert (booking.cancelled_by, booking.cancelled_at, booking.cancellation_reason) == (client, NOW, "Conflict")
    assert not Allocation.objects.filter(is_active=True).exists()
    refused("invalid_transition", services.cancel, booking=booking, actor=client)


def test_late_cancel_refused_with_policy_message():
    coach = open_coach(cancellation_notice_hours=48)
    client = ClientFactory()
    booking = book(SessionTypeFactory(coach=coach), client)
    error = refused("policy_violation", services.cancel, booking=booking, actor=client)
    assert "48 hours" in error.message and coach.display_name in error.message
    booking.refresh_from_db()
    assert booking.status == BookingStatus.FIRM_BOOKED
    assert Allocation.objects.filter(is_active=True).count() == 1
    assert len(events(booking)) == 1


def test_late_cancel_allowed_and_marked_when_the_type_says_so():
    coach = open_coach(cancellation_notice_hours=48)
    client = ClientFactory()
    booking = book(SessionTypeFactory(coach=coach, allow_late_cancellation=True), client)
    services.cancel(booking=booking, actor=client)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED and booking.is_late_cancellation
    assert booking.events.last().data == {"late": True}


def test_coach_and_staff_cancel_any_time_with_a_reason(frozen):
    coach = open_coach(cancellation_notice_hours=48)
    st = SessionTypeFactory(coach=coach)
    first = book(st)
    second = book(st, start=TOMORROW_10_PARIS + H)
    frozen.move_to(TOMORROW_10_PARIS - H)
    refused("reason_required", services.cancel, booking=first, actor=coach)
    services.cancel(booking=first, actor=coach, reason="I am ill")
    staff = StaffFactory()
    services.cancel(booking=second, actor=staff, reason="Room closed")
    assert events(first)[-1] == ("cancelled", BookingStatus.FIRM_BOOKED, BookingStatus.CANCELLED, coach.pk)
    assert events(second)[-1][3] == staff.pk
    with pytest.raises(NotAllowed):
        services.cancel(booking=book(st, start=TOMORROW_10_PARIS + 2 * H), actor=ClientFactory())


# --- reschedule --------------------------------------------------------------------------


def test_reschedule_moves_in_one_step():
    coach = open_coach()
    client = ClientFactory()
    booking = book(SessionTypeFactory(coach=coach), client)
    old = booking.session
    services.reschedule(booking=booking, actor=client, start=TOMORROW_10_PARIS + 2 * H)
    booking.refresh_from_db()
    assert booking.session.start == TOMORROW_10_PARIS + 2 * H
    assert booking.rescheduled_from == old
    assert booking.reference.startswith("BK-")
    assert Session.objects.get(pk=old.pk).status == SessionStatus.CANCELLED
    assert list(Allocation.objects.filter(is_active=True).values_list("start", flat=True)) == [
        TOMORROW_10_PARIS + 2 * H
    ]
    event = booking.events.last()
    assert (event.action, event.from_status, event.to_status, event.actor_id) == (
        "rescheduled",
        BookingStatus.FIRM_BOOKED,
        BookingStatus.FIRM_BOOKED,
        client.pk,
    )
    assert event.data["previous_start"] == TOMORROW_10_PARIS.isoformat()
    refused("invalid", services.reschedule, booking=booking, actor=client, start=TOMORROW_10_PARIS + 2 * H)


def test_refused_reschedule_leaves_the_booking_unchanged():
    coach = open_coach()
    st = SessionTypeFactory(coach=coach)
    client = ClientFactory()
    booking = book(st, client)
    book(st, start=TOMORROW_10_PARIS + 2 * H)
    before = (booking.session_id, booking.status, booking.updated_at)
    refused("slot_taken", services.reschedule, booking=booking, actor=client, start=TOMORROW_10_PARIS + 2 * H)
    refused("outside_availability", services.reschedule, booking=booking, actor=client, start=TOMORROW_10_PARIS - 3 * H)
    booking.refresh_from_db()
    assert (booking.session_id, booking.status, booking.updated_at) == before
    assert booking.rescheduled_from is None
    assert Allocation.objects.filter(is_active=True, session=booking.session).count() == 1
    assert Session.objects.count() == 2
    assert len(events(booking)) == 1


def test_reschedule_into_its_own_buffer_is_allowed():
    coach = open_coach(slot_step_minutes=30)
    client = ClientFactory()
    booking = book(SessionTypeFactory(coach=coach, buffer_after_minutes=30), client)
    # The new time overlaps the old one; the old allocation is the booking's own.
    services.reschedule(booking=booking, actor=client, start=TOMORROW_10_PARIS + dt.timedelta(minutes=30))
    booking.refresh_from_db()
    assert booking.session.start == TOMORROW_10_PARIS + dt.timedelta(minutes=30)


def test_late_reschedule_by_client_refused():
    coach = open_coach(cancellation_notice_hours=48)
    client = ClientFactory()
    booking = book(SessionTypeFactory(coach=coach), client)
    refused("policy_violation", services.reschedule, booking=booking, actor=client, start=TOMORROW_10_PARIS + H)
    # The coach may; the booking stays firm.
    services.reschedule(booking=booking, actor=coach, start=TOMORROW_10_PARIS + H)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.FIRM_BOOKED
    assert events(booking)[-1] == ("rescheduled", BookingStatus.FIRM_BOOKED, BookingStatus.FIRM_BOOKED, coach.pk)


def test_coach_moving_a_request_accepts_it(request_setup):
    coach, st, client, booking = request_setup  # noqa: RUF059
    services.reschedule(booking=booking, actor=coach, start=TOMORROW_10_PARIS + H)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED and booking.expires_at is None
    assert Allocation.objects.get(is_active=True).kind == AllocationKind.SESSION


# --- resources ---------------------------------------------------------------------------


def test_resource_allocated_with_the_session_or_refused():
    rooms = [Resource.objects.create(name=f"Room {n}", kind="room") for n in range(2)]
    types = [SessionTypeFactory(coach=open_coach(), resource_kind="room") for _ in range(3)]
    first, second = book(types[0]), book(types[1])
    assert {first.session.resource, second.session.resource} == set(rooms)
    assert Allocation.objects.filter(resource__in=rooms, is_active=True).count() == 2
    refused("slot_taken", book, types[2])
    assert Session.objects.count() == 2 and Booking.objects.count() == 2
    assert not Allocation.objects.filter(staff=types[2].coach).exists()
    services.cancel(booking=first, actor=first.client)
    third = book(types[2])
    assert third.session.resource == first.session.resource


# --- group sessions ----------------------------------------------------------------------


def test_publish_respects_settings():
    coach = open_coach()
    group = GroupTypeFactory(coach=coach)
    with override_settings(ENABLE_GROUP_SESSIONS=False):
        refused("policy_violation", services.publish_session, actor=coach, session_type=group, start=TOMORROW_10_PARIS)
    with override_settings(MAX_GROUP_CAPACITY=10):
        refused(
            "invalid", services.publish_session, actor=coach, session_type=group, start=TOMORROW_10_PARIS, capacity=11
        )
    with pytest.raises(NotAllowed):
        services.publish_session(actor=ClientFactory(), session_type=group, start=TOMORROW_10_PARIS)
    assert not Session.objects.exists()
    session = services.publish_session(actor=coach, session_type=group, start=TOMORROW_10_PARIS, capacity=10)
    assert (session.capacity, session.seats_taken) == (10, 0)
    refused("slot_taken", book, SessionTypeFactory(coach=coach))  # the coach is busy


def test_seats_full_and_cancel_frees_a_seat():
    coach = open_coach()
    session = services.publish_session(
        actor=coach, session_type=GroupTypeFactory(coach=coach), start=TOMORROW_10_PARIS, capacity=2
    )
    first, second = ClientFactory(), ClientFactory()
    booking = services.take_seat(client=first, session=session)
    assert booking.status == BookingStatus.FIRM_BOOKED
    assert events(booking) == [("seat_taken", "", BookingStatus.FIRM_BOOKED, first.pk)]
    refused("client_conflict", services.take_seat, client=first, session=session)
    services.take_seat(client=second, session=session)
    error = refused("full", services.take_seat, client=ClientFactory(), session=session)
    assert error.message == "This session is full."
    session.refresh_from_db()
    assert session.seats_taken == 2
    services.cancel(booking=booking, actor=first)
    session.refresh_from_db()
    assert session.seats_taken == 1 and session.status == SessionStatus.SCHEDULED
    assert Allocation.objects.filter(session=session, is_active=True).count() == 1  # the coach is still busy
    services.take_seat(client=ClientFactory(), session=session)
    session.refresh_from_db()
    assert session.seats_taken == 2
    with override_settings(ENABLE_GROUP_SESSIONS=False):
        refused("policy_violation", services.take_seat, client=ClientFactory(), session=session)


def test_cancel_session_cancels_every_seat():
    coach = open_coach()
    session = services.publish_session(actor=coach, session_type=GroupTypeFactory(coach=coach), start=TOMORROW_10_PARIS)
    seats = [services.take_seat(client=ClientFactory(), session=session) for _ in range(3)]
    refused("reason_required", services.cancel_session, session=session, actor=coach, reason="")
    services.cancel_session(session=session, actor=coach, reason="Snow")
    assert {b.status for b in Booking.objects.filter(pk__in=[s.pk for s in seats])} == {BookingStatus.CANCELLED}
    assert not Allocation.objects.filter(is_active=True).exists()
    assert BookingEvent.objects.filter(action="cancelled", actor=coach).count() == 3


# --- running and ending ------------------------------------------------------------------


def test_complete_past_sessions(frozen):
    coach = open_coach()
    st = SessionTypeFactory(coach=coach)
    firm = book(st)
    request = book(SessionTypeFactory(coach=coach, approval=ApprovalPolicy.ALWAYS), start=TOMORROW_10_PARIS + H)
    assert services.complete_past_sessions() == 0
    frozen.move_to(TOMORROW_10_PARIS + 3 * H)
    assert services.expire_requests() == 1  # its deadline (24 h) passed first
    assert tasks.complete_past_sessions() == 1  # the declined request's session was called off
    firm.refresh_from_db()
    request.refresh_from_db()
    assert firm.status == BookingStatus.COMPLETED and firm.session.status == SessionStatus.COMPLETED
    assert events(firm)[-1] == ("completed_automatically", BookingStatus.FIRM_BOOKED, BookingStatus.COMPLETED, None)
    assert request.status == BookingStatus.DECLINED
    assert services.complete_past_sessions() == 0


def test_mark_no_show_and_completed(frozen):
    coach = open_coach()
    st = SessionTypeFactory(coach=coach)
    absent = book(st)
    present = book(st, start=TOMORROW_10_PARIS + H)
    refused("invalid_transition", services.mark_no_show, booking=absent, actor=coach)
    with pytest.raises(NotAllowed):
        services.mark_no_show(booking=absent, actor=absent.client)
    frozen.move_to(TOMORROW_10_PARIS + dt.timedelta(minutes=10))
    services.mark_no_show(booking=absent, actor=coach)
    assert events(absent)[-1] == ("no_show", BookingStatus.FIRM_BOOKED, BookingStatus.NO_SHOW, coach.pk)
    refused("invalid_transition", services.mark_no_show, booking=absent, actor=coach)
    refused("invalid_transition", services.mark_completed, session=present.session, actor=coach)
    frozen.move_to(TOMORROW_10_PARIS + 2 * H)
    services.mark_completed(session=present.session, actor=coach)
    present.refresh_from_db()
    assert present.status == BookingStatus.COMPLETED
    assert events(present)[-1] == ("completed", BookingStatus.FIRM_BOOKED, BookingStatus.COMPLETED, coach.pk)
    services.rate(booking=present, actor=present.client, rating=5, feedback="Great")
    present.refresh_from_db()
    assert present.rating == 5


def test_every_event_matches_the_status_machine():
    """Over everything the tests above can do in one place: each event's pair is allowed."""
    from bookings.models import INITIAL_STATUSES, TRANSITIONS

    coach = open_coach(require_approval_unconnected=True)
    st = SessionTypeFactory(coach=coach)
    a = book(st)
    services.approve(booking=a, actor=coach)
    b = book(st, start=TOMORROW_10_PARIS + H)
    services.decline(booking=b, actor=coach, reason="No")
    for event in BookingEvent.objects.all():
        if event.from_status:
            assert event.to_status in TRANSITIONS[event.from_status]
        else:
            assert event.to_status in INITIAL_STATUSES


def test_a_request_whose_time_has_passed_cannot_be_approved(request_setup, frozen):
    coach, st, client, booking = request_setup  # noqa: RUF059
    frozen.move_to(booking.session.start + dt.timedelta(minutes=1))
    refused("invalid_transition", services.approve, booking=booking, actor=coach)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.REQUESTED


def test_a_coach_cannot_book_a_session_with_themself():
    coach = open_coach()
    st = SessionTypeFactory(coach=coach)
    refused("invalid", services.book_slot, client=coach, session_type=st, start=TOMORROW_10_PARIS)
    group = GroupTypeFactory(coach=coach)
    session = services.publish_session(actor=coach, session_type=group, start=TOMORROW_10_PARIS + 3 * H)
    refused("invalid", services.take_seat, client=coach, session=session)
    assert not Booking.objects.exists()


def test_a_time_out_of_range_is_a_clear_refusal():
    coach = open_coach()
    st = SessionTypeFactory(coach=coach)
    far = dt.datetime(1, 1, 1, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=14)))
    error = refused("invalid", services.book_slot, client=ClientFactory(), session_type=st, start=far)
    assert "out of range" in error.message
