"""Erasing a person (the right to erasure), and their requests for it.

A person asks from their profile (``/account/erase/``), confirming with their password; the
request waits ``ERASURE_GRACE_DAYS`` (they may cancel it meanwhile), then the hourly task
(``pages.tasks.run_erasures``) calls ``erase``. The retention policy erases inactive client
accounts with the same ``erase``.

What ``erase`` does, in one transaction (so a crash leaves the person as they were, and a
second run finds them erased and does nothing):

- bookings still to come are cancelled by the system (``bookings.services.cancel_by_system``:
  the event stream tells the coach as for any cancellation; the erased person, inactive by
  then, is told nothing), their open waitlist entries withdrawn;
- past bookings stay as rows pointing at the anonymised account, with their status, times,
  price and payments, so reports and the coach's accounting count them as before; the free
  text the person wrote on them (notes, answers, feedback, cancellation reasons) is cleared;
- the account: name and phone emptied, email ``erased-<id>@erased.invalid`` (unique, never
  deliverable), time zone UTC, password unusable, inactive, no groups or permissions; its
  email addresses, API tokens, sessions, calendar feed, connections with coaches, guardian
  links, tags, notification choices, notifications (with their deliveries) and reminders,
  planned sessions and stored API answers deleted; a coach's profile text, calendar
  connections and webhook endpoints deleted and session types switched off;
- intake (``intake.erasure``): the coaches' private notes about them, their intake answers
  and files; the address their consents came from;
- wherever else the old name, email or phone still appear in text kept about others
  (another person's notification about a shared session, a webhook's log, the admin's
  history), they are replaced by the erased address.

Who may not be erased this way: staff and admins (an administrator removes their staff
access first), and a coach who still hosts sessions to come (they cancel them or hand them
to another coach first). The task checks again when the request falls due.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Iterable

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session as WebSession
from django.core.mail import send_mail
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext

from accounts.models import ApiToken, ClientTagging, Connection, GuardianLink, Role, User
from bookings.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingEvent,
    IdempotencyRecord,
    PlannedSession,
    SessionStatus,
    SessionType,
)
from bookings.models import Session as BookingSession
from bookings.services import cancel_by_system
from calendar_sync.models import CalendarConnection
from intake import erasure as intake_erasure
from notifications.calendar import zone_of
from notifications.models import CalendarFeed, Notification, NotificationSettings, Reminder
from pages import reasons
from pages.models import Blocked, ErasureRecord, ErasureSource, ErasureStatus
from waitlist import services as waitlist_services
from waitlist.models import OPEN_STATUSES, WaitlistEntry
from webhooks.models import WebhookEndpoint

logger = logging.getLogger(__name__)

ERASED_DOMAIN = "erased.invalid"
# Apps whose text is not people's words (task queues, framework tables) or is handled apart.
UNSCANNED_APPS = {"django_q", "sessions", "contenttypes", "auth"}


def erased_email(account_id: int) -> str:
    return f"erased-{account_id}@{ERASED_DOMAIN}"


def is_erased(user: User) -> bool:
    return user.email == erased_email(user.pk)


# --- who may be erased -----------------------------------------------------------------------


def blocked_by(user: User, *, now: dt.datetime | None = None) -> str:
    """Why ``user`` may not be erased now (a ``Blocked`` code), or "" when they may."""
    now = now or timezone.now()
    if user.is_superuser or user.is_staff or user.role == Role.STAFF:
        return Blocked.STAFF
    hosted = BookingSession.objects.filter(
        Q(coach=user) | Q(co_hosts=user),
        end__gt=now,
        status__in=(SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS),
    )
    if hosted.exists():
        return Blocked.HOSTS_SESSIONS
    return Blocked.NONE


def blocked_message(code: str) -> str:
    """What the person reads about a ``Blocked`` code."""
    if code == Blocked.STAFF:
        return gettext(
            "Staff and admin accounts can't be erased from here. Ask an administrator to remove your "
            "staff access first; then you can ask for erasure like anyone else."
        )
    if code == Blocked.HOSTS_SESSIONS:
        return gettext(
            "You host sessions that are still to come. Cancel them, or ask staff to hand them to another "
            "coach, then ask again: your clients must not lose a session without being told."
        )
    return ""


class ErasureRefused(Exception):
    def __init__(self, code: str):
        super().__init__(blocked_message(code))
        self.code = code


# --- requests --------------------------------------------------------------------------------


def pending_request(user: User) -> ErasureRecord | None:
    return ErasureRecord.objects.filter(account_id=user.pk, status=ErasureStatus.PENDING).first()


def _when(record: ErasureRecord, user: User) -> str:
    return date_format(record.due_at.astimezone(zone_of(user)), "DATETIME_FORMAT")


def _language(user: User):
    """The person's language for their email (theirs if chosen, else the page's)."""
    return translation.override(getattr(user, "language", "") or translation.get_language())


def _mail(user: User, subject: str, body: str) -> None:
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    except Exception:  # the request stands whatever the mail server says
        logger.exception("The erasure email to account %s could not be sent", user.pk)


def request_erasure(user: User, *, now: dt.datetime | None = None) -> ErasureRecord:
    """Ask for ``user``'s erasure after the grace period (the caller checked the password).
    A second request while one waits returns that one. Raises ``ErasureRefused``."""
    now = now or timezone.now()
    code = blocked_by(user, now=now)
    if code:
        raise ErasureRefused(code)
    existing = pending_request(user)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            record = ErasureRecord.objects.create(
                account_id=user.pk,
                source=ErasureSource.REQUEST,
                requested_at=now,
                due_at=now + dt.timedelta(days=settings.ERASURE_GRACE_DAYS),
            )
    except IntegrityError:  # asked twice at the same moment
        return pending_request(user)
    with _language(user):
        _mail(
            user,
            gettext("Your account will be erased on %(date)s") % {"date": _when(record, user)},
            gettext(
                "You asked us to erase your account at %(site)s. It will be erased on %(date)s: your name, email, "
                "phone, answers and notes will be removed, and your sessions still to come cancelled.\n\n"
                "Changed your mind? Sign in before then and cancel the request on your profile: %(url)s\n\n"
                "If you didn't ask for this, sign in and cancel it, then change your password."
            )
            % {
                "site": settings.SITE_NAME,
                "date": _when(record, user),
                "url": settings.SITE_URL + reverse("erase_account"),
            },
        )
    logger.info("Erasure of account %s requested, due %s", user.pk, record.due_at.isoformat())
    return record


def cancel_request(user: User, *, now: dt.datetime | None = None) -> ErasureRecord | None:
    """Withdraw ``user``'s waiting request (None when there is none)."""
    now = now or timezone.now()
    with transaction.atomic():
        record = (
            ErasureRecord.objects.select_for_update().filter(account_id=user.pk, status=ErasureStatus.PENDING).first()
        )
        if record is None:
            return None
        record.status = ErasureStatus.CANCELLED
        record.cancelled_at = now
        record.save(update_fields=["status", "cancelled_at"])
    with _language(user):
        _mail(
            user,
            gettext("Your account will not be erased"),
            gettext("You cancelled the request to erase your account at %(site)s. Your account stays as it is.")
            % {"site": settings.SITE_NAME},
        )
    logger.info("Erasure of account %s cancelled", user.pk)
    return record


# --- scrubbing text ------------------------------------------------------------------------


def _patterns(needles: Iterable[str]) -> list[re.Pattern]:
    """Case-insensitive patterns for each needle (whole words where it starts or ends with
    one, so a short name doesn't eat into other words), longest first."""
    found = []
    for needle in sorted({n.strip() for n in needles if n and len(n.strip()) >= 3}, key=len, reverse=True):
        start = r"(?<!\w)" if re.match(r"\w", needle[0]) else ""
        end = r"(?![\w-]|\.\w)" if re.match(r"\w", needle[-1]) else ""
        found.append(re.compile(start + re.escape(needle) + end, re.IGNORECASE))
    return found


def _replace(text: str, patterns: list[re.Pattern], by: str) -> str:
    for pattern in patterns:
        text = pattern.sub(by, text)
    return text


def _replace_json(value, patterns: list[re.Pattern], by: str):
    if isinstance(value, str):
        return _replace(value, patterns, by)
    if isinstance(value, list):
        return [_replace_json(item, patterns, by) for item in value]
    if isinstance(value, dict):
        return {key: _replace_json(item, patterns, by) for key, item in value.items()}
    return value


def _variants(needle: str) -> set[str]:
    """The needle as written and as JSON escapes it (SQLite keeps JSON ASCII-escaped)."""
    return {needle, json.dumps(needle)[1:-1]}


def _text_fields(model) -> tuple[list[models.Field], list[models.Field]]:
    texts, jsons = [], []
    for field in model._meta.concrete_fields:
        if "Encrypted" in type(field).__name__ or field.name == "password":
            continue  # ciphertext: no plain text to find
        if isinstance(field, models.JSONField):
            jsons.append(field)
        elif isinstance(field, (models.CharField, models.TextField)):
            texts.append(field)
    return texts, jsons


def scrub_everywhere(needles: Iterable[str], by: str) -> int:
    """Replace the needles (an erased person's old name, email, phone) by ``by`` in every
    text and JSON column of every table but the framework's. A scan of each table: erasures
    are rare and run in the background. Returns how many rows changed."""
    from django.apps import apps

    needles = [needle.strip() for needle in needles if needle and len(needle.strip()) >= 3]
    patterns = _patterns(needles)
    if not patterns:
        return 0
    changed = 0
    for model in apps.get_models():
        if model._meta.app_label in UNSCANNED_APPS or model is User or not model._meta.managed:
            continue
        texts, jsons = _text_fields(model)
        if not texts and not jsons:
            continue
        match = Q()
        annotations = {}
        for field in texts:
            for needle in needles:
                match |= Q(**{f"{field.attname}__icontains": needle})
        for field in jsons:
            alias = f"_erasure_{field.attname}"
            annotations[alias] = Cast(field.attname, models.TextField())
            for needle in needles:
                for variant in _variants(needle):
                    match |= Q(**{f"{alias}__icontains": variant})
        rows = model._base_manager.annotate(**annotations) if annotations else model._base_manager.all()
        rows = rows.filter(match)
        names = [f.attname for f in texts + jsons]
        for row in rows.only("pk", *names).iterator():
            updates = {}
            for field in texts:
                before = getattr(row, field.attname)
                if before:
                    after = _replace(before, patterns, by)
                    if after != before:
                        updates[field.attname] = after[: field.max_length] if field.max_length else after
            for field in jsons:
                before = getattr(row, field.attname)
                after = _replace_json(before, patterns, by)
                if after != before:
                    updates[field.attname] = after
            if updates:
                model._base_manager.filter(pk=row.pk).update(**updates)
                changed += 1
    if changed:
        logger.info("Erasure replaced mentions in %d rows of others' records", changed)
    return changed


# --- erasing -----------------------------------------------------------------------------------


def _delete_web_sessions(user: User) -> int:
    """The person's signed-in browser sessions (database sessions name the user inside their
    encoded data, so each live one is read)."""
    gone = []
    for session in WebSession.objects.filter(expire_date__gt=timezone.now()).iterator():
        try:
            data = session.get_decoded()
        except Exception:  # an unreadable session names no one
            logger.debug("Session %s could not be decoded", session.pk)
            continue
        if str(data.get("_auth_user_id")) == str(user.pk):
            gone.append(session.session_key)
    return WebSession.objects.filter(session_key__in=gone).delete()[0]


def _log_entries(user: User) -> int:
    kind = ContentType.objects.get_for_model(User)
    return LogEntry.objects.filter(content_type=kind, object_id=str(user.pk)).update(
        object_repr=erased_email(user.pk), change_message=""
    )


def erase(user: User, *, now: dt.datetime | None = None) -> dict[str, int]:
    """Anonymise ``user`` and remove what is theirs (see the module's docstring). Returns
    counts of what went; an already erased account returns {} and changes nothing.
    The caller checks ``blocked_by``. Locks the user's row."""
    now = now or timezone.now()
    removed: dict[str, int] = {}
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if is_erased(user):
            return {}
        from allauth.account.models import EmailAddress

        old_emails = {user.email, *EmailAddress.objects.filter(user=user).values_list("email", flat=True)}
        needles = [user.name, user.phone, *old_emails]
        new_email = erased_email(user.pk)

        # Sessions still to come: cancelled by the system, told to the coach by the event stream.
        reason = reasons.ACCOUNT_CLOSED  # stored in English, shown in the reader's language
        cancelled = 0
        for booking in Booking.objects.filter(client=user, status__in=ACTIVE_STATUSES, session__start__gt=now).order_by(
            "pk"
        ):
            if cancel_by_system(booking=booking, reason=reason, now=now) is not None:
                cancelled += 1
        removed["bookings_cancelled"] = cancelled
        withdrawn = 0
        for entry in WaitlistEntry.objects.filter(client=user, status__in=OPEN_STATUSES).order_by("pk"):
            waitlist_services.leave(actor=user, entry=entry, now=now)
            withdrawn += 1
        removed["waitlist_withdrawn"] = withdrawn

        # What they wrote on bookings (past ones stay, for the coach's accounting and reports).
        removed["booking_texts"] = Booking.objects.filter(client=user).update(
            client_notes="", info_response="", feedback=""
        )
        Booking.objects.filter(cancelled_by=user).update(cancellation_reason="")
        BookingEvent.objects.filter(actor=user).update(note="")

        removed["intake"] = sum(intake_erasure.erase_person(user).values())
        removed["notifications"] = Notification.objects.filter(recipient=user).delete()[0]
        Reminder.objects.filter(recipient=user).delete()
        NotificationSettings.objects.filter(user=user).delete()
        CalendarFeed.objects.filter(user=user).delete()
        ApiToken.objects.filter(user=user).delete()
        Connection.objects.filter(Q(client=user) | Q(coach=user)).delete()
        GuardianLink.objects.filter(Q(guardian=user) | Q(dependent=user)).delete()
        ClientTagging.objects.filter(client=user).delete()
        PlannedSession.objects.filter(Q(client=user) | Q(booked_by=user)).delete()
        IdempotencyRecord.objects.filter(user=user).delete()
        EmailAddress.objects.filter(user=user).delete()
        CalendarConnection.objects.filter(coach=user).delete()
        WebhookEndpoint.objects.filter(owner=user).delete()
        if hasattr(user, "coach_profile"):
            profile = user.coach_profile
            profile.headline = ""
            profile.bio = ""
            profile.save(update_fields=["headline", "bio"])
        SessionType.objects.filter(coach=user).update(is_active=False)
        removed["web_sessions"] = _delete_web_sessions(user)
        _log_entries(user)

        user.name = ""
        user.phone = ""
        user.email = new_email
        user.timezone = "UTC"
        user.password = make_password(None)
        user.is_active = False
        user.is_staff = False
        user.is_superuser = False
        user.save()
        user.groups.clear()
        user.user_permissions.clear()

        removed["mentions"] = scrub_everywhere(needles, new_email)
    logger.info("Account %s erased: %s", user.pk, json.dumps(removed, sort_keys=True))
    return removed


def erase_account(user: User, *, source: str, now: dt.datetime | None = None) -> ErasureRecord:
    """Erase now and record it (the retention policy's way, no grace period)."""
    now = now or timezone.now()
    with transaction.atomic():
        removed = erase(user, now=now)
        return ErasureRecord.objects.create(
            account_id=user.pk,
            source=source,
            status=ErasureStatus.DONE,
            requested_at=now,
            due_at=now,
            done_at=now,
            removed=removed,
        )


def _skip_locked() -> bool:
    from django.db import connection

    return connection.features.has_select_for_update_skip_locked


def run_due(*, now: dt.datetime | None = None, limit: int = 50) -> int:
    """Erase the accounts whose request's grace period is over. Each in its own transaction,
    its record locked (others running at once skip it); a record no longer waiting, or an
    account already erased, is left as it is. Returns how many were erased."""
    now = now or timezone.now()
    due = list(
        ErasureRecord.objects.filter(status=ErasureStatus.PENDING, due_at__lte=now)
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    done = 0
    for pk in due:
        with transaction.atomic():
            record = (
                ErasureRecord.objects.select_for_update(skip_locked=_skip_locked())
                .filter(pk=pk, status=ErasureStatus.PENDING)
                .first()
            )
            if record is None:
                continue
            user = User.objects.filter(pk=record.account_id).first()
            if user is not None:
                code = blocked_by(user, now=now)
                if code:
                    if record.blocked != code:
                        record.blocked = code
                        record.save(update_fields=["blocked"])
                        logger.warning("Erasure %s of account %s waits: %s", record.pk, user.pk, code)
                    continue
                record.removed = erase(user, now=now)
            record.status = ErasureStatus.DONE
            record.done_at = now
            record.blocked = Blocked.NONE
            record.save(update_fields=["status", "done_at", "blocked", "removed"])
            done += 1
    return done
