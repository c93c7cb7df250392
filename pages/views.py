"""The personal data download (a page saying what it holds, and the zip itself) and the
request to erase one's account."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from pages import erasure, privacy
from pages.forms import ErasureRequestForm


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


@login_required
@require_http_methods(["GET", "POST"])
def erase_account(request: HttpRequest) -> HttpResponse:
    """GET: what erasure does, and the request waiting if there is one (with its date);
    POST ``action=request`` with the password asks for it, ``action=cancel`` withdraws it."""
    user = request.user
    pending = erasure.pending_request(user)
    form = ErasureRequestForm(user=user)
    refusal = ""
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "cancel":
            if erasure.cancel_request(user) is not None:
                messages.success(request, gettext("Your account will not be erased. We've sent you an email about it."))
            return redirect("erase_account")
        if action != "request" or pending is not None:
            return redirect("erase_account")  # nothing to do, or already asked
        form = ErasureRequestForm(request.POST, user=user)
        if form.is_valid():
            try:
                erasure.request_erasure(user)
            except erasure.ErasureRefused as refused:
                refusal = str(refused)
            else:
                messages.success(request, gettext("Your request is recorded. We've sent you an email with the date."))
                return redirect("erase_account")
    blocked = (refusal or erasure.blocked_message(erasure.blocked_by(user))) if pending is None else ""
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "pages/erase_account.html",
        {
            "pending": pending,
            "form": form,
            "blocked": blocked,
            "grace_days": settings.ERASURE_GRACE_DAYS,
            "waiting_reason": erasure.blocked_message(pending.blocked) if pending else "",
        },
        status=status,
    )
