"""The JSON API at /api/v1/: session-cookie or bearer-token auth, one error shape.

Every error is ``{"error": {"code": "...", "message": "..."}}`` with a 4xx status.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import APIKeyCookie, HttpBearer

from accounts.services import authenticate_token
from bookings import idempotency
from config.errors import DomainError


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
        return user


api = NinjaAPI(
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
        fields.append({"field": ".".join(location), "message": str(error.get("msg", "Invalid value."))})
    return fields


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    fields = _field_errors(exc.errors)
    summary = "; ".join(f"{f['field']}: {f['message']}" if f["field"] else f["message"] for f in fields)
    return error_response(request, 400, "invalid", summary or "The request is not valid.", fields=fields)


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
    if exc.field:
        fields = [{"field": exc.field, "message": exc.message}]
        return error_response(request, exc.status, exc.code, exc.message, fields=fields)
    return error_response(request, exc.status, exc.code, exc.message)


@api.exception_handler(AuthenticationError)
def on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(
        request, 401, "unauthenticated", "Sign in, or send a valid token as “Authorization: Bearer <token>”."
    )


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    codes = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed", 429: "throttled"}
    return error_response(request, exc.status_code, codes.get(exc.status_code, "error"), exc.message)


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, 404, "not_found", "Not found.")


@api.exception_handler(PermissionDenied)
def on_permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return error_response(request, 403, "forbidden", str(exc) or "You are not allowed to do that.")


api.add_router("/", "accounts.api.router")
api.add_router("/", "availability.api.router")
api.add_router("/", "bookings.slots_api.router")
api.add_router("/", "bookings.api.router")
api.add_router("/", "notifications.inbox_api.router")
api.add_router("/", "notifications.calendar_api.router")

# Every unsafe operation accepts an Idempotency-Key (bookings/idempotency.py says why all of them).
idempotency.install(api)
