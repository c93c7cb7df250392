from __future__ import annotations

from functools import lru_cache
from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from accounts.models import CoachProfile, User
from accounts.services import COACH_SETTING_FIELDS
from accounts.validators import normalize_phone, timezone_choices, validate_timezone
from config.inputs import canonical_zone


@lru_cache(maxsize=1)
def _timezone_options() -> tuple[tuple[str, str], ...]:
    return tuple(
        (zone, format_html('<option value="{}">{}</option>', zone, label)) for zone, label in timezone_choices()
    )


class TimezoneSelect(forms.Widget):
    """A select of ~600 IANA zones whose options are escaped once per process: rendering
    them through Django's per-option templates cost 60 ms on every profile page."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> str:
        final_attrs = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        selected = "" if value is None else str(value)
        options, found = [], False
        for zone, html in _timezone_options():
            if zone == selected:
                found = True
                html = format_html('<option value="{}" selected>{}</option>', zone, zone.replace("_", " "))
            options.append(html)
        if selected and not found:
            options.insert(0, format_html('<option value="{}" selected>{}</option>', selected, selected))
        return mark_safe(f"<select{flatatt(final_attrs)}>{''.join(options)}</select>")  # noqa: S308 (escaped above)


class TimezoneField(forms.CharField):
    """Any IANA zone name, chosen from a select (a zone missing from the list, such as one a
    browser reports, is still accepted)."""

    widget = TimezoneSelect

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", "Time zone")
        kwargs.setdefault("max_length", 64)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str:
        # A browser may report an old alias (Asia/Calcutta): keep its canonical name.
        value = super().to_python(value)
        return (canonical_zone(value) or value) if value else value

    def validate(self, value: str) -> None:
        super().validate(value)
        if value:
            validate_timezone(value)


class PhoneField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("help_text", "Optional. International format, e.g. +33 6 12 34 56 78.")
        kwargs.setdefault("widget", forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}))
        super().__init__(**kwargs)

    def clean(self, value: str) -> str:
        value = super().clean(value)
        return normalize_phone(value) if value else ""


class SignupForm(forms.Form):
    """Extra sign-up fields for allauth; the time zone is pre-filled from the browser."""

    name = forms.CharField(
        label="Full name", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name", "autofocus": True})
    )
    timezone = TimezoneField(
        initial="UTC",
        help_text="Filled in from your browser; all times are shown in this zone.",
        widget=TimezoneSelect(attrs={"data-browser-timezone": "true"}),
    )

    field_order = ["name", "email", "password1", "password2", "timezone"]

    def signup(self, request: HttpRequest, user: User) -> None:
        user.name = self.cleaned_data["name"].strip()
        user.timezone = self.cleaned_data["timezone"]
        user.save(update_fields=["name", "timezone"])


class ProfileForm(forms.Form):
    name = forms.CharField(label="Full name", max_length=150)
    timezone = TimezoneField()
    phone = PhoneField()


class CoachSettingsForm(forms.ModelForm):
    """Parses and validates the settings; ``services.update_coach_settings`` writes them."""

    class Meta:
        model = CoachProfile
        fields = list(COACH_SETTING_FIELDS)
        widgets = {"bio": forms.Textarea(attrs={"rows": 4})}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        per_day, per_week = data.get("max_sessions_per_day"), data.get("max_sessions_per_week")
        if per_day and per_week and per_week < per_day:
            self.add_error("max_sessions_per_week", "The weekly limit cannot be lower than the daily limit.")
        return data


class ConnectionRequestForm(forms.Form):
    coach = forms.ModelChoiceField(queryset=User.objects.none(), empty_label="Choose a coach")
    message = forms.CharField(
        required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}), label="Note to the coach"
    )

    def __init__(self, *args: Any, coaches: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if coaches is not None:
            self.fields["coach"].queryset = coaches


class DependentForm(forms.Form):
    email = forms.EmailField(label="Their account's email")
    relationship = forms.CharField(max_length=40, required=False, help_text="e.g. parent")


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=80, label="Token name", help_text="e.g. “Calendar script”.")
