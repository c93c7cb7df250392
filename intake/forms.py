from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from intake.models import CONSENT_BODY_MAX_LENGTH, NOTE_MAX_LENGTH, ConsentKind


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"),
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": _("Write something in the note."),
            "max_length": _("A note holds at most %(limit_value)s characters; this one has %(show_value)s."),
        },
    )


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search your notes"), required=False, max_length=200, strip=True)


class ConsentDocumentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=ConsentKind.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(
        label=_("Text"),
        max_length=CONSENT_BODY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 12}),
        error_messages={"required": _("Write the document's text.")},
    )
    required_before_booking = forms.BooleanField(
        label=_("Clients accept it before booking"), required=False, initial=True
    )


class ConsentVersionForm(forms.Form):
    body = forms.CharField(
        label=_("Text of the new version"),
        max_length=CONSENT_BODY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 12}),
        error_messages={"required": _("Write the document's text.")},
    )
