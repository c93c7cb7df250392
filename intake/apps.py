from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    name = "intake"
    verbose_name = _("Intake and private notes")

    def ready(self) -> None:
        from bookings import gates
        from intake.consents import ConsentGate

        # The booking wizard and the API ask for the consent documents through this hook.
        gates.register(ConsentGate())
