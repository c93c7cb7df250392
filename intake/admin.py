"""The back office for consent documents: documents are edited here like on the pages; a
version is written once and never changed (a change is a new version); the records of who
accepted what are read-only. The coach's private notes are not here: they are their
author's alone."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from intake.models import ConsentDocument, ConsentRecord, ConsentVersion


class ConsentVersionInline(admin.TabularInline):
    model = ConsentVersion
    extra = 0
    fields = ("number", "published_at", "published_by")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(ConsentDocument)
class ConsentDocumentAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "owner", "required_before_booking", "created_at")
    list_filter = ("kind", "required_before_booking")
    search_fields = ("title", "owner__email", "owner__name")
    raw_id_fields = ("owner",)
    inlines = [ConsentVersionInline]


@admin.register(ConsentVersion)
class ConsentVersionAdmin(admin.ModelAdmin):
    """Versions are published from the consent pages; here they are read only."""

    list_display = ("document", "number", "published_at", "published_by")
    search_fields = ("document__title",)
    list_select_related = ("document", "published_by")
    readonly_fields = ("document", "number", "body", "published_at", "published_by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(ConsentRecord)
class ConsentRecordAdmin(admin.ModelAdmin):
    list_display = ("client", "version", "accepted_at", "ip_address", "accepted_by", "booking")
    list_filter = ("version__document__kind",)
    search_fields = ("client__email", "client__name", "version__document__title")
    list_select_related = ("client", "accepted_by", "version", "version__document", "booking")
    date_hierarchy = "accepted_at"
    readonly_fields = ("client", "accepted_by", "version", "accepted_at", "ip_address", "booking")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
