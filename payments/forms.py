"""Forms of the money pages: the payments list's filters, a package, a programme, enrolling a
client, and the admin's refund. Package and programme forms ask their service to check the
fields (who may, and every field), so a refusal shows by its field before anything is saved."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import ConnectionStatus, Role, User
from bookings.models import Programme, SessionType
from bookings.services import programmes
from config.errors import DomainError
from config.money import exponent, to_major, to_minor
from payments import packages
from payments.models import Package, PaymentStatus

MAX_AMOUNT = Decimal("9999999999")


class PaymentFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *PaymentStatus.choices]
    )
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned


def _types_for(coach: User | None) -> QuerySet[SessionType]:
    types = SessionType.objects.select_related("coach").order_by("coach__name", "title")
    return types if coach is None else types.filter(coach=coach)


class _OwnedForm(forms.Form):
    """A package's or programme's fields, for ``owner`` (a coach, or None for the practice)
    written by ``actor``. On a new one, staff choose the coach (empty: the practice)."""

    coach = forms.ModelChoiceField(
        label=_("Coach"),
        queryset=User.objects.filter(role=Role.COACH, is_active=True).order_by("name", "email"),
        required=False,
        help_text=_("Leave empty for the whole practice."),
    )
    service: Any = None

    def __init__(self, *args: Any, actor: User, owner: User | None, choose_owner: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor, self.owner = actor, owner
        if not choose_owner:
            del self.fields["coach"]
        self.fields["session_types"].queryset = _types_for(None if choose_owner else owner)

    def chosen_owner(self) -> User | None:
        return self.cleaned_data.get("coach") if "coach" in self.fields else self.owner

    def service_fields(self) -> dict[str, Any]:
        raise NotImplementedError

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            self.service.check(actor=self.actor, coach=self.chosen_owner(), **self.service_fields())
        except DomainError as refusal:
            field = {"price_minor": "price"}.get(refusal.field, refusal.field)
            self.add_error(field if field in self.fields else None, refusal.message)
        return cleaned


class PackageForm(_OwnedForm):
    title = forms.CharField(label=_("Title"), max_length=120)
    credits = forms.IntegerField(label=_("Credits"), min_value=1, max_value=1000)
    price = forms.DecimalField(label=_("Price"), min_value=0, max_value=MAX_AMOUNT, decimal_places=3)
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="EUR")
    validity_days = forms.IntegerField(label=_("Valid for (days)"), min_value=1, max_value=3650, initial=365)
    session_types = forms.ModelMultipleChoiceField(
        label=_("Session types"),
        queryset=SessionType.objects.none(),
        required=False,
        help_text=_("None chosen: any session type (of the coach, for a coach's package)."),
    )
    is_active = forms.BooleanField(label=_("Offered"), required=False, initial=True)
    service = packages

    @classmethod
    def initial_for(cls, package: Package) -> dict[str, Any]:
        return {
            "title": package.title,
            "credits": package.credits,
            "price": to_major(package.price_minor, package.currency),
            "currency": package.currency,
            "validity_days": package.validity_days,
            "session_types": list(package.session_types.all()),
            "is_active": package.is_active,
        }

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].strip().upper()

    def clean(self) -> dict[str, Any]:
        price, currency = self.cleaned_data.get("price"), self.cleaned_data.get("currency")
        if price is not None and currency and price != price.quantize(Decimal(1).scaleb(-exponent(currency))):
            places = exponent(currency)
            message = _("%(currency)s has %(places)s decimals.") % {"currency": currency, "places": places}
            self.add_error("price", message)
        return super().clean()

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "credits": data["credits"],
            "price_minor": to_minor(data["price"], data["currency"]),
            "currency": data["currency"],
            "validity_days": data["validity_days"],
            "is_active": data["is_active"],
            "session_types": [item.pk for item in data.get("session_types") or []],
        }


class ProgrammeForm(_OwnedForm):
    title = forms.CharField(label=_("Title"), max_length=120)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    session_types = forms.ModelMultipleChoiceField(
        label=_("Session types included"), queryset=SessionType.objects.none()
    )
    allowance = forms.IntegerField(label=_("Sessions included"), min_value=1, max_value=1000, initial=10)
    price = forms.DecimalField(
        label=_("Price"),
        min_value=0,
        max_digits=9,
        decimal_places=2,
        initial=Decimal("0.00"),
        help_text=_("0 for a free programme."),
    )
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="EUR")
    validity_days = forms.IntegerField(label=_("Valid for (days)"), min_value=1, max_value=3650, initial=365)
    is_active = forms.BooleanField(label=_("Open for enrollment"), required=False, initial=True)
    service = programmes

    @classmethod
    def initial_for(cls, programme: Programme) -> dict[str, Any]:
        return {
            "title": programme.title,
            "description": programme.description,
            "session_types": list(programme.session_types.all()),
            "allowance": programme.allowance,
            "price": programme.price,
            "currency": programme.currency,
            "validity_days": programme.validity_days,
            "is_active": programme.is_active,
        }

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].strip().upper()

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "description": data["description"],
            "session_types": [item.pk for item in data["session_types"]],
            "allowance": data["allowance"],
            "price": data["price"],
            "currency": data["currency"],
            "validity_days": data["validity_days"],
            "is_active": data["is_active"],
        }


def clients_for(actor: User) -> QuerySet[User]:
    """Whom ``actor`` may enroll: staff anyone, a coach their connected clients."""
    clients = User.objects.filter(role=Role.CLIENT, is_active=True).order_by("name", "email")
    if actor.is_staff_member:
        return clients
    return clients.filter(coach_connections__coach=actor, coach_connections__status=ConnectionStatus.ACCEPTED)


class EnrollForm(forms.Form):
    client = forms.ModelChoiceField(label=_("Client"), queryset=User.objects.none())

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = clients_for(actor)


class RefundForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount"), min_value=Decimal("0.001"), max_value=MAX_AMOUNT, decimal_places=3, max_digits=14
    )
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.fields["amount"].help_text = _("In %(currency)s, e.g. 12.50.") % {"currency": currency}

    def clean_amount(self) -> Decimal:
        amount = self.cleaned_data["amount"]
        places = exponent(self.currency)
        if amount != amount.quantize(Decimal(1).scaleb(-places)):
            raise forms.ValidationError(
                _("%(currency)s has %(places)s decimals.") % {"currency": self.currency, "places": places}
            )
        return amount

    def amount_minor(self) -> int:
        return to_minor(self.cleaned_data["amount"], self.currency)
