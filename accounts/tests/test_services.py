"""accounts.services, and the pages that call them: profile, coach settings, viewer zone."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import Client

from accounts import services
from accounts.models import ApiToken, CoachProfile, Connection, ConnectionStatus, GuardianLink, Role, User
from accounts.permissions import STAFF_GROUP_NAME
from accounts.tests.factories import (
    PASSWORD,
    ClientFactory,
    CoachFactory,
    GuardianLinkFactory,
    UserFactory,
    make_token,
)
from config.errors import DomainError, NotAllowed

pytestmark = pytest.mark.django_db

COACH_DEFAULT_FIELDS = [
    "allow_firm_booking",
    "firm_booking_threshold_hours",
    "buffer_before_minutes",
    "buffer_after_minutes",
    "max_sessions_per_day",
    "max_sessions_per_week",
    "calendar_visibility",
    "require_approval_unconnected",
    "minimum_notice_hours",
    "booking_window_days",
    "slot_step_minutes",
    "cancellation_notice_hours",
]


def in_staff_group(user: User) -> bool:
    return user.groups.filter(name=STAFF_GROUP_NAME).exists()


def fresh(user: User) -> User:
    """A new instance, so permission caches and in-memory edits don't hide what was saved."""
    return User.objects.get(pk=user.pk)


# --- create_user and set_role ------------------------------------------------------------


class TestCreateUser:
    def test_client_gets_neither_profile_nor_staff_access(self):
        user = services.create_user(email="Chris@Example.com", password=PASSWORD, name="Chris", role=Role.CLIENT)

        user = fresh(user)
        assert user.email == "chris@example.com"
        assert user.role == Role.CLIENT
        assert user.check_password(PASSWORD)
        assert not user.is_staff
        assert not user.is_superuser
        assert not in_staff_group(user)
        assert not CoachProfile.objects.filter(user=user).exists()

    def test_coach_gets_a_profile_with_the_booking_defaults(self):
        user = services.create_user(email="coach@example.com", password=PASSWORD, role=Role.COACH)

        profile = CoachProfile.objects.get(user=user)
        for field in COACH_DEFAULT_FIELDS:
            assert getattr(profile, field) == settings.BOOKING_DEFAULTS[field], field
        assert not fresh(user).is_staff
        assert not in_staff_group(user)

    def test_coach_profile_defaults_follow_the_settings(self, settings):
        settings.BOOKING_DEFAULTS = {**settings.BOOKING_DEFAULTS, "max_sessions_per_day": 3, "slot_step_minutes": 20}

        user = services.create_user(email="coach@example.com", password=PASSWORD, role=Role.COACH)

        profile = CoachProfile.objects.get(user=user)
        assert profile.max_sessions_per_day == 3
        assert profile.slot_step_minutes == 20

    def test_staff_get_admin_access_and_the_staff_group(self):
        user = services.create_user(email="staff@example.com", password=PASSWORD, role=Role.STAFF)

        user = fresh(user)
        assert user.is_staff
        assert not user.is_superuser
        assert in_staff_group(user)
        assert not CoachProfile.objects.filter(user=user).exists()
        # The group carries the back-office permissions, and not the admin's own.
        assert user.has_perm("accounts.change_user")
        assert user.has_perm("accounts.view_connection")
        assert user.has_perm("account.view_emailaddress")
        assert not user.has_perm("auth.change_group")
        assert not user.has_perm("auth.view_group")

    def test_records_the_email_address_for_allauth(self):
        verified = services.create_user(email="a@example.com", password=PASSWORD, email_verified=True)
        unverified = services.create_user(email="b@example.com", password=PASSWORD)

        assert EmailAddress.objects.get(user=verified).verified
        assert EmailAddress.objects.get(user=verified).primary
        assert not EmailAddress.objects.get(user=unverified).verified

    def test_stores_zone_and_normalised_phone(self):
        user = services.create_user(
            email="a@example.com", password=PASSWORD, timezone_name="Asia/Kolkata", phone="+33 6 12 34 56 78"
        )

        user = fresh(user)
        assert user.timezone == "Asia/Kolkata"
        assert user.phone == "+33612345678"

    def test_unknown_zone_creates_nobody(self):
        with pytest.raises(ValidationError):
            services.create_user(email="a@example.com", password=PASSWORD, timezone_name="Europe/Atlantis")

        assert not User.objects.filter(email="a@example.com").exists()

    def test_unknown_role_creates_nobody(self):
        with pytest.raises(DomainError) as excinfo:
            services.create_user(email="a@example.com", password=PASSWORD, role="wizard")

        assert excinfo.value.code == "invalid_role"
        assert not User.objects.filter(email="a@example.com").exists()
        assert not EmailAddress.objects.filter(email="a@example.com").exists()

    def test_superuser_is_staff_role_with_every_permission(self):
        user = services.create_user(email="root@example.com", password=PASSWORD, role=Role.STAFF, is_superuser=True)

        user = fresh(user)
        assert user.is_superuser
        assert user.is_staff
        assert user.role == Role.STAFF
        assert user.has_perm("auth.change_group")


class TestSetRole:
    def test_client_to_coach_creates_the_profile(self, client_user):
        services.set_role(user=client_user, role=Role.COACH)

        user = fresh(client_user)
        assert user.role == Role.COACH
        assert CoachProfile.objects.filter(user=user).exists()
        assert not user.is_staff

    def test_client_to_staff_grants_admin_access(self, client_user):
        services.set_role(user=client_user, role=Role.STAFF)

        user = fresh(client_user)
        assert user.role == Role.STAFF
        assert user.is_staff
        assert in_staff_group(user)

    def test_staff_to_client_takes_admin_access_away(self, staff_user):
        services.set_role(user=staff_user, role=Role.CLIENT)

        user = fresh(staff_user)
        assert user.role == Role.CLIENT
        assert not user.is_staff
        assert not in_staff_group(user)
        assert not user.has_perm("accounts.change_user")

    def test_staff_to_coach_takes_admin_access_away_and_adds_a_profile(self, staff_user):
        services.set_role(user=staff_user, role=Role.COACH)

        user = fresh(staff_user)
        assert user.role == Role.COACH
        assert not user.is_staff
        assert not in_staff_group(user)
        assert CoachProfile.objects.filter(user=user).exists()

    def test_coach_back_to_coach_keeps_the_existing_profile(self, coach_user):
        profile = coach_user.coach_profile
        profile.max_sessions_per_day = 2
        profile.save()

        services.set_role(user=coach_user, role=Role.CLIENT)
        services.set_role(user=coach_user, role=Role.COACH)

        assert CoachProfile.objects.filter(user=coach_user).count() == 1
        assert CoachProfile.objects.get(user=coach_user).max_sessions_per_day == 2

    def test_a_superuser_keeps_admin_access_whatever_the_role(self, admin_user):
        services.set_role(user=admin_user, role=Role.COACH)

        user = fresh(admin_user)
        assert user.role == Role.COACH
        assert user.is_staff
        assert user.is_superuser

    def test_unknown_role_is_refused_and_changes_nothing(self, client_user):
        with pytest.raises(DomainError) as excinfo:
            services.set_role(user=client_user, role="superhero")

        assert excinfo.value.code == "invalid_role"
        assert fresh(client_user).role == Role.CLIENT


# --- update_profile ---------------------------------------------------------------------


class TestUpdateProfile:
    def test_saves_name_zone_and_e164_phone(self, client_user):
        services.update_profile(
            user=client_user, name="  Chloé Martin  ", timezone_name="Pacific/Auckland", phone="+33 6 12 34 56 78"
        )

        user = fresh(client_user)
        assert user.name == "Chloé Martin"
        assert user.timezone == "Pacific/Auckland"
        assert user.phone == "+33612345678"

    def test_blank_phone_clears_it(self, client_user):
        services.update_profile(user=client_user, name="C", timezone_name="UTC", phone="+33612345678")
        services.update_profile(user=client_user, name="C", timezone_name="UTC", phone="   ")

        assert fresh(client_user).phone == ""

    @pytest.mark.parametrize("phone", ["0612345678", "+1 555", "+33 6 12", "not a number"])
    def test_rejects_phones_that_are_not_international_and_valid(self, client_user, phone):
        with pytest.raises(ValidationError) as excinfo:
            services.update_profile(user=client_user, name="New name", timezone_name="UTC", phone=phone)

        assert excinfo.value.code == "invalid_phone"
        user = fresh(client_user)
        assert user.name == "Chloé Client"
        assert user.phone == ""

    @pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "europe/paris", "", "CEST"])
    def test_rejects_unknown_zones(self, client_user, zone):
        with pytest.raises(ValidationError) as excinfo:
            services.update_profile(user=client_user, name="New name", timezone_name=zone, phone="")

        assert excinfo.value.code == "invalid_timezone"
        user = fresh(client_user)
        assert user.timezone == "Europe/Paris"
        assert user.name == "Chloé Client"


# --- connections ------------------------------------------------------------------------


class TestConnections:
    def test_a_request_starts_pending_with_the_note(self, client_user, coach_user):
        connection = services.request_connection(client=client_user, coach=coach_user, message="  Hello!  ")

        connection.refresh_from_db()
        assert connection.client == client_user
        assert connection.coach == coach_user
        assert connection.status == ConnectionStatus.PENDING
        assert connection.message == "Hello!"
        assert connection.responded_at is None

    @pytest.mark.parametrize(
        ("accept", "status"), [(True, ConnectionStatus.ACCEPTED), (False, ConnectionStatus.DECLINED)]
    )
    def test_the_coach_answers_a_pending_request(self, client_user, coach_user, accept, status):
        connection = services.request_connection(client=client_user, coach=coach_user)

        services.respond_to_connection(connection=connection, actor=coach_user, accept=accept)

        connection.refresh_from_db()
        assert connection.status == status
        assert connection.responded_at is not None

    def test_staff_may_answer_for_the_coach(self, client_user, coach_user, staff_user):
        connection = services.request_connection(client=client_user, coach=coach_user)

        services.respond_to_connection(connection=connection, actor=staff_user, accept=True)

        assert Connection.objects.get(pk=connection.pk).status == ConnectionStatus.ACCEPTED

    def test_answering_twice_is_refused(self, client_user, coach_user):
        connection = services.request_connection(client=client_user, coach=coach_user)
        services.respond_to_connection(connection=connection, actor=coach_user, accept=True)

        with pytest.raises(DomainError) as excinfo:
            services.respond_to_connection(connection=connection, actor=coach_user, accept=False)

        assert excinfo.value.code == "already_answered"
        assert excinfo.value.status == 409
        assert Connection.objects.get(pk=connection.pk).status == ConnectionStatus.ACCEPTED

    def test_the_client_cannot_answer_their_own_request(self, client_user, coach_user):
        connection = services.request_connection(client=client_user, coach=coach_user)

        with pytest.raises(NotAllowed):
            services.respond_to_connection(connection=connection, actor=client_user, accept=True)

        assert Connection.objects.get(pk=connection.pk).status == ConnectionStatus.PENDING

    def test_another_coach_cannot_answer(self, client_user, coach_user):
        connection = services.request_connection(client=client_user, coach=coach_user)
        other_coach = CoachFactory()

        with pytest.raises(NotAllowed):
            services.respond_to_connection(connection=connection, actor=other_coach, accept=True)

        assert Connection.objects.get(pk=connection.pk).status == ConnectionStatus.PENDING

    def test_asking_twice_while_pending_is_refused(self, client_user, coach_user):
        services.request_connection(client=client_user, coach=coach_user, message="first")

        with pytest.raises(DomainError) as excinfo:
            services.request_connection(client=client_user, coach=coach_user, message="second")

        assert excinfo.value.code == "already_requested"
        assert Connection.objects.get().message == "first"

    def test_asking_when_already_connected_is_refused(self, client_user, coach_user):
        connection = services.request_connection(client=client_user, coach=coach_user)
        services.respond_to_connection(connection=connection, actor=coach_user, accept=True)

        with pytest.raises(DomainError) as excinfo:
            services.request_connection(client=client_user, coach=coach_user)

        assert excinfo.value.code == "already_connected"
        assert Connection.objects.get().status == ConnectionStatus.ACCEPTED

    def test_asking_again_after_a_refusal_reopens_the_same_request(self, client_user, coach_user):
        first = services.request_connection(client=client_user, coach=coach_user, message="first")
        services.respond_to_connection(connection=first, actor=coach_user, accept=False)

        again = services.request_connection(client=client_user, coach=coach_user, message="please reconsider")

        assert again.pk == first.pk
        stored = Connection.objects.get()
        assert stored.status == ConnectionStatus.PENDING
        assert stored.message == "please reconsider"
        assert stored.responded_at is None
        # ...and the coach can answer the re-opened request.
        services.respond_to_connection(connection=stored, actor=coach_user, accept=True)
        assert Connection.objects.get().status == ConnectionStatus.ACCEPTED

    def test_only_clients_ask_and_only_coaches_are_asked(self, client_user, coach_user, staff_user):
        with pytest.raises(NotAllowed) as not_client:
            services.request_connection(client=coach_user, coach=CoachFactory())
        with pytest.raises(DomainError) as not_coach:
            services.request_connection(client=client_user, coach=staff_user)

        assert not_client.value.code == "not_a_client"
        assert not_coach.value.code == "not_a_coach"
        assert not Connection.objects.exists()


# --- guardians --------------------------------------------------------------------------


class TestLinkDependent:
    def test_links_an_existing_client_by_email_in_any_case(self, client_user):
        child = ClientFactory(email="kid@example.com")

        link = services.link_dependent(
            guardian=client_user, dependent_email="  KID@example.com ", relationship=" parent "
        )

        link = GuardianLink.objects.get(pk=link.pk)
        assert link.guardian == client_user
        assert link.dependent == child
        assert link.relationship == "parent"

    def test_unknown_email(self, client_user):
        with pytest.raises(DomainError) as excinfo:
            services.link_dependent(guardian=client_user, dependent_email="nobody@example.com")

        assert excinfo.value.code == "dependent_not_found"
        assert excinfo.value.status == 404
        assert not GuardianLink.objects.exists()

    def test_self(self, client_user):
        with pytest.raises(DomainError) as excinfo:
            services.link_dependent(guardian=client_user, dependent_email="client@example.com")

        assert excinfo.value.code == "guardian_self"
        assert not GuardianLink.objects.exists()

    @pytest.mark.parametrize("role", [Role.COACH, Role.STAFF])
    def test_non_client(self, client_user, role):
        UserFactory(email="grown-up@example.com", role=role)

        with pytest.raises(DomainError) as excinfo:
            services.link_dependent(guardian=client_user, dependent_email="grown-up@example.com")

        assert excinfo.value.code == "dependent_not_client"
        assert not GuardianLink.objects.exists()

    def test_duplicate(self, client_user):
        GuardianLinkFactory(guardian=client_user, dependent=ClientFactory(email="kid@example.com"))

        with pytest.raises(DomainError) as excinfo:
            services.link_dependent(guardian=client_user, dependent_email="kid@example.com")

        assert excinfo.value.code == "already_linked"
        assert GuardianLink.objects.count() == 1


# --- API tokens -------------------------------------------------------------------------


class TestApiTokens:
    def test_create_stores_only_a_hash_and_a_hint(self, client_user):
        token, raw = services.create_api_token(user=client_user, name="  Calendar script  ")

        token = ApiToken.objects.get(pk=token.pk)
        assert raw.startswith("bk_")
        assert len(raw) > 40
        assert token.name == "Calendar script"
        assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
        assert token.hint == raw[:10]
        assert not ApiToken.objects.filter(token_hash=raw).exists()
        assert token.is_active

    def test_each_token_is_different(self, client_user):
        _, first = make_token(client_user)
        _, second = make_token(client_user)

        assert first != second

    def test_a_name_is_required(self, client_user):
        with pytest.raises(DomainError) as excinfo:
            services.create_api_token(user=client_user, name="   ")

        assert excinfo.value.code == "token_name_required"
        assert not ApiToken.objects.exists()

    def test_authenticate_returns_the_owner_and_records_use(self, client_user):
        token, raw = make_token(client_user)

        with time_machine.travel(dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC), tick=False):
            assert services.authenticate_token(raw) == client_user

        assert ApiToken.objects.get(pk=token.pk).last_used_at == dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)

    def test_last_use_is_written_at_most_once_a_minute(self, client_user):
        token, raw = make_token(client_user)
        start = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)

        with time_machine.travel(start, tick=False) as clock:
            services.authenticate_token(raw)
            clock.shift(dt.timedelta(seconds=30))
            services.authenticate_token(raw)
            assert ApiToken.objects.get(pk=token.pk).last_used_at == start
            clock.shift(dt.timedelta(seconds=31))
            services.authenticate_token(raw)

        assert ApiToken.objects.get(pk=token.pk).last_used_at == start + dt.timedelta(seconds=61)

    @pytest.mark.parametrize("raw", ["", "bk_not-a-real-token", "Bearer bk_x", "token"])
    def test_unknown_tokens_authenticate_nobody(self, client_user, raw):
        make_token(client_user)

        assert services.authenticate_token(raw) is None

    def test_a_hint_alone_is_not_a_token(self, client_user):
        token, _ = make_token(client_user)

        assert services.authenticate_token(token.hint) is None

    def test_revoked_tokens_stop_working(self, client_user):
        token, raw = make_token(client_user)

        services.revoke_api_token(token=token, actor=client_user)

        assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
        assert not ApiToken.objects.get(pk=token.pk).is_active
        assert services.authenticate_token(raw) is None

    def test_revoking_twice_keeps_the_first_time(self, client_user):
        token, _ = make_token(client_user)
        with time_machine.travel(dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC), tick=False):
            services.revoke_api_token(token=token, actor=client_user)
        with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tick=False):
            services.revoke_api_token(token=ApiToken.objects.get(pk=token.pk), actor=client_user)

        assert ApiToken.objects.get(pk=token.pk).revoked_at == dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)

    def test_only_the_owner_or_an_admin_may_revoke(self, client_user, staff_user, admin_user):
        token, raw = make_token(client_user)

        with pytest.raises(NotAllowed):
            services.revoke_api_token(token=token, actor=staff_user)
        assert services.authenticate_token(raw) == client_user

        services.revoke_api_token(token=token, actor=admin_user)
        assert services.authenticate_token(raw) is None

    def test_tokens_of_deactivated_users_stop_working(self, client_user):
        _, raw = make_token(client_user)
        client_user.is_active = False
        client_user.save()

        assert services.authenticate_token(raw) is None


# --- profile page -----------------------------------------------------------------------


def profile_post(http: Client, **overrides: str):
    data = {"name": "Chloé Martin", "timezone": "Asia/Kolkata", "phone": "+33 6 12 34 56 78", **overrides}
    return http.post("/profile/", data)


class TestProfilePage:
    def test_shows_the_current_values(self, as_role, client_user):
        client_user.phone = "+33612345678"
        client_user.save()

        response = as_role("client").get("/profile/")

        assert response.status_code == 200
        form = response.context["form"]
        assert form.initial == {
            "name": "Chloé Client",
            "timezone": "Europe/Paris",
            "phone": "+33612345678",
            "language": "",
        }
        assert '<option value="Europe/Paris" selected>' in response.content.decode()

    def test_post_saves_name_zone_and_phone(self, as_role, client_user):
        http = as_role("client")

        response = profile_post(http)

        assert response.status_code == 302
        assert response["Location"] == "/profile/"
        user = fresh(client_user)
        assert user.name == "Chloé Martin"
        assert user.timezone == "Asia/Kolkata"
        assert user.phone == "+33612345678"
        page = http.get("/profile/")
        assert "Your profile is saved." in page.content.decode()

    @pytest.mark.parametrize(
        ("phone", "message"),
        [
            ("0612345678", "Enter the phone number in international format"),
            ("+1 555", "is not a valid phone number"),
        ],
    )
    def test_a_bad_phone_is_a_field_error(self, as_role, client_user, phone, message):
        response = profile_post(as_role("client"), phone=phone)

        assert response.status_code == 400
        assert list(response.context["form"].errors) == ["phone"]
        assert message in response.content.decode()
        user = fresh(client_user)
        assert user.phone == ""
        assert user.name == "Chloé Client"

    def test_a_bad_zone_is_a_field_error(self, as_role, client_user):
        response = profile_post(as_role("client"), timezone="Mars/Olympus_Mons")

        assert response.status_code == 400
        assert list(response.context["form"].errors) == ["timezone"]
        assert "“Mars/Olympus_Mons” is not a time zone we know" in response.content.decode()
        assert fresh(client_user).timezone == "Europe/Paris"

    def test_a_blank_name_is_a_field_error(self, as_role, client_user):
        response = profile_post(as_role("client"), name="")

        assert response.status_code == 400
        assert "This field is required." in response.content.decode()
        assert fresh(client_user).name == "Chloé Client"

    def test_visitors_are_sent_to_log_in(self, client, db):
        response = client.post("/profile/", {"name": "x", "timezone": "UTC"})

        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


# --- coach settings page ----------------------------------------------------------------


def coach_settings_data(profile: CoachProfile, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "headline": profile.headline,
        "bio": profile.bio,
        "calendar_visibility": profile.calendar_visibility,
        "firm_booking_threshold_hours": profile.firm_booking_threshold_hours,
        "minimum_notice_hours": profile.minimum_notice_hours,
        "booking_window_days": profile.booking_window_days,
        "slot_step_minutes": profile.slot_step_minutes,
        "buffer_before_minutes": profile.buffer_before_minutes,
        "buffer_after_minutes": profile.buffer_after_minutes,
        "max_sessions_per_day": profile.max_sessions_per_day,
        "max_sessions_per_week": profile.max_sessions_per_week,
        "cancellation_notice_hours": profile.cancellation_notice_hours,
    }
    if profile.allow_firm_booking:
        data["allow_firm_booking"] = "on"
    if profile.require_approval_unconnected:
        data["require_approval_unconnected"] = "on"
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


class TestCoachSettingsPage:
    def test_shows_the_form(self, as_role, coach_user):
        response = as_role("coach").get("/coach/settings/")

        assert response.status_code == 200
        assert response.context["form"].instance == coach_user.coach_profile

    def test_post_saves_the_values(self, as_role, coach_user):
        http = as_role("coach")
        data = coach_settings_data(
            coach_user.coach_profile,
            headline="Career coach",
            calendar_visibility="connected",
            max_sessions_per_day=4,
            max_sessions_per_week=12,
            slot_step_minutes=15,
            buffer_after_minutes=10,
            allow_firm_booking=None,  # unticked
        )

        response = http.post("/coach/settings/", data)

        assert response.status_code == 302
        assert response["Location"] == "/coach/settings/"
        profile = CoachProfile.objects.get(user=coach_user)
        assert profile.headline == "Career coach"
        assert profile.calendar_visibility == "connected"
        assert profile.max_sessions_per_day == 4
        assert profile.max_sessions_per_week == 12
        assert profile.slot_step_minutes == 15
        assert profile.buffer_after_minutes == 10
        assert profile.allow_firm_booking is False
        assert "Your booking settings are saved." in http.get("/coach/settings/").content.decode()

    def test_weekly_limit_below_daily_limit_is_refused_with_a_message(self, as_role, coach_user):
        before = CoachProfile.objects.get(user=coach_user)
        data = coach_settings_data(before, max_sessions_per_day=6, max_sessions_per_week=5, headline="Changed")

        response = as_role("coach").post("/coach/settings/", data)

        assert response.status_code == 400
        assert "max_sessions_per_week" in response.context["form"].errors
        assert "The weekly limit cannot be lower than the daily limit." in response.content.decode()
        after = CoachProfile.objects.get(user=coach_user)
        assert after.max_sessions_per_day == before.max_sessions_per_day
        assert after.max_sessions_per_week == before.max_sessions_per_week
        assert after.headline == before.headline

    def test_weekly_equal_to_daily_is_allowed(self, as_role, coach_user):
        data = coach_settings_data(coach_user.coach_profile, max_sessions_per_day=5, max_sessions_per_week=5)

        response = as_role("coach").post("/coach/settings/", data)

        assert response.status_code == 302
        assert CoachProfile.objects.get(user=coach_user).max_sessions_per_week == 5

    def test_out_of_range_values_are_refused(self, as_role, coach_user):
        data = coach_settings_data(coach_user.coach_profile, slot_step_minutes=1, max_sessions_per_day=0)

        response = as_role("coach").post("/coach/settings/", data)

        assert response.status_code == 400
        assert set(response.context["form"].errors) == {"slot_step_minutes", "max_sessions_per_day"}
        profile = CoachProfile.objects.get(user=coach_user)
        assert profile.slot_step_minutes == settings.BOOKING_DEFAULTS["slot_step_minutes"]

    @pytest.mark.parametrize("role", ["client", "staff"])
    def test_other_roles_do_not_see_the_page(self, as_role, role):
        assert as_role(role).get("/coach/settings/").status_code == 404


# --- the viewer's zone ------------------------------------------------------------------


def footer_zone(response) -> str:
    html = response.content.decode()
    marker = 'data-testid="viewer-timezone">Times shown in <strong>'
    assert marker in html
    return html.split(marker, 1)[1].split("</strong>", 1)[0]


class TestViewerTimezone:
    def test_a_signed_in_user_sees_their_own_zone(self, as_role, client_user):
        assert client_user.timezone == "Europe/Paris"

        response = as_role("client").get("/profile/")

        assert footer_zone(response) == "Europe/Paris"

    def test_the_user_setting_wins_over_the_browser_cookie(self, client_user):
        http = Client()
        http.force_login(client_user)
        http.cookies["tz"] = "Asia/Kolkata"

        assert footer_zone(http.get("/profile/")) == "Europe/Paris"

    def test_a_visitor_without_a_cookie_sees_utc(self, client, db):
        assert footer_zone(client.get("/")) == "UTC"

    def test_a_visitor_sees_the_zone_from_the_tz_cookie(self, client, db):
        client.cookies["tz"] = "Asia/Kolkata"

        assert footer_zone(client.get("/")) == "Asia/Kolkata"

    @pytest.mark.parametrize("cookie", ["Mars/Olympus_Mons", "<script>", "../../etc/passwd"])
    def test_an_invalid_cookie_is_ignored(self, client, db, cookie):
        client.cookies["tz"] = cookie

        response = client.get("/")

        assert response.status_code == 200
        assert footer_zone(response) == "UTC"

    def test_a_visitor_sees_the_zone_as_the_page_script_writes_it(self, client, db):
        # static/js/app.js stores the zone with encodeURIComponent(), so the browser
        # sends "America%2FNew_York" for America/New_York.
        client.cookies["tz"] = "America%2FNew_York"

        assert footer_zone(client.get("/")) == "America/New_York"
