"""The JSON API at /api/v1/: session-cookie or bearer-token auth, one error shape.

Every error is ``{"error": {"code": "...", "message": "...", "fields": [...]}}`` with a 4xx
status (``ErrorOut``; ``fields`` only when the refusal is about named inputs). The OpenAPI
schema documents, per operation, the error statuses it can answer (``BookingAPI``).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import Field, NinjaAPI, Schema
from ninja.constants import NOT_SET
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import APIKeyCookie, HttpBearer

from accounts.language import supported as supported_language
from accounts.services import authenticate_token
from bookings import idempotency, throttle
from config.errors import DomainError, retry_after_headers


class SessionAuth(APIKeyCookie):
    """The browser's session cookie (CSRF-checked on unsafe methods)."""

    param_name = "sessionid"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return request.user if request.user.is_authenticated else None


class TokenAuth(HttpBearer):
    """``Authorization: Bearer bk_…`` — a personal API token from the profile page."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = authenticate_token(token)
        if user is not None:
            request.user = user
            # The token's owner's own language, as on the pages (``UserLanguageMiddleware``).
            if supported_language(user.language):
                translation.activate(user.language)
                request.LANGUAGE_CODE = user.language
        return user


# Every ``code`` an error can carry (a test scans the sources to keep this complete).
ERROR_CODES: tuple[str, ...] = (
    "access_change_refused",
    "already_answered",
    "already_connected",
    "already_enrolled",
    "already_linked",
    "already_requested",
    "already_waiting",
    "bad_capacity",
    "bad_kind",
    "bad_request",
    "bad_weekday",
    "beyond_window",
    "capacity_below_sessions",
    "client_conflict",
    "closure_end_before_start",
    "closure_overlap",
    "coach_required",
    "consent_required",
    "date_in_past",
    "dependent_not_client",
    "dependent_not_found",
    "duplicate_override",
    "duration_required",
    "error",
    "forbidden",
    "full",
    "guardian_self",
    "hours_end_before_start",
    "hours_overlap",
    "idempotency_in_progress",
    "idempotency_key_reused",
    "intake_required",
    "invalid",
    "invalid_file",
    "invalid_idempotency_key",
    "invalid_phone",
    "invalid_promo_code",
    "invalid_range",
    "invalid_role",
    "invalid_timezone",
    "invalid_transition",
    "limit_reached",
    "limits_inconsistent",
    "method_not_allowed",
    "name_required",
    "name_taken",
    "no_credits",
    "not_a_client",
    "not_a_coach",
    "not_connected",
    "not_enrolled",
    "not_found",
    "not_full",
    "not_the_coach",
    "nothing_due",
    "offer_expired",
    "outside_availability",
    "policy_violation",
    "range_too_long",
    "rate_limited",
    "reason_required",
    "room_in_use",
    "server_error",
    "slot_taken",
    "throttled",
    "time_off_end_before_start",
    "token_name_required",
    "too_large",
    "too_many_login_attempts",
    "too_many_requests",
    "too_soon",
    "unauthenticated",
    "unknown_language",
    "unknown_question",
    "unknown_session_type",
    "unknown_setting",
    "waitlist_full",
    "window_end_before_start",
    "windows_overlap",
)


class ErrorField(Schema):
    field: str = Field(description="The input, dotted for nested ones (`weekly.0.start`); empty: the whole request.")
    message: str


class ErrorDetail(Schema):
    code: Literal[ERROR_CODES] = Field(  # type: ignore[valid-type]
        description="What went wrong, for programs; stable. `invalid`: an input is not valid (see `fields`)."
    )
    message: str = Field(description="What went wrong, for people (in the request's language).")
    fields: list[ErrorField] = Field(
        default_factory=list, description="Present when the refusal is about named inputs: one entry per problem."
    )
    waitlist: bool | None = Field(
        None,
        description="With `full`: whether you may join the session's waitlist instead (`POST /waitlist`).",
    )


class ErrorOut(Schema):
    """The one shape of every error answer."""

    error: ErrorDetail


UNSAFE_METHODS = frozenset({"post", "put", "patch", "delete"})
# Body or query properties that name another object, looked up and 404 when not found (or
# not visible to the caller).
LOOKED_UP = frozenset({"coach", "client", "session_type", "session"})
# Reads that refuse a role (a client asking for a coach's own settings, or a session's
# waitlist queue).
ROLE_LIMITED_READS = frozenset(
    {
        "availability_api_get_availability",
        "availability_api_get_coach_settings",
        "waitlist_api_list_entries",
        "reports_api_summary",
        "reports_api_bookings_csv",
    }
)
ERROR_DESCRIPTIONS = {
    400: "The request is not valid (`invalid`, with `fields` naming each input), or a rule refuses it "
    "(the `code` says which).",
    401: "Not signed in, or the bearer token is not valid (`unauthenticated`); the open reads refuse "
    "an invalid token too.",
    403: "Your role or this object's owner does not allow it (`forbidden`, `not_a_coach`, …), or the "
    "session cookie came without its CSRF token.",
    404: "No such object, or not one you may see (`not_found`).",
    409: "The booking rules or the calendar refuse it (`slot_taken`, `too_soon`, `invalid_transition`, …), "
    "or a request with the same Idempotency-Key is still running (`idempotency_in_progress`).",
    413: "The body is larger than the server accepts (`too_large`).",
    422: "This Idempotency-Key was used for another request (`idempotency_key_reused`).",
    429: "Too many attempts to book in a short while (`rate_limited`), too many requests waiting for one "
    "coach's answer (`too_many_requests`), or too many calls (`throttled`); `Retry-After` says when to retry.",
}


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        return schema["components"]["schemas"].get(ref.rsplit("/", 1)[1], {})
    return node


def _body_properties(schema: dict[str, Any], operation: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for media in operation.get("requestBody", {}).get("content", {}).values():
        body = _resolve(schema, media.get("schema", {}))
        for option in body.get("anyOf", [body]):
            names.update(_resolve(schema, option).get("properties", {}))
    return names


def error_statuses(
    schema: dict[str, Any], method: str, operation: dict[str, Any], *, throttled: bool = False
) -> set[int]:
    """The error statuses an operation can answer, by rules read from its schema."""
    parameters = operation.get("parameters", [])
    path_parameters = [p for p in parameters if p["in"] == "path"]
    query = {p["name"] for p in parameters if p["in"] == "query"}
    has_body = "requestBody" in operation
    idempotent = any(p["in"] == "header" and p["name"] == "Idempotency-Key" for p in parameters)
    unsafe = method in UNSAFE_METHODS
    # Every operation reads the Authorization header: the signed-in ones need it, the open
    # ones refuse an invalid token rather than answer as to a visitor.
    statuses = {401}
    # A path parameter of type string is matched as it comes (a miss is a 404); any other
    # input can be invalid.
    typed_path = any(p.get("schema", {}).get("type") != "string" for p in path_parameters)
    if query or has_body or idempotent or typed_path:
        statuses.add(400)
    # Unsafe: the session cookie's CSRF check, and the services' "you may not".
    if unsafe or operation.get("operationId") in ROLE_LIMITED_READS:
        statuses.add(403)
    if path_parameters or LOOKED_UP & (query | _body_properties(schema, operation)):
        statuses.add(404)
    # Unsafe: the booking rules refuse, or the same Idempotency-Key is still running.
    if unsafe:
        statuses.add(409)
    if has_body:
        statuses.add(413)
    if idempotent:
        statuses.add(422)
    if throttled:
        statuses.add(429)
    return statuses


class BookingAPI(NinjaAPI):
    """The API whose schema documents every operation's error answers in ``ErrorOut``."""

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        document_errors(self, schema)
        return schema


def _throttled_operation_ids(api: NinjaAPI) -> set[str]:
    """Operations with a ninja throttle, and the booking attempts the booking throttles
    count (``bookings.throttle.API_ATTEMPTS``)."""
    found = set()
    for router in api._get_bound_routers():  # every router is mounted at the API's root
        for path, path_view in router.path_operations.items():
            route = "api/v1/" + re.sub(r"\{(?:\w+:)?(\w+)\}", r"<\1>", path.strip("/"))
            for operation in path_view.operations:
                booking_attempt = any((method, route) in throttle.API_ATTEMPTS for method in operation.methods)
                if booking_attempt or operation.throttle_objects or (api.throttle is not NOT_SET and api.throttle):
                    found.add(api.get_openapi_operation_id(operation))
    return found


def document_errors(api: NinjaAPI, schema: dict[str, Any]) -> None:
    """Add ``ErrorOut`` and each operation's error responses to ``schema``."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    error_schema = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(error_schema.pop("$defs", {}))
    components["ErrorOut"] = error_schema
    throttled = _throttled_operation_ids(api)
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
    for operations in schema["paths"].values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            limited = operation.get("operationId") in throttled
            for status in sorted(error_statuses(schema, method, operation, throttled=limited)):
                responses.setdefault(status, {"description": ERROR_DESCRIPTIONS[status], "content": reference})


api = BookingAPI(
    title="Booking API",
    version="1",
    description="Book sessions, manage availability and read calendars. Authenticate with your "
    "session cookie or a personal API token (`Authorization: Bearer <token>`).",
    auth=[TokenAuth(), SessionAuth()],
    urls_namespace="api-1",
    docs_url="/docs",
)


def error_response(request: HttpRequest, status: int, code: str, message: str, **extra: Any) -> HttpResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    body.update(extra)
    return api.create_response(request, {"error": body}, status=status)


def _field_errors(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    fields = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "payload", "query", "path")]
        fields.append({"field": ".".join(location), "message": str(error.get("msg") or _("Invalid value."))})
    return fields


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    fields = _field_errors(exc.errors)
    summary = "; ".join(f"{f['field']}: {f['message']}" if f["field"] else f["message"] for f in fields)
    return error_response(request, 400, "invalid", summary or _("The request is not valid."), fields=fields)


@api.exception_handler(DjangoValidationError)
def on_django_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    if hasattr(exc, "error_dict"):
        fields = [
            {"field": "" if name == "__all__" else name, "message": message}
            for name, messages in exc.message_dict.items()
            for message in messages
        ]
        summary = "; ".join(f"{f['field']}: {f['message']}" if f["field"] else f["message"] for f in fields)
        return error_response(request, 400, "invalid", summary, fields=fields)
    return error_response(request, 400, "invalid", " ".join(exc.messages))


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    extra = dict(getattr(exc, "extra", {}))
    if exc.field:
        extra["fields"] = [{"field": exc.field, "message": exc.message}]
    response = error_response(request, exc.status, exc.code, exc.message, **extra)
    for name, value in retry_after_headers(exc).items():
        response[name] = value
    return response


@api.exception_handler(AuthenticationError)
def on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(
        request, 401, "unauthenticated", _("Sign in, or send a valid token as “Authorization: Bearer <token>”.")
    )


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    codes = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed", 429: "throttled"}
    return error_response(request, exc.status_code, codes.get(exc.status_code, "error"), exc.message)


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, 404, "not_found", _("Not found."))


@api.exception_handler(PermissionDenied)
def on_permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return error_response(request, 403, "forbidden", str(exc) or _("You are not allowed to do that."))


api.add_router("/", "accounts.api.router")
api.add_router("/", "availability.api.router")
api.add_router("/", "availability.tag_api.router")
api.add_router("/", "bookings.slots_api.router")
api.add_router("/", "bookings.api.router")
api.add_router("/", "bookings.series_api.router")
api.add_router("/", "payments.series_api.router")
api.add_router("/", "waitlist.api.router")
api.add_router("/", "notifications.inbox_api.router")
api.add_router("/", "notifications.calendar_api.router")
api.add_router("/", "intake.api.router")
api.add_router("/", "reports.api.router")

# Every unsafe operation accepts an Idempotency-Key (bookings/idempotency.py says why all of them).
idempotency.install(api)
