"""Who wants what, by which channel: each person's choices over the product's defaults.

Defaults: every kind a role hears about comes in-app, plus ``NOTIFICATION_METHOD``
(email, sms or both); staff hear about new, moved and cancelled bookings, in-app only.
SMS goes only to someone with a phone number that looks real; without one the SMS choice
is kept but nothing is sent by SMS.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from accounts.validators import normalize_phone
from notifications.models import Channel, Kind, NotificationSettings

# What each role hears about (and can choose channels for).
KINDS_BY_ROLE: dict[str, tuple[str, ...]] = {
    Role.CLIENT: (
        Kind.BOOKING_CREATED,
        Kind.CONFIRMED,
        Kind.DECLINED,
        Kind.ALTERNATIVES_SUGGESTED,
        Kind.INFORMATION_REQUESTED,
        Kind.CANCELLED,
        Kind.RESCHEDULED,
        Kind.SESSION_REMINDER,
        Kind.CANCELLATION_WINDOW,
        Kind.FEEDBACK_REQUEST,
        Kind.PAYMENT_RECEIVED,
        Kind.PAYMENT_FAILED,
        Kind.PAYMENT_EXPIRED,
        Kind.PAYMENT_REFUNDED,
        Kind.PAYMENT_DUE,
        Kind.WAITLIST_OFFER,
        Kind.WAITLIST_EXPIRED,
        Kind.WAITLIST_POSITION,
        Kind.WORKSHOP_CONFIRMED,
        Kind.MATERIAL_AVAILABLE,
    ),
    Role.COACH: (
        Kind.BOOKING_CREATED,
        Kind.REQUEST_RECEIVED,
        Kind.CONFIRMED,
        Kind.INFORMATION_GIVEN,
        Kind.CANCELLED,
        Kind.RESCHEDULED,
        Kind.SESSION_REMINDER,
        Kind.SESSION_LIMIT_WARNING,
        Kind.CALENDAR_CLASH,
        Kind.WEBHOOK_DISABLED,
        Kind.INTAKE_ANSWERS,
    ),
    Role.STAFF: (Kind.BOOKING_CREATED, Kind.CANCELLED, Kind.RESCHEDULED, Kind.WEBHOOK_DISABLED),
}
ALL_CHANNELS = (Channel.IN_APP, Channel.EMAIL, Channel.SMS)
# The lead times people can pick from on their settings page (minutes before), with how
# long that is (“1 week”, shown as “1 week before”).
REMINDER_CHOICES: tuple[tuple[int, Promise], ...] = (
    (7 * 24 * 60, _("1 week")),
    (48 * 60, _("2 days")),
    (24 * 60, _("24 hours")),
    (120, _("2 hours")),
    (60, _("1 hour")),
    (30, _("30 minutes")),
    (10, _("10 minutes")),
)


def kinds_for(user: User) -> tuple[str, ...]:
    # A coach is also someone's client now and then; an admin sees what staff see.
    if user.role == Role.COACH:
        return tuple(dict.fromkeys(KINDS_BY_ROLE[Role.COACH] + KINDS_BY_ROLE[Role.CLIENT]))
    if user.role == Role.STAFF or user.is_superuser:
        return tuple(dict.fromkeys(KINDS_BY_ROLE[Role.STAFF] + KINDS_BY_ROLE[Role.CLIENT]))
    return KINDS_BY_ROLE[Role.CLIENT]


def method_channels() -> list[str]:
    method = settings.NOTIFICATION_METHOD
    extra = {"email": [Channel.EMAIL], "sms": [Channel.SMS], "both": [Channel.EMAIL, Channel.SMS]}[method]
    return [Channel.IN_APP, *extra]


def default_channels(user: User, kind: str, *, as_staff: bool = False) -> list[str]:
    if as_staff:
        return [Channel.IN_APP]
    return method_channels()


def has_sms_number(user: User) -> bool:
    if not user.phone:
        return False
    try:
        return normalize_phone(user.phone) == user.phone
    except Exception:  # a number that doesn't parse is as good as none
        return False


def chosen_channels(
    user: User, kind: str, choices: NotificationSettings | None, *, as_staff: bool = False
) -> list[str]:
    """The channels ``user`` chose for ``kind`` (or the defaults), before the phone check."""
    if choices is not None and kind in (choices.channels or {}):
        return [channel for channel in ALL_CHANNELS if channel in choices.channels[kind]]
    return default_channels(user, kind, as_staff=as_staff)


def channels_for(
    user: User, kind: str, choices: NotificationSettings | None = None, *, as_staff: bool = False
) -> list[str]:
    """Where a ``kind`` message to ``user`` goes: their choice or the default, minus SMS
    when they have no usable phone number."""
    channels = chosen_channels(user, kind, choices, as_staff=as_staff)
    if Channel.SMS in channels and not has_sms_number(user):
        channels = [channel for channel in channels if channel != Channel.SMS]
    return channels


def settings_of(users: Iterable[User]) -> dict[int, NotificationSettings]:
    """Everyone's saved choices in one query (absent: defaults)."""
    ids = {user.pk for user in users}
    return {row.user_id: row for row in NotificationSettings.objects.filter(user_id__in=ids)}


def reminder_minutes(session_type, choices: NotificationSettings | None) -> list[int]:
    """Lead times of the session reminders: the person's own choice, else the session
    type's, else ``NOTIFICATION_REMINDER_MINUTES``; longest first."""
    if choices is not None and choices.reminder_minutes is not None:
        minutes = choices.reminder_minutes
    elif session_type.reminder_minutes is not None:
        minutes = session_type.reminder_minutes
    else:
        minutes = settings.NOTIFICATION_REMINDER_MINUTES
    return sorted({int(m) for m in minutes if int(m) > 0}, reverse=True)


def save_choices(user: User, *, channels: dict[str, list[str]], reminder_minutes: list[int] | None) -> None:
    """Store ``user``'s choices: channels per kind (only kinds they hear about, only known
    channels) and their reminder lead times (None: the usual ones)."""
    allowed = set(kinds_for(user))
    cleaned = {
        kind: [channel for channel in ALL_CHANNELS if channel in picked]
        for kind, picked in channels.items()
        if kind in allowed
    }
    minutes = None if reminder_minutes is None else sorted({int(m) for m in reminder_minutes}, reverse=True)
    NotificationSettings.objects.update_or_create(
        user=user, defaults={"channels": cleaned, "reminder_minutes": minutes}
    )
