"""manage.py seed_demo: the demo people, created once however often the command runs."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client

from accounts.models import CoachProfile, Connection, ConnectionStatus, GuardianLink, Role, User
from accounts.permissions import STAFF_GROUP_NAME

DEMO_PASSWORD = "demo-pass-2026"
DASHBOARD_OF_ROLE = {Role.CLIENT: "/client/", Role.COACH: "/coach/", Role.STAFF: "/staff/"}


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, object]:
    """Everything seed_demo writes, in a form two runs can be compared by."""
    return {
        "users": sorted(
            User.objects.values_list("pk", "email", "name", "role", "timezone", "phone", "is_superuser", "is_staff")
        ),
        "emails": sorted(EmailAddress.objects.values_list("user_id", "email", "verified", "primary")),
        "coach_profiles": sorted(CoachProfile.objects.values_list("user_id", "headline")),
        "connections": sorted(Connection.objects.values_list("client__email", "coach__email", "status")),
        "guardians": sorted(GuardianLink.objects.values_list("guardian__email", "dependent__email", "relationship")),
        "staff_group": sorted(Group.objects.get(name=STAFF_GROUP_NAME).user_set.values_list("email", flat=True)),
    }


def assert_demo_people() -> None:
    assert User.objects.count() == 10
    assert User.objects.filter(is_superuser=True).count() == 1
    assert User.objects.filter(role=Role.STAFF, is_superuser=False).count() == 1
    assert User.objects.filter(role=Role.CLIENT).count() == 5
    coaches = User.objects.filter(role=Role.COACH)
    assert sorted(coaches.values_list("timezone", flat=True)) == ["America/New_York", "Asia/Kolkata", "Europe/Paris"]
    assert CoachProfile.objects.filter(user__in=coaches).count() == 3
    assert not CoachProfile.objects.exclude(user__in=coaches).exists()
    assert not CoachProfile.objects.filter(headline="").exists()
    # Every demo account has exactly one address, verified and primary, so login works at once.
    for user in User.objects.all():
        assert list(EmailAddress.objects.filter(user=user).values_list("email", "verified", "primary")) == [
            (user.email, True, True)
        ]
    # Back office: the staff member and the admin may open the admin.
    assert sorted(User.objects.filter(is_staff=True).values_list("email", flat=True)) == [
        "admin@demo.booking.test",
        "staff@demo.booking.test",
    ]
    assert sorted(Connection.objects.values_list("status", flat=True)) == [
        ConnectionStatus.ACCEPTED,
        ConnectionStatus.ACCEPTED,
        ConnectionStatus.PENDING,
    ]
    assert GuardianLink.objects.count() == 1


def log_in_with_the_form(email: str, password: str) -> tuple[Client, object]:
    """Fill in allauth's login page the way a browser does, CSRF token included."""
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/accounts/login/")
    assert page.status_code == 200
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert match is not None
    response = browser.post(
        "/accounts/login/",
        {"login": email, "password": password, "csrfmiddlewaretoken": match.group(1)},
    )
    return browser, response


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # allauth counts login attempts per IP in the cache, which outlives a test (locmem).
    cache.clear()
    yield
    cache.clear()


def test_seed_demo_creates_the_demo_people(db) -> None:
    output = seed()

    assert_demo_people()
    assert DEMO_PASSWORD in output
    assert "admin@demo.booking.test" in output


def test_seed_demo_is_idempotent(db) -> None:
    seed()
    first = snapshot()

    seed()

    assert_demo_people()
    assert snapshot() == first


def test_seed_demo_repairs_changed_demo_accounts(db) -> None:
    seed()
    before = snapshot()
    camille = User.objects.get(email="camille.laurent@demo.booking.test")
    camille.set_password("something-else-entirely")
    camille.is_active = False
    camille.timezone = "UTC"
    camille.save()
    EmailAddress.objects.filter(user=camille).update(verified=False)
    Connection.objects.filter(coach=camille).update(status=ConnectionStatus.DECLINED)

    seed()

    assert snapshot() == before
    camille.refresh_from_db()
    assert camille.is_active
    assert camille.check_password(DEMO_PASSWORD)


def test_seed_demo_leaves_other_accounts_alone(client_user: User) -> None:
    seed()
    seed()

    assert User.objects.count() == 11
    client_user.refresh_from_db()
    assert client_user.email == "client@example.com"
    assert client_user.role == Role.CLIENT


def test_every_demo_account_can_log_in_with_the_login_form(db) -> None:
    seed()
    seed()

    for user in User.objects.all():
        browser, response = log_in_with_the_form(user.email, DEMO_PASSWORD)

        assert response.status_code == 302, user.email
        assert response["Location"] == "/dashboard/"
        assert browser.session["_auth_user_id"] == str(user.pk)
        landing = browser.get("/dashboard/")
        assert landing["Location"] == DASHBOARD_OF_ROLE[user.role]
        assert browser.get(landing["Location"]).status_code == 200


def test_demo_login_with_a_wrong_password_fails(db) -> None:
    seed()

    browser, response = log_in_with_the_form("sofia.marquez@demo.booking.test", "not-the-demo-password")

    assert response.status_code == 200
    assert "_auth_user_id" not in browser.session
    assert "not correct" in response.content.decode()
