from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    name = "intake"
    verbose_name = _("Intake and private notes")

    def ready(self) -> None:
        from bookings import gates
        from config import crypto
        from intake.answers import IntakeAsker
        from intake.consents import ConsentGate

        # The booking wizard and the API ask for the consent documents through this hook.
        gates.register(ConsentGate())
        # … and for the intake forms' answers through this one.
        gates.register_asker(IntakeAsker())
        # Uploaded files' bytes (a Fernet token in a plain text column), a few per transaction.
        crypto.register_encrypted_column("intake.IntakeFile", "content", batch_size=5)
