import json

from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from webhooks import services
from webhooks.models import WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """Staff see whose endpoint goes where and whether it is on; its secret is the
    owner's and is never shown here. Endpoints are added on the owner's page."""

    list_display = ("url", "owner", "description", "is_active", "disabled_at", "created_at")
    list_filter = ("is_active",)
    search_fields = ("url", "description", "owner__email", "owner__name")
    readonly_fields = (
        "owner",
        "url",
        "event_types",
        "is_active",
        "disabled_at",
        "disabled_reason",
        "created_at",
        "updated_at",
    )
    fields = ("owner", "url", "description", "event_types", "is_active", "disabled_at", "disabled_reason")
    # On and off go through the services (a disable fails the pending deliveries).
    actions = ("disable_endpoints", "enable_endpoints")

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description=_("Disable the selected webhooks"))
    def disable_endpoints(self, request, queryset) -> None:
        done = sum(services.disable(endpoint, reason=str(_("Disabled by staff."))) for endpoint in queryset)
        self.message_user(request, ngettext("%d webhook disabled.", "%d webhooks disabled.", done) % done)

    @admin.action(description=_("Enable the selected webhooks"))
    def enable_endpoints(self, request, queryset) -> None:
        endpoints = list(queryset.filter(is_active=False))
        for endpoint in endpoints:
            services.enable(endpoint)
        done = len(endpoints)
        self.message_user(request, ngettext("%d webhook enabled.", "%d webhooks enabled.", done) % done)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log, read-only: what was sent, what came back. "Send again" queues the
    selected finished deliveries for the task (as the same messages)."""

    list_display = (
        "created_at",
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "response_status",
        "next_attempt_at",
    )
    list_filter = ("status", "event_type")
    search_fields = ("message_id", "endpoint__url", "endpoint__owner__email")
    list_select_related = ("endpoint__owner",)
    date_hierarchy = "created_at"
    actions = ("send_again",)
    fields = (
        "endpoint",
        "event",
        "event_type",
        "message_id",
        "status",
        "attempts",
        "last_attempt_at",
        "next_attempt_at",
        "request_headers_shown",
        "payload_shown",
        "response_status",
        "response_body",
        "error",
        "created_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("request headers"))
    def request_headers_shown(self, obj: WebhookDelivery) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.request_headers, indent=2))

    @admin.display(description=_("payload"))
    def payload_shown(self, obj: WebhookDelivery) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2, ensure_ascii=False))

    @admin.action(description=_("Send again"), permissions=["view"])
    def send_again(self, request, queryset) -> None:
        queued = services.queue_again(list(queryset))
        skipped = queryset.count() - queued
        self.message_user(
            request,
            ngettext("%d delivery queued to be sent again.", "%d deliveries queued to be sent again.", queued) % queued,
        )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%d left alone: still pending, or its webhook is disabled.",
                    "%d left alone: still pending, or their webhooks are disabled.",
                    skipped,
                )
                % skipped,
                level=messages.WARNING,
            )
        if queued:
            services.send_soon()
