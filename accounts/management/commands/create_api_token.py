from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.models import User


class Command(BaseCommand):
    help = "Create a personal API token for a user and print it (it is stored hashed and shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--name", default="Command line", help="A name to recognise the token by.")

    def handle(self, *args, email: str, name: str, **options) -> None:
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No user has the email address {email}.")
        if not user.is_active:
            raise CommandError(f"{email} is deactivated; its tokens would not work.")
        _, raw = services.create_api_token(user=user, name=name)
        self.stdout.write(raw)
