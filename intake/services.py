"""Writes of the coach's private notes. Only a coach writes them: about a booking in a
session they host (coach or co-host), or about a client connected to them or booked with
them; each note is then its author's alone to change or delete."""

from __future__ import annotations

from django.utils.translation import gettext as _

from accounts.models import User
from bookings.models import Booking
from config.errors import DomainError, NotAllowed
from intake import selectors
from intake.models import NOTE_MAX_LENGTH, CoachNote


def _clean(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise DomainError(_("Write something in the note."), code="empty", field="text")
    if len(text) > NOTE_MAX_LENGTH:
        raise DomainError(
            _("A note holds at most %(max)s characters; this one has %(count)s.")
            % {"max": f"{NOTE_MAX_LENGTH:,}", "count": f"{len(text):,}"},
            code="too_long",
            field="text",
        )
    return text


def add_note(*, author: User, client: User, text: str, booking: Booking | None = None) -> CoachNote:
    """A new note by ``author`` about ``client`` — about ``booking`` (that client's) when given."""
    if not selectors.may_keep_notes(author):
        raise NotAllowed(_("Only coaches keep private notes."))
    if booking is not None:
        if booking.client_id != client.pk or not selectors.hosted_bookings(author).filter(pk=booking.pk).exists():
            raise NotAllowed(_("You can only write notes on sessions you host."))
    elif not selectors.clients_of(author).filter(pk=client.pk).exists():
        raise NotAllowed(_("You can only write notes about your own clients."))
    return CoachNote.objects.create(coach=author, client=client, booking=booking, text=_clean(text))


def edit_note(*, note: CoachNote, actor: User, text: str) -> CoachNote:
    if note.coach_id != actor.pk:
        raise NotAllowed(_("Only the note's author can change it."))
    note.text = _clean(text)
    note.save(update_fields=["text", "updated_at"])
    return note


def delete_note(*, note: CoachNote, actor: User) -> None:
    if note.coach_id != actor.pk:
        raise NotAllowed(_("Only the note's author can delete it."))
    note.delete()


# ---------------------------------------------------------------------------------------
# Intake answers: erasure and retention
# ---------------------------------------------------------------------------------------


def delete_responses_of(user: User) -> int:
    """Delete every intake response about ``user`` (drafts too: as the client, or as the
    dependent a guardian answered for), with their files and staff's read log of them, and
    any file uploaded about them; the answers ``user`` gave as a guardian about someone else
    are that person's and stay, no longer naming ``user``. Returns how many responses went.
    Idempotent."""
    from django.db import transaction

    from intake.models import IntakeFile, IntakeResponse

    with transaction.atomic():
        responses = IntakeResponse.objects.filter(client=user)
        count = responses.count()
        IntakeFile.objects.filter(response__in=responses).delete()
        responses.delete()
        IntakeFile.objects.filter(client=user).delete()
        IntakeResponse.objects.filter(answered_by=user).update(answered_by=None)
    return count


def delete_responses_before(cutoff, *, dry_run: bool = False) -> int:
    """The retention policy: responses last changed before ``cutoff`` (and their files)."""
    from django.db import transaction

    from intake.models import IntakeFile, IntakeResponse

    old = IntakeResponse.objects.filter(updated_at__lt=cutoff)
    if dry_run:
        return old.count()
    with transaction.atomic():
        count = old.count()
        IntakeFile.objects.filter(response__in=old).delete()
        old.delete()
        IntakeFile.objects.filter(response__isnull=True, created_at__lt=cutoff).delete()
    return count
