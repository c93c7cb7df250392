"""The coach's session-type form: it reads the inputs (numbers, choices, reminders); every
rule a type keeps is the session-type service's (``bookings.services.session_types``), the
same the API and the admin run, and its refusals are shown beside their field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import CoachProfile, Role, Subject, User
from availability.models import Resource
from bookings.models import HostMode, SessionType, VideoProvider
from bookings.services.session_types import SESSION_TYPE_FIELDS
from bookings.video import default_video, rooms_enabled

USUAL, OWN = "usual", "own"

# Reminder lead times a coach can pick, in minutes.
REMINDER_CHOICES: tuple[tuple[int, Any], ...] = (
    (10080, _("1 week before")),
    (2880, _("2 days before")),
    (1440, _("1 day before")),
    (240, _("4 hours before")),
    (120, _("2 hours before")),
    (60, _("1 hour before")),
    (30, _("30 minutes before")),
    (10, _("10 minutes before")),
)

# The coach's setting each blank rule field follows (shown as the field's placeholder).
FOLLOWS = {
    "buffer_before_minutes": "buffer_before_minutes",
    "buffer_after_minutes": "buffer_after_minutes",
    "minimum_notice_hours": "minimum_notice_hours",
    "booking_window_days": "booking_window_days",
    "cancellation_notice_hours": "cancellation_notice_hours",
}

FORM_FIELDS = [name for name in SESSION_TYPE_FIELDS if name != "reminder_minutes"]
# The type's lists, chosen with checkboxes and written by the service with the type.
LIST_FIELDS = ("co_hosts", "resources")

HOST_CHOICES = [
    (HostMode.SINGLE, _("Just me")),
    (HostMode.ALL, _("Me and my co-hosts together")),
    (HostMode.ANY, _("Any one of a team (round robin)")),
]


class CoachChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


class RoomChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Resource) -> str:
        place = f" · {obj.location}" if obj.location else ""
        return str(
            _("%(name)s (%(kind)s, holds %(capacity)s)%(place)s")
            % {"name": obj.name, "kind": obj.get_kind_display().lower(), "capacity": obj.capacity, "place": place}
        )


def minutes_label(minutes: int) -> str:
    for value, label in REMINDER_CHOICES:
        if value == minutes:
            return str(label)
    if minutes % 1440 == 0:
        return str(_("%(n)s days before") % {"n": minutes // 1440})
    if minutes % 60 == 0:
        return str(_("%(n)s hours before") % {"n": minutes // 60})
    return str(_("%(n)s minutes before") % {"n": minutes})


class SessionTypeForm(forms.ModelForm):
    """Create or edit one of the coach's own session types."""

    # A missing title or currency gets the service's words (the API's too).
    title = forms.CharField(
        label=_("Title"),
        max_length=120,
        error_messages={"required": _("Give the session type a title.")},
        help_text=_("What clients see first, e.g. “Intro call”."),
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 5000}),
        help_text=_("What the session is for and how to prepare."),
    )
    duration_minutes = forms.IntegerField(label=_("Length (minutes)"), widget=forms.NumberInput(attrs={"step": 5}))
    capacity = forms.IntegerField(
        label=_("Seats"), required=False, help_text=_("For group sessions and workshops; a one-on-one has 1.")
    )
    price = forms.DecimalField(label=_("Price"), decimal_places=2, max_digits=9, help_text=_("0 for a free session."))
    currency = forms.CharField(
        label=_("Currency"),
        max_length=3,
        error_messages={"required": _("Give the currency as a 3-letter ISO 4217 code, e.g. EUR.")},
        help_text=_("3-letter code, e.g. EUR, USD, INR."),
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "size": 4}),
    )
    location = forms.CharField(
        label=_("Address"), required=False, max_length=200, help_text=_("For sessions in person.")
    )
    video = forms.ChoiceField(
        label=_("Video call"),
        required=False,
        widget=forms.RadioSelect,
        help_text=_(
            "For online and hybrid sessions. A private room: each session gets its own unguessable link on the "
            "site's video server, so no client ever lands in another's session. A fixed link: every session of "
            "this type uses the link below (one room for all your clients). Only the session's client(s), its "
            "hosts and staff see it, once booked."
        ),
    )
    meeting_link = forms.URLField(
        label=_("Your fixed link"),
        required=False,
        assume_scheme="https",
        help_text=_("With “My own fixed link”: your personal video room, e.g. https://zoom.us/j/…"),
    )
    resource_kind = forms.ChoiceField(
        label=_("Room or equipment"),
        required=False,
        choices=[
            ("", _("Nothing to reserve")),
            ("room", _("A room")),
            ("equipment", _("Equipment")),
            ("online", _("An online room")),
        ],
        help_text=_("A free one is reserved with every session."),
    )
    approval = forms.ChoiceField(
        label=_("Approval"),
        choices=[
            ("coach", _("Follow my booking settings")),
            ("always", _("Every booking is a request I approve")),
            ("never", _("Clients always book at once")),
        ],
    )
    buffer_before_minutes = forms.IntegerField(label=_("Break before (minutes)"), required=False)
    buffer_after_minutes = forms.IntegerField(label=_("Break after (minutes)"), required=False)
    minimum_notice_hours = forms.IntegerField(label=_("Minimum notice (hours)"), required=False)
    booking_window_days = forms.IntegerField(label=_("Bookable up to (days ahead)"), required=False)
    cancellation_notice_hours = forms.IntegerField(label=_("Free cancellation up to (hours before)"), required=False)
    is_active = forms.BooleanField(
        label=_("Offered to clients"),
        required=False,
        help_text=_("Untick to archive it: clients can't book it; sessions already booked go ahead."),
    )
    allow_late_cancellation = forms.BooleanField(
        label=_("Let clients cancel later than that (marked late)"), required=False
    )
    late_cancellation_refund_percent = forms.IntegerField(
        label=_("Refund on a late cancellation (%)"),
        min_value=0,
        max_value=100,
        initial=0,
        required=False,
        help_text=_("The share of what the client paid that comes back when they cancel late (when payments are on)."),
    )

    early_bird_price = forms.DecimalField(
        label=_("Early-bird price"),
        required=False,
        decimal_places=2,
        max_digits=9,
        help_text=_("Group sessions and workshops: a lower price for booking early. Empty: none."),
    )
    early_bird_days = forms.IntegerField(
        label=_("Early bird until (days before)"),
        required=False,
        help_text=_("The early-bird price applies to bookings made at least this many days before the session."),
    )
    deposit = forms.DecimalField(
        label=_("Deposit"),
        required=False,
        decimal_places=2,
        max_digits=9,
        help_text=_("Group sessions and workshops: paid at booking, the rest later. Empty: paid in full."),
    )
    balance_due_days = forms.IntegerField(
        label=_("Balance due (days before)"),
        required=False,
        help_text=_("With a deposit: the rest is due this many days before the session."),
    )
    requires_enrollment = forms.BooleanField(
        label=_("Enrolled clients only"),
        required=False,
        help_text=_("Only clients enrolled in a programme that includes this type can book it."),
    )

    series_discount_percent = forms.IntegerField(
        label=_("Series paid up front: discount (%)"),
        min_value=0,
        max_value=100,
        initial=0,
        required=False,
        help_text=_(
            "One-on-one: a client who pays for the remaining sessions of a series at once gets this much off "
            "(when payments are on)."
        ),
    )

    max_waitlist_size = forms.IntegerField(
        label=_("Waitlist size"),
        min_value=0,
        max_value=1000,
        required=False,
        help_text=_(
            "Group sessions and workshops: how many may wait for a seat when a session is full (0: no waitlist)."
        ),
    )

    min_participants = forms.IntegerField(
        label=_("Minimum participants"),
        min_value=1,
        max_value=1000,
        required=False,
        help_text=_("Workshops: called off (everyone told and refunded) below this at the deadline. Empty: none."),
    )
    confirm_hours_before = forms.IntegerField(
        label=_("Confirmation deadline (hours before)"),
        min_value=0,
        max_value=24 * 60,
        required=False,
        help_text=_("Workshops with a minimum: confirmed or called off this long before the start."),
    )

    def clean_confirm_hours_before(self) -> int:
        value = self.cleaned_data.get("confirm_hours_before")
        return self.instance.confirm_hours_before if value is None else value

    def clean_late_cancellation_refund_percent(self) -> int:
        return self.cleaned_data.get("late_cancellation_refund_percent") or 0

    def clean_series_discount_percent(self) -> int:
        return self.cleaned_data.get("series_discount_percent") or 0

    def clean_balance_due_days(self) -> int:
        # Blank keeps what the type has (7 days for a new one).
        value = self.cleaned_data.get("balance_due_days")
        return self.instance.balance_due_days if value is None else value

    reminders_mode = forms.ChoiceField(
        label=_("Reminders"),
        choices=[(USUAL, _("The usual reminders (each person's own choice)")), (OWN, _("These reminders"))],
        widget=forms.RadioSelect,
        initial=USUAL,
    )
    reminders = forms.TypedMultipleChoiceField(
        label=_("Reminder times"), required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    host_mode = forms.ChoiceField(
        label=_("Hosts"), choices=HOST_CHOICES, required=False, widget=forms.RadioSelect, initial=HostMode.SINGLE
    )
    co_hosts = CoachChoice(
        label=_("Co-hosts or team"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Together: every one of them hosts each session with you. A team: each session is hosted by one of "
            "you, whoever is free, in turn."
        ),
    )
    required_subject = forms.ModelChoiceField(
        label=_("Subject required"),
        queryset=Subject.objects.order_by("name"),
        required=False,
        empty_label=_("No subject required"),
        help_text=_("Hosts must declare it in their subjects; in a team, only those who do are offered."),
    )
    resources = RoomChoice(
        label=_("Rooms allowed"),
        queryset=Resource.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: any free one of the kind above. A group's seats must fit in each room."),
    )

    class Meta:
        model = SessionType
        fields = FORM_FIELDS
        labels = {"kind": _("Kind"), "modality": _("Online or in person")}

    def __init__(self, *args: Any, profile: CoachProfile | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        own = self.instance.reminder_minutes if self.instance.pk else None
        offered = {value for value, _label in REMINDER_CHOICES} | set(own or [])
        self.fields["reminders"].choices = [(m, minutes_label(m)) for m in sorted(offered, reverse=True)]
        if not self.is_bound:
            self.initial["reminders_mode"] = USUAL if own is None else OWN
            self.initial["reminders"] = own or []
        self.fields["kind"].help_text = _("A one-on-one is booked in your free times; you publish group sessions.")
        # A private room per session only on a site with a video server (a type that has it keeps it shown).
        self.fields["video"].choices = [
            (value, label)
            for value, label in VideoProvider.choices
            if value != VideoProvider.ROOMS or rooms_enabled() or self.instance.video == VideoProvider.ROOMS
        ]
        if not self.is_bound and self.instance.pk is None:
            self.initial["video"] = default_video(modality=self.instance.modality or "online")
        for name, setting in FOLLOWS.items():
            field = self.fields[name]
            field.widget.attrs["min"] = 0
            if profile is not None:
                field.widget.attrs["placeholder"] = str(getattr(profile, setting))
            field.help_text = _("Blank: your booking settings.")
        for name in ("duration_minutes", "capacity", "price", "early_bird_price", "deposit", "balance_due_days"):
            self.fields[name].widget.attrs["min"] = 0
        self.fields["early_bird_days"].widget.attrs["min"] = 1
        self.fields["max_waitlist_size"].widget.attrs.update(min=0, placeholder=str(settings.MAX_WAITLIST_SIZE))
        coach_id = self.instance.coach_id
        stored = self.instance.pk is not None
        # Other active coaches, and any chosen before who no longer are (kept until unticked).
        coaches = Q(role=Role.COACH, is_active=True)
        rooms = Q(is_active=True)
        if stored:
            coaches |= Q(pk__in=self.instance.co_hosts.values("pk"))
            rooms |= Q(pk__in=self.instance.resources.values("pk"))
        self.fields["co_hosts"].queryset = User.objects.filter(coaches).exclude(pk=coach_id).order_by("name", "pk")
        self.fields["resources"].queryset = Resource.objects.filter(rooms).order_by("kind", "name", "pk")
        if not self.is_bound:
            self.initial["host_mode"] = self.instance.host_mode or HostMode.SINGLE
            if stored:
                self.initial["co_hosts"] = list(self.instance.co_hosts.values_list("pk", flat=True))
                self.initial["resources"] = list(self.instance.resources.values_list("pk", flat=True))

    def _post_clean(self) -> None:
        """No model validation here: the service checks the type as it will be saved (the
        model's own rules included), so each refusal reads the same as in the API."""

    def values(self) -> dict[str, Any]:
        """The cleaned values, as the session-type service takes them."""
        data = {name: self.cleaned_data[name] for name in FORM_FIELDS}
        data["resource_kind"] = data["resource_kind"] or ""
        # Not chosen: a new type's default (its link, else a room when online), a stored one's as it is.
        data["video"] = data["video"] or None
        data["host_mode"] = data["host_mode"] or HostMode.SINGLE
        # "Just me" keeps no co-hosts, whatever stays ticked below it.
        data["co_hosts"] = [] if data["host_mode"] == HostMode.SINGLE else list(self.cleaned_data["co_hosts"])
        data["resources"] = list(self.cleaned_data["resources"])
        data["reminder_minutes"] = (
            None if self.cleaned_data["reminders_mode"] == USUAL else self.cleaned_data["reminders"]
        )
        return data

    def show_refusal(self, field: str, message: str) -> None:
        name = "reminders" if field == "reminder_minutes" else field
        self.add_error(name if name in self.fields else None, message)
