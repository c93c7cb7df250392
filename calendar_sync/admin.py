from django.contrib import admin

from calendar_sync import services
from calendar_sync.models import CalendarConnection


@admin.register(CalendarConnection)
class CalendarConnectionAdmin(admin.ModelAdmin):
    """Staff see who connected what and how each read went; the address itself is a secret
    of the coach's and is shown masked."""

    list_display = ("name", "coach", "kind", "is_active", "last_synced_at", "events", "last_error")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "coach__email", "coach__name")
    readonly_fields = (
        "coach",
        "kind",
        "masked_url",
        "username",
        "private_details",
        "created_at",
        "last_attempt_at",
        "last_synced_at",
        "last_error",
        "failures",
        "busy_until",
        "events",
    )
    fields = ("name", "is_active", "all_day_busy", "free_events_busy", *readonly_fields)

    def has_add_permission(self, request) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if {"all_day_busy", "free_events_busy"} & set(form.changed_data):
            # The same calendar now gives other busy times: read it again in full.
            services.set_options(obj, all_day_busy=obj.all_day_busy, free_busy=obj.free_events_busy)
