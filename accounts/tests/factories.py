"""factory_boy factories for people. Use ``UserFactory(role=...)`` or the role factories."""

from __future__ import annotations

import factory

from accounts import services
from accounts.models import ApiToken, Connection, GuardianLink, Role, User

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    name = factory.Faker("name")
    role = Role.CLIENT
    timezone = "Europe/Paris"

    @classmethod
    def _create(cls, model_class: type[User], *args: object, **kwargs: object) -> User:
        role = kwargs.pop("role", Role.CLIENT)
        superuser = kwargs.pop("is_superuser", False)
        language = kwargs.pop("language", "")
        user = services.create_user(
            email=kwargs.pop("email"),
            password=kwargs.pop("password", PASSWORD),
            name=kwargs.pop("name", ""),
            role=role,
            timezone_name=kwargs.pop("timezone", "UTC"),
            phone=kwargs.pop("phone", ""),
            email_verified=kwargs.pop("email_verified", True),
            is_superuser=superuser,
        )
        if language:
            services.set_language(user=user, language=language)
        return user


class ClientFactory(UserFactory):
    role = Role.CLIENT


class CoachFactory(UserFactory):
    role = Role.COACH
    timezone = "America/New_York"


class StaffFactory(UserFactory):
    role = Role.STAFF
    timezone = "Asia/Kolkata"


class AdminFactory(UserFactory):
    role = Role.STAFF
    is_superuser = True
    timezone = "UTC"


class ConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Connection

    client = factory.SubFactory(ClientFactory)
    coach = factory.SubFactory(CoachFactory)


class GuardianLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GuardianLink

    guardian = factory.SubFactory(ClientFactory)
    dependent = factory.SubFactory(ClientFactory)
    relationship = "parent"


def make_token(user: User, name: str = "script") -> tuple[ApiToken, str]:
    return services.create_api_token(user=user, name=name)
