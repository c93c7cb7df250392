from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from bookings import relay
        from reports.rollups import on_booking_events

        # A consumer of the booking event stream: the reports' facts and rollups.
        relay.register("reports", on_booking_events)
