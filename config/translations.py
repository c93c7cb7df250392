"""The French catalogues: extract, update, compile and check them, and find unmarked text.

One catalogue per app (``APP/locale/fr/LC_MESSAGES/django.po``) holds the strings of that app's
Python modules (tests and migrations aside) and of its templates (``templates/APP/`` and
``templates/admin/APP/``); the project's own catalogue (``locale/``) holds ``config`` and the shared
templates (the base layout, includes, error pages, sign-in pages). The compiled ``.mo`` files ship
in the repository, so the site needs no gettext tools; this module needs Babel (a development
dependency) and is run through ``manage.py translations``.

Extraction reads templates as Django's ``makemessages`` does (``templatize`` turns a template into
Python-like text whose calls carry its strings) and Python with Babel's extractor, so no GNU
gettext is needed anywhere.
"""

from __future__ import annotations

import datetime as dt
import gettext as gettext_module
import html
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from django.conf import settings

LANGUAGE = "fr"
PROJECT = "config"
# Templates outside any app's folder belong to the project's catalogue.
PROJECT_TEMPLATES = ("base.html", "home.html", "includes", "errors", "account", "allauth", "admin")
# The date written into every catalogue's header, so an update that changes no string changes no byte.
HEADER_DATE = dt.datetime(2026, 12, 3, tzinfo=dt.UTC)

KEYWORDS = {
    "_": None,
    "_lazy": None,
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "ngettext_noop": (1, 2),  # config.stored_text: a stored sentence's singular and plural
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "npgettext_lazy": ((1, "c"), 2, 3),
}
COMMENT_TAGS = ("Translators",)
HEADER_COMMENT = (
    "# French translations of the booking product.\n"
    "# Edit the msgstr lines; update and compile with: manage.py translations update APP"
)


def base_dir() -> Path:
    return Path(settings.BASE_DIR)


def catalogue_names() -> list[str]:
    """The project's catalogue and one per local app that has Python modules."""
    root = base_dir()
    apps = []
    for app in settings.INSTALLED_APPS:
        if "." not in app and (root / app / "__init__.py").exists():
            apps.append(app)
    return [PROJECT, *apps]


def catalogue_dir(name: str) -> Path:
    root = base_dir() if name == PROJECT else base_dir() / name
    return root / "locale" / LANGUAGE / "LC_MESSAGES"


def po_path(name: str) -> Path:
    return catalogue_dir(name) / "django.po"


def mo_path(name: str) -> Path:
    return catalogue_dir(name) / "django.mo"


def _python_files(name: str) -> Iterator[Path]:
    folder = base_dir() / name
    for path in sorted(folder.rglob("*.py")):
        parts = path.relative_to(folder).parts
        if "tests" in parts or "migrations" in parts or "locale" in parts:
            continue
        yield path


def template_catalogue(path: Path) -> str:
    """Which catalogue a template's strings go to."""
    rel = path.relative_to(base_dir() / "templates").parts
    apps = set(catalogue_names()) - {PROJECT}
    if rel[0] in apps:
        return rel[0]
    if rel[0] == "admin" and len(rel) > 1 and rel[1] in apps:
        return rel[1]
    return PROJECT


def all_templates() -> list[Path]:
    return sorted((base_dir() / "templates").rglob("*.html")) + sorted((base_dir() / "templates").rglob("*.txt"))


def _template_files(name: str) -> Iterator[Path]:
    for path in all_templates():
        if template_catalogue(path) == name:
            yield path


def source_files(name: str) -> list[Path]:
    return [*_python_files(name), *_template_files(name)]


@dataclass
class Message:
    id: str | tuple[str, str]
    context: str | None
    locations: list[tuple[str, int]] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.context, self.id[0] if isinstance(self.id, tuple) else self.id)


def _extract_from(path: Path) -> Iterator[tuple[int, object, list[str], str | None]]:
    from babel.messages.extract import extract
    from django.utils.translation.template import templatize

    text = path.read_text(encoding="utf-8")
    if path.suffix == ".py":
        source = text
    else:
        # templatize keeps the template's indentation, which Python's tokenizer refuses when a
        # line dedents to a level no earlier line had (an HTML attribute continued on the next
        # line); its lines hold only filler and one-line calls, so they lose nothing unindented.
        source = "\n".join(line.lstrip() for line in templatize(text, origin=str(path)).split("\n"))
    yield from extract(
        "python",
        io.BytesIO(source.encode("utf-8")),
        keywords=KEYWORDS,
        comment_tags=COMMENT_TAGS,
        strip_comment_tags=True,
    )


def extract(name: str) -> dict[tuple[str | None, str], Message]:
    """Every translatable string of a catalogue's sources, in the order they first appear."""
    found: dict[tuple[str | None, str], Message] = {}
    root = base_dir()
    for path in source_files(name):
        rel = str(path.relative_to(root))
        for lineno, message, comments, context in _extract_from(path):
            if isinstance(message, tuple):
                if any(part is None or part == "" for part in message[:2]):
                    continue
                msgid: str | tuple[str, str] = (message[0], message[1])
            else:
                if not message:
                    continue
                msgid = message
            entry = Message(id=msgid, context=context)
            existing = found.setdefault(entry.key, entry)
            existing.locations.append((rel, lineno))
            existing.comments.extend(c for c in comments if c not in existing.comments)
    return found


def _new_catalog():
    from babel.messages.catalog import Catalog

    catalog = Catalog(
        locale=LANGUAGE,
        header_comment=HEADER_COMMENT,
        domain="django",
        project="Booking",
        version="1",
        creation_date=HEADER_DATE,
        revision_date=HEADER_DATE,
        language_team="French",
        last_translator="Booking",
        charset="utf-8",
        fuzzy=False,
    )
    # French as Django's own catalogues count it: one form for 0 and 1, one for more.
    catalog._num_plurals, catalog._plural_expr = 2, "(n > 1)"
    return catalog


def read_catalog(name: str):
    from babel.messages.pofile import read_po

    path = po_path(name)
    if not path.exists():
        return _new_catalog()
    with path.open("rb") as handle:
        return read_po(handle, locale=LANGUAGE, domain="django")


def _template(name: str):
    template = _new_catalog()
    for message in extract(name).values():
        template.add(
            message.id,
            locations=[(path, None) for path, _ in message.locations[:3]],
            auto_comments=message.comments,
            context=message.context,
        )
    return template


def update(name: str) -> tuple[int, int, int]:
    """Bring a catalogue in line with its sources and compile it.

    Translations of strings still in use are kept, strings no longer used are dropped, new ones
    are added untranslated. Returns (total, added, removed)."""
    from babel.messages.pofile import write_po

    catalog = read_catalog(name)
    before = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in catalog if m.id}
    template = _template(name)
    catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
    catalog.obsolete.clear()
    catalog.creation_date = HEADER_DATE
    catalog.revision_date = HEADER_DATE
    catalog.fuzzy = False
    after = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in catalog if m.id}
    folder = catalogue_dir(name)
    folder.mkdir(parents=True, exist_ok=True)
    with po_path(name).open("wb") as handle:
        write_po(handle, catalog, width=100, include_lineno=False, ignore_obsolete=True)
    compile_catalog(name)
    return len(after), len(after - before), len(before - after)


def compile_catalog(name: str) -> None:
    from babel.messages.mofile import write_mo

    catalog = read_catalog(name)
    with mo_path(name).open("wb") as handle:
        write_mo(handle, catalog, use_fuzzy=False)


PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[sdifr]|%[sdifr]|\{(\w*)\}")
TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)")


def _placeholders(text: str) -> list[str]:
    out = []
    for match in PLACEHOLDER.finditer(text):
        if match.group(1):
            out.append(f"%({match.group(1)})")
        elif match.group(0).startswith("{"):
            out.append("{" + match.group(2) + "}")
        else:
            out.append(match.group(0))
    return out


def _positional(placeholders: list[str]) -> int:
    return len([p for p in placeholders if not p.startswith(("%(", "{"))])


def _compiled(name: str) -> dict:
    path = mo_path(name)
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        return dict(gettext_module.GNUTranslations(handle)._catalog)


def check(name: str) -> list[str]:
    """What is wrong with a catalogue, one line per problem (empty when it is complete)."""
    problems: list[str] = []
    label = str(po_path(name).relative_to(base_dir()))
    if not po_path(name).exists():
        return [f"{label}: no catalogue (run: manage.py translations update {name})"]
    catalog = read_catalog(name)
    extracted = extract(name)
    present = {}
    for message in catalog:
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        present[(message.context, msgid)] = message
    for key in extracted.keys() - present.keys():
        where = extracted[key].locations[0]
        problems.append(f"{label}: missing {key[1]!r} ({where[0]}:{where[1]})")
    for key in present.keys() - extracted.keys():
        problems.append(f"{label}: stale (no longer in the code) {key[1]!r}")
    for key, message in present.items():
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        if not all(strings):
            problems.append(f"{label}: untranslated {key[1]!r}")
            continue
        if message.fuzzy:
            problems.append(f"{label}: fuzzy {key[1]!r}")
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        wanted = set().union(*(_placeholders(i) for i in ids))
        for translated in strings:
            got = _placeholders(translated)
            unknown = set(got) - wanted
            if unknown:
                problems.append(
                    f"{label}: {key[1]!r} translation uses placeholders the English lacks: {sorted(unknown)}"
                )
            if _positional(got) != _positional(_placeholders(ids[-1])):
                problems.append(f"{label}: {key[1]!r} translation changes the %s placeholders")
        if len(ids) == 1:
            missing = set(_placeholders(ids[0])) - set(_placeholders(strings[0]))
            if missing:
                problems.append(f"{label}: {key[1]!r} translation drops {sorted(missing)}")
        english_tags = sorted(TAG.findall(ids[0]))
        for translated in strings:
            if sorted(TAG.findall(translated)) != english_tags:
                problems.append(f"{label}: {key[1]!r} translation changes the HTML tags")
    compiled = _compiled(name)
    expected = _expected_compiled(catalog)
    if compiled != expected:
        problems.append(
            f"{label}: django.mo is not the compiled catalogue (run: manage.py translations compile {name})"
        )
    return problems


def _expected_compiled(catalog) -> dict:
    from babel.messages.mofile import write_mo

    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return dict(gettext_module.GNUTranslations(buffer)._catalog)


# --- text in templates that no one marked ---------------------------------------------------

# Words that read the same in every language (names of products and formats).
UNTRANSLATED_WORDS = {
    "api",
    "bk",
    "caldav",
    "csv",
    "google",
    "ical",
    "ics",
    "id",
    "json",
    "microsoft",
    "ok",
    "pdf",
    "stripe",
    "twilio",
    "url",
    "utc",
    "webhooks",
    "webhook",
    "outlook",
    "post",
    "htmx",
}
TEXT_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "label", "aria-description"}
LETTERS = re.compile(r"[^\W\d_]+")
CSS_CLASS = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)+")
FILE_NAME = re.compile(r"[\w-]+\.[a-z]{2,4}", re.IGNORECASE)
HOLE = "\x01"


def _template_text(source: str) -> str:
    """The template with every tag, variable and translated block replaced by a hole.

    Line breaks are kept, so a line of the result is the same line of the template."""
    from django.template.base import Lexer, TokenType

    out: list[str] = []
    skipping: str | None = None
    for token in Lexer(source).tokenize():
        breaks = "\n" * token.contents.count("\n")
        if token.token_type == TokenType.BLOCK:
            bits = token.contents.split()
            head = bits[0] if bits else ""
            if skipping:
                if head == skipping:
                    skipping = None
            elif head in {"blocktranslate", "blocktrans", "comment", "verbatim"}:
                skipping = "end" + head
            out.append(f" {HOLE} {breaks}")
        elif token.token_type == TokenType.TEXT:
            out.append(f" {HOLE} {breaks}" if skipping else token.contents)
        elif token.token_type == TokenType.VAR:
            out.append(f" {HOLE} {breaks}")
        else:  # {# comments #} vanish
            out.append(breaks)
    return "".join(out)


def _needs_translation(text: str) -> bool:
    clean = text.replace(HOLE, " ").strip()
    if CSS_CLASS.fullmatch(clean) or FILE_NAME.fullmatch(clean):
        return False
    words = [w.lower() for w in LETTERS.findall(clean)]
    return any(w not in UNTRANSLATED_WORDS for w in words)


def _shown(text: str) -> str:
    return " ".join(html.unescape(text).replace(HOLE, "…").split()).strip("… ")


class _Finder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self._raw = 0

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "style"}:
            self._raw += 1
        attributes = dict(attrs)
        for name, value in attrs:
            if value is None:
                continue
            wanted = name in TEXT_ATTRIBUTES or (
                name == "value" and tag == "input" and (attributes.get("type") or "") in {"submit", "button", "reset"}
            )
            if wanted and _needs_translation(value):
                self.found.append((self.getpos()[0], f"{name}={_shown(value)!r}"))

    def handle_endtag(self, tag):
        if tag in {"script", "style"} and self._raw:
            self._raw -= 1

    def handle_data(self, data):
        if not self._raw and _needs_translation(data):
            first = LETTERS.search(data.replace(HOLE, " "))
            line = self.getpos()[0] + data[: first.start() if first else 0].count("\n")
            self.found.append((line, _shown(data)))


def unmarked_in(source: str) -> list[tuple[int, str]]:
    """(line, text) of every text and text attribute of a template that no translate tag covers."""
    finder = _Finder()
    finder.feed(_template_text(source))
    finder.close()
    return finder.found


def unmarked(names: Iterable[str]) -> list[str]:
    """Template text and attributes that people read but no translate tag covers."""
    wanted = set(names)
    lines = []
    for path in all_templates():
        if path.suffix != ".html" or template_catalogue(path) not in wanted:
            continue
        rel = path.relative_to(base_dir())
        for line, text in unmarked_in(path.read_text(encoding="utf-8")):
            lines.append(f"{rel}:{line}: {text}")
    return lines
