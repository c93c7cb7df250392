"""Keep the API's error shape for the few answers django-ninja produces outside its handlers."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

API_PREFIX = "/api/"


class ApiErrorShapeMiddleware:
    """A 405 from the API router is plain text; answer ``{"error": {...}}`` instead."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code == 405
            and request.path.startswith(API_PREFIX)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            allowed = response.get("Allow", "")
            body = {
                "error": {
                    "code": "method_not_allowed",
                    "message": f"{request.method} is not allowed here" + (f"; use {allowed}." if allowed else "."),
                }
            }
            replacement = HttpResponse(json.dumps(body), status=405, content_type="application/json")
            if allowed:
                replacement["Allow"] = allowed
            return replacement
        return response
