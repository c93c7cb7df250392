"""The notification settings page: channels per kind of message, and which reminders."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.models import GuardianLink, User
from bookings.models import BOOKED_STATUSES, Booking
from notifications import preferences, reminders
from notifications.forms import OWN, USUAL, NotificationSettingsForm, usual_text, when_sent
from notifications.models import Kind, NotificationSettings

# Re-planning reminders after a change covers this many of the person's next bookings; the
# rest are brought in step by their own next change.
RESYNC_LIMIT = 200


@login_required
@require_http_methods(["GET", "POST"])
def notification_settings(request: HttpRequest) -> HttpResponse:
    user = request.user
    choices = NotificationSettings.objects.filter(user=user).first()
    form = NotificationSettingsForm(request.POST or None, user=user, choices=choices)
    if request.method == "POST":
        if form.is_valid():
            with transaction.atomic():
                preferences.save_choices(user, channels=form.channel_choices(), reminder_minutes=form.reminder_choice())
                resync_upcoming(user)
            messages.success(request, "Your notification settings were saved.")
            return redirect("notification_settings")
        return _render(request, form, status=400)
    return _render(request, form)


def upcoming_bookings(user: User, *, limit: int = RESYNC_LIMIT):
    """The booked sessions ahead whose reminders depend on ``user``'s choices: as the
    client, as a guardian of the client, or as the coach; soonest first."""
    dependents = GuardianLink.objects.filter(guardian=user).values("dependent")
    return (
        Booking.objects.filter(
            Q(client=user) | Q(client__in=dependents) | Q(session__coach=user),
            status__in=BOOKED_STATUSES,
            session__start__gt=timezone.now(),
        )
        .select_related("session__session_type", "session__coach", "client")
        .order_by("session__start", "pk")[:limit]
    )


def resync_upcoming(user: User) -> int:
    """Re-plan the reminders of ``user``'s next bookings (inside the caller's transaction),
    locking each booking as the booking changes do."""
    now = timezone.now()
    bookings = list(upcoming_bookings(user).select_for_update(of=("self",)))
    for booking in bookings:
        reminders.sync(booking, now=now)
    return len(bookings)


def _render(request: HttpRequest, form: NotificationSettingsForm, *, status: int = 200) -> HttpResponse:
    user = request.user
    rows = []
    for kind in form.kinds:
        label = Kind(kind).label
        picked = form.picked(kind)
        rows.append(
            {
                "kind": kind,
                "label": label,
                "when": when_sent(user, kind),
                "name": form.field_name(kind),
                "cells": [
                    {
                        "channel": channel,
                        "label": channel.label,
                        "id": f"{form.field_name(kind)}_{channel}",
                        "checked": channel in picked,
                    }
                    for channel in preferences.ALL_CHANNELS
                ],
            }
        )
    picked_minutes = form.picked_minutes()
    reminder_options = [
        {"value": value, "label": label, "checked": value in picked_minutes, "id": f"reminders_{value}"}
        for value, label in form.fields["reminders"].choices
    ]
    return render(
        request,
        "notifications/settings.html",
        {
            "form": form,
            "rows": rows,
            "channels": preferences.ALL_CHANNELS,
            "has_sms_number": preferences.has_sms_number(user),
            "reminder_options": reminder_options,
            "mode": form.picked_mode(),
            "USUAL": USUAL,
            "OWN": OWN,
            "usual_text": usual_text(),
        },
        status=status,
    )
