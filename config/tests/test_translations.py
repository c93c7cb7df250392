"""The French catalogues are complete and current, and no template text escapes translation.

A string added to the code without its French, a French entry whose English is gone, a template
text outside any translate tag, or a django.mo older than its django.po fails here. Fix with
``manage.py translations update APP``, then translate what it added (``translations check``)."""

import pytest
from django.utils import translation

from config import translations

CATALOGUES = translations.catalogue_names()


@pytest.mark.parametrize("name", CATALOGUES)
def test_catalogue_is_complete_and_current(name):
    assert translations.check(name) == []


def test_every_template_text_is_marked_for_translation():
    assert translations.unmarked(CATALOGUES) == []


def test_every_app_with_python_has_a_catalogue():
    assert {"config", "accounts", "bookings", "intake", "pages"} <= set(CATALOGUES)


def test_extraction_reads_templates_as_makemessages_does(tmp_path, settings):
    settings.BASE_DIR = tmp_path
    (tmp_path / "templates" / "errors").mkdir(parents=True)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "__init__.py").write_text("")
    (tmp_path / "config" / "labels.py").write_text(
        "from django.utils.translation import gettext as _, ngettext, pgettext\n"
        "A = _('Plain %(name)s')\n"
        "B = ngettext('%(count)s seat', '%(count)s seats', 2)\n"
        "C = pgettext('verb', 'Book')\n"
        "D = _(dynamic)\n"
    )
    (tmp_path / "templates" / "errors" / "x.html").write_text(
        "{% load i18n %}<h1>{% translate 'Title' %}</h1>"
        "{% blocktranslate with who=user.name %}Hello {{ who }}{% endblocktranslate %}"
        "<p>{% translate 'Open' context 'door' %}</p>"
    )
    found = translations.extract("config")
    assert set(found) == {
        (None, "Plain %(name)s"),
        (None, "%(count)s seat"),
        ("verb", "Book"),
        (None, "Title"),
        (None, "Hello %(who)s"),
        ("door", "Open"),
    }
    assert found[(None, "%(count)s seat")].id == ("%(count)s seat", "%(count)s seats")


def test_update_keeps_translations_drops_stale_and_check_names_each_problem(tmp_path, settings):
    settings.BASE_DIR = tmp_path
    (tmp_path / "templates").mkdir()
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "__init__.py").write_text("")
    code = tmp_path / "config" / "labels.py"
    code.write_text("from django.utils.translation import gettext as _\nA = _('Save')\nB = _('Gone')\n")
    translations.update("config")
    po = translations.po_path("config")
    text = po.read_text()
    text = text.replace('msgid "Save"\nmsgstr ""', 'msgid "Save"\nmsgstr "Enregistrer"')
    po.write_text(text)
    assert translations.check("config") == [
        "locale/fr/LC_MESSAGES/django.po: untranslated 'Gone'",
        "locale/fr/LC_MESSAGES/django.po: django.mo is not the compiled catalogue "
        "(run: manage.py translations compile config)",
    ]
    code.write_text("from django.utils.translation import gettext as _\nA = _('Save')\nC = _('Hello %(name)s')\n")
    translations.update("config")
    problems = translations.check("config")
    assert problems == ["locale/fr/LC_MESSAGES/django.po: untranslated 'Hello %(name)s'"]
    assert 'msgstr "Enregistrer"' in po.read_text()
    assert "Gone" not in po.read_text()
    # A translation that loses or invents a placeholder is refused.
    po.write_text(
        po.read_text().replace('msgid "Hello %(name)s"\nmsgstr ""', 'msgid "Hello %(name)s"\nmsgstr "Bonjour %(nom)s"')
    )
    translations.compile_catalog("config")
    problems = translations.check("config")
    assert any("placeholders the English lacks" in p for p in problems)
    assert any("drops ['%(name)']" in p for p in problems)
    # A string in the code that the catalogue lacks is "missing".
    code.write_text(code.read_text() + "D = _('New words')\n")
    assert "locale/fr/LC_MESSAGES/django.po: missing 'New words' (config/labels.py:4)" in (translations.check("config"))


def test_unmarked_finds_text_and_attributes_outside_translate_tags():
    source = (
        "{% load i18n %}<h1>{% translate 'Fine' %}</h1>\n"
        "<p>Plain words</p>\n"
        '<input type="submit" value="Send it"><input type="hidden" value="keep">\n'
        '<a title="A hint" class="btn-primary" href="{{ url }}">{{ label }}</a>\n'
        "{% blocktranslate %}Also fine {{ x }}{% endblocktranslate %}\n"
        "<script>var notText = 'x';</script><style>.a{}</style>\n"
        '<div{% if x %} class="wide"{% endif %}>{{ value }} · iCal CSV</div>\n'
        "{# a comment #}{% comment %}old words{% endcomment %}\n"
        "{% block body_class %}auth-page{% endblock %}"
    )
    assert translations.unmarked_in(source) == [
        (2, "Plain words"),
        (3, "value='Send it'"),
        (4, "title='A hint'"),
    ]


def test_french_is_served_from_the_catalogues():
    with translation.override("fr"):
        assert translation.gettext("Skip to content") not in {"", "Skip to content"}
