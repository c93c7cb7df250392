"""The sentences the product writes into the database itself, kept in English and shown in
the reader's language: why a waitlist entry ended, why money went back, why a request
lapsed, why a webhook endpoint stopped.

Such a sentence is never translated when it is written: a task runs in English, a request
in its client's language, and whoever reads it later may read another. It is stored as its
English msgid and translated when it is shown. A reason a person types (a coach's decline
reason, a client's cancellation reason) is stored as typed and shown as typed.

Each app declares the sentences it stores in its ``reasons`` module:

- ``sentence(gettext_noop("Left the waitlist."))``: a fixed sentence (``gettext_noop``
  puts it in the app's catalogue), stored as it is;
- ``Template(gettext_noop("Disabled by %(name)s."))``, or with a plural and the name of
  its count: a sentence with values (a name, a reference, a number). ``.format(**values)``
  gives the English text to store; when shown, the stored text is matched against the
  template, the values are read back out of it and put into the translated template. A
  value that is itself one of the product's sentences is translated too.

Showing: ``{{ entry.end_reason|stored_text }}`` in templates (built in everywhere,
``TEMPLATES`` ``builtins``), ``display(text)`` in Python. Anything that is not one of the
declared sentences (what a person typed; a row written in French before the product kept
its sentences in English) is returned unchanged.
"""

from __future__ import annotations

import re
import threading

from django import template
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext, ngettext

# The module each app declares its stored sentences in.
MODULE = "reasons"

_sentences: set[str] = set()
_templates: list[Template] = []
_discovered = False
_lock = threading.Lock()

_PLACEHOLDER = re.compile(r"%%|%\((\w+)\)([sd])")


def sentence(msgid: str) -> str:
    """Declare ``msgid`` (an English sentence marked with ``gettext_noop``) as one the
    product stores; returns it unchanged, the text to store."""
    _sentences.add(str(msgid))
    return str(msgid)


def ngettext_noop(singular: str, plural: str) -> tuple[str, str]:
    """Mark a singular and its plural for the catalogue (``manage.py translations`` knows
    this name) without translating them: ``Template(*ngettext_noop(one, many), count=...)``."""
    return singular, plural


def _pattern(msgid: str) -> re.Pattern[str]:
    parts: list[str] = []
    seen: set[str] = set()
    position = 0
    for match in _PLACEHOLDER.finditer(msgid):
        parts.append(re.escape(msgid[position : match.start()]))
        position = match.end()
        if match.group(0) == "%%":
            parts.append("%")
            continue
        name, kind = match.group(1), match.group(2)
        if name in seen:
            parts.append(f"(?P={name})")
        else:
            seen.add(name)
            parts.append(f"(?P<{name}>-?\\d+)" if kind == "d" else f"(?P<{name}>.+?)")
    parts.append(re.escape(msgid[position:]))
    return re.compile("".join(parts), re.DOTALL)


class Template:
    """A stored sentence with values: ``Template(gettext_noop("Disabled by %(name)s."))``;
    with a plural, ``Template(*ngettext_noop(singular, plural), count="booked")``, where
    ``count`` names the value that chooses between them."""

    def __init__(self, msgid: str, plural: str = "", *, count: str = "") -> None:
        if bool(plural) != bool(count):
            raise ValueError("A plural template needs the name of its count, and only it does.")
        self.msgid = str(msgid)
        self.plural = str(plural)
        self.count = count
        self._patterns = [_pattern(self.msgid), *([_pattern(self.plural)] if self.plural else [])]
        if not any(each.msgid == self.msgid and each.plural == self.plural for each in _templates):
            _templates.append(self)

    def format(self, **values: object) -> str:
        """The English text to store."""
        if self.plural and int(values[self.count]) != 1:  # English's rule
            return self.plural % values
        return self.msgid % values

    def match(self, text: str) -> dict[str, str] | None:
        for pattern in self._patterns:
            found = pattern.fullmatch(text)
            if found is not None:
                return found.groupdict()
        return None

    def render(self, values: dict[str, str]) -> str:
        """The sentence in the active language, with ``values`` read out of the stored text."""
        shown: dict[str, object] = {name: _display(value, depth=1) for name, value in values.items()}
        if self.plural:
            number = int(values[self.count])
            shown[self.count] = number
            return ngettext(self.msgid, self.plural, number) % shown
        return gettext(self.msgid) % shown


def discover() -> None:
    """Import every installed app's ``reasons`` module (once), so that the sentences are
    known whichever process shows them."""
    global _discovered
    if _discovered:
        return
    with _lock:
        if not _discovered:
            autodiscover_modules(MODULE)
            _discovered = True


def is_product_text(text: object) -> bool:
    """Whether ``text`` is one of the product's declared sentences (not what a person typed)."""
    if not text:
        return False
    discover()
    text = str(text)
    return text in _sentences or any(each.match(text) is not None for each in _templates)


def display(text: object) -> str:
    """``text`` in the active language when it is one of the product's sentences; anything
    else (what a person typed) unchanged. ``None`` gives ""."""
    if text is None:
        return ""
    discover()
    return _display(str(text), depth=0)


def _display(text: str, *, depth: int) -> str:
    if not text:
        return text
    if text in _sentences:
        return gettext(text)
    if depth > 2:  # a value inside a value inside a value: enough
        return text
    for each in _templates:
        values = each.match(text)
        if values is not None:
            return each.render(values)
    return text


register = template.Library()


@register.filter(name="stored_text")
def stored_text(value: object) -> str:
    """``{{ booking.decline_reason|stored_text }}``: the product's sentence in the reader's
    language, a person's words as they wrote them."""
    return display(value)
