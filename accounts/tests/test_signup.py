"""The real django-allauth flows, through the test client: sign-up, email verification,
login, password reset and the failed-login rate limit."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.cache import cache
from django.test import Client

from accounts.models import Role, User
from accounts.tests.factories import PASSWORD, ClientFactory

NEW_PASSWORD = "a-quiet-Lighthouse-at-dusk-42"
LINK_RE = re.compile(r"http://testserver(/\S+)")


@pytest.fixture(autouse=True)
def _clear_cache():
    # allauth keeps its rate-limit counters in the cache; one test's failures must not
    # lock out the next test's logins.
    cache.clear()
    yield
    cache.clear()


def link_in(message: mail.EmailMessage) -> str:
    """The one site link in an email's body, as a path."""
    links = LINK_RE.findall(message.body)
    assert len(links) == 1, message.body
    return links[0]


def sign_up(http: Client, **overrides: str):
    data = {
        "name": "Nina Newcomer",
        "email": "nina@example.com",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        "timezone": "America/New_York",
        **overrides,
    }
    return http.post("/accounts/signup/", data)


def log_in(http: Client, email: str, password: str):
    return http.post("/accounts/login/", {"login": email, "password": password})


@pytest.mark.django_db
class TestSignup:
    def test_signup_page_asks_for_name_and_time_zone(self, client):
        response = client.get("/accounts/signup/")

        assert response.status_code == 200
        html = response.content.decode()
        assert 'name="name"' in html
        assert 'name="timezone"' in html
        assert 'name="email"' in html

    def test_signup_creates_an_unverified_client_with_name_and_zone(self, client):
        response = sign_up(client)

        assert response.status_code == 302
        assert response["Location"] == "/accounts/confirm-email/"
        user = User.objects.get(email="nina@example.com")
        assert user.name == "Nina Newcomer"
        assert user.timezone == "America/New_York"
        assert user.role == Role.CLIENT
        assert not user.is_staff
        assert not user.is_superuser
        assert user.check_password(NEW_PASSWORD)
        address = EmailAddress.objects.get(user=user)
        assert address.email == "nina@example.com"
        assert address.primary
        assert not address.verified
        # Mandatory verification: the new account is not signed in yet.
        assert "_auth_user_id" not in client.session

    def test_signup_sends_one_verification_email_with_a_confirmation_link(self, client):
        sign_up(client)

        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["nina@example.com"]
        assert message.subject.startswith("[Booking] ")
        assert link_in(message).startswith("/accounts/confirm-email/")

    def test_signup_lands_on_the_verify_page(self, client):
        response = client.get(sign_up(client)["Location"])

        assert response.status_code == 200
        assert "<h1>Verify your email address</h1>" in response.content.decode()

    def test_following_the_link_confirms_on_post_and_logs_the_user_in(self, client):
        sign_up(client)
        confirm_path = link_in(mail.outbox[0])
        user = User.objects.get(email="nina@example.com")

        page = client.get(confirm_path)

        # GET only shows the confirmation page (ACCOUNT_CONFIRM_EMAIL_ON_GET = False).
        assert page.status_code == 200
        assert "<h1>Confirm email address</h1>" in page.content.decode()
        assert "Confirming signs you in." in page.content.decode()
        assert 'method="post"' in page.content.decode()
        assert not EmailAddress.objects.get(user=user).verified
        assert "_auth_user_id" not in client.session

        response = client.post(confirm_path, follow=True)

        assert EmailAddress.objects.get(user=user).verified
        assert int(client.session["_auth_user_id"]) == user.pk
        assert [url for url, _ in response.redirect_chain] == ["/dashboard/", "/client/"]
        assert response.status_code == 200

    def test_a_bad_confirmation_key_confirms_nothing(self, client):
        sign_up(client)
        user = User.objects.get(email="nina@example.com")

        page = client.get("/accounts/confirm-email/not-a-real-key/")
        posted = client.post("/accounts/confirm-email/not-a-real-key/")

        assert page.status_code == 200
        assert "This confirmation link has expired or was already used." in page.content.decode()
        assert posted.status_code == 404
        assert not EmailAddress.objects.get(user=user).verified
        assert "_auth_user_id" not in client.session

    def test_login_before_verification_is_blocked_with_the_verify_page(self, client):
        sign_up(client)
        anonymous = Client()

        response = log_in(anonymous, "nina@example.com", NEW_PASSWORD)

        assert response.status_code == 302
        assert response["Location"] == "/accounts/confirm-email/"
        assert "_auth_user_id" not in anonymous.session
        page = anonymous.get(response["Location"])
        assert "<h1>Verify your email address</h1>" in page.content.decode()
        assert anonymous.get("/dashboard/").status_code == 302  # still anonymous: sent to log in

    def test_an_invalid_time_zone_is_a_form_error_not_a_server_error(self, client):
        response = sign_up(client, timezone="Mars/Olympus_Mons")

        assert response.status_code == 200
        form = response.context["form"]
        assert "timezone" in form.errors
        assert "is not a time zone we know" in response.content.decode()
        assert not User.objects.filter(email="nina@example.com").exists()
        assert mail.outbox == []

    def test_a_legacy_zone_name_from_a_browser_is_stored_under_its_canonical_name(self, client):
        sign_up(client, timezone="Asia/Calcutta")

        assert User.objects.get(email="nina@example.com").timezone == "Asia/Kolkata"

    @pytest.mark.parametrize("zone", ["localtime", "Factory", "Etc/GMT+5"])
    def test_a_zone_that_is_no_place_is_refused(self, client, zone):
        response = sign_up(client, timezone=zone)

        assert "timezone" in response.context["form"].errors
        assert not User.objects.filter(email="nina@example.com").exists()

    def test_an_email_already_in_use_cannot_sign_up_again(self, client):
        ClientFactory(email="nina@example.com", name="First Nina")

        sign_up(client, email="NINA@example.com")

        assert User.objects.filter(email__iexact="nina@example.com").count() == 1
        assert User.objects.get(email="nina@example.com").name == "First Nina"


@pytest.mark.django_db
class TestLogin:
    def test_login_by_email_lands_on_the_client_dashboard(self, client, client_user):
        response = client.post("/accounts/login/", {"login": "client@example.com", "password": PASSWORD}, follow=True)

        assert [url for url, _ in response.redirect_chain] == ["/dashboard/", "/client/"]
        assert response.status_code == 200
        assert response.templates[0].name == "accounts/client_dashboard.html"
        assert int(client.session["_auth_user_id"]) == client_user.pk

    def test_login_email_is_case_insensitive(self, client, client_user):
        response = log_in(client, "Client@Example.COM", PASSWORD)

        assert response.status_code == 302
        assert response["Location"] == "/dashboard/"
        assert int(client.session["_auth_user_id"]) == client_user.pk

    def test_a_wrong_password_is_refused(self, client, client_user):
        response = log_in(client, "client@example.com", "not-the-password")

        assert response.status_code == 200
        assert "are not correct" in response.content.decode()
        assert "_auth_user_id" not in client.session

    def test_after_five_failures_the_next_attempt_is_refused_as_too_many(self, client, client_user):
        for _ in range(5):
            response = log_in(client, "client@example.com", "not-the-password")
            assert "are not correct" in response.content.decode()

        # allauth 65 answers the sixth attempt with a form error (HTTP 200), not a 429;
        # even the right password is refused while the limit holds.
        response = log_in(client, "client@example.com", PASSWORD)

        assert response.status_code == 200
        assert response.context["form"].non_field_errors() == ["Too many failed login attempts. Try again later."]
        assert "Too many failed login attempts" in response.content.decode()
        assert "_auth_user_id" not in client.session

    def test_one_persons_failures_do_not_lock_out_another_person(self, client, client_user, coach_user):
        # Everyone behind the same NAT or reverse proxy shares an IP address: one person
        # mistyping their password five times must not stop a colleague from logging in.
        for _ in range(5):
            log_in(client, "client@example.com", "not-the-password")

        response = log_in(Client(), "coach@example.com", PASSWORD)

        assert response.status_code == 302
        assert response["Location"] == "/dashboard/"

    def test_four_failures_do_not_lock_the_account(self, client, client_user):
        for _ in range(4):
            log_in(client, "client@example.com", "not-the-password")

        response = log_in(client, "client@example.com", PASSWORD)

        assert response.status_code == 302
        assert int(client.session["_auth_user_id"]) == client_user.pk


@pytest.mark.django_db
class TestPasswordReset:
    def test_reset_link_sets_a_new_password_that_logs_in(self, client, client_user):
        response = client.post("/accounts/password/reset/", {"email": "client@example.com"})

        assert response.status_code == 302
        assert len(mail.outbox) == 1
        assert mail.outbox[0].to == ["client@example.com"]
        reset_path = link_in(mail.outbox[0])
        assert reset_path.startswith("/accounts/password/reset/key/")

        # allauth moves the key into the session and redirects to a key-less URL.
        form_page = client.get(reset_path, follow=True)
        assert form_page.status_code == 200
        set_password_path = form_page.redirect_chain[-1][0]
        assert 'name="password1"' in form_page.content.decode()

        done = client.post(set_password_path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

        assert done.status_code == 302
        client_user.refresh_from_db()
        assert client_user.check_password(NEW_PASSWORD)
        assert not client_user.check_password(PASSWORD)

        fresh = Client()
        assert log_in(fresh, "client@example.com", PASSWORD).status_code == 200  # old one refused
        response = log_in(fresh, "client@example.com", NEW_PASSWORD)
        assert response.status_code == 302
        assert response["Location"] == "/dashboard/"
        assert int(fresh.session["_auth_user_id"]) == client_user.pk

    def test_a_reset_link_works_only_once(self, client, client_user):
        client.post("/accounts/password/reset/", {"email": "client@example.com"})
        reset_path = link_in(mail.outbox[0])
        set_password_path = client.get(reset_path, follow=True).redirect_chain[-1][0]
        client.post(set_password_path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

        again = Client().get(reset_path, follow=True)

        assert again.status_code == 200
        assert again.context["token_fail"] is True
        assert "The password reset link was invalid" in again.content.decode()
        assert 'name="password1"' not in again.content.decode()
        client_user.refresh_from_db()
        assert client_user.check_password(NEW_PASSWORD)

    def test_reset_for_an_unknown_email_sends_no_reset_link(self, client, db):
        client.post("/accounts/password/reset/", {"email": "nobody@example.com"})

        assert all("/accounts/password/reset/key/" not in message.body for message in mail.outbox)
