"""The payment gateways, chosen like Django's EMAIL_BACKEND: ``settings.PAYMENT_BACKEND`` is
"stripe" (``StripeGateway``, the real ``stripe`` library) or "local" (``LocalGateway``, no
network, for development and tests).

Every gateway offers:

- ``create_checkout(payment, *, success_url, cancel_url) -> (checkout_id, url, expires_at)``
- ``expire_checkout(payment)``: our hold ran out before the gateway's session did
- ``capture(payment)`` / ``cancel_authorisation(payment)``: for ``capture_manually`` payments
- ``refund(refund) -> (gateway_refund_id, status)``: idempotency key ``refund-<pk>``
- ``parse_webhook(body, headers) -> dict``: the verified event; ``InvalidWebhook`` otherwise

The gateway only talks to the gateway: it never writes our rows (the caller's service does,
and the webhook, through ``payments.events``, is the truth about a payment). A refusal or an
unreachable gateway is a ``PaymentGatewayError`` (a DomainError), never a crash.

Stripe's Checkout Session must live at least 30 minutes (``expires_at`` between 30 minutes
and 24 hours after creation), while our hold is ``PAYMENT_HOLD_MINUTES`` (15 by default).
So the session is created with ``max(hold, 31 minutes)`` and the payment's own
``expires_at`` is the hold: when it passes, the caller expires the session with
``expire_checkout`` (and a ``checkout.session.expired`` event follows).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import DomainError

if TYPE_CHECKING:
    from payments.models import Payment, Refund

logger = logging.getLogger(__name__)

# Stripe refuses a Checkout Session expiring sooner than 30 minutes after its creation; one
# minute more absorbs the clock difference and the request's own time.
STRIPE_MIN_SESSION_MINUTES = 31
# How old a webhook signature's timestamp may be (seconds), against replays.
WEBHOOK_TOLERANCE_SECONDS = 300


class PaymentGatewayError(DomainError):
    """The gateway refused the request or could not be reached."""

    status = 502

    def __init__(self, message: str, *, code: str = "payment_gateway_error", status: int | None = None) -> None:
        super().__init__(message, code=code, status=status)


class InvalidWebhook(DomainError):
    """A webhook whose signature is missing, forged or too old, or whose body is not an event."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message, code="invalid_webhook")


class Gateway(Protocol):
    backend: str

    def create_checkout(
        self, payment: Payment, *, success_url: str, cancel_url: str
    ) -> tuple[str, str, dt.datetime]: ...

    def expire_checkout(self, payment: Payment) -> None: ...

    def capture(self, payment: Payment) -> None: ...

    def cancel_authorisation(self, payment: Payment) -> None: ...

    def refund(self, refund: Refund) -> tuple[str, str]: ...

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]: ...


def hold_expiry(now: dt.datetime | None = None) -> dt.datetime:
    """When a payment started now stops holding its place."""
    return (now or timezone.now()) + dt.timedelta(minutes=settings.PAYMENT_HOLD_MINUTES)


def product_name(payment: Payment) -> str:
    """The line item's name the payer sees on the checkout page."""
    if payment.package_id:
        return payment.package.title
    if payment.programme_id:
        return payment.programme.title
    if payment.series_id:
        return _("%(title)s: %(count)s sessions of a series") % {
            "title": payment.series.session_type.title,
            "count": payment.shares.count(),
        }
    booking = payment.booking
    session_type = getattr(booking, "session_type", None)
    title = getattr(session_type, "title", "")
    return title or _("Session booking")


class StripeGateway:
    """Stripe Checkout through the real ``stripe`` library (``StripeClient``)."""

    backend = "stripe"

    def __init__(
        self, *, secret_key: str | None = None, webhook_secret: str | None = None, api_base: str | None = None
    ) -> None:
        import stripe

        self._stripe = stripe
        self.secret_key = secret_key if secret_key is not None else settings.STRIPE_SECRET_KEY
        self.webhook_secret = webhook_secret if webhook_secret is not None else settings.STRIPE_WEBHOOK_SECRET
        base = api_base if api_base is not None else settings.STRIPE_API_BASE
        self.client = stripe.StripeClient(
            self.secret_key or "sk_missing",
            base_addresses={"api": base.rstrip("/")} if base else None,
            max_network_retries=2,
        )

    # Calls --------------------------------------------------------------------------

    def _call(self, what: str, func, *args, **kwargs):
        stripe = self._stripe
        if not self.secret_key:
            raise PaymentGatewayError(_("Online payment is not configured."), code="payment_gateway_unconfigured")
        try:
            return func(*args, **kwargs)
        except stripe.InvalidRequestError as exc:
            logger.warning("Stripe refused %s: %s", what, exc.user_message or exc)
            raise PaymentGatewayError(
                _("The payment provider refused the request: %(reason)s")
                % {"reason": exc.user_message or _("invalid request")},
                code="payment_gateway_refused",
                status=409,
            ) from exc
        except stripe.CardError as exc:
            raise PaymentGatewayError(
                exc.user_message or _("The card was declined."), code="payment_declined", status=402
            ) from exc
        except stripe.StripeError as exc:
            logger.warning("Stripe failed on %s: %r", what, exc)
            raise PaymentGatewayError(
                _("The payment provider could not be reached. Please try again in a moment."),
                code="payment_gateway_unavailable",
                status=503,
            ) from exc

    def create_checkout(self, payment: Payment, *, success_url: str, cancel_url: str) -> tuple[str, str, dt.datetime]:
        now = timezone.now()
        # A booking's payment lives as long as its hold; a purchase, Stripe's longest (24 h).
        expires_at = payment.expires_at or (now + dt.timedelta(hours=23, minutes=59))
        session_expires = min(
            max(expires_at, now + dt.timedelta(minutes=STRIPE_MIN_SESSION_MINUTES)),
            now + dt.timedelta(hours=23, minutes=59),
        )
        metadata = {"payment_id": str(payment.pk)}
        payment_intent_data: dict[str, Any] = {"metadata": metadata}
        if payment.capture_manually:
            payment_intent_data["capture_method"] = "manual"
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": payment.currency.lower(),
                        "unit_amount": payment.amount_minor,
                        "product_data": {"name": product_name(payment)},
                    },
                }
            ],
            "client_reference_id": str(payment.pk),
            "metadata": metadata,
            "payment_intent_data": payment_intent_data,
            "success_url": success_url,
            "cancel_url": cancel_url,
            "expires_at": int(session_expires.timestamp()),
        }
        email = getattr(payment.client, "email", "")
        if email:
            params["customer_email"] = email
        session = self._call(
            "checkout",
            self.client.v1.checkout.sessions.create,
            params=params,
            options={"idempotency_key": f"checkout-{payment.pk}"},
        )
        return session.id, session.url, expires_at

    def expire_checkout(self, payment: Payment) -> None:
        """Close the checkout session at once (our hold ended before Stripe's 30 minutes did).
        A session already completed or expired is left as it is: the webhook tells what happened."""
        if not payment.checkout_id:
            return
        try:
            self._call(
                "expire",
                self.client.v1.checkout.sessions.expire,
                payment.checkout_id,
                options={"idempotency_key": f"expire-{payment.pk}"},
            )
        except PaymentGatewayError as exc:
            if exc.code != "payment_gateway_refused":
                raise
            # Stripe only expires an open session: a completed one is reported by its webhook.
            logger.info("Checkout %s was not open any more: %s", payment.checkout_id, exc.message)

    def capture(self, payment: Payment) -> None:
        self._call(
            "capture",
            self.client.v1.payment_intents.capture,
            self._intent(payment),
            options={"idempotency_key": f"capture-{payment.pk}"},
        )

    def cancel_authorisation(self, payment: Payment) -> None:
        self._call(
            "cancel",
            self.client.v1.payment_intents.cancel,
            self._intent(payment),
            params={"cancellation_reason": "requested_by_customer"},
            options={"idempotency_key": f"cancel-{payment.pk}"},
        )

    def refund(self, refund: Refund) -> tuple[str, str]:
        payment = refund.payment
        result = self._call(
            "refund",
            self.client.v1.refunds.create,
            params={
                "payment_intent": self._intent(payment),
                "amount": refund.amount_minor,
                "metadata": {"payment_id": str(payment.pk), "refund_id": str(refund.pk)},
            },
            options={"idempotency_key": f"refund-{refund.pk}"},
        )
        return result.id, result.status

    @staticmethod
    def _intent(payment: Payment) -> str:
        if not payment.payment_intent_id:
            raise PaymentGatewayError(
                _("This payment has not been completed at the payment provider yet."),
                code="payment_not_completed",
                status=409,
            )
        return payment.payment_intent_id

    # Webhooks -----------------------------------------------------------------------

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        stripe = self._stripe
        signature = headers.get("Stripe-Signature") or headers.get("stripe-signature")
        if not self.webhook_secret:
            raise InvalidWebhook(_("Webhooks are not configured."))
        if not signature:
            raise InvalidWebhook(_("The Stripe-Signature header is missing."))
        try:
            stripe.Webhook.construct_event(body, signature, self.webhook_secret, tolerance=WEBHOOK_TOLERANCE_SECONDS)
        except stripe.SignatureVerificationError as exc:
            raise InvalidWebhook(_("The webhook signature is not valid or too old.")) from exc
        except ValueError as exc:  # not JSON
            raise InvalidWebhook(_("The webhook body is not a JSON event.")) from exc
        event = json.loads(body)
        if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
            raise InvalidWebhook(_("The webhook body is not a JSON event."))
        return event


class LocalGateway:
    """No network, no keys: for ``make run``, demos and tests. A checkout is our own card
    page (``payments.local``: success, decline, an extra authentication step), which fires
    the same events as Stripe's webhook through the same code (``payments.webhooks``)."""

    backend = "local"

    def create_checkout(self, payment: Payment, *, success_url: str, cancel_url: str) -> tuple[str, str, dt.datetime]:
        from urllib.parse import urlsplit

        from django.urls import reverse

        checkout_id = f"cs_local_{uuid.uuid4().hex}"
        origin = urlsplit(success_url)
        base = f"{origin.scheme}://{origin.netloc}" if origin.scheme else ""
        expires_at = payment.expires_at or (timezone.now() + dt.timedelta(hours=24))
        return checkout_id, base + reverse("payments:local_checkout", args=[checkout_id]), expires_at

    def expire_checkout(self, payment: Payment) -> None:
        return None

    def capture(self, payment: Payment) -> None:
        return None

    def cancel_authorisation(self, payment: Payment) -> None:
        return None

    def refund(self, refund: Refund) -> tuple[str, str]:
        return f"local_re_{refund.pk}", "succeeded"

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        raise InvalidWebhook(_("The local gateway receives no webhooks."))


@lru_cache(maxsize=8)
def _stripe_gateway(secret_key: str, webhook_secret: str, api_base: str) -> StripeGateway:
    return StripeGateway(secret_key=secret_key, webhook_secret=webhook_secret, api_base=api_base)


def get_gateway(backend: str | None = None) -> Gateway:
    """The gateway for ``backend`` (a payment's own) or the configured one."""
    name = backend or settings.PAYMENT_BACKEND
    if name == "stripe":
        return _stripe_gateway(settings.STRIPE_SECRET_KEY, settings.STRIPE_WEBHOOK_SECRET, settings.STRIPE_API_BASE)
    if name == "local":
        return LocalGateway()
    raise ValueError(f"Unknown payment backend {name!r}.")
