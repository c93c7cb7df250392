"""Why a webhook endpoint was disabled is stored in English (the disabler's name kept) and
shown in the reader's language on the endpoint's pages and in the admin."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.test import Client

from accounts import services as accounts
from accounts.tests.factories import AdminFactory, CoachFactory
from webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    http = Client()
    http.force_login(user)
    return http


def _shown_reason(http: Client, endpoint: WebhookEndpoint) -> str:
    body = unescape(http.get(f"/webhooks/{endpoint.pk}/").content.decode())
    found = re.search(r'data-testid="disabled-reason">(.*?)</span>', body)
    assert found is not None
    return found.group(1)


def test_disabled_by_a_named_person_reads_in_either_language():
    coach = CoachFactory(name="Zoé Martin", language="fr")
    endpoint = WebhookEndpoint.objects.create(
        owner=coach, url="https://hooks.example.com/x", event_types=["booking.created"]
    )
    http = signed_in(coach)
    http.post(f"/webhooks/{endpoint.pk}/disable/")  # asked in French
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert endpoint.disabled_reason == "Disabled by Zoé Martin."

    assert _shown_reason(http, endpoint) == "Désactivé par Zoé Martin."
    accounts.set_language(user=coach, language="en")
    assert _shown_reason(signed_in(coach), endpoint) == "Disabled by Zoé Martin."


def test_disabled_by_staff_in_the_admin_is_stored_in_english_and_shown_in_french():
    coach = CoachFactory(language="en")
    endpoint = WebhookEndpoint.objects.create(
        owner=coach, url="https://hooks.example.com/y", event_types=["booking.created"]
    )
    admin = signed_in(AdminFactory(language="fr"))
    admin.post("/admin/webhooks/webhookendpoint/", {"action": "disable_endpoints", "_selected_action": [endpoint.pk]})
    endpoint.refresh_from_db()
    assert endpoint.disabled_reason == "Disabled by staff."
    assert "Désactivé par l'équipe." in unescape(
        admin.get(f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/").content.decode()
    )
    assert _shown_reason(signed_in(coach), endpoint) == "Disabled by staff."
