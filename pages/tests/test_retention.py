"""The retention policy: each kind of record older than its ``RETENTION_YEARS`` goes (or, for
bookings' free text and inactive accounts, is anonymised) — exactly those, nothing younger;
the limits come from the environment and a bad one stops start-up."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import override_settings

from accounts.tests.factories import ClientFactory, CoachFactory
from bookings import services
from bookings.models import Booking
from bookings.tests.factories import SessionTypeFactory, open_coach
from config.env import env_years_by_kind
from intake import services as notes
from intake.models import CoachNote
from notifications.models import Kind, Notification
from pages import retention
from pages.models import ErasureRecord, ErasureSource, ErasureStatus
from pages.tasks import apply_retention
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2030, 6, 15, 12, 0, tzinfo=UTC)
YEARS = {
    "booking_texts": 3,
    "notifications": 2,
    "webhook_deliveries": 1,
    "intake_answers": 7,
    "coach_notes": 5,
    "inactive_accounts": 3,
}


def years_ago(years: int, *, days: int = 0) -> dt.datetime:
    return NOW.replace(year=NOW.year - years) + dt.timedelta(days=days)


# --- the setting ------------------------------------------------------------------------------


def test_the_environment_overrides_some_kinds(monkeypatch):
    monkeypatch.setenv("RETENTION_YEARS", " notifications=1, inactive_accounts = never ,coach_notes=10")
    assert env_years_by_kind("RETENTION_YEARS", YEARS) == {
        **YEARS,
        "notifications": 1,
        "inactive_accounts": None,
        "coach_notes": 10,
    }
    monkeypatch.delenv("RETENTION_YEARS")
    assert env_years_by_kind("RETENTION_YEARS", YEARS) == YEARS


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("notifcations=1", "unknown kind 'notifcations'; the kinds are booking_texts, coach_notes"),
        ("notifications", "must be kind=years"),
        ("notifications=two", "is not a whole number of years"),
        ("notifications=-1", "must be at least 1 year"),
    ],
)
def test_a_bad_value_stops_start_up_with_a_clear_message(monkeypatch, value, message):
    monkeypatch.setenv("RETENTION_YEARS", value)
    with pytest.raises(ImproperlyConfigured) as error:
        env_years_by_kind("RETENTION_YEARS", YEARS)
    assert "RETENTION_YEARS" in str(error.value) and message in str(error.value)


def test_the_defaults_are_in_the_settings(settings):
    assert set(settings.RETENTION_YEARS) == set(retention.KINDS)
    assert settings.ERASURE_GRACE_DAYS == 14


# --- what goes -------------------------------------------------------------------------------


def _booking_at(coach, session_type, client, start: dt.datetime, text: str) -> Booking:
    with time_machine.travel(start - dt.timedelta(days=1), tick=False):
        booking = services.book_slot(client=client, session_type=session_type, start=start, notes=text)
    Booking.objects.filter(pk=booking.pk).update(feedback=text, coach_notes=text)
    return booking


@pytest.fixture
def old_and_new():
    """Each kind of record twice: a day older than its limit, and a day younger."""
    coach = open_coach(hours=(0, 23))
    session_type = SessionTypeFactory(coach=coach)
    client = ClientFactory(name="Ada Active")
    made = {}
    made["old_booking"] = _booking_at(coach, session_type, client, years_ago(3, days=-2).replace(hour=10), "old text")
    made["new_booking"] = _booking_at(coach, session_type, client, years_ago(3, days=1).replace(hour=10), "new text")

    for name, years in (("old", 2), ("new", 2)):
        note = Notification.objects.create(recipient=client, kind=Kind.CONFIRMED, title=f"{name} message")
        Notification.objects.filter(pk=note.pk).update(created_at=years_ago(years, days=-1 if name == "old" else 1))
        made[f"{name}_notification"] = note

    endpoint = WebhookEndpoint.objects.create(owner=coach, url="https://hooks.example.com/in", event_types=[])
    for name in ("old", "new"):
        delivery = WebhookDelivery.objects.create(endpoint=endpoint, event_type="ping", message_id=f"msg_{name}")
        WebhookDelivery.objects.filter(pk=delivery.pk).update(created_at=years_ago(1, days=-1 if name == "old" else 1))
        made[f"{name}_delivery"] = delivery

    for name in ("old", "new"):
        note = notes.add_note(author=coach, client=client, text=f"{name} note")
        CoachNote.objects.filter(pk=note.pk).update(updated_at=years_ago(5, days=-1 if name == "old" else 1))
        made[f"{name}_note"] = note

    # Inactive accounts: last seen just over three years ago, or just under; one old account
    # still has a session within the three years; a coach is never erased this way.
    gone = ClientFactory(name="Gone Gareth", email="gareth@example.com")
    recent = ClientFactory(name="Recent Rita")
    booked = ClientFactory(name="Booked Boris")
    old_coach = CoachFactory(name="Old Coach")
    type(gone).objects.filter(pk__in=[gone.pk, booked.pk, old_coach.pk]).update(
        last_login=years_ago(3, days=-1), date_joined=years_ago(6)
    )
    type(gone).objects.filter(pk=recent.pk).update(last_login=years_ago(3, days=1), date_joined=years_ago(6))
    _booking_at(coach, session_type, booked, years_ago(3, days=2).replace(hour=12), "")
    # Ada herself booked (above) more recently than three years: she stays.
    type(gone).objects.filter(pk=client.pk).update(last_login=years_ago(4), date_joined=years_ago(6))
    made.update(gone=gone, recent=recent, booked=booked, old_coach=old_coach, client=client)
    return made


@override_settings(RETENTION_YEARS=YEARS)
def test_retention_removes_exactly_what_is_older_than_the_limit(old_and_new):
    made = old_and_new
    with time_machine.travel(NOW, tick=False):
        out = io.StringIO()
        call_command("apply_retention", "--dry-run", stdout=out)
        assert "booking_texts (older than 3 years): would remove 1" in out.getvalue()
        assert "inactive_accounts (older than 3 years): would remove 1" in out.getvalue()
        assert Notification.objects.filter(pk=made["old_notification"].pk).exists()  # a dry run changes nothing

        done = apply_retention()
    assert done == {
        "booking_texts": 1,
        "notifications": 1,
        "webhook_deliveries": 1,
        "intake_answers": 0,
        "coach_notes": 1,
        "inactive_accounts": 1,
    }
    old, new = (Booking.objects.get(pk=made[name].pk) for name in ("old_booking", "new_booking"))
    assert (old.client_notes, old.feedback, old.coach_notes) == ("", "", "")
    assert (new.client_notes, new.feedback, new.coach_notes) == ("new text", "new text", "new text")
    assert old.status == made["old_booking"].status  # the booking itself stays
    for kind, model in (("notification", Notification), ("delivery", WebhookDelivery), ("note", CoachNote)):
        assert not model.objects.filter(pk=made[f"old_{kind}"].pk).exists()
        assert model.objects.filter(pk=made[f"new_{kind}"].pk).exists()

    for name in ("gone", "recent", "booked", "old_coach", "client"):
        made[name].refresh_from_db()
    assert made["gone"].email == f"erased-{made['gone'].pk}@erased.invalid" and not made["gone"].is_active
    assert made["gone"].name == ""
    for name in ("recent", "booked", "old_coach", "client"):
        assert made[name].is_active and "erased" not in made[name].email, name
    record = ErasureRecord.objects.get()
    assert (record.account_id, record.source, record.status) == (
        made["gone"].pk,
        ErasureSource.RETENTION,
        ErasureStatus.DONE,
    )

    # A second run the same day finds nothing more.
    with time_machine.travel(NOW, tick=False):
        assert set(apply_retention().values()) == {0}


@override_settings(RETENTION_YEARS={**YEARS, "notifications": None, "inactive_accounts": None})
def test_a_kind_kept_for_ever_is_left_alone(old_and_new):
    with time_machine.travel(NOW, tick=False):
        done = retention.apply()
    assert done["notifications"] is None and done["inactive_accounts"] is None
    assert Notification.objects.filter(pk=old_and_new["old_notification"].pk).exists()
    old_and_new["gone"].refresh_from_db()
    assert old_and_new["gone"].is_active
