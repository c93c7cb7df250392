from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from intake.models import NOTE_MAX_LENGTH


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
