"""The bell in the header, the list of notifications, and marking them read."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from notifications import services
from notifications.models import Notification

PAGE_SIZE = 20


@login_required
def bell(request: HttpRequest) -> HttpResponse:
    """The unread count, polled by the header; 204 when it is what the page already shows."""
    count = services.unread_count(request.user)
    if request.GET.get("n") == str(count):
        return HttpResponse(status=204)
    return render(request, "notifications/_bell.html", {"unread_count": count})


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    notifications = Notification.objects.filter(recipient=request.user).select_related("booking")
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/inbox.html",
        {"page": page, "unread_count": services.unread_count(request.user)},
    )


@login_required
@require_POST
def read(request: HttpRequest, pk: int) -> HttpResponse:
    if not services.mark_read(user=request.user, notification_id=pk):
        raise Http404(gettext("No such notification."))
    note = Notification.objects.select_related("booking").get(pk=pk)
    if request.POST.get("open") and note.booking is not None:
        return redirect("booking_detail", note.booking.reference)
    return redirect("notifications")


@login_required
@require_POST
def read_all(request: HttpRequest) -> HttpResponse:
    services.mark_all_read(user=request.user)
    return redirect("notifications")
