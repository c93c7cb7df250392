"""Error pages: HTML for people, the API's JSON error shape under /api/."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _json_error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return _json_error(404, "not_found", "Not found.")
    return render(request, "errors/404.html", status=404)


def api_not_found(request: HttpRequest) -> JsonResponse:
    """Unknown API paths answer the API's JSON 404, in development too."""
    return _json_error(404, "not_found", f"No API endpoint at {request.path}.")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = str(exception) if exception and str(exception) else "You are not allowed to do that."
    if _wants_json(request):
        return _json_error(403, "forbidden", message)
    return render(request, "errors/403.html", {"message": message}, status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return _json_error(500, "server_error", "Something went wrong on our side. Please try again.")
    return render(request, "errors/500.html", status=500)
