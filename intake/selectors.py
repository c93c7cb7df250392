"""Reads of the coach's private notes. Every read is the author's own: a note is found by
its author and id, or not at all (404) — not for the client, another coach, a co-host or
staff. The text is encrypted in its column, so search runs in Python over the decrypted
notes of that one coach, newest first, up to ``SEARCH_LIMIT``."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from accounts.models import Connection, ConnectionStatus, User
from bookings.models import Booking
from bookings.selectors import REFERENCE, co_hosting
from intake.models import CoachNote

# How many of a coach's newest notes a search decrypts and reads.
SEARCH_LIMIT = 2000
NOTE_RELATED = ("client", "booking", "booking__session", "booking__session__session_type")


def _notes_of(coach: User) -> QuerySet[CoachNote]:
    return CoachNote.objects.filter(coach=coach).select_related(*NOTE_RELATED)


def may_keep_notes(user: User) -> bool:
    return bool(user.is_authenticated and user.is_coach)


def hosted_bookings(coach: User) -> QuerySet[Booking]:
    """Bookings in sessions ``coach`` hosts (as the coach or a co-host)."""
    if not may_keep_notes(coach):
        return Booking.objects.none()
    return Booking.objects.filter(Q(session__coach=coach) | Q(co_hosting(coach, "session")))


def clients_of(coach: User) -> QuerySet[User]:
    """The people ``coach`` may keep notes about: clients connected to them, or who have a
    booking in a session they host."""
    if not may_keep_notes(coach):
        return User.objects.none()
    connected = Exists(Connection.objects.filter(coach=coach, client=OuterRef("pk"), status=ConnectionStatus.ACCEPTED))
    booked = Exists(hosted_bookings(coach).filter(client=OuterRef("pk")))
    return User.objects.filter(connected | booked).exclude(pk=coach.pk)


def client_for_notes(coach: User, client_id: int) -> User:
    client = clients_of(coach).filter(pk=client_id).first()
    if client is None:
        raise Http404("No such client.")
    return client


def booking_for_notes(coach: User, reference: str) -> Booking:
    """A booking ``coach`` hosts, by reference, or 404."""
    if not REFERENCE.fullmatch(reference):
        raise Http404("No such booking.")
    booking = (
        hosted_bookings(coach)
        .select_related("client", "session", "session__session_type")
        .filter(reference=reference)
        .first()
    )
    if booking is None:
        raise Http404("No such booking.")
    return booking


def own_note(coach: User, pk: int) -> CoachNote:
    """The note ``pk`` if ``coach`` wrote it, else 404 (whoever asks)."""
    note = _notes_of(coach).filter(pk=pk).first() if may_keep_notes(coach) else None
    if note is None:
        raise Http404("No such note.")
    return note


def notes_on_booking(coach: User, booking: Booking) -> list[CoachNote]:
    if not may_keep_notes(coach):
        return []
    return list(_notes_of(coach).filter(booking=booking))


def notes_about(coach: User, client: User) -> list[CoachNote]:
    """``coach``'s notes about ``client``: every session's and the general ones, newest first."""
    if not may_keep_notes(coach):
        return []
    return list(_notes_of(coach).filter(client=client))


@dataclass(frozen=True)
class Found:
    notes: list[CoachNote]
    # True when the coach has more notes than a search reads: only the newest were searched.
    capped: bool


def search_notes(coach: User, query: str, *, limit: int = SEARCH_LIMIT) -> Found:
    """``coach``'s notes holding every word of ``query`` (case and accents as typed, case
    ignored), newest first; all of them (up to ``limit``) for an empty query."""
    if not may_keep_notes(coach):
        return Found([], False)
    notes = list(_notes_of(coach)[: limit + 1])
    capped = len(notes) > limit
    notes = notes[:limit]
    words = query.casefold().split()
    if words:
        notes = [note for note in notes if all(word in note.text.casefold() for word in words)]
    return Found(notes, capped)
