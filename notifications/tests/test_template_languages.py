"""Staff's message templates per language: a recipient gets the template written for their
language, else the one for every language, else the built-in wording in their language —
never the wording staff wrote for readers of another language. The admin keeps one
template per kind, channel and language, lists which languages have one, and previews a
template in its own language."""

from __future__ import annotations

import datetime as dt
import html

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import translation

from accounts.tests.factories import ClientFactory
from bookings import services
from bookings.tests.factories import SessionTypeFactory, open_coach
from conftest import logged_in
from notifications import messages
from notifications.admin_forms import PREVIEW
from notifications.models import Channel, Kind, MessageTemplate, Notification

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
START = dt.datetime(2026, 12, 3, 14, 0, tzinfo=UTC)  # Thursday, 15:00 in Paris, 09:00 in New York

FRENCH_SUBJECT = "Séance réservée : {{ session_title }} le {{ when }}"
ENGLISH_SUBJECT = "Session booked: {{ session_title }} on {{ when }}"
EVERY_SUBJECT = "{{ session_title }} · {{ reference }}"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def coach(db):
    coach = open_coach(timezone="America/New_York", hours=(8, 18))
    coach.name = "Nora Haddad"
    coach.language = "en"
    coach.save()
    return coach


@pytest.fixture
def consultation(coach):
    return SessionTypeFactory(coach=coach, title="Consultation")


def french_client(**fields):
    return ClientFactory(timezone="Europe/Paris", language="fr", **fields)


def english_client(**fields):
    return ClientFactory(timezone="Europe/Paris", language="en", **fields)


def template(language: str, subject: str, *, channel: str = Channel.EMAIL, body: str = "", **fields):
    return MessageTemplate.objects.create(
        kind=Kind.BOOKING_CREATED,
        channel=channel,
        language=language,
        subject=subject,
        body=body or f"{subject}\n{{{{ place }}}}",
        **fields,
    )


def mail_to(user) -> list:
    return [message for message in mail.outbox if message.to == [user.email]]


def book(client, consultation, hours: int = 0):
    return services.book_slot(client=client, session_type=consultation, start=START + dt.timedelta(hours=hours))


# --- which template a recipient gets -----------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_french_client_gets_the_french_template_and_the_english_coach_the_built_in(coach, consultation):
    template("fr", FRENCH_SUBJECT)
    template("fr", FRENCH_SUBJECT, channel=Channel.IN_APP, body="Votre séance : {{ when }}")
    client = french_client(name="Cléo Martin")

    booking = book(client, consultation)

    [to_client] = mail_to(client)
    assert to_client.subject == "Séance réservée : Consultation le jeu. 3 déc. 2026 à 15:00 (Europe/Paris)"
    note = Notification.objects.get(recipient=client, booking=booking)
    assert (note.title, note.body) == (
        "Séance réservée : Consultation le jeu. 3 déc. 2026 à 15:00 (Europe/Paris)",
        "Votre séance : jeu. 3 déc. 2026 à 15:00 (Europe/Paris)",
    )
    # The coach reads English: the French template is not theirs; the built-in wording is.
    [to_coach] = mail_to(coach)
    assert to_coach.subject == "New booking: Consultation with Cléo Martin"
    assert Notification.objects.get(recipient=coach, booking=booking).title == to_coach.subject


@pytest.mark.django_db(transaction=True)
def test_an_english_client_with_only_a_french_template_gets_the_built_in_english(coach, consultation):
    template("fr", FRENCH_SUBJECT)
    client = english_client()

    book(client, consultation)

    [message] = mail_to(client)
    assert message.subject == "Booked: Consultation with Nora Haddad"
    assert message.body.startswith(f"Hello {client.display_name},")


@pytest.mark.django_db(transaction=True)
def test_a_french_client_with_only_an_english_template_gets_the_built_in_french(coach, consultation):
    template("en", ENGLISH_SUBJECT)
    english, french = english_client(), french_client()

    book(english, consultation)
    book(french, consultation, hours=1)

    assert mail_to(english)[0].subject == "Session booked: Consultation on Thu 3 Dec 2026, 15:00 (Europe/Paris)"
    [message] = mail_to(french)
    with translation.override("fr"):
        builtin_greeting = translation.gettext(messages.BUILTIN[Kind.BOOKING_CREATED]["text"]).split("{{")[0]
    assert builtin_greeting.strip() and builtin_greeting.strip() != "Hello"
    assert message.body.startswith(f"{builtin_greeting}{french.display_name}")
    assert "Session booked" not in message.subject and "Consultation" in message.subject


@pytest.mark.django_db(transaction=True)
def test_a_template_for_every_language_is_used_for_both_unless_one_is_in_the_readers_language(coach, consultation):
    template("", EVERY_SUBJECT)
    english, french = english_client(), french_client()

    first = book(english, consultation)
    second = book(french, consultation, hours=1)

    assert mail_to(english)[0].subject == f"Consultation · {first.reference}"
    assert mail_to(french)[0].subject == f"Consultation · {second.reference}"

    # A French template beside it: French readers get it, the others still get the one for all.
    template("fr", FRENCH_SUBJECT)
    mail.outbox.clear()
    third = book(english_client(), consultation, hours=2)
    fourth_client = french_client()
    book(fourth_client, consultation, hours=3)
    assert mail_to(third.client)[0].subject == f"Consultation · {third.reference}"
    assert mail_to(fourth_client)[0].subject.startswith("Séance réservée : Consultation le jeu. 3 déc. 2026")


@pytest.mark.django_db(transaction=True)
def test_a_template_not_in_use_for_the_readers_language_falls_back_to_the_one_for_every_language(coach, consultation):
    template("", EVERY_SUBJECT)
    template("fr", FRENCH_SUBJECT, is_active=False)
    client = french_client()

    booking = book(client, consultation)

    assert mail_to(client)[0].subject == f"Consultation · {booking.reference}"


@pytest.mark.django_db
def test_templates_are_read_in_one_query_and_chosen_by_the_language_messages_are_written_in(
    django_assert_num_queries,
):
    every = template("", EVERY_SUBJECT)
    french = template("fr", FRENCH_SUBJECT)
    sms = template("en", "", channel=Channel.SMS, body="Booked {{ when }}")
    messages.forget_custom_templates()

    with django_assert_num_queries(1):
        kept = messages.custom_templates({Kind.BOOKING_CREATED})
    with django_assert_num_queries(0):  # kept for the next messages
        messages.custom_templates({Kind.BOOKING_CREATED})
        with translation.override("fr"):
            assert kept.get((Kind.BOOKING_CREATED, Channel.EMAIL)) == french
            assert kept.get((Kind.BOOKING_CREATED, Channel.SMS)) is None  # the built-in French SMS
        with translation.override("en"):
            assert kept.get((Kind.BOOKING_CREATED, Channel.EMAIL)) == every
            assert kept.get((Kind.BOOKING_CREATED, Channel.SMS)) == sms
        assert kept.for_language(Kind.BOOKING_CREATED, Channel.EMAIL, "fr") == french
        assert kept.get((Kind.CONFIRMED, Channel.EMAIL)) is None
        assert messages.custom_templates({Kind.CONFIRMED}).get((Kind.BOOKING_CREATED, Channel.EMAIL)) is None


@pytest.mark.django_db
def test_a_template_for_another_language_is_never_rendered():
    french = MessageTemplate(
        kind=Kind.CONFIRMED, channel=Channel.SMS, language="fr", body="Confirmée : {{ session_title }}"
    )
    context = messages.sample_context()

    with translation.override("fr"):
        assert messages.render(Kind.CONFIRMED, Channel.SMS, context, custom=french).text == (
            "Confirmée : Career consultation"
        )
    english = messages.render(Kind.CONFIRMED, Channel.SMS, context, custom=french)
    assert english.text == "Confirmed: Career consultation, Wed 2 Dec 2026, 10:00 (Europe/Paris). BK-2026-000042"


# --- the admin ---------------------------------------------------------------------------


def admin_url(page: str = "changelist", *args: object) -> str:
    return reverse(f"admin:notifications_messagetemplate_{page}", args=args)


def form_data(**changes: object) -> dict:
    data = {
        "kind": Kind.CONFIRMED,
        "channel": Channel.EMAIL,
        "language": "",
        "is_active": "on",
        "subject": "Confirmé : {{ session_title }}",
        "body": "Bonjour {{ recipient_name }}, à {{ when }}.",
        "html_body": "",
    }
    data.update(changes)
    return data


def page_text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.mark.django_db
def test_one_template_per_kind_channel_and_language_in_the_admin(as_role):
    http = as_role("staff")
    assert http.post(admin_url("add"), form_data(language="fr")).status_code == 302
    french = MessageTemplate.objects.get(language="fr")

    # The same kind and channel for every language, and for English: both welcome.
    assert http.post(admin_url("add"), form_data()).status_code == 302
    assert (
        http.post(admin_url("add"), form_data(language="en", subject="Confirmed: {{ session_title }}")).status_code
        == 302
    )
    assert sorted(MessageTemplate.objects.values_list("language", flat=True)) == ["", "en", "fr"]

    # A second French one is refused, pointing to the first.
    refused = http.post(admin_url("add"), form_data(language="fr"))
    assert refused.status_code == 200
    (error,) = refused.context["adminform"].form.non_field_errors()
    assert error == (
        "There is already a template for “Booking confirmed · Email · French”: "
        f'<a href="{admin_url("change", french.pk)}">change that one</a>.'
    )
    # A second one for every language: the language field says what to do instead.
    again = http.post(admin_url("add"), form_data())
    assert again.context["adminform"].form.errors["language"] == [
        "Choose a language to write a template for its readers only."
    ]
    # Moving the English one to French is refused too.
    english = MessageTemplate.objects.get(language="en")
    moved = http.post(admin_url("change", english.pk), form_data(language="fr"))
    assert moved.status_code == 200
    assert "change that one" in moved.context["adminform"].form.non_field_errors()[0]
    assert MessageTemplate.objects.filter(language="fr").count() == 1
    assert MessageTemplate.objects.get(pk=english.pk).language == "en"


@pytest.mark.django_db
def test_an_unknown_language_is_refused(as_role):
    response = as_role("staff").post(admin_url("add"), form_data(language="de"))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["language"]
    assert not MessageTemplate.objects.exists()


@pytest.mark.django_db
def test_the_list_shows_and_filters_the_languages(as_role):
    every = MessageTemplate.objects.create(
        kind=Kind.CONFIRMED, channel=Channel.EMAIL, subject="All: {{ session_title }}", body="All"
    )
    french = MessageTemplate.objects.create(
        kind=Kind.CONFIRMED, channel=Channel.EMAIL, language="fr", subject="Fr : {{ session_title }}", body="Fr"
    )
    english_sms = MessageTemplate.objects.create(
        kind=Kind.CONFIRMED, channel=Channel.SMS, language="en", body="Hi", is_active=False
    )
    http = as_role("staff")

    response = http.get(admin_url())

    assert response.status_code == 200
    text = page_text(response)
    assert "Every language" in text and "French" in text
    coverage = {row["kind"]: row["cells"] for row in response.context["coverage"]}
    confirmed = {cell["channel"]: cell for cell in coverage["Booking confirmed"]}
    email = confirmed["Email"]
    assert email["state"] == "custom"
    assert [(item["language"], item["state"], item["url"]) for item in email["templates"]] == [
        ("Every language", "custom", admin_url("change", every.pk)),
        ("French", "custom", admin_url("change", french.pk)),
    ]
    assert [(item["language"], item["url"]) for item in email["add"]] == [
        ("English", admin_url("add") + "?kind=confirmed&channel=email&language=en")
    ]
    sms = confirmed["SMS"]
    assert sms["state"] == "off" and sms["url"] == admin_url("change", english_sms.pk)
    assert [item["language"] for item in sms["templates"]] == ["English"]
    assert [item["language"] for item in sms["add"]] == ["Every language", "French"]
    assert confirmed["In-app"]["state"] == "builtin" and confirmed["In-app"]["templates"] == []
    assert f'href="{admin_url("change", french.pk)}"' in response.content.decode()

    filtered = http.get(admin_url(), {"language__exact": "fr"})
    assert filtered.status_code == 200
    assert list(filtered.context["cl"].result_list) == [french]
    every_language = http.get(admin_url(), {"language__exact": ""})
    assert list(every_language.context["cl"].result_list) == [every]


@pytest.mark.django_db
def test_a_new_french_template_starts_from_the_french_built_in_wording_and_previews_in_french(as_role):
    response = as_role("staff").get(admin_url("add"), {"kind": "confirmed", "channel": "sms", "language": "fr"})

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.initial["language"] == "fr"
    with translation.override("fr"):
        french_sms = translation.gettext(messages.BUILTIN[Kind.CONFIRMED]["short"])
    assert french_sms != messages.BUILTIN[Kind.CONFIRMED]["short"]
    assert form.initial["body"] == french_sms
    assert response.context["builtin"]["body"] == french_sms
    preview = response.context["preview"]
    assert preview.language == "fr"
    assert "mer. 2 déc. 2026 à 10:00 (Europe/Paris)" in preview.rendered.text
    text = page_text(response)
    assert "Written in French: its dates and the site's own words too." in text
    assert "Built-in wording: Booking confirmed · SMS · French" in text
    # The page itself stays in the reader's language.
    assert "Preview with a sample booking" in text

    # An unknown language in the address is ignored: every language, the page's wording.
    other = as_role("staff").get(admin_url("add"), {"kind": "confirmed", "channel": "sms", "language": "xx"})
    assert other.status_code == 200
    assert "language" not in other.context["adminform"].form.initial
    assert other.context["adminform"].form.initial["body"] == messages.BUILTIN[Kind.CONFIRMED]["short"]


@pytest.mark.django_db
def test_previewing_and_changing_a_french_template_renders_it_in_french(as_role):
    french = MessageTemplate.objects.create(
        kind=Kind.SESSION_REMINDER,
        channel=Channel.EMAIL,
        language="fr",
        subject="Rappel : {{ session_title }}",
        body="Votre séance commence {{ lead }}, le {{ when }} ({{ duration }}).",
    )
    http = as_role("staff")

    page = http.get(admin_url("change", french.pk))

    assert page.status_code == 200
    rendered = page.context["preview"].rendered
    assert rendered.text == (
        "Votre séance commence dans 2 heures, le mer. 2 déc. 2026 à 10:00 (Europe/Paris) (60 minutes)."
    )
    assert 'lang="fr"' in rendered.html  # the email's frame in French too
    assert page.context["sample"]["when"] == "mer. 2 déc. 2026 à 10:00 (Europe/Paris)"
    assert page.context["sample"]["hosts"] == "Nora Haddad et Ben Ito"

    edits = form_data(
        kind=Kind.SESSION_REMINDER,
        language="fr",
        subject="Rappel : {{ session_title }}",
        body="Rendez-vous le {{ previous_when }}.",
        **{PREVIEW: "Preview"},
    )
    previewed = http.post(admin_url("change", french.pk), edits)
    assert previewed.status_code == 200
    assert previewed.context["preview"].rendered.text == "Rendez-vous le mar. 1 déc. 2026 à 15:00 (Europe/Paris)."
    assert MessageTemplate.objects.get(pk=french.pk).body == french.body  # nothing saved

    # The same template for every language previews in the page's language.
    everyone = http.post(admin_url("change", french.pk), {**edits, "language": ""})
    assert everyone.context["preview"].rendered.text == "Rendez-vous le Tue 1 Dec 2026, 15:00 (Europe/Paris)."

    saved = http.post(admin_url("change", french.pk), {k: v for k, v in edits.items() if k != PREVIEW})
    assert saved.status_code == 302
    assert MessageTemplate.objects.get(pk=french.pk).body == "Rendez-vous le {{ previous_when }}."


@pytest.mark.django_db
def test_the_list_speaks_french_to_french_staff(staff_user):
    MessageTemplate.objects.create(kind=Kind.CONFIRMED, channel=Channel.SMS, language="fr", body="Salut")
    staff_user.language = "fr"
    staff_user.save()

    response = logged_in(staff_user).get(admin_url())

    assert response.status_code == 200
    text = page_text(response)
    assert "Toutes les langues" in text and "En ajouter un pour :" in text
    assert "« Modèle » signifie que la formulation de l'équipe est utilisée" in text


@pytest.mark.django_db
def test_existing_templates_are_for_every_language():
    template = MessageTemplate.objects.create(kind=Kind.CONFIRMED, channel=Channel.SMS, body="Hi")
    assert template.language == ""
    assert str(template) == "Booking confirmed · SMS"
    with translation.override("fr"):
        assert (
            str(MessageTemplate(kind=Kind.CONFIRMED, channel=Channel.SMS, language="fr"))
            == "Réservation confirmée · SMS · Français"
        )
