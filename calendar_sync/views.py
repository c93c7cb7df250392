"""The coach's connected calendars: ``/coach/calendars/`` lists them (when each was last
read, and why not when it failed), connects another, reads one now, removes one, and lists
the bookings ahead that a calendar now contradicts. Coaches only (others get a 404)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import role_required
from accounts.models import Role
from calendar_sync import services
from calendar_sync.forms import ConnectForm
from calendar_sync.models import CalendarConnection


@role_required(Role.COACH)
@require_http_methods(["GET", "POST"])
def connections(request: HttpRequest) -> HttpResponse:
    coach = request.user
    form = ConnectForm(request.POST or None, coach=coach)
    if request.method == "POST" and form.is_valid():
        connection = services.connect(
            coach,
            name=form.cleaned_data["name"],
            url=form.cleaned_data["url"],
            all_day_busy=form.cleaned_data["all_day_busy"],
            free_busy=form.cleaned_data["free_busy"],
        )
        _say(request, connection, connected=True)
        return redirect("calendar_connections")
    return render(
        request,
        "calendar_sync/connections.html",
        {
            "form": form,
            "connections": [_with_ages(c) for c in CalendarConnection.objects.filter(coach=coach)],
            "clashes": services.clashes(coach),
            "sync_minutes": settings.CALENDAR_SYNC_MINUTES,
        },
        status=400 if form.errors else 200,
    )


def _ago(instant) -> str:
    if instant is None:
        return ""
    if timezone.now() - instant < dt.timedelta(minutes=1):
        return _("just now")
    return _("%(time)s ago") % {"time": timesince(instant)}


def _with_ages(connection: CalendarConnection) -> CalendarConnection:
    connection.read_ago = _ago(connection.last_synced_at)
    return connection


def _say(request: HttpRequest, connection: CalendarConnection, *, connected: bool = False) -> None:
    if connection.last_error:
        messages.warning(
            request,
            _("“%(name)s” is connected, but could not be read yet: %(error)s")
            % {"name": connection.name, "error": connection.last_error}
            if connected
            else _("“%(name)s” could not be read: %(error)s")
            % {"name": connection.name, "error": connection.last_error},
        )
        return
    busy = ngettext("%(count)s busy time", "%(count)s busy times", connection.events) % {"count": connection.events}
    messages.success(
        request,
        (_("“%(name)s” is connected: %(busy)s in the coming year.") if connected else _("“%(name)s” read: %(busy)s."))
        % {"name": connection.name, "busy": busy},
    )


@role_required(Role.COACH)
@require_POST
def sync_now(request: HttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(CalendarConnection, pk=pk, coach=request.user)
    services.sync(connection)
    connection.refresh_from_db()
    _say(request, connection)
    return redirect("calendar_connections")


@role_required(Role.COACH)
@require_POST
def remove(request: HttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(CalendarConnection, pk=pk, coach=request.user)
    services.disconnect(connection)
    messages.success(
        request, _("“%(name)s” is no longer connected; its busy times are gone.") % {"name": connection.name}
    )
    return redirect("calendar_connections")
