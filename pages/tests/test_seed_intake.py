"""The demo's intake: Priya (a counselling psychologist) asks new clients to accept her
consent document and answer a three-step intake form before a first consultation."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from accounts.models import User
from bookings import gates
from bookings.models import SessionType
from intake.models import ConsentDocument, FormAsk, IntakeForm

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC)


def test_priyas_new_clients_accept_her_consent_and_answer_three_steps_and_seeding_again_adds_nothing():
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", stdout=StringIO())
        call_command("seed_demo", stdout=StringIO())
    priya = User.objects.get(email="priya.raman@demo.booking.test")
    aisha = User.objects.get(email="aisha.khan@demo.booking.test")
    camille = User.objects.get(email="camille.laurent@demo.booking.test")
    assert ConsentDocument.objects.filter(owner=priya).count() == 1
    form = IntakeForm.objects.get(owner=priya)
    consultation = SessionType.objects.get(coach=priya, title="Counselling consultation")
    assert FormAsk.objects.get(form=form).session_type == consultation
    assert [item.title for item in gates.pending(aisha, priya)] == [
        "Consent to counselling and to the keeping of notes"
    ]
    assert gates.pending(aisha, camille) == []
    asked = gates.asked(aisha, consultation, booker=aisha)
    assert [item.title for item in asked] == ["Before our first session"] and not asked[0].ready
    published = form.versions.exclude(published_at=None).get()
    assert [step.title for step in published.steps.all()] == ["About you", "What brings you here", "Your goals"]
