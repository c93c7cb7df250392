"""The personal data download: a page saying what it holds, and the zip itself."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from pages import privacy


@login_required
@require_http_methods(["GET", "POST"])
def my_data(request: HttpRequest) -> HttpResponse:
    """GET: what the download holds, with a button; POST: the signed-in person's own zip
    (never anyone else's, whatever their role: the page takes no one's id)."""
    user = request.user
    if request.method == "POST":
        now = timezone.now()
        response = HttpResponse(privacy.build_zip(user, now=now), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{privacy.file_name(user, now)}"'
        response["Cache-Control"] = "no-store, private"
        return response
    return render(
        request,
        "pages/my_data.html",
        {"with_coach_notes": settings.PRIVACY_EXPORT_COACH_NOTES, "is_coach": user.is_coach},
    )
