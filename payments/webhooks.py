"""Receiving a gateway's webhook: verify it, store it once, hand it to ``payments.events``.

A forged, stale or unreadable event is refused (``InvalidWebhook``, 400) before anything is
stored. An event already stored (Stripe delivers at least once, and retries) is answered 200
and does nothing. Storing and handling happen in one transaction: when handling fails, nothing
is kept and the gateway's retry gets another chance.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from payments import events
from payments.gateways import get_gateway
from payments.models import GatewayEvent


def receive(backend: str, body: bytes, headers: Mapping[str, str]) -> str:
    """Verify and apply one webhook delivery. Returns "processed", "waiting" (kept for a
    later event to complete) or "duplicate"; raises ``InvalidWebhook`` when not genuine."""
    event = get_gateway(backend).parse_webhook(body, headers)
    return record_and_handle(backend, event)


def record_and_handle(backend: str, event: dict[str, Any]) -> str:
    with transaction.atomic():
        try:
            with transaction.atomic():
                stored = GatewayEvent.objects.create(
                    backend=backend, event_id=event["id"], type=str(event["type"])[:100], payload=event
                )
        except IntegrityError:
            return "duplicate"
        if events.handle(event, backend) == events.Handled.LATER:
            return "waiting"
        stored.processed_at = timezone.now()
        stored.save(update_fields=["processed_at"])
        return "processed"
