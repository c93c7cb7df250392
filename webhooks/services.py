"""Endpoints and the sending of their deliveries.

Endpoints: ``create``, ``update``, ``rotate_secret``, ``enable``, ``disable``, ``delete``;
an address is checked when it is saved (``check_url``: https, a public host) and again
before every request (``config.outbound``: its name may resolve elsewhere by then).

Sending: ``send_due`` claims due deliveries one at a time — a conditional update that
moves ``next_attempt_at`` to the end of the claim, so two workers never send the same try,
and a worker that dies leaves the delivery to be tried again once its claim runs out —
then POSTs each outside any transaction and records the answer. A 2xx answer is success;
anything else (another status, a redirect, no answer within ``WEBHOOK_TIMEOUT_SECONDS``)
is a failure, tried again after the next wait of ``WEBHOOK_RETRY_SCHEDULE`` (1, 5, 30
minutes, 1, 2, 4, 8 and 8 hours: about a day in all). The last failure marks the delivery
failed, disables the endpoint (its other pending deliveries fail with it) and tells its
owner."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from accounts.language import in_language_of
from accounts.models import User
from config import outbound
from config.errors import DomainError
from notifications import services as notify
from notifications.models import Kind
from webhooks import events as wire
from webhooks import reasons, signing
from webhooks.models import PING, DeliveryStatus, EventType, WebhookDelivery, WebhookEndpoint, new_secret

logger = logging.getLogger(__name__)

MAX_ENDPOINTS = 10
# How much of an answer is read, and how much of it is kept in the log.
READ_BYTES = 64 * 1024
KEPT_CHARACTERS = 2000
# A rotated secret goes on signing beside the new one this long.
ROTATION_GRACE = dt.timedelta(hours=24)
USER_AGENT = "Booking-Webhooks/1.0"


class WebhookError(DomainError):
    pass


# ---------------------------------------------------------------------------------------
# Endpoints
# ---------------------------------------------------------------------------------------


def may_own_endpoints(user: User) -> bool:
    return user.is_authenticated and (user.is_staff_member or user.is_coach)


def check_url(url: str) -> str:
    """The address as it will be requested, or ``WebhookError`` saying what is wrong: it
    must be https (http only where ``OUTBOUND_ALLOW_PRIVATE`` is on, for a local test
    server) and its host must resolve to public addresses only."""
    url = url.strip()
    scheme = urlsplit(url).scheme.lower()
    allowed = ("https", "http") if settings.OUTBOUND_ALLOW_PRIVATE else ("https",)
    if scheme not in allowed:
        raise WebhookError(_("Give an address that starts with https://."), code="bad_address", status=400)
    try:
        return outbound.check_address(url)
    except outbound.OutboundError as error:
        raise WebhookError(error.message, code=error.reason, status=400) from error


def _check_types(event_types: list[str]) -> list[str]:
    known = [kind for kind in EventType.values if kind in set(event_types)]
    if not known:
        raise WebhookError(_("Choose at least one event to send."), code="no_event_types", status=400)
    return known


def create(owner: User, *, url: str, description: str = "", event_types: list[str]) -> WebhookEndpoint:
    if not may_own_endpoints(owner):
        raise WebhookError(_("Only staff and coaches can add webhooks."), code="forbidden", status=403)
    if WebhookEndpoint.objects.filter(owner=owner).count() >= MAX_ENDPOINTS:
        raise WebhookError(
            _("You can have up to %(count)s webhooks; delete one first.") % {"count": MAX_ENDPOINTS},
            code="too_many",
            status=400,
        )
    return WebhookEndpoint.objects.create(
        owner=owner, url=check_url(url), description=description.strip(), event_types=_check_types(event_types)
    )


def update(endpoint: WebhookEndpoint, *, url: str, description: str, event_types: list[str]) -> WebhookEndpoint:
    if url != endpoint.url:
        endpoint.url = check_url(url)
    endpoint.description = description.strip()
    endpoint.event_types = _check_types(event_types)
    endpoint.save(update_fields=["url", "description", "event_types", "updated_at"])
    return endpoint


def rotate_secret(endpoint: WebhookEndpoint, *, now: dt.datetime | None = None) -> WebhookEndpoint:
    """A new secret; the one it replaces signs too for ``ROTATION_GRACE``."""
    now = now or timezone.now()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_until = now + ROTATION_GRACE
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_until", "updated_at"])
    return endpoint


def signing_secrets(endpoint: WebhookEndpoint, now: dt.datetime) -> list[str]:
    secrets = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_until and endpoint.previous_secret_until > now:
        secrets.append(endpoint.previous_secret)
    return secrets


def enable(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    endpoint.is_active = True
    endpoint.disabled_at = None
    endpoint.disabled_reason = ""
    endpoint.save(update_fields=["is_active", "disabled_at", "disabled_reason", "updated_at"])
    return endpoint


def disable(endpoint: WebhookEndpoint, *, reason: str, now: dt.datetime | None = None) -> bool:
    """Stop sending to ``endpoint``: its pending deliveries fail (each can be sent again
    once it is enabled). False when it was disabled already."""
    now = now or timezone.now()
    with transaction.atomic():
        changed = WebhookEndpoint.objects.filter(pk=endpoint.pk, is_active=True).update(
            is_active=False, disabled_at=now, disabled_reason=reason[:300], updated_at=now
        )
        WebhookDelivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.PENDING).update(
            status=DeliveryStatus.FAILED, next_attempt_at=None, error=_("The endpoint was disabled."), updated_at=now
        )
    endpoint.refresh_from_db()
    return bool(changed)


def delete(endpoint: WebhookEndpoint) -> None:
    endpoint.delete()


# ---------------------------------------------------------------------------------------
# Sending
# ---------------------------------------------------------------------------------------


def retry_schedule() -> list[dt.timedelta]:
    return [dt.timedelta(minutes=minutes) for minutes in settings.WEBHOOK_RETRY_SCHEDULE]


def _claim_length() -> dt.timedelta:
    # Longer than any one try can take (connect + answer), so a live worker keeps its claim.
    return dt.timedelta(seconds=3 * settings.WEBHOOK_TIMEOUT_SECONDS + 60)


def _claim_next(now: dt.datetime) -> WebhookDelivery | None:
    """The next due delivery of an active endpoint, claimed for this worker."""
    while True:
        candidate = (
            WebhookDelivery.objects.filter(
                status=DeliveryStatus.PENDING, next_attempt_at__lte=now, endpoint__is_active=True
            )
            .order_by("next_attempt_at", "pk")
            .values_list("pk", "next_attempt_at")
            .first()
        )
        if candidate is None:
            return None
        pk, due_at = candidate
        claimed = WebhookDelivery.objects.filter(pk=pk, status=DeliveryStatus.PENDING, next_attempt_at=due_at).update(
            next_attempt_at=now + _claim_length(), updated_at=now
        )
        if claimed:
            return WebhookDelivery.objects.select_related("endpoint__owner").get(pk=pk)
        # Another worker took it first: look again.


def send_soon() -> None:
    """Hand due deliveries to a worker now (after a commit); the every-minute run sends
    them otherwise."""
    try:
        async_task("webhooks.tasks.send_due", task_name="send webhooks")
    except Exception:
        logger.exception("Could not queue the webhook task; the scheduled run will send.")


def send_due(*, now: dt.datetime | None = None, budget: float = 40.0, limit: int = 500) -> int:
    """Send the due deliveries, one claim at a time, until none is due, ``limit`` were
    sent or ``budget`` seconds have passed (under the worker's timeout). Returns how many
    were tried."""
    started = time.monotonic()
    tried = 0
    while tried < limit and time.monotonic() - started < budget:
        at = now or timezone.now()
        delivery = _claim_next(at)
        if delivery is None:
            break
        # What went wrong is kept in words for the owner's page: in the owner's language.
        with in_language_of(delivery.endpoint.owner):
            attempt(delivery, now=at)
        tried += 1
    return tried


def body_of(delivery: WebhookDelivery) -> str:
    """The exact text sent (and signed): compact JSON, keys in a stable order."""
    return json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def attempt(delivery: WebhookDelivery, *, now: dt.datetime | None = None) -> WebhookDelivery:
    """One try of ``delivery`` (claimed by the caller, outside any transaction): POST it,
    signed now, and record what came back — success, the next try, or the last failure."""
    now = now or timezone.now()
    endpoint = delivery.endpoint
    body = body_of(delivery)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **signing.headers(
            signing_secrets(endpoint, now), msg_id=delivery.message_id, timestamp=int(now.timestamp()), body=body
        ),
    }
    status, text, error = None, "", ""
    try:
        url = check_url(endpoint.url)
        answer = outbound.post(
            url,
            body=body.encode(),
            headers=headers,
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
            max_bytes=READ_BYTES,
        )
    except (WebhookError, outbound.OutboundError) as refused:
        error = refused.message
    else:
        status = answer.status
        text = answer.body.decode("utf-8", errors="replace")[:KEPT_CHARACTERS]
        if 300 <= status < 400:
            error = _("The endpoint answered with a redirect (%(status)s), which is not followed.") % {"status": status}
        elif not 200 <= status < 300:
            error = _("The endpoint answered %(status)s.") % {"status": status}
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.request_headers = headers
    delivery.response_status = status
    delivery.response_body = text
    delivery.error = error[:300]
    gave_up = False
    if not error:
        delivery.status = DeliveryStatus.SUCCEEDED
        delivery.next_attempt_at = None
    elif delivery.event_type == PING:
        # A test message is tried once: its owner is looking at the answer.
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
    else:
        schedule = retry_schedule()
        if delivery.attempts <= len(schedule):
            delivery.status = DeliveryStatus.PENDING
            delivery.next_attempt_at = now + schedule[delivery.attempts - 1]
        else:
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = None
            gave_up = True
    delivery.save(
        update_fields=[
            "attempts",
            "last_attempt_at",
            "request_headers",
            "response_status",
            "response_body",
            "error",
            "status",
            "next_attempt_at",
            "updated_at",
        ]
    )
    if gave_up:
        _give_up_on(endpoint, delivery, now=now)
    return delivery


def _give_up_on(endpoint: WebhookEndpoint, delivery: WebhookDelivery, *, now: dt.datetime) -> None:
    reason = reasons.DELIVERIES_FAILED.format(error=delivery.error)
    if not disable(endpoint, reason=reason, now=now):
        return
    logger.warning("Webhook endpoint %s disabled after delivery %s failed.", endpoint.pk, delivery.pk)
    notify.tell(
        endpoint.owner,
        Kind.WEBHOOK_DISABLED,
        key=f"webhook-disabled:{endpoint.pk}:{now:%Y%m%dT%H%M%S}",
        extra={
            "endpoint_url": endpoint.url,
            "reason": delivery.error,
            "webhooks_url": settings.SITE_URL + "/webhooks/",
        },
        now=now,
    )


def send_again(delivery: WebhookDelivery, *, now: dt.datetime | None = None) -> WebhookDelivery:
    """A finished delivery (succeeded or failed) sent again, as the same message (same
    ``webhook-id``), at once, then by the retry schedule like a new one. Refused while it
    is still pending, or while its endpoint is disabled."""
    now = now or timezone.now()
    if not delivery.endpoint.is_active:
        raise WebhookError(_("Enable this webhook first."), code="endpoint_disabled", status=409)
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery.pk)
        .exclude(status=DeliveryStatus.PENDING)
        .update(
            status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now + _claim_length(), error="", updated_at=now
        )
    )
    if not claimed:
        raise WebhookError(_("This delivery is still being tried."), code="pending", status=409)
    delivery = WebhookDelivery.objects.select_related("endpoint__owner").get(pk=delivery.pk)
    return attempt(delivery, now=now)


def queue_again(deliveries) -> int:
    """``send_again`` for many (the admin's action): queued due now, sent by the task.
    Pending ones and those of disabled endpoints are left alone; returns how many."""
    now = timezone.now()
    count = (
        WebhookDelivery.objects.filter(pk__in=[delivery.pk for delivery in deliveries], endpoint__is_active=True)
        .exclude(status=DeliveryStatus.PENDING)
        .update(status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now, error="", updated_at=now)
    )
    return count


def ping(endpoint: WebhookEndpoint, *, now: dt.datetime | None = None) -> WebhookDelivery:
    """A test message (``webhook.test``) sent at once, tried once, even to a disabled
    endpoint (to check it before enabling it)."""
    now = now or timezone.now()
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_type=PING,
        message_id=f"msg_test_{uuid.uuid4().hex}",
        payload=wire.ping_payload(endpoint.pk, now),
        next_attempt_at=now + _claim_length(),
    )
    delivery.endpoint = endpoint
    return attempt(delivery, now=now)


def prune(*, now: dt.datetime | None = None) -> int:
    """Forget finished deliveries older than ``WEBHOOK_LOG_DAYS``."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.WEBHOOK_LOG_DAYS)
    deleted, _by_model = (
        WebhookDelivery.objects.filter(created_at__lt=cutoff).exclude(status=DeliveryStatus.PENDING).delete()
    )
    return deleted
