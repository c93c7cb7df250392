import json

from django.contrib import admin, messages
from django.contrib.admin.utils import display_for_value
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from config import stored_text
from webhooks import reasons, services
from webhooks.models import WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """Staff see whose endpoint goes where and whether it is on; its secret is the
    owner's and is never shown here. Endpoints are added on the owner's page."""

    list_display = ("url", "owner", "description", "is_active", "disabled", "created")
    list_filter = ("is_active",)
    search_fields = ("url", "description", "owner__email", "owner__name")
    readonly_fields = (
        "owner",
        "url",
        "event_types",
        "is_active",
        "disabled",
        "disabled_because",
        "created",
        "updated",
    )
    fields = ("owner", "url", "description", "event_types", "is_active", "disabled", "disabled_because")
    # On and off go through the services (a disable fails the pending deliveries).
    actions = ("disable_endpoints", "enable_endpoints")

    def has_add_permission(self, request) -> bool:
        return False

    # The columns the model gives no verbose name, as methods so that their labels are translated.
    @admin.display(description=_("disabled"), ordering="disabled_at")
    def disabled(self, obj: WebhookEndpoint) -> str:
        return display_for_value(obj.disabled_at, self.get_empty_value_display())

    @admin.display(description=_("why disabled"))
    def disabled_because(self, obj: WebhookEndpoint) -> str:
        return display_for_value(stored_text.display(obj.disabled_reason), self.get_empty_value_display())

    @admin.display(description=_("created"), ordering="created_at")
    def created(self, obj: WebhookEndpoint) -> str:
        return display_for_value(obj.created_at, self.get_empty_value_display())

    @admin.display(description=_("updated"), ordering="updated_at")
    def updated(self, obj: WebhookEndpoint) -> str:
        return display_for_value(obj.updated_at, self.get_empty_value_display())

    @admin.action(description=_("Disable the selected webhooks"))
    def disable_endpoints(self, request, queryset) -> None:
        done = sum(services.disable(endpoint, reason=reasons.DISABLED_BY_STAFF) for endpoint in queryset)
        self.message_user(request, ngettext("%d webhook disabled.", "%d webhooks disabled.", done) % done)

    @admin.action(description=_("Enable the selected webhooks"))
    def enable_endpoints(self, request, queryset) -> None:
        endpoints = list(queryset.filter(is_active=False))
        for endpoint in endpoints:
            services.enable(endpoint)
        done = len(endpoints)
        self.message_user(request, ngettext("%d webhook enabled.", "%d webhooks enabled.", done) % done)


class StatusFilter(admin.ChoicesFieldListFilter):
    """The delivery's status, under a translated title (the model field has no verbose name)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.title = _("status")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log, read-only: what was sent, what came back. "Send again" queues the
    selected finished deliveries for the task (as the same messages)."""

    list_display = (
        "created",
        "event_type",
        "endpoint_shown",
        "status_shown",
        "tries",
        "answer_status",
        "next_try",
    )
    list_filter = (("status", StatusFilter), "event_type")
    search_fields = ("message_id", "endpoint__url", "endpoint__owner__email")
    list_select_related = ("endpoint__owner",)
    date_hierarchy = "created_at"
    actions = ("send_again",)
    fields = (
        "endpoint_shown",
        "booking_event",
        "event_type",
        "message_id",
        "status_shown",
        "tries",
        "last_try",
        "next_try",
        "request_headers_shown",
        "payload_shown",
        "answer_status",
        "answer_body",
        "error_shown",
        "created",
    )
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    # The columns the model gives no verbose name, as methods so that their labels are translated.
    @admin.display(description=_("created"), ordering="created_at")
    def created(self, obj: WebhookDelivery) -> str:
        return display_for_value(obj.created_at, self.get_empty_value_display())

    @admin.display(description=_("endpoint"), ordering="endpoint")
    def endpoint_shown(self, obj: WebhookDelivery) -> WebhookEndpoint:
        return obj.endpoint

    @admin.display(description=_("booking event"))
    def booking_event(self, obj: WebhookDelivery) -> str:
        return display_for_value(obj.event, self.get_empty_value_display())

    @admin.display(description=_("status"), ordering="status")
    def status_shown(self, obj: WebhookDelivery) -> str:
        return obj.get_status_display()

    @admin.display(description=_("tries"), ordering="attempts")
    def tries(self, obj: WebhookDelivery) -> str:
        return display_for_value(obj.attempts, self.get_empty_value_display())

    @admin.display(description=_("last try"), ordering="last_attempt_at")
    def last_try(self, obj: WebhookDelivery) -> str:
        return display_for_value(obj.last_attempt_at, self.get_empty_value_display())

    @admin.display(description=_("next try"), ordering="next_attempt_at")
    def next_try(self, obj: WebhookDelivery) -> str:
        return display_for_value(obj.next_attempt_at, self.get_empty_value_display())

    @admin.display(description=_("answer status"), ordering="response_status")
    def answer_status(self, obj: WebhookDelivery) -> str:
        return display_for_value(obj.response_status, self.get_empty_value_display())

    @admin.display(description=_("answer body"))
    def answer_body(self, obj: WebhookDelivery) -> str:
        return display_for_value(obj.response_body, self.get_empty_value_display())

    @admin.display(description=_("error"))
    def error_shown(self, obj: WebhookDelivery) -> str:
        return display_for_value(obj.error, self.get_empty_value_display())

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
