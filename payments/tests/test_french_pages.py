"""The payment pages in French for a French-speaking reader, in English for the others."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.tests.factories import ClientFactory
from conftest import logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def payments_on(settings):
    settings.ENABLE_PAYMENT_GATEWAY = True
    settings.PAYMENT_BACKEND = "local"


def test_the_payments_page_speaks_the_readers_language():
    french = logged_in(ClientFactory(language="fr")).get(reverse("payments:mine")).content.decode()
    assert "Paiements et crédits" in french
    assert "Vous n'avez aucun crédit à utiliser." in french
    assert "Pas encore de paiement." in french
    english = logged_in(ClientFactory(language="en")).get(reverse("payments:mine")).content.decode()
    assert "Payments &amp; credits" in english or "Payments & credits" in english
    assert "No payments yet." in english


def test_the_packages_and_programmes_pages_speak_french():
    reader = logged_in(ClientFactory(language="fr"))
    assert "Forfaits de crédits" in reader.get(reverse("payments:packages")).content.decode()
    assert "Aucun programme n'est ouvert aux inscriptions pour le moment." in (
        reader.get(reverse("payments:programmes")).content.decode()
    )
