from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from bookings.services import booking_recorded
        from notifications.services import on_booking_recorded

        # In the booking's own transaction: its notifications and reminders commit with it.
        booking_recorded.connect(on_booking_recorded, dispatch_uid="notifications.record_change")
