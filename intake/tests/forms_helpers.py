"""Shared set-up for the intake forms' tests: a coach, a session type asking a form, a
client, and the wizard's and the API's ways to book."""

from __future__ import annotations

import datetime as dt
import json
from html import unescape

from django.urls import reverse

from accounts.tests.factories import make_token
from conftest import logged_in
from intake import builder
from intake.models import AskWhen, FormAsk, Question

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
START = dt.datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
LATER = dt.datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def make_form(owner, title="Getting started", steps=None, *, when=AskWhen.FIRST_BOOKING, session_type=None, actor=None):
    """A published form: ``steps`` is [(title, [question data…]), …]."""
    actor = actor or owner
    steps = steps or [
        ("About you", [{"kind": "short_text", "label": "Your goal", "required": True}]),
    ]
    form = builder.create_form(actor=actor, title=title)
    first = builder.editable(form).steps.get()
    for index, (step_title, questions) in enumerate(steps):
        if index == 0:
            builder.update_step(step=first, title=step_title, intro="")
            step = first
        else:
            step = builder.add_step(form=form, title=step_title)
        for data in questions:
            values = {
                "help_text": "",
                "required": True,
                "choices": "",
                "max_size_mb": 10,
                "allowed_types": "pdf,jpg,png",
            }
            values.update(data)
            if isinstance(values["choices"], list):
                values["choices"] = "\n".join(values["choices"])
            builder.add_question(step=step, data=values)
    builder.publish(form=form, actor=actor)
    if session_type is not None:
        FormAsk.objects.create(form=form, session_type=session_type, when=when)
    return form


THREE_STEPS = [
    (
        "About you",
        [
            {"kind": "short_text", "label": "Preferred name"},
            {"kind": "date", "label": "Date of birth"},
        ],
    ),
    (
        "History",
        [
            {"kind": "long_text", "label": "What brings you here?"},
            {"kind": "yes_no", "label": "Seen a coach before?"},
            {"kind": "single_choice", "label": "How did you hear of us?", "choices": ["Friend", "Search", "Other"]},
        ],
    ),
    (
        "Goals",
        [
            {"kind": "multiple_choice", "label": "Areas", "choices": ["Career", "Health", "Family"]},
            {"kind": "scale", "label": "Motivation"},
            {"kind": "file", "label": "Referral letter", "required": False},
        ],
    ),
]


def question(form, label) -> Question:
    return Question.objects.get(step__version__form=form, step__version__published_at__isnull=False, label=label)


def confirm_url(session_type, start: dt.datetime = START, **params) -> str:
    url = f"{reverse('book_confirm', args=[session_type.coach_id, session_type.pk])}?start={start:%Y-%m-%dT%H:%M:%SZ}"
    for name, value in params.items():
        url += f"&{name}={value}"
    return url


def page(response) -> str:
    return unescape(response.content.decode())


def book(http, session_type, start=START, **data):
    return http.post(confirm_url(session_type, start), {"notes": "", "reminders": "on", **data})


def api(user):
    _token, secret = make_token(user)
    http = logged_in(user)
    http.defaults["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    return http


def api_book(user, session_type, start=START, **body):
    payload = {"coach": session_type.coach_id, "session_type": session_type.pk, "start": start.isoformat(), **body}
    return api(user).post("/api/v1/bookings", json.dumps(payload), content_type="application/json")
