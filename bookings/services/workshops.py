"""Workshops that confirm themselves, and the materials of group sessions and workshops.

A workshop type with a minimum number of participants gives each session it publishes a
confirmation deadline (``Session.confirm_by``: the type's hours before the start). At the
deadline a django-q2 task (``settle_due``, every five minutes) confirms it when enough
people have booked — each booking gets a ``workshop_confirmed`` event, and the
notifications consumer tells them "it's on" — or calls it off below the minimum: every
booking is cancelled by the system with that reason, and the consumers tell everyone and
refund them (a coach's or the system's cancellation refunds in full). The coach or staff
may confirm earlier, or call it off themselves (``cancel_session``).

Materials — a link, or a file kept with Django's storage API — are shared with a session's
participants before or after it; each participant's booking gets a ``material_added``
event (its history shows it, and the consumer tells them "material available").
"""

from __future__ import annotations

import datetime as dt
import os

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.models import User
from bookings import reasons
from bookings.models import (
    BOOKED_STATUSES,
    Booking,
    BookingStatus,
    Session,
    SessionKind,
    SessionMaterial,
    SessionStatus,
)
from bookings.services.common import _now, _record, _require_manager, is_manager
from bookings.services.group import call_off
from config.errors import DomainError
from config.inputs import SHORT_TEXT, clean_text

# Who takes part: booked, or (after the session) attended.
PARTICIPANT_STATUSES = (*BOOKED_STATUSES, BookingStatus.COMPLETED)


def _participants(session: Session, statuses=BOOKED_STATUSES):
    return Booking.objects.select_for_update(no_key=True).filter(session=session, status__in=statuses).order_by("pk")


def booked_count(session: Session) -> int:
    return Booking.objects.filter(session=session, status__in=BOOKED_STATUSES).count()


def confirm(*, session: Session, actor: User | None, now: dt.datetime | None = None) -> Session:
    """The workshop takes place: everyone booked is told. ``actor`` None: the deadline's
    task. Locks the session's row, then its bookings'."""
    now = _now(now)
    if actor is not None:
        _require_manager(actor, session)
    with transaction.atomic():
        locked = Session.objects.select_for_update(no_key=True).select_related("session_type").get(pk=session.pk)
        if locked.session_type.kind != SessionKind.WORKSHOP:
            raise DomainError(_("Only workshops are confirmed."), code="invalid")
        if locked.status != SessionStatus.SCHEDULED or locked.start <= now:
            raise DomainError(_("This workshop is no longer to come."), code="invalid_transition", status=409)
        if locked.confirmed_at is not None:
            raise DomainError(_("This workshop is already confirmed."), code="invalid_transition", status=409)
        locked.confirmed_at = now
        locked.save(update_fields=["confirmed_at", "updated_at"])
        for booking in _participants(locked):
            _record(booking, actor=actor, action="workshop_confirmed", from_status=booking.status)
    return locked


def _shortfall_reason(session: Session, booked: int) -> str:
    # Stored in English, shown in the reader's language (config.stored_text).
    return reasons.WORKSHOP_SHORTFALL.format(booked=booked, minimum=session.session_type.min_participants)


def settle_due(*, now: dt.datetime | None = None, limit: int = 100) -> tuple[int, int]:
    """The task: each workshop whose confirmation deadline has come is confirmed, or called
    off below its minimum. Returns (confirmed, called off)."""
    now = _now(now)
    confirmed = called_off = 0
    due = (
        Session.objects.filter(
            confirm_by__isnull=False, confirm_by__lte=now, confirmed_at__isnull=True, status=SessionStatus.SCHEDULED
        )
        .select_related("session_type")
        .order_by("confirm_by")[:limit]
    )
    for session in due:
        if session.start <= now:
            continue  # began unconfirmed (the task was down): the coach decides
        booked = booked_count(session)
        if booked >= (session.session_type.min_participants or 0):
            try:
                confirm(session=session, actor=None, now=now)
            except DomainError:
                continue  # settled by someone else meanwhile
            confirmed += 1
        else:
            try:
                call_off(session=session, actor=None, reason=_shortfall_reason(session, booked), now=now)
            except DomainError:
                continue
            called_off += 1
    return confirmed, called_off


# ---------------------------------------------------------------------------------------
# Materials
# ---------------------------------------------------------------------------------------


def _check_file(upload: UploadedFile) -> None:
    extension = os.path.splitext(upload.name or "")[1].lower().lstrip(".")
    allowed = settings.MATERIAL_FILE_TYPES
    if extension not in allowed:
        raise DomainError(
            _("Files of type %(type)s can't be shared. Allowed: %(allowed)s.")
            % {"type": extension or "?", "allowed": ", ".join(allowed)},
            code="invalid",
            field="file",
        )
    if upload.size > settings.MATERIAL_MAX_MB * 1024 * 1024:
        raise DomainError(
            _("The file is larger than %(size)s MB.") % {"size": settings.MATERIAL_MAX_MB},
            code="too_large",
            field="file",
        )


def add_material(
    *,
    actor: User,
    session: Session,
    title: str,
    url: str = "",
    upload: UploadedFile | None = None,
    after_session: bool = False,
) -> SessionMaterial:
    """The coach (or staff) shares a link or a file with the session's participants, who
    are told. One of the two, never both."""
    _require_manager(actor, session)
    if not session.session_type.is_group:
        raise DomainError(_("Materials are for group sessions and workshops."), code="invalid")
    if session.status == SessionStatus.CANCELLED:
        raise DomainError(_("This session was called off."), code="invalid_transition", status=409)
    title = clean_text(title, SHORT_TEXT, field="title")
    if not title:
        raise DomainError(_("Give the material a title."), code="invalid", field="title")
    url = (url or "").strip()
    if bool(url) == bool(upload):
        raise DomainError(_("Share either a link or a file."), code="invalid", field="url")
    if url and not url.startswith(("https://", "http://")):
        raise DomainError(_("A link starts with https://."), code="invalid", field="url")
    if upload is not None:
        _check_file(upload)
    with transaction.atomic():
        material = SessionMaterial(
            session=session, title=title, url=url, after_session=after_session, added_by=actor, size=0
        )
        if upload is not None:
            material.size = upload.size
            material.file.save(os.path.basename(upload.name), upload, save=False)
        material.save()
        for booking in _participants(session, PARTICIPANT_STATUSES):
            _record(
                booking,
                actor=actor,
                action="material_added",
                from_status=booking.status,
                note=title,
                material=material.pk,
            )
    return material


def remove_material(*, actor: User, material: SessionMaterial) -> None:
    _require_manager(actor, material.session)
    stored = material.file.name if material.file else ""
    material.delete()
    if stored:
        transaction.on_commit(lambda: material.file.storage.delete(stored))


def may_see_materials(user: User, session: Session) -> bool:
    """Participants (booked, or attended; and who booked for them), the hosts and staff."""
    if is_manager(user, session.coach) or session.co_hosts.filter(pk=user.pk).exists():
        return True
    return (
        Booking.objects.filter(session=session, status__in=PARTICIPANT_STATUSES)
        .filter(Q(client=user) | Q(booked_by=user))
        .exists()
    )
