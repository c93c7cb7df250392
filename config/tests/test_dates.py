"""Dates by name, in the reader's language (config/dates.py, config/formats/): English as
the product always wrote them, French as French writes them."""

from __future__ import annotations

import datetime as dt
import gettext as gettext_module
import json
import re
import zoneinfo
from pathlib import Path

import django
import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from config.dates import NAMES, date_format, format_when
from config.js_text import js_text

WEDNESDAY = dt.datetime(2026, 12, 2, 14, 30, 5)
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
JUNE, JULY = dt.date(2026, 6, 3), dt.date(2026, 7, 3)

ENGLISH = {
    "day_long": "Wednesday 2 December 2026",
    "day_long_no_year": "Wednesday 2 December",
    "datetime_long": "Wednesday 2 December 2026, 14:30",
    "datetime_long_no_year": "Wednesday 2 December, 14:30",
    "day_short": "Wed 2 Dec 2026",
    "day_short_no_year": "Wed 2 Dec",
    "datetime_short": "Wed 2 Dec 2026, 14:30",
    "datetime_short_no_year": "Wed 2 Dec, 14:30",
    "date_short": "2 Dec 2026",
    "date_short_no_year": "2 Dec",
    "date_long": "2 December 2026",
    "date_long_no_year": "2 December",
    "datetime_compact": "2 Dec 2026, 14:30",
    "datetime_table": "2 Dec 2026 14:30",
    "month": "December 2026",
    "time_short": "14:30",
    "datetime_table_no_year": "2 Dec 14:30",
    "day_time_table_no_year": "Wed 2 Dec 14:30",
    "datetime_compact_no_year": "2 Dec, 14:30",
    "datetime_seconds": "Wed 2 Dec 2026, 14:30:05",
    "datetime_seconds_no_year": "Wed 2 Dec, 14:30:05",
    "weekday_time": "Wednesday 14:30",
    "weekday_short": "Wed",
    "month_short": "Dec",
    "weekday_long": "Wednesday",
    "weekday_short_time": "Wed 14:30",
    "month_short_year": "Dec 2026",
}
FRENCH = {
    "day_long": "mercredi 2 décembre 2026",
    "day_long_no_year": "mercredi 2 décembre",
    "datetime_long": "mercredi 2 décembre 2026 à 14:30",
    "datetime_long_no_year": "mercredi 2 décembre à 14:30",
    "day_short": "mer. 2 déc. 2026",
    "day_short_no_year": "mer. 2 déc.",
    "datetime_short": "mer. 2 déc. 2026 à 14:30",
    "datetime_short_no_year": "mer. 2 déc. à 14:30",
    "date_short": "2 déc. 2026",
    "date_short_no_year": "2 déc.",
    "date_long": "2 décembre 2026",
    "date_long_no_year": "2 décembre",
    "datetime_compact": "2 déc. 2026 à 14:30",
    "datetime_table": "2 déc. 2026 14:30",
    "month": "décembre 2026",
    "time_short": "14:30",
    "datetime_table_no_year": "2 déc. 14:30",
    "day_time_table_no_year": "mer. 2 déc. 14:30",
    "datetime_compact_no_year": "2 déc. à 14:30",
    "datetime_seconds": "mer. 2 déc. 2026 à 14:30:05",
    "datetime_seconds_no_year": "mer. 2 déc. à 14:30:05",
    "weekday_time": "mercredi à 14:30",
    "weekday_short": "mer.",
    "month_short": "déc.",
    "weekday_long": "mercredi",
    "weekday_short_time": "mer. 14:30",
    "month_short_year": "déc. 2026",
}


def test_every_name_is_written_in_english_and_in_french():
    assert set(ENGLISH) == set(FRENCH) == set(NAMES)
    with translation.override("en"):
        assert {name: format_when(WEDNESDAY, name) for name in NAMES} == ENGLISH
    with translation.override("fr"):
        assert {name: format_when(WEDNESDAY, name) for name in NAMES} == FRENCH


def test_english_names_the_same_formats_the_pages_always_used():
    # The pages' English must not move: each name is the format string it replaced.
    replaced = {
        "D j M, H:i": "datetime_short_no_year",
        "D j M Y, H:i": "datetime_short",
        "j M": "date_short_no_year",
        "j M Y": "date_short",
        "j M Y H:i": "datetime_table",
        "D j M Y": "day_short",
        "l j F Y": "day_long",
        "j M Y, H:i": "datetime_compact",
        "l j F": "day_long_no_year",
        "l j F, H:i": "datetime_long_no_year",
        "l j F Y, H:i": "datetime_long",
        "D j M": "day_short_no_year",
        "j F": "date_long_no_year",
        "F Y": "month",
        "j F Y": "date_long",
        "H:i": "time_short",
        "j M H:i": "datetime_table_no_year",
        "D j M H:i": "day_time_table_no_year",
        "j M, H:i": "datetime_compact_no_year",
        "D j M Y, H:i:s": "datetime_seconds",
        "D j M, H:i:s": "datetime_seconds_no_year",
        "l H:i": "weekday_time",
        "D": "weekday_short",
        "M": "month_short",
        "l": "weekday_long",
        "D H:i": "weekday_short_time",
        "M Y": "month_short_year",
    }
    assert sorted(replaced.values()) == sorted(NAMES)
    assert {fmt: date_format(name, "en") for fmt, name in replaced.items()} == {fmt: fmt for fmt in replaced}


def test_french_months_are_never_ambiguous():
    # Django's "M" gives « Jui » for June and July alike.
    with translation.override("fr"):
        assert format_when(JUNE, "date_short") == "3 juin 2026"
        assert format_when(JULY, "date_short") == "3 juil. 2026"


def test_a_language_without_its_own_formats_uses_englishs():
    assert date_format("day_long", "de") == "l j F Y"


def test_an_unknown_name_is_a_programming_error():
    with pytest.raises(ValueError, match="Unknown date format"):
        date_format("fancy")


def test_times_alone_are_24_hour_in_both():
    with translation.override("fr"):
        assert format_when(dt.time(9, 5), "time_short") == "09:05"


def test_the_when_filter_is_built_in_and_shows_the_viewers_zone():
    instant = dt.datetime(2026, 12, 2, 13, 30, tzinfo=dt.UTC)
    template = Template('{{ start|when:"datetime_short_no_year" }}|{{ missing|when:"day_long" }}')
    with timezone.override(zoneinfo.ZoneInfo("Europe/Paris")):
        with translation.override("en"):
            assert template.render(Context({"start": instant})) == "Wed 2 Dec, 14:30|"
        with translation.override("fr"):
            assert template.render(Context({"start": instant})) == "mer. 2 déc. à 14:30|"


@pytest.mark.django_db
def test_the_scripts_words_come_with_the_page_as_data_not_as_a_script(client):
    html = client.get("/").content.decode()
    block = re.search(r'<script id="js-text" type="application/json">(.*?)</script>', html, re.S)
    assert block, "the scripts' words are on the page"
    words = json.loads(block.group(1))
    assert words == js_text()
    assert words["charsLeft"] == {"one": "%(count)s character left", "other": "%(count)s characters left"}
    assert words["zoneSearch"] == "Search a city, region or UTC offset"


def test_the_scripts_words_follow_the_page_language():
    with translation.override("fr"):
        french = js_text()
    assert set(french) == set(js_text())
    english = js_text()
    for key in ("charsLeft", "charsOver", "zoneCount"):
        assert set(french[key]) == {"one", "other"}
        assert all("%(count)s" in form for form in french[key].values())
        assert french[key] != english[key], f"{key} is not translated"
    assert french["charsLeft"] == {"one": "%(count)s caractère restant", "other": "%(count)s caractères restants"}


# Django's own words for dates (django/utils/dates.py): (context, msgid).
DATE_WORDS = (
    [(None, day) for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")]
    + [(None, day) for day in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")]
    + [(None, month) for month in MONTH_NAMES]
    + [(None, month[:3].lower()) for month in MONTH_NAMES]
    + [("alt. month", month) for month in MONTH_NAMES]
    + [
        ("abbrev. month", month)
        for month in ("Jan.", "Feb.", "March", "April", "May", "June", "July", "Aug.", "Sept.", "Oct.", "Nov.", "Dec.")
    ]
)


def test_no_catalogue_of_ours_changes_djangos_french_words_for_dates():
    """Every app's catalogue shares one domain with Django's, and ours come first: a
    ``msgid "Wednesday"`` translated « Mercredi » would capitalise every date's day
    (« le Mercredi 2 décembre »). A page that needs such a word alone marks it with a
    context (``pgettext("weekday", "Wednesday")``) or translates it as Django does."""
    django_french = gettext_module.translation(
        "django", str(Path(django.__file__).parent / "conf" / "locale"), languages=["fr"]
    )
    changed = []
    with translation.override("fr"):
        for context, word in DATE_WORDS:
            ours = translation.pgettext(context, word) if context else translation.gettext(word)
            theirs = django_french.pgettext(context, word) if context else django_french.gettext(word)
            if ours != theirs:
                changed.append(
                    f"{word!r} (context {context!r}): « {ours} » instead of Django's « {theirs} »"
                    f" — in {', '.join(_catalogues_with(context, word)) or '?'}"
                )
    assert not changed, "A catalogue translates Django's date words differently:\n" + "\n".join(changed)


def _catalogues_with(context: str | None, word: str) -> list[str]:
    """Our .po files translating ``word`` (with that context), to name them in the failure."""
    from django.conf import settings

    root = Path(settings.BASE_DIR)
    entry = re.compile(r'(?:msgctxt "([^"]*)"\n)?msgid "' + re.escape(word) + r'"\nmsgstr "')
    found = []
    for po in [*sorted(root.glob("*/locale/fr/LC_MESSAGES/django.po")), root / "locale/fr/LC_MESSAGES/django.po"]:
        if po.exists() and any(match.group(1) == context for match in entry.finditer(po.read_text())):
            found.append(str(po.relative_to(root)))
    return found


def test_the_when_filter_shows_nothing_for_what_is_not_a_date():
    template = Template('[{{ value|when:"day_long" }}]')
    assert template.render(Context({"value": "soon"})) == "[]"
    assert template.render(Context({"value": 42})) == "[]"
