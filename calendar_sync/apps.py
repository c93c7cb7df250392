from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CalendarSyncConfig(AppConfig):
    name = "calendar_sync"
    verbose_name = _("Connected calendars")

    def ready(self) -> None:
        from bookings import relay
        from calendar_sync.writer import on_booking_events

        relay.register("calendar_sync", on_booking_events)
        # A CalDAV account's password and an OAuth account's tokens are ``crypto.encrypt``
        # output in plain text columns: key rotation re-encrypts them too.
        from config import crypto

        crypto.register_encrypted_column("calendar_sync.CalendarConnection", "password_encrypted")
        crypto.register_encrypted_column("calendar_sync.CalendarConnection", "token_encrypted")
