"""Private calendar feed addresses: made on first use, rotated on request, and checked in
constant time.

A feed's secret is ``<lookup><verifier>``: 12 URL-safe characters that find the row (a
unique index), then 43 that are compared with ``hmac.compare_digest``. Rotating replaces
both, so the old address stops working at once.
"""

from __future__ import annotations

import hmac
import re
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from notifications.models import CalendarFeed

LOOKUP_LENGTH = 12
VERIFIER_BYTES = 32  # 43 URL-safe characters
SECRET_SHAPE = re.compile(rf"[A-Za-z0-9_-]{{{LOOKUP_LENGTH + 43},{LOOKUP_LENGTH + 64}}}")
_ATTEMPTS = 5
# Compared against when no feed has the lookup, so a miss costs about as much as a hit.
_DECOY = secrets.token_urlsafe(VERIFIER_BYTES)


def _new_lookup() -> str:
    return secrets.token_urlsafe(9)  # 9 bytes → exactly 12 characters


def _new_verifier() -> str:
    return secrets.token_urlsafe(VERIFIER_BYTES)


def feed_of(user: User) -> CalendarFeed:
    """``user``'s feed, made on first use."""
    feed = CalendarFeed.objects.filter(user=user).first()
    if feed is not None:
        return feed
    for _ in range(_ATTEMPTS):
        try:
            with transaction.atomic():
                return CalendarFeed.objects.create(user=user, lookup=_new_lookup(), verifier=_new_verifier())
        except IntegrityError:
            # Made at the same moment by another request (or, very rarely, a lookup clash).
            feed = CalendarFeed.objects.filter(user=user).first()
            if feed is not None:
                return feed
    raise RuntimeError("Could not make a calendar address.")


def rotate_feed(user: User) -> CalendarFeed:
    """A new secret for ``user``'s feed; the old address answers 404 from now on."""
    feed = feed_of(user)
    for _ in range(_ATTEMPTS):
        try:
            with transaction.atomic():
                updated = CalendarFeed.objects.filter(pk=feed.pk).update(
                    lookup=_new_lookup(), verifier=_new_verifier(), rotated_at=timezone.now()
                )
        except IntegrityError:
            continue  # a lookup clash: draw again
        if updated:
            break
    feed.refresh_from_db()
    return feed


def user_for_secret(secret: object) -> User | None:
    """The active user whose feed has this secret, or None for anything else."""
    if not isinstance(secret, str) or not SECRET_SHAPE.fullmatch(secret):
        return None
    lookup, verifier = secret[:LOOKUP_LENGTH], secret[LOOKUP_LENGTH:]
    feed = CalendarFeed.objects.select_related("user").filter(lookup=lookup).first()
    expected = feed.verifier if feed is not None else _DECOY
    matches = hmac.compare_digest(expected.encode(), verifier.encode())
    if feed is None or not matches or not feed.user.is_active:
        return None
    return feed.user


def _absolute(feed: CalendarFeed) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("calendar_feed", args=[feed.secret])


def _webcal(url: str) -> str:
    return "webcal://" + url.split("://", 1)[1] if "://" in url else url


def feed_url(user: User) -> str:
    """The absolute ``https://…/calendar/<secret>.ics`` address of ``user``'s feed."""
    return _absolute(feed_of(user))


def feed_addresses(user: User, feed: CalendarFeed | None = None) -> tuple[str, str]:
    """The feed's address, and the same as ``webcal://`` (calendar apps open that as a
    subscription)."""
    url = _absolute(feed or feed_of(user))
    return url, _webcal(url)
