"""The message template form of the back office, and its preview.

Staff's wording is checked against the sample booking before it is saved: every part must
render (no syntax error, no unknown filter or variable) and say something. The preview
shows what a person would receive: an email's subject, text and HTML, an SMS with its
length and the number of SMS it takes, an in-app title and text — in the template's
language (dates and the product's words included), or the page's for a template written
for every language.
"""

from __future__ import annotations

import math
import re
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
from django.template import Context, Engine
from django.urls import reverse
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from notifications import messages
from notifications.models import Channel, MessageTemplate

# The button that shows the preview of unsaved edits (the form is shown again, nothing saved).
PREVIEW = "_preview"

# The same template language as ``messages.ENGINE``, with unknown variables made visible so
# that a misspelt ``{{ coach_nme }}`` is refused instead of printing nothing.
_MARK = "\x00"
_PROBE = Engine(dirs=[], app_dirs=False, libraries={}, debug=False, string_if_invalid=f"{_MARK}%s{_MARK}")
_UNKNOWN = re.compile(f"{_MARK}([^{_MARK}]*){_MARK}")

# (field, how errors name it, rendered with HTML escaping)
PARTS = [
    ("subject", _("The subject"), False),
    ("body", _("The body"), False),
    ("html_body", _("The HTML body"), True),
]


def check_part(source: str, context: dict, *, autoescape: bool, label: str) -> str:
    """What is wrong with one part (``label``: “The body”) of a template rendered with
    ``context`` ('' if nothing)."""
    try:
        output = _PROBE.from_string(source).render(Context(context, autoescape=autoescape))
    except Exception as exc:  # syntax errors, unknown filters or tags, a filter failing
        return gettext("%(part)s doesn't render: %(error)s") % {"part": label, "error": exc}
    unknown = sorted(set(_UNKNOWN.findall(output)))
    if unknown:
        names = ", ".join(f"{{{{ {name} }}}}" for name in unknown)
        return ngettext(
            "%(part)s uses %(names)s, which is not among the variables listed.",
            "%(part)s uses %(names)s, which are not among the variables listed.",
            len(unknown),
        ) % {"part": label, "names": names}
    if not output.strip():
        return gettext("%(part)s is empty with the sample booking.") % {"part": label}
    return ""


def in_template_language(language: str | None) -> AbstractContextManager:
    """``with in_template_language(template.language):`` — render as its readers get it:
    in its language, or in the page's for a template for every language (or an unknown one)."""
    if language and language in dict(settings.LANGUAGES):
        return translation.override(language)
    return nullcontext()


def builtin_wording(kind: str, channel: str) -> dict[str, str]:
    """The built-in subject and text for ``kind`` on ``channel`` (the template source), in
    the active language: what a recipient of that language gets."""
    return {
        "subject": "" if channel == Channel.SMS else gettext(messages.BUILTIN[kind]["subject"]),
        "body": gettext(messages.builtin_body(kind, channel)),
    }


# ---------------------------------------------------------------------------------------
# SMS length
# ---------------------------------------------------------------------------------------

# GSM 03.38: the basic set (one septet each) and the extension table (two septets each).
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SmsSize:
    characters: int
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # what the limits count: septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int
    per_segment: int
    not_gsm: str  # the characters that make it UCS-2


def sms_size(text: str) -> SmsSize:
    """How many SMS ``text`` takes: 160 GSM-7 characters or 70 UCS-2 in one SMS; 153 or 67
    per part once it is split (the rest of each part holds the joining header)."""
    not_gsm = "".join(dict.fromkeys(ch for ch in text if ch not in GSM_BASIC and ch not in GSM_EXTENDED))
    if not_gsm:
        encoding, units, single, part = "UCS-2", len(text.encode("utf-16-le")) // 2, 70, 67
    else:
        encoding, units, single, part = "GSM-7", sum(2 if ch in GSM_EXTENDED else 1 for ch in text), 160, 153
    if units <= single:
        segments, per_segment = (1 if units else 0), single
    else:
        segments, per_segment = math.ceil(units / part), part
    return SmsSize(len(text), encoding, units, segments, per_segment, not_gsm)


# ---------------------------------------------------------------------------------------
# Preview
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    kind: str
    channel: str
    in_use: bool
    language: str = ""
    rendered: messages.Rendered | None = None
    sms: SmsSize | None = None
    error: str = ""

    @property
    def is_email(self) -> bool:
        return self.channel == Channel.EMAIL

    @property
    def is_sms(self) -> bool:
        return self.channel == Channel.SMS

    @property
    def is_in_app(self) -> bool:
        return self.channel == Channel.IN_APP


def preview_of(template: MessageTemplate) -> Preview:
    """``template`` rendered strictly with the sample booking (an error is described, never
    raised), in its language: its readers' dates and the product's words."""
    base = {
        "kind": template.kind,
        "channel": template.channel,
        "in_use": template.is_active,
        "language": template.language,
    }
    try:
        with in_template_language(template.language):
            rendered = messages.check_template(template, messages.sample_context())
    except Exception as exc:
        return Preview(**base, error=f"{type(exc).__name__}: {exc}" if not str(exc) else str(exc))
    sms = sms_size(rendered.text) if template.channel == Channel.SMS else None
    return Preview(**base, rendered=rendered, sms=sms)


# ---------------------------------------------------------------------------------------
# The form
# ---------------------------------------------------------------------------------------

SOURCE = {"class": "vLargeTextField template-source", "spellcheck": "false"}


class MessageTemplateForm(forms.ModelForm):
    class Meta:
        model = MessageTemplate
        fields = ["kind", "channel", "language", "is_active", "subject", "body", "html_body"]
        widgets = {
            "subject": forms.TextInput(attrs={"class": "vLargeTextField template-source", "spellcheck": "false"}),
            "body": forms.Textarea(attrs={**SOURCE, "rows": 10}),
            "html_body": forms.Textarea(attrs={**SOURCE, "rows": 8}),
        }
        help_texts = {
            "is_active": _(
                "Untick to go back to the built-in wording (this text is kept for later); deleting the "
                "template does the same. A template that fails when a message is sent falls back to the built-in "
                "wording too. A saved change is used for messages made from then on (by every server within "
                "half a minute)."
            ),
            "subject": _("The email's subject, or the in-app title. SMS have none."),
            "body": _(
                "The email's plain text, the SMS, or the in-app text. Variables are written {{ name }}; "
                "{% if reason %}…{% endif %} shows a part only when the variable isn't empty."
            ),
            "html_body": _(
                "Email only, optional: the HTML inside the email's frame (variables are HTML-escaped). "
                "When empty, it is made from the plain text."
            ),
        }
        error_messages = {
            NON_FIELD_ERRORS: {
                "unique_together": _("There is already a template for this kind, channel and language."),
            },
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._duplicate = False

    @property
    def previewing(self) -> bool:
        return self.is_bound and PREVIEW in self.data

    def is_valid(self) -> bool:
        # "Preview" checks and shows the edits like a save would, but never saves them:
        # the admin sees an invalid form (with no errors) and shows the page again.
        return super().is_valid() and not self.previewing

    def clean(self):
        data = super().clean()
        kind, channel = data.get("kind"), data.get("channel")
        if not kind or not channel or "language" in self.errors:
            return data
        language = data.get("language") or ""
        self._check_duplicate(kind, channel, language)
        if channel == Channel.SMS and data.get("subject"):
            self.add_error("subject", gettext("An SMS has no subject; leave it empty."))
        elif channel != Channel.SMS and not data.get("subject") and "subject" not in self.errors:
            if channel == Channel.EMAIL:
                what = gettext("An email needs a subject.")
            else:
                what = gettext("An in-app message needs a title.")
            self.add_error("subject", what)
        if channel != Channel.EMAIL and data.get("html_body"):
            self.add_error(
                "html_body", gettext("Only emails have an HTML body; SMS and in-app messages are plain text.")
            )
        with in_template_language(language):
            context = messages.sample_context()
        for field, label, autoescape in PARTS:
            if data.get(field) and field not in self.errors:
                problem = check_part(data[field], context, autoescape=autoescape, label=str(label))
                if problem:
                    self.add_error(field, problem)
        if not self.errors:
            # The whole message, as it will be sent (the email's HTML frame included).
            preview = preview_of(self.template_from(data))
            if preview.error:
                self.add_error(None, gettext("The template doesn't render: %(error)s") % {"error": preview.error})
        return data

    def _check_duplicate(self, kind: str, channel: str, language: str) -> None:
        """One template per kind, channel and language (empty: every language)."""
        other = (
            MessageTemplate.objects.filter(kind=kind, channel=channel, language=language)
            .exclude(pk=self.instance.pk)
            .first()
        )
        if other is None:
            return
        self._duplicate = True
        url = reverse("admin:notifications_messagetemplate_change", args=[other.pk])
        self.add_error(
            None,
            format_html(
                gettext('There is already a template for “{template}”: <a href="{url}">change that one</a>.'),
                template=other,
                url=url,
            ),
        )
        if not language:
            self.add_error("language", gettext("Choose a language to write a template for its readers only."))

    def _post_clean(self) -> None:
        super()._post_clean()
        if self._duplicate and NON_FIELD_ERRORS in self._errors:
            # The database's "unique" complaint says what our message said, without the link.
            kept = [e for e in self._errors[NON_FIELD_ERRORS].as_data() if e.code != "unique_together"]
            self._errors[NON_FIELD_ERRORS] = self.error_class(kept, error_class="nonfield", renderer=self.renderer)

    def template_from(self, data: dict) -> MessageTemplate:
        return MessageTemplate(
            pk=self.instance.pk,
            kind=data.get("kind") or "",
            channel=data.get("channel") or "",
            language=data.get("language") or "",
            subject=data.get("subject") or "",
            body=data.get("body") or "",
            html_body=data.get("html_body") or "",
            is_active=bool(data.get("is_active")),
        )

    def previewed_template(self) -> MessageTemplate | None:
        """What the page should preview: the edits if they check out, else nothing."""
        if self.is_bound:
            if self.errors or not hasattr(self, "cleaned_data"):
                return None
            return self.template_from(self.cleaned_data)
        return None
