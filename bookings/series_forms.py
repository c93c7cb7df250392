"""Forms of the series pages: they only parse; ``bookings.services.series`` decides (the
number of sessions, the end date, whether a time is free)."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _lazy

from bookings.manage_forms import LocalDateTimeInput, local_to_utc
from bookings.models import SeriesFrequency

DEFAULT_COUNT = 8
FREQUENCIES = [
    (SeriesFrequency.WEEKLY.value, _lazy("Every week")),
    (SeriesFrequency.BIWEEKLY.value, _lazy("Every two weeks")),
    (SeriesFrequency.MONTHLY_WEEKDAY.value, _lazy("Every month, same weekday (e.g. the 2nd Tuesday)")),
    (SeriesFrequency.MONTHLY_DATE.value, _lazy("Every month, same date")),
]
ENDS_COUNT, ENDS_UNTIL = "count", "until"
ENDS = [(ENDS_COUNT, _lazy("After a number of sessions")), (ENDS_UNTIL, _lazy("On a date"))]


class RepeatForm(forms.Form):
    """How the series repeats and when it ends: a number of sessions (default 8) or an end
    date. Read from the query string (the confirm step's "Repeat this session", the preview)."""

    frequency = forms.ChoiceField(
        label=_lazy("Repeat"),
        choices=FREQUENCIES,
        initial=SeriesFrequency.WEEKLY.value,
        error_messages={"invalid_choice": _lazy("Choose how the series repeats.")},
    )
    ends = forms.ChoiceField(label=_lazy("Ends"), choices=ENDS, initial=ENDS_COUNT, required=False)
    count = forms.IntegerField(
        label=_lazy("Number of sessions"),
        required=False,
        initial=DEFAULT_COUNT,
        widget=forms.NumberInput(attrs={"min": 1, "inputmode": "numeric"}),
        error_messages={"invalid": _lazy("Give the number of sessions as a whole number.")},
    )
    until = forms.DateField(
        label=_lazy("Last date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": _lazy("Give the end date as a date, like 2027-06-30.")},
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["count"].widget.attrs["max"] = settings.MAX_SERIES_OCCURRENCES

    def clean(self) -> dict:
        data = super().clean()
        ends = data.get("ends") or (ENDS_UNTIL if data.get("until") and data.get("count") is None else ENDS_COUNT)
        data["ends"] = ends
        if ends == ENDS_UNTIL:
            if data.get("until") is None and "until" not in self.errors:
                self.add_error("until", gettext("Give the last date of the series."))
            data["count"] = None
        else:
            if data.get("count") is None and "count" not in self.errors:
                data["count"] = DEFAULT_COUNT
            data["until"] = None
        return data

    def service_kwargs(self) -> dict:
        """``frequency``, ``count`` and ``until`` for ``preview_series`` / ``book_series``."""
        data = self.cleaned_data
        return {"frequency": data["frequency"], "count": data.get("count"), "until": data.get("until")}

    def query(self) -> dict[str, str]:
        """The cleaned values as query parameters (links back to the preview)."""
        data = self.cleaned_data
        query = {"frequency": data["frequency"], "ends": data["ends"]}
        if data.get("count") is not None:
            query["count"] = str(data["count"])
        if data.get("until") is not None:
            query["until"] = data["until"].isoformat()
        return query

    def error_text(self) -> str:
        return " ".join(str(error) for errors in self.errors.values() for error in errors)


TIME_TEXT = re.compile(r"^\s*(\d{1,2})(?::?(\d{2}))?\s*$")


def _normal_time(text: str) -> str:
    """ "9" → "09:00", "930" → "09:30", "18:15" as is (the site's 24-hour boxes)."""
    digits = (text or "").strip()
    if digits.isdigit() and len(digits) in (3, 4):
        digits = f"{digits[:-2]}:{digits[-2:]}"
    found = TIME_TEXT.match(digits)
    if not found:
        return text
    return f"{int(found.group(1)):02d}:{found.group(2) or '00'}"


class NewTimeForm(forms.Form):
    """A new date and time for an occurrence (move) or for this and the following
    (retime), typed in the viewer's zone as a date and a 24-hour ``HH:MM``."""

    new_start = forms.CharField(
        label=_lazy("New date and time"),
        widget=LocalDateTimeInput(),
        error_messages={"required": _lazy("Give the new date and time.")},
    )

    def __init__(self, *args: object, zone: ZoneInfo, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone

    def clean_new_start(self) -> dt.datetime:
        value = self.cleaned_data["new_start"]
        if "T" in value:
            day, time = value.split("T", 1)
            value = f"{day}T{_normal_time(time)}"
        try:
            dt.datetime.strptime(value, "%Y-%m-%dT%H:%M")
        except ValueError as exc:
            raise ValidationError(gettext("Give the new date and a 24-hour time, like 2027-03-09 18:00.")) from exc
        return local_to_utc(value, self.zone)  # refuses a time the clocks skip, saying so


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_lazy("Reason"), required=False, max_length=1000, strip=True)
