"""Each person's language: their profile's, else the footer's choice (a cookie), else the
browser's (Accept-Language), else English; the footer's switch; account emails in it."""

from __future__ import annotations

import re

import pytest
from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.utils import translation

from accounts import services
from accounts.models import User
from accounts.tests.factories import ClientFactory
from conftest import logged_in

COOKIE = settings.LANGUAGE_COOKIE_NAME
HTML_LANG = re.compile(r'<html lang="([a-z-]+)"')


def page_language(response) -> str:
    found = HTML_LANG.search(response.content.decode())
    assert found, response.content[:200]
    assert response["Content-Language"] == found.group(1)
    return found.group(1)


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()  # allauth's rate limits
    yield
    cache.clear()


@pytest.mark.django_db
class TestWhichLanguage:
    def test_a_visitor_gets_english_by_default(self, client):
        assert page_language(client.get("/")) == "en"

    def test_a_visitor_gets_the_browsers_language(self, client):
        response = client.get("/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9,en;q=0.5")
        assert page_language(response) == "fr"
        assert "Accept-Language" in response["Vary"]

    def test_a_language_the_site_does_not_have_falls_back_to_english(self, client):
        assert page_language(client.get("/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")) == "en"

    def test_the_footers_choice_wins_over_the_browsers(self, client):
        client.cookies[COOKIE] = "fr"
        assert page_language(client.get("/", HTTP_ACCEPT_LANGUAGE="en")) == "fr"

    def test_a_signed_in_persons_own_language_wins_over_cookie_and_browser(self):
        person = ClientFactory(language="fr")
        http = logged_in(person)
        http.cookies[COOKIE] = "en"
        assert page_language(http.get("/profile/", HTTP_ACCEPT_LANGUAGE="en")) == "fr"

    def test_a_person_without_a_language_follows_the_browser(self):
        http = logged_in(ClientFactory(language=""))
        assert page_language(http.get("/profile/", HTTP_ACCEPT_LANGUAGE="fr")) == "fr"
        assert page_language(http.get("/profile/", HTTP_ACCEPT_LANGUAGE="en")) == "en"

    def test_their_messages_follow_the_language_their_browser_last_asked_for(self):
        from accounts.language import language_of

        person = ClientFactory(language="")
        http = logged_in(person)
        http.get("/profile/")  # an English browser: nothing to remember
        person.refresh_from_db()
        assert person.browser_language == "" and language_of(person) == "en"
        http.get("/profile/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")
        person.refresh_from_db()
        assert person.browser_language == "fr" and language_of(person) == "fr"
        http.get("/profile/", HTTP_ACCEPT_LANGUAGE="en-GB")
        person.refresh_from_db()
        assert language_of(person) == "en"
        # A language of their own wins, whatever the browser says.
        person.language = "en"
        person.save(update_fields=["language"])
        http.get("/profile/", HTTP_ACCEPT_LANGUAGE="fr")
        person.refresh_from_db()
        assert person.browser_language == "en" and language_of(person) == "en"

    def test_the_switch_shows_the_persons_own_language(self):
        http = logged_in(ClientFactory(language="fr"))
        html = http.get("/profile/").content.decode()
        assert '<option value="fr" lang="fr" selected>Français</option>' in html


@pytest.mark.django_db
class TestFooterSwitch:
    def test_every_page_has_a_labelled_switch_naming_each_language_in_itself(self, client):
        html = client.get("/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
        form = html[html.index('data-testid="language-switch"') :]
        form = form[: form.index("</form>")]
        assert 'action="/language/"' in html
        assert '<label for="footer-language">' in form
        assert 'id="footer-language" name="language"' in form
        assert '<option value="en" lang="en">English</option>' in form
        assert '<option value="fr" lang="fr" selected>Français</option>' in form
        assert 'name="next" value="/"' in form
        assert 'name="csrfmiddlewaretoken"' in form

    def test_the_switch_speaks_the_pages_language(self, client):
        html = client.get("/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
        with translation.override("fr"):
            label, button = translation.gettext("Language"), translation.gettext("Change language")
        assert (label, button) != ("Language", "Change language"), "the project's catalogue translates them"
        assert f'<label for="footer-language">{label}</label>' in html
        assert f">{button}</button>" in html

    def test_a_visitor_switches_and_comes_back_to_the_same_page(self, client):
        response = client.post("/language/", {"language": "fr", "next": "/accounts/login/?next=/book/"})

        assert response.status_code == 302
        assert response["Location"] == "/accounts/login/?next=/book/"
        cookie = response.cookies[COOKIE]
        assert cookie.value == "fr"
        assert int(cookie["max-age"]) == settings.LANGUAGE_COOKIE_AGE
        assert page_language(client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")) == "fr"

    def test_without_next_it_goes_back_to_the_referring_page(self, client):
        response = client.post("/language/", {"language": "fr"}, HTTP_REFERER="http://testserver/accounts/login/")
        assert response["Location"] == "http://testserver/accounts/login/"

    @pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
    def test_it_never_sends_anyone_to_another_site(self, client, next_url):
        response = client.post("/language/", {"language": "fr", "next": next_url})
        assert response.status_code == 302
        assert response["Location"] == "/"

    @pytest.mark.parametrize("code", ["de", "", "fr-FR-x" * 10])
    def test_a_language_not_offered_changes_nothing_and_says_so(self, client, code):
        response = client.post("/language/", {"language": code, "next": "/"}, follow=True)
        assert COOKIE not in client.cookies
        assert response.status_code == 200
        assert [str(m) for m in response.context["messages"]] == ["Choose one of the languages offered."]

    def test_only_a_post_switches(self, client):
        assert client.get("/language/?language=fr").status_code == 405

    def test_a_signed_in_person_keeps_the_choice_on_their_profile(self):
        person = ClientFactory(language="")
        http = logged_in(person)

        http.post("/language/", {"language": "fr", "next": "/profile/"})

        person.refresh_from_db()
        assert person.language == "fr"
        # Another browser, no cookie, an English browser: still French.
        assert page_language(logged_in(person).get("/profile/", HTTP_ACCEPT_LANGUAGE="en")) == "fr"

    def test_the_switch_works_without_a_csrf_exempt(self):
        http = Client(enforce_csrf_checks=True)
        assert http.post("/language/", {"language": "fr"}).status_code == 403


@pytest.mark.django_db
class TestProfile:
    def post_profile(self, http: Client, person: User, language: str):
        return http.post(
            "/profile/",
            {"name": person.name or "Pat", "timezone": person.timezone, "phone": "", "language": language},
        )

    def test_the_profile_offers_the_browsers_language_and_each_language(self):
        http = logged_in(ClientFactory(language=""))
        html = http.get("/profile/").content.decode()
        select = html[html.index('name="language"', html.index("<main")) :]
        select = select[: select.index("</select>")]
        assert '<option value="" selected>' in select
        assert "English</option>" in select
        assert "Français</option>" in select

    def test_choosing_a_language_on_the_profile_saves_it_and_the_browser_keeps_it(self):
        person = ClientFactory(language="")
        http = logged_in(person)

        response = self.post_profile(http, person, "fr")

        assert response.status_code == 302
        person.refresh_from_db()
        assert person.language == "fr"
        assert response.cookies[COOKIE].value == "fr"
        assert page_language(http.get("/profile/")) == "fr"

    def test_going_back_to_the_browsers_language_forgets_the_footers_choice(self):
        person = ClientFactory(language="fr")
        http = logged_in(person)
        http.cookies[COOKIE] = "fr"

        response = self.post_profile(http, person, "")

        person.refresh_from_db()
        assert person.language == ""
        assert response.cookies[COOKIE].value == ""  # deleted
        assert page_language(http.get("/profile/", HTTP_ACCEPT_LANGUAGE="en")) == "en"

    def test_a_post_without_the_field_leaves_the_language_alone(self):
        person = ClientFactory(language="fr")
        http = logged_in(person)
        response = http.post("/profile/", {"name": "Pat", "timezone": "Europe/Paris", "phone": ""})
        assert response.status_code == 302
        person.refresh_from_db()
        assert (person.name, person.language) == ("Pat", "fr")
        assert COOKIE not in response.cookies

    def test_a_language_not_offered_is_a_form_error(self):
        person = ClientFactory(language="")
        response = self.post_profile(logged_in(person), person, "de")
        assert response.status_code == 400
        person.refresh_from_db()
        assert person.language == ""

    def test_the_service_refuses_a_language_not_offered(self):
        from django.core.exceptions import ValidationError

        person = ClientFactory(language="")
        with pytest.raises(ValidationError):
            services.set_language(user=person, language="xx")
        services.set_language(user=person, language="fr")
        person.refresh_from_db()
        assert person.language == "fr"


@pytest.mark.django_db
class TestAccountEmails:
    @pytest.fixture
    def languages_rendered(self, monkeypatch):
        seen: list[str] = []
        original = DefaultAccountAdapter.render_mail

        def render_mail(adapter, *args, **kwargs):
            seen.append(translation.get_language())
            return original(adapter, *args, **kwargs)

        monkeypatch.setattr(DefaultAccountAdapter, "render_mail", render_mail)
        return seen

    def test_a_password_reset_email_is_in_the_account_holders_language(self, client, languages_rendered):
        person = ClientFactory(email="francoise@example.com", language="fr")

        client.post("/accounts/password/reset/", {"email": person.email}, HTTP_ACCEPT_LANGUAGE="en")

        assert len(mail.outbox) == 1
        assert languages_rendered == ["fr"]

    def test_without_a_language_it_is_in_the_pages(self, client, languages_rendered):
        person = ClientFactory(email="pat@example.com", language="")

        client.post("/accounts/password/reset/", {"email": person.email}, HTTP_ACCEPT_LANGUAGE="fr")

        assert languages_rendered == ["fr"]

    def test_signing_up_in_french_keeps_french_for_later_messages(self, client):
        password = "a-quiet-Lighthouse-at-dusk-42"
        data = {
            "name": "Nina",
            "email": "nina@example.com",
            "password1": password,
            "password2": password,
            "timezone": "Europe/Paris",
        }
        client.post("/accounts/signup/", data, HTTP_ACCEPT_LANGUAGE="fr")
        client.post("/accounts/signup/", {**data, "email": "ned@example.com"}, HTTP_ACCEPT_LANGUAGE="en")

        assert User.objects.get(email="nina@example.com").language == "fr"
        # English is the default: nothing to keep, the browser decides.
        assert User.objects.get(email="ned@example.com").language == ""


@pytest.mark.django_db
class TestApi:
    def test_a_token_speaks_its_owners_language(self, client):
        person = ClientFactory(language="fr")
        _token, raw = services.create_api_token(user=person, name="script")
        response = client.get("/api/v1/notifications", HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200
        assert response["Content-Language"] == "fr"

    def test_without_a_language_the_request_decides(self, client):
        person = ClientFactory(language="")
        _token, raw = services.create_api_token(user=person, name="script")
        response = client.get("/api/v1/notifications", HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_ACCEPT_LANGUAGE="fr")
        assert response["Content-Language"] == "fr"
        response = client.get("/api/v1/notifications", HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert response["Content-Language"] == "en"
