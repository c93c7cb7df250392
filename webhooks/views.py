"""The owner's webhooks: ``/webhooks/`` lists a coach's or staff member's endpoints and adds
one; each endpoint's page shows its secret (rotate it), edits it, sends a test message,
disables, enables or deletes it, and lists its deliveries, latest first, each with what
was sent and answered and "Send again". Someone else's endpoint is a 404, as is the page
for a client."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import role_required
from accounts.models import Role
from webhooks import reasons, services
from webhooks.forms import EndpointForm
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

PAGE_SIZE = 25
OWNERS = (Role.COACH, Role.STAFF)


def _endpoint_for(request: HttpRequest, pk: int) -> WebhookEndpoint:
    return get_object_or_404(WebhookEndpoint.objects.select_related("owner"), pk=pk, owner=request.user)


def _name(endpoint: WebhookEndpoint) -> str:
    return endpoint.description or endpoint.url


@role_required(*OWNERS)
@require_http_methods(["GET", "POST"])
def endpoints(request: HttpRequest) -> HttpResponse:
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = services.create(
                request.user,
                url=form.cleaned_data["url"],
                description=form.cleaned_data["description"],
                event_types=form.cleaned_data["event_types"],
            )
        except services.WebhookError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _("Webhook added. Give its signing secret to the receiver, then send a test event."),
            )
            return redirect("webhook_detail", pk=endpoint.pk)
    mine = list(WebhookEndpoint.objects.filter(owner=request.user))
    last = {}
    for delivery in WebhookDelivery.objects.filter(endpoint__in=mine).order_by("endpoint_id", "-created_at", "-pk"):
        last.setdefault(delivery.endpoint_id, delivery)
    for endpoint in mine:
        endpoint.last_delivery = last.get(endpoint.pk)
    return render(
        request,
        "webhooks/endpoints.html",
        {"form": form, "endpoints": mine, "sees_every_booking": request.user.is_staff_member},
        status=400 if form.errors else 200,
    )


@role_required(*OWNERS)
@require_http_methods(["GET", "POST"])
def endpoint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint_for(request, pk)
    form = EndpointForm(request.POST or None, endpoint=endpoint)
    if request.method == "POST" and form.is_valid():
        try:
            services.update(
                endpoint,
                url=form.cleaned_data["url"],
                description=form.cleaned_data["description"],
                event_types=form.cleaned_data["event_types"],
            )
        except services.WebhookError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Webhook saved."))
            return redirect("webhook_detail", pk=endpoint.pk)
    page = Paginator(endpoint.deliveries.order_by("-created_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "webhooks/endpoint.html",
        {"endpoint": endpoint, "form": form, "page": page, "pending": DeliveryStatus.PENDING},
        status=400 if form.errors else 200,
    )


@role_required(*OWNERS)
@require_POST
def rotate(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = services.rotate_secret(_endpoint_for(request, pk))
    messages.success(
        request,
        _("New signing secret made. For the next 24 hours messages are signed with the old one too."),
    )
    return redirect("webhook_detail", pk=endpoint.pk)


def _say(request: HttpRequest, delivery: WebhookDelivery, *, sent: str) -> None:
    if delivery.status == DeliveryStatus.SUCCEEDED:
        messages.success(
            request,
            _("%(what)s: the endpoint answered %(status)s.")
            % {
                "what": sent,
                "status": delivery.response_status,
            },
        )
    elif delivery.status == DeliveryStatus.PENDING:
        messages.warning(
            request,
            _("%(what)s, but it failed: %(error)s It will be tried again.") % {"what": sent, "error": delivery.error},
        )
    else:
        messages.error(request, _("%(what)s, but it failed: %(error)s") % {"what": sent, "error": delivery.error})


@role_required(*OWNERS)
@require_POST
def ping(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint_for(request, pk)
    delivery = services.ping(endpoint)
    _say(request, delivery, sent=_("Test event sent"))
    return redirect("webhook_detail", pk=endpoint.pk)


@role_required(*OWNERS)
@require_POST
def enable(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = services.enable(_endpoint_for(request, pk))
    messages.success(request, _("“%(name)s” is enabled: new events are sent to it.") % {"name": _name(endpoint)})
    return redirect("webhook_detail", pk=endpoint.pk)


@role_required(*OWNERS)
@require_POST
def disable(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint_for(request, pk)
    services.disable(endpoint, reason=reasons.DISABLED_BY.format(name=request.user.display_name))
    messages.success(request, _("“%(name)s” is disabled: nothing is sent to it.") % {"name": _name(endpoint)})
    return redirect("webhook_detail", pk=endpoint.pk)


@role_required(*OWNERS)
@require_POST
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint_for(request, pk)
    name = _name(endpoint)
    services.delete(endpoint)
    messages.success(request, _("“%(name)s” is deleted, with its deliveries.") % {"name": name})
    return redirect("webhooks")


def _delivery_for(request: HttpRequest, pk: int, delivery_pk: int) -> WebhookDelivery:
    endpoint = _endpoint_for(request, pk)
    delivery = get_object_or_404(WebhookDelivery, pk=delivery_pk, endpoint=endpoint)
    delivery.endpoint = endpoint
    return delivery


@role_required(*OWNERS)
@require_http_methods(["GET"])
def delivery_detail(request: HttpRequest, pk: int, delivery_pk: int) -> HttpResponse:
    delivery = _delivery_for(request, pk, delivery_pk)
    return render(
        request,
        "webhooks/delivery.html",
        {
            "endpoint": delivery.endpoint,
            "delivery": delivery,
            "body": json.dumps(delivery.payload, indent=2, ensure_ascii=False),
            "headers": sorted(delivery.request_headers.items()),
            "pending": DeliveryStatus.PENDING,
        },
    )


@role_required(*OWNERS)
@require_POST
def send_again(request: HttpRequest, pk: int, delivery_pk: int) -> HttpResponse:
    delivery = _delivery_for(request, pk, delivery_pk)
    try:
        delivery = services.send_again(delivery)
    except services.WebhookError as error:
        messages.error(request, error.message)
    else:
        _say(request, delivery, sent=_("Sent again"))
    return redirect("webhook_delivery", pk=pk, delivery_pk=delivery.pk)
