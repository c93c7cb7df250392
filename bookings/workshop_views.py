"""Workshops and the materials of group sessions in the browser: the coach's page of a
session (who is booked, the minimum and its deadline, "Confirm now", materials to add and
remove), a material's download for who may see it, and a participant's certificate of
attendance (PDF). The booking page shows materials, who else is coming (when the type
allows) and the certificate link (``workshop_context``)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.models import User
from bookings import certificates, video
from bookings.models import BOOKED_STATUSES, Booking, BookingStatus, Session, SessionKind, SessionMaterial
from bookings.services import workshops
from bookings.services.common import is_manager
from config.errors import DomainError


class MaterialForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    url = forms.URLField(label=gettext_lazy("Link"), required=False, assume_scheme="https")
    file = forms.FileField(label=gettext_lazy("Or a file"), required=False)
    after_session = forms.BooleanField(label=gettext_lazy("A follow-up, for after the session"), required=False)


def _managed_session(request: HttpRequest, session_id: int) -> Session:
    session = get_object_or_404(
        Session.objects.select_related("session_type", "coach"),
        pk=session_id,
        session_type__kind__in=[SessionKind.GROUP, SessionKind.WORKSHOP],
    )
    if not is_manager(request.user, session.coach):
        raise PermissionDenied
    return session


@login_required
def session_page(request: HttpRequest, session_id: int) -> HttpResponse:
    """The coach's page of one group session or workshop."""
    session = _managed_session(request, session_id)
    form = MaterialForm()
    status = 200
    if request.method == "POST":
        form = MaterialForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                workshops.add_material(
                    actor=request.user,
                    session=session,
                    title=form.cleaned_data["title"],
                    url=form.cleaned_data["url"],
                    upload=form.cleaned_data["file"],
                    after_session=form.cleaned_data["after_session"],
                )
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
                status = exc.status
            else:
                messages.success(request, _("Shared with the participants; they are told."))
                return redirect("workshop_session", session.pk)
        else:
            status = 400
    participants = list(
        Booking.objects.filter(session=session, status__in=BOOKED_STATUSES).select_related("client").order_by("pk")
    )
    return render(
        request,
        "bookings/workshop_session.html",
        {
            "session": session,
            "meeting_link": video.session_link_for_host(session, request.user),
            "form": form,
            "materials": session.materials.all(),
            "participants": participants,
            "minimum": session.session_type.min_participants,
            "max_mb": settings.MATERIAL_MAX_MB,
            "file_types": ", ".join(settings.MATERIAL_FILE_TYPES),
        },
        status=status,
    )


@login_required
@require_POST
def confirm_now(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _managed_session(request, session_id)
    try:
        workshops.confirm(session=session, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Confirmed: everyone booked is told it takes place."))
    return redirect("workshop_session", session.pk)


@login_required
@require_POST
def remove_material(request: HttpRequest, pk: int) -> HttpResponse:
    material = get_object_or_404(SessionMaterial.objects.select_related("session__coach"), pk=pk)
    try:
        workshops.remove_material(actor=request.user, material=material)
    except DomainError as exc:
        if exc.status == 403:
            raise PermissionDenied from exc
        messages.error(request, exc.message)
    return redirect("workshop_session", material.session_id)


@login_required
def material_file(request: HttpRequest, pk: int) -> FileResponse:
    """A shared file, for the session's participants, hosts and staff only."""
    material = get_object_or_404(SessionMaterial.objects.select_related("session__coach"), pk=pk)
    if not material.file or not workshops.may_see_materials(request.user, material.session):
        raise Http404("No such file.")
    try:
        handle = material.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("No such file.") from exc
    return FileResponse(handle, as_attachment=True, filename=material.file.name.rsplit("/", 1)[-1])


@login_required
def certificate(request: HttpRequest, reference: str) -> HttpResponse:
    """The certificate of attendance of a workshop the client attended (completed), when
    its type gives one: for the client, who booked for them, the hosts and staff."""
    booking = get_object_or_404(
        Booking.objects.select_related("session__session_type", "session__coach", "client"), reference=reference
    )
    user = request.user
    allowed = user.pk in (booking.client_id, booking.booked_by_id) or is_manager(user, booking.session.coach)
    if not allowed or not may_have_certificate(booking):
        raise Http404("No certificate for this booking.")
    pdf = certificates.render(booking)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="certificate-{booking.reference}.pdf"'
    return response


def may_have_certificate(booking: Booking) -> bool:
    session_type = booking.session.session_type
    return (
        session_type.kind == SessionKind.WORKSHOP
        and session_type.certificate
        and booking.status == BookingStatus.COMPLETED
    )


def workshop_context(user: User, booking: Booking, *, now: dt.datetime | None = None) -> dict:
    """What a group session's or workshop's booking page shows besides the booking: the
    materials (to participants), who else is coming (when the type allows), whether it
    is confirmed, and the certificate."""
    session = booking.session
    session_type = session.session_type
    if not session_type.is_group:
        return {}
    now = now or timezone.now()
    visible = workshops.may_see_materials(user, session)
    others = []
    if session_type.show_participants and visible:
        others = [
            first_name(b.client)
            for b in Booking.objects.filter(session=session, status__in=BOOKED_STATUSES)
            .exclude(client_id=booking.client_id)
            .select_related("client")
            .order_by("pk")
        ]
    return {
        "materials": list(session.materials.all()) if visible else [],
        "may_share_materials": is_manager(user, session.coach),
        "participants_shown": session_type.show_participants and visible,
        "other_participants": others,
        "workshop_minimum": session_type.min_participants if session_type.kind == SessionKind.WORKSHOP else None,
        "certificate_ready": may_have_certificate(booking),
        "confirm_pending": session.confirm_by is not None and session.confirmed_at is None and session.start > now,
    }


def first_name(person: User) -> str:
    name = (person.name or "").strip()
    return name.split()[0] if name else _("A participant")
