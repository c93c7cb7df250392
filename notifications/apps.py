from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from bookings import relay
        from notifications.messages import forget_custom_templates
        from notifications.models import MessageTemplate
        from notifications.services import on_booking_events

        # A consumer of the booking event stream: after each change's commit, its
        # notifications and the booking's reminders.
        relay.register("notifications", on_booking_events)
        # Staff's templates are kept per process (messages.custom_templates); an edit is
        # seen at once here and within half a minute by the other processes.
        for signal in (post_save, post_delete):
            signal.connect(forget_custom_templates, sender=MessageTemplate, dispatch_uid=f"templates.{signal}")
