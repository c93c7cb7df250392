"""The words the pages' scripts show (``static/js/``), in the page's language.

The scripts carry no text of their own: ``templates/base.html`` puts these into the page as
a JSON data block (``{{ js_text|json_script:"js-text" }}``: data, not a script, so the
Content-Security-Policy, which runs scripts from static files only, is kept) and
``static/js/forms.js`` reads them, English built in as its fallback. A count's words come
in the language's plural categories (``one``, ``other``), the script choosing with the
browser's ``Intl.PluralRules`` for the page's language (French says « 0 caractère restant »);
``%(count)s`` is the number, written by the script in the page's language.
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils.translation import gettext, ngettext


def _plural(forms: Callable[[int], str]) -> dict[str, str]:
    # ngettext's forms for 1 and for 2: "one" and "other" in English and French alike. Each
    # call writes its ``ngettext`` with the words themselves, so that they are extracted.
    return {"one": forms(1), "other": forms(2)}


def js_text() -> dict[str, object]:
    return {
        "charsLeft": _plural(lambda n: ngettext("%(count)s character left", "%(count)s characters left", n)),
        "charsOver": _plural(lambda n: ngettext("%(count)s character too many", "%(count)s characters too many", n)),
        "zoneSearch": gettext("Search a city, region or UTC offset"),
        "zones": gettext("Time zones"),
        "zoneNone": gettext("No time zone matches. Try a city such as Paris, or an offset such as +05:30."),
        "zoneCount": _plural(lambda n: ngettext("%(count)s time zone", "%(count)s time zones", n)),
    }
