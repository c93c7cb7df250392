"""The waitlist page in French for a French-speaking reader, in English for the others."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.tests.factories import ClientFactory
from conftest import logged_in

pytestmark = pytest.mark.django_db


def test_the_waitlist_page_speaks_the_readers_language():
    french = logged_in(ClientFactory(language="fr")).get(reverse("waitlist:mine")).content.decode()
    assert "Votre liste d'attente" in french or "Votre liste d&#x27;attente" in french
    assert "Vous n'attendez rien." in french or "Vous n&#x27;attendez rien." in french
    english = logged_in(ClientFactory(language="en")).get(reverse("waitlist:mine")).content.decode()
    assert "Your waitlist" in english
    assert "You are not waiting for anything." in english
