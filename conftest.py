"""Fixtures shared by every app's tests: one user per role, and clients logged in as them."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.tests.factories import AdminFactory, ClientFactory, CoachFactory, StaffFactory


@pytest.fixture(autouse=True)
def _default_language():
    """A request in French leaves French active in the test's thread (Django's
    LocaleMiddleware activates a language per request and leaves it): the next test
    starts in the site's default, as a new request would."""
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_message_templates():
    """Staff's message templates are kept per process; a test starts without another
    test's (rolled-back) ones."""
    from notifications.messages import forget_custom_templates

    forget_custom_templates()
    yield
    forget_custom_templates()


@pytest.fixture(autouse=True)
def _migration_data_after_a_flush(request):
    """A transactional test (or a module's data flushed like one) empties every table,
    the rows the migrations wrote included: the Staff group and its permissions, and the
    django-q2 schedules. Put them back for the test that follows, as a migrated database
    has them (each schedule by its own migration's function)."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None and not {"db", "transactional_db"} & set(request.fixturenames):
        yield
        return
    from django.contrib.auth.models import Group, Permission

    from accounts.permissions import STAFF_GROUP_NAME, staff_group_with_its_permissions

    with request.getfixturevalue("django_db_blocker").unblock():
        if not Group.objects.filter(name=STAFF_GROUP_NAME).exists():
            staff_group_with_its_permissions(Group, Permission)
        _schedules_after_a_flush()
    yield


# The migrations that write django-q2 schedules, each with a ``create_schedules(apps, _)``.
SCHEDULE_MIGRATIONS = (
    "bookings.migrations.0005_schedules",
    "bookings.migrations.0008_relay_schedule",
    "bookings.migrations.0011_idempotency_records",
    "notifications.migrations.0002_schedules",
    "payments.migrations.0002_credit_expiry_schedule",
    "payments.migrations.0006_send_pending_schedule",
    "payments.migrations.0008_balance_reminder_schedule",
    "webhooks.migrations.0002_send_schedule_and_staff_permissions",
    "calendar_sync.migrations.0002_sync_schedule",
    "calendar_sync.migrations.0004_write_back_schedule",
)


def _schedules_after_a_flush() -> None:
    from importlib import import_module

    from django.apps import apps
    from django_q.models import Schedule

    if Schedule.objects.exists():
        return
    for module in SCHEDULE_MIGRATIONS:
        import_module(module).create_schedules(apps, None)


@pytest.fixture
def client_user(db):
    return ClientFactory(email="client@example.com", name="Chloé Client")


@pytest.fixture
def coach_user(db):
    return CoachFactory(email="coach@example.com", name="Carl Coach")


@pytest.fixture
def staff_user(db):
    return StaffFactory(email="staff@example.com", name="Stella Staff")


@pytest.fixture
def admin_user(db):
    return AdminFactory(email="admin@example.com", name="Ada Admin")


@pytest.fixture
def users_by_role(client_user, coach_user, staff_user, admin_user):
    return {"client": client_user, "coach": coach_user, "staff": staff_user, "admin": admin_user}


def logged_in(user) -> Client:
    http = Client()
    http.force_login(user)
    return http


@pytest.fixture
def as_role(users_by_role):
    """``as_role("coach")`` → a test client logged in as that role's user (None → visitor)."""

    def make(role: str | None) -> Client:
        return Client() if role is None else logged_in(users_by_role[role])

    return make
