"""A small stand-in for Stripe's API on 127.0.0.1, for the real ``stripe`` library to talk to.

It answers the calls ``payments.gateways.StripeGateway`` makes, as Stripe does:

- ``POST /v1/checkout/sessions``: a Checkout Session (``cs_test_…``, status "open"), checking
  ``mode``, the one line item and ``expires_at`` (30 minutes to 24 hours from now, Stripe's rule);
- ``POST /v1/checkout/sessions/{id}/expire``: only an open session;
- ``POST /v1/payment_intents/{id}/capture`` and ``…/cancel``: only an intent waiting for capture;
- ``POST /v1/refunds``: at most what is left of the intent's charge.

Requests need ``Authorization: Bearer <secret_key>`` (401 otherwise). A repeated
``Idempotency-Key`` gets the first answer again (header ``Idempotent-Replayed: true``), as Stripe
does. Errors have Stripe's shape ``{"error": {"type", "code", "message", "param"}}``. Every
request is kept in ``requests`` (with its headers and decoded form). Tests script failures with
``fail_next`` and play the payer with ``complete_session`` and ``decline_card`` (and someone at
Stripe's dashboard with ``refund_from_dashboard``).

``event()`` and ``signed_webhook()`` build a webhook delivery: the JSON body and the
``Stripe-Signature`` header ``t=<time>,v1=<HMAC-SHA256(secret, "<time>.<body>")>``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from config.tests.local_http import serve

SESSIONS = re.compile(r"^/v1/checkout/sessions$")
EXPIRE = re.compile(r"^/v1/checkout/sessions/(?P<id>[^/]+)/expire$")
INTENT_ACTION = re.compile(r"^/v1/payment_intents/(?P<id>[^/]+)/(?P<action>capture|cancel)$")
REFUNDS = re.compile(r"^/v1/refunds$")


def _id(prefix: str) -> str:
    return f"{prefix}_test_{uuid.uuid4().hex[:24]}"


def decode_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """``a[b][0][c]=1`` → ``{"a": {"b": [{"c": "1"}]}}`` (Stripe's form encoding)."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node: Any = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            nxt_is_index = not last and parts[i + 1].isdigit()
            if isinstance(node, list):
                index = int(part)
                while len(node) <= index:
                    node.append(None)
                if last:
                    node[index] = value
                else:
                    if node[index] is None:
                        node[index] = [] if nxt_is_index else {}
                    node = node[index]
            else:
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, [] if nxt_is_index else {})
    return root


def stripe_error(status: int, message: str, *, type_: str = "invalid_request_error", code: str = "", param: str = ""):
    error: dict[str, Any] = {"type": type_, "message": message}
    if code:
        error["code"] = code
    if param:
        error["param"] = param
    return status, {"error": error}


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, Any]
    authorized: bool

    @property
    def idempotency_key(self) -> str | None:
        for name, value in self.headers.items():
            if name.lower() == "idempotency-key":
                return value
        return None


@dataclass
class FakeStripe:
    secret_key: str = "sk_test_fake_" + "0" * 24
    requests: list[ReceivedRequest] = field(default_factory=list)
    sessions: dict[str, dict] = field(default_factory=dict)
    intents: dict[str, dict] = field(default_factory=dict)
    refunds: dict[str, dict] = field(default_factory=dict)

    def __post_init__(self):
        self._script: deque[tuple[int, dict]] = deque()
        self._replays: dict[tuple[str, str], tuple[int, dict]] = {}
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # Running ------------------------------------------------------------------------

    def start(self) -> FakeStripe:
        self._server, self._thread = serve(self._handle, name="fake-stripe")
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # Scripting ----------------------------------------------------------------------

    def fail_next(
        self, status: int, message: str = "Something went wrong.", *, type_: str = "", code: str = ""
    ) -> None:
        """The next authorised request gets this Stripe error."""
        kind = type_ or ("api_error" if status >= 500 else "invalid_request_error")
        with self._lock:
            self._script.append(stripe_error(status, message, type_=kind, code=code))

    def requests_to(self, path: str) -> list[ReceivedRequest]:
        return [r for r in self.requests if r.path == path]

    def complete_session(self, session_id: str) -> dict:
        """The payer pays: the session completes with its payment intent (a new one, or the
        one a declined attempt left), waiting for capture when the session asked for manual
        capture. Returns the session."""
        with self._lock:
            session = self.sessions[session_id]
            manual = session["_capture_method"] == "manual"
            intent = {
                "id": session.get("payment_intent") or _id("pi"),
                "object": "payment_intent",
                "amount": session["amount_total"],
                "amount_received": 0 if manual else session["amount_total"],
                "currency": session["currency"],
                "capture_method": "manual" if manual else "automatic_async",
                "status": "requires_capture" if manual else "succeeded",
                "latest_charge": _id("ch"),
                "metadata": dict(session["_intent_metadata"]),
                "created": int(time.time()),
                "livemode": False,
                "_refunded": 0,
            }
            self.intents[intent["id"]] = intent
            session.update(
                status="complete", payment_status="unpaid" if manual else "paid", payment_intent=intent["id"]
            )
            return self.public(session)

    def decline_card(self, session_id: str, message: str = "Your card was declined.") -> dict:
        """The payer's card is declined: the session stays open, its payment intent waits for
        another payment method. Returns the intent as ``payment_intent.payment_failed`` shows it."""
        with self._lock:
            session = self.sessions[session_id]
            intent_id = session.get("payment_intent") or _id("pi")
            intent = {
                "id": intent_id,
                "object": "payment_intent",
                "amount": session["amount_total"],
                "amount_received": 0,
                "currency": session["currency"],
                "status": "requires_payment_method",
                "last_payment_error": {"type": "card_error", "code": "card_declined", "message": message},
                "latest_charge": None,
                "metadata": dict(session["_intent_metadata"]),
                "created": int(time.time()),
                "livemode": False,
                "_refunded": 0,
            }
            self.intents[intent_id] = intent
            session["payment_intent"] = intent_id
            return self.public(intent)

    def refund_from_dashboard(self, intent_id: str, amount: int | None = None) -> dict:
        """Someone refunds at Stripe itself (its dashboard), not through us. Returns the charge
        as ``charge.refunded`` shows it."""
        with self._lock:
            intent = self.intents[intent_id]
            intent["_refunded"] += intent["amount_received"] - intent["_refunded"] if amount is None else amount
            return self.charge_for(intent_id)

    def posts(self, path: str) -> list[ReceivedRequest]:
        """The authorised POSTs received at ``path``."""
        return [r for r in self.requests if r.path == path and r.method == "POST" and r.authorized]

    def charge_for(self, intent_id: str) -> dict:
        """The intent's charge as Stripe shows it in ``charge.*`` events (after refunds)."""
        intent = self.intents[intent_id]
        return {
            "id": intent["latest_charge"],
            "object": "charge",
            "amount": intent["amount"],
            "amount_captured": intent["amount_received"],
            "amount_refunded": intent["_refunded"],
            "captured": intent["amount_received"] > 0,
            "currency": intent["currency"],
            "payment_intent": intent_id,
            "paid": True,
            "refunded": intent["_refunded"] >= intent["amount"],
            "refunds": {
                "object": "list",
                "data": [r for r in self.refunds.values() if r["payment_intent"] == intent_id],
            },
            "status": "succeeded",
            "metadata": {},
            "created": intent["created"],
            "livemode": False,
        }

    @staticmethod
    def public(obj: dict) -> dict:
        return {k: v for k, v in obj.items() if not k.startswith("_")}

    # Answering ----------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length).decode("utf-8") if length else ""
        form = decode_form(parse_qsl(raw, keep_blank_values=True))
        authorized = handler.headers.get("Authorization", "") == f"Bearer {self.secret_key}"
        received = ReceivedRequest(handler.command, handler.path, dict(handler.headers.items()), form, authorized)
        with self._lock:
            self.requests.append(received)
            replayed = False
            key = received.idempotency_key
            if not authorized:
                status, body = stripe_error(401, "Invalid API Key provided: sk_test_****")
            elif key and (received.path, key) in self._replays:
                status, body = self._replays[(received.path, key)]
                replayed = True
            else:
                status, body = self._script.popleft() if self._script else self._answer(received)
                if key and status < 500:
                    self._replays[(received.path, key)] = (status, body)
        self._send(handler, status, body, replayed)

    def _answer(self, received: ReceivedRequest) -> tuple[int, dict]:
        if received.method != "POST":
            return stripe_error(404, f"Unrecognized request URL (GET: {received.path}).")
        if SESSIONS.match(received.path):
            return self._create_session(received.form)
        if match := EXPIRE.match(received.path):
            return self._expire_session(match["id"])
        if match := INTENT_ACTION.match(received.path):
            return self._intent_action(match["id"], match["action"])
        if REFUNDS.match(received.path):
            return self._create_refund(received.form)
        return stripe_error(404, f"Unrecognized request URL (POST: {received.path}).")

    def _create_session(self, form: dict[str, Any]) -> tuple[int, dict]:
        now = int(time.time())
        if form.get("mode") not in ("payment", "setup", "subscription"):
            return stripe_error(400, "Missing required param: mode.", code="parameter_missing", param="mode")
        items = form.get("line_items") or []
        if len(items) != 1 or not isinstance(items[0], dict) or "price_data" not in items[0]:
            return stripe_error(400, "Invalid line_items.", code="parameter_invalid", param="line_items")
        price = items[0]["price_data"]
        try:
            amount = int(price["unit_amount"]) * int(items[0].get("quantity", "1"))
        except (KeyError, ValueError):
            return stripe_error(400, "Invalid integer: unit_amount.", param="line_items[0][price_data][unit_amount]")
        if not (price.get("product_data") or {}).get("name"):
            return stripe_error(400, "Missing required param: product_data[name].", code="parameter_missing")
        expires_at = int(form.get("expires_at") or now + 24 * 3600)
        if expires_at < now + 30 * 60 or expires_at > now + 24 * 3600:
            return stripe_error(
                400,
                "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.",
                code="parameter_invalid_integer",
                param="expires_at",
            )
        intent_data = form.get("payment_intent_data") or {}
        session_id = _id("cs")
        session = {
            "id": session_id,
            "object": "checkout.session",
            "amount_subtotal": amount,
            "amount_total": amount,
            "cancel_url": form.get("cancel_url"),
            "client_reference_id": form.get("client_reference_id"),
            "created": now,
            "currency": price.get("currency"),
            "customer_email": form.get("customer_email"),
            "expires_at": expires_at,
            "livemode": False,
            "metadata": form.get("metadata") or {},
            "mode": form["mode"],
            "payment_intent": None,
            "payment_status": "unpaid",
            "status": "open",
            "success_url": form.get("success_url"),
            "url": f"https://checkout.stripe.com/c/pay/{session_id}",
            "_capture_method": intent_data.get("capture_method", "automatic_async"),
            "_intent_metadata": intent_data.get("metadata") or {},
        }
        self.sessions[session_id] = session
        return 200, self.public(session)

    def _expire_session(self, session_id: str) -> tuple[int, dict]:
        session = self.sessions.get(session_id)
        if session is None:
            return stripe_error(
                404, f"No such checkout.session: '{session_id}'", code="resource_missing", param="session"
            )
        if session["status"] != "open":
            return stripe_error(
                400, 'Only Checkout Sessions with a status in ["open"] can be expired.', code="checkout_session_expired"
            )
        session["status"] = "expired"
        return 200, self.public(session)

    def _intent_action(self, intent_id: str, action: str) -> tuple[int, dict]:
        intent = self.intents.get(intent_id)
        if intent is None:
            return stripe_error(404, f"No such payment_intent: '{intent_id}'", code="resource_missing", param="intent")
        if intent["status"] != "requires_capture":
            return stripe_error(
                400,
                f"This PaymentIntent could not be {action}d because it has a status of {intent['status']}.",
                code="payment_intent_unexpected_state",
            )
        if action == "capture":
            intent.update(status="succeeded", amount_received=intent["amount"])
        else:
            intent.update(status="canceled", cancellation_reason="requested_by_customer")
        return 200, self.public(intent)

    def _create_refund(self, form: dict[str, Any]) -> tuple[int, dict]:
        intent = self.intents.get(form.get("payment_intent") or "")
        if intent is None:
            return stripe_error(404, f"No such payment_intent: '{form.get('payment_intent')}'", code="resource_missing")
        left = intent["amount_received"] - intent["_refunded"]
        amount = int(form.get("amount") or left)
        if amount > left or amount < 1:
            return stripe_error(
                400,
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
                code="amount_too_large",
                param="amount",
            )
        intent["_refunded"] += amount
        refund = {
            "id": _id("re"),
            "object": "refund",
            "amount": amount,
            "charge": intent["latest_charge"],
            "currency": intent["currency"],
            "metadata": form.get("metadata") or {},
            "payment_intent": intent["id"],
            "status": "succeeded",
            "created": int(time.time()),
        }
        self.refunds[refund["id"]] = refund
        return 200, refund

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: dict, replayed: bool) -> None:
        payload = json.dumps(body).encode("utf-8")
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(payload)))
            handler.send_header("Request-Id", "req_" + uuid.uuid4().hex[:14])
            if replayed:
                handler.send_header("Idempotent-Replayed", "true")
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass


# Webhooks -----------------------------------------------------------------------------


def event(type_: str, obj: dict, *, event_id: str | None = None, created: int | None = None) -> dict:
    """A Stripe event around ``obj`` (a snapshot payload, the API version of stripe 16.1)."""
    return {
        "id": event_id or _id("evt"),
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": created or int(time.time()),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type_,
    }


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header for ``body``."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.{body.decode()}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def signed_webhook(payload: dict, secret: str, *, timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a webhook delivery of ``payload`` signed with ``secret``."""
    body = json.dumps(payload).encode("utf-8")
    return body, {"Stripe-Signature": sign(body, secret, timestamp), "Content-Type": "application/json"}
