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


# ---------------------------------------------------------------------------------------
# Intake forms and booking questions
# ---------------------------------------------------------------------------------------

FILE_MAX_MB_DEFAULT = 10
FILE_MAX_MB_LIMIT = 25
FILE_TYPES_DEFAULT = "pdf,jpg,png"
SCALE_MIN, SCALE_MAX = 1, 10


class QuestionKind(models.TextChoices):
    SHORT_TEXT = "short_text", _("Short text")
    LONG_TEXT = "long_text", _("Long text")
    SINGLE_CHOICE = "single_choice", _("Single choice")
    MULTIPLE_CHOICE = "multiple_choice", _("Multiple choice")
    DATE = "date", _("Date")
    YES_NO = "yes_no", _("Yes or no")
    SCALE = "scale", _("Scale from 1 to 10")
    FILE = "file", _("File upload")


class IntakeForm(models.Model):
    """Questions clients answer before booking: a coach's own (``owner``), or site-wide
    (``owner`` empty, made by staff). Its questions live in its versions: one draft being
    edited, and published versions that never change (answers keep the version they
    answered)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("coach"),
        help_text=_("Empty: a site-wide form, made by staff."),
    )
    title = models.CharField(_("title"), max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title", "pk"]
        verbose_name = _("intake form")
        verbose_name_plural = _("intake forms")
        indexes = [models.Index(fields=["owner"], name="intake_form_owner")]

    def __str__(self) -> str:
        return self.title


class FormVersion(models.Model):
    """The questions of a form as one version: the draft (``published_at`` empty, at most
    one per form, edited in the builder) or a published one, never changed again."""

    form = models.ForeignKey(IntakeForm, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["form", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["form", "number"], name="intake_version_unique_number"),
            models.UniqueConstraint(
                fields=["form"], condition=Q(published_at__isnull=True), name="intake_version_one_draft"
            ),
        ]

    def __str__(self) -> str:
        return f"Form {self.form_id} v{self.number}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class _FrozenWhenPublished(models.Model):
    """A step or question of a published version is never changed or deleted."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        self._check_draft()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._check_draft()
        return super().delete(*args, **kwargs)

    def _version_id(self) -> int:
        raise NotImplementedError

    def _check_draft(self) -> None:
        if FormVersion.objects.filter(pk=self._version_id(), published_at__isnull=False).exists():
            raise ValueError("A published form version is never changed: edit the form to make a new version.")


class FormStep(_FrozenWhenPublished):
    """One page of a form (long forms have several)."""

    version = models.ForeignKey(FormVersion, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField(default=0)
    title = models.CharField(_("title"), max_length=200)
    intro = models.TextField(_("introduction"), blank=True, max_length=2000)

    class Meta:
        ordering = ["version", "position", "pk"]

    def __str__(self) -> str:
        return self.title

    def _version_id(self) -> int:
        return self.version_id


class Question(_FrozenWhenPublished):
    step = models.ForeignKey(FormStep, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(_("type"), max_length=20, choices=QuestionKind.choices, default=QuestionKind.SHORT_TEXT)
    label = models.CharField(_("question"), max_length=300)
    help_text = models.CharField(_("help text"), max_length=500, blank=True)
    required = models.BooleanField(_("required"), default=True)
    # The options of a single or multiple choice, in order.
    choices = models.JSONField(_("choices"), default=list, blank=True)
    # A file upload's limits.
    max_size_mb = models.PositiveSmallIntegerField(_("largest file (MB)"), default=FILE_MAX_MB_DEFAULT)
    allowed_types = models.CharField(
        _("allowed file types"),
        max_length=200,
        default=FILE_TYPES_DEFAULT,
        help_text=_("File name extensions, comma-separated, e.g. pdf,jpg,png."),
    )

    class Meta:
        ordering = ["step__position", "step_id", "position", "pk"]

    def __str__(self) -> str:
        return self.label

    def _version_id(self) -> int:
        return FormStep.objects.filter(pk=self.step_id).values_list("version_id", flat=True).first()

    @property
    def extensions(self) -> list[str]:
        return [part.strip().lower().lstrip(".") for part in self.allowed_types.split(",") if part.strip()]


class AskWhen(models.TextChoices):
    FIRST_BOOKING = "first", _("Before the first booking with this coach")
    EVERY_BOOKING = "every", _("At every booking")


class FormAsk(models.Model):
    """A session type asks a form: before the client's first booking with the coach, or at
    every booking."""

    session_type = models.ForeignKey("bookings.SessionType", on_delete=models.CASCADE, related_name="+")
    form = models.ForeignKey(IntakeForm, on_delete=models.CASCADE, related_name="asks")
    when = models.CharField(_("when"), max_length=10, choices=AskWhen.choices, default=AskWhen.FIRST_BOOKING)

    class Meta:
        ordering = ["session_type", "form__title", "pk"]
        constraints = [models.UniqueConstraint(fields=["session_type", "form"], name="intake_ask_once")]

    def __str__(self) -> str:
        return f"Type {self.session_type_id} asks form {self.form_id}"


class ResponseStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")


class IntakeResponse(models.Model):
    """One person's answers to one version of a form: ``client`` is whom they are about (a
    guardian answers for a dependent: ``answered_by``), ``coach`` the coach they were given
    to, ``booking`` the booking they were submitted with. The answers are JSON, encrypted
    at rest; nobody but the people ``intake.answers`` names reads them."""

    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    coach = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(FormVersion, on_delete=models.PROTECT, related_name="responses")
    session_type = models.ForeignKey(
        "bookings.SessionType", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    booking = models.ForeignKey("bookings.Booking", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    status = models.CharField(max_length=10, choices=ResponseStatus.choices, default=ResponseStatus.DRAFT)
    # A draft whose every step was answered and checked: it waits for the booking.
    complete = models.BooleanField(default=False)
    answers = EncryptedTextField(_("answers"), blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at", "-pk"]
        permissions = [("view_intake_answers", "Can read clients' intake answers (every read is logged)")]
        indexes = [
            models.Index(fields=["client", "coach", "status"], name="intake_resp_client_coach"),
            models.Index(fields=["booking"], name="intake_resp_booking"),
        ]

    def __str__(self) -> str:
        # Never the answers: this shows in logs, shells and error reports.
        return f"Intake response {self.pk}"


class IntakeFile(models.Model):
    """A file given as an answer. Its bytes and its original name are encrypted at rest
    (the bytes as a Fernet token in ``content``, rotated with the other keys' columns);
    ``response`` is set once it answers a question of a submitted or draft response."""

    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    response = models.ForeignKey(IntakeResponse, on_delete=models.CASCADE, null=True, blank=True, related_name="files")
    name = EncryptedTextField(_("file name"))
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    content = models.TextField()  # config.crypto.encrypt_bytes output; registered for rotation
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Intake file {self.pk}"


class AnswerRead(models.Model):
    """A staff member read a person's answers (or one of their files): who, when, which.
    Shown to that person on their answers page."""

    reader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    response = models.ForeignKey(IntakeResponse, on_delete=models.CASCADE, related_name="reads")
    file = models.ForeignKey(IntakeFile, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["response", "-at"], name="intake_read_response")]

    def __str__(self) -> str:
        return f"Read {self.pk}"
