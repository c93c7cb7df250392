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


# ---------------------------------------------------------------------------------------
# Consent and agreements
# ---------------------------------------------------------------------------------------

CONSENT_BODY_MAX_LENGTH = 50_000


class ConsentKind(models.TextChoices):
    TERMS = "terms", _("Terms and conditions")
    TREATMENT = "treatment", _("Consent to treatment")
    DATA_PROCESSING = "data_processing", _("Data processing")
    CONFIDENTIALITY = "confidentiality", _("Confidentiality")


class ConsentDocument(models.Model):
    """A document clients accept before booking: a coach's own (``owner``), or site-wide
    (``owner`` empty, written by staff) for every coach. Its text is in its versions; the
    current one is the newest."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("coach"),
        help_text=_("Empty: a site-wide document, asked before booking with any coach."),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ConsentKind.choices, default=ConsentKind.TERMS)
    title = models.CharField(_("title"), max_length=200)
    required_before_booking = models.BooleanField(
        _("required before booking"),
        default=True,
        help_text=_("Clients accept its current version before their next booking."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title", "pk"]
        verbose_name = _("consent document")
        verbose_name_plural = _("consent documents")
        indexes = [models.Index(fields=["owner", "required_before_booking"], name="consent_doc_owner_required")]

    def __str__(self) -> str:
        return self.title


class ConsentVersion(models.Model):
    """One published text of a document. Never changed once written: a change is a new
    version (``number`` one more), and clients are asked again."""

    document = models.ForeignKey(ConsentDocument, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    body = models.TextField(_("text"))
    published_at = models.DateTimeField(_("published"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["document", "-number"]
        verbose_name = _("consent document version")
        verbose_name_plural = _("consent document versions")
        constraints = [models.UniqueConstraint(fields=["document", "number"], name="consent_version_unique_number")]

    def __str__(self) -> str:
        return f"{self.document.title} v{self.number}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("A published consent version is never changed: publish a new version instead.")
        super().save(*args, **kwargs)


class ConsentRecord(models.Model):
    """That ``client`` accepted ``version``: when, from which address, by whom (the client,
    or their guardian booking for them), on the way to which booking."""

    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    version = models.ForeignKey(ConsentVersion, on_delete=models.PROTECT, related_name="records")
    accepted_at = models.DateTimeField(_("accepted"))
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    booking = models.ForeignKey("bookings.Booking", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-accepted_at", "-pk"]
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")
        constraints = [models.UniqueConstraint(fields=["client", "version"], name="consent_record_once")]

    def __str__(self) -> str:
        return f"Consent {self.pk}"
