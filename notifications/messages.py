"""The words of every notification: built-in wording per kind and channel, staff's own
templates from the admin, the variables they may use, and rendering with a safe fallback.

Templates use Django's template language on plain strings (``{{ coach_name }}``); the
context holds strings only, so a template can't reach into the database. A template that
fails to render — a syntax error, an unknown filter, an empty result — is logged and the
built-in wording is used instead: a wording mistake never stops a booking or a reminder.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template import Context, Engine, Template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import dateformat, translation
from django.utils.html import linebreaks
from django.utils.translation import gettext, gettext_noop, ngettext, ngettext_lazy, pgettext

from bookings import selectors, video
from bookings.models import BookingStatus
from config import stored_text
from config.dates import format_when
from config.money import display as money_display
from notifications.models import Channel, Kind, MessageTemplate

logger = logging.getLogger(__name__)

# Staff templates run in an engine of their own: no template files to include, no tag
# libraries to load beyond Django's built-in tags and filters.
ENGINE = Engine(dirs=[], app_dirs=False, libraries={}, debug=False)

# The variables every template may use, with what they hold (listed in the admin,
# translated there).
VARIABLES: dict[str, str] = {
    "recipient_name": gettext_noop("The name of the person the message goes to."),
    "audience": gettext_noop("Who reads it: client, coach or staff."),
    "other_party": gettext_noop("The coach's name for a client, the client's name for a coach or staff."),
    "client_name": gettext_noop("The client's name."),
    "coach_name": gettext_noop("The coach's name (the host who answers requests)."),
    "hosts": gettext_noop("Everyone who hosts the session: “Ana Diaz and Ben Ito” (the coach alone when only one)."),
    "co_host": gettext_noop(
        "“yes” when the message goes to a co-host (who hosts, but doesn't answer requests), else empty."
    ),
    "room": gettext_noop("The room reserved for the session and where it is, e.g. “Room 2, 12 rue X” (may be empty)."),
    "session_title": gettext_noop("The session type, e.g. “Consultation”."),
    "when": gettext_noop("Day, date and start time in the recipient's time zone, with the zone."),
    "time_range": gettext_noop("Start and end time, e.g. “10:00–11:00”."),
    "timezone": gettext_noop("The recipient's time zone, e.g. Europe/Paris."),
    "duration": gettext_noop("The length, e.g. “60 minutes”."),
    "reference": gettext_noop("The booking reference, e.g. BK-2026-000042."),
    "status": gettext_noop("The booking's status, e.g. “Confirmed”."),
    "requested": gettext_noop("“yes” while the booking is a request waiting for the coach, else empty."),
    "place": gettext_noop("Where: the room and its address, the address, the meeting link, or “Online”."),
    "meeting_link": gettext_noop(
        "The session's video link, for its hosts and staff, and for the client once booked (else empty)."
    ),
    "booking_url": gettext_noop("The booking's page."),
    "reason": gettext_noop("The reason given for a decline or a cancellation (may be empty)."),
    "question": gettext_noop("The coach's question (more information requested)."),
    "answer": gettext_noop("The client's answer (information given)."),
    "previous_when": gettext_noop("The time before a reschedule (may be empty)."),
    "alternatives": gettext_noop("The suggested times, one per line (may be empty)."),
    "lead": gettext_noop("How soon the session starts, e.g. “in 2 hours” (reminders)."),
    "cancellation_deadline": gettext_noop("Until when the booking can be cancelled free of charge."),
    "limit_text": gettext_noop("The coach's day or week count against the limit (limit warnings)."),
    "rating_url": gettext_noop("Where the client rates the session (feedback request)."),
    "site_url": gettext_noop("The address of the site."),
    "amount": gettext_noop("Payments: the amount paid, refunded or failed, e.g. “60.00 EUR”."),
    "paid_with_credit": gettext_noop("Receipts: “yes” when the booking was paid with a credit, else empty."),
    "authorised": gettext_noop("Receipts: “yes” when the card was only authorised (a request, charged on approval)."),
    "balance": gettext_noop("With a deposit: what is left to pay, e.g. “40.00 EUR” (may be empty)."),
    "balance_due": gettext_noop("With a deposit: when the rest is due, in the recipient's time zone (may be empty)."),
    "refund_policy": gettext_noop("Receipts: what comes back on a cancellation (notice, late share)."),
    "pay_url": gettext_noop("Where to pay (a failed payment's retry, a balance)."),
    "hold_ends": gettext_noop("Until when an unpaid booking's place is held (may be empty)."),
    "failure_message": gettext_noop("Why a payment failed, as the bank or gateway said (may be empty)."),
    "purchase": gettext_noop(
        "Receipts for a purchase: “package”, “programme” or “series” (paid up front); empty for a booking."
    ),
    "item": gettext_noop(
        "What was bought or refunded: a package or programme's name, or a series' sessions (empty for a booking)."
    ),
    "credits_added": gettext_noop("Package receipts: how many credits were added."),
    "refund_reason": gettext_noop("Refunds: why the money was given back (may be empty)."),
    "offer_ends": gettext_noop("Waitlist offers: until when the seat is held, in the recipient's time zone."),
    "offer_url": gettext_noop("Waitlist offers: where to accept or decline the seat."),
    "session_url": gettext_noop("Waitlist: the session's page, to join its waitlist again."),
    "material": gettext_noop("Material available: the title of what the coach shared."),
    "position": gettext_noop("Waitlist: the client's place in line (1 is next)."),
    "waitlist_url": gettext_noop("Waitlist: the client's waitlist page."),
    "series_count": gettext_noop(
        "Series messages: how many sessions the change made or touched, e.g. “8” (empty otherwise)."
    ),
    "series_sessions": gettext_noop("Series messages: e.g. “8 weekly sessions” (empty otherwise)."),
    "series_kind": gettext_noop("Series messages: e.g. “weekly series” (empty otherwise)."),
    "series_rule": gettext_noop("Series messages: the days and time in the recipient's zone, e.g. “Tuesdays 18:00”."),
    "series_previous_rule": gettext_noop(
        "Series moved: the days and time before, e.g. “Tuesdays 18:00” (may be empty)."
    ),
    "series_from": gettext_noop("Series messages: the first date, e.g. “9 Mar”."),
    "series_to": gettext_noop("Series messages: the last date, e.g. “27 Apr 2027”."),
    "series_when": gettext_noop("Series messages: “Tuesdays 18:00 (Europe/Paris), from 9 Mar to 27 Apr 2027”."),
    "series_dates": gettext_noop("Series messages: every date, compact, e.g. “Mar 9, 16, 23, 30 · Apr 6, 13”."),
    "endpoint_url": gettext_noop("Webhooks: the address of the webhook that was disabled."),
    "webhooks_url": gettext_noop("Webhooks: the page where the person's webhooks are listed."),
}

# Built-in wording: a subject (the email subject and the in-app title), the email text,
# the SMS (short, whole on its own) and the in-app text (under its title, so it doesn't
# say the title again). Each is one whole string marked with ``gettext_noop`` and
# translated when a message is rendered (``_builtin``), so the recipient's language
# applies; the recurring lines (the session, the place with its video link, the
# reference) are written out in each, so that every msgid is a whole message.
BUILTIN: dict[str, dict[str, str]] = {
    Kind.BOOKING_CREATED: {
        "subject": gettext_noop(
            "{% if audience == 'staff' %}New booking: {{ client_name }} with {{ hosts }}"
            "{% elif audience == 'coach' %}New booking: {{ session_title }} with {{ client_name }}"
            "{% elif requested %}Request sent: {{ session_title }} with {{ hosts }}"
            "{% else %}Booked: {{ session_title }} with {{ hosts }}{% endif %}"
        ),
        "text": gettext_noop(
            "Hello {{ recipient_name }},\n\n"
            "{% if audience != 'client' %}{{ client_name }} booked a session with {{ hosts }}."
            "{% elif requested %}Your request was sent. {{ coach_name }} will confirm or suggest another time."
            "{% else %}Your session is booked.{% endif %}\n\n"
            "{{ session_title }} with {{ hosts }}\n{{ when }}\n"
            "{{ place }}{% if meeting_link and meeting_link != place %}\nJoin online: {{ meeting_link }}{% endif %}"
            "\nReference: {{ reference }}"
        ),
        "short": gettext_noop(
            "{% if audience == 'client' %}{% if requested %}Request sent{% else %}Booked{% endif %}: "
            "{{ session_title }}{% elif audience == 'coach' %}{{ client_name }} booked {{ session_title }}"
            "{% else %}{{ client_name }} with {{ hosts }}{% endif %}, {{ when }}. {{ reference }}"
        ),
        "in_app": "{{ when }}\n{{ reference }}",
    },
    Kind.REQUEST_RECEIVED: {
        "subject": gettext_noop("Booking request from {{ client_name }}: {{ session_title }}"),
        "text": gettext_noop(
            "Hello {{ recipient_name }},\n\n{{ client_name }} asks for a session. {% if co_host %}{{ coach_name }} "
            "answers it; you host it with them once it is confirmed.{% else %}Approve it, decline it or "
            "suggest another time from your dashboard.{% endif %}\n\n{{ session_title }} with {{ client_name }}\n"
            "{{ when }}\n{{ place }}\nReference: {{ reference }}"
        ),
        "short": gettext_noop("Request from {{ client_name }}: {{ session_title }}, {{ when }}. {{ reference }}"),
        "in_app": gettext_noop(
            "{{ when }}. {% if co_host %}{{ coach_name }} answers it.{% else %}Approve, decline or suggest "
            "another time.{% endif %}\n{{ reference }}"
        ),
    },
    Kind.CONFIRMED: {
        "subject": gettext_noop("Confirmed: {{ session_title }} with {{ other_party }}"),
        "text": gettext_noop(
            "Hello {{ recipient_name }},\n\nThe session is confirmed.\n\n"
            "{{ session_title }} with {{ hosts }}\n{{ when }}\n"
            "{{ place }}{% if meeting_link and meeting_link != place %}\nJoin online: {{ meeting_link }}{% endif %}"
            "\nReference: {{ reference }}"
        ),
        "short": gettext_noop("Confirmed: {{ session_title }}, {{ when }}. {{ reference }}"),
        "in_app": "{{ when }}\n{{ reference }}",
    },
    Kind.DECLINED: {
        "subject": gettext_noop("Declined: {{ session_title }} with {{ hosts }}"),
        "text": gettext_noop(
            "Hello {{ recipient_name }},\n\n{{ coach_name }} can't take this session."
            "{% if reason %}\nReason: {{ reason }}{% endif %}\n\n"
            "{{ session_title }} with {{ hosts }}\n{{ when }}\n"
            "{{ place }}{% if meeting_link and meeting_link != place %}\nJoin online: {{ meeting_link }}{% endif %}"
            "\nReference: {{ reference }}"
            "\n\nOther free times, your usual ones among them, are on the booking's page: {{ booking_url }}"
        ),
        "short": gettext_noop(
            "Declined: {{ session_title }}, {{ when }}.{% if reason %} Reason: {{ reason }}{% endif %} {{ reference }}"
        ),
        "in_app": gettext_noop("{{ when }}.{% if reason %} Reason: {{ reason }}{% endif %}\n{{ reference }}"),
    },
    Kind.ALTERNATIVES_SUGGESTED: {
        "subject": gettext_noop("{{ coach_name }} suggested other times"),
        "text": gettext_noop(
            "Hello {{ recipient_name }},\n\n{{ coach_name }} can't make {{ when }} and suggests:\n"
            "{{ alternatives }}\n\nChoose one on the booking's page: {{ booking_url }}\n\nReference: {{ reference }}"
        ),
        "short": gettext_noop("{{ coach_name }} suggested other times for {{ session_title }}. {{ reference }}"),
        "in_app": gettext_noop(
            "Instead of {{ when }}: choose one of the times on the booking's page.\n{{ reference }}"
        ),
    },
    Kind.INFORMATION_REQUESTED: {
        "subject": gettext_noop("{{ coach_name }} has a question about your request"),
        "text": gettext_noop(
            "Hello {{ recipient_name }},\n\n{{ coach_name }} asks:\n“{{ question }}”\n\n"
            "Answer on the booking's page: {{ booking_url }}\n\n"
            "{{ session_title }} with {{ hosts }}\n{{ when }}\n"
            "{{ place }}{% if meeting_link and meeting_link != place %}\nJoin online: {{ meeting_link }}{% endif %}"
            "\nReference: {{ reference }}"
        ),
        "short": gettext_noop("{{ coach_name }} asks: “{{ question }}” {{ reference }}"),
        "in_app": gettext_noop("“{{ question }}” Answer on the booking's page.\n{{ reference }}"),
    },
    Kind.INFORMATION_GIVEN: {
        "subject": gettext_noop("{{ client_name }} answered your question"),
        "text": gettext_noop(
            "Hello {{ recipient_name }},\n\n{{ client_name }} answered:\n“{{ answer }}”\n\n"
            "{{ session_title }} with {{ client_name }}\n{{ when }}\nReference: {{ reference }}"
        ),
        "short": gettext_noop("{{ client_name }} answered: “{{ answer }}” {{ reference }}"),
        "in_app": "“{{ answer }}”\n{{ reference }}",
    },
    Kind.CANCELLED: {
        "subject": gettext_noop("Cancelled: {{ session_title }} with {{ other_party }}"),
        "text": gettext_noop(
            "Hello {{ recipient_name }},\n\nThis session is cancelled.{% if reason %}\nReason: {{ reason }}"
            "{% endif %}\n\n"
            "{{ session_title }} with {{ hosts }}\n{{ when }}\n"
            "{{ place }}{% if meeting_link and meeting_link != place %}\nJoin online: {{ meeting_link }}{% endif %}"
            "\nReference: {{ reference }}"
        ),
        "short": gettext_noop(
            "Cancelled: {{ session_title }}, {{ when }}.{% if reason %} Reason: {{ reason }}{% endif %} {{ reference }}"
        ),
        "in_app": gettext_noop("{{ when }}.{% if reason %} Reason: {{ reason }}{% endif %}\n{{ reference }}"),
    },
    Kind.RESCHEDULED: {
        "subject": gettext_noop("Moved: {{ session_title }} with {{ other_party }}"),
        "text": gettext_noop(
            "Hello {{ recipient_name }},\n\nThis session moved{% if previous_when %} from {{ previous_when }}"
            "{% endif %}.\n\n"
            "{{ session_title }} with {{ hosts }}\n{{ when }}\n"
            "{{ place }}{% if meeting_link and meeting_link != place %}\nJoin online: {{ meeting_link }}{% endif %}"
            "\nReference: {{ reference }}"
        ),
        "short": gettext_noop("Moved: {{ session_title }} is now {{ when }}. {{ reference }}"),
        "in_app": gettext_noop(
            "Now {{ when }}{% if previous_when %}, was {{ previous_when }}{% endif %}.\n{{ reference }}"
        ),
    },
    Kind.SESSION_REMINDER: {
        "subject": gettext_noop("Reminder: {{ session_title }} {{ lead }}"),
        "text": gettext_noop(
            "Hello {{ recipient_name }},\n\nYour session starts {{ lead }}.\n\n"
            "{{ session_title }} with {{ other_party }}\n{{ when }}\n"
            "{{ place }}{% if meeting_link and meeting_link != place %}\nJoin online: {{ meeting_link }}{% endif %}"
            "\nReference: {{ reference }}"
        ),
        "short": gettext_noop("Reminder: {{ session_title }} {{ lead }}, {{ when }}. {{ place }}"),
        "in_app": "{{ when }} · {{ place }}\n{{ reference }}",
    },
    Kind.CANCELLATION_WINDOW: {
        "subject": gettext_noop("Free cancellation ends {{ cancellation_deadline }}"),
        "text": gettext_noop(
            "Hello {{ recipient_name }},\n\nIf you can't come, cancel or move the session before "
            "{{ cancellation_deadline }}; later changes count as late.\n\n"
            "{{ session_title }} with {{ hosts }}\n{{ when }}\n"
            "{{ place }}{% if meeting_link and meeting_link != place %}\nJoin online: {{ meeting_link }}{% endif %}"
            "\nReference: {{ reference }}"
        ),
        "short": gettext_noop(
            "{{ session_title }} {{ when }}: cancel or move before {{ cancellation_deadline }}. {{ reference }}"
        ),
        "in_app": gettext_noop("{{ session_title }}, {{ when }}: later changes count as late.\n{{ reference }}"),
    },
    Kind.SESSION_LIMIT_WARNING: {
        "subject": gettext_noop("Nearly fully booked: {{ limit_text }}"),
        "text": gettext_noop(
            "Hello {{ recipient_name }},\n\nYou are close to your session limit: {{ limit_text }}.\n"
            "Change the limit in your booking settings if you want to take more.\n\nLatest: {{ session_title }} with "
            "{{ client_name }}, {{ when }}"
        ),
        "short": gettext_noop("Nearly fully booked: {{ limit_text }}."),
        "in_app": gettext_noop(
            "Latest: {{ session_title }} with {{ client_name }}, {{ when }}. "
            "Raise the limit in your booking settings to take more."
        ),
    },
    Kind.FEEDBACK_REQUEST: {
        "subject": gettext_noop("How was {{ session_title }} with {{ hosts }}?"),
        "text": gettext_noop(
            "Hello {{ recipient_name }},\n\nThank you for your session with {{ hosts }} on {{ when }}.\n"
            "Rate it (1–5) and leave a comment: {{ rating_url }}"
        ),
        "short": gettext_noop("How was {{ session_title }} with {{ hosts }}? Rate it: {{ rating_url }}"),
        "in_app": gettext_noop("Rate it (1–5) and leave a comment on the booking's page.\n{{ reference }}"),
    },
    Kind.PAYMENT_RECEIVED: {
        "subject": gettext_noop(
            "{% if purchase %}Receipt: {{ item }}{% elif paid_with_credit %}Booked with 1 credit: {{ session_title }}"
            "{% elif authorised %}Card authorised: {{ session_title }} with {{ hosts }}"
            "{% else %}Receipt: {{ session_title }} with {{ hosts }}{% endif %}"
        ),
        "text": gettext_noop(
            "Hello {{ recipient_name }},\n\n"
            "{% if purchase == 'package' %}Thank you for your payment of {{ amount }}: {{ credits_added }} credits "
            "were added to your account.{% elif purchase == 'programme' %}Thank you for your payment of {{ amount }}: "
            "you are enrolled in {{ item }}.{% elif purchase == 'series' %}Thank you for your payment of {{ amount }}: "
            "{{ item }} are paid.{% elif paid_with_credit %}This session is paid with 1 credit."
            "{% elif authorised %}{{ amount }} is reserved on your card and taken when {{ coach_name }} confirms the "
            "request; if it is declined, nothing is charged.{% else %}Thank you for your payment of {{ amount }}."
            "{% endif %}{% if balance %}\nThe balance of {{ balance }} is due by {{ balance_due }}.{% endif %}\n\n"
            "{% if purchase %}Reference: {{ reference }}{% else %}{{ session_title }} with {{ hosts }}\n{{ when }}\n"
            "{{ place }}\nReference: {{ reference }}\n\n{{ refund_policy }}{% endif %}"
        ),
        "short": gettext_noop(
            "{% if purchase %}Paid {{ amount }}: {{ item }}.{% elif paid_with_credit %}Paid with 1 credit: "
            "{{ session_title }}, {{ when }}.{% else %}{% if authorised %}Authorised{% else %}Paid{% endif %} "
            "{{ amount }}: {{ session_title }}, {{ when }}.{% endif %} {{ reference }}"
        ),
        "in_app": gettext_noop(
            "{% if purchase == 'package' %}{{ amount }}: {{ credits_added }} credits added."
            "{% elif purchase == 'series' %}{{ amount }}: {{ item }} paid.{% elif purchase %}"
            "{{ amount }}: you are enrolled.{% elif paid_with_credit %}Paid with 1 credit. {{ when }}"
            "{% else %}{% if authorised %}{{ amount }} authorised, taken on approval.{% else %}{{ amount }} paid."
            "{% endif %} {{ when }}{% endif %}{% if balance %}\n{{ balance }} due by {{ balance_due }}.{% endif %}"
            "\n{{ reference }}"
        ),
    },
    Kind.PAYMENT_FAILED: {
        "subject": gettext_noop("Payment failed: {{ session_title }} with {{ hosts }}"),
        "text": gettext_noop(
            "Hello {{ recipient_name }},\n\nYour payment of {{ amount }} did not go through."
            "{% if failure_message %}\n{{ failure_message }}{% endif %}\n\n"
            "{% if hold_ends %}Your place is held until {{ hold_ends }}. {% endif %}Try again: {{ pay_url }}\n\n"
            "{{ session_title }} with {{ hosts }}\n{{ when }}\n{{ place }}\nReference: {{ reference }}"
        ),
        "short": gettext_noop(
            "Payment failed for {{ session_title }}, {{ when }}.{% if hold_ends %} Held until {{ hold_ends }}."
            "{% endif %} Try again: {{ pay_url }}"
        ),
        "in_app": gettext_noop(
            "{% if failure_message %}{{ failure_message }} {% endif %}{% if hold_ends %}Your place is held until "
            "{{ hold_ends }}: {% endif %}try again from the booking's page.\n{{ reference }}"
        ),
    },
    Kind.PAYMENT_EXPIRED: {
        "subject": gettext_noop("Time to pay ran out: {{ session_title }} with {{ hosts }}"),
        "text": gettext_noop(
            "Hello {{ recipient_name }},\n\nThe time to pay ran out; the slot was released. "
            "Book again if you still want to come.\n\n"
            "{{ session_title }} with {{ hosts }}\n{{ when }}\nReference: {{ reference }}"
        ),
        "short": gettext_noop(
            "Time to pay ran out for {{ session_title }}, {{ when }}: the slot was released. {{ reference }}"
        ),
        "in_app": gettext_noop("The time to pay ran out; the slot was released. {{ when }}\n{{ reference }}"),
    },
    Kind.PAYMENT_REFUNDED: {
        "subject": gettext_noop(
            "Refunded: {{ amount }} for {% if item %}{{ item }}{% else %}{{ session_title }} with {{ hosts }}"
            "{% endif %}"
        ),
        "text": gettext_noop(
            "Hello {{ recipient_name }},\n\n{{ amount }} was refunded to the card you paid with; your bank may "
            "take a few days to show it.{% if refund_reason %}\n{{ refund_reason }}{% endif %}\n\n"
            "{% if item %}{{ item }}\nReference: {{ reference }}{% else %}{{ session_title }} with {{ hosts }}\n"
            "{{ when }}\nReference: {{ reference }}{% endif %}"
        ),
        "short": gettext_noop(
            "Refunded: {{ amount }} for {% if item %}{{ item }}{% else %}{{ session_title }}, {{ when }}{% endif %}. "
            "{{ reference }}"
        ),
        "in_app": gettext_noop(
            "{{ amount }} refunded{% if not item %} for {{ session_title }}, {{ when }}{% endif %}.\n{{ reference }}"
        ),
    },
    Kind.PAYMENT_DUE: {
        "subject": gettext_noop("Payment due: {{ balance }} for {{ session_title }} by {{ balance_due }}"),
        "text": gettext_noop(
            "Hello {{ recipient_name }},\n\nYou paid a deposit for this session; the balance of {{ balance }} "
            "is due by {{ balance_due }}. Pay it here: {{ pay_url }}\n\n"
            "{{ session_title }} with {{ hosts }}\n{{ when }}\n{{ place }}\nReference: {{ reference }}"
        ),
        "short": gettext_noop(
            "{{ balance }} due by {{ balance_due }} for {{ session_title }}, {{ when }}. Pay: {{ pay_url }}"
        ),
        "in_app": gettext_noop(
            "{{ balance }} due by {{ balance_due }}. {{ session_title }}, {{ when }}\n{{ reference }}"
        ),
    },
    Kind.WORKSHOP_CONFIRMED: {
        "subject": gettext_noop("It's on: {{ session_title }}, {{ when }}"),
        "text": gettext_noop(
            "Hello {{ recipient_name }},\n\nEnough people have booked: {{ session_title }} with {{ hosts }} takes "
            "place as planned.\n\n{{ when }}\n{{ place }}\nYour booking: {{ booking_url }}\nReference: {{ reference }}"
        ),
        "short": gettext_noop("It's on: {{ session_title }}, {{ when }}. {{ reference }}"),
        "in_app": gettext_noop("Confirmed: it takes place as planned. {{ when }}\n{{ reference }}"),
    },
    Kind.MATERIAL_AVAILABLE: {
        "subject": gettext_noop("Material for {{ session_title }}: {{ material }}"),
        "text": gettext_noop(
            "Hello {{ recipient_name }},\n\n{{ hosts }} shared “{{ material }}” for {{ session_title }} "
            "({{ when }}). Find it on your booking's page: {{ booking_url }}#materials\n\nReference: {{ reference }}"
        ),
        "short": gettext_noop("New material for {{ session_title }}: {{ material }}. {{ booking_url }}#materials"),
        "in_app": gettext_noop("“{{ material }}” shared for {{ session_title }}, {{ when }}\n{{ reference }}"),
    },
    Kind.WAITLIST_OFFER: {
        "subject": gettext_noop("A seat is free for you: {{ session_title }}, {{ when }}"),
        "text": gettext_noop(
            "Hello {{ recipient_name }},\n\nA seat freed in a session you wait for, and it is held for you until "
            "{{ offer_ends }}. Accept it in one click (or let the next person have it): {{ offer_url }}\n\n"
            "{{ session_title }} with {{ hosts }}\n{{ when }}\n{{ place }}"
        ),
        "short": gettext_noop(
            "A seat is free for you: {{ session_title }}, {{ when }}. Held until {{ offer_ends }}. "
            "Accept: {{ offer_url }}"
        ),
        "in_app": gettext_noop(
            "{{ session_title }}, {{ when }}. Held for you until {{ offer_ends }}: accept or decline."
        ),
    },
    Kind.WAITLIST_POSITION: {
        "subject": gettext_noop("You are number {{ position }} on the waitlist: {{ session_title }}, {{ when }}"),
        "text": gettext_noop(
            "Hello {{ recipient_name }},\n\nYou moved up: you are now number {{ position }} on the waitlist for "
            "{{ session_title }} with {{ hosts }} ({{ when }}). When a seat frees it is held for the first in line, "
            "who is told at once.\n\nYour waitlist: {{ waitlist_url }}"
        ),
        "short": gettext_noop("You are now number {{ position }} on the waitlist for {{ session_title }}, {{ when }}."),
        "in_app": gettext_noop("You are now number {{ position }} on the waitlist. {{ session_title }}, {{ when }}"),
    },
    Kind.CALENDAR_CLASH: {
        "subject": gettext_noop("Your calendar now has something else at {{ when }}"),
        "text": gettext_noop(
            "Hello {{ recipient_name }},\n\nAn event in one of your connected calendars overlaps a session "
            "already booked: {{ session_title }} with {{ client_name }}, {{ when }}.\n\nThe booking still "
            "stands. Move it, or move the event in your calendar: {{ booking_url }}"
        ),
        "short": gettext_noop(
            "Your calendar now has something else at {{ when }}, when {{ session_title }} with {{ client_name }} "
            "is booked."
        ),
        "in_app": gettext_noop(
            "An event in your calendar overlaps {{ session_title }} with {{ client_name }}, {{ when }}. The booking "
            "still stands: move it or the event.\n{{ reference }}"
        ),
    },
    Kind.WEBHOOK_DISABLED: {
        "subject": gettext_noop("Your webhook was disabled: {{ endpoint_url }}"),
        "text": gettext_noop(
            "Hello {{ recipient_name }},\n\nDeliveries to your webhook {{ endpoint_url }} failed for a day, so it "
            "was disabled and nothing more is sent to it.\n\nThe last answer: {{ reason }}\n\nFix the receiver, "
            "then enable the webhook and send the failed deliveries again: {{ webhooks_url }}"
        ),
        "short": gettext_noop(
            "Your webhook {{ endpoint_url }} was disabled: its deliveries failed for a day. {{ webhooks_url }}"
        ),
        "in_app": gettext_noop(
            "Deliveries to {{ endpoint_url }} failed for a day; nothing more is sent to it. Last answer: "
            "{{ reason }}\n{{ webhooks_url }}"
        ),
    },
    # Never the answers themselves: who sent them and a link to read them where one may.
    Kind.INTAKE_ANSWERS: {
        "subject": gettext_noop("New intake answers from {{ client_name }}"),
        "text": gettext_noop(
            "Hello {{ recipient_name }},\n\n{{ client_name }} sent their answers to your intake form for "
            "{{ session_title }}, {{ when }}.\n\nRead them on the booking's page (after signing in): "
            "{{ answers_url }}"
        ),
        "short": gettext_noop("New intake answers from {{ client_name }}: {{ answers_url }}"),
        "in_app": gettext_noop(
            "{{ client_name }} sent their intake answers for {{ session_title }}, {{ when }}.\n{{ answers_url }}"
        ),
    },
    Kind.WAITLIST_EXPIRED: {
        "subject": gettext_noop("The seat held for you went to the next person: {{ session_title }}, {{ when }}"),
        "text": gettext_noop(
            "Hello {{ recipient_name }},\n\nThe seat held for you was not accepted by {{ offer_ends }}, so it was "
            "offered to the next person on the waitlist. You can join the waitlist again: {{ session_url }}\n\n"
            "{{ session_title }} with {{ hosts }}\n{{ when }}"
        ),
        "short": gettext_noop("The seat held for you ({{ session_title }}, {{ when }}) went to the next person."),
        "in_app": gettext_noop(
            "Not accepted in time; the seat went to the next person. {{ session_title }}, {{ when }}"
        ),
    },
}


# A change to several sessions of a series at once (booked, requested, approved, declined,
# cancelled or moved together) is told once, in these words, by the message of the
# batch's first event (``services``); the series_* variables say what it covers.
SERIES_BUILTIN: dict[str, dict[str, str]] = {
    Kind.BOOKING_CREATED: {
        "subject": gettext_noop(
            "{% if audience == 'staff' %}New series: {{ client_name }} with {{ hosts }}, {{ series_sessions }}"
            "{% elif audience == 'coach' %}New series: {{ series_sessions }} of {{ session_title }} with "
            "{{ client_name }}{% elif requested %}Series requested: {{ series_sessions }} of "
            "{{ session_title }} with {{ hosts }}{% else %}Series booked: {{ series_sessions }} of "
            "{{ session_title }} with {{ hosts }}{% endif %}"
        ),
        "text": gettext_noop(
            "Hello {{ recipient_name }},\n\n"
            "{% if audience != 'client' %}{{ client_name }} booked a series with {{ hosts }}: {{ series_sessions }}."
            "{% elif requested %}Your series request was sent: {{ series_sessions }}. {{ coach_name }} "
            "will confirm or decline it.{% else %}Your series is booked: {{ series_sessions }}.{% endif %}\n\n"
            "{{ session_title }} with {{ other_party }}\n{{ series_when }}\nDates: {{ series_dates }}\n{{ place }}\n"
            "First session: {{ reference }}"
        ),
        "short": gettext_noop(
            "{% if audience == 'client' %}{% if requested %}Series requested{% else %}Series booked"
            "{% endif %}: {{ series_sessions }} of {{ session_title }}{% else %}{{ client_name }} booked "
            "{{ series_sessions }} of {{ session_title }}{% endif %}, {{ series_when }}."
        ),
        "in_app": gettext_noop("{{ series_when }}\nDates: {{ series_dates }}"),
    },
    Kind.REQUEST_RECEIVED: {
        "subject": gettext_noop(
            "New series request from {{ client_name }}: {{ series_sessions }} of {{ session_title }}"
        ),
        "text": gettext_noop(
            "Hello {{ recipient_name }},\n\n{{ client_name }} asks for a series: {{ series_sessions }}. "
            "{% if co_host %}{{ coach_name }} answers it; you host it with them once it is confirmed."
            "{% else %}Approve or decline the whole series at once from your dashboard.{% endif %}\n\n"
            "{{ session_title }} with {{ other_party }}\n{{ series_when }}\nDates: {{ series_dates }}\n{{ place }}\n"
            "First session: {{ reference }}"
        ),
        "short": gettext_noop(
            "Series request from {{ client_name }}: {{ series_sessions }} of {{ session_title }}, {{ series_when }}."
        ),
        "in_app": gettext_noop(
            "{{ series_when }}. {% if co_host %}{{ coach_name }} answers it.{% else %}Approve or decline it at once."
            "{% endif %}\nDates: {{ series_dates }}"
        ),
    },
    Kind.ALTERNATIVES_SUGGESTED: {
        "subject": gettext_noop("{{ coach_name }} suggested another time for your series: {{ series_rule }}"),
        "text": gettext_noop(
            "Hello {{ recipient_name }},\n\n{{ coach_name }} can't take the series at {{ series_previous_rule }} "
            "and suggests {{ series_rule }} instead: {{ series_sessions }}, from {{ series_from }} to {{ series_to }}."
            "\nDates: {{ series_dates }}\n\nAccept or decline it on the booking's page: {{ booking_url }}\n\n"
            "First session: {{ reference }}"
        ),
        "short": gettext_noop(
            "{{ coach_name }} suggested {{ series_rule }} for your series of {{ session_title }}, from "
            "{{ series_from }}. {{ reference }}"
        ),
        "in_app": gettext_noop(
            "Instead of {{ series_previous_rule }}: {{ series_when }}. Accept or decline it on the booking's page."
            "\nDates: {{ series_dates }}"
        ),
    },
    Kind.CONFIRMED: {
        "subject": gettext_noop(
            "{% if audience == 'client' %}Your series is confirmed ({{ series_count }} sessions): {{ session_title }} "
            "with {{ other_party }}{% else %}Series confirmed ({{ series_count }} sessions): {{ session_title }} with "
            "{{ client_name }}{% endif %}"
        ),
        "text": gettext_noop(
            "Hello {{ recipient_name }},\n\nThe series is confirmed: {{ series_sessions }}.\n\n"
            "{{ session_title }} with {{ other_party }}\n{{ series_when }}\nDates: {{ series_dates }}\n{{ place }}\n"
            "First session: {{ reference }}"
        ),
        "short": gettext_noop("Series confirmed: {{ series_sessions }} of {{ session_title }}, {{ series_when }}."),
        "in_app": gettext_noop("{{ series_when }}\nDates: {{ series_dates }}"),
    },
    Kind.DECLINED: {
        "subject": gettext_noop("Series declined ({{ series_count }} sessions): {{ session_title }} with {{ hosts }}"),
        "text": gettext_noop(
            "Hello {{ recipient_name }},\n\n{{ coach_name }} can't take this series ({{ series_sessions }})."
            "{% if reason %}\nReason: {{ reason }}{% endif %}\n\n"
            "{{ session_title }} with {{ other_party }}\n{{ series_when }}\nDates: {{ series_dates }}\n{{ place }}\n"
            "First session: {{ reference }}"
        ),
        "short": gettext_noop(
            "Series declined: {{ series_sessions }} of {{ session_title }}.{% if reason %} Reason: {{ reason }}"
            "{% endif %}"
        ),
        "in_app": gettext_noop(
            "{{ series_when }}.{% if reason %} Reason: {{ reason }}{% endif %}\nDates: {{ series_dates }}"
        ),
    },
    Kind.CANCELLED: {
        "subject": gettext_noop(
            "{% if audience == 'client' %}{{ series_count }} sessions of your {{ series_kind }} were cancelled, "
            "from {{ series_from }}{% else %}{{ series_count }} sessions of {{ client_name }}'s {{ series_kind }} "
            "were cancelled, from {{ series_from }}{% endif %}"
        ),
        "text": gettext_noop(
            "Hello {{ recipient_name }},\n\n{{ series_count }} sessions of the {{ series_kind }} are cancelled, "
            "from {{ series_from }} to {{ series_to }}.{% if reason %}\nReason: {{ reason }}{% endif %}\n\n"
            "{{ session_title }} with {{ other_party }}\n{{ series_when }}\nDates: {{ series_dates }}\n{{ place }}\n"
            "First session: {{ reference }}"
        ),
        "short": gettext_noop(
            "Cancelled: {{ series_count }} sessions of {{ session_title }}, from {{ series_from }} to {{ series_to }}."
            "{% if reason %} Reason: {{ reason }}{% endif %}"
        ),
        "in_app": gettext_noop(
            "{{ session_title }} with {{ other_party }}.{% if reason %} Reason: {{ reason }}{% endif %}\n"
            "Dates: {{ series_dates }}"
        ),
    },
    Kind.RESCHEDULED: {
        "subject": gettext_noop(
            "{% if audience == 'client' %}Your {{ series_kind }} moves to {{ series_rule }} from {{ series_from }}"
            "{% else %}{{ client_name }}'s {{ series_kind }} moves to {{ series_rule }} from {{ series_from }}"
            "{% endif %}"
        ),
        "text": gettext_noop(
            "Hello {{ recipient_name }},\n\n{{ series_count }} sessions of the {{ series_kind }} move"
            "{% if series_previous_rule %} from {{ series_previous_rule }}{% endif %} to {{ series_rule }} "
            "({{ timezone }}), from {{ series_from }} to {{ series_to }}.\n\n"
            "{{ session_title }} with {{ other_party }}\n{{ series_when }}\nDates: {{ series_dates }}\n{{ place }}\n"
            "First session: {{ reference }}"
        ),
        "short": gettext_noop(
            "Moved: {{ series_count }} sessions of {{ session_title }}, now {{ series_rule }} from {{ series_from }}."
        ),
        "in_app": gettext_noop(
            "{{ series_count }} sessions{% if series_previous_rule %}, were {{ series_previous_rule }}{% endif %}"
            ".\nDates: {{ series_dates }}"
        ),
    },
}


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str = ""


def builtin_body(kind: str, channel: str) -> str:
    """The built-in text of ``kind`` on ``channel``."""
    return BUILTIN[kind][{Channel.EMAIL: "text", Channel.SMS: "short", Channel.IN_APP: "in_app"}[channel]]


def _builtin(kind: str, channel: str, *, series: bool = False) -> tuple[str, str, str]:
    # The built-in wording in the active language (marked with ``gettext_noop``).
    if series and kind in SERIES_BUILTIN:
        wording = SERIES_BUILTIN[kind]
        part = {Channel.EMAIL: "text", Channel.SMS: "short", Channel.IN_APP: "in_app"}[channel]
        return gettext(wording["subject"]), gettext(wording[part]), ""
    return gettext(BUILTIN[kind]["subject"]), gettext(builtin_body(kind, channel)), ""


def _speaks_of_series(custom: MessageTemplate) -> bool:
    return "series_" in f"{custom.subject} {custom.body} {custom.html_body}"


@functools.lru_cache(maxsize=512)
def _compiled(source: str) -> Template:
    return ENGINE.from_string(source)


def _render(source: str, context: dict, *, autoescape: bool) -> str:
    return _compiled(source).render(Context(context, autoescape=autoescape)).strip()


def _email_html(subject: str, body_html: str, context: dict) -> str:
    return render_to_string(
        "notifications/email/message.html",
        {"subject": subject, "body_html": body_html, "booking_url": context.get("booking_url", ""), **context},
    )


def render(kind: str, channel: str, context: dict, *, custom: MessageTemplate | None = None) -> Rendered:
    """The message for ``kind`` on ``channel`` in the active language — from ``custom``
    (staff's template for this kind and channel, if any and in use: ``custom_templates``
    chooses it for the recipient's language), or the built-in wording when it has none or
    fails. A template written for another language is never used: the built-in wording,
    translated, is. A message about several sessions of a series (``series_count`` set)
    has the built-in series wording unless staff's template uses the series_* variables: a
    template written for one session would name one date of many."""
    series = bool(context.get("series_count"))
    if custom is not None and series and not _speaks_of_series(custom):
        custom = None
    if custom is not None and custom.language and custom.language != message_language():
        custom = None
    if custom is not None and custom.is_active:
        try:
            return _render_parts(kind, channel, context, custom.subject, custom.body, custom.html_body)
        except Exception as exc:  # any failure of staff's wording falls back to ours
            logger.error(
                "Message template %s/%s (id %s) failed (%s: %s); the built-in wording was used.",
                kind,
                channel,
                custom.pk,
                type(exc).__name__,
                exc,
            )
    subject, body, html = _builtin(kind, channel, series=series)
    return _render_parts(kind, channel, context, subject, body, html)


def _render_parts(kind: str, channel: str, context: dict, subject: str, body: str, html: str) -> Rendered:
    subject_source = subject or gettext(BUILTIN[kind]["subject"])
    rendered_subject = " ".join(_render(subject_source, context, autoescape=False).split())
    text = _render(body, context, autoescape=False)
    if not text or (channel != Channel.SMS and not rendered_subject):
        raise ValueError("the template renders to nothing")
    if channel != Channel.EMAIL:
        return Rendered(rendered_subject[:200], text)
    body_html = _render(html, context, autoescape=True) if html else linebreaks(text, autoescape=True)
    return Rendered(rendered_subject[:200], text, _email_html(rendered_subject, body_html, context))


def check_template(template: MessageTemplate, context: dict | None = None) -> Rendered:
    """Render staff's template strictly (errors raised, no fallback) — for the admin."""
    return _render_parts(
        template.kind,
        template.channel,
        context if context is not None else sample_context(),
        template.subject,
        template.body,
        template.html_body,
    )


def message_language() -> str:
    """The language a message is being written in: the active one (``in_language_of``
    around the rendering), as one of ``settings.LANGUAGES``."""
    try:
        return translation.get_supported_language_variant(translation.get_language() or settings.LANGUAGE_CODE)
    except LookupError:
        return settings.LANGUAGE_CODE


class StaffTemplates(Mapping):
    """Staff's active templates, looked up by (kind, channel) for the language messages
    are being written in (``message_language``): the template in that language, else the
    one for every language (an empty language), else none — the built-in wording, which
    is translated. So a French reader gets staff's French wording, or their wording for
    every language, but never the wording staff wrote for English readers. Look a
    template up inside ``in_language_of(recipient)``, where the message is rendered."""

    def __init__(self, rows: dict[tuple[str, str, str], MessageTemplate]) -> None:
        self._rows = rows
        self._pairs = sorted({(kind, channel) for kind, channel, _language in rows})

    def for_language(self, kind: str, channel: str, language: str) -> MessageTemplate | None:
        """The template for a reader of ``language``."""
        return self._rows.get((kind, channel, language)) or self._rows.get((kind, channel, ""))

    def __getitem__(self, key: tuple[str, str]) -> MessageTemplate:
        kind, channel = key
        template = self.for_language(kind, channel, message_language())
        if template is None:
            raise KeyError(key)
        return template

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._pairs)

    def __len__(self) -> int:
        return len(self._pairs)


# Staff's templates are read once per process and kept for this long: a booking doesn't
# pay a query for the few rows the admin rarely changes. Saving or deleting one forgets
# them in the saving process at once; other processes pick the change up within this time.
TEMPLATES_KEPT_SECONDS = 30.0
_kept: tuple[float, dict[tuple[str, str, str], MessageTemplate]] | None = None


def custom_templates(kinds=None) -> StaffTemplates:
    """Staff's active templates for ``kinds`` or all: ``.get((kind, channel))`` is the one
    for the active language's readers (see ``StaffTemplates``)."""
    global _kept
    kept = _kept
    if kept is None or time.monotonic() - kept[0] > TEMPLATES_KEPT_SECONDS:
        kept = (
            time.monotonic(),
            {(row.kind, row.channel, row.language): row for row in MessageTemplate.objects.filter(is_active=True)},
        )
        _kept = kept
    if kinds is None:
        return StaffTemplates(dict(kept[1]))
    kinds = set(kinds)
    return StaffTemplates({key: row for key, row in kept[1].items() if key[0] in kinds})


def forget_custom_templates(**kwargs) -> None:
    """Read staff's templates afresh next time (a template was saved or deleted)."""
    global _kept
    _kept = None


# ---------------------------------------------------------------------------------------
# Context
# ---------------------------------------------------------------------------------------


def local_when(instant: dt.datetime, zone_name: str) -> str:
    """“Wed 2 Dec 2026, 10:00 (Europe/Paris)”, in the active language."""
    local = instant.astimezone(ZoneInfo(zone_name))
    return f"{format_when(local, 'datetime_short')} ({zone_name})"


def month_abbr(value: dt.date) -> str:
    """“Dec”: a month's short name in the active language."""
    # Translators: a Django date format for a month's short name: “M” is “Dec”; French has
    # “N” (« déc. », « juin »).
    return dateformat.format(value, pgettext("short month in messages", "M"))


def span_text(delta: dt.timedelta) -> str:
    """“24 hours”, “2 days”, “30 minutes”, “about 3 hours”: rounded to the hour from 2 hours on."""
    minutes = max(0, round(delta.total_seconds() / 60))
    if minutes >= 48 * 60 and minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        return ngettext("%(count)d day", "%(count)d days", days) % {"count": days}
    if minutes >= 120 or minutes == 60:
        hours = round(minutes / 60)
        if minutes % 60 == 0:
            return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
        return ngettext("about %(count)d hour", "about %(count)d hours", hours) % {"count": hours}
    return minutes_text(minutes)


def minutes_text(minutes: int) -> str:
    """“60 minutes”."""
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


def lead_text(delta: dt.timedelta) -> str:
    """“in 24 hours”, “in 2 days”, “in 30 minutes”; rounded to the hour from 2 hours on."""
    return gettext("in %(span)s") % {"span": span_text(delta)}


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def booking_context(booking, recipient, **extra) -> dict:
    """The variables for a message about ``booking`` to ``recipient``: strings only, times in
    the recipient's zone. ``booking`` needs its session, session type, coach and client."""
    session = booking.session
    zone = recipient.timezone
    start_local = session.start.astimezone(ZoneInfo(zone))
    end_local = session.end.astimezone(ZoneInfo(zone))
    session_type = session.session_type
    hosts = selectors.hosts_of(session)
    room = selectors.session_room_text(session)
    booking_url = absolute(reverse("booking_detail", args=[booking.reference]))
    hosting = recipient.pk in {host.pk for host in hosts}
    # The session's video link only for its people: its hosts and staff, the client once booked.
    meeting_link = video.link_given(booking, hosting=hosting or recipient.is_staff_member)
    place = room or session.location or meeting_link or session_type.location
    audience = "coach" if hosting else ("staff" if recipient.role == "staff" else "client")
    hosts_words = selectors.names_text([host.display_name for host in hosts])
    context = {
        "recipient_name": recipient.display_name,
        "audience": audience,
        "other_party": booking.client.display_name if audience != "client" else hosts_words,
        "client_name": booking.client.display_name,
        "coach_name": session.coach.display_name,
        "hosts": hosts_words,
        "co_host": "yes" if hosting and recipient.pk != session.coach_id else "",
        "room": room,
        "session_title": session_type.title,
        "when": local_when(session.start, zone),
        "time_range": f"{start_local:%H:%M}–{end_local:%H:%M}",
        "timezone": zone,
        "duration": minutes_text(round((session.end - session.start).total_seconds() / 60)),
        "reference": booking.reference,
        "status": booking.get_status_display(),
        "requested": "yes" if booking.status == "requested" else "",
        "place": place or gettext("Online"),
        "meeting_link": meeting_link,
        "booking_url": booking_url,
        # The product's own sentences in the recipient's language, a person's words as typed.
        "reason": stored_text.display(booking.cancellation_reason or booking.decline_reason),
        "question": booking.info_request,
        "answer": booking.info_response,
        "previous_when": "",
        "alternatives": "\n".join(
            local_when(dt.datetime.fromisoformat(value), zone) for value in booking.suggested_alternatives or []
        ),
        "lead": "",
        "cancellation_deadline": "",
        "limit_text": "",
        "rating_url": f"{booking_url}#rate",
        "site_url": settings.SITE_URL,
        **{name: "" for name in PAYMENT_VARIABLES},
        **{name: "" for name in WAITLIST_VARIABLES},
        **{name: "" for name in SERIES_VARIABLES},
    }
    context.update({key: value for key, value in extra.items() if value is not None})
    return _stored_reasons(context)


def _stored_reasons(context: dict) -> dict:
    """A refund's reason as stored (the product's sentence in English, or what staff typed),
    shown in the language the message is written in (``config.stored_text``)."""
    if context.get("refund_reason"):
        context["refund_reason"] = stored_text.display(context["refund_reason"])
    return context


# The variables of payment messages: empty unless the message fills them.
PAYMENT_VARIABLES = (
    "amount",
    "paid_with_credit",
    "authorised",
    "balance",
    "balance_due",
    "refund_policy",
    "pay_url",
    "hold_ends",
    "failure_message",
    "purchase",
    "item",
    "credits_added",
    "refund_reason",
)
# The variables of waitlist messages: empty unless the message fills them.
WAITLIST_VARIABLES = ("offer_ends", "offer_url", "session_url", "material", "position", "waitlist_url")


# The variables of a message about a change to several sessions of a series at once
# (``series_extra``): empty in a message about one session.
SERIES_VARIABLES = tuple(name for name in VARIABLES if name.startswith("series_"))


WEEKDAYS = (
    gettext_noop("Mondays"),
    gettext_noop("Tuesdays"),
    gettext_noop("Wednesdays"),
    gettext_noop("Thursdays"),
    gettext_noop("Fridays"),
    gettext_noop("Saturdays"),
    gettext_noop("Sundays"),
)
# “8 weekly sessions” and “weekly series”, whole per frequency (an adjective agrees with
# its noun in other languages).
FREQUENCY_WORDS = {
    "weekly": (
        ngettext_lazy("%(count)s weekly session", "%(count)s weekly sessions", "count"),
        gettext_noop("weekly series"),
    ),
    "biweekly": (
        ngettext_lazy("%(count)s fortnightly session", "%(count)s fortnightly sessions", "count"),
        gettext_noop("fortnightly series"),
    ),
    "monthly_weekday": (
        ngettext_lazy("%(count)s monthly session", "%(count)s monthly sessions", "count"),
        gettext_noop("monthly series"),
    ),
    "monthly_date": (
        ngettext_lazy("%(count)s monthly session", "%(count)s monthly sessions", "count"),
        gettext_noop("monthly series"),
    ),
}


def _rule(locals_: list[dt.datetime]) -> str:
    """“Tuesdays 18:00” — the weekdays and the time(s) of ``locals_`` (two weekdays at
    most, else the time alone); times other than the most common one follow with “or”."""
    days = sorted({local.weekday() for local in locals_})
    times = [time for time, _n in Counter(f"{local:%H:%M}" for local in locals_).most_common()]
    at = gettext(" or ").join(times)
    if len(days) > 2:
        return at
    return gettext("%(days)s %(time)s") % {
        "days": gettext(" and ").join(gettext(WEEKDAYS[d]) for d in days),
        "time": at,
    }


def _dates(locals_: list[dt.datetime]) -> str:
    """“Mar 9, 16, 23, 30 · Apr 6, 13 2027”: by month, the year after a year's last month,
    and a date's time when it isn't the series' usual one."""
    usual = Counter(f"{local:%H:%M}" for local in locals_).most_common(1)[0][0]
    groups: list[tuple[tuple[int, int], list[str]]] = []
    for local in locals_:
        day = str(local.day) if f"{local:%H:%M}" == usual else f"{local.day} ({local:%H:%M})"
        if groups and groups[-1][0] == (local.year, local.month):
            groups[-1][1].append(day)
        else:
            groups.append(((local.year, local.month), [day]))
    parts = []
    for index, ((year, month), days) in enumerate(groups):
        last_of_year = index == len(groups) - 1 or groups[index + 1][0][0] != year
        label = month_abbr(dt.date(year, month, 1))
        parts.append(f"{label} {', '.join(days)}" + (f" {year}" if last_of_year else ""))
    return " · ".join(parts)


def series_extra(
    starts: list[dt.datetime], zone_name: str, *, frequency: str = "", previous: list[dt.datetime] | None = None
) -> dict[str, str]:
    """The series_* variables of a message about the sessions starting at ``starts`` (a
    change to several sessions of a series at once), in the recipient's zone;
    ``previous``: their starts before a move."""
    zone = ZoneInfo(zone_name)
    locals_ = sorted(start.astimezone(zone) for start in starts)
    count = len(locals_)
    if frequency in FREQUENCY_WORDS:
        sessions, series_word = FREQUENCY_WORDS[frequency]
        kind = gettext(series_word)
    else:
        sessions = ngettext("%(count)s session", "%(count)s sessions", count)
        kind = gettext("series")
    first, last = locals_[0], locals_[-1]
    first_text = format_when(first, "date_short" if first.year != last.year else "date_short_no_year")
    last_text = format_when(last, "date_short")
    rule = _rule(locals_)
    earlier = sorted(start.astimezone(zone) for start in previous or [])
    return {
        "series_count": str(count),
        "series_sessions": sessions % {"count": count},
        "series_kind": kind,
        "series_rule": rule,
        "series_previous_rule": _rule(earlier) if earlier else "",
        "series_from": first_text,
        "series_to": last_text,
        "series_when": gettext("%(rule)s (%(zone)s), from %(first)s to %(last)s")
        % {"rule": rule, "zone": zone_name, "first": first_text, "last": last_text},
        "series_dates": _dates(locals_),
    }


def person_context(recipient, **extra) -> dict:
    """The variables for a message to ``recipient`` about no booking (a package or a
    programme bought, its refund): the booking's variables are empty."""
    context = {name: "" for name in VARIABLES}
    context.update(
        {
            "recipient_name": recipient.display_name,
            "audience": "client",
            "timezone": recipient.timezone,
            "site_url": settings.SITE_URL,
        }
    )
    context.update({key: value for key, value in extra.items() if value is not None})
    return _stored_reasons(context)


# The sample booking's session: Wed 2 Dec 2026, 10:00–11:00 in Paris.
SAMPLE_START = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
SAMPLE_ZONE = "Europe/Paris"


def sample_context() -> dict:
    """A believable booking for previews in the admin, in the active language: its dates,
    and the words the product writes, as a reader of that language would get them."""

    def at(**delta: int) -> str:
        return local_when(SAMPLE_START + dt.timedelta(**delta), SAMPLE_ZONE)

    notice = ngettext("%(count)s hour", "%(count)s hours", 24) % {"count": 24}
    return {
        "recipient_name": "Cleo Martin",
        "audience": "client",
        "other_party": "Nora Haddad",
        "client_name": "Cleo Martin",
        "coach_name": "Nora Haddad",
        "hosts": selectors.names_text(["Nora Haddad", "Ben Ito"]),
        "co_host": "",
        "room": pgettext("sample booking", "Room 2, 12 rue de la Paix, Paris"),
        "session_title": pgettext("sample booking", "Career consultation"),
        "when": at(),
        "time_range": "10:00–11:00",
        "timezone": SAMPLE_ZONE,
        "duration": minutes_text(60),
        "reference": "BK-2026-000042",
        "status": str(BookingStatus.CONFIRMED.label),
        "requested": "",
        "place": "https://meet.example.com/nora",
        "meeting_link": "https://meet.example.com/nora",
        "booking_url": absolute("/bookings/BK-2026-000042/"),
        "reason": pgettext("sample booking", "I'm away that week."),
        "question": pgettext("sample booking", "Which role are you aiming for?"),
        "answer": pgettext("sample booking", "Product manager in a small team."),
        "previous_when": at(days=-1, hours=5),
        "alternatives": f"{at(days=1, hours=-1)}\n{at(days=2, hours=4)}",
        "lead": lead_text(dt.timedelta(hours=2)),
        "cancellation_deadline": at(days=-1),
        "limit_text": gettext("%(count)d of %(limit)d sessions on %(day)s")
        % {
            "count": 7,
            "limit": 8,
            "day": format_when(SAMPLE_START.astimezone(ZoneInfo(SAMPLE_ZONE)), "day_short_no_year"),
        },
        "rating_url": absolute("/bookings/BK-2026-000042/#rate"),
        "site_url": settings.SITE_URL,
        "amount": money_display(6000, "EUR"),
        "paid_with_credit": "",
        "authorised": "",
        "balance": money_display(4000, "EUR"),
        "balance_due": at(days=-3),
        "refund_policy": gettext(
            "Cancel at least %(notice)s before the session for a full refund; later, %(percent)s%% is refunded."
        )
        % {"notice": notice, "percent": 50},
        "pay_url": absolute("/payments/booking/BK-2026-000042/balance/"),
        "hold_ends": at(days=-1, minutes=15),
        "failure_message": pgettext("sample booking", "Your card was declined."),
        "purchase": "",
        "item": "",
        "credits_added": "5",
        "refund_reason": pgettext("sample booking", "Cancelled by the coach."),
        "offer_ends": at(hours=2),
        "offer_url": absolute("/waitlist/offers/7/"),
        "session_url": absolute("/book/session/12/"),
        "material": pgettext("sample booking", "Slides of the morning"),
        "position": "2",
        "waitlist_url": absolute("/waitlist/"),
        "endpoint_url": "https://hooks.example.com/booking",
        "webhooks_url": absolute("/webhooks/"),
        **{name: "" for name in SERIES_VARIABLES},
    }
