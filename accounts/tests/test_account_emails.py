"""The sign-up, address and password-reset emails speak as the product: its own wording and
layout (plain text and HTML), the site's name from settings (SITE_NAME), never allauth's
"Hello from 127.0.0.1:8100!"."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client, override_settings

from accounts.tests.test_signup import link_in, sign_up


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def html_of(message: mail.EmailMultiAlternatives) -> str:
    (html,) = [content for content, mimetype in message.alternatives if mimetype == "text/html"]
    return html


def assert_no_allauth_wording(text: str) -> None:
    for phrase in ("Hello from", "Thank you for using", "testserver!", "You're receiving this", "user Nina"):
        assert phrase not in text, text


@pytest.mark.django_db
class TestSignupEmail:
    def test_greets_by_name_and_says_what_to_do(self, client):
        sign_up(client)

        (message,) = mail.outbox
        assert message.subject == "[Booking] Confirm your email address"
        assert message.body.startswith("Hello Nina Newcomer,\n")
        assert "Welcome to Booking." in message.body
        assert "Confirming signs you in." in message.body
        assert "If you didn't create an account" in message.body
        assert message.body.rstrip().endswith("— Booking\nhttp://127.0.0.1:8000")
        assert_no_allauth_wording(message.body)
        assert link_in(message).startswith("/accounts/confirm-email/")

    def test_has_the_products_html_layout_with_a_button(self, client):
        sign_up(client)

        html = html_of(mail.outbox[0])
        link = "http://testserver" + link_in(mail.outbox[0])
        assert html.startswith("<!doctype html>")
        assert f'href="{link}"' in html and ">Confirm your email</a>" in html
        assert "Hello Nina Newcomer," in html
        assert_no_allauth_wording(html)

    @override_settings(
        SITE_NAME="Harbour Coaching", SITE_URL="https://harbour.example", ACCOUNT_EMAIL_SUBJECT_PREFIX=""
    )
    def test_uses_the_site_name_from_settings(self, client):
        sign_up(client)

        (message,) = mail.outbox
        assert message.subject == "Confirm your email address"
        assert "Welcome to Harbour Coaching." in message.body
        assert message.body.rstrip().endswith("— Harbour Coaching\nhttps://harbour.example")
        assert "Harbour Coaching" in html_of(message)
        assert "Booking" not in message.body

    def test_the_name_is_escaped_in_html(self, client):
        sign_up(client, name="<b>Nina</b>")

        html = html_of(mail.outbox[0])
        assert "<b>Nina</b>" not in html and "&lt;b&gt;Nina&lt;/b&gt;" in html
        assert mail.outbox[0].body.startswith("Hello <b>Nina</b>,\n")  # plain text is not HTML


@pytest.mark.django_db
class TestPasswordResetEmail:
    def test_wording_and_layout(self, client, client_user):
        client.post("/accounts/password/reset/", {"email": "client@example.com"})

        (message,) = mail.outbox
        assert message.subject == "[Booking] Reset your password"
        assert message.body.startswith(f"Hello {client_user.name},\n")
        assert "reset the password of your Booking account" in message.body
        assert "If you didn't ask" in message.body
        assert_no_allauth_wording(message.body)
        link = "http://testserver" + link_in(message)
        html = html_of(message)
        assert f'href="{link}"' in html and ">Choose a new password</a>" in html
        assert_no_allauth_wording(html)

    def test_an_unknown_address_is_told_plainly(self, db):
        Client().post("/accounts/password/reset/", {"email": "nobody@example.com"})

        (message,) = mail.outbox
        assert_no_allauth_wording(message.body)
        assert "Booking" in message.body


@pytest.mark.django_db
def test_adding_an_address_sends_the_products_wording(client, client_user):
    client.force_login(client_user)
    client.post("/accounts/email/", {"action_add": "", "email": "second@example.com"})

    message = mail.outbox[-1]
    assert message.subject == "[Booking] Confirm your email address"
    assert "Confirm second@example.com as an address of your Booking account" in message.body
    assert_no_allauth_wording(message.body)
    assert ">Confirm this address</a>" in html_of(message)
