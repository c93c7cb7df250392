"""Demo data for trying the product: an admin, staff, three coaches, five clients, their
availability, session types, a calendar of bookings in every status, and half a year of
past sessions before it for the reports (``pages.history``).

Idempotent: running it again updates the same accounts and session types instead of adding
more, and leaves the calendar and the history alone once the demo coaches have them.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts import services
from accounts.models import (
    ClientTag,
    ClientTagging,
    CoachProfile,
    Connection,
    ConnectionStatus,
    GuardianLink,
    Role,
    Subject,
    User,
)
from availability.models import Resource, ResourceHours, TagRule, TimeOff
from availability.selectors import free_slots, local_midnight
from bookings import services as booking_services
from bookings.models import (
    Booking,
    BookingStatus,
    HostMode,
    Modality,
    Series,
    SeriesFrequency,
    Session,
    SessionKind,
    SessionType,
)
from bookings.services import series as series_services
from bookings.services import workshops as workshop_services
from bookings.video import default_video
from intake import builder, consents
from intake.models import AskWhen, ConsentDocument, ConsentKind, IntakeForm
from pages.history import history_exists, make_history
from waitlist import services as waitlist_services

DEMO_PASSWORD = "demo-pass-2026"
# Four weeks ahead, so the demo's group sessions and workshops can be booked.
DEMO_BOOKING_WINDOW_DAYS = 28
# Past sessions before the calendar, for the reports: weeks, and sessions per coach a week.
HISTORY_WEEKS = 26
HISTORY_SESSIONS_PER_WEEK = 4

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
        from notifications.models import Delivery

        last_delivery = Delivery.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        self.stdout.write(DemoCalendar(users).seed())
        self._seed_practice(users)
        self._seed_money(users)
        self._seed_intake(users)
        # After the calendar's payments (``_seed_money`` pays them only while no booking has one).
        self.stdout.write(self._seed_history(users))
        self._quiet_demo_messages(after=last_delivery)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready. Log in at {settings.SITE_URL}/accounts/login/ with:"))
        for person in PEOPLE:
            label = "admin" if person.superuser else person.role
            self.stdout.write(f"  {label:<7} {person.email:<38} {person.timezone}")
        self.stdout.write(f"  password for every demo account: {DEMO_PASSWORD}")

    def _seed_intake(self, users: dict[str, User]) -> None:
        """Priya, a counselling psychologist, asks new clients to accept her consent to
        counselling and answer a short intake form (three steps) before their first
        consultation with her."""
        priya = users["priya.raman@demo.booking.test"]
        if not ConsentDocument.objects.filter(owner=priya).exists():
            consents.create_document(
                actor=priya,
                kind=ConsentKind.TREATMENT,
                title="Consent to counselling and to the keeping of notes",
                body=(
                    "Counselling sessions are confidential: what you say stays between us, except where "
                    "someone's safety is at risk or the law requires otherwise.\n\n"
                    "I keep brief notes of our sessions and your intake answers, encrypted, for seven "
                    "years after our last session; you may ask to see them or to have them erased.\n\n"
                    "You may end the counselling at any time."
                ),
            )
        if IntakeForm.objects.filter(owner=priya).exists():
            return
        form = builder.create_form(actor=priya, title="Before our first session")
        steps = [
            (
                "About you",
                [
                    {"kind": "short_text", "label": "What should I call you?", "required": True},
                    {"kind": "date", "label": "Date of birth", "required": False},
                ],
            ),
            (
                "What brings you here",
                [
                    {
                        "kind": "long_text",
                        "label": "What would you like to work on?",
                        "required": True,
                        "help_text": "A few sentences are enough; we will talk it through.",
                    },
                    {"kind": "yes_no", "label": "Have you had counselling before?", "required": True},
                ],
            ),
            (
                "Your goals",
                [
                    {
                        "kind": "multiple_choice",
                        "label": "Which areas matter most right now?",
                        "required": True,
                        "choices": "Stress\nSleep\nWork\nRelationships\nLife changes",
                    },
                    {"kind": "scale", "label": "How are you feeling this week, from 1 to 10?", "required": True},
                ],
            ),
        ]
        for index, (title, questions) in enumerate(steps):
            step = builder.editable(form).steps.get() if index == 0 else builder.add_step(form=form, title=title)
            if index == 0:
                builder.update_step(step=step, title=title, intro="")
            for data in questions:
                builder.add_question(step=step, data={"help_text": "", "choices": "", **data})
        builder.publish(form=form, actor=priya)
        consultation = SessionType.objects.get(coach=priya, title="Counselling consultation")
        builder.set_asks(form=form, actor=priya, wanted={consultation.pk: AskWhen.FIRST_BOOKING})

    def _seed_history(self, users: dict[str, User]) -> str:
        """About four sessions a week per demo coach with the demo clients, over the 26 weeks
        before the calendar's first session (written in bulk, ``pages.history``), for the
        reports to have months to show. Once: history already written is kept."""
        coaches = [users[email] for email in DEMO_TYPES]
        if history_exists(coaches):
            return "Demo history kept."
        first = Session.objects.filter(coach__in=coaches).order_by("start").values_list("start", flat=True).first()
        now = timezone.now()
        before = first or now
        # The day before the calendar's first session, in the zone where that day comes first.
        last_day = min(before.astimezone(ZoneInfo(coach.timezone)).date() for coach in coaches) - dt.timedelta(days=1)
        last_day = min(last_day, now.astimezone(dt.UTC).date() - dt.timedelta(days=1))
        made = make_history(
            coaches=coaches,
            clients=[users[person.email] for person in PEOPLE if person.role == Role.CLIENT],
            first_day=last_day - dt.timedelta(weeks=HISTORY_WEEKS) + dt.timedelta(days=1),
            last_day=last_day,
            sessions_per_coach_per_week=HISTORY_SESSIONS_PER_WEEK,
            now=now,
        )
        return f"Demo history created: {made.sessions} sessions, {made.bookings} bookings before the calendar."

    def _seed_practice(self, users: dict[str, User]) -> None:
        """Subjects, the Paris office's rooms, a type held there, a co-coached type, a team
        intro call, and client tags with their rules (after the calendar, which stays as
        it was)."""
        camille = users["camille.laurent@demo.booking.test"]
        marcus = users["marcus.bennett@demo.booking.test"]
        priya = users["priya.raman@demo.booking.test"]
        for coach, names in [
            (camille, ["Leadership", "Career change"]),
            (marcus, ["Mathematics", "Physics"]),
            (priya, ["Counselling", "Career change"]),
        ]:
            coach.coach_profile.subjects.add(*(Subject.objects.get_or_create(name=name)[0] for name in names))
        rooms = []
        for name, capacity in [("Seine", 2), ("Atelier", 12)]:
            room, made = Resource.objects.get_or_create(
                name=name,
                location="Paris office, 12 rue de la Paix",
                defaults={"kind": "room", "capacity": capacity, "timezone": "Europe/Paris"},
            )
            if made:
                ResourceHours.objects.bulk_create(
                    ResourceHours(resource=room, weekday=day, start=dt.time(8, 30), end=dt.time(19)) for day in range(5)
                )
            rooms.append(room)
        in_person, _ = SessionType.objects.update_or_create(
            coach=camille,
            title="In-person session (Paris office)",
            defaults={
                "description": "One hour, one to one, in a room of the Paris office.",
                "duration_minutes": 60,
                "price": Decimal("110.00"),
                "currency": "EUR",
                "modality": Modality.IN_PERSON,
                "resource_kind": "room",
                "position": 10,
            },
        )
        in_person.resources.set(rooms[:1])
        joint, _ = SessionType.objects.update_or_create(
            coach=camille,
            title="Career change, with Camille and Priya",
            defaults={
                "description": "Ninety minutes with a career coach and a counselling psychologist together.",
                "duration_minutes": 90,
                "price": Decimal("160.00"),
                "currency": "EUR",
                "host_mode": HostMode.ALL,
                "position": 11,
            },
        )
        joint.co_hosts.set([priya])
        intro, _ = SessionType.objects.update_or_create(
            coach=priya,
            title="Free intro call with the team",
            defaults={
                "description": "Twenty minutes with whichever of us is free first, to find the right coach.",
                "duration_minutes": 20,
                "price": Decimal("0.00"),
                "currency": "INR",
                "host_mode": HostMode.ANY,
                "position": 10,
            },
        )
        intro.co_hosts.set([camille, marcus])
        vip, _ = ClientTag.objects.get_or_create(
            coach=camille, name="VIP", defaults={"description": "Long-standing clients", "priority": 10}
        )
        TagRule.objects.get_or_create(
            tag=vip, session_type=None, defaults={"approval": "never", "minimum_notice_hours": 0}
        )
        sliding, _ = ClientTag.objects.get_or_create(
            coach=None, name="Sliding scale", defaults={"description": "Reduced fee agreed with the practice"}
        )
        TagRule.objects.get_or_create(tag=sliding, session_type=None, defaults={"price_adjustment_percent": -30})
        for tag, email in [(vip, "sofia.marquez@demo.booking.test"), (sliding, "noah.fischer@demo.booking.test")]:
            ClientTagging.objects.get_or_create(tag=tag, client=users[email], defaults={"added_by": tag.coach})

    def _seed_money(self, users: dict[str, User]) -> None:
        """Prices and money: Camille's discount for connected clients, an early-bird price
        and a deposit on her workshop, a welcome code, a package of credits (Sofia holds
        some), Marcus's exam course (Noah is enrolled) and its enrolled-only lesson, and the
        calendar's payments (each priced booking paid on the local gateway when it was made)."""
        from django.db.models import F

        from bookings.models import Enrollment, EnrollmentSource, Programme, PromoCode
        from config.money import to_minor
        from payments import credits
        from payments.models import Backend, Package, Payment, PaymentStatus

        camille = users["camille.laurent@demo.booking.test"]
        marcus = users["marcus.bennett@demo.booking.test"]
        CoachProfile.objects.filter(user=camille).update(connected_discount_percent=10)
        SessionType.objects.filter(coach=camille, kind=SessionKind.WORKSHOP).update(
            early_bird_price=Decimal("95.00"), early_bird_days=14, deposit=Decimal("40.00"), balance_due_days=7
        )
        SessionType.objects.filter(coach=camille, kind=SessionKind.ONE_ON_ONE).update(
            late_cancellation_refund_percent=50
        )
        PromoCode.objects.get_or_create(
            code="WELCOME10",
            defaults={"description": "10% off a first session", "percent_off": 10, "max_uses": 100},
        )
        consultation = SessionType.objects.get(coach=camille, title="Career consultation")
        package, made = Package.objects.get_or_create(
            coach=camille,
            title="Five career consultations",
            defaults={"credits": 5, "price_minor": 40500, "currency": "EUR", "validity_days": 180},
        )
        package.session_types.set([consultation])
        sofia = users[SOFIA]
        if made:
            credits.grant(sofia, credits=3, package=package, note="Bought: Five career consultations")
        lesson, _ = SessionType.objects.update_or_create(
            coach=marcus,
            title="Exam course lesson",
            defaults={
                "description": "A lesson of the exam preparation course (enrolled students).",
                "duration_minutes": 60,
                "price": Decimal("0.00"),
                "currency": "USD",
                "requires_enrollment": True,
                "position": 10,
            },
        )
        course, _ = Programme.objects.get_or_create(
            coach=marcus,
            title="Exam preparation course",
            defaults={
                "description": "Eight one-to-one lessons before the exams.",
                "allowance": 8,
                "price": Decimal("400.00"),
                "currency": "USD",
                "validity_days": 120,
            },
        )
        course.session_types.set([lesson])
        if not Enrollment.objects.filter(programme=course).exists():
            Enrollment.objects.create(
                client=users[NOAH],
                programme=course,
                source=EnrollmentSource.COACH,
                enrolled_by=marcus,
                starts_at=timezone.now(),
                ends_at=timezone.now() + dt.timedelta(days=120),
            )
        if not Payment.objects.filter(booking__isnull=False).exists():
            paid = (
                Booking.objects.filter(price__gt=0)
                .exclude(status__in=[BookingStatus.AWAITING_PAYMENT, BookingStatus.DECLINED])
                .exclude(status=BookingStatus.REQUESTED)
                # A series' coming sessions are paid later, or up front at its discount.
                .exclude(series__isnull=False, session__start__gt=timezone.now())
            )
            Payment.objects.bulk_create(
                Payment(
                    client_id=booking.client_id,
                    booking=booking,
                    backend=Backend.LOCAL,
                    amount_minor=to_minor(booking.price, booking.currency),
                    currency=booking.currency,
                    status=PaymentStatus.PAID,
                    checkout_id=f"cs_local_demo_{booking.pk}",
                    paid_at=booking.confirmed_at or booking.created_at,
                )
                for booking in paid
            )
            # Each was paid when its booking was made.
            Payment.objects.filter(booking__isnull=False, paid_at__isnull=False).update(created_at=F("paid_at"))

    def _quiet_demo_messages(self, *, after: int) -> None:
        """The demo calendar's bookings leave their in-app notifications and reminders, but
        the emails and SMS of making them are not sent: the worker would print hundreds."""
        from notifications.models import Channel, Delivery, DeliveryStatus

        Delivery.objects.filter(
            pk__gt=after, status=DeliveryStatus.QUEUED, channel__in=[Channel.EMAIL, Channel.SMS]
        ).update(status=DeliveryStatus.SKIPPED, error="Demo data: not sent.", next_attempt_at=None)

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
            CoachProfile.objects.filter(user=user).update(
                headline=person.headline, bio=person.bio, booking_window_days=DEMO_BOOKING_WINDOW_DAYS
            )
        return user


# ---------------------------------------------------------------------------------------
# Session types and a calendar of bookings
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoType:
    key: str  # consultation / group / workshop
    title: str
    kind: str
    minutes: int
    capacity: int
    price: str
    description: str


DEMO_TYPES = {
    "camille.laurent@demo.booking.test": (
        "EUR",
        [
            DemoType("consultation", "Career consultation", "one_on_one", 60, 1, "90.00", "One hour, one to one."),
            DemoType("group", "Leadership circle", "group", 90, 6, "35.00", "A small group of new managers."),
            DemoType("workshop", "Managing your first team", "workshop", 180, 10, "120.00", "A half-day workshop."),
        ],
    ),
    "marcus.bennett@demo.booking.test": (
        "USD",
        [
            DemoType("consultation", "Tutoring session", "one_on_one", 60, 1, "60.00", "Maths or physics, one to one."),
            DemoType("group", "Exam prep group", "group", 90, 6, "25.00", "Past papers worked through together."),
            DemoType("workshop", "Physics problem-solving", "workshop", 180, 10, "80.00", "Three hours of practice."),
        ],
    ),
    "priya.raman@demo.booking.test": (
        "INR",
        [
            DemoType("consultation", "Counselling consultation", "one_on_one", 60, 1, "2500.00", "A first talk."),
            DemoType("group", "Mindfulness group", "group", 60, 8, "800.00", "Guided practice in a small group."),
            DemoType("workshop", "Stress resilience workshop", "workshop", 180, 10, "3000.00", "Tools for hard weeks."),
        ],
    ),
}

SOFIA = "sofia.marquez@demo.booking.test"
LIAM = "liam.oconnor@demo.booking.test"
AISHA = "aisha.khan@demo.booking.test"
NOAH = "noah.fischer@demo.booking.test"
EMMA = "emma.dubois@demo.booking.test"
STAFF = "staff@demo.booking.test"

# Refusals that only mean "that time doesn't suit these two people": try the next time.
RETRY_CODES = {"slot_taken", "client_conflict", "limit_reached", "outside_availability", "too_soon"}


@contextmanager
def _clock_at(moment: dt.datetime | None):
    """Run services as of ``moment``. Every service is also given ``now=moment``; when
    time_machine is installed (it is with ``make run``) the clock moves too, so the history's
    own timestamps (when booked, when completed) read true for the past part of the demo."""
    if moment is None:
        yield
        return
    try:
        import time_machine
    except ImportError:  # production installs: the services' ``now`` is enough
        yield
        return
    with time_machine.travel(moment, tick=False):
        yield


class DemoCalendar:
    """Session types for each demo coach and a few weeks of sessions and bookings around
    today, every one written by the booking services (so the ledger, the history and the
    constraints hold as they would for real bookings)."""

    def __init__(self, users: dict[str, User]) -> None:
        # Fresh rows: the coaches' profiles were just updated behind the cached ones.
        self.users = {user.email: user for user in User.objects.filter(pk__in=[u.pk for u in users.values()])}
        self.now = timezone.now().replace(second=0, microsecond=0)
        self.types: dict[str, dict[str, SessionType]] = {}

    def seed(self) -> str:
        for email in DEMO_TYPES:
            self.types[email] = self._session_types(email)
        coaches = [self.users[email] for email in DEMO_TYPES]
        if Session.objects.filter(coach__in=coaches).exists():
            made = "kept"
        else:
            self._calendar()
            made = "created"
        sessions = Session.objects.filter(coach__in=coaches)
        bookings = Booking.objects.filter(session__coach__in=coaches)
        return (
            f"Demo calendar {made}: {sessions.count()} sessions, {bookings.count()} bookings, "
            f"{bookings.filter(status=BookingStatus.REQUESTED).count()} pending requests."
        )

    def _session_types(self, email: str) -> dict[str, SessionType]:
        currency, specs = DEMO_TYPES[email]
        coach = self.users[email]
        made = {}
        for spec in specs:
            capacity = min(spec.capacity, settings.MAX_GROUP_CAPACITY) if spec.kind != SessionKind.ONE_ON_ONE else 1
            made[spec.key], _ = SessionType.objects.update_or_create(
                coach=coach,
                title=spec.title,
                defaults={
                    "kind": spec.kind,
                    "description": spec.description,
                    "duration_minutes": spec.minutes,
                    "capacity": capacity,
                    "price": Decimal(spec.price),
                    "currency": currency,
                    "modality": Modality.ONLINE,
                    # A private video room for each session on the site's video server.
                    "video": default_video(modality=Modality.ONLINE),
                    "meeting_link": "",
                    # A client may still cancel a consultation late; it is marked as such.
                    "allow_late_cancellation": spec.key == "consultation",
                    # A series of consultations paid up front costs 10 % less.
                    "series_discount_percent": 10 if spec.key == "consultation" else 0,
                    # Workshops take place with at least three people (decided two days
                    # before), show who is coming and give a certificate of attendance.
                    "min_participants": 3 if spec.kind == SessionKind.WORKSHOP else None,
                    "confirm_hours_before": 48,
                    "show_participants": spec.kind == SessionKind.WORKSHOP,
                    "certificate": spec.kind == SessionKind.WORKSHOP,
                    "is_active": True,
                },
            )
        return made

    # --- finding times ------------------------------------------------------------------

    def _today(self, coach: User) -> dt.date:
        return self.now.astimezone(ZoneInfo(coach.timezone)).date()

    def _midnight(self, coach: User, day: dt.date) -> dt.datetime:
        return local_midnight(day, ZoneInfo(coach.timezone))

    def _days(self, coach: User, offset: int) -> list[dt.date]:
        """Coach-local days from ``offset`` days after today: past ones end before
        yesterday, future ones start the day after tomorrow and stay in the booking window."""
        today = self._today(coach)
        if offset < 0:
            candidates = [today + dt.timedelta(days=offset - n) for n in range(14)]
            return [day for day in candidates if day <= today - dt.timedelta(days=2)]
        candidates = [today + dt.timedelta(days=offset + n) for n in range(14)]
        last = today + dt.timedelta(days=DEMO_BOOKING_WINDOW_DAYS - 3)
        return [day for day in candidates if dt.timedelta(days=2) <= day - today and day <= last]

    def _starts(self, session_type: SessionType, day: dt.date, now: dt.datetime) -> list[dt.datetime]:
        coach = session_type.coach
        slots = free_slots(
            coach=coach,
            start_date=day,
            end_date=day,
            viewer_tz=ZoneInfo(coach.timezone),
            session_type=session_type,
            now=now,
        )
        return [slot.start for slot in slots]

    def _booked_on(self, coach: User, day: dt.date, lead: dt.timedelta) -> dt.datetime | None:
        """When a past session on ``day`` was booked: ``lead`` before the day began."""
        if day >= self._today(coach):
            return None
        return self._midnight(coach, day) - lead

    # --- one-on-one ---------------------------------------------------------------------

    def book(
        self,
        client: str,
        coach: str,
        offset: int,
        *,
        booked_by: str | None = None,
        notes: str = "",
        hold: bool = False,
    ) -> tuple[Booking, dt.datetime | None]:
        """Book the coach's consultation for ``client`` on the first day from ``offset``
        with a time that suits both; returns the booking and, for a past one, when it was made.
        The calendar's bookings are paid already (``_seed_money`` records it); ``hold``
        leaves one waiting for its payment."""
        session_type = self.types[coach]["consultation"]
        for day in self._days(session_type.coach, offset):
            moment = self._booked_on(session_type.coach, day, dt.timedelta(days=3))
            starts = self._starts(session_type, day, moment or self.now)
            # Spread the demo over the day rather than stacking it at opening time.
            starts = starts[len(starts) // 3 :] + starts[: len(starts) // 3]
            for start in starts:
                try:
                    with _clock_at(moment):
                        booking = booking_services.book_slot(
                            client=self.users[client],
                            session_type=session_type,
                            start=start,
                            booked_by=self.users[booked_by] if booked_by else None,
                            notes=notes,
                            now=moment or self.now,
                            hold_for_payment=hold,
                        )
                except booking_services.BookingRefused as refused:
                    if refused.code in RETRY_CODES:
                        continue
                    raise
                return booking, moment
        raise CommandError(f"No free time for {client} with {coach} around day {offset}.")

    def series(self, client: str, coach: str, offset: int, *, frequency: str, count: int) -> Series:
        """A recurring series of the coach's consultation for ``client`` from the first day
        from ``offset`` with a free time, at a late hour; dates already taken are skipped."""
        session_type = self.types[coach]["consultation"]
        for day in self._days(session_type.coach, offset):
            for start in reversed(self._starts(session_type, day, self.now)):
                try:
                    made, _outcomes = series_services.book_series(
                        client=self.users[client],
                        session_type=session_type,
                        start=start,
                        frequency=frequency,
                        count=count,
                        on_conflict=series_services.SKIP,
                        now=self.now,
                    )
                except booking_services.BookingRefused as refused:
                    if refused.code in RETRY_CODES:
                        continue
                    raise
                return made
        raise CommandError(f"No free time for a series of {client} with {coach} around day {offset}.")

    def firm(self, booking: Booking, moment: dt.datetime | None) -> Booking:
        """A request answered yes by the coach an hour later; a firm booking stays as it is."""
        if booking.status == BookingStatus.REQUESTED:
            later = moment + dt.timedelta(hours=1) if moment else None
            with _clock_at(later):
                booking = booking_services.approve(booking=booking, actor=booking.session.coach, now=later or self.now)
        return booking

    def finish(self, booking: Booking, *, rating: int | None = None, feedback: str = "", no_show=False) -> None:
        """A past session takes place: the coach closes it (or marks the client absent)."""
        session, coach = booking.session, booking.session.coach
        if no_show:
            at = session.start + dt.timedelta(minutes=15)
            with _clock_at(at):
                booking_services.mark_no_show(booking=booking, actor=coach, now=at)
        at = session.end + dt.timedelta(minutes=10)
        with _clock_at(at):
            booking_services.mark_completed(session=session, actor=coach, now=at)
        if rating is not None:
            booking.refresh_from_db()
            at = session.end + dt.timedelta(hours=3)
            with _clock_at(at):
                booking_services.rate(booking=booking, actor=booking.client, rating=rating, feedback=feedback)

    # --- group sessions and workshops -----------------------------------------------------

    def publish(
        self, coach: str, key: str, offset: int, clients: list[str], *, capacity: int | None = None
    ) -> Session | None:
        """Publish the coach's ``key`` type on the first suitable day from ``offset`` and
        seat ``clients`` (someone busy at that time is skipped)."""
        if not settings.ENABLE_GROUP_SESSIONS:
            return None
        session_type = self.types[coach][key]
        coach_user = session_type.coach
        for day in self._days(coach_user, offset):
            moment = self._booked_on(coach_user, day, dt.timedelta(days=10))
            starts = self._starts(session_type, day, moment or self.now)
            if not starts:
                continue
            with _clock_at(moment):
                session = booking_services.publish_session(
                    actor=coach_user,
                    session_type=session_type,
                    start=starts[len(starts) // 2],
                    capacity=capacity,
                    now=moment or self.now,
                )
            for n, client in enumerate(clients):
                at = moment + dt.timedelta(days=1, hours=n) if moment else None
                try:
                    with _clock_at(at):
                        booked_by = self.users[EMMA] if client == NOAH else None
                        booking_services.take_seat(
                            client=self.users[client],
                            session=session,
                            booked_by=booked_by,
                            now=at or self.now,
                            hold_for_payment=False,
                        )
                except booking_services.BookingRefused as refused:
                    if refused.code not in RETRY_CODES | {"full"}:
                        raise
            session.refresh_from_db()
            return session
        raise CommandError(f"No free time for {session_type.title} around day {offset}.")

    # --- the plan -------------------------------------------------------------------------

    def _calendar(self) -> None:
        camille, marcus, priya = DEMO_TYPES
        for coach, clients in [
            # Sofia and Liam are connected with Camille, so their bookings are firm.
            (camille, [SOFIA, LIAM, AISHA, NOAH, EMMA]),
            (marcus, [AISHA, NOAH, SOFIA, EMMA, LIAM]),
            (priya, [EMMA, AISHA, LIAM, SOFIA, NOAH]),
        ]:
            self._past(coach, clients)
            self._future(coach, clients)
        self._special_cases(camille, marcus, priya)

    def _past(self, coach: str, clients: list[str]) -> None:
        a, b, c, d, e = clients
        good, _ = self.book(a, coach, -20, notes="Looking forward to it.")
        self.finish(self.firm(good, _), rating=5, feedback="Clear, practical and kind. Thank you!")
        fine, moment = self.book(b, coach, -13)
        self.finish(self.firm(fine, moment), rating=4, feedback="Useful session.")
        plain, moment = self.book(c, coach, -6)
        self.finish(self.firm(plain, moment))
        absent, moment = self.book(d, coach, -9)
        self.finish(self.firm(absent, moment), no_show=True)
        late, moment = self.book(e, coach, -16)
        late = self.firm(late, moment)
        at = late.session.start - dt.timedelta(hours=6)
        with _clock_at(at):
            booking_services.cancel(booking=late, actor=late.client, reason="Something came up at work.", now=at)
        turned_down, moment = self.book(c, coach, -11)
        if turned_down.status == BookingStatus.REQUESTED:
            at = moment + dt.timedelta(hours=2)
            with _clock_at(at):
                booking_services.decline(
                    booking=turned_down,
                    actor=turned_down.session.coach,
                    reason="I'm not the right coach for this; I've suggested a colleague by email.",
                    now=at,
                )
        else:
            self.finish(turned_down, rating=5)
        session = self.publish(coach, "group", -8, [a, b, c])
        if session is not None:
            at = session.end + dt.timedelta(minutes=10)
            with _clock_at(at):
                booking_services.mark_completed(session=session, actor=session.coach, now=at)
            first = session.bookings.order_by("pk").first()
            if first is not None:
                booking_services.rate(booking=first, actor=first.client, rating=5, feedback="Great group.")

    def _future(self, coach: str, clients: list[str]) -> None:
        a, b, c, d, e = clients
        coach_user = self.users[coach]
        # Pending requests (firm for Camille's connected clients, requests for the rest).
        self.book(c, coach, 3, notes="First time trying this; happy to talk about what I need.")
        self.book(d, coach, 6)
        approved, _ = self.book(e, coach, 4)
        self.firm(approved, None)
        declined, _ = self.book(d, coach, 9)
        if declined.status == BookingStatus.REQUESTED:
            booking_services.decline(
                booking=declined, actor=coach_user, reason="I'm away at a conference that day.", now=self.now
            )
        kept, _ = self.book(a, coach, 5)
        self.firm(kept, None)
        withdrawn, _ = self.book(b, coach, 7)
        booking_services.cancel(
            booking=withdrawn, actor=withdrawn.client, reason="I have an exam that day.", now=self.now
        )
        self.publish(coach, "group", 4, [a, c])
        workshop = self.publish(coach, "workshop", 11, [b, d, e])
        if workshop is not None:
            workshop_services.add_material(
                actor=coach_user,
                session=workshop,
                title="Pre-reading: three short chapters",
                url="https://example.com/pre-reading",
            )

    def _special_cases(self, camille: str, marcus: str, priya: str) -> None:
        # A full group session, with Emma on its waitlist.
        full = self.publish(
            camille, "group", 8, [SOFIA, LIAM, AISHA, NOAH], capacity=min(4, settings.MAX_GROUP_CAPACITY)
        )
        if full is not None and full.is_full:
            emma = self.users[EMMA]
            waitlist_services.join(actor=emma, client=emma, session=full, now=self.now)
        # Liam moves his session two days later.
        moved, _ = self.book(LIAM, camille, 6)
        later = self._starts(moved.session.session_type, moved.session.start.date() + dt.timedelta(days=2), self.now)
        for start in later:
            try:
                booking_services.reschedule(booking=moved, actor=self.users[LIAM], start=start, now=self.now)
                break
            except booking_services.BookingRefused as refused:
                if refused.code not in RETRY_CODES:
                    raise
        # Camille offers Aisha other times.
        asked, _ = self.book(AISHA, camille, 10, notes="Evenings suit me best.")
        offered = [
            start for start in self._starts(asked.session.session_type, asked.session.start.date(), self.now)[:2]
        ] or self._starts(asked.session.session_type, asked.session.start.date() + dt.timedelta(days=1), self.now)[:2]
        booking_services.suggest_alternatives(
            booking=asked,
            actor=asked.session.coach,
            alternatives=offered,
            note="Would one of these work?",
            now=self.now,
        )
        # Marcus asks a question before answering.
        question, _ = self.book(SOFIA, marcus, 8, notes="Help with calculus, please.")
        booking_services.request_information(
            booking=question, actor=question.session.coach, question="Which exam board is the course?", now=self.now
        )
        # Emma books for Noah, her son: a past lesson and one to come.
        past, moment = self.book(NOAH, marcus, -4, booked_by=EMMA, notes="Noah is preparing for his exams.")
        self.finish(self.firm(past, moment), rating=5, feedback="Noah finally understands vectors.")
        coming, _ = self.book(NOAH, marcus, 5, booked_by=EMMA)
        self.firm(coming, None)
        # The back office cancels a session for a coach who is unwell.
        called_off, _ = self.book(SOFIA, priya, 12)
        self.firm(called_off, None)
        booking_services.cancel(
            booking=called_off, actor=self.users[STAFF], reason="Priya is unwell; we'll help you rebook.", now=self.now
        )
        # Aisha is paying for a session with Priya right now (the hold lapses unpaid after
        # PAYMENT_HOLD_MINUTES, freeing the time, unless someone pays it on the card page).
        self.book(AISHA, priya, 13, hold=True)
        # Sofia's weekly series with Camille (firm: they are connected), with one date
        # skipped later; Aisha's fortnightly series waits for Marcus's one answer.
        weekly = self.series(SOFIA, camille, 9, frequency=SeriesFrequency.WEEKLY, count=8)
        later = series_services.occurrences_of(weekly).filter(status=BookingStatus.FIRM_BOOKED)[2:3]
        for booking in later:
            series_services.cancel_series(
                series=weekly,
                actor=self.users[SOFIA],
                scope="one",
                start=booking.session.start,
                reason="Away that week.",
                skip=True,
                now=self.now,
            )
        self.series(AISHA, marcus, 9, frequency=SeriesFrequency.BIWEEKLY, count=6)
        # "Schedule later": Liam wants a workshop with Marcus but hasn't picked a date.
        booking_services.schedule_later(
            client=self.users[LIAM], session_type=self.types[marcus]["workshop"], notes="After my exams."
        )
