from django.contrib import admin
from django.contrib.admin.utils import display_for_value
from django.utils.translation import gettext_lazy as _

from calendar_sync import services
from calendar_sync.models import CalendarConnection


@admin.register(CalendarConnection)
class CalendarConnectionAdmin(admin.ModelAdmin):
    """Staff see who connected what and how each read went; the address itself is a secret
    of the coach's and is shown masked. The columns the model gives no verbose name are
    methods here, so that their labels are translated."""

    list_display = ("name", "coach", "kind", "is_active", "last_read", "busy_times", "read_error")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "coach__email", "coach__name")
    readonly_fields = (
        "coach",
        "kind",
        "address",
        "username",
        "private_details",
        "created",
        "last_attempt",
        "last_read",
        "read_error",
        "failed_reads",
        "busy_until_shown",
        "busy_times",
    )
    fields = ("name", "is_active", "all_day_busy", "free_events_busy", *readonly_fields)

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description=_("address"))
    def address(self, obj: CalendarConnection) -> str:
        return display_for_value(obj.masked_url, self.get_empty_value_display())

    @admin.display(description=_("connected"), ordering="created_at")
    def created(self, obj: CalendarConnection) -> str:
        return display_for_value(obj.created_at, self.get_empty_value_display())

    @admin.display(description=_("last attempt"), ordering="last_attempt_at")
    def last_attempt(self, obj: CalendarConnection) -> str:
        return display_for_value(obj.last_attempt_at, self.get_empty_value_display())

    @admin.display(description=_("last read"), ordering="last_synced_at")
    def last_read(self, obj: CalendarConnection) -> str:
        return display_for_value(obj.last_synced_at, self.get_empty_value_display())

    @admin.display(description=_("last error"))
    def read_error(self, obj: CalendarConnection) -> str:
        return display_for_value(obj.last_error, self.get_empty_value_display())

    @admin.display(description=_("failures in a row"), ordering="failures")
    def failed_reads(self, obj: CalendarConnection) -> str:
        return display_for_value(obj.failures, self.get_empty_value_display())

    @admin.display(description=_("busy times read until"), ordering="busy_until")
    def busy_until_shown(self, obj: CalendarConnection) -> str:
        return display_for_value(obj.busy_until, self.get_empty_value_display())

    @admin.display(description=_("busy times"), ordering="events")
    def busy_times(self, obj: CalendarConnection) -> str:
        return display_for_value(obj.events, self.get_empty_value_display())

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if {"all_day_busy", "free_events_busy"} & set(form.changed_data):
            # The same calendar now gives other busy times: read it again in full.
            services.set_options(obj, all_day_busy=obj.all_day_busy, free_busy=obj.free_events_busy)
