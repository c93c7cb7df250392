"""The product's own sentences stored in English and shown in the reader's language
(``config.stored_text``); what a person typed is shown as typed."""

from __future__ import annotations

from django.template import Context, Template
from django.utils import translation

from config import stored_text

# Sentences the apps declare in their ``reasons`` modules (config may not import the apps,
# so the same msgids are declared here; declaring one twice changes nothing).
LEFT = stored_text.sentence("Left the waitlist.")
REQUEST_DECLINED = stored_text.sentence("Request declined")
DISABLED_BY = stored_text.Template("Disabled by %(name)s.")
SERIES_SHARE = stored_text.Template("%(why)s: session %(ref)s of a series paid up front")
WORKSHOP_SHORTFALL = stored_text.Template(
    "Called off: %(booked)s person had booked by the deadline, and it needs at least %(minimum)s.",
    "Called off: %(booked)s people had booked by the deadline, and it needs at least %(minimum)s.",
    count="booked",
)


def test_a_fixed_sentence_is_stored_in_english_whatever_language_is_active():
    with translation.override("fr"):
        stored = stored_text.sentence("Left the waitlist.")
    assert stored == LEFT == "Left the waitlist."


def test_a_fixed_sentence_is_shown_in_the_active_language():
    with translation.override("fr"):
        assert stored_text.display("Left the waitlist.") == "A quitté la liste d'attente."
    with translation.override("en"):
        assert stored_text.display("Left the waitlist.") == "Left the waitlist."


def test_what_a_person_typed_is_unchanged_in_both_languages():
    typed = "I have a cold, sorry!"
    for language in ("en", "fr"):
        with translation.override(language):
            assert stored_text.display(typed) == typed
            assert stored_text.is_product_text(typed) is False


def test_a_typed_text_that_happens_to_be_a_catalogue_msgid_is_not_translated():
    # "Active" is in the catalogues (a webhook's badge) but no stored sentence: a person's word.
    with translation.override("fr"):
        assert stored_text.display("Active") == "Active"


def test_a_template_stores_english_and_reads_its_values_back_in_the_readers_language():
    with translation.override("fr"):
        stored = DISABLED_BY.format(name="Zoé Martin")
    assert stored == "Disabled by Zoé Martin."
    with translation.override("fr"):
        assert stored_text.display(stored) == "Désactivé par Zoé Martin."
    with translation.override("en"):
        assert stored_text.display(stored) == "Disabled by Zoé Martin."


def test_a_value_that_is_itself_a_sentence_is_translated_too():
    stored = SERIES_SHARE.format(why=REQUEST_DECLINED, ref="BK-7Q2")
    assert stored == "Request declined: session BK-7Q2 of a series paid up front"
    with translation.override("fr"):
        assert stored_text.display(stored) == "Demande refusée : séance BK-7Q2 d'une série payée d'avance"


def test_a_plural_template_chooses_the_form_in_the_readers_language():
    one = WORKSHOP_SHORTFALL.format(booked=1, minimum=4)
    three = WORKSHOP_SHORTFALL.format(booked=3, minimum=4)
    assert one.startswith("Called off: 1 person had booked")
    assert three.startswith("Called off: 3 people had booked")
    with translation.override("fr"):
        assert stored_text.display(one).startswith("Annulé : 1 personne avait réservé")
        assert stored_text.display(three).startswith("Annulé : 3 personnes avaient réservé")
        assert stored_text.display(three).endswith("au moins 4.")


def test_a_row_written_in_french_before_stays_as_it_was():
    old = "A quitté la liste d'attente."
    with translation.override("en"):
        assert stored_text.display(old) == old


def test_empty_and_none_show_nothing():
    assert stored_text.display("") == ""
    assert stored_text.display(None) == ""


def test_the_template_filter_is_built_in():
    page = Template("{{ reason|stored_text }}")
    with translation.override("fr"):
        assert page.render(Context({"reason": "Refunded at the payment provider."})) == (
            "Remboursé chez le prestataire de paiement."
        )
        assert page.render(Context({"reason": "<b>typed</b>"})) == "&lt;b&gt;typed&lt;/b&gt;"


def test_every_sentence_the_apps_declare_has_a_french_translation():
    stored_text.discover()  # every app's reasons module
    assert "The client's account was closed." in stored_text._sentences
    missing = []
    with translation.override("fr"):
        for sentence in stored_text._sentences:
            if translation.gettext(sentence) == sentence:
                missing.append(sentence)
        for each in stored_text._templates:
            if each.plural:
                if translation.ngettext(each.msgid, each.plural, 2) == each.plural:
                    missing.append(each.plural)
            elif translation.gettext(each.msgid) == each.msgid:
                missing.append(each.msgid)
    assert missing == []
