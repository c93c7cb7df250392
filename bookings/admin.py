from django.contrib import admin

from bookings.models import Allocation


@admin.register(Allocation)
class AllocationAdmin(admin.ModelAdmin):
    list_display = ["start", "end", "staff", "resource", "kind", "is_active", "counts_toward_limits"]
    list_filter = ["kind", "is_active", "start"]
    search_fields = ["staff__email", "staff__name", "resource__name"]
    list_select_related = ["staff", "resource"]
    date_hierarchy = "start"
    readonly_fields = [f.name for f in Allocation._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False  # written only by the booking services, which check for conflicts

    def has_change_permission(self, request, obj=None) -> bool:
        return False
