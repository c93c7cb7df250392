"""Confirming one's email signs the person in: in the browser they signed up in (allauth's
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION), and also where the sign-up's session is gone — the link
opened on another device or after allauth's sign-in window — when that confirmation is what
makes the account usable. A link used again, or one confirming an extra address, signs no one in."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.cache import cache
from django.test import Client

from accounts.adapter import KNOWN_DEVICE_COOKIE
from accounts.models import User
from accounts.tests.test_signup import NEW_PASSWORD, link_in, sign_up


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def signed_in_as(http: Client) -> int | None:
    value = http.session.get("_auth_user_id")
    return int(value) if value else None


@pytest.mark.django_db
class TestConfirmingSignsIn:
    def test_in_the_browser_that_signed_up(self, client):
        sign_up(client)
        user = User.objects.get(email="nina@example.com")

        response = client.post(link_in(mail.outbox[0]), follow=True)

        assert signed_in_as(client) == user.pk
        assert [url for url, _ in response.redirect_chain] == ["/dashboard/", "/client/"]
        assert KNOWN_DEVICE_COOKIE in response.cookies or KNOWN_DEVICE_COOKIE in client.cookies

    def test_on_another_device(self, client):
        sign_up(client)
        user = User.objects.get(email="nina@example.com")
        phone = Client()

        page = phone.get(link_in(mail.outbox[0]))
        assert page.status_code == 200
        assert signed_in_as(phone) is None  # a GET (a mail scanner's preview) signs no one in

        response = phone.post(link_in(mail.outbox[0]), follow=True)

        assert EmailAddress.objects.get(user=user).verified
        assert signed_in_as(phone) == user.pk
        assert [url for url, _ in response.redirect_chain] == ["/dashboard/", "/client/"]
        assert "You have confirmed nina@example.com" in response.content.decode()

    def test_after_the_sign_up_session_timed_out(self, client):
        sign_up(client)
        user = User.objects.get(email="nina@example.com")

        later = time.time() + 60 * 60
        with mock.patch("allauth.account.internal.stagekit.time.time", return_value=later):
            response = client.post(link_in(mail.outbox[0]))

        assert response.status_code == 302
        assert response["Location"] == "/dashboard/"
        assert signed_in_as(client) == user.pk

    def test_a_link_used_again_signs_no_one_in(self, client):
        sign_up(client)
        link = link_in(mail.outbox[0])
        first = Client()
        first.post(link)

        again = Client()
        response = again.post(link)

        assert signed_in_as(again) is None
        assert response.status_code == 404  # allauth: the key no longer confirms anything

    def test_confirming_an_added_address_signs_no_one_in(self, client, client_user):
        assert EmailAddress.objects.filter(user=client_user, verified=True).exists()
        client.force_login(client_user)
        client.post("/accounts/email/", {"action_add": "", "email": "second@example.com"})
        link = link_in(mail.outbox[-1])

        other = Client()
        other.post(link)

        assert EmailAddress.objects.get(email="second@example.com").verified
        assert signed_in_as(other) is None

    def test_an_inactive_account_is_not_signed_in(self, client):
        sign_up(client)
        User.objects.filter(email="nina@example.com").update(is_active=False)

        other = Client()
        other.post(link_in(mail.outbox[0]))

        assert signed_in_as(other) is None

    def test_the_new_password_still_signs_in_afterwards(self, client):
        sign_up(client)
        Client().post(link_in(mail.outbox[0]))

        fresh = Client()
        response = fresh.post("/accounts/login/", {"login": "nina@example.com", "password": NEW_PASSWORD})

        assert response.status_code == 302
        assert signed_in_as(fresh) == User.objects.get(email="nina@example.com").pk


@pytest.mark.django_db
class TestConfirmPage:
    def test_says_confirming_signs_in_only_when_it_does(self, client, client_user):
        sign_up(client)
        page = Client().get(link_in(mail.outbox[0])).content.decode()
        assert "Confirm that <strong>nina@example.com</strong> is your email address." in page
        assert "Confirming signs you in." in page

        client.force_login(client_user)
        client.post("/accounts/email/", {"action_add": "", "email": "second@example.com"})
        page = client.get(link_in(mail.outbox[-1])).content.decode()
        assert "Confirm that <strong>second@example.com</strong> is your email address." in page
        assert "Confirming signs you in." not in page

    def test_a_used_link_says_so_and_offers_to_log_in(self, client):
        sign_up(client)
        link = link_in(mail.outbox[0])
        Client().post(link)

        page = Client().get(link).content.decode()

        assert "This confirmation link has expired or was already used." in page
        assert 'href="/accounts/login/"' in page
