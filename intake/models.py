"""The coach's private notes about a client: about one session (``booking`` set) or about
the client in general (``booking`` empty). The text is encrypted at rest
(``config.crypto.EncryptedTextField``); only the note's author reads it (``selectors``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from config.crypto import EncryptedTextField

NOTE_MAX_LENGTH = 10_000


class CoachNote(models.Model):
    coach = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("author")
    )
    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # A note about one session is about one client's seat in it: the booking.
    booking = models.ForeignKey("bookings.Booking", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    text = EncryptedTextField(_("note"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-pk"]
        indexes = [
            models.Index(fields=["coach", "client"], name="coach_note_coach_client"),
            models.Index(fields=["coach", "booking"], name="coach_note_coach_booking"),
            models.Index(fields=["coach", "-updated_at"], name="coach_note_coach_recent"),
        ]
        constraints = [models.CheckConstraint(condition=~Q(coach=models.F("client")), name="coach_note_not_about_self")]

    def __str__(self) -> str:
        # Never the text: this shows in logs, shells and error reports.
        return f"Note {self.pk}"
