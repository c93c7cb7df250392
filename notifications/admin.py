"""The back office for notifications.

- Message templates: staff's own wording per kind, channel and language (or for every
  language), checked against a sample booking on save, with the variables, the built-in
  wording and a preview in the template's language beside the form.
- Notifications, deliveries, reminders and people's settings are records: read-only here
  (nothing is added or deleted behind the services' back). A failed delivery can be sent
  again; the worker's next run (within a minute) picks it up.
"""

from __future__ import annotations

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.text import Truncator
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from bookings.admin import ReadOnlyInline, change_link, local
from notifications import messages as wording
from notifications.admin_forms import (
    PREVIEW,
    MessageTemplateForm,
    builtin_wording,
    in_template_language,
    preview_of,
)
from notifications.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    Kind,
    MessageTemplate,
    Notification,
    NotificationSettings,
    Reminder,
    template_languages,
)


class RecordAdmin(admin.ModelAdmin):
    """Read-only for everyone: these rows are written by the notification services."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


def booking_link(booking) -> str:
    return change_link(booking, booking.reference) if booking is not None else "—"


# ---------------------------------------------------------------------------------------
# Message templates
# ---------------------------------------------------------------------------------------


def add_url(kind: str, channel: str, language: str = "") -> str:
    """The add page, started from the built-in wording of ``kind`` on ``channel`` (in
    ``language``, for a template for its readers; else for every language)."""
    query = {"kind": kind, "channel": channel, **({"language": language} if language else {})}
    return f"{reverse('admin:notifications_messagetemplate_add')}?{urlencode(query)}"


def _choice(value: str | None, choices) -> str:
    return value if value in choices.values else ""


def _language(value: str | None) -> str:
    """``value`` if it is one of the site's languages, else '' (every language)."""
    return value if value and value in dict(settings.LANGUAGES) else ""


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    form = MessageTemplateForm
    list_display = ["kind", "channel", "language", "is_active", "updated", "updated_by"]
    list_filter = ["kind", "channel", "language", "is_active"]
    search_fields = ["subject", "body", "html_body"]
    list_select_related = ["updated_by"]
    readonly_fields = ["updated", "updated_by"]

    def get_fieldsets(self, request: HttpRequest, obj: MessageTemplate | None = None):
        fieldsets = [
            (None, {"fields": [("kind", "channel", "language"), "is_active"]}),
            (_("Wording"), {"fields": ["subject", "body", "html_body"]}),
        ]
        if obj is not None:
            fieldsets.append((_("Last change"), {"fields": [("updated", "updated_by")]}))
        return fieldsets

    @admin.display(description=_("updated"), ordering="updated_at")
    def updated(self, obj: MessageTemplate) -> str:
        return local(obj.updated_at)

    def save_model(self, request: HttpRequest, obj: MessageTemplate, form, change: bool) -> None:
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        """``?kind=…&channel=…`` starts a new template from the built-in wording (with
        ``&language=fr``, a template for French readers, from the French wording)."""
        initial = super().get_changeform_initial_data(request)
        kind, channel = _choice(initial.get("kind"), Kind), _choice(initial.get("channel"), Channel)
        language = _language(initial.get("language"))
        if "language" in initial and not language:
            del initial["language"]
        if kind and channel and not initial.get("subject") and not initial.get("body"):
            with in_template_language(language):
                initial.update(builtin_wording(kind, channel))
        return initial

    # The email preview is a srcdoc frame, which lives under this page's
    # Content-Security-Policy; emails carry their styles in style attributes.
    @method_decorator(csp_update({"style-src-attr": [UNSAFE_INLINE]}))
    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        form = context["adminform"].form
        kind, channel, language = self._kind_channel_and_language(form, obj)
        template = self._to_preview(form, obj, kind, channel, language)
        can_edit = self.has_add_permission(request) if add else self.has_change_permission(request, obj)
        with in_template_language(language):  # the built-in wording and the sample as its readers get them
            builtin = builtin_wording(kind, channel) if kind and channel else None
            sample = wording.sample_context()
        context.update(
            {
                "variables": [(name, gettext(text)) for name, text in wording.VARIABLES.items()],
                # Examples of the template language, kept out of the translated sentence.
                "syntax": {
                    "variable": "{{ name }}",
                    "filter": "{{ coach_name|upper }}",
                    "condition": "{% if reason %}…{% endif %}",
                },
                "chosen_kind": Kind(kind).label if kind else "",
                "chosen_channel": Channel(channel).label if channel else "",
                "chosen_language": dict(template_languages())[language] if language else "",
                "is_email": channel == Channel.EMAIL,
                "builtin": builtin,
                "start_from_builtin_url": (
                    add_url(kind, channel, language) if add and kind and channel and can_edit else ""
                ),
                "preview": preview_of(template) if template is not None else None,
                "preview_blocked": form.is_bound and bool(form.errors),
                "preview_button": PREVIEW if can_edit else "",
                "sample": sample,
            }
        )
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    @staticmethod
    def _kind_channel_and_language(form, obj: MessageTemplate | None) -> tuple[str, str, str]:
        if form.is_bound:
            source = form.data
        elif obj is not None:
            source = {"kind": obj.kind, "channel": obj.channel, "language": obj.language}
        else:
            source = form.initial
        return (
            _choice(source.get("kind"), Kind),
            _choice(source.get("channel"), Channel),
            _language(source.get("language")),
        )

    @staticmethod
    def _to_preview(
        form, obj: MessageTemplate | None, kind: str, channel: str, language: str
    ) -> MessageTemplate | None:
        if form.is_bound:
            return form.previewed_template()
        if obj is not None:
            return obj
        if kind and channel and form.initial.get("body"):
            return MessageTemplate(
                kind=kind,
                channel=channel,
                language=language,
                subject=form.initial.get("subject", ""),
                body=form.initial["body"],
                html_body=form.initial.get("html_body", ""),
            )
        return None

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        """Below the list: every kind and channel, with staff's templates (per language) or
        the built-in wording. A cell's ``state`` sums it up: "custom" when a template is in
        use (for some language at least), "off" when there are templates but none in use,
        "builtin" when there is none; its ``templates`` name each template's language, and
        ``add`` links to a new template for each language that has none."""
        languages = template_languages()  # every language first, then settings.LANGUAGES
        order = {code: index for index, (code, _name) in enumerate(languages)}
        rows: dict[tuple[str, str], list[MessageTemplate]] = {}
        for template in sorted(MessageTemplate.objects.all(), key=lambda t: order.get(t.language, len(order))):
            rows.setdefault((template.kind, template.channel), []).append(template)
        can_add = self.has_add_permission(request)
        coverage = []
        for kind in Kind:
            cells = []
            for channel in Channel:
                templates = rows.get((kind.value, channel.value), [])
                listed = [
                    {
                        "language": dict(languages).get(template.language, template.language),
                        "state": "custom" if template.is_active else "off",
                        "url": reverse("admin:notifications_messagetemplate_change", args=[template.pk]),
                    }
                    for template in templates
                ]
                if listed:
                    state = "custom" if any(item["state"] == "custom" for item in listed) else "off"
                    url = listed[0]["url"]
                else:
                    state, url = "builtin", (add_url(kind.value, channel.value) if can_add else "")
                written = {template.language for template in templates}
                missing = [
                    {"language": name, "url": add_url(kind.value, channel.value, code)}
                    for code, name in languages
                    if code not in written
                ]
                cells.append(
                    {
                        "channel": channel.label,
                        "state": state,
                        "url": url,
                        "templates": listed,
                        "add": missing if listed and can_add else [],
                    }
                )
            coverage.append({"kind": kind.label, "cells": cells})
        context = {
            "coverage": coverage,
            "channels": Channel.labels,
            "can_add_template": can_add,
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context=context)


# ---------------------------------------------------------------------------------------
# Notifications and their deliveries
# ---------------------------------------------------------------------------------------


class DeliveryInline(ReadOnlyInline):
    model = Delivery
    show_change_link = True
    fields = ["channel", "status", "attempts", "to", "provider_id", "provider_status", "sent", "error"]
    readonly_fields = fields

    @admin.display(description=_("sent at"))
    def sent(self, obj: Delivery) -> str:
        return local(obj.sent_at)


class ReadFilter(admin.SimpleListFilter):
    title = _("read")
    parameter_name = "read"

    def lookups(self, request, model_admin):
        return [("no", _("Unread")), ("yes", _("Read"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(read_at__isnull=self.value() == "no")
        return queryset


@admin.register(Notification)
class NotificationAdmin(RecordAdmin):
    list_display = ["created", "recipient", "kind", "title", "booking_reference", "read"]
    list_filter = ["kind", ReadFilter, "created_at"]
    search_fields = ["recipient__email", "recipient__name", "title", "booking__reference"]
    list_select_related = ["recipient", "booking"]
    date_hierarchy = "created_at"
    fields = ["recipient", "kind", "booking_reference", "title", "body", "payload", "due", "created", "read"]
    readonly_fields = fields
    inlines = [DeliveryInline]

    @admin.display(description=_("booking"), ordering="booking__reference")
    def booking_reference(self, obj: Notification) -> str:
        return booking_link(obj.booking)

    @admin.display(description=_("created"), ordering="created_at")
    def created(self, obj: Notification) -> str:
        return local(obj.created_at)

    @admin.display(description=_("read"), ordering="read_at")
    def read(self, obj: Notification) -> str:
        return local(obj.read_at) if obj.read_at else gettext("Unread")

    @admin.display(description=_("due (planned messages)"))
    def due(self, obj: Notification) -> str:
        return local(obj.due_at)


RESENDABLE = (DeliveryStatus.FAILED, DeliveryStatus.QUEUED, DeliveryStatus.SKIPPED)


@admin.register(Delivery)
class DeliveryAdmin(RecordAdmin):
    list_display = [
        "recipient",
        "kind",
        "channel",
        "status",
        "attempts",
        "to",
        "provider_id",
        "provider_status",
        "sent",
        "possibly_duplicated",
        "error_snippet",
    ]
    list_filter = ["channel", "status", "possibly_duplicated", "notification__kind"]
    search_fields = ["notification__recipient__email", "provider_id", "notification__booking__reference", "to"]
    list_select_related = ["notification__recipient", "notification__booking"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-pk"]
    actions = ["send_again"]
    fields = [
        "message",
        "booking_reference",
        "channel",
        "status",
        "to",
        "attempts",
        "next_attempt",
        "provider_id",
        "provider_status",
        "error",
        "created",
        "claimed",
        "call_started",
        "sent",
        "possibly_duplicated",
    ]
    readonly_fields = fields

    @admin.display(description=_("recipient"), ordering="notification__recipient__email")
    def recipient(self, obj: Delivery):
        return obj.notification.recipient

    @admin.display(description=_("kind"), ordering="notification__kind")
    def kind(self, obj: Delivery) -> str:
        return obj.notification.get_kind_display()

    @admin.display(description=_("message"))
    def message(self, obj: Delivery) -> str:
        return change_link(obj.notification)

    @admin.display(description=_("booking"))
    def booking_reference(self, obj: Delivery) -> str:
        return booking_link(obj.notification.booking)

    @admin.display(description=_("created"), ordering="created_at")
    def created(self, obj: Delivery) -> str:
        return local(obj.created_at)

    @admin.display(description=_("sent at"), ordering="sent_at")
    def sent(self, obj: Delivery) -> str:
        return local(obj.sent_at)

    @admin.display(description=_("claimed by a worker"))
    def claimed(self, obj: Delivery) -> str:
        return f"{local(obj.claimed_at)} ({obj.claimed_by})" if obj.claimed_at and obj.claimed_by else "—"

    @admin.display(description=_("provider call started"))
    def call_started(self, obj: Delivery) -> str:
        return local(obj.call_started_at) if obj.call_started_at else "—"

    @admin.display(description=_("next attempt"))
    def next_attempt(self, obj: Delivery) -> str:
        return local(obj.next_attempt_at) if obj.status == DeliveryStatus.QUEUED else "—"

    @admin.display(description=_("error"))
    def error_snippet(self, obj: Delivery) -> str:
        if not obj.error:
            return ""
        return format_html('<span title="{}">{}</span>', obj.error, Truncator(obj.error).chars(60))

    def has_resend_permission(self, request: HttpRequest) -> bool:
        # Back-office staff who follow the deliveries may send a stuck one again.
        return self.has_view_permission(request)

    @admin.action(description=_("Send again now (failed, queued or skipped)"), permissions=["resend"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        chosen = list(queryset.values_list("pk", "channel", "status"))
        refused = [(pk, channel, status) for pk, channel, status in chosen if status not in RESENDABLE]
        in_app = [pk for pk, channel, status in chosen if channel == Channel.IN_APP and status in RESENDABLE]
        wanted = [pk for pk, channel, status in chosen if status in RESENDABLE and channel != Channel.IN_APP]
        # Only if still failed, queued or skipped: one a worker claimed meanwhile is left alone.
        requeued = Delivery.objects.filter(pk__in=wanted, status__in=RESENDABLE).update(
            status=DeliveryStatus.QUEUED, next_attempt_at=timezone.now(), claimed_by=""
        )
        if requeued:
            self.message_user(
                request,
                gettext("%(count)d delivery(ies) queued again; they go out within a minute.") % {"count": requeued},
                messages.SUCCESS,
            )
        sent = sum(status == DeliveryStatus.SENT for _, _, status in refused)
        if sent:
            self.message_user(
                request,
                gettext(
                    "%(count)d delivery(ies) already sent, left alone: sending again would give the person the "
                    "message twice."
                )
                % {"count": sent},
                messages.WARNING,
            )
        sending = len(refused) - sent + (len(wanted) - requeued)
        if sending:
            self.message_user(
                request,
                gettext("%(count)d delivery(ies) being sent right now, left alone.") % {"count": sending},
                messages.WARNING,
            )
        if in_app:
            self.message_user(
                request,
                gettext("%(count)d in-app message(s) left alone: they are shown at once.") % {"count": len(in_app)},
                messages.WARNING,
            )


# ---------------------------------------------------------------------------------------
# Reminders and people's settings
# ---------------------------------------------------------------------------------------


@admin.register(Reminder)
class ReminderAdmin(RecordAdmin):
    list_display = ["due", "booking_reference", "recipient", "kind", "status", "handled"]
    list_filter = ["kind", "status"]
    search_fields = ["booking__reference", "recipient__email", "recipient__name"]
    list_select_related = ["booking", "recipient"]
    date_hierarchy = "due_at"
    ordering = ["-due_at", "-pk"]
    fields = ["booking_reference", "recipient", "kind", "due", "window", "status", "handled", "notification_link"]
    readonly_fields = fields

    @admin.display(description=_("booking"), ordering="booking__reference")
    def booking_reference(self, obj: Reminder) -> str:
        return booking_link(obj.booking)

    @admin.display(description=_("due at"), ordering="due_at")
    def due(self, obj: Reminder) -> str:
        return local(obj.due_at)

    @admin.display(description=_("handled at"), ordering="handled_at")
    def handled(self, obj: Reminder) -> str:
        return local(obj.handled_at)

    @admin.display(description=_("notification"))
    def notification_link(self, obj: Reminder) -> str:
        return change_link(obj.notification) if obj.notification_id else "—"


def _minutes(value: int) -> str:
    if value % (24 * 60) == 0:
        return pgettext("days, short", "%(count)d d") % {"count": value // (24 * 60)}
    if value % 60 == 0:
        return pgettext("hours, short", "%(count)d h") % {"count": value // 60}
    return pgettext("minutes, short", "%(count)d min") % {"count": value}


@admin.register(NotificationSettings)
class NotificationSettingsAdmin(RecordAdmin):
    list_display = ["user", "channel_choices", "reminders", "updated"]
    search_fields = ["user__email", "user__name"]
    list_select_related = ["user"]
    fields = ["user", "channel_choices", "reminders", "updated"]
    readonly_fields = fields

    @admin.display(description=_("channels per kind"))
    def channel_choices(self, obj: NotificationSettings) -> str:
        if not obj.channels:
            return gettext("The defaults")
        labels = dict(Channel.choices)
        kinds = dict(Kind.choices)
        parts = []
        for kind, channels in sorted(obj.channels.items()):
            chosen = ", ".join(str(labels.get(channel, channel)) for channel in channels) or gettext("nothing")
            parts.append(gettext("%(kind)s: %(channels)s") % {"kind": kinds.get(kind, kind), "channels": chosen})
        return "; ".join(parts)

    @admin.display(description=_("reminders"))
    def reminders(self, obj: NotificationSettings) -> str:
        if obj.reminder_minutes is None:
            return gettext("The defaults")
        if not obj.reminder_minutes:
            return pgettext("no reminders", "None")
        if not all(isinstance(value, int) for value in obj.reminder_minutes):
            return str(obj.reminder_minutes)
        return ", ".join(
            gettext("%(span)s before") % {"span": _minutes(value)}
            for value in sorted(obj.reminder_minutes, reverse=True)
        )

    @admin.display(description=_("updated"), ordering="updated_at")
    def updated(self, obj: NotificationSettings) -> str:
        return local(obj.updated_at)
