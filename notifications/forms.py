"""The notification settings form: channels per kind, and which session reminders."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext, pgettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from notifications import preferences
from notifications.messages import span_text
from notifications.models import Kind, NotificationSettings

USUAL, OWN = "usual", "own"

# One line per kind: when it is sent. A coach sees both the coach's and the client's kinds,
# staff the ones they monitor, so some lines depend on who reads them.
_WHEN: dict[str, dict[str, Promise | str]] = {
    Kind.BOOKING_CREATED: {
        Role.CLIENT: _("When a session you book goes through, or your request is sent."),
        Role.COACH: _("When a client books one of your sessions, or you book one yourself."),
        Role.STAFF: _("When anyone books a session."),
    },
    Kind.REQUEST_RECEIVED: {"": _("When a client asks for a time that needs your approval.")},
    Kind.CONFIRMED: {
        Role.CLIENT: _("When a coach approves your request."),
        Role.COACH: _("When a client accepts a time you suggested, or a coach approves your request."),
    },
    Kind.DECLINED: {"": _("When a coach declines your request, or it expires unanswered.")},
    Kind.ALTERNATIVES_SUGGESTED: {"": _("When a coach suggests other times for your request.")},
    Kind.INFORMATION_REQUESTED: {"": _("When a coach asks you for more details before approving.")},
    Kind.INFORMATION_GIVEN: {"": _("When a client answers your question about their request.")},
    Kind.CANCELLED: {
        Role.CLIENT: _("When the other side cancels a booking."),
        Role.COACH: _("When the other side cancels a booking."),
        Role.STAFF: _("When a booking is cancelled, by anyone."),
    },
    Kind.RESCHEDULED: {
        Role.CLIENT: _("When a booking moves to another time."),
        Role.COACH: _("When a booking moves to another time."),
        Role.STAFF: _("When a booking moves to another time, by anyone."),
    },
    Kind.SESSION_REMINDER: {"": _("Before each session, at the times you pick below.")},
    Kind.CANCELLATION_WINDOW: {"": ""},  # ``when_sent`` says it, with the number of hours
    Kind.SESSION_LIMIT_WARNING: {"": _("When a day or week is one session away from your limit, or at it.")},
    Kind.FEEDBACK_REQUEST: {"": _("After a session, asking how it went.")},
    Kind.PAYMENT_RECEIVED: {"": _("A receipt when a booking, a package of credits or a programme is paid.")},
    Kind.PAYMENT_FAILED: {"": _("When a payment for a booking does not go through, with a link to try again.")},
    Kind.PAYMENT_EXPIRED: {"": _("When the time to pay for a booking ran out and its place was released.")},
    Kind.PAYMENT_REFUNDED: {"": _("When money you paid is refunded.")},
    Kind.PAYMENT_DUE: {"": _("Before the balance of a booking paid by deposit is due, and on the day.")},
    Kind.WAITLIST_OFFER: {"": _("When a seat you wait for frees and is held for you to accept.")},
    Kind.WAITLIST_EXPIRED: {"": _("When a seat held for you was not accepted in time and went to the next person.")},
    Kind.WAITLIST_POSITION: {"": _("When you move up to one of the first three places on a waitlist.")},
    Kind.WORKSHOP_CONFIRMED: {"": _("When a workshop you booked has enough participants and is confirmed.")},
    Kind.MATERIAL_AVAILABLE: {"": _("When the coach shares material for a group session or workshop you booked.")},
    Kind.CALENDAR_CLASH: {"": _("When an event of a calendar you connected overlaps a session already booked.")},
    Kind.WEBHOOK_DISABLED: {"": _("When a webhook you added is disabled because its deliveries kept failing.")},
    Kind.INTAKE_ANSWERS: {
        "": _("When a client sends their answers to one of your intake forms (a link, never the answers).")
    },
}


def _role(user: User) -> str:
    if user.is_superuser or user.role == Role.STAFF:
        return Role.STAFF
    return user.role


def when_sent(user: User, kind: str) -> str:
    if kind == Kind.CANCELLATION_WINDOW:
        hours = settings.NOTIFICATION_CANCELLATION_WARNING_HOURS
        return ngettext(
            "%(hours)d hour before free cancellation of a booking ends.",
            "%(hours)d hours before free cancellation of a booking ends.",
            hours,
        ) % {"hours": hours}
    lines = _WHEN.get(kind, {})
    return str(lines.get(_role(user)) or lines.get("") or lines.get(Role.CLIENT, ""))


def is_staff_side(user: User, kind: str) -> bool:
    """Staff hear about what they monitor as staff (in-app only unless they choose)."""
    return _role(user) == Role.STAFF and kind in preferences.KINDS_BY_ROLE[Role.STAFF]


def span_label(minutes: int) -> str:
    """1440 → “24 hours”; the settings page's own wording when it has one."""
    for value, span in preferences.REMINDER_CHOICES:
        if value == minutes:
            return str(span)
    return span_text(dt.timedelta(minutes=minutes))


def lead_label(minutes: int) -> str:
    """1440 → “24 hours before”."""
    return gettext("%(span)s before") % {"span": span_label(minutes)}


def usual_minutes() -> list[int]:
    return sorted({int(m) for m in settings.NOTIFICATION_REMINDER_MINUTES if int(m) > 0}, reverse=True)


def usual_text() -> str:
    labels = [span_label(m) for m in usual_minutes()]
    if not labels:
        return pgettext("no reminders", "none")
    if len(labels) == 1:
        joined = labels[0]
    else:
        joined = gettext("%(spans)s and %(last)s") % {"spans": ", ".join(labels[:-1]), "last": labels[-1]}
    return gettext("%(span)s before") % {"span": joined}


class ChannelsField(forms.Field):
    """The channels ticked for one kind. Values that are not channels are dropped, not
    refused: only a hand-made request sends them."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> list[str]:
        if not value:
            return []
        if isinstance(value, str):
            value = [value]
        picked = {str(item) for item in value}
        return [channel for channel in preferences.ALL_CHANNELS if channel in picked]


class NotificationSettingsForm(forms.Form):
    """One field per kind the person hears about (``ch_<kind>``), the reminder mode
    (the usual ones, or their own) and their own lead times."""

    reminders_mode = forms.ChoiceField(
        choices=[(USUAL, _("The usual reminders")), (OWN, _("My own"))],
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose the usual reminders or your own."),
            "invalid_choice": _("Choose the usual reminders or your own."),
        },
    )
    reminders = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": _("Pick reminder times from the list."),
            "invalid_list": _("Pick reminder times from the list."),
        },
    )

    def __init__(self, *args: Any, user: User, choices: NotificationSettings | None = None, **kwargs: Any) -> None:
        self.user = user
        self.kinds = preferences.kinds_for(user)
        own = None if choices is None else choices.reminder_minutes
        own_minutes = [int(m) for m in own if str(m).lstrip("-").isdigit()] if own is not None else None
        kwargs.setdefault(
            "initial",
            {
                "reminders_mode": USUAL if own_minutes is None else OWN,
                "reminders": [str(m) for m in (usual_minutes() if own_minutes is None else own_minutes)],
                **{
                    self.field_name(kind): preferences.chosen_channels(
                        user, kind, choices, as_staff=is_staff_side(user, kind)
                    )
                    for kind in self.kinds
                },
            },
        )
        super().__init__(*args, **kwargs)
        # The page's lead times, plus any the settings or the person's old choice add.
        offered = {value for value, _ in preferences.REMINDER_CHOICES} | set(usual_minutes()) | set(own_minutes or [])
        self.fields["reminders"].choices = [
            (str(m), lead_label(m)) for m in sorted((m for m in offered if m > 0), reverse=True)
        ]
        for kind in self.kinds:
            self.fields[self.field_name(kind)] = ChannelsField(label=Kind(kind).label)

    @staticmethod
    def field_name(kind: str) -> str:
        return f"ch_{kind}"

    def channel_choices(self) -> dict[str, list[str]]:
        """The kinds whose channels differ from the defaults: those are stored, the others
        keep following the product's defaults (``NOTIFICATION_METHOD``)."""
        changed = {}
        for kind in self.kinds:
            picked = self.cleaned_data.get(self.field_name(kind), [])
            if picked != preferences.default_channels(self.user, kind, as_staff=is_staff_side(self.user, kind)):
                changed[kind] = picked
        return changed

    def reminder_choice(self) -> list[int] | None:
        if self.cleaned_data["reminders_mode"] == USUAL:
            return None
        return sorted({int(m) for m in self.cleaned_data["reminders"]}, reverse=True)

    def picked(self, kind: str) -> list[str]:
        """The channels to show ticked: what was sent back, else the current choice."""
        name = self.field_name(kind)
        if self.is_bound:
            return self.fields[name].to_python(self.data.getlist(self.add_prefix(name)))
        return self.initial.get(name, [])

    def picked_minutes(self) -> set[str]:
        if self.is_bound:
            return set(self.data.getlist(self.add_prefix("reminders")))
        return set(self.initial.get("reminders", []))

    def picked_mode(self) -> str:
        if self.is_bound:
            return self.data.get(self.add_prefix("reminders_mode"), "")
        return self.initial.get("reminders_mode", USUAL)
