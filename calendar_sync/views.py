"""The coach's connected calendars: ``/coach/calendars/`` lists them (when each was last
read, and why not when it failed), connects another, reads one now, removes one, and lists
the bookings ahead that a calendar now contradicts. Coaches only (others get a 404)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import role_required
from accounts.models import Role
from calendar_sync import dav, oauth, providers, services, writer
from calendar_sync.forms import MAX_CONNECTIONS, CalDavForm, CalendarsForm, ConnectForm
from calendar_sync.models import ACCOUNT_KINDS, CalendarConnection


@role_required(Role.COACH)
@require_http_methods(["GET", "POST"])
def connections(request: HttpRequest) -> HttpResponse:
    coach = request.user
    account = request.method == "POST" and "dav-username" in request.POST
    form = ConnectForm(request.POST if request.method == "POST" and not account else None, coach=coach)
    dav_form = CalDavForm(request.POST if account else None, coach=coach, prefix="dav")
    if dav_form.is_bound and dav_form.is_valid():
        data = dav_form.cleaned_data
        try:
            connection = services.connect_caldav(
                coach,
                name=data["name"],
                url=data["url"],
                username=data["username"],
                password=data["password"],
                write=data["write"],
                private=data["private"],
            )
        except dav.DavError as error:
            dav_form.add_error(None, error.message)
        else:
            _say(request, connection, connected=True)
            return redirect("calendar_connections")
    if form.is_bound and form.is_valid():
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
            "dav_form": dav_form,
            "connections": [_with_ages(c) for c in CalendarConnection.objects.filter(coach=coach)],
            "clashes": services.clashes(coach),
            "sync_minutes": settings.CALENDAR_SYNC_MINUTES,
            "oauth_apps": oauth.apps(),
        },
        status=400 if form.errors or dav_form.errors else 200,
    )


def _ago(instant) -> str:
    if instant is None:
        return ""
    if timezone.now() - instant < dt.timedelta(minutes=1):
        return _("just now")
    return _("%(time)s ago") % {"time": timesince(instant)}


def _with_ages(connection: CalendarConnection) -> CalendarConnection:
    connection.read_ago = _ago(connection.last_synced_at)
    if connection.is_account:
        connection.calendars_form = CalendarsForm(connection=connection, prefix=f"c{connection.pk}")
        connection.write_name = next(
            (item["name"] for item in connection.calendars if item["url"] == connection.write_url), ""
        )
        connection.waiting, connection.write_error = writer.write_errors(connection)
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


@role_required(Role.COACH)
@require_POST
def calendars(request: HttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(CalendarConnection, pk=pk, coach=request.user, kind__in=ACCOUNT_KINDS)
    form = CalendarsForm(request.POST, connection=connection, prefix=f"c{connection.pk}")
    if not form.is_valid():
        messages.error(request, _("Those choices could not be saved: choose among the account's calendars."))
        return redirect("calendar_connections")
    services.set_caldav_calendars(
        connection,
        read=form.cleaned_data["read"],
        write_url=form.cleaned_data["write_url"],
        private=form.cleaned_data["private"],
    )
    services.sync(connection)
    connection.refresh_from_db()
    _say(request, connection)
    return redirect("calendar_connections")


def _oauth_app(provider: str) -> oauth.App:
    found = oauth.app(provider)
    if found is None:  # not offered by this site
        raise Http404
    return found


@role_required(Role.COACH)
@require_http_methods(["GET"])
def oauth_start(request: HttpRequest, provider: str) -> HttpResponse:
    """Off to the provider's consent page (its answer comes back to ``oauth_callback``)."""
    found = _oauth_app(provider)
    if CalendarConnection.objects.filter(coach=request.user).count() >= MAX_CONNECTIONS:
        messages.error(
            request, _("You can connect up to %(count)s calendars; remove one first.") % {"count": MAX_CONNECTIONS}
        )
        return redirect("calendar_connections")
    return redirect(oauth.begin(request.session, found))


@role_required(Role.COACH)
@require_http_methods(["GET"])
def oauth_callback(request: HttpRequest, provider: str) -> HttpResponse:
    """The provider's answer: the code exchanged for tokens (when the state is the one this
    session started), the account's calendars found and connected."""
    found = _oauth_app(provider)
    try:
        tokens = oauth.finish(
            request.session,
            found,
            state=request.GET.get("state", ""),
            code=request.GET.get("code", ""),
            error=request.GET.get("error", ""),
        )
        connection = services.connect_oauth(request.user, found, tokens)
    except providers.ProviderError as error:
        messages.error(request, error.message)
        return redirect("calendar_connections")
    _say(request, connection, connected=True)
    return redirect("calendar_connections")
