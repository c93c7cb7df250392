from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from bookings.services import booking_recorded
        from notifications.messages import forget_custom_templates
        from notifications.models import MessageTemplate
        from notifications.services import on_booking_recorded

        # In the booking's own transaction: its notifications and reminders commit with it.
        booking_recorded.connect(on_booking_recorded, dispatch_uid="notifications.record_change")
        # Staff's templates are kept per process (messages.custom_templates); an edit is
        # seen at once here and within half a minute by the other processes.
        for signal in (post_save, post_delete):
            signal.connect(forget_custom_templates, sender=MessageTemplate, dispatch_uid=f"templates.{signal}")
