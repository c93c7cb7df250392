"""The promotion-code form: it reads the inputs (numbers, dates in the viewer's zone,
choices); every rule a code keeps is the promotion-code service's (``bookings.promos``),
and its refusals are shown beside their field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from bookings.models import PromoCode, SessionType
from bookings.promos import types_for

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class TypeChoice(forms.ModelMultipleChoiceField):
    """Session types; the coach's name with each when the list holds every coach's."""

    with_coach = False

    def label_from_instance(self, obj: SessionType) -> str:
        if self.with_coach:
            return f"{obj.title} · {obj.coach.display_name}"
        return obj.title


class CoachChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


def _when(label: Any, help_text: Any) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=False,
        input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT),
        help_text=help_text,
    )


class PromoForm(forms.Form):
    """Create or edit a promotion code. ``staff`` choose whose code a new one is (empty:
    the practice's, good for every coach's types)."""

    coach = CoachChoice(
        label=_("Whose code"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("The practice's (every coach's session types)"),
    )
    code = forms.CharField(
        label=_("Code"),
        max_length=60,
        error_messages={"required": _("Give the code clients type, e.g. SPRING10.")},
        help_text=_("What clients type when they book; upper case, spaces removed."),
        widget=forms.TextInput(attrs={"autocapitalize": "characters"}),
    )
    description = forms.CharField(
        label=_("Note"), required=False, max_length=200, help_text=_("For you: what the code is for.")
    )
    percent_off = forms.IntegerField(label=_("Percentage off"), required=False, help_text=_("From 1 to 100."))
    amount_off = forms.DecimalField(
        label=_("Or an amount off"), required=False, max_digits=9, decimal_places=2, help_text=_("Give one of the two.")
    )
    currency = forms.CharField(
        label=_("Currency of the amount"),
        required=False,
        max_length=3,
        help_text=_("3-letter code, e.g. EUR: the code applies to prices in that currency."),
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "size": 4}),
    )
    valid_from = _when(_("Valid from"), _("Empty: from now on."))
    valid_until = _when(_("Valid until"), _("Empty: no end."))
    max_uses = forms.IntegerField(label=_("Uses allowed"), required=False, help_text=_("Empty: no limit."))
    session_types = TypeChoice(
        label=_("Session types"),
        queryset=SessionType.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every session type."),
    )

    def __init__(self, data: Any = None, *, actor: User, promo: PromoCode | None = None) -> None:
        initial = {}
        if promo is not None:
            initial = {
                "code": promo.code,
                "description": promo.description,
                "percent_off": promo.percent_off,
                "amount_off": promo.amount_off,
                "currency": promo.currency,
                "valid_from": promo.valid_from,
                "valid_until": promo.valid_until,
                "max_uses": promo.max_uses,
                "session_types": list(promo.session_types.values_list("pk", flat=True)),
            }
        super().__init__(data, initial=initial)
        self.promo = promo
        for name in ("percent_off", "max_uses"):
            self.fields[name].widget.attrs["min"] = 1
        self.fields["percent_off"].widget.attrs["max"] = 100
        self.fields["amount_off"].widget.attrs["min"] = 0
        field = self.fields["session_types"]
        if promo is not None or not actor.is_staff_member:
            # Whose code it is is chosen once: a coach's own, or by staff when created.
            del self.fields["coach"]
            owner = promo.coach if promo is not None else actor
            field.queryset = types_for(owner)
            field.with_coach = owner is None
        else:
            self.fields["coach"].queryset = User.objects.filter(role=Role.COACH, is_active=True).order_by("name", "pk")
            field.queryset = types_for(None)
            field.with_coach = True
            field.help_text = _(
                "None ticked: every session type (the coach's, for a coach's code). A coach's code names only "
                "their own types."
            )

    def values(self) -> dict[str, Any]:
        """The cleaned values, as the promotion-code service takes them."""
        data = {name: self.cleaned_data[name] for name in self.fields if name != "coach"}
        data["session_types"] = list(self.cleaned_data["session_types"])
        data["currency"] = data["currency"] or ""
        return data

    def show_refusal(self, field: str, message: str) -> None:
        self.add_error(field if field in self.fields else None, message)
