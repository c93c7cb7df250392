"""Forms of the booking management pages: they only parse; the services decide.

Times a coach types (suggested alternatives, a group session's start) are wall-clock times
in the coach's own zone, whoever is typing them (the coach or back-office staff).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy

from accounts.models import Role, User
from availability.forms import TIME_ATTRS
from bookings.models import BookingStatus, SessionType
from bookings.services import MAX_ALTERNATIVES
from config.dates import format_when

LOCAL_INPUT_FORMAT = "%Y-%m-%dT%H:%M"
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2999, 12, 31)


def local_to_utc(value: str, zone: ZoneInfo) -> dt.datetime:
    """A ``datetime-local`` value read as wall-clock time in ``zone``, as a UTC instant.
    A time the clocks skip (spring forward) is refused rather than silently moved."""
    try:
        naive = dt.datetime.strptime(value.strip(), LOCAL_INPUT_FORMAT)
    except ValueError:
        try:
            naive = dt.datetime.strptime(value.strip(), LOCAL_INPUT_FORMAT + ":%S")
        except ValueError as exc:
            raise ValidationError(gettext("Enter a date and time (24-hour), like 2026-12-01 09:30.")) from exc
    if not FIRST_DAY <= naive.date() <= LAST_DAY:
        raise ValidationError(gettext("Choose a date between 1900 and 2999."))
    aware = naive.replace(tzinfo=zone)
    back = aware.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None)
    if back != naive:
        raise ValidationError(
            gettext("%(when)s doesn't exist in %(zone)s: the clocks change then.")
            % {"when": format_when(naive, "datetime_table"), "zone": zone.key}
        )
    return aware.astimezone(dt.UTC)


class LocalDateTimeInput(forms.MultiWidget):
    """A wall-clock date and time as two boxes, ``<name>_date`` (the browser's date picker)
    and ``<name>_time`` (a 24-hour HH:MM text box, as the site shows times; a browser's
    ``datetime-local`` would show 12:00 PM in American English), read back as one
    ``YYYY-MM-DDTHH:MM`` value for ``local_to_utc``. A single ``<name>`` value is read too."""

    def __init__(self, attrs: dict | None = None) -> None:
        widgets = {
            "date": forms.DateInput(attrs={"type": "date", "aria-label": gettext_lazy("Date")}, format="%Y-%m-%d"),
            "time": forms.TextInput(attrs={**TIME_ATTRS, "aria-label": gettext_lazy("Time, 24-hour")}),
        }
        super().__init__(widgets, attrs)

    def render(self, *args, **kwargs) -> str:
        return format_html('<span class="datetime-pair">{}</span>', super().render(*args, **kwargs))

    def decompress(self, value: object) -> list:
        if isinstance(value, str) and "T" in value:
            return value.split("T", 1)
        return [None, None]

    def value_from_datadict(self, data, files, name: str) -> str:
        if data.get(name):
            return data[name]
        day, time = (data.get(f"{name}{suffix}", "").strip() for suffix in ("_date", "_time"))
        if not day and not time:
            return ""
        return f"{day}T{time}"

    def value_omitted_from_data(self, data, files, name: str) -> bool:
        return name not in data and super().value_omitted_from_data(data, files, name)


class ReasonForm(forms.Form):
    """Cancel or decline: the reason is read by the client (the service says when it's required)."""

    reason = forms.CharField(required=False, max_length=1000, strip=True)


class QuestionForm(forms.Form):
    question = forms.CharField(
        max_length=2000, error_messages={"required": gettext_lazy("Write your question to the client.")}
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(max_length=2000, error_messages={"required": gettext_lazy("Write your answer.")})


class NoteForm(forms.Form):
    note = forms.CharField(required=False, max_length=1000)


class AcceptAlternativeForm(forms.Form):
    start = forms.CharField(error_messages={"required": gettext_lazy("Choose one of the suggested times.")})

    def clean_start(self) -> dt.datetime:
        try:
            value = dt.datetime.fromisoformat(self.cleaned_data["start"])
        except ValueError as exc:
            raise ValidationError(gettext("Choose one of the suggested times.")) from exc
        if value.tzinfo is None:
            raise ValidationError(gettext("Choose one of the suggested times."))
        try:
            return value.astimezone(dt.UTC)
        except OverflowError as exc:  # the first day of the calendar with a positive offset
            raise ValidationError(gettext("Choose one of the suggested times.")) from exc


class RateForm(forms.Form):
    rating = forms.TypedChoiceField(
        choices=[(n, str(n)) for n in range(1, 6)],
        coerce=int,
        error_messages={
            "required": gettext_lazy("Give a rating from 1 to 5."),
            "invalid_choice": gettext_lazy("Give a rating from 1 to 5."),
        },
    )
    feedback = forms.CharField(required=False, max_length=2000)


class SuggestForm(forms.Form):
    """Up to five alternative starts, typed in the coach's zone."""

    note = forms.CharField(required=False, max_length=1000)

    def __init__(self, *args, zone: ZoneInfo, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone
        for index in range(1, MAX_ALTERNATIVES + 1):
            self.fields[f"alt_{index}"] = forms.CharField(required=False, max_length=32, widget=LocalDateTimeInput())

    def clean(self) -> dict:
        cleaned = super().clean()
        times: list[dt.datetime] = []
        for index in range(1, MAX_ALTERNATIVES + 1):
            raw = (cleaned.get(f"alt_{index}") or "").strip()
            if not raw:
                continue
            try:
                times.append(local_to_utc(raw, self.zone))
            except ValidationError as error:
                self.add_error(f"alt_{index}", error)
        if not times and not self.errors:
            raise ValidationError(gettext("Suggest at least one time."))
        cleaned["alternatives"] = times
        return cleaned


class PublishSessionForm(forms.Form):
    """A coach puts a group session or workshop on the calendar."""

    session_type = forms.ModelChoiceField(
        queryset=SessionType.objects.none(),
        label=gettext_lazy("Session type"),
        empty_label=None,
        error_messages={
            "required": gettext_lazy("Choose a session type."),
            "invalid_choice": gettext_lazy("Choose one of your group types."),
        },
    )
    start = forms.CharField(label=gettext_lazy("Starts"), max_length=32, widget=LocalDateTimeInput())
    capacity = forms.IntegerField(label=gettext_lazy("Seats"), required=False)
    # The start the coach confirmed outside their hours (``YYYY-MM-DDTHH:MM``, their zone):
    # another start asks again.
    confirm_outside = forms.CharField(required=False, max_length=32, widget=forms.HiddenInput)

    def __init__(self, *args, coach: User, now: dt.datetime | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.now = now or timezone.now()
        self.zone = ZoneInfo(coach.timezone)
        self.fields["capacity"].help_text = gettext("Empty: the session type's seats. At most %(most)s.") % {
            "most": settings.MAX_GROUP_CAPACITY
        }
        self.fields["session_type"].queryset = SessionType.objects.filter(
            coach=coach, is_active=True, kind__in=["group", "workshop"]
        ).order_by("title")
        self.fields["start"].help_text = gettext("In %(zone)s.") % {"zone": coach.timezone}

    def clean_start(self) -> dt.datetime:
        start = local_to_utc(self.cleaned_data["start"], self.zone)
        if start <= self.now:
            raise ValidationError(
                gettext("%(when)s has already passed: choose a later time.")
                % {"when": format_when(start.astimezone(self.zone), "datetime_short")}
            )
        return start

    def confirmed_outside_hours(self) -> bool:
        start = self.cleaned_data["start"]
        return self.cleaned_data.get("confirm_outside") == f"{start.astimezone(self.zone):{LOCAL_INPUT_FORMAT}}"

    def clean_capacity(self) -> int | None:
        # Checked here as well as by the service, so it is reported with the start's error.
        capacity = self.cleaned_data.get("capacity")
        most = settings.MAX_GROUP_CAPACITY
        if capacity is not None and not 1 <= capacity <= most:
            raise ValidationError(gettext("Choose between 1 and %(most)s seats.") % {"most": most})
        return capacity


class StaffFilterForm(forms.Form):
    """The staff overview's filters; a bad value is dropped, never an error page."""

    coach = forms.ModelChoiceField(
        queryset=User.objects.filter(role=Role.COACH).order_by("name"),
        required=False,
        empty_label=gettext_lazy("All coaches"),
    )
    status = forms.ChoiceField(choices=[("", gettext_lazy("Any status")), *BookingStatus.choices], required=False)
    date_from = forms.DateField(
        required=False, label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(required=False, label=gettext_lazy("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def _in_range(self, name: str) -> dt.date | None:
        # The calendar's far ends would overflow when turned into instants in a zone.
        value = self.cleaned_data.get(name)
        if value is not None and not FIRST_DAY <= value <= LAST_DAY:
            raise ValidationError(gettext("Choose a date between 1900 and 2999."))
        return value

    def clean_date_from(self) -> dt.date | None:
        return self._in_range("date_from")

    def clean_date_to(self) -> dt.date | None:
        return self._in_range("date_to")

    def clean(self) -> dict:
        cleaned = super().clean()
        first, last = cleaned.get("date_from"), cleaned.get("date_to")
        if first and last and first > last:
            # Both dates stay: no day lies between them, and the page says why.
            self.add_error(
                None,
                gettext(
                    "“From” (%(first)s) is after “To” (%(last)s), so no day is in between: swap them or change one."
                )
                % {"first": format_when(first, "date_short"), "last": format_when(last, "date_short")},
            )
        return cleaned

    def filters(self) -> dict:
        self.is_valid()  # invalid fields are simply left out of cleaned_data
        return {name: self.cleaned_data.get(name) for name in self.fields}
