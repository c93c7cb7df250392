from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from bookings.services import booking_changed
        from notifications.services import on_booking_changed

        booking_changed.connect(on_booking_changed, dispatch_uid="notifications.in_app")
