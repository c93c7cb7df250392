"""Forms of the room pages. They only parse what was typed; the rules (a unique name per
location, capacity 1–500, a known zone, hours that close after they open and don't
overlap, closures in order) are ``availability.rooms``'s, whose refusals ``show_refusal``
puts next to the field they are about."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from accounts.forms import TimezoneField
from availability.forms import DateInput, TimeInput
from availability.models import ResourceKind
from availability.rooms import DESCRIPTION_LENGTH, LOCATION_LENGTH, MAX_CAPACITY, NAME_LENGTH, REASON_LENGTH, Hours

TIME_INVALID = _("Enter a time as HH:MM (24-hour), for example 08:30.")
DATE_INVALID = _("Enter a date as YYYY-MM-DD, for example 2026-12-24.")

KIND_CHOICES = [
    (ResourceKind.ROOM, _("Room")),
    (ResourceKind.EQUIPMENT, _("Equipment")),
    (ResourceKind.ONLINE, _("Online room")),
]
KIND_LABELS = dict(KIND_CHOICES)


def show_refusal(form: forms.Form, field: str, message: str, *, aliases: dict[str, str] | None = None) -> None:
    """A service's refusal beside the field it names (or above the form)."""
    name = (aliases or {}).get(field, field)
    form.add_error(name if name in form.fields else None, message)


class RoomForm(forms.Form):
    """A room's or a piece of equipment's details."""

    name = forms.CharField(
        label=_("Name"),
        max_length=NAME_LENGTH,
        error_messages={"required": _("Give the room a name.")},
        help_text=_("As people will see it, e.g. “Room 2” or “Projector”."),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=KIND_CHOICES, initial=ResourceKind.ROOM)
    capacity = forms.IntegerField(
        label=_("Capacity"),
        min_value=1,
        max_value=MAX_CAPACITY,
        initial=1,
        help_text=_("How many people it holds (1 to %(max)d); a group session's seats never exceed it.")
        % {"max": MAX_CAPACITY},
        error_messages={
            "required": _("Give the number of people it holds."),
            "invalid": _("Give the capacity as a whole number."),
            "min_value": _("At least 1 person."),
            "max_value": _("Capacity is at most %(limit_value)s."),
        },
    )
    location = forms.CharField(
        label=_("Location"),
        max_length=LOCATION_LENGTH,
        required=False,
        help_text=_("Building, floor or address; two rooms of one location need different names."),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=DESCRIPTION_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": DESCRIPTION_LENGTH}),
        help_text=_("What it has: a whiteboard, a video screen, step-free access…"),
    )
    timezone = TimezoneField(
        label=_("Time zone"), help_text=_("Its opening hours and closures are read in this zone's local time.")
    )

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "kind": data["kind"],
            "capacity": data["capacity"],
            "location": data["location"],
            "description": data["description"],
            "timezone_name": data["timezone"],
        }

    def show_refusal(self, field: str, message: str) -> None:
        show_refusal(self, field, message)


class RadioChoices(forms.RadioSelect):
    """Radio buttons whose field "label" is the first button, so that the error summary's
    link goes somewhere."""

    def id_for_label(self, id_: str, index: str | None = None) -> str:
        return super().id_for_label(id_, "0" if index is None else index)


def _time_field(label: Any) -> forms.TimeField:
    return forms.TimeField(
        label=label,
        required=False,
        input_formats=["%H:%M", "%H:%M:%S"],
        widget=TimeInput(),
        error_messages={"invalid": TIME_INVALID},
    )


class HoursForm(forms.Form):
    """The weekly opening hours: a row per weekday with up to ``slots`` opening and closing
    times (blank: closed that day), or open around the clock."""

    HOURS, ALWAYS = "hours", "always"
    SLOTS = 2  # ranges a day shows (more when a day already has more)
    MAX_SLOTS = 6

    mode = forms.ChoiceField(
        label=_("Opening hours"),
        choices=[(HOURS, _("Open at these hours")), (ALWAYS, _("Open around the clock"))],
        widget=RadioChoices,
        initial=HOURS,
        error_messages={"required": _("Choose “Open at these hours” or “Open around the clock”.")},
    )

    def __init__(self, *args: Any, hours: list[Hours] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        per_day: dict[int, list[tuple[dt.time, dt.time]]] = {}
        for weekday, start, end in sorted(hours or []):
            per_day.setdefault(weekday, []).append((start, end))
        slots = max([self.SLOTS, *(len(ranges) for ranges in per_day.values())])
        if self.is_bound:
            posted = [
                i
                for i in range(1, self.MAX_SLOTS + 1)
                for d in range(7)
                if self.add_prefix(f"d{d}_opens_{i}") in self.data
            ]
            slots = max([self.SLOTS, *posted])
        self.slots = min(slots, self.MAX_SLOTS)
        for weekday in range(7):
            for i in range(1, self.slots + 1):
                # The column headings say it: opens, closes, reopens, closes.
                if i == 1:
                    opens, closes = _("%(day)s, opens"), _("%(day)s, closes")
                elif i == 2:
                    opens, closes = _("%(day)s, reopens"), _("%(day)s, closes again")
                else:
                    opens, closes = _("%(day)s, opens (range %(n)d)"), _("%(day)s, closes (range %(n)d)")
                self.fields[f"d{weekday}_opens_{i}"] = _time_field(opens % {"day": WEEKDAYS[weekday], "n": i})
                self.fields[f"d{weekday}_closes_{i}"] = _time_field(closes % {"day": WEEKDAYS[weekday], "n": i})
        if not self.is_bound:
            self.initial["mode"] = self.HOURS if per_day or hours is None else self.ALWAYS
            for weekday, ranges in per_day.items():
                for i, (start, end) in enumerate(ranges, start=1):
                    self.initial[f"d{weekday}_opens_{i}"] = start
                    self.initial[f"d{weekday}_closes_{i}"] = end

    @property
    def slot_numbers(self) -> range:
        return range(1, self.slots + 1)

    def day_rows(self) -> list[tuple[int, str, list[tuple[forms.BoundField, forms.BoundField]]]]:
        return [
            (
                weekday,
                WEEKDAYS[weekday],
                [(self[f"d{weekday}_opens_{i}"], self[f"d{weekday}_closes_{i}"]) for i in range(1, self.slots + 1)],
            )
            for weekday in range(7)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        names = [f"d{d}_{edge}_{i}" for d in range(7) for i in range(1, self.slots + 1) for edge in ("opens", "closes")]
        hours: list[Hours] = []
        if data.get("mode") == self.ALWAYS:
            # Around the clock ignores the rows, even half-typed ones.
            for name in names:
                self.errors.pop(name, None)
        elif data.get("mode") == self.HOURS:
            for weekday in range(7):
                for i in range(1, self.slots + 1):
                    opens, closes = f"d{weekday}_opens_{i}", f"d{weekday}_closes_{i}"
                    if opens in self.errors or closes in self.errors:
                        continue
                    start, end = data.get(opens), data.get(closes)
                    if start and not end:
                        self.add_error(closes, _("Enter when it closes too."))
                    elif end and not start:
                        self.add_error(opens, _("Enter when it opens too."))
                    elif start and end:
                        if end <= start:
                            self.add_error(closes, _("It closes before it opens (hours end by 23:59)."))
                        else:
                            hours.append((weekday, start, end))
            if not hours and not any(name in self.errors for name in names):
                self.add_error(
                    "d0_opens_1",
                    _("Enter the hours of at least one day, or choose “Open around the clock”."),
                )
        data["hours"] = hours
        return data

    def show_refusal(self, field: str, message: str) -> None:
        # The service names a day ("day3"): the message goes beside that day's first box.
        if field.startswith("day") and field[3:].isdigit():
            field = f"d{field[3:]}_opens_1"
        show_refusal(self, field, message, aliases={"hours": "mode"})


class ClosureForm(forms.Form):
    """Whole local days the room is closed."""

    start_date = forms.DateField(
        label=_("First day closed"),
        input_formats=["%Y-%m-%d"],
        widget=DateInput(),
        error_messages={"required": _("Enter the first day it is closed."), "invalid": DATE_INVALID},
    )
    end_date = forms.DateField(
        label=_("Last day closed"),
        input_formats=["%Y-%m-%d"],
        widget=DateInput(),
        error_messages={"required": _("Enter the last day it is closed."), "invalid": DATE_INVALID},
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=REASON_LENGTH, required=False, help_text=_("e.g. “Painting” or “Bank holiday”.")
    )

    def show_refusal(self, field: str, message: str) -> None:
        show_refusal(self, field, message)
