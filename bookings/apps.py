from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookings"
    verbose_name = "Bookings"

    def ready(self) -> None:
        from bookings import live, services

        services.booking_changed.connect(live.on_booking_changed, dispatch_uid="bookings.live")
