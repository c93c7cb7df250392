"""Keep the API's error shape for the answers Django or django-ninja produce outside the
API's own handlers: a body too large, an unknown address, a method not allowed, a CSRF
refusal."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from config.errors import DomainError, retry_after_headers

API_PREFIX = "/api/"


def _json_error(status: int, code: str, message: str) -> HttpResponse:
    body = {"error": {"code": code, "message": message}}
    return HttpResponse(json.dumps(body), status=status, content_type="application/json")


def domain_error_response(exc: DomainError) -> HttpResponse:
    """The API's answer to ``exc`` outside its own handlers (a middleware's refusal): the one
    error shape, with ``Retry-After`` when the error says when to come back."""
    body: dict[str, object] = {"code": exc.code, "message": exc.message}
    if exc.field:
        body["fields"] = [{"field": exc.field, "message": exc.message}]
    response = HttpResponse(json.dumps({"error": body}), status=exc.status, content_type="application/json")
    for name, value in retry_after_headers(exc).items():
        response[name] = value
    return response


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class ApiErrorShapeMiddleware:
    """Under /api/, every 4xx is ``{"error": {...}}``: a body over
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is refused with 413 before anything reads it, and the
    plain-text or HTML 4xx of the layers below the API (405, 404, 403, 400) are rewritten."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and _declared_length(request) > limit:
            return _json_error(
                413,
                "too_large",
                _("The request body is too large: send at most %(size)d KB.") % {"size": limit // 1024},
            )
        response = self.get_response(request)
        if not 400 <= response.status_code < 500 or response.get("Content-Type", "").startswith("application/json"):
            return response
        status = response.status_code
        if status == 405:
            allowed = response.get("Allow", "")
            message = _("%(method)s is not allowed here.") % {"method": request.method}
            if allowed:
                message = _("%(method)s is not allowed here; use %(allowed)s.") % {
                    "method": request.method,
                    "allowed": allowed,
                }
            replacement = _json_error(405, "method_not_allowed", message)
            if allowed:
                replacement["Allow"] = allowed
            return replacement
        if status == 404:
            return _json_error(404, "not_found", _("Not found."))
        if status == 403:
            return _json_error(403, "forbidden", _("You are not allowed to do that."))
        if status == 429:
            replacement = _json_error(429, "throttled", _("Too many requests in a short while; try again later."))
            if response.has_header("Retry-After"):
                replacement["Retry-After"] = response["Retry-After"]
            return replacement
        return _json_error(status, "bad_request", _("The request could not be read."))
