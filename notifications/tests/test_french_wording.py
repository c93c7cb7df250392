"""The notifications' own words in French: every built-in message (kind × channel, one
session or a series) has a French wording that renders with the same variables as the
English one, the English wording is unchanged, and the pages (the list, the settings, the
admin's template page) speak French to a French-speaking reader."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import translation

from accounts.tests.factories import AdminFactory, ClientFactory
from conftest import logged_in
from notifications import messages
from notifications.models import Channel, Kind

VARIABLE = re.compile(r"\{\{\s*(\w+)")
STARTS = [dt.datetime(2026, 12, 1, 17, 0, tzinfo=dt.UTC) + dt.timedelta(weeks=week) for week in range(8)]


def _contexts() -> list[dict]:
    one = messages.sample_context()
    series = {**one, **messages.series_extra(STARTS, "Europe/Paris", frequency="weekly"), "requested": "yes"}
    return [one, {**one, "requested": "yes"}, series]


@pytest.mark.parametrize("wording", ["BUILTIN", "SERIES_BUILTIN"])
def test_every_builtin_message_has_a_french_wording_with_the_same_variables(wording):
    table = getattr(messages, wording)
    for kind, parts in table.items():
        for part, source in parts.items():
            with translation.override("fr"):
                french = translation.gettext(source)
            if VARIABLE.sub("", source).strip(" \n.:·{}%") and re.search(r"[A-Za-z]{3}", VARIABLE.sub("", source)):
                assert french != source, f"{kind} {part} has no French wording"
            assert sorted(set(VARIABLE.findall(french))) == sorted(set(VARIABLE.findall(source))), (kind, part)


def test_builtin_messages_render_in_french_and_stay_english_in_english():
    for context in _contexts():
        series = bool(context.get("series_count"))
        for kind in messages.SERIES_BUILTIN if series else messages.BUILTIN:
            for channel in Channel:
                with translation.override("fr"):
                    french = messages.render(kind, channel, context)
                english = messages.render(kind, channel, context)
                assert french.text and (french.subject, french.text) != (english.subject, english.text), (kind, channel)
                if channel == Channel.EMAIL:
                    assert french.text.startswith("Bonjour "), (kind, french.text)
                    assert english.text.startswith("Hello "), (kind, english.text)
                    assert 'lang="fr"' in french.html and "Voir la réservation" in french.html


def test_the_request_and_booked_branches_do_not_depend_on_the_status_words():
    context = messages.sample_context()
    with translation.override("fr"):
        requested = messages.render(Kind.BOOKING_CREATED, Channel.EMAIL, {**context, "requested": "yes"})
        booked = messages.render(Kind.BOOKING_CREATED, Channel.EMAIL, context)
    assert requested.subject.startswith("Demande envoyée : ")
    assert "Votre demande a été envoyée." in requested.text
    assert booked.subject.startswith("Réservé : ")
    assert "Votre séance est réservée." in booked.text


def test_the_variables_values_follow_the_language():
    start = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
    assert messages.local_when(start, "Europe/Paris") == "Wed 2 Dec 2026, 10:00 (Europe/Paris)"
    assert messages.lead_text(dt.timedelta(hours=2)) == "in 2 hours"
    with translation.override("fr"):
        assert messages.local_when(start, "Europe/Paris") == "mer. 2 déc. 2026 à 10:00 (Europe/Paris)"
        assert messages.lead_text(dt.timedelta(hours=2)) == "dans 2 heures"
        assert messages.lead_text(dt.timedelta(minutes=1)) == "dans 1 minute"
        series = messages.series_extra(STARTS, "Europe/Paris", frequency="weekly")
    assert series["series_sessions"] == "8 séances hebdomadaires"
    assert series["series_kind"] == "série hebdomadaire"
    assert series["series_rule"] == "le mardi à 18:00"
    assert series["series_when"].startswith("le mardi à 18:00 (Europe/Paris), du 1 déc. 2026 au ")


@pytest.mark.django_db
def test_the_inbox_and_the_settings_page_speak_french():
    reader = ClientFactory(language="fr")
    http = logged_in(reader)
    inbox = http.get("/notifications/").content.decode()
    assert "Pas encore de notification." in inbox
    assert "Réglages des notifications" in inbox
    settings_page = http.get("/profile/notifications/").content.decode()
    assert "Comment vous êtes informé" in settings_page
    assert "Utiliser les rappels habituels" in settings_page
    assert "24 heures avant" in settings_page or "2 heures avant" in settings_page
    assert "Réservation créée" in settings_page  # a kind's name


@pytest.mark.django_db
def test_the_template_page_of_the_admin_shows_the_builtin_wording_in_the_staffs_language():
    staff = AdminFactory(language="fr")
    page = logged_in(staff).get("/admin/notifications/messagetemplate/add/?kind=confirmed&channel=email")
    content = page.content.decode()
    assert page.status_code == 200
    assert "Formulation intégrée" in content
    assert "La séance est confirmée." in content  # the built-in text, in French
    assert "Le nom de la personne à qui le message est envoyé." in content  # a variable's description
