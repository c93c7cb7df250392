"""A person's own data as one zip file (the right of access): their account, their bookings
with each one's history (JSON, CSV and an ``.ics`` calendar), their payments, refunds and
credits, the notifications addressed to them and — only when ``PRIVACY_EXPORT_COACH_NOTES``
is on — the private notes coaches wrote about them.

Each section is a function of the person alone that returns plain data; ``build_zip`` writes
them. Every section reads in a fixed number of queries, however many bookings or messages
the person has.

What a coach's download holds besides: the sessions they host, one row per seat, with the
booking's reference, times, type and status and the client's name only (no email, phone,
notes or answers: those are the client's data, which the client downloads themself), and
the private notes they wrote (they are the author).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import zipfile
from collections.abc import Iterable

from django.conf import settings
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import User
from bookings.models import Booking, BookingEvent
from bookings.selectors import co_hosting
from config import crypto
from intake import answers as intake_answers
from intake.consents import records_for_client
from intake.models import CoachNote
from notifications.calendar import bookings_ics, zone_of
from notifications.models import Notification, NotificationSettings
from notifications.preferences import chosen_channels, kinds_for
from payments.models import CreditEntry, Payment, Refund

logger = logging.getLogger(__name__)

BOOKING_COLUMNS = [
    "reference",
    "status",
    "session_type",
    "coach",
    "start_utc",
    "end_utc",
    "price",
    "currency",
    "your_notes",
    "booked_at",
    "history",
]
HOSTED_COLUMNS = ["reference", "status", "session_type", "start_utc", "end_utc", "client"]


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat() if value else None


def _name(user: User | None) -> str:
    return user.display_name if user else ""


# --- sections ------------------------------------------------------------------------------


def account_data(user: User) -> dict:
    """Who the person is and how they chose to hear from us."""
    choices = NotificationSettings.objects.filter(user=user).first()
    profile = {}
    if user.is_coach and hasattr(user, "coach_profile"):
        profile = {"headline": user.coach_profile.headline, "bio": user.coach_profile.bio}
    return {
        "name": user.name,
        "email": user.email,
        "phone": user.phone,
        "time_zone": user.timezone,
        "role": user.role,
        "date_joined": _iso(user.date_joined),
        "last_login": _iso(user.last_login),
        "coach_profile": profile or None,
        "notification_preferences": {
            "channels": {kind: chosen_channels(user, kind, choices) for kind in kinds_for(user)},
            "reminder_minutes": choices.reminder_minutes if choices else None,
            "saved": choices is not None,
        },
    }


def _history(booking: Booking) -> list[dict]:
    # The event's ``data`` is the product's bookkeeping (a coach's load, ids), not the person's.
    return [
        {
            "at": _iso(event.created_at),
            "action": event.action,
            "from_status": event.from_status,
            "to_status": event.to_status,
            "by": _name(event.actor),
            "note": event.note,
        }
        for event in booking.events.all()
    ]


def client_bookings(user: User) -> list[dict]:
    """The bookings the person has as the client, oldest first, each with its history."""
    events = BookingEvent.objects.select_related("actor").order_by("created_at", "pk")
    bookings = (
        Booking.objects.filter(client=user)
        .select_related("session__session_type", "session__coach", "cancelled_by")
        .prefetch_related(Prefetch("events", queryset=events))
        .order_by("session__start", "pk")
    )
    return [
        {
            "reference": booking.reference,
            "status": booking.status,
            "session_type": booking.session.session_type.title,
            "coach": _name(booking.session.coach),
            "start_utc": _iso(booking.session.start),
            "end_utc": _iso(booking.session.end),
            "price": str(booking.price),
            "currency": booking.currency,
            "your_notes": booking.client_notes,
            "question_from_coach": booking.info_request,
            "your_answer": booking.info_response,
            "message_from_coach": booking.coach_notes,
            "decline_reason": booking.decline_reason,
            "cancelled_at": _iso(booking.cancelled_at),
            "cancelled_by": _name(booking.cancelled_by),
            "cancellation_reason": booking.cancellation_reason,
            "rating": booking.rating,
            "feedback": booking.feedback,
            "booked_at": _iso(booking.created_at),
            "history": _history(booking),
        }
        for booking in bookings
    ]


def hosted_sessions(user: User) -> list[dict]:
    """For a coach: every seat in the sessions they host (as the coach or a co-host), with
    the client's name only."""
    if not user.is_coach:
        return []
    bookings = (
        Booking.objects.filter(Q(session__coach=user) | Q(co_hosting(user, "session")))
        .select_related("session__session_type", "client")
        .order_by("session__start", "pk")
    )
    return [
        {
            "reference": booking.reference,
            "status": booking.status,
            "session_type": booking.session.session_type.title,
            "start_utc": _iso(booking.session.start),
            "end_utc": _iso(booking.session.end),
            "client": _name(booking.client),
        }
        for booking in bookings
    ]


def _refund(refund: Refund) -> dict:
    return {
        "amount_minor": refund.amount_minor,
        "currency": refund.currency,
        "status": refund.status,
        "reason": refund.reason,
        "created_at": _iso(refund.created_at),
    }


def payments_data(user: User) -> dict:
    """The person's payments (amounts in the currency's minor units, e.g. cents), each with
    its refunds, and their credit ledger."""
    payments = (
        Payment.objects.filter(client=user)
        .select_related("booking")
        .prefetch_related(Prefetch("refunds", queryset=Refund.objects.order_by("created_at", "pk")))
        .order_by("created_at", "pk")
    )
    credits = CreditEntry.objects.filter(client=user).select_related("booking", "package").order_by("created_at", "pk")
    return {
        "payments": [
            {
                "booking": payment.booking.reference if payment.booking else None,
                "kind": payment.kind,
                "amount_minor": payment.amount_minor,
                "currency": payment.currency,
                "status": payment.status,
                "created_at": _iso(payment.created_at),
                "paid_at": _iso(payment.paid_at),
                "refunds": [_refund(refund) for refund in payment.refunds.all()],
            }
            for payment in payments
        ],
        "credits": [
            {
                "kind": entry.kind,
                "amount": entry.amount,
                "package": entry.package.title if entry.package else None,
                "booking": entry.booking.reference if entry.booking else None,
                "expires_at": _iso(entry.expires_at),
                "note": entry.note,
                "created_at": _iso(entry.created_at),
            }
            for entry in credits
        ],
    }


def notifications_data(user: User) -> list[dict]:
    """The notifications addressed to the person, newest first, with how each was sent."""
    notifications = (
        Notification.objects.filter(recipient=user).prefetch_related("deliveries").order_by("-created_at", "-pk")
    )
    return [
        {
            "kind": notification.kind,
            "title": notification.title,
            "body": notification.body,
            "created_at": _iso(notification.created_at),
            "read_at": _iso(notification.read_at),
            "deliveries": [
                {"channel": delivery.channel, "status": delivery.status, "sent_at": _iso(delivery.sent_at)}
                for delivery in notification.deliveries.all()
            ],
        }
        for notification in notifications
    ]


def _notes(notes: Iterable[CoachNote], *, about: bool) -> list[dict]:
    return [
        {
            ("coach" if about else "client"): _name(note.coach if about else note.client),
            "booking": note.booking.reference if note.booking else None,
            "text": note.text,
            "created_at": _iso(note.created_at),
            "updated_at": _iso(note.updated_at),
        }
        for note in notes
    ]


def notes_about(user: User) -> list[dict]:
    """The private notes coaches wrote about the person (the download holds them only when
    ``PRIVACY_EXPORT_COACH_NOTES`` is on)."""
    notes = CoachNote.objects.filter(client=user).select_related("coach", "booking").order_by("created_at", "pk")
    return _notes(notes, about=True)


def notes_written(user: User) -> list[dict]:
    """The private notes the person wrote as a coach."""
    notes = CoachNote.objects.filter(coach=user).select_related("client", "booking").order_by("created_at", "pk")
    return _notes(notes, about=False)


# --- files -----------------------------------------------------------------------------------


def _json(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def bookings_csv(bookings: list[dict]) -> str:
    """One row a booking; its history in one cell, one change a line."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=BOOKING_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for booking in bookings:
        history = "\n".join(
            f"{event['at']} {event['action']} {event['from_status'] or '-'}→{event['to_status']}"
            + (f" ({event['note']})" if event["note"] else "")
            for event in booking["history"]
        )
        writer.writerow({**booking, "history": history})
    return out.getvalue()


def hosted_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HOSTED_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _readme_lines() -> dict[str, str]:
    return {
        "account.json": gettext(
            "Your account: name, email, phone, time zone, role, when you joined, and your notification preferences."
        ),
        "bookings.json": gettext(
            "Every booking you have as the client, with what you wrote, your answers, and each booking's "
            "history (every change, when and by whom)."
        ),
        "bookings.csv": gettext("The same bookings as a spreadsheet, one row a booking."),
        "bookings.ics": gettext("The same bookings as calendar events, to open in a calendar app."),
        "payments.json": gettext(
            "Your payments (amounts in the currency's smallest unit, e.g. cents), their refunds, and your credits."
        ),
        "notifications.json": gettext("The messages we sent you, and how each was delivered."),
        "coach_notes.json": gettext("The private notes coaches wrote about you."),
        "hosted_sessions.json": gettext(
            "The sessions you host, one row a seat: reference, type, times, status and the client's name "
            "(their other details are theirs to download)."
        ),
        "hosted_sessions.csv": gettext("The same sessions as a spreadsheet."),
        "notes_written.json": gettext("The private notes you wrote about your clients."),
        "intake_answers.json": gettext(
            "Your answers to intake forms (and those you gave for the people you book for): each form, its "
            "version, the coach, the booking and every answer."
        ),
        "intake_files/": gettext("The files you gave as answers, as you uploaded them."),
        "consents.json": gettext("The documents you accepted: which version, when, from which address and by whom."),
    }


def consents_data(user: User) -> list[dict]:
    """The consent documents' versions the person accepted (and accepted for dependents)."""
    return [
        {
            "document": record.version.document.title,
            "kind": record.version.document.kind,
            "version": record.version.number,
            "about": _name(record.client),
            "accepted_at": _iso(record.accepted_at),
            "accepted_by": _name(record.accepted_by),
            "address": record.ip_address,
            "booking": record.booking.reference if record.booking_id else None,
        }
        for record in records_for_client(user).select_related("accepted_by", "booking")
    ]


def _intake_files(user: User) -> dict[str, bytes]:
    """The person's answer files, decrypted: ``intake_files/<id>-<name>``."""
    found = {}
    for file in intake_answers.files_of(user):
        try:
            data = intake_answers.file_bytes(file)
        except crypto.Unreadable:  # a file no configured key opens: left out, not the whole download
            logger.warning("Intake file %s could not be read for a data download.", file.pk)
            continue
        safe = "".join(char if char.isalnum() or char in "._-" else "_" for char in file.name)[-120:] or "file"
        found[f"intake_files/{file.pk}-{safe}"] = data
    return found


def readme(names: Iterable[str], *, now: dt.datetime) -> str:
    """README.txt: what each file of the download is."""
    lines = _readme_lines()
    head = gettext("Your data, as kept by %(site)s on %(date)s. Times are in UTC (ISO 8601).") % {
        "site": settings.SITE_NAME,
        "date": _iso(now),
    }
    return head + "\n\n" + "".join(f"{name}\n    {lines[name]}\n" for name in names)


def file_name(user: User, now: dt.datetime | None = None) -> str:
    """``my-data-YYYY-MM-DD.zip``, the date of the person's day."""
    day = (now or timezone.now()).astimezone(zone_of(user)).date()
    return f"my-data-{day.isoformat()}.zip"


def build_zip(user: User, *, now: dt.datetime | None = None) -> bytes:
    """The person's data as the bytes of a zip file."""
    now = now or timezone.now()
    bookings = client_bookings(user)
    with_notes = settings.PRIVACY_EXPORT_COACH_NOTES
    files = {
        "account.json": _json(account_data(user)),
        "bookings.json": _json(bookings),
        "bookings.csv": bookings_csv(bookings),
        "bookings.ics": bookings_ics(
            Booking.objects.filter(client=user).values_list("pk", flat=True),
            viewer=user,
            name=gettext("Sessions · %(name)s") % {"name": user.display_name},
        ),
        "payments.json": _json(payments_data(user)),
        "notifications.json": _json(notifications_data(user)),
    }
    if with_notes:
        files["coach_notes.json"] = _json(notes_about(user))
    if user.is_coach:
        hosted = hosted_sessions(user)
        files["hosted_sessions.json"] = _json(hosted)
        files["hosted_sessions.csv"] = hosted_csv(hosted)
        files["notes_written.json"] = _json(notes_written(user))
    files["intake_answers.json"] = _json(intake_answers.export_of(user))
    files["consents.json"] = _json(consents_data(user))
    answer_files = _intake_files(user)
    files["README.txt"] = readme([*files, *(["intake_files/"] if answer_files else [])], now=now)
    files.update(answer_files)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()
