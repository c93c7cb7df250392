"""Every write about people: accounts, roles, profiles, connections, guardians, API tokens."""

from __future__ import annotations

import secrets

from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.language import supported as supported_language
from accounts.models import (
    TOKEN_PREFIX,
    ApiToken,
    CoachProfile,
    Connection,
    ConnectionStatus,
    GuardianLink,
    Role,
    User,
    hash_token,
)
from accounts.permissions import STAFF_GROUP_NAME
from accounts.validators import normalize_phone, validate_timezone
from config.errors import DomainError, NotAllowed
from config.inputs import LONG_TEXT, SHORT_TEXT, canonical_zone, check_text, clean_text


@transaction.atomic
def create_user(
    *,
    email: str,
    password: str | None,
    name: str = "",
    role: str = Role.CLIENT,
    timezone_name: str = "UTC",
    phone: str = "",
    email_verified: bool = False,
    is_superuser: bool = False,
) -> User:
    """Create a person with their role set up (coach profile, staff group) in one step."""
    timezone_name = canonical_zone(timezone_name) or timezone_name
    validate_timezone(timezone_name)
    if is_superuser:
        user = User.objects.create_superuser(
            email=email,
            password=password,
            name=name,
            timezone=timezone_name,
            phone=normalize_phone(phone) if phone else "",
        )
    else:
        user = User.objects.create_user(
            email=email,
            password=password,
            name=name,
            timezone=timezone_name,
            phone=normalize_phone(phone) if phone else "",
        )
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=email_verified)
    set_role(user=user, role=role)
    return user


@transaction.atomic
def set_role(*, user: User, role: str) -> User:
    """Give ``user`` a role and what comes with it: staff get the admin and the Staff group;
    coaches get a CoachProfile with the default booking rules."""
    if role not in Role.values:
        raise DomainError(_("Unknown role “%(role)s”.") % {"role": role}, code="invalid_role")
    user.role = role
    staff_group, _created = Group.objects.get_or_create(name=STAFF_GROUP_NAME)
    if role == Role.STAFF:
        user.is_staff = True
        user.groups.add(staff_group)
    elif not user.is_superuser:
        user.is_staff = False
        user.groups.remove(staff_group)
    user.save(update_fields=["role", "is_staff"])
    if role == Role.COACH:
        CoachProfile.objects.get_or_create(user=user)
    return user


def update_profile(*, user: User, name: str, timezone_name: str, phone: str, language: str | None = None) -> User:
    """``language``: a code of ``LANGUAGES``, "" to follow the browser, None to leave it."""
    timezone_name = canonical_zone(timezone_name) or timezone_name
    validate_timezone(timezone_name)
    normalized_phone = normalize_phone(phone) if phone.strip() else ""
    user.name = name.strip()
    user.timezone = timezone_name
    user.phone = normalized_phone
    fields = ["name", "timezone", "phone"]
    if language is not None:
        _check_language(language)
        user.language = language
        fields.append("language")
    user.save(update_fields=fields)
    return user


def _check_language(code: str) -> None:
    if code and not supported_language(code):
        raise ValidationError(_("Choose one of the languages offered."), code="unknown_language")


def set_language(*, user: User, language: str) -> User:
    """The person's own language (``LANGUAGES``; "": follow the browser's)."""
    _check_language(language)
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
    return user


COACH_SETTING_FIELDS = (
    "headline",
    "bio",
    "allow_firm_booking",
    "firm_booking_threshold_hours",
    "require_approval_unconnected",
    "calendar_visibility",
    "minimum_notice_hours",
    "booking_window_days",
    "slot_step_minutes",
    "buffer_before_minutes",
    "buffer_after_minutes",
    "max_sessions_per_day",
    "max_sessions_per_week",
    "cancellation_notice_hours",
    "connected_discount_percent",
)
# Recurring series (the settings page and the API; the availability editor leaves them be).
SERIES_SETTING_FIELDS = ("allow_series", "series_horizon_days", "series_requires_approval")


def update_coach_settings(*, profile: CoachProfile, actor: User, **changes: object) -> CoachProfile:
    """Change a coach's booking rules (the coach themself or staff), validated by the model."""
    if actor.pk != profile.user_id and not actor.is_staff_member:
        raise NotAllowed(_("You can only change your own booking settings."))
    unknown = set(changes) - set(COACH_SETTING_FIELDS) - set(SERIES_SETTING_FIELDS)
    if unknown:
        raise DomainError(
            _("Unknown setting: %(names)s.") % {"names": ", ".join(sorted(unknown))}, code="unknown_setting"
        )
    for field, limit in (("headline", SHORT_TEXT), ("bio", LONG_TEXT)):
        if isinstance(changes.get(field), str):
            check_text(changes[field], limit, field=field)
    for field, value in changes.items():
        setattr(profile, field, value)
    profile.full_clean(exclude=["user"])
    if profile.max_sessions_per_week < profile.max_sessions_per_day:
        raise DomainError(_("The weekly limit cannot be lower than the daily limit."), code="limits_inconsistent")
    profile.save(update_fields=list(changes) or None)
    return profile


def request_connection(*, client: User, coach: User, message: str = "") -> Connection:
    """A client asks a coach to connect. Asking again after a refusal re-opens the request."""
    if not client.is_client:
        raise NotAllowed(_("Only clients can ask to connect with a coach."), code="not_a_client")
    if not coach.is_coach:
        raise DomainError(_("That person is not a coach."), code="not_a_coach", status=404)
    with transaction.atomic():
        connection = Connection.objects.select_for_update().filter(client=client, coach=coach).first()
        if connection is None:
            try:
                with transaction.atomic():
                    return Connection.objects.create(
                        client=client, coach=coach, message=clean_text(message, LONG_TEXT, field="message")
                    )
            except IntegrityError:
                connection = Connection.objects.select_for_update().get(client=client, coach=coach)
        if connection.status == ConnectionStatus.ACCEPTED:
            raise DomainError(
                _("You are already connected with %(coach)s.") % {"coach": coach}, code="already_connected", status=409
            )
        if connection.status == ConnectionStatus.PENDING:
            raise DomainError(
                _("Your request to %(coach)s is waiting for an answer.") % {"coach": coach},
                code="already_requested",
                status=409,
            )
        connection.status = ConnectionStatus.PENDING
        connection.message = message.strip()
        connection.requested_at = timezone.now()
        connection.responded_at = None
        connection.save(update_fields=["status", "message", "requested_at", "responded_at"])
        return connection


def respond_to_connection(*, connection: Connection, actor: User, accept: bool) -> Connection:
    """The coach (or staff) accepts or refuses a pending request. Locks the connection row."""
    if not (actor.pk == connection.coach_id or actor.is_staff_member):
        raise NotAllowed(_("Only the coach can answer this request."), code="not_the_coach")
    with transaction.atomic():
        locked = Connection.objects.select_for_update().get(pk=connection.pk)
        if locked.status != ConnectionStatus.PENDING:
            raise DomainError(_("This request has already been answered."), code="already_answered", status=409)
        locked.status = ConnectionStatus.ACCEPTED if accept else ConnectionStatus.DECLINED
        locked.responded_at = timezone.now()
        locked.save(update_fields=["status", "responded_at"])
    return locked


def link_dependent(*, guardian: User, dependent_email: str, relationship: str = "") -> GuardianLink:
    """Link an existing client account as ``guardian``'s dependent."""
    dependent = User.objects.filter(email__iexact=dependent_email.strip()).first()
    if dependent is None:
        raise DomainError(
            _("No account uses that email address. Ask them to sign up first."),
            code="dependent_not_found",
            status=404,
        )
    if dependent.pk == guardian.pk:
        raise DomainError(_("You cannot be your own guardian."), code="guardian_self")
    if not dependent.is_client:
        raise DomainError(_("Only client accounts can be added as dependents."), code="dependent_not_client")
    link, created = GuardianLink.objects.get_or_create(
        guardian=guardian, dependent=dependent, defaults={"relationship": relationship.strip()}
    )
    if not created:
        raise DomainError(
            _("%(person)s is already linked to your account.") % {"person": dependent},
            code="already_linked",
            status=409,
        )
    return link


def create_api_token(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a personal API token; returns the record and the raw token (shown once)."""
    name = name.strip()
    if not name:
        raise DomainError(_("Give the token a name so you can recognise it later."), code="token_name_required")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name[:80], token_hash=hash_token(raw), hint=raw[:10])
    return token, raw


def revoke_api_token(*, token: ApiToken, actor: User) -> ApiToken:
    if token.user_id != actor.pk and not actor.is_superuser:
        raise NotAllowed(_("You can only revoke your own tokens."))
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def authenticate_token(raw: str) -> User | None:
    """The active user a bearer token belongs to, or None. Records when it was last used."""
    if not raw or not raw.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=hash_token(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # Write at most once a minute per token so that busy clients don't write on every call.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def validate_or_domain_error(exc: ValidationError) -> DomainError:
    """Turn a Django ValidationError into the DomainError the API reports."""
    return DomainError(" ".join(exc.messages), code="invalid")
