from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CalendarSyncConfig(AppConfig):
    name = "calendar_sync"
    verbose_name = _("Connected calendars")

    def ready(self) -> None:
        from bookings import relay
        from calendar_sync.writer import on_booking_events

        relay.register("calendar_sync", on_booking_events)
