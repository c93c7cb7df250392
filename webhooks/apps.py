from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        from bookings import relay
        from webhooks.consumer import on_booking_events

        # A consumer of the booking event stream: each change a registered endpoint wants
        # becomes a delivery, sent by the task (webhooks.tasks), never inside the relay.
        relay.register("webhooks", on_booking_events)
