from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from accounts.validators import validate_phone, validate_timezone


def language_choices() -> list[tuple[str, str]]:
    """The site's languages (``LANGUAGES``), each named in itself ("Français")."""
    return list(settings.LANGUAGES)


class Role(models.TextChoices):
    CLIENT = "client", pgettext_lazy("role", "Client")
    COACH = "coach", pgettext_lazy("role", "Coach")
    STAFF = "staff", pgettext_lazy("role", "Staff")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: object) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("role", Role.STAFF)
        if extra.get("is_staff") is not True or extra.get("is_superuser") is not True:
            raise ValueError("A superuser needs is_staff=True and is_superuser=True.")
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person who signs in with their email. Superusers are the product's admins."""

    username = None
    first_name = None
    last_name = None
    email = models.EmailField(_("email address"), unique=True)
    name = models.CharField(_("full name"), max_length=150, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.CLIENT, db_index=True)
    timezone = models.CharField(
        _("time zone"),
        max_length=64,
        default="UTC",
        validators=[validate_timezone],
        help_text=_("Times are shown to this person in this IANA zone."),
    )
    phone = models.CharField(
        max_length=20,
        blank=True,
        validators=[validate_phone],
        help_text=_("Optional, in international format (E.164), for SMS reminders."),
    )
    # Pages, emails, SMS and reminders speak to this person in it; blank: the browser's.
    language = models.CharField(
        _("language"),
        max_length=8,
        blank=True,
        default="",
        choices=language_choices,
        help_text=_("Pages and messages are in this language; empty: the browser's language."),
    )
    # The language their browser last asked for, while ``language`` is blank: what emails,
    # SMS and reminders are written in when no browser is there to ask.
    browser_language = models.CharField(max_length=8, blank=True, default="", editable=False)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        ordering = ["name", "email"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name or self.email

    def get_full_name(self) -> str:
        return self.display_name

    def get_short_name(self) -> str:
        return (self.name.split() or [self.email])[0]

    @property
    def is_admin(self) -> bool:
        return self.is_superuser

    @property
    def is_client(self) -> bool:
        return self.role == Role.CLIENT

    @property
    def is_coach(self) -> bool:
        return self.role == Role.COACH

    @property
    def is_staff_member(self) -> bool:
        """Back-office staff (role) or an admin; not the same as Django's ``is_staff`` flag."""
        return self.role == Role.STAFF or self.is_superuser


def _booking_default(key: str) -> object:
    return settings.BOOKING_DEFAULTS[key]


# Module-level callables so migrations refer to the settings, not to a frozen value.
def default_allow_firm_booking() -> bool:
    return _booking_default("allow_firm_booking")


def default_firm_booking_threshold_hours() -> int:
    return _booking_default("firm_booking_threshold_hours")


def default_buffer_before_minutes() -> int:
    return _booking_default("buffer_before_minutes")


def default_buffer_after_minutes() -> int:
    return _booking_default("buffer_after_minutes")


def default_max_sessions_per_day() -> int:
    return _booking_default("max_sessions_per_day")


def default_max_sessions_per_week() -> int:
    return _booking_default("max_sessions_per_week")


def default_calendar_visibility() -> str:
    return _booking_default("calendar_visibility")


def default_require_approval_unconnected() -> bool:
    return _booking_default("require_approval_unconnected")


def default_minimum_notice_hours() -> int:
    return _booking_default("minimum_notice_hours")


def default_booking_window_days() -> int:
    return _booking_default("booking_window_days")


def default_slot_step_minutes() -> int:
    return _booking_default("slot_step_minutes")


def default_cancellation_notice_hours() -> int:
    return _booking_default("cancellation_notice_hours")


class CalendarVisibility(models.TextChoices):
    PUBLIC = "public", _("Everyone")
    CONNECTED = "connected", _("Connected clients")
    PRIVATE = "private", _("Nobody (staff book for you)")


class CoachProfile(models.Model):
    """A coach's public details and booking rules (seed 001, section 1.2)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="coach_profile")
    headline = models.CharField(
        max_length=120, blank=True, help_text=_("One line under the name, e.g. “Career coach”.")
    )
    bio = models.TextField(blank=True)
    allow_firm_booking = models.BooleanField(
        default=default_allow_firm_booking,
        help_text=_("Clients may book without waiting for approval when the rules below allow it."),
    )
    firm_booking_threshold_hours = models.PositiveIntegerField(
        _("firm booking threshold (hours)"),
        default=default_firm_booking_threshold_hours,
        validators=[MaxValueValidator(24 * 60)],
        help_text=_("A booking that starts sooner than this becomes a request."),
    )
    buffer_before_minutes = models.PositiveIntegerField(
        _("buffer before (minutes)"),
        default=default_buffer_before_minutes,
        validators=[MaxValueValidator(240)],
        help_text=_("Free time kept before each session."),
    )
    buffer_after_minutes = models.PositiveIntegerField(
        _("buffer after (minutes)"),
        default=default_buffer_after_minutes,
        validators=[MaxValueValidator(240)],
        help_text=_("Free time kept after each session."),
    )
    max_sessions_per_day = models.PositiveIntegerField(
        _("most sessions a day"),
        default=default_max_sessions_per_day,
        validators=[MinValueValidator(1), MaxValueValidator(48)],
    )
    max_sessions_per_week = models.PositiveIntegerField(
        _("most sessions a week"),
        default=default_max_sessions_per_week,
        validators=[MinValueValidator(1), MaxValueValidator(200)],
    )
    calendar_visibility = models.CharField(
        _("who sees your calendar"),
        max_length=16,
        choices=CalendarVisibility.choices,
        default=default_calendar_visibility,
    )
    require_approval_unconnected = models.BooleanField(
        _("require approval for unconnected clients"),
        default=default_require_approval_unconnected,
    )
    minimum_notice_hours = models.PositiveIntegerField(
        _("minimum notice (hours)"),
        default=default_minimum_notice_hours,
        validators=[MaxValueValidator(24 * 30)],
        help_text=_("Clients cannot book a slot that starts sooner than this."),
    )
    booking_window_days = models.PositiveIntegerField(
        _("booking window (days)"),
        default=default_booking_window_days,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_("How far ahead clients can book."),
    )
    slot_step_minutes = models.PositiveIntegerField(
        _("time between start times (minutes)"),
        default=default_slot_step_minutes,
        validators=[MinValueValidator(5), MaxValueValidator(240)],
        help_text=_("Offered start times are this many minutes apart."),
    )
    cancellation_notice_hours = models.PositiveIntegerField(
        _("cancellation notice (hours)"),
        default=default_cancellation_notice_hours,
        validators=[MaxValueValidator(24 * 30)],
        help_text=_("Clients can cancel free of charge up to this many hours before the start."),
    )
    connected_discount_percent = models.PositiveSmallIntegerField(
        _("discount for connected clients (%)"),
        default=0,
        validators=[MaxValueValidator(100)],
        help_text=_("Taken off the price of your paid sessions for clients connected to you."),
    )
    allow_series = models.BooleanField(
        _("clients may book recurring series"),
        default=True,
        help_text=_("Clients may book a weekly (or other recurring) series of a one-on-one session type at once."),
    )
    series_horizon_days = models.PositiveIntegerField(
        _("series horizon (days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(730)],
        help_text=_("How far ahead a series may reach; may exceed the booking window. Empty: the site's default."),
    )
    series_requires_approval = models.BooleanField(
        _("series need approval"),
        default=False,
        help_text=_("Every new series is a request you approve or decline once, whatever your other rules say."),
    )

    subjects = models.ManyToManyField(
        "accounts.Subject",
        blank=True,
        related_name="coaches",
        verbose_name=_("subjects and qualifications"),
        help_text=_("What you teach or are qualified for; clients can find you by these."),
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(max_sessions_per_day__gte=1), name="coach_max_per_day_positive"),
            models.CheckConstraint(condition=Q(max_sessions_per_week__gte=1), name="coach_max_per_week_positive"),
            models.CheckConstraint(condition=Q(slot_step_minutes__gte=5), name="coach_slot_step_min_5"),
            models.CheckConstraint(condition=Q(booking_window_days__gte=1), name="coach_booking_window_positive"),
        ]

    def __str__(self) -> str:
        return gettext("Coach profile of %(user)s") % {"user": self.user}


class Subject(models.Model):
    """A subject or qualification coaches declare (a tutor's "Mathematics", a therapist's
    "Couples therapy"); clients filter coaches by it and a session type may require one."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    description = models.CharField(_("description"), max_length=200, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("subject")
        verbose_name_plural = _("subjects")

    def __str__(self) -> str:
        return self.name


class ClientTag(models.Model):
    """A label a coach (``coach`` set) or the practice (``coach`` empty, made by staff) puts on
    clients — VIP, new, sliding scale — that booking rules can follow
    (``availability.models.TagRule``)."""

    coach = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="client_tags",
        help_text=_("Empty: a tag of the whole practice, for every coach."),
    )
    name = models.CharField(_("name"), max_length=40)
    description = models.CharField(_("description"), max_length=200, blank=True)
    priority = models.PositiveSmallIntegerField(
        _("priority"),
        default=0,
        help_text=_("When a client has several tags whose rules disagree, the highest priority decides."),
    )
    clients = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="accounts.ClientTagging",
        through_fields=("tag", "client"),
        related_name="tags",
        blank=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-priority", "name"]
        verbose_name = _("client tag")
        verbose_name_plural = _("client tags")
        constraints = [
            models.UniqueConstraint(fields=["coach", "name"], name="client_tag_unique_per_coach"),
            models.UniqueConstraint(
                fields=["name"], condition=Q(coach__isnull=True), name="client_tag_unique_practice_wide"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ClientTagging(models.Model):
    """One client wearing one tag: who put it on and when."""

    tag = models.ForeignKey(ClientTag, on_delete=models.CASCADE, related_name="taggings")
    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="taggings")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["tag", "client"]
        constraints = [models.UniqueConstraint(fields=["tag", "client"], name="client_tagging_once")]
        indexes = [models.Index(fields=["client", "tag"], name="client_tagging_client")]

    def __str__(self) -> str:
        return f"{self.client} · {self.tag}"


class ConnectionStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("connection", "Pending")
    ACCEPTED = "accepted", pgettext_lazy("connection", "Accepted")
    DECLINED = "declined", pgettext_lazy("connection", "Declined")


class Connection(models.Model):
    """A client asks to be connected to a coach; the coach accepts or refuses."""

    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="coach_connections")
    coach = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="client_connections")
    status = models.CharField(
        max_length=16, choices=ConnectionStatus.choices, default=ConnectionStatus.PENDING, db_index=True
    )
    message = models.TextField(blank=True, help_text=_("The client's note to the coach."))
    requested_at = models.DateTimeField(auto_now_add=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(fields=["client", "coach"], name="unique_client_coach_connection"),
            models.CheckConstraint(condition=~Q(client=models.F("coach")), name="connection_not_to_self"),
        ]

    def __str__(self) -> str:
        return f"{self.client} → {self.coach} ({self.get_status_display()})"


class GuardianLink(models.Model):
    """A guardian (parent) who may book and manage sessions for a dependent."""

    guardian = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dependent_links")
    dependent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="guardian_links")
    relationship = models.CharField(max_length=40, blank=True, help_text=_("e.g. parent, legal guardian"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["guardian", "dependent"]
        constraints = [
            models.UniqueConstraint(fields=["guardian", "dependent"], name="unique_guardian_dependent"),
            models.CheckConstraint(condition=~Q(guardian=models.F("dependent")), name="guardian_not_self"),
        ]

    def __str__(self) -> str:
        return gettext("%(guardian)s is guardian of %(dependent)s") % {
            "guardian": self.guardian,
            "dependent": self.dependent,
        }


TOKEN_PREFIX = "bk_"


def hash_token(raw: str) -> str:
    # Tokens are 256-bit random values, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(max_length=12, editable=False, help_text=_("The first characters, to recognise it."))
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
