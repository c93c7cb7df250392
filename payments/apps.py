from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = _("Payments")

    def ready(self) -> None:
        from bookings import payment_methods, relay
        from payments.consumer import on_booking_events
        from payments.methods import Credits

        # A consumer of the booking event stream: captures, voids, refunds, credits back.
        relay.register("payments", on_booking_events)
        # Credits, offered beside the gateway on the confirm step and in the API.
        payment_methods.register(Credits())
