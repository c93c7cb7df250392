from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from bookings import relay
        from payments.consumer import on_booking_events

        # A consumer of the booking event stream: captures, voids, refunds, credits back.
        relay.register("payments", on_booking_events)
