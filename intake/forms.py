from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from intake.models import (
    CONSENT_BODY_MAX_LENGTH,
    FILE_MAX_MB_DEFAULT,
    FILE_MAX_MB_LIMIT,
    FILE_TYPES_DEFAULT,
    NOTE_MAX_LENGTH,
    ConsentKind,
    QuestionKind,
)


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


# ---------------------------------------------------------------------------------------
# Intake form builder
# ---------------------------------------------------------------------------------------


class IntakeFormTitleForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200, error_messages={"required": _("Give the form a title.")})


class BuilderStepForm(forms.Form):
    title = forms.CharField(
        label=_("Step title"), max_length=200, error_messages={"required": _("Give the step a title.")}
    )
    intro = forms.CharField(
        label=_("Introduction"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Optional: a few words shown above the step's questions."),
    )


class QuestionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=QuestionKind.choices)
    label = forms.CharField(label=_("Question"), max_length=300, error_messages={"required": _("Write the question.")})
    help_text = forms.CharField(label=_("Help text"), max_length=500, required=False)
    required = forms.BooleanField(label=_("An answer is required"), required=False, initial=True)
    choices = forms.CharField(
        label=_("Options"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For a single or multiple choice: one option per line."),
    )
    max_size_mb = forms.IntegerField(
        label=_("Largest file (MB)"),
        min_value=1,
        max_value=FILE_MAX_MB_LIMIT,
        initial=FILE_MAX_MB_DEFAULT,
        required=False,
        help_text=_("For a file upload."),
    )
    allowed_types = forms.CharField(
        label=_("Allowed file types"),
        max_length=200,
        required=False,
        initial=FILE_TYPES_DEFAULT,
        help_text=_("For a file upload: file name endings, comma-separated, e.g. pdf,jpg,png."),
    )

    def clean_allowed_types(self) -> str:
        from intake.answers import CONTENT_TYPES

        raw = self.cleaned_data.get("allowed_types") or FILE_TYPES_DEFAULT
        types = [part.strip().lower().lstrip(".") for part in raw.split(",") if part.strip()]
        unknown = [part for part in types if part not in CONTENT_TYPES]
        if unknown:
            raise forms.ValidationError(
                _("Not a file type this site accepts: %(types)s. Accepted: %(known)s.")
                % {"types": ", ".join(unknown), "known": ", ".join(sorted(CONTENT_TYPES))}
            )
        return ",".join(dict.fromkeys(types)) or FILE_TYPES_DEFAULT

    @classmethod
    def initial_for(cls, question) -> dict:
        return {
            "kind": question.kind,
            "label": question.label,
            "help_text": question.help_text,
            "required": question.required,
            "choices": "\n".join(question.choices),
            "max_size_mb": question.max_size_mb,
            "allowed_types": question.allowed_types,
        }
