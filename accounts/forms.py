from __future__ import annotations

import datetime as dt
import time
from functools import lru_cache
from typing import Any

from django import forms
from django.conf import settings
from django.forms.utils import flatatt
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.language import supported as supported_language
from accounts.models import CoachProfile, Subject, User
from accounts.services import COACH_SETTING_FIELDS, SERIES_SETTING_FIELDS
from accounts.validators import normalize_phone, timezone_groups, utc_offset_label, validate_timezone, zone_city
from config.inputs import LONG_TEXT, canonical_zone

# The picker's offsets are the zones' offsets now: rebuilt every quarter of an hour (every
# change of a zone's offset falls on a quarter hour of UTC).
OFFSET_REFRESH_SECONDS = 15 * 60


def _option(zone: str, city: str, offset: str, *, selected: bool = False) -> str:
    return format_html(
        '<option value="{}"{}>{} — {}</option>', zone, mark_safe(" selected") if selected else "", city, offset
    )


@lru_cache(maxsize=4)
def _timezone_options(bucket: int, language: str) -> tuple[tuple[str, str, str, str], ...]:
    """(group's opening tag or "", zone, option, group's closing tag or "") per zone."""
    when = dt.datetime.fromtimestamp(bucket * OFFSET_REFRESH_SECONDS, dt.UTC)
    rows = []
    for region, zones in timezone_groups(when):
        grouped = region != "UTC"
        for index, (zone, city, offset) in enumerate(zones):
            opening = format_html('<optgroup label="{}">', region) if grouped and index == 0 else ""
            closing = "</optgroup>" if grouped and index == len(zones) - 1 else ""
            rows.append((opening, zone, _option(zone, city, offset), closing))
    return tuple(rows)


class TimezoneSelect(forms.Widget):
    """The time-zone picker: canonical IANA zones grouped by region, each with its city and
    its UTC offset now; static/js/forms.js makes it searchable ([data-tz-picker]). The ~420
    options are escaped once per quarter hour: rendering them through Django's per-option
    templates cost 60 ms on every profile page."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> str:
        final_attrs = self.build_attrs(self.attrs, {**(attrs or {}), "name": name, "data-tz-picker": ""})
        selected = "" if value is None else str(value)
        bucket = int(time.time()) // OFFSET_REFRESH_SECONDS
        options, found = [], False
        for opening, zone, html, closing in _timezone_options(bucket, get_language() or ""):
            if zone == selected:
                found = True
                when = dt.datetime.fromtimestamp(bucket * OFFSET_REFRESH_SECONDS, dt.UTC)
                html = _option(zone, zone_city(zone), utc_offset_label(zone, when), selected=True)
            options.append(f"{opening}{html}{closing}")
        if selected and not found:
            options.insert(0, format_html('<option value="{}" selected>{}</option>', selected, selected))
        return mark_safe(f"<select{flatatt(final_attrs)}>{''.join(options)}</select>")  # noqa: S308 (escaped above)


class TimezoneField(forms.CharField):
    """Any IANA zone name, chosen from a select (a zone missing from the list, such as one a
    browser reports, is still accepted)."""

    widget = TimezoneSelect

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Time zone"))
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
        kwargs.setdefault("label", _("Phone"))
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("help_text", _("Optional. International format, e.g. +33 6 12 34 56 78."))
        kwargs.setdefault("widget", forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}))
        super().__init__(**kwargs)

    def clean(self, value: str) -> str:
        value = super().clean(value)
        return normalize_phone(value) if value else ""


class SignupForm(forms.Form):
    """Extra sign-up fields for allauth; the time zone is pre-filled from the browser."""

    name = forms.CharField(
        label=_("Full name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name", "autofocus": True}),
    )
    timezone = TimezoneField(
        initial="UTC",
        help_text=_("Filled in from your browser; all times are shown in this zone."),
        widget=TimezoneSelect(attrs={"data-browser-timezone": "true"}),
    )

    field_order = ["name", "email", "password1", "password2", "timezone"]

    def signup(self, request: HttpRequest, user: User) -> None:
        user.name = self.cleaned_data["name"].strip()
        user.timezone = self.cleaned_data["timezone"]
        fields = ["name", "timezone"]
        # Signing up in another language than the default keeps it for the emails and SMS
        # sent while no browser is there to ask (the profile can go back to the browser's).
        language = get_language()
        if supported_language(language) and language != settings.LANGUAGE_CODE:
            user.language = language
            fields.append("language")
        user.save(update_fields=fields)


class ProfileForm(forms.Form):
    name = forms.CharField(label=_("Full name"), max_length=150)
    timezone = TimezoneField()
    phone = PhoneField()
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        help_text=_("Pages, emails, SMS and reminders are in this language."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Each language named in itself ("Français"), after the browser's.
        self.fields["language"].choices = [("", _("Your browser's language")), *settings.LANGUAGES]


# The coach's price settings, shown with the booking rules.
PRICE_SETTING_FIELDS = ("connected_discount_percent",)
PERCENT_MESSAGE = _("Give the discount as a whole number from 0 to 100.")
SERIES_HORIZON_LIMIT = 730
HORIZON_MESSAGE = _("Give the series horizon as a whole number of days from 1 to 730, or leave it empty.")


class CoachSettingsForm(forms.ModelForm):
    """Parses and validates the settings; ``services.update_coach_settings`` writes them."""

    connected_discount_percent = forms.IntegerField(
        label=_("Discount for connected clients (%)"),
        min_value=0,
        max_value=100,
        required=False,
        error_messages={"invalid": PERCENT_MESSAGE, "min_value": PERCENT_MESSAGE, "max_value": PERCENT_MESSAGE},
        help_text=_("Taken off the price of your paid sessions for clients connected to you. 0: no discount."),
    )
    allow_series = forms.BooleanField(label=_("Clients may book recurring series"), required=False)
    series_horizon_days = forms.IntegerField(
        label=_("How far ahead a series may reach (days)"),
        min_value=1,
        max_value=SERIES_HORIZON_LIMIT,
        required=False,
        error_messages={"invalid": HORIZON_MESSAGE, "min_value": HORIZON_MESSAGE, "max_value": HORIZON_MESSAGE},
    )
    series_requires_approval = forms.BooleanField(label=_("Every new series needs my approval"), required=False)

    class Meta:
        model = CoachProfile
        fields = list(dict.fromkeys([*COACH_SETTING_FIELDS, *PRICE_SETTING_FIELDS, *SERIES_SETTING_FIELDS]))
        # The cap the service applies, so the page counts down to it.
        widgets = {"bio": forms.Textarea(attrs={"rows": 4, "maxlength": LONG_TEXT})}
        # The model's fields that name no verbose name of their own (their label is the field's name).
        labels = {"headline": _("Headline"), "bio": _("Bio"), "allow_firm_booking": _("Allow firm booking")}

    def __init__(self, *args: Any, with_prices: bool = False, with_series: bool = False, **kwargs: Any) -> None:
        """``with_prices``: the price settings too; ``with_series``: the recurring series'
        (the settings page; the availability editor shows the booking rules only, and a
        box it doesn't show must not read as unticked)."""
        super().__init__(*args, **kwargs)
        if not with_prices:
            for name in PRICE_SETTING_FIELDS:
                if name not in COACH_SETTING_FIELDS:
                    del self.fields[name]
        if with_series:
            horizon = self.fields["series_horizon_days"]
            default = settings.SERIES_HORIZON_DAYS
            horizon.widget.attrs["placeholder"] = str(default)
            horizon.help_text = _(
                "It may reach beyond your booking window. Empty: the site's default, %(days)s days."
            ) % {"days": default}
            self.fields["allow_series"].help_text = _(
                "A weekly (or other recurring) series of a one-on-one session type, every date checked at once."
            )
            self.fields["series_requires_approval"].help_text = _(
                "Every new series is a request you approve or decline once, whatever your other rules say."
            )
        else:
            for name in SERIES_SETTING_FIELDS:
                del self.fields[name]

    def clean_connected_discount_percent(self) -> int:
        # Left out (or blank): the discount stays as it is.
        value = self.cleaned_data.get("connected_discount_percent")
        return self.instance.connected_discount_percent if value is None else value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        per_day, per_week = data.get("max_sessions_per_day"), data.get("max_sessions_per_week")
        if per_day and per_week and per_week < per_day:
            self.add_error("max_sessions_per_week", _("The weekly limit cannot be lower than the daily limit."))
        return data


class SubjectsForm(forms.Form):
    """The subjects a coach declares (on the booking settings page, beside
    ``CoachSettingsForm``): ticked from the existing ones, and one new by name; the rules of
    a name are ``accounts.subjects``'."""

    prefix = "subjects"

    subjects = forms.ModelMultipleChoiceField(
        label=_("Your subjects and qualifications"),
        queryset=Subject.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Clients can find you by these in the list of coaches."),
    )
    new_subject = forms.CharField(
        label=_("Add a subject"),
        required=False,
        strip=True,
        widget=forms.TextInput(attrs={"maxlength": 80, "autocomplete": "off"}),
        help_text=_("One that isn't in the list yet, e.g. “Mathematics” or “Couples therapy”."),
    )


class ConnectionRequestForm(forms.Form):
    coach = forms.ModelChoiceField(queryset=User.objects.none(), label=_("Coach"), empty_label=_("Choose a coach"))
    message = forms.CharField(
        required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}), label=_("Note to the coach")
    )

    def __init__(self, *args: Any, coaches: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if coaches is not None:
            self.fields["coach"].queryset = coaches


class DependentForm(forms.Form):
    email = forms.EmailField(label=_("Their account's email"))
    relationship = forms.CharField(label=_("Relationship"), max_length=40, required=False, help_text=_("e.g. parent"))


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=80, label=_("Token name"), help_text=_("e.g. “Calendar script”."))
