"""Staff see that an erasure happened (or waits), never who it was beyond the account's id."""

from django.contrib import admin

from pages.models import ErasureRecord


@admin.register(ErasureRecord)
class ErasureRecordAdmin(admin.ModelAdmin):
    list_display = ["pk", "account_id", "source", "status", "requested_at", "due_at", "done_at", "blocked"]
    list_filter = ["status", "source", "blocked"]
    search_fields = ["=account_id"]
    date_hierarchy = "requested_at"
    readonly_fields = [field.name for field in ErasureRecord._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
