from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WaitlistConfig(AppConfig):
    name = "waitlist"
    verbose_name = _("Waitlist")

    def ready(self) -> None:
        from bookings import relay, waiting
        from waitlist import services
        from waitlist.consumer import on_booking_events

        # A consumer of the booking event stream: a seat that frees is offered.
        relay.register("waitlist", on_booking_events)
        # The booking services ask who waits before giving a free seat away.
        waiting.register(waiting.Waitlist(waiting=services.waiting_count, may_join=services.may_join))
