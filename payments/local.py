"""The local test gateway's events: what Stripe would send for a card paid, declined, or
failing its authentication step — built here and handed to the same code as a genuine
webhook (``payments.webhooks.record_and_handle``), so a demo walks the real path.

Test cards (Stripe's own numbers, so people who know them recognise them):

- ``4242 4242 4242 4242`` is paid (authorised only, for a request);
- ``4000 0000 0000 0002`` is declined;
- ``4000 0027 6000 3184`` asks for an extra authentication step (3-D Secure), which the
  payer completes or fails.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from django.utils.translation import gettext as _

from payments.models import Backend, Payment
from payments.webhooks import record_and_handle

CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000002"
CARD_AUTHENTICATE = "4000002760003184"
TEST_CARDS = (CARD_OK, CARD_DECLINED, CARD_AUTHENTICATE)


def digits(card: str) -> str:
    return "".join(ch for ch in (card or "") if ch.isdigit())


def _intent_id(payment: Payment) -> str:
    return payment.payment_intent_id or f"pi_local_{payment.pk}"


def _event(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"evt_local_{uuid.uuid4().hex}",
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "data": {"object": obj},
    }


def complete(payment: Payment) -> str:
    """The payer's card went through: ``checkout.session.completed``."""
    return record_and_handle(
        Backend.LOCAL,
        _event(
            "checkout.session.completed",
            {
                "id": payment.checkout_id,
                "object": "checkout.session",
                "status": "complete",
                "payment_status": "unpaid" if payment.capture_manually else "paid",
                "payment_intent": _intent_id(payment),
                "amount_total": payment.amount_minor,
                "currency": payment.currency.lower(),
                "client_reference_id": str(payment.pk),
                "metadata": {"payment_id": str(payment.pk)},
            },
        ),
    )


def fail(payment: Payment, message: str) -> str:
    """The card was refused: ``payment_intent.payment_failed`` (the checkout stays open)."""
    return record_and_handle(
        Backend.LOCAL,
        _event(
            "payment_intent.payment_failed",
            {
                "id": _intent_id(payment),
                "object": "payment_intent",
                "metadata": {"payment_id": str(payment.pk)},
                "last_payment_error": {"code": "card_declined", "message": message},
            },
        ),
    )


def expire(payment: Payment) -> str:
    """The checkout ran out: ``checkout.session.expired``."""
    return record_and_handle(
        Backend.LOCAL,
        _event(
            "checkout.session.expired",
            {
                "id": payment.checkout_id,
                "object": "checkout.session",
                "status": "expired",
                "metadata": {"payment_id": str(payment.pk)},
            },
        ),
    )


def declined_message() -> str:
    return _("Your card was declined. Try another card.")


def authentication_failed_message() -> str:
    return _("The card's authentication failed. Try again or use another card.")
