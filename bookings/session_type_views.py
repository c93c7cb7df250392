"""The coach's session types in the browser: the list (in the order clients see them, with
the archived ones apart), a form to create or edit one with a live preview of what clients
see, and the actions duplicate, archive, restore and move up/down.

Every write goes through the session-type service, the one the API and the admin use; its
refusals show beside their field (the form) or as a message (the list), with a 4xx status.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import role_required
from accounts.models import CoachProfile, Role
from bookings import selectors, services
from bookings.models import HostMode, SessionType
from bookings.session_type_forms import LIST_FIELDS, SessionTypeForm, minutes_label
from bookings.video import default_video
from config.errors import DomainError


def _profile(request: HttpRequest) -> CoachProfile:
    # An admin passes the role check but has no coach profile: no session types, so 404.
    return get_object_or_404(CoachProfile.objects.select_related("user"), user=request.user)


def _own_type(request: HttpRequest, pk: int) -> SessionType:
    return get_object_or_404(SessionType.objects.select_related("coach"), pk=pk, coach=request.user)


def _to_list(anchor: SessionType | None = None, *, moved: str = "") -> HttpResponseRedirect:
    url = reverse("session_types")
    if anchor is not None:
        # After a move the moved type's button takes the focus (autofocus, which a
        # #fragment in the address would cancel); otherwise the page opens at the type.
        url += f"?moved={anchor.pk}&dir={moved}" if moved else f"#type-{anchor.pk}"
    return HttpResponseRedirect(url, status=303)


@role_required(Role.COACH)
def session_type_list(request: HttpRequest) -> HttpResponse:
    _profile(request)
    types = list(
        selectors.session_types_of(request.user, active_only=False)
        .select_related("required_subject")
        .prefetch_related("co_hosts", "resources")
    )
    offered = [st for st in types if st.is_active]
    return render(
        request,
        "bookings/manage/session_types.html",
        {
            "offered": offered,
            "archived": [st for st in types if not st.is_active],
            "moved": request.GET.get("moved", ""),
            "moved_dir": request.GET.get("dir", ""),
        },
    )


def _preview_type(form: SessionTypeForm, profile: CoachProfile, base: SessionType | None) -> SessionType:
    """The type as the form would make it, for the preview (nothing is saved)."""
    preview = SessionType(coach=profile.user, is_active=base.is_active if base else True)
    form.is_valid()
    for name, value in getattr(form, "cleaned_data", {}).items():
        if name not in ("reminders", *LIST_FIELDS) and hasattr(preview, name):
            setattr(preview, name, value)
    preview.host_mode = preview.host_mode or HostMode.SINGLE
    if not preview.video:  # not chosen: what saving would give it
        preview.video = base.video if base else default_video(modality=preview.modality or "online")
    # An unsaved type can't hold its lists: the preview reads them from here.
    cleaned = getattr(form, "cleaned_data", {})
    preview.preview_co_hosts = [] if preview.host_mode == HostMode.SINGLE else list(cleaned.get("co_hosts") or [])
    preview.preview_rooms = list(cleaned.get("resources") or [])
    if form.cleaned_data.get("reminders_mode") == "own":
        preview.reminder_minutes = sorted(set(form.cleaned_data.get("reminders") or []), reverse=True)
    if preview.kind == "one_on_one" or not preview.capacity:
        preview.capacity = 1 if preview.kind == "one_on_one" else (preview.capacity or 1)
    preview.title = preview.title or _("Untitled session")
    return preview


def _editor(request: HttpRequest, profile: CoachProfile, session_type: SessionType | None) -> HttpResponse:
    creating = session_type is None
    instance = session_type or SessionType(coach=request.user, capacity=None, is_active=True)
    form = SessionTypeForm(request.POST or None, instance=instance, profile=profile)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                if creating:
                    saved = services.create_session_type(actor=request.user, coach=request.user, **form.values())
                    messages.success(
                        request,
                        _("“%(title)s” is created and offered to clients.") % {"title": saved.title}
                        if saved.is_active
                        else _("“%(title)s” is created.") % {"title": saved.title},
                    )
                else:
                    saved = services.update_session_type(session_type=session_type, actor=request.user, **form.values())
                    messages.success(request, _("“%(title)s” is saved.") % {"title": saved.title})
            except DomainError as refusal:
                form.show_refusal(refusal.field, refusal.message)
                status = refusal.status if 400 <= refusal.status < 500 else 400
            else:
                return _to_list(saved)
        else:
            status = 400
    if form.is_bound:
        shown = _preview_type(form, profile, session_type)
    else:
        shown = SessionType(coach=request.user, title=_("Untitled session")) if creating else session_type
    return render(
        request,
        "bookings/manage/session_type_form.html",
        {
            "form": form,
            "creating": creating,
            "session_type": session_type,
            "profile": profile,
            "preview": _preview_context(profile, shown),
        },
        status=status,
    )


def _preview_context(profile: CoachProfile, st: SessionType) -> dict:
    """What the preview shows: the card on the coach's page, and the rules clients meet."""
    rule = lambda own, default: default if own is None else own  # noqa: E731
    if hasattr(st, "preview_co_hosts"):
        co_hosts, rooms = st.preview_co_hosts, st.preview_rooms
    elif st.pk is not None:
        co_hosts, rooms = list(st.co_hosts.order_by("name", "pk")), list(st.resources.order_by("name", "pk"))
    else:
        co_hosts, rooms = [], []
    return {
        "co_hosts": co_hosts,
        "team": [profile.user, *co_hosts],
        "rooms": rooms,
        "st": st,
        "coach": profile.user,
        "profile": profile,
        "notice_hours": rule(st.minimum_notice_hours, profile.minimum_notice_hours),
        "window_days": rule(st.booking_window_days, profile.booking_window_days),
        "cancel_hours": rule(st.cancellation_notice_hours, profile.cancellation_notice_hours),
        "reminder_labels": [minutes_label(m) for m in st.reminder_minutes] if st.reminder_minutes else None,
    }


@role_required(Role.COACH)
def session_type_create(request: HttpRequest) -> HttpResponse:
    return _editor(request, _profile(request), None)


@role_required(Role.COACH)
def session_type_edit(request: HttpRequest, pk: int) -> HttpResponse:
    profile = _profile(request)
    return _editor(request, profile, _own_type(request, pk))


@role_required(Role.COACH)
@require_POST
def session_type_preview(request: HttpRequest) -> HttpResponse:
    """The live preview: the form's current values as clients would see them; saves nothing."""
    profile = _profile(request)
    raw_pk = request.POST.get("editing", "")
    base = _own_type(request, int(raw_pk)) if raw_pk.isdigit() else None
    form = SessionTypeForm(request.POST, instance=SessionType(coach=request.user), profile=profile)
    return render(
        request,
        "bookings/manage/_session_type_preview.html",
        _preview_context(profile, _preview_type(form, profile, base)),
    )


def _act(request: HttpRequest, pk: int, change) -> HttpResponse:
    _profile(request)
    session_type = _own_type(request, pk)
    try:
        return change(session_type)
    except DomainError as refusal:
        messages.error(request, refusal.message)
        return _to_list(session_type)


@role_required(Role.COACH)
@require_POST
def session_type_duplicate(request: HttpRequest, pk: int) -> HttpResponse:
    def change(session_type: SessionType) -> HttpResponse:
        copy = services.duplicate_session_type(actor=request.user, session_type=session_type)
        messages.success(
            request,
            _("“%(title)s” is a copy, not offered to clients yet: change what differs, then offer it.")
            % {"title": copy.title},
        )
        return HttpResponseRedirect(reverse("session_type_edit", args=[copy.pk]), status=303)

    return _act(request, pk, change)


@role_required(Role.COACH)
@require_POST
def session_type_archive(request: HttpRequest, pk: int) -> HttpResponse:
    def change(session_type: SessionType) -> HttpResponse:
        services.update_session_type(session_type=session_type, actor=request.user, is_active=False)
        messages.success(
            request,
            _("“%(title)s” is archived: clients can't book it any more; sessions already booked go ahead.")
            % {"title": session_type.title},
        )
        return _to_list(session_type)

    return _act(request, pk, change)


@role_required(Role.COACH)
@require_POST
def session_type_restore(request: HttpRequest, pk: int) -> HttpResponse:
    def change(session_type: SessionType) -> HttpResponse:
        services.update_session_type(session_type=session_type, actor=request.user, is_active=True)
        messages.success(request, _("“%(title)s” is offered to clients again.") % {"title": session_type.title})
        return _to_list(session_type)

    return _act(request, pk, change)


@role_required(Role.COACH)
@require_POST
def session_type_move(request: HttpRequest, pk: int) -> HttpResponse:
    direction = request.POST.get("direction", "")
    if direction not in ("up", "down"):
        return HttpResponseBadRequest(_("Choose up or down."))

    def change(session_type: SessionType) -> HttpResponse:
        services.move_session_type(actor=request.user, session_type=session_type, offset=-1 if direction == "up" else 1)
        return _to_list(session_type, moved=direction)

    return _act(request, pk, change)
