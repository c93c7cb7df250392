"""Forms of the coach's availability editor. They only parse what the coach typed; the
rules (end after start, no overlaps, no past dates) live in ``availability.services`` and
come back as ``DomainError``s that ``attach_domain_error`` puts next to the right field."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.http import QueryDict

from config.errors import DomainError

TIME_INVALID = "Enter a time as HH:MM, for example 09:30."
DATE_INVALID = "Enter a date as YYYY-MM-DD, for example 2026-12-24."


# A 24-hour time as the site shows times everywhere. A text box, not <input type=time>: the
# browser would show that one in its own locale's form (12:00 PM in American English).
TIME_ATTRS = {
    "inputmode": "numeric",
    "pattern": "([01]?[0-9]|2[0-3]):[0-5][0-9]",
    "placeholder": "HH:MM",
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


def time_field(label: str, *, required: bool = True) -> forms.TimeField:
    return forms.TimeField(
        label=label,
        required=required,
        input_formats=["%H:%M", "%H:%M:%S"],
        widget=TimeInput(),
        error_messages={"invalid": TIME_INVALID, "required": f"Enter the {label.lower()} time."},
    )


def date_field(label: str) -> forms.DateField:
    return forms.DateField(
        label=label,
        input_formats=["%Y-%m-%d"],
        widget=DateInput(),
        error_messages={"invalid": DATE_INVALID, "required": f"Enter the {label.lower()}."},
    )


def attach_domain_error(form: forms.Form, error: DomainError, fields_by_code: dict[str, str]) -> None:
    """Show a service's refusal next to the field it is about (or above the form)."""
    field = fields_by_code.get(error.code)
    form.add_error(field if field in form.fields else None, error.message)


class WindowForm(forms.Form):
    """One weekly window: a start and an end in the coach's zone (weekday from the URL)."""

    start = time_field("Start")
    end = time_field("End")

    # Service error code → the field its message belongs next to; overlaps name both
    # windows and so sit under the pair.
    ERROR_FIELDS = {"window_end_before_start": "end"}


class DayOverrideForm(forms.Form):
    """One date that doesn't follow the weekly hours: a day off, or its own windows."""

    DAY_OFF = "off"
    CUSTOM = "custom"
    DEFAULT_ROWS = 3
    MAX_ROWS = 8

    date = date_field("Date")
    kind = forms.ChoiceField(
        label="On this day",
        choices=((DAY_OFF, "Day off"), (CUSTOM, "Custom hours")),
        initial=DAY_OFF,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose “Day off” or “Custom hours”."},
    )
    reason = forms.CharField(
        label="Reason", max_length=120, required=False, help_text="For you, e.g. “Conference” or “Half day”."
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
            self.fields[f"start_{i}"] = time_field("From", required=False)
            self.fields[f"end_{i}"] = time_field("To", required=False)

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
                    self.add_error(f"end_{i}", "Enter the end time too.")
                elif end and not start:
                    self.add_error(f"start_{i}", "Enter the start time too.")
                elif start and end:
                    windows.append((start, end))
            if not windows and not any(name in self.errors for name in row_names):
                self.add_error("start_1", "Enter at least one window, or choose “Day off”.")
        else:
            # A day off ignores the rows, even ones left half-typed before switching.
            for name in row_names:
                self.errors.pop(name, None)
        data["windows"] = windows
        return data


class TimeOffForm(forms.Form):
    start_date = date_field("First day off")
    end_date = date_field("Last day off")
    reason = forms.CharField(label="Reason", max_length=120, required=False, help_text="e.g. “Summer holiday”.")

    ERROR_FIELDS = {"time_off_end_before_start": "end_date", "date_in_past": "start_date"}


class PreviewForm(forms.Form):
    """The session length the preview uses (session types arrive in a later issue)."""

    DURATIONS = (30, 45, 60, 90)
    DEFAULT = 60

    duration = forms.TypedChoiceField(
        label="Session length",
        choices=[(minutes, f"{minutes} minutes") for minutes in DURATIONS],
        coerce=int,
        initial=DEFAULT,
    )

    @classmethod
    def duration_from(cls, query: QueryDict) -> int:
        """The last valid ``duration`` in ``query``, or the default.

        The last one wins because htmx appends the preview's current choice (``hx-include``)
        after any value a link carries."""
        for raw in reversed(query.getlist("duration")):
            if raw.isdigit() and int(raw) in cls.DURATIONS:
                return int(raw)
        return cls.DEFAULT
