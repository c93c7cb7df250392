"""Error pages: HTML for people, the API's JSON error shape under /api/."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _json_error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return _json_error(404, "not_found", _("Not found."))
    return render(request, "errors/404.html", status=404)


def admin_login(request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
    """The back office has no login form of its own: visitors sign in through the site's
    (with its rate limits), and signed-in people who aren't staff get the 404 page, as for
    any page they may not see."""
    if request.user.is_authenticated:
        if request.user.is_active and request.user.is_staff:
            return redirect("admin:index")
        return page_not_found(request)
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
        next_url = reverse("admin:index")
    return redirect(f"{reverse('account_login')}?{urlencode({'next': next_url})}")


def api_not_found(request: HttpRequest) -> JsonResponse:
    """Unknown API paths answer the API's JSON 404, in development too."""
    return _json_error(404, "not_found", _("No API endpoint at %(path)s.") % {"path": request.path})


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = str(exception) if exception and str(exception) else _("You are not allowed to do that.")
    if _wants_json(request):
        return _json_error(403, "forbidden", message)
    return render(request, "errors/403.html", {"message": message}, status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return _json_error(500, "server_error", _("Something went wrong on our side. Please try again."))
    return render(request, "errors/500.html", status=500)


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages that name no icon (the back office's)."""
    return redirect(static("img/favicon.svg"))
