"""Demo people for trying the product: an admin, staff, three coaches, five clients.

Idempotent: running it again updates the same accounts instead of adding more.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import services
from accounts.models import CoachProfile, Connection, ConnectionStatus, GuardianLink, Role, User
from availability.models import TimeOff

DEMO_PASSWORD = "demo-pass-2026"

# weekday (0 = Monday) -> windows of (hour, minute) pairs, in each coach's own zone.
DEMO_WEEKS = {
    "camille.laurent@demo.booking.test": {
        0: [((9, 0), (12, 30)), ((14, 0), (18, 0))],
        1: [((9, 0), (12, 30)), ((14, 0), (18, 0))],
        2: [((9, 0), (13, 0))],
        3: [((9, 0), (12, 30)), ((14, 0), (19, 0))],
        4: [((9, 0), (12, 0)), ((13, 30), (16, 0))],
    },
    "marcus.bennett@demo.booking.test": {
        0: [((15, 0), (18, 0)), ((19, 0), (21, 0))],
        1: [((15, 0), (18, 0)), ((19, 0), (21, 0))],
        2: [((15, 0), (18, 0)), ((19, 0), (21, 0))],
        3: [((15, 0), (18, 0)), ((19, 0), (21, 0))],
        5: [((10, 0), (14, 0))],
    },
    "priya.raman@demo.booking.test": {
        0: [((10, 0), (13, 0)), ((17, 0), (21, 0))],
        1: [((10, 0), (13, 0)), ((17, 0), (21, 0))],
        3: [((10, 0), (13, 0)), ((17, 0), (21, 0))],
        4: [((10, 0), (13, 0)), ((17, 0), (21, 0))],
        5: [((10, 0), (13, 0))],
    },
}


@dataclass(frozen=True)
class DemoPerson:
    email: str
    name: str
    role: str
    timezone: str
    phone: str = ""
    headline: str = ""
    bio: str = ""
    superuser: bool = False


PEOPLE = [
    DemoPerson("admin@demo.booking.test", "Alex Morgan", Role.STAFF, "Europe/London", superuser=True),
    DemoPerson("staff@demo.booking.test", "Jordan Blake", Role.STAFF, "Europe/London", "+442071838750"),
    DemoPerson(
        "camille.laurent@demo.booking.test",
        "Camille Laurent",
        Role.COACH,
        "Europe/Paris",
        "+33612345678",
        "Career & leadership coach",
        "Twelve years helping managers find their footing. Sessions in English or French.",
    ),
    DemoPerson(
        "marcus.bennett@demo.booking.test",
        "Marcus Bennett",
        Role.COACH,
        "America/New_York",
        "+12125550143",
        "Maths & physics tutor",
        "High-school and first-year university maths and physics; exam preparation.",
    ),
    DemoPerson(
        "priya.raman@demo.booking.test",
        "Priya Raman",
        Role.COACH,
        "Asia/Kolkata",
        "+919876543210",
        "Counselling psychologist",
        "Stress, anxiety and life transitions. Online sessions across time zones.",
    ),
    DemoPerson("sofia.marquez@demo.booking.test", "Sofia Márquez", Role.CLIENT, "Europe/Madrid"),
    DemoPerson("liam.oconnor@demo.booking.test", "Liam O'Connor", Role.CLIENT, "Europe/Dublin"),
    DemoPerson("aisha.khan@demo.booking.test", "Aisha Khan", Role.CLIENT, "Asia/Dubai"),
    DemoPerson("noah.fischer@demo.booking.test", "Noah Fischer", Role.CLIENT, "Europe/Berlin"),
    DemoPerson("emma.dubois@demo.booking.test", "Emma Dubois", Role.CLIENT, "America/Toronto"),
]


class Command(BaseCommand):
    help = f"Create or refresh the demo accounts (password for all: {DEMO_PASSWORD})."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        users = {person.email: self._upsert(person) for person in PEOPLE}
        # Sofia and Liam are connected with Camille; Aisha is waiting for Marcus.
        camille = users["camille.laurent@demo.booking.test"]
        marcus = users["marcus.bennett@demo.booking.test"]
        for client_email, coach, status in [
            ("sofia.marquez@demo.booking.test", camille, ConnectionStatus.ACCEPTED),
            ("liam.oconnor@demo.booking.test", camille, ConnectionStatus.ACCEPTED),
            ("aisha.khan@demo.booking.test", marcus, ConnectionStatus.PENDING),
        ]:
            Connection.objects.update_or_create(
                client=users[client_email],
                coach=coach,
                defaults={"status": status, "message": "Hello! I'd like to work with you."},
            )
        # Emma books for Noah, her son.
        GuardianLink.objects.get_or_create(
            guardian=users["emma.dubois@demo.booking.test"],
            dependent=users["noah.fischer@demo.booking.test"],
            defaults={"relationship": "parent"},
        )
        self._seed_availability(users)
        self.stdout.write(self.style.SUCCESS("Demo data ready. Log in at http://127.0.0.1:8000/accounts/login/ with:"))
        for person in PEOPLE:
            label = "admin" if person.superuser else person.role
            self.stdout.write(f"  {label:<7} {person.email:<38} {person.timezone}")
        self.stdout.write(f"  password for every demo account: {DEMO_PASSWORD}")

    def _seed_availability(self, users: dict[str, User]) -> None:
        """A realistic week per coach (two windows most days), an override or two and a
        holiday, placed relative to today so the demo always has something to book."""
        from availability import services as availability

        today = dt.date.today()
        for email, week in DEMO_WEEKS.items():
            coach = users[email]
            weekly = [
                availability.WindowSpec(weekday, dt.time(*start), dt.time(*end))
                for weekday, windows in week.items()
                for start, end in windows
            ]
            first_monday = today + dt.timedelta(days=7 - today.weekday())
            overrides = [
                # A half day on the first Friday ahead, and a Saturday morning clinic.
                availability.OverrideSpec(
                    first_monday + dt.timedelta(days=4), ((dt.time(9), dt.time(12)),), "Half day"
                ),
                availability.OverrideSpec(
                    first_monday + dt.timedelta(days=12), ((dt.time(10), dt.time(13)),), "Saturday clinic"
                ),
            ]
            availability.replace_availability(coach=coach, actor=coach, weekly=weekly, overrides=overrides)
            holiday_start = first_monday + dt.timedelta(days=21)
            TimeOff.objects.update_or_create(
                coach=coach,
                reason="Holiday",
                defaults={"start_date": holiday_start, "end_date": holiday_start + dt.timedelta(days=4)},
            )

    def _upsert(self, person: DemoPerson) -> User:
        user = User.objects.filter(email=person.email).first()
        if user is None:
            user = services.create_user(
                email=person.email,
                password=DEMO_PASSWORD,
                name=person.name,
                role=person.role,
                timezone_name=person.timezone,
                phone=person.phone,
                email_verified=True,
                is_superuser=person.superuser,
            )
        else:
            user.name, user.timezone, user.phone = person.name, person.timezone, person.phone
            user.is_active = True
            user.set_password(DEMO_PASSWORD)
            user.save()
            services.set_role(user=user, role=person.role)
            EmailAddress.objects.update_or_create(
                user=user, email=user.email, defaults={"verified": True, "primary": True}
            )
        if person.role == Role.COACH:
            CoachProfile.objects.filter(user=user).update(headline=person.headline, bio=person.bio)
        return user
