"""The notification settings page: channels per kind of message, and which reminders."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from notifications import preferences, reminders
from notifications.forms import OWN, USUAL, NotificationSettingsForm, usual_text, when_sent
from notifications.models import Kind, NotificationSettings


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
                reminders.resync_upcoming(user)
            messages.success(request, gettext("Your notification settings were saved."))
            return redirect("notification_settings")
        return _render(request, form, status=400)
    return _render(request, form)


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
