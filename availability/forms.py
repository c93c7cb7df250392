"""Forms of the coach's availability editor. They only parse what the coach typed; the
rules (end after start, no overlaps, no past dates) live in ``availability.services`` and
come back as ``DomainError``s that ``attach_domain_error`` puts next to the right field."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext

from availability import services
from availability.models import Weekday
from config.errors import DomainError

WEEKDAY_NAMES = dict(Weekday.choices)

TIME_INVALID = _lazy("Enter a time as HH:MM, for example 09:30.")
DATE_INVALID = _lazy("Enter a date as YYYY-MM-DD, for example 2026-12-24.")


# A 24-hour time as the site shows times everywhere. A text box, not <input type=time>: the
# browser would show that one in its own locale's form (12:00 PM in American English).
TIME_ATTRS = {
    "inputmode": "numeric",
    "pattern": "([01]?[0-9]|2[0-3]):[0-5][0-9]",
    "placeholder": _lazy("HH:MM"),
    "maxlength": "5",
    "size": "5",
    "autocomplete": "off",
    "data-time-input": "",
}


class TimeInput(forms.TimeInput):
    input_type = "text"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs={**TIME_ATTRS, **(attrs or {})}, format="%H:%M")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


# The label in lower case, when it is shown (in the language of the moment).
_lowered = lazy(lambda label: str(label).lower(), str)


def time_field(label: str, *, required: bool = True, required_message: str | None = None) -> forms.TimeField:
    """``required_message``: the whole sentence, best given in full (a translation can't
    always fit a label into one sentence); else one is made of the label."""
    return forms.TimeField(
        label=label,
        required=required,
        input_formats=["%H:%M", "%H:%M:%S"],
        widget=TimeInput(),
        error_messages={
            "invalid": TIME_INVALID,
            "required": required_message or format_lazy(_lazy("Enter the {label} time."), label=_lowered(label)),
        },
    )


def date_field(label: str, *, required_message: str | None = None) -> forms.DateField:
    return forms.DateField(
        label=label,
        input_formats=["%Y-%m-%d"],
        widget=DateInput(),
        error_messages={
            "invalid": DATE_INVALID,
            "required": required_message or format_lazy(_lazy("Enter the {label}."), label=_lowered(label)),
        },
    )


def optional_date_field(label: str) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=DateInput(),
        error_messages={"invalid": DATE_INVALID},
    )


def attach_domain_error(form: forms.Form, error: DomainError, fields_by_code: dict[str, str]) -> None:
    """Show a service's refusal next to the field it is about (or above the form): the
    field ``fields_by_code`` names for its code, else the one the error names."""
    field = fields_by_code.get(error.code) or error.field.rsplit(".", 1)[-1]
    form.add_error(field if field in form.fields else None, error.message)


# How a window repeats, as the editor offers it (the stored form is a weekday or an RRULE).
WEEKLY = "weekly"
CUSTOM = "custom"
EVERY_N_WEEKS = {"2w": 2, "3w": 3, "4w": 4}
MONTHLY_NTH = {"m1": 1, "m2": 2, "m3": 3, "m4": 4, "m-1": -1}
BYDAY = services.BYDAY
_EVERY_N_WEEKS_RULE = re.compile(r"^FREQ=WEEKLY;INTERVAL=([234]);BYDAY=(MO|TU|WE|TH|FR|SA|SU)$")
_MONTHLY_NTH_RULE = re.compile(r"^FREQ=MONTHLY;BYDAY=(1|2|3|4|-1)(MO|TU|WE|TH|FR|SA|SU)$")


def repeats_choices(weekday: int | None) -> list[tuple[str, str]]:
    """The ways a window on ``weekday`` can repeat (only a custom rule without a weekday)."""
    if weekday is None:
        return [(CUSTOM, _("Custom rule (RRULE)"))]
    day = str(WEEKDAY_NAMES[weekday])
    return [
        (WEEKLY, _("Every week")),
        ("2w", _("Every other week")),
        ("3w", _("Every 3rd week")),
        ("4w", _("Every 4th week")),
        ("m1", _("First %(day)s of the month") % {"day": day}),
        ("m2", _("Second %(day)s of the month") % {"day": day}),
        ("m3", _("Third %(day)s of the month") % {"day": day}),
        ("m4", _("Fourth %(day)s of the month") % {"day": day}),
        ("m-1", _("Last %(day)s of the month") % {"day": day}),
        (CUSTOM, _("Custom rule (RRULE)")),
    ]


rule_weekdays = services.rule_weekdays


def repeats_of(weekday: int | None, rule: str | None) -> tuple[str, int | None]:
    """How a stored window repeats, as the form shows it, and the weekday the form is for."""
    if rule is None:
        return WEEKLY, weekday
    if match := _EVERY_N_WEEKS_RULE.match(rule):
        return f"{match.group(1)}w", BYDAY.index(match.group(2))
    if match := _MONTHLY_NTH_RULE.match(rule):
        return f"m{match.group(1)}", BYDAY.index(match.group(2))
    days = rule_weekdays(rule)
    return CUSTOM, days[0] if days else weekday


def rule_for(repeats: str, weekday: int) -> str | None:
    """The RRULE of a choice of ``repeats_choices`` (None: every week, by weekday)."""
    if repeats in EVERY_N_WEEKS:
        return f"FREQ=WEEKLY;INTERVAL={EVERY_N_WEEKS[repeats]};BYDAY={BYDAY[weekday]}"
    if repeats in MONTHLY_NTH:
        return f"FREQ=MONTHLY;BYDAY={MONTHLY_NTH[repeats]}{BYDAY[weekday]}"
    return None


class WindowForm(forms.Form):
    """One window: a start and an end in the coach's zone on ``weekday`` (from the URL, or
    the window's), and, in the form that shows them (``with_options``; it posts
    ``options``), how it repeats, its dates, the session types it is for and whether
    clients may book firm in it. A post without ``options`` (the week's quick form, the
    hours alone) keeps what the window had, or gives a new one the defaults."""

    start = time_field(_lazy("Start"), required_message=_lazy("Enter the start time."))
    end = time_field(_lazy("End"), required_message=_lazy("Enter the end time."))
    options = forms.CharField(widget=forms.HiddenInput, required=False, initial="1")
    repeats = forms.ChoiceField(
        label=_lazy("Repeats"), required=False, error_messages={"required": _lazy("Choose how the window repeats.")}
    )
    rrule = forms.CharField(
        label=_lazy("Rule (RRULE)"),
        required=False,
        max_length=services.MAX_RULE_LENGTH + 6,
        help_text=_lazy(
            "With “Custom rule”: RFC 5545, e.g. FREQ=MONTHLY;BYDAY=-1FR (the last Friday of the month) "
            "or FREQ=WEEKLY;BYDAY=TU,TH."
        ),
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off", "data-rrule-input": ""}),
    )
    valid_from = optional_date_field(_lazy("From"))
    valid_until = optional_date_field(_lazy("Until"))
    session_types = forms.TypedMultipleChoiceField(
        label=_lazy("Only for these session types"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_lazy("None ticked: every session type."),
    )
    allow_firm_booking = forms.BooleanField(
        label=_lazy("Clients may book firm in this window"),
        required=False,
        initial=True,
        help_text=_lazy("Off: every booking in this window is a request for you to approve."),
    )

    # Service error code → the field its message belongs next to (otherwise the field the
    # error names); overlaps name both windows and so sit under the pair.
    ERROR_FIELDS = {"window_end_before_start": "end"}

    def __init__(
        self,
        *args: Any,
        weekday: int | None = None,
        session_types: Sequence[tuple[int, str]] = (),
        with_options: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.weekday = weekday
        self.with_options = bool(self.data.get(self.add_prefix("options"))) if self.is_bound else with_options
        self.fields["repeats"].choices = repeats_choices(weekday)
        self.fields["session_types"].choices = list(session_types)
        # Always answered when shown; a post without the options (the hours alone) has none.
        self.fields["repeats"].required = self.with_options
        if not self.is_bound and "repeats" not in self.initial:
            self.initial["repeats"] = WEEKLY if weekday is not None else CUSTOM

    @property
    def shows_options(self) -> bool:
        return self.with_options

    def spec(self, *, window_id: int | None = None) -> services.WindowSpec:
        """The window as typed (call after ``is_valid``); without the options posted, a
        change keeps what the window had and a new window takes the defaults."""
        data = self.cleaned_data
        if not self.shows_options:
            keep = services.OPTION_FIELDS if window_id is not None else frozenset()
            return services.WindowSpec(self.weekday, data["start"], data["end"], id=window_id, keep=keep)
        repeats = data.get("repeats") or (WEEKLY if self.weekday is not None else CUSTOM)
        if repeats == CUSTOM or self.weekday is None:
            weekday, rule = None, data.get("rrule") or ""
        else:
            weekday, rule = (self.weekday, None) if repeats == WEEKLY else (None, rule_for(repeats, self.weekday))
        return services.WindowSpec(
            weekday,
            data["start"],
            data["end"],
            rrule=rule,
            valid_from=data.get("valid_from"),
            valid_until=data.get("valid_until"),
            session_type_ids=frozenset(data.get("session_types") or ()),
            allow_firm_booking=bool(data.get("allow_firm_booking")),
            id=window_id,
        )

    @classmethod
    def initial_for(cls, spec: services.WindowSpec) -> tuple[dict[str, Any], int | None]:
        """The form's initial values for a stored window, and the weekday it is shown for."""
        repeats, weekday = repeats_of(spec.weekday, spec.rrule)
        initial = {
            "start": spec.start,
            "end": spec.end,
            "repeats": repeats,
            "rrule": spec.rrule if repeats == CUSTOM else "",
            "valid_from": spec.valid_from,
            "valid_until": spec.valid_until,
            "session_types": sorted(spec.session_type_ids),
            "allow_firm_booking": spec.allow_firm_booking,
        }
        return initial, weekday


class DayOverrideForm(forms.Form):
    """One date that doesn't follow the weekly hours: a day off, or its own windows."""

    DAY_OFF = "off"
    CUSTOM = "custom"
    DEFAULT_ROWS = 3
    MAX_ROWS = 8

    date = date_field(_lazy("Date"), required_message=_lazy("Enter the date."))
    kind = forms.ChoiceField(
        label=_lazy("On this day"),
        choices=((DAY_OFF, _lazy("Day off")), (CUSTOM, _lazy("Custom hours"))),
        initial=DAY_OFF,
        widget=forms.RadioSelect,
        error_messages={"required": _lazy("Choose “Day off” or “Custom hours”.")},
    )
    reason = forms.CharField(
        label=_lazy("Reason"),
        max_length=120,
        required=False,
        help_text=_lazy("For you, e.g. “Conference” or “Half day”."),
    )

    ERROR_FIELDS = {"date_in_past": "date"}  # overlaps and reversed windows sit under the windows

    def __init__(self, *args: Any, rows: int = DEFAULT_ROWS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.is_bound:
            # As many rows as were posted (a no-JS form may carry more than the default).
            posted = sum(1 for i in range(1, self.MAX_ROWS + 1) if self.add_prefix(f"start_{i}") in self.data)
            rows = max(posted, 1)
        self.rows = max(1, min(rows, self.MAX_ROWS))
        for i in range(1, self.rows + 1):
            self.fields[f"start_{i}"] = time_field(_lazy("From"), required=False)
            self.fields[f"end_{i}"] = time_field(_lazy("To"), required=False)

    def window_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"start_{i}"], self[f"end_{i}"]) for i in range(1, self.rows + 1)]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        row_names = [name for i in range(1, self.rows + 1) for name in (f"start_{i}", f"end_{i}")]
        windows: list[tuple[dt.time, dt.time]] = []
        if data.get("kind") == self.CUSTOM:
            for i in range(1, self.rows + 1):
                start, end = data.get(f"start_{i}"), data.get(f"end_{i}")
                if f"start_{i}" in self.errors or f"end_{i}" in self.errors:
                    continue
                if start and not end:
                    self.add_error(f"end_{i}", _("Enter the end time too."))
                elif end and not start:
                    self.add_error(f"start_{i}", _("Enter the start time too."))
                elif start and end:
                    windows.append((start, end))
            if not windows and not any(name in self.errors for name in row_names):
                self.add_error("start_1", _("Enter at least one window, or choose “Day off”."))
        else:
            # A day off ignores the rows, even ones left half-typed before switching.
            for name in row_names:
                self.errors.pop(name, None)
        data["windows"] = windows
        return data


class TimeOffForm(forms.Form):
    start_date = date_field(_lazy("First day off"), required_message=_lazy("Enter the first day off."))
    end_date = date_field(_lazy("Last day off"), required_message=_lazy("Enter the last day off."))
    reason = forms.CharField(
        label=_lazy("Reason"), max_length=120, required=False, help_text=_lazy("e.g. “Summer holiday”.")
    )

    ERROR_FIELDS = {"time_off_end_before_start": "end_date", "date_in_past": "start_date"}


class PreviewForm(forms.Form):
    """The session length the preview uses (session types arrive in a later issue)."""

    DURATIONS = (30, 45, 60, 90)
    DEFAULT = 60

    duration = forms.TypedChoiceField(
        label=_lazy("Session length"),
        choices=[(minutes, str(minutes)) for minutes in DURATIONS],
        coerce=int,
        initial=DEFAULT,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["duration"].choices = [
            (minutes, ngettext("%(minutes)d minute", "%(minutes)d minutes", minutes) % {"minutes": minutes})
            for minutes in self.DURATIONS
        ]

    @classmethod
    def duration_from(cls, query: QueryDict) -> int:
        """The last valid ``duration`` in ``query``, or the default.

        The last one wins because htmx appends the preview's current choice (``hx-include``)
        after any value a link carries."""
        for raw in reversed(query.getlist("duration")):
            if raw.isdigit() and int(raw) in cls.DURATIONS:
                return int(raw)
        return cls.DEFAULT
