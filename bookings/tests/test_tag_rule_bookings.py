"""Client tags decide as stated: one resolution (``availability.rules.rules_for``) used by
the slot finder, the booking services and the pages, which says which rule decided; and a
window that takes requests only makes its bookings requests."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from accounts.models import ClientTag, ClientTagging
from accounts.tests.factories import ClientFactory
from availability import rules as booking_rules
from availability.models import AvailabilityWindow, TagRule
from availability.rules import TagRuleView, decision_text, rules_for
from availability.selectors import free_slots, tag_rules_for
from bookings import services
from bookings.models import BookingEvent, BookingStatus
from bookings.tests.factories import SessionTypeFactory, open_coach
from config.errors import DomainError

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


def _day(days: int = 3) -> dt.date:
    return dt.datetime.now(PARIS).date() + dt.timedelta(days=days)


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=PARIS).astimezone(dt.UTC)


def _tag(coach, name: str, *clients, priority: int = 0, session_type=None, **rule) -> ClientTag:
    tag = ClientTag.objects.create(coach=coach, name=name, priority=priority)
    for client in clients:
        ClientTagging.objects.create(tag=tag, client=client, added_by=coach)
    if rule:
        TagRule.objects.create(tag=tag, session_type=session_type, **rule)
    return tag


def _decided_by(booking) -> str:
    return decision_text(BookingEvent.objects.filter(booking=booking).earliest("pk").data["decided_by"])


def test_a_vip_books_firm_where_everyone_else_asks_and_the_coach_is_told_why():
    coach = open_coach(allow_firm_booking=False)
    session_type = SessionTypeFactory(coach=coach)
    vip, regular = ClientFactory(), ClientFactory()
    _tag(coach, "VIP", vip, approval="never")
    day = _day()

    booking = services.book_slot(client=vip, session_type=session_type, start=_at(day, 9))
    assert booking.status == BookingStatus.FIRM_BOOKED
    assert _decided_by(booking) == "Firm because VIP"
    other = services.book_slot(client=regular, session_type=session_type, start=_at(day, 11))
    assert other.status == BookingStatus.REQUESTED
    assert _decided_by(other) == "Request: you approve every booking"


def test_a_new_client_tag_makes_requests_of_one_type_only():
    coach = open_coach()
    intake, follow_up = SessionTypeFactory(coach=coach, title="Intake"), SessionTypeFactory(coach=coach)
    newcomer = ClientFactory()
    _tag(coach, "New", newcomer, session_type=intake, approval="always")
    day = _day()
    first = services.book_slot(client=newcomer, session_type=intake, start=_at(day, 9))
    assert first.status == BookingStatus.REQUESTED
    assert _decided_by(first) == "Request: New needs approval"
    second = services.book_slot(client=newcomer, session_type=follow_up, start=_at(day, 11))
    assert second.status == BookingStatus.FIRM_BOOKED


def test_the_highest_priority_tag_decides_and_a_type_rule_beats_an_every_type_rule_of_one_tag():
    coach = open_coach()
    session_type = SessionTypeFactory(coach=coach)
    client = ClientFactory()
    vip = _tag(coach, "VIP", client, priority=10, approval="never")
    _tag(coach, "Probation", client, priority=1, approval="always")
    rules = rules_for(coach.coach_profile, session_type, tag_rules=tag_rules_for(client, coach))
    assert rules.approval == "never" and rules.sources["approval"] == "tag:VIP"

    TagRule.objects.create(tag=vip, session_type=session_type, approval="always")
    rules = rules_for(coach.coach_profile, session_type, tag_rules=tag_rules_for(client, coach))
    assert rules.approval == "always" and rules.sources["approval"] == "tag:VIP"
    booking = services.book_slot(client=client, session_type=session_type, start=_at(_day(), 9))
    assert booking.status == BookingStatus.REQUESTED


def test_tag_rules_change_notice_window_and_limits_in_the_offered_times_and_at_booking():
    coach = open_coach(minimum_notice_hours=72, booking_window_days=10, max_sessions_per_day=1)
    session_type = SessionTypeFactory(coach=coach)
    vip, regular = ClientFactory(), ClientFactory()
    _tag(coach, "VIP", vip, minimum_notice_hours=0, booking_window_days=30, max_per_day=3)
    soon, later = _day(1), _day(20)

    def offered(client, day):
        return free_slots(
            coach=coach, session_type=session_type, start_date=day, end_date=day, viewer_tz=PARIS, client=client
        )

    assert offered(regular, soon) == [] and offered(regular, later) == []
    assert offered(vip, soon) and offered(vip, later)
    with pytest.raises(DomainError) as refused:
        services.book_slot(client=regular, session_type=session_type, start=_at(soon, 9))
    assert refused.value.code == "too_soon"
    for hour in (9, 11, 13):
        services.book_slot(client=vip, session_type=session_type, start=_at(soon, hour))
    with pytest.raises(DomainError) as limit:
        services.book_slot(client=vip, session_type=session_type, start=_at(soon, 15))
    assert limit.value.code == "limit_reached"


def test_another_coachs_tag_does_not_apply_but_a_practice_wide_one_does():
    coach, other = open_coach(allow_firm_booking=False), open_coach()
    session_type = SessionTypeFactory(coach=coach)
    client = ClientFactory()
    _tag(other, "VIP", client, approval="never")
    assert tag_rules_for(client, coach) == []
    booking = services.book_slot(client=client, session_type=session_type, start=_at(_day(), 9))
    assert booking.status == BookingStatus.REQUESTED
    _tag(None, "Staff family", client, approval="never")
    booking = services.book_slot(client=client, session_type=session_type, start=_at(_day(), 11))
    assert booking.status == BookingStatus.FIRM_BOOKED
    assert _decided_by(booking) == "Firm because Staff family"


def test_a_window_that_takes_requests_only_makes_its_bookings_requests():
    coach = open_coach(days=())
    session_type = SessionTypeFactory(coach=coach)
    day = _day()
    AvailabilityWindow.objects.create(coach=coach, weekday=day.weekday(), start=dt.time(9), end=dt.time(12))
    AvailabilityWindow.objects.create(
        coach=coach, weekday=day.weekday(), start=dt.time(14), end=dt.time(17), allow_firm_booking=False
    )
    morning = services.book_slot(client=ClientFactory(), session_type=session_type, start=_at(day, 9))
    afternoon = services.book_slot(client=ClientFactory(), session_type=session_type, start=_at(day, 14))
    assert morning.status == BookingStatus.FIRM_BOOKED
    assert afternoon.status == BookingStatus.REQUESTED
    assert _decided_by(afternoon) == "Request: this availability window takes requests only"


def test_the_resolution_names_the_deciding_rule_for_each_field():
    coach = open_coach(minimum_notice_hours=24)
    session_type = SessionTypeFactory(coach=coach, booking_window_days=14, approval="always")
    rules = rules_for(
        coach.coach_profile,
        session_type,
        tag_rules=[
            TagRuleView(tag="Sliding scale", price_adjustment_percent=-30),
            TagRuleView(tag="VIP", priority=5, minimum_notice_hours=2, waitlist_priority=40),
        ],
    )
    assert rules.minimum_notice == dt.timedelta(hours=2)
    assert rules.booking_window == dt.timedelta(days=14)
    assert rules.price_adjustment_percent == -30 and rules.waitlist_priority == 40
    assert dict(rules.sources) == {
        "booking_window_days": booking_rules.FROM_TYPE,
        "approval": booking_rules.FROM_TYPE,
        "minimum_notice_hours": "tag:VIP",
        "price_adjustment_percent": "tag:Sliding scale",
        "waitlist_priority": "tag:VIP",
    }
    now = dt.datetime.now(dt.UTC)
    assert rules.request_reasons(start=now + dt.timedelta(days=3), now=now, connected=True) == (
        booking_rules.TYPE_NEEDS_APPROVAL,
    )


def test_open_requests_per_coach_are_limited_under_the_clients_lock(settings):
    settings.MAX_OPEN_REQUESTS_PER_COACH = 2
    coach = open_coach(allow_firm_booking=False)
    session_type = SessionTypeFactory(coach=coach)
    client = ClientFactory()
    day = _day()
    for hour in (9, 10):
        assert services.book_slot(client=client, session_type=session_type, start=_at(day, hour)).is_request
    with pytest.raises(DomainError) as refused:
        services.book_slot(client=client, session_type=session_type, start=_at(day, 11))
    assert refused.value.code == "too_many_requests" and refused.value.status == 429
    assert refused.value.retry_after is not None and refused.value.retry_after > 0
    assert client.bookings.count() == 2
    # A tag that makes the client's bookings firm isn't held back: a firm booking is no request.
    _tag(coach, "VIP", client, approval="never")
    assert services.book_slot(client=client, session_type=session_type, start=_at(day, 11)).status == "firm_booked"
