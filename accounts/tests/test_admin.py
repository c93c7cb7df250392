"""The back office: every registered model's pages for an admin and for staff, what staff
may not touch, and the admin actions that go through the services."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.contrib import admin
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.models import ApiToken, CoachProfile, Connection, GuardianLink, Role, User
from accounts.permissions import STAFF_GROUP_NAME
from accounts.tests.factories import (
    PASSWORD,
    ClientFactory,
    ConnectionFactory,
    GuardianLinkFactory,
    StaffFactory,
    make_token,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(client_user, coach_user):
    """Something in every list: a client connected to a coach, a dependent, a token."""
    connection = ConnectionFactory(client=client_user, coach=coach_user)
    link = GuardianLinkFactory(guardian=client_user, dependent=ClientFactory(email="kid@example.com", name="Kid"))
    token, _ = make_token(client_user, name="Calendar script")
    return {
        User: coach_user,
        CoachProfile: coach_user.coach_profile,
        Connection: connection,
        GuardianLink: link,
        ApiToken: token,
        EmailAddress: EmailAddress.objects.get(user=client_user),
    }


# model, a search term that finds the object from ``people``, one filter of that model's admin
ADMIN_PAGES = [
    pytest.param(User, "coach@example.com", "role__exact=coach", id="user"),
    pytest.param(CoachProfile, "coach@example.com", "calendar_visibility__exact=public", id="coachprofile"),
    pytest.param(Connection, "client@example.com", "status__exact=pending", id="connection"),
    pytest.param(GuardianLink, "kid@example.com", "relationship=parent", id="guardianlink"),
    pytest.param(ApiToken, "Calendar", "revoked_at__isnull=True", id="apitoken"),
    pytest.param(EmailAddress, "client@example.com", "verified__exact=1", id="emailaddress"),
]


def admin_url(model: type[Model], page: str = "changelist", *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}", args=args)


def test_every_model_listed_here_is_registered():
    registered = set(admin.site._registry)
    for param in ADMIN_PAGES:
        assert param.values[0] in registered


@pytest.mark.parametrize("role", ["admin", "staff"])
@pytest.mark.parametrize(("model", "search", "filter_query"), ADMIN_PAGES)
class TestAdminPages:
    def test_changelist_lists_the_object(self, as_role, people, role, model, search, filter_query):
        response = as_role(role).get(admin_url(model))

        assert response.status_code == 200
        assert people[model] in response.context["cl"].result_list

    def test_search_finds_the_object(self, as_role, people, role, model, search, filter_query):
        response = as_role(role).get(admin_url(model), {"q": search})

        assert response.status_code == 200
        results = list(response.context["cl"].result_list)
        assert people[model] in results
        nothing = as_role(role).get(admin_url(model), {"q": "no-such-thing-zzz"})
        assert nothing.status_code == 200
        assert list(nothing.context["cl"].result_list) == []

    def test_filter_applies(self, as_role, people, role, model, search, filter_query):
        response = as_role(role).get(f"{admin_url(model)}?{filter_query}")

        assert response.status_code == 200
        # An unknown filter value would redirect with ?e=1; a known one lists the object.
        assert people[model] in response.context["cl"].result_list

    def test_search_and_filter_together(self, as_role, people, role, model, search, filter_query):
        response = as_role(role).get(f"{admin_url(model)}?{filter_query}&q={search}")

        assert response.status_code == 200
        assert people[model] in response.context["cl"].result_list

    def test_change_page_opens(self, as_role, people, role, model, search, filter_query):
        obj = people[model]

        response = as_role(role).get(admin_url(model, "change", obj.pk))

        assert response.status_code == 200
        assert response.context["original"] == obj


def test_a_coach_change_page_shows_the_booking_rules_inline(as_role, coach_user):
    response = as_role("staff").get(admin_url(User, "change", coach_user.pk))

    assert response.status_code == 200
    assert [formset.formset.model for formset in response.context["inline_admin_formsets"]] == [CoachProfile]


def test_a_client_change_page_has_no_coach_inline(as_role, client_user):
    response = as_role("admin").get(admin_url(User, "change", client_user.pk))

    assert response.status_code == 200
    assert response.context["inline_admin_formsets"] == []


# --- what staff may not do --------------------------------------------------------------


def test_staff_cannot_open_groups(as_role):
    assert as_role("staff").get("/admin/auth/group/").status_code == 403
    assert as_role("admin").get("/admin/auth/group/").status_code == 200


def test_staff_see_is_superuser_as_read_only(as_role, client_user):
    response = as_role("staff").get(admin_url(User, "change", client_user.pk))

    form = response.context["adminform"].form
    assert "is_superuser" not in form.fields
    assert "groups" not in form.fields
    assert "user_permissions" not in form.fields
    assert "is_superuser" in response.context["adminform"].readonly_fields
    # An admin does get the field.
    admin_form = as_role("admin").get(admin_url(User, "change", client_user.pk)).context["adminform"].form
    assert "is_superuser" in admin_form.fields


def user_change_data(user: User, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "timezone": user.timezone,
        "phone": user.phone,
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
    }
    if user.is_active:
        data["is_active"] = "on"
    if user.is_staff:
        data["is_staff"] = "on"
    if user.is_superuser:
        data["is_superuser"] = "on"
    data["groups"] = [str(pk) for pk in user.groups.values_list("pk", flat=True)]
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_staff_cannot_make_anyone_a_superuser(as_role, client_user):
    data = user_change_data(client_user, name="Renamed by staff", is_superuser="on", is_staff="on")

    response = as_role("staff").post(admin_url(User, "change", client_user.pk), data)

    assert response.status_code == 302
    user = User.objects.get(pk=client_user.pk)
    assert user.name == "Renamed by staff"  # the rest of the form was saved
    assert not user.is_superuser
    assert not user.is_staff


def test_staff_cannot_take_over_an_admin_account(as_role, admin_user):
    """Setting an admin's password or email would make a staff member an admin in all but name."""
    http = as_role("staff")
    new_password = "a-quiet-Lighthouse-at-dusk-42"

    password_change = http.post(
        f"/admin/accounts/user/{admin_user.pk}/password/",
        {"password1": new_password, "password2": new_password, "usable_password": "true"},
    )
    http.post(admin_url(User, "change", admin_user.pk), user_change_data(admin_user, email="mine@example.com"))

    assert password_change.status_code == 403
    admin_now = User.objects.get(pk=admin_user.pk)
    assert admin_now.check_password(PASSWORD)
    assert not admin_now.check_password(new_password)
    assert admin_now.email == "admin@example.com"


def test_an_admin_can_make_a_superuser(as_role, client_user):
    data = user_change_data(client_user, is_superuser="on", is_staff="on")

    response = as_role("admin").post(admin_url(User, "change", client_user.pk), data)

    assert response.status_code == 302
    assert User.objects.get(pk=client_user.pk).is_superuser


# --- role changes through the admin go through set_role ----------------------------------


def run_action(http: Client, action: str, users: list[User]):
    return http.post(
        admin_url(User),
        {"action": action, "_selected_action": [str(user.pk) for user in users], "index": "0"},
    )


@pytest.mark.parametrize("role", ["admin", "staff"])
def test_make_coach_action_creates_coach_profiles(as_role, role):
    clients = [ClientFactory(), ClientFactory()]

    response = run_action(as_role(role), "make_coach", clients)

    assert response.status_code == 302
    for user in clients:
        user = User.objects.get(pk=user.pk)
        assert user.role == Role.COACH
        assert CoachProfile.objects.filter(user=user).exists()
    messages = [str(m) for m in response.wsgi_request._messages]
    assert "2 account(s) are now coach." in messages


def test_make_staff_and_make_client_actions_set_admin_access(as_role):
    person = ClientFactory()
    http = as_role("admin")

    run_action(http, "make_staff", [person])
    person = User.objects.get(pk=person.pk)
    assert person.is_staff
    assert person.groups.filter(name=STAFF_GROUP_NAME).exists()

    run_action(http, "make_client", [person])
    person = User.objects.get(pk=person.pk)
    assert person.role == Role.CLIENT
    assert not person.is_staff
    assert not person.groups.filter(name=STAFF_GROUP_NAME).exists()


def test_changing_the_role_on_the_change_form_creates_the_coach_profile(as_role, client_user):
    data = user_change_data(client_user, role=Role.COACH)

    response = as_role("staff").post(admin_url(User, "change", client_user.pk), data)

    assert response.status_code == 302
    assert User.objects.get(pk=client_user.pk).role == Role.COACH
    assert CoachProfile.objects.filter(user=client_user).exists()


def test_making_someone_staff_on_the_change_form_gives_the_staff_group(as_role, client_user):
    # Only an admin gives the staff role (staff are refused: test_admin_privileges.py).
    data = user_change_data(client_user, role=Role.STAFF)

    response = as_role("admin").post(admin_url(User, "change", client_user.pk), data)

    assert response.status_code == 302
    user = User.objects.get(pk=client_user.pk)
    assert user.role == Role.STAFF
    assert user.is_staff
    assert user.groups.filter(name=STAFF_GROUP_NAME).exists()
    assert user.has_perm("accounts.view_user")


def test_making_staff_a_client_on_the_change_form_removes_the_staff_group(as_role):
    # Only an admin takes the staff role away (staff are refused: test_admin_privileges.py).
    colleague = StaffFactory(email="colleague@example.com")
    data = user_change_data(colleague, role=Role.CLIENT)

    response = as_role("admin").post(admin_url(User, "change", colleague.pk), data)

    assert response.status_code == 302
    user = User.objects.get(pk=colleague.pk)
    assert user.role == Role.CLIENT
    assert not user.is_staff
    assert not user.groups.filter(name=STAFF_GROUP_NAME).exists()
    assert not user.has_perm("accounts.view_user")


def test_adding_a_coach_in_the_admin_creates_the_profile(as_role):
    response = as_role("staff").post(
        admin_url(User, "add"),
        {
            "email": "new-coach@example.com",
            "name": "New Coach",
            "role": Role.COACH,
            "timezone": "Pacific/Auckland",
            "password1": "a-quiet-Lighthouse-at-dusk-42",
            "password2": "a-quiet-Lighthouse-at-dusk-42",
            "usable_password": "true",
        },
    )

    assert response.status_code == 302
    user = User.objects.get(email="new-coach@example.com")
    assert user.role == Role.COACH
    assert user.timezone == "Pacific/Auckland"
    assert CoachProfile.objects.filter(user=user).exists()


def test_accept_action_answers_pending_connections(as_role, client_user, coach_user):
    connection = ConnectionFactory(client=client_user, coach=coach_user)

    response = as_role("staff").post(
        admin_url(Connection), {"action": "accept", "_selected_action": [str(connection.pk)], "index": "0"}
    )

    assert response.status_code == 302
    assert Connection.objects.get(pk=connection.pk).status == "accepted"


def test_staff_cannot_revoke_tokens_from_the_admin(as_role, client_user):
    token, _ = make_token(client_user)
    http = as_role("staff")

    # Staff only have "view" on tokens; the action needs "delete" and is not offered...
    assert http.get(admin_url(ApiToken)).context["action_form"] is None
    # ...and posting it anyway does nothing.
    response = http.post(admin_url(ApiToken), {"action": "revoke", "_selected_action": [str(token.pk)], "index": "0"})

    assert response.status_code == 200
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_an_admin_can_revoke_tokens_from_the_admin(as_role, client_user):
    token, raw = make_token(client_user)

    as_role("admin").post(admin_url(ApiToken), {"action": "revoke", "_selected_action": [str(token.pk)], "index": "0"})

    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert services.authenticate_token(raw) is None
