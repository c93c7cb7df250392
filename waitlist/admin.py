"""The waitlist in the back office: entries with their offers and staff's moves, read-only
(the pages and the API write through ``waitlist.services``; staff move people from a
session's queue page, with a reason)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from waitlist.models import WaitlistEntry, WaitlistMove, WaitlistOffer


class ReadOnly:
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class OfferInline(ReadOnly, admin.TabularInline):
    model = WaitlistOffer
    extra = 0
    fields = ["status", "offered_at", "expires_at", "answered_at", "score", "booking"]
    readonly_fields = fields


class MoveInline(ReadOnly, admin.TabularInline):
    model = WaitlistMove
    extra = 0
    fields = ["created_at", "actor", "from_position", "to_position", "adjustment", "reason"]
    readonly_fields = fields


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["client", "session", "status", "joined_at", "adjustment", "queue_link"]
    list_filter = ["status"]
    search_fields = ["client__email", "client__name", "session__session_type__title"]
    list_select_related = ["client", "session__session_type"]
    raw_id_fields = ["client", "added_by", "session", "booking"]
    readonly_fields = [
        "client",
        "added_by",
        "session",
        "status",
        "joined_at",
        "ended_at",
        "end_reason",
        "adjustment",
        "adjustment_reason",
        "booking",
    ]
    inlines = [OfferInline, MoveInline]

    @admin.display(description=_("Queue"))
    def queue_link(self, obj: WaitlistEntry) -> str:
        return format_html('<a href="{}">{}</a>', reverse("waitlist:queue", args=[obj.session_id]), _("Queue"))


@admin.register(WaitlistOffer)
class WaitlistOfferAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["entry", "session", "status", "offered_at", "expires_at", "score"]
    list_filter = ["status"]
    list_select_related = ["entry__client", "session__session_type"]
    raw_id_fields = ["entry", "session", "booking"]
    readonly_fields = ["entry", "session", "status", "offered_at", "expires_at", "answered_at", "score", "factors"]
