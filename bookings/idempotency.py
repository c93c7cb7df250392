"""Safe retries: the API's ``Idempotency-Key`` header and the wizard's one-time form tokens.

A booking whose response was lost (a worker killed after the commit, a dropped connection)
is committed while the client saw an error; retried without a key it meets its own booking
and gets a 409. With a key, the retry gets the first answer again.

**The API.** Every unsafe operation (POST, PUT, PATCH, DELETE) under ``/api/v1/`` accepts
``Idempotency-Key`` (1–255 printable ASCII characters, else 400 ``invalid_idempotency_key``).
All of them, not only the booking ones: creating a session type or rotating a feed is just
as unsafe to repeat, and a client gets one rule instead of a list. ``install(api)`` adds two
ninja decorators to the whole API, so no endpoint carries any of this:

- after authentication and input validation (ninja's "operation" decorators run there),
  ``claim`` inserts an ``IdempotencyRecord`` for (user, key) in its own transaction,
  before the endpoint's work. The unique constraint decides between two requests with the
  same key on SQLite and PostgreSQL alike: the loser finds the row and answers from it —
  the stored response again (``Idempotent-Replayed: true``), 409 ``idempotency_in_progress``
  while the first still runs, or 422 ``idempotency_key_reused`` when the method, path or
  body differ. As in Stripe's design, a request refused before the endpoint starts (not
  signed in, invalid input) stores nothing and may be retried with the same key;
- around the whole operation (a "view" decorator), the response the client gets is stored
  on the claimed row when it is a success or a 4xx; after a 5xx or an exception the claim is
  deleted, so a retry runs again.

A middleware was the other way: it would see responses too, but it runs before ninja's
authentication, so it would have to repeat the bearer-token lookup and the CSRF check of
the session cookie, and it would store refusals of requests that never started.

A claim whose request died before storing its answer (the process killed) is taken over
after ``CLAIM_TIMEOUT``; one that died between the booking's commit and the stored answer
(milliseconds) then meets its own booking, as without a key. Records are kept for
``RETENTION`` (24 hours) from their claim; an expired one counts as absent and the
``prune_idempotency_records`` task deletes them every hour.

**The wizard.** The confirm forms (book, take a seat, reschedule) carry a random token
(``new_form_token``); ``claim_form_submission`` claims it with the same records, so a second
submit of the same form (a double click, back and submit again, a retry after a lost
response) finds the booking the first one made — waiting for it a few seconds if the first is
still running — and never books twice or says the slot is taken.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import inspect
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.http.request import RawPostDataException
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from bookings.models import IdempotencyRecord
from config.errors import DomainError

KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
RETENTION = dt.timedelta(hours=24)
# A claim without an answer this old belongs to a request that died (the web workers are
# killed well before: gunicorn's timeout is 30 s); a retry may then take the key over.
CLAIM_TIMEOUT = dt.timedelta(minutes=2)
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
KEY_SHAPE = re.compile(r"[\x20-\x7e]{1,255}")
FORM_TOKEN_FIELD = "submit_token"
FORM_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{32,64}")
# The wizard's token rows live beside the API's keys; a prefix API keys can't collide with
# by accident (and if one did, the path in the request hash still tells them apart).
FORM_KEY_PREFIX = "form:"
FORM_WAIT_SECONDS = 5.0
FORM_POLL_SECONDS = 0.1

HEADER_PARAMETER: dict[str, Any] = {
    "name": KEY_HEADER,
    "in": "header",
    "required": False,
    "description": (
        "Makes a retry safe: send a unique value (a UUID) with a change, and send the same value "
        "again if you never got the answer. For 24 hours a repeat gets the first answer again "
        f"(with `{REPLAYED_HEADER}: true`) instead of doing the change twice; the same key with "
        "another method, path or body is a 422 `idempotency_key_reused`, and a repeat while the "
        "first is still running a 409 `idempotency_in_progress`. Successes and 4xx answers are "
        "kept; a 5xx is not, so that request can be retried with its key."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x20-\\x7E]+$"},
}


# ---------------------------------------------------------------------------------------
# Claims
# ---------------------------------------------------------------------------------------


def _body_of(request: HttpRequest) -> bytes:
    """The request's body, or for a multipart upload already parsed (its stream read) the
    form fields and each file's name and SHA-256, which say the same."""
    try:
        return request.body
    except RawPostDataException:
        parts = sorted((name, value) for name, values in request.POST.lists() for value in values)
        for name, uploads in request.FILES.lists():
            for upload in uploads:
                digest = hashlib.sha256()
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
                parts.append((name, f"{upload.name}:{upload.size}:{digest.hexdigest()}"))
        return json.dumps(sorted(parts)).encode()


def request_hash(*, method: str, path: str, query: str, body: bytes) -> str:
    """SHA-256 of what makes two requests "the same": method, path, query and body. A JSON
    body is compared by its content (key order and spacing don't count)."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = body
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query.encode(), canonical):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _stale(now: dt.datetime) -> Q:
    """Rows that count as absent: expired, or claimed by a request that died."""
    return Q(created_at__lte=now - RETENTION) | Q(status_code__isnull=True, created_at__lte=now - CLAIM_TIMEOUT)


@dataclass
class Claim:
    """The outcome of ``claim``: ``owned`` when this request now runs the work; otherwise
    ``record`` is the earlier one, finished (its answer to repeat) or still running."""

    record: IdempotencyRecord
    owned: bool

    @property
    def in_progress(self) -> bool:
        return self.record.status_code is None


def claim(*, user: User, key: str, request_hash: str, method: str, path: str, now: dt.datetime | None = None) -> Claim:
    """Claim ``key`` for ``user``: insert its row in a transaction of its own (committed
    before the caller's work when no transaction is open), so two requests with the same key
    can't both own it — the unique constraint on (user, key) refuses the second insert,
    whichever database. A row with another request hash is ``idempotency_key_reused``
    (422). Stale rows (expired, or abandoned claims) are deleted and claimed afresh."""
    now = now or timezone.now()
    for _attempt in range(3):
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=user,
                    key=key,
                    request_hash=request_hash,
                    method=method[:8],
                    # Stored for people reading it; PostgreSQL refuses NUL in text.
                    path=path.replace("\x00", "\ufffd")[:255],
                    created_at=now,
                )
            return Claim(record, owned=True)
        except IntegrityError:
            pass
        existing = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if existing is None:  # released or pruned since the insert failed: try again
            continue
        if IdempotencyRecord.objects.filter(_stale(now), pk=existing.pk).delete()[0]:
            continue
        if existing.request_hash != request_hash:
            raise DomainError(
                _("This Idempotency-Key was already used for another request (%(method)s %(path)s).")
                % {"method": existing.method, "path": existing.path},
                code="idempotency_key_reused",
                status=422,
            )
        return Claim(existing, owned=False)
    raise in_progress_error()


def in_progress_error() -> DomainError:
    return DomainError(
        _("A request with this Idempotency-Key is still being processed. Retry in a moment."),
        code="idempotency_in_progress",
        status=409,
    )


def complete(record: IdempotencyRecord, *, status_code: int, body: str, content_type: str = "") -> None:
    """Store the first request's answer on its claim."""
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        status_code=status_code, response_body=body, content_type=content_type[:100], completed_at=timezone.now()
    )


def release(record: IdempotencyRecord) -> None:
    """Give the key up (the work failed without an answer worth keeping): a retry runs again."""
    IdempotencyRecord.objects.filter(pk=record.pk, status_code__isnull=True).delete()


def prune(now: dt.datetime | None = None) -> int:
    """Delete expired records (and claims abandoned long ago); returns how many."""
    now = now or timezone.now()
    return IdempotencyRecord.objects.filter(created_at__lte=now - RETENTION).delete()[0]


# ---------------------------------------------------------------------------------------
# The API: two ninja decorators, installed on the whole API
# ---------------------------------------------------------------------------------------


def install(api: Any) -> None:
    """Cover every unsafe operation of ``api`` (a NinjaAPI) with ``Idempotency-Key``."""
    api.add_decorator(store_answer, mode="view")
    api.add_decorator(claim_key, mode="operation")


def _document(operation: Any) -> None:
    """Name the header among the operation's parameters in the OpenAPI schema."""
    extra = dict(operation.openapi_extra or {})
    parameters = list(extra.get("parameters", []))
    if not any(p.get("name") == KEY_HEADER for p in parameters):
        parameters.append(HEADER_PARAMETER)
    extra["parameters"] = parameters
    operation.openapi_extra = extra


def store_answer(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wraps an operation's ``run`` (everything ninja does for a request): after it, the
    answer goes on the key's claim, if ``claim_key`` made one; after a 5xx or an exception
    the claim is released. Applied when the API binds its operations, it also documents the
    header on the unsafe ones."""
    operation = getattr(inspect.unwrap(run), "__self__", None)
    if operation is not None and UNSAFE_METHODS.intersection(operation.methods):
        _document(operation)

    @functools.wraps(run)
    def wrapper(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        try:
            response = run(request, **kwargs)
        except BaseException:
            record = getattr(request, "_idempotency_record", None)
            if record is not None:
                release(record)
            raise
        record = getattr(request, "_idempotency_record", None)
        if record is not None:
            if response.status_code >= 500 or getattr(response, "streaming", False):
                release(record)
            else:
                complete(
                    record,
                    status_code=response.status_code,
                    body=response.content.decode(response.charset or "utf-8"),
                    content_type=response.get("Content-Type", ""),
                )
        return response

    return wrapper


def claim_key(view_func: Callable[..., Any]) -> Callable[..., Any]:
    """Wraps an operation's function (called once the caller is authenticated and the input
    valid): claim the key before the work, or answer from the earlier request."""

    @functools.wraps(view_func)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(KEY_HEADER)
        user = getattr(request, "auth", None)
        if key is None or request.method not in UNSAFE_METHODS or not isinstance(user, User):
            return view_func(request, *args, **kwargs)
        if not KEY_SHAPE.fullmatch(key):
            raise DomainError(
                _("The Idempotency-Key header must be 1 to 255 printable ASCII characters."),
                code="invalid_idempotency_key",
                status=400,
            )
        found = claim(
            user=user,
            key=key,
            request_hash=request_hash(
                method=request.method,
                path=request.path,
                query=request.META.get("QUERY_STRING", ""),
                body=_body_of(request),
            ),
            method=request.method,
            path=request.path,
        )
        if not found.owned:
            if found.in_progress:
                raise in_progress_error()
            return replay(found.record)
        request._idempotency_record = found.record
        return view_func(request, *args, **kwargs)

    return wrapper


def replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(
        record.response_body, status=record.status_code, content_type=record.content_type or "application/json"
    )
    response[REPLAYED_HEADER] = "true"
    return response


# ---------------------------------------------------------------------------------------
# The wizard's confirm forms
# ---------------------------------------------------------------------------------------


def new_form_token() -> str:
    """A fresh one-time token for a confirm form (a hidden ``submit_token`` field)."""
    return secrets.token_urlsafe(32)


@dataclass
class FormSubmission:
    """One submit of a confirm form. ``earlier_reference``: the booking an earlier submit of
    the same form made (show it; do nothing). ``still_running``: the earlier submit had not
    finished after a few seconds. Otherwise this submit does the work, then calls ``done``
    with the booking's reference, or ``release`` when it made none (the form may then be
    submitted again)."""

    record: IdempotencyRecord | None = None
    earlier_reference: str = ""
    still_running: bool = False
    _finished: bool = field(default=False, repr=False)

    @property
    def repeated(self) -> bool:
        """An earlier submit of the same form made (or is making) the booking."""
        return bool(self.earlier_reference) or self.still_running

    def done(self, reference: str) -> None:
        if self.record is not None and not self._finished:
            complete(self.record, status_code=303, body=reference, content_type="text/plain")
            self._finished = True

    def release(self) -> None:
        if self.record is not None and not self._finished:
            release(self.record)
            self._finished = True


def claim_form_submission(*, request: HttpRequest, scope: str) -> FormSubmission:
    """Claim the POSTed form token of ``request.user`` for ``scope`` (the form's action: its
    path and chosen time). Without a well-formed token (an old page, a script), the submit
    simply goes ahead unguarded, as before. An earlier submit still running is waited for
    up to ``FORM_WAIT_SECONDS``."""
    token = request.POST.get(FORM_TOKEN_FIELD, "")
    if not FORM_TOKEN_SHAPE.fullmatch(token):
        return FormSubmission()
    key = FORM_KEY_PREFIX + token
    digest = request_hash(method="POST", path=scope, query="", body=b"")
    deadline = time.monotonic() + FORM_WAIT_SECONDS
    while True:
        try:
            found = claim(user=request.user, key=key, request_hash=digest, method="POST", path=scope)
        except DomainError as exc:
            if exc.code == "idempotency_key_reused":  # a token moved to another form: ignore it
                return FormSubmission()
            found = None  # every attempt met a claim that vanished at once: look again
        if found is not None and found.owned:
            return FormSubmission(record=found.record)
        if found is not None and not found.in_progress:
            return FormSubmission(earlier_reference=found.record.response_body)
        if time.monotonic() >= deadline:
            return FormSubmission(still_running=True)
        time.sleep(FORM_POLL_SECONDS)
