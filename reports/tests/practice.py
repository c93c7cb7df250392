"""The practice every report test reads: two coaches (Paris, New York), four clients, two
weeks around Europe's March DST change, with completions, a no-show, cancellations (one
late), a declined request, an approved one and a reschedule — made through the booking
services and relayed to the reports' consumer."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from accounts.tests.factories import ClientFactory, StaffFactory
from availability.rules import ApprovalPolicy
from bookings import relay, services
from bookings.models import Booking, BookingEvent
from bookings.tests.factories import SessionTypeFactory, open_coach
from reports.models import BookingRollup, PracticeRollup

PARIS, NEW_YORK, UTC = ZoneInfo("Europe/Paris"), ZoneInfo("America/New_York"), dt.UTC
BOOKED_AT = dt.datetime(2026, 3, 1, 12, tzinfo=UTC)
FIRST, LAST = dt.date(2026, 3, 23), dt.date(2026, 4, 5)


def at(zone: ZoneInfo, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=zone)


def rollup_rows() -> list[tuple]:
    """Every row of both booking rollups (quarter hours per coach, hours for everyone)."""
    found = []
    for model in (BookingRollup, PracticeRollup):
        fields = [f.name for f in model._meta.fields if f.name != "id"]
        found.append(sorted(model.objects.values_list(*fields)))
    return found


@pytest.fixture
def practice():
    # Paris: every day 00:00–12:00 (so the Sunday the clocks go forward has 11 hours).
    paris = open_coach(timezone="Europe/Paris", hours=(0, 12), cancellation_notice_hours=24)
    # New York: weekdays 09:00–17:00.
    new_york = open_coach(timezone="America/New_York", hours=(9, 17), days=range(5))
    talk = SessionTypeFactory(
        coach=paris, title="Talk", price=Decimal("80.00"), currency="EUR", allow_late_cancellation=True
    )
    asked = SessionTypeFactory(coach=paris, title="Asked", approval=ApprovalPolicy.ALWAYS)
    lesson = SessionTypeFactory(coach=new_york, title="Lesson", price=Decimal("50.00"), currency="USD")
    ana, ben, cleo, dan = (ClientFactory(name=name) for name in ("Ana", "Ben", "Cleo", "Dan"))
    staff = StaffFactory()

    def book(client, session_type, start, **kwargs):
        return services.book_slot(
            client=client, session_type=session_type, start=start, now=BOOKED_AT, hold_for_payment=False, **kwargs
        )

    made = {}
    # Cleo's first session, a week before the range: she is a returning client in it.
    made["before"] = book(cleo, talk, at(PARIS, 3, 16, 10))
    # 1. Ana, Monday 10:00 Paris: the coach starts at 10:02 and closes at 10:55; rated 5.
    made["ana_mon"] = book(ana, talk, at(PARIS, 3, 23, 10))
    # 2. Ben, Tuesday 11:00 Paris: a no-show.
    made["ben_tue"] = book(ben, talk, at(PARIS, 3, 24, 11))
    # 3. Ana, Saturday 10:00 Paris, cancelled by her at 03:00 that day: late, 7 hours ahead.
    made["ana_sat"] = book(ana, talk, at(PARIS, 3, 28, 10))
    # 4. Cleo, Sunday 29 March 10:00 Paris (after the change: 08:00 UTC), a request
    #    approved 90 minutes after it was made; completed by the clock; rated 3.
    made["cleo_sun"] = book(cleo, asked, at(PARIS, 3, 29, 10))
    # 5. Ben, Wednesday 1 April 09:00 Paris, cancelled by the coach three days ahead.
    made["ben_wed"] = book(ben, talk, at(PARIS, 4, 1, 9))
    # 6. Dan, Thursday 2 April 11:00 Paris, a request declined.
    made["dan_thu"] = book(dan, asked, at(PARIS, 4, 2, 11))
    # 7. Ana, Monday 23 March 09:00 New York (13:00 UTC, 14:00 Paris).
    made["ana_ny"] = book(ana, lesson, at(NEW_YORK, 3, 23, 9))
    # 8. Ben, booked for Thursday 2 April 10:00 New York, moved by staff to Friday 3 April
    #    16:00 (20:00 UTC, 22:00 Paris): completed.
    made["ben_ny"] = book(ben, lesson, at(NEW_YORK, 4, 2, 10))
    services.reschedule(booking=made["ben_ny"], actor=staff, start=at(NEW_YORK, 4, 3, 16), now=BOOKED_AT)

    Booking.objects.filter(pk=made["cleo_sun"].pk).update(created_at=BOOKED_AT)
    services.approve(booking=made["cleo_sun"], actor=paris, now=BOOKED_AT + dt.timedelta(minutes=90))
    BookingEvent.objects.filter(booking=made["cleo_sun"], action="approved").update(
        created_at=BOOKED_AT + dt.timedelta(minutes=90)
    )
    services.decline(booking=made["dan_thu"], actor=paris, reason="Away that day.", now=BOOKED_AT)
    services.cancel(booking=made["ana_sat"], actor=ana, now=at(PARIS, 3, 28, 3))
    services.cancel(booking=made["ben_wed"], actor=paris, reason="Ill.", now=at(PARIS, 3, 29, 9))

    session = made["ana_mon"].session
    services.mark_started(session=session, actor=paris, now=at(PARIS, 3, 23, 10, 2))
    services.mark_completed(session=session, actor=paris, now=at(PARIS, 3, 23, 10, 55))
    services.mark_no_show(booking=made["ben_tue"], actor=paris, now=at(PARIS, 3, 24, 11, 20))
    services.complete_past_sessions(now=at(UTC, 4, 10, 0))
    services.rate(booking=Booking.objects.get(pk=made["ana_mon"].pk), actor=ana, rating=5)
    services.rate(booking=Booking.objects.get(pk=made["cleo_sun"].pk), actor=cleo, rating=3)
    relay.relay_pending()
    return {"paris": paris, "new_york": new_york, "talk": talk, "lesson": lesson, "people": (ana, ben, cleo, dan)} | {
        name: Booking.objects.get(pk=booking.pk) for name, booking in made.items()
    }
