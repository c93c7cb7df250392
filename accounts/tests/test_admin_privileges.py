"""Who may change whose role and access in the back office (accounts.permissions): staff
manage clients and coaches; only an admin changes staff and admins or gives the staff role;
nobody changes their own role or access. Every admin path is tried: the actions (Django's
delete included), the change and add forms, the password form, the coach profiles, the
guardian links and the email addresses."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Permission
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from accounts.models import CoachProfile, GuardianLink, Role, User
from accounts.permissions import STAFF_GROUP_NAME
from accounts.tests.factories import AdminFactory, ClientFactory, StaffFactory

pytestmark = pytest.mark.django_db

REFUSED_PRIVILEGED = "Only an admin can change the account, role or access of staff and admins."
REFUSED_OWN = "Nobody changes their own role or access; another admin must."


def admin_url(model: type[Model], page: str = "changelist", *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}", args=args)


def logged_in(user: User) -> Client:
    http = Client()
    http.force_login(user)
    return http


def run_action(http: Client, action: str, people: list[User], **extra: str):
    return http.post(
        admin_url(User),
        {"action": action, "_selected_action": [str(person.pk) for person in people], "index": "0", **extra},
    )


def messages_of(response) -> list[str]:
    """The messages this request added (not those left over from an earlier one)."""
    return [str(message) for message in response.wsgi_request._messages._queued_messages]


def state(user: User) -> dict[str, object]:
    """Everything about an account's role and access, read from the database."""
    fresh = User.objects.get(pk=user.pk)
    return {
        "role": fresh.role,
        "is_active": fresh.is_active,
        "is_staff": fresh.is_staff,
        "is_superuser": fresh.is_superuser,
        "groups": sorted(fresh.groups.values_list("name", flat=True)),
        "coach_profile": CoachProfile.objects.filter(user=fresh).exists(),
        "email": fresh.email,
        "password": fresh.password,
    }


def state_user(user: User) -> User:
    return User.objects.get(pk=user.pk)


@pytest.fixture
def colleague(db) -> User:
    return StaffFactory(email="colleague@example.com", name="Colin Colleague")


@pytest.fixture
def targets(admin_user, colleague, staff_user) -> dict[str, User]:
    """What staff may not change: an admin, another staff member, and themselves."""
    return {"admin": admin_user, "colleague": colleague, "self": staff_user}


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


# --- the request of the issue ------------------------------------------------------------


def test_staff_cannot_make_the_admin_a_coach_the_request_of_the_issue(staff_user, admin_user):
    before = state(admin_user)

    response = logged_in(staff_user).post(
        "/admin/accounts/user/", {"action": "make_coach", "_selected_action": str(admin_user.pk)}
    )

    assert response.status_code == 302
    assert state(admin_user) == before
    assert before["role"] == Role.STAFF and before["is_superuser"]
    assert not CoachProfile.objects.filter(user=admin_user).exists()
    assert messages_of(response) == [f"Skipped Ada Admin: {REFUSED_PRIVILEGED}"]
    coaches = Client().get("/api/v1/coaches").json()
    assert admin_user.pk not in [coach["id"] for coach in coaches]


# --- every action, as staff, against an admin, a colleague and themselves ----------------


@pytest.mark.parametrize("action", ["make_client", "make_coach"])
@pytest.mark.parametrize("target", ["admin", "colleague", "self"])
def test_staff_role_actions_are_refused_on_admins_staff_and_themselves(staff_user, targets, action, target):
    person = targets[target]
    before = state(person)

    response = run_action(logged_in(staff_user), action, [person])

    assert response.status_code == 302
    assert state(person) == before
    reason = REFUSED_OWN if target == "self" else REFUSED_PRIVILEGED
    assert messages_of(response) == [f"Skipped {person}: {reason}"]


@pytest.mark.parametrize("target", ["admin", "colleague", "self", "client"])
def test_the_make_staff_action_is_not_offered_to_staff_and_does_nothing_when_forced(
    staff_user, targets, client_user, target
):
    person = client_user if target == "client" else targets[target]
    before = state(person)
    http = logged_in(staff_user)

    offered = [name for name, _ in http.get(admin_url(User)).context["action_form"].fields["action"].choices]
    response = run_action(http, "make_staff", [person])

    assert "make_staff" not in offered
    assert {"make_client", "make_coach"} <= set(offered)
    assert state(person) == before
    assert messages_of(response) == ["No action selected."]


@pytest.mark.parametrize("target", ["admin", "colleague", "self"])
def test_staff_cannot_delete_admins_staff_or_themselves(staff_user, targets, target):
    person = targets[target]
    http = logged_in(staff_user)

    # Without the delete permission (the Staff group has none), the action isn't offered.
    offered = [name for name, _ in http.get(admin_url(User)).context["action_form"].fields["action"].choices]
    assert "delete_selected" not in offered
    forced = run_action(http, "delete_selected", [person], post="yes")
    assert messages_of(forced) == ["No action selected."]
    assert User.objects.filter(pk=person.pk).exists()

    # Even given it, the rule still refuses, names who was skipped and deletes nobody.
    staff_user.user_permissions.add(Permission.objects.get(codename="delete_user"))
    http = logged_in(User.objects.get(pk=staff_user.pk))
    response = run_action(http, "delete_selected", [person], post="yes")

    assert response.status_code == 302
    assert User.objects.filter(pk=person.pk).exists()
    reason = REFUSED_OWN if target == "self" else REFUSED_PRIVILEGED
    assert messages_of(response) == [f"Skipped {person}: {reason}"]


def test_a_mixed_selection_changes_the_clients_and_names_who_was_skipped(staff_user, admin_user, colleague):
    clients = [ClientFactory(name="Ann One"), ClientFactory(name="Bob Two")]
    admin_before, colleague_before = state(admin_user), state(colleague)

    response = run_action(logged_in(staff_user), "make_coach", [*clients, admin_user, colleague, staff_user])

    assert response.status_code == 302
    for person in clients:
        assert state(person)["role"] == Role.COACH
        assert state(person)["coach_profile"]
    assert state(admin_user) == admin_before
    assert state(colleague) == colleague_before
    shown = messages_of(response)
    assert f"Skipped Ada Admin, Colin Colleague: {REFUSED_PRIVILEGED}" in shown
    assert f"Skipped Stella Staff: {REFUSED_OWN}" in shown
    assert "2 account(s) are now coach." in shown


# --- the change form, the password form and the add form ----------------------------------


@pytest.mark.parametrize("target", ["admin", "colleague"])
def test_staff_see_admins_and_colleagues_read_only_and_cannot_post_changes(staff_user, targets, target):
    person = targets[target]
    before = state(person)
    http = logged_in(staff_user)

    page = http.get(admin_url(User, "change", person.pk))
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False

    for change in [
        {"role": Role.COACH},
        {"role": Role.CLIENT},
        {"is_active": None},
        {"email": "taken-over@example.com"},
    ]:
        response = http.post(admin_url(User, "change", person.pk), user_change_data(person, **change))
        assert response.status_code == 403
    new_password = "a-quiet-Lighthouse-at-dusk-42"
    password_change = http.post(
        f"/admin/accounts/user/{person.pk}/password/",
        {"password1": new_password, "password2": new_password, "usable_password": "true"},
    )

    assert password_change.status_code == 403
    assert state(person) == before


def test_staff_cannot_change_their_own_role_or_deactivate_themselves(staff_user):
    http = logged_in(staff_user)

    page = http.get(admin_url(User, "change", staff_user.pk))
    readonly = page.context["adminform"].readonly_fields
    assert {"role", "is_active", "is_staff", "is_superuser", "groups", "user_permissions"} <= set(readonly)
    assert "role" not in page.context["adminform"].form.fields

    data = user_change_data(staff_user, name="Stella Renamed", role=Role.CLIENT, is_active=None, is_superuser="on")
    response = http.post(admin_url(User, "change", staff_user.pk), data)

    assert response.status_code == 302  # the rest of the form is theirs to change
    after = state(staff_user)
    assert User.objects.get(pk=staff_user.pk).name == "Stella Renamed"
    assert after["role"] == Role.STAFF
    assert after["is_active"]
    assert after["is_staff"]
    assert not after["is_superuser"]
    assert after["groups"] == [STAFF_GROUP_NAME]


def test_staff_cannot_make_a_client_staff_on_the_change_form(staff_user, client_user):
    before = state(client_user)
    http = logged_in(staff_user)

    choices = [
        value
        for value, _ in http.get(admin_url(User, "change", client_user.pk))
        .context["adminform"]
        .form.fields["role"]
        .choices
    ]
    response = http.post(admin_url(User, "change", client_user.pk), user_change_data(client_user, role=Role.STAFF))

    assert choices == [Role.CLIENT, Role.COACH]
    assert response.status_code == 200
    assert "role" in response.context["adminform"].form.errors
    assert state(client_user) == before


def test_staff_cannot_add_a_staff_member(staff_user):
    http = logged_in(staff_user)
    password = "a-quiet-Lighthouse-at-dusk-42"

    response = http.post(
        admin_url(User, "add"),
        {
            "email": "new-staff@example.com",
            "name": "New Staff",
            "role": Role.STAFF,
            "timezone": "Europe/Paris",
            "password1": password,
            "password2": password,
            "usable_password": "true",
        },
    )

    assert response.status_code == 200
    assert "role" in response.context["adminform"].form.errors
    assert not User.objects.filter(email="new-staff@example.com").exists()


def test_the_form_refuses_a_role_the_rule_forbids_even_past_its_choices(staff_user, client_user):
    """The form checks the rule itself, not only through the choices it offers."""
    from accounts.admin import UserAdmin

    request = Client().get("/").wsgi_request
    request.user = staff_user
    form_class = UserAdmin(User, None).get_form(request, client_user, change=True)
    form = form_class(data=user_change_data(client_user, role=Role.STAFF), instance=client_user)
    form.fields["role"].choices = list(Role.choices)

    assert not form.is_valid()
    assert form.non_field_errors() == ["Only an admin can give someone the staff role."]
    assert state(client_user)["role"] == Role.CLIENT


# --- coach profiles, guardian links and email addresses ------------------------------------


def test_staff_cannot_give_an_admin_or_a_colleague_a_coach_profile(staff_user, admin_user, colleague):
    http = logged_in(staff_user)

    for person in (admin_user, colleague):
        response = http.post(admin_url(CoachProfile, "add"), {"user": str(person.pk), "headline": "Now a coach"})
        assert response.status_code == 200
        assert "user" in response.context["adminform"].form.errors
        assert not CoachProfile.objects.filter(user=person).exists()


def test_staff_cannot_change_the_coach_profile_of_an_admin_who_coaches(staff_user, admin_user):
    second_admin = AdminFactory(email="root2@example.com", name="Second Admin")
    run_action(logged_in(second_admin), "make_coach", [admin_user])
    profile = CoachProfile.objects.get(user=admin_user)
    http = logged_in(staff_user)

    user_page = http.get(admin_url(User, "change", admin_user.pk))
    [inline] = user_page.context["inline_admin_formsets"]
    response = http.post(admin_url(CoachProfile, "change", profile.pk), {"user": str(admin_user.pk), "headline": "x"})

    assert inline.has_change_permission is False
    assert response.status_code == 403
    assert CoachProfile.objects.get(pk=profile.pk).headline == ""


def test_staff_cannot_make_an_admin_someones_dependent(staff_user, admin_user, client_user):
    response = logged_in(staff_user).post(
        admin_url(GuardianLink, "add"),
        {"guardian": str(client_user.pk), "dependent": str(admin_user.pk), "relationship": "parent"},
    )

    assert response.status_code == 200
    assert "dependent" in response.context["adminform"].form.errors
    assert not GuardianLink.objects.filter(dependent=admin_user).exists()


@pytest.mark.parametrize("target", ["admin", "colleague"])
def test_staff_cannot_take_over_an_account_through_its_email_addresses(staff_user, targets, target):
    """An address is the way into its account: a password reset is sent to it."""
    person = targets[target]
    address = EmailAddress.objects.get(user=person)
    EmailAddress.objects.filter(pk=address.pk).update(verified=False)
    http = logged_in(staff_user)

    change = http.post(
        admin_url(EmailAddress, "change", address.pk),
        {"user": str(person.pk), "email": "mine@example.com", "verified": "on", "primary": "on"},
    )
    add = http.post(
        admin_url(EmailAddress, "add"),
        {"user": str(person.pk), "email": "mine@example.com", "verified": "on", "primary": ""},
    )
    verify = http.post(
        admin_url(EmailAddress),
        {"action": "make_verified", "_selected_action": [str(address.pk)], "index": "0"},
    )

    assert change.status_code == 403
    assert add.status_code == 200
    assert "user" in add.context["adminform"].form.errors
    assert messages_of(verify) == [f"Skipped {address}: Only an admin can change the addresses of staff and admins."]
    assert list(EmailAddress.objects.filter(user=person).values_list("email", "verified")) == [(person.email, False)]


# --- what staff may do, and what an admin may do --------------------------------------------


def test_staff_manage_clients_and_coaches(staff_user, client_user, coach_user):
    http = logged_in(staff_user)

    deactivate = http.post(admin_url(User, "change", client_user.pk), user_change_data(client_user, is_active=None))
    assert run_action(http, "make_coach", [client_user]).status_code == 302
    assert run_action(http, "make_client", [coach_user]).status_code == 302
    address = EmailAddress.objects.get(user=coach_user)
    EmailAddress.objects.filter(pk=address.pk).update(verified=False)
    http.post(admin_url(EmailAddress), {"action": "make_verified", "_selected_action": [str(address.pk)], "index": "0"})

    assert deactivate.status_code == 302
    assert state(client_user)["role"] == Role.COACH
    assert state(client_user)["coach_profile"]
    assert not state(client_user)["is_active"]
    assert state(coach_user)["role"] == Role.CLIENT
    assert EmailAddress.objects.get(pk=address.pk).verified


def test_an_admin_changes_anyone_but_themselves(admin_user, colleague, client_user):
    other_admin = AdminFactory(email="root2@example.com", name="Second Admin")
    http = logged_in(admin_user)

    assert run_action(http, "make_coach", [other_admin]).status_code == 302
    assert run_action(http, "make_staff", [client_user]).status_code == 302
    deactivate = http.post(admin_url(User, "change", colleague.pk), user_change_data(colleague, is_active=None))
    demote = http.post(
        admin_url(User, "change", colleague.pk), user_change_data(state_user(colleague), role=Role.CLIENT)
    )
    own = run_action(http, "make_client", [admin_user])

    assert state(other_admin)["role"] == Role.COACH
    assert state(other_admin)["coach_profile"]
    assert state(other_admin)["is_superuser"]
    assert state(client_user)["role"] == Role.STAFF
    assert state(client_user)["groups"] == [STAFF_GROUP_NAME]
    assert deactivate.status_code == 302 and demote.status_code == 302
    assert state(colleague)["role"] == Role.CLIENT
    assert not state(colleague)["is_active"]
    assert not state(colleague)["is_staff"]
    assert messages_of(own) == [f"Skipped Ada Admin: {REFUSED_OWN}"]
    assert state(admin_user)["role"] == Role.STAFF


def test_an_admin_deletes_a_staff_member_but_not_themselves(admin_user, colleague):
    http = logged_in(admin_user)

    response = run_action(http, "delete_selected", [colleague, admin_user], post="yes")

    assert response.status_code == 302
    assert not User.objects.filter(pk=colleague.pk).exists()
    assert User.objects.filter(pk=admin_user.pk).exists()
    assert f"Skipped Ada Admin: {REFUSED_OWN}" in messages_of(response)


def test_an_admin_cannot_change_their_own_role_or_flags_on_the_form(admin_user):
    http = logged_in(admin_user)

    data = user_change_data(admin_user, name="Ada Renamed", role=Role.CLIENT, is_active=None, is_superuser=None)
    response = http.post(admin_url(User, "change", admin_user.pk), data)

    assert response.status_code == 302
    after = state_user(admin_user)
    assert after.name == "Ada Renamed"
    assert (after.role, after.is_active, after.is_superuser, after.is_staff) == (Role.STAFF, True, True, True)


# --- the API -------------------------------------------------------------------------------


def test_no_api_operation_writes_an_account(staff_user):
    """Roles and access change only in the back office: the API has no operation that writes
    a person's account (``/me`` is read-only). A new one would have to apply the rule."""
    schema = Client().get("/api/v1/openapi.json").json()
    writes = {
        (path, method)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in {"post", "put", "patch", "delete"}
        and (path.endswith("/me") or "/users" in path or "/accounts" in path or "/roles" in path)
    }
    http = logged_in(staff_user)

    assert writes == set()
    assert http.patch("/api/v1/me", {"role": "client"}, content_type="application/json").status_code == 405
    assert state(staff_user)["role"] == Role.STAFF
