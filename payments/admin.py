"""The back office for money.

- Payments, their refunds and the gateway's events are records written by the payment
  services and the webhook: read-only here (nothing added, changed or deleted behind their
  back).
- Packages are written through ``payments.packages`` (the same checks as the pages: the
  coach's own session types, credits 1..1000, a price, a 3-letter currency, validity); a
  refusal shows on the form, by its field.
- The credit ledger is append-only: its entries are read-only, and staff give credits on a
  small form ("Grant credits") that calls ``payments.credits.grant``.
- Staff give money back on a payment with its "Refund" form (also the list's action): an
  amount in the payment's currency and a reason, through ``payments.services.refund``; the
  refund is sent to the gateway after the commit, and a refusal shows as a message.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from bookings.admin import ReadOnlyInline, change_link, local
from config.errors import DomainError
from config.money import display
from payments import credits, packages, services
from payments.forms import RefundForm
from payments.models import CreditEntry, CreditKind, GatewayEvent, Package, Payment, Refund


class RecordAdmin(admin.ModelAdmin):
    """Read-only for everyone: these rows are written by the payment services."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


def _link(obj: Any, label: str | None = None) -> str:
    return change_link(obj, label) if obj is not None else "—"


# ---------------------------------------------------------------------------------------
# Payments, refunds, gateway events
# ---------------------------------------------------------------------------------------


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = ["amount_minor", "status", "reason", "requested_by", "gateway_refund_id", "created"]
    readonly_fields = fields

    @admin.display(description=_("requested"))
    def created(self, obj: Refund) -> str:
        return local(obj.created_at)


@admin.register(Payment)
class PaymentAdmin(RecordAdmin):
    list_display = ["created", "client", "what", "amount", "backend", "status", "paid"]
    list_filter = ["status", "backend", "currency"]
    search_fields = ["client__email", "client__name", "booking__reference", "checkout_id", "payment_intent_id"]
    list_select_related = ["client", "booking", "package"]
    date_hierarchy = "created_at"
    inlines = [RefundInline]
    actions = ["refund_action"]
    fields = [
        "client",
        "booking_link",
        "package_link",
        "programme_link",
        "series_link",
        "shares_text",
        "refund_link",
        "backend",
        "amount",
        "status",
        "capture_manually",
        "checkout_id",
        "payment_intent_id",
        "checkout_url",
        "expires",
        "paid",
        "failure_message",
        "created",
    ]
    readonly_fields = fields

    @admin.display(description=_("for"))
    def what(self, obj: Payment) -> str:
        if obj.booking_id:
            return obj.booking.reference
        if obj.series_id:
            return gettext("Series %(id)s, up front") % {"id": obj.series_id}
        return str(obj.package) if obj.package_id else "—"

    @admin.display(description=_("amount"), ordering="amount_minor")
    def amount(self, obj: Payment) -> str:
        return display(obj.amount_minor, obj.currency)

    @admin.display(description=_("booking"))
    def booking_link(self, obj: Payment) -> str:
        return _link(obj.booking, obj.booking.reference if obj.booking_id else None)

    @admin.display(description=_("package"))
    def package_link(self, obj: Payment) -> str:
        return _link(obj.package)

    @admin.display(description=_("programme"))
    def programme_link(self, obj: Payment) -> str:
        return _link(obj.programme)

    @admin.display(description=_("series"))
    def series_link(self, obj: Payment) -> str:
        return _link(obj.series)

    @admin.display(description=_("sessions paid"))
    def shares_text(self, obj: Payment) -> str:
        """A series' up-front payment: each session's share, and what of it came back."""
        shares = obj.shares.select_related("booking").order_by("booking__reference")
        return (
            ", ".join(
                f"{share.booking.reference}: {display(share.amount_minor, obj.currency)}"
                + (
                    f" ({gettext('refunded')} {display(share.refunded_minor, obj.currency)})"
                    if share.refunded_minor
                    else ""
                )
                for share in shares
            )
            or "—"
        )

    @admin.display(description=_("refund"))
    def refund_link(self, obj: Payment) -> str:
        left = obj.amount_minor - services.refunded_minor(obj)
        if obj.status not in services.COLLECTED or left <= 0:
            return gettext("Nothing left to refund.")
        url = reverse("admin:payments_payment_refund", args=[obj.pk])
        return format_html(
            '<a class="button" href="{}">{}</a> {}',
            url,
            gettext("Refund"),
            gettext("(up to %(left)s)") % {"left": display(left, obj.currency)},
        )

    @admin.display(description=_("created"), ordering="created_at")
    def created(self, obj: Payment) -> str:
        return local(obj.created_at)

    @admin.display(description=_("paid at"), ordering="paid_at")
    def paid(self, obj: Payment) -> str:
        return local(obj.paid_at)

    @admin.display(description=_("checkout expires at"))
    def expires(self, obj: Payment) -> str:
        return local(obj.expires_at)

    # Refunds ---------------------------------------------------------------------------

    def has_refund_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff_member)

    @admin.action(description=_("Refund the selected payment…"), permissions=["refund"])
    def refund_action(self, request: HttpRequest, queryset) -> HttpResponse | None:
        chosen = list(queryset.values_list("pk", flat=True)[:2])
        if len(chosen) != 1:
            self.message_user(request, gettext("Choose one payment to refund."), messages.WARNING)
            return None
        return HttpResponseRedirect(reverse("admin:payments_payment_refund", args=[chosen[0]]))

    def get_urls(self):
        urls = [
            path(
                "<int:pk>/refund/",
                self.admin_site.admin_view(self.refund_view),
                name="payments_payment_refund",
            )
        ]
        return urls + super().get_urls()

    def refund_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_refund_permission(request):
            raise PermissionDenied
        payment = Payment.objects.select_related("client", "booking", "package", "programme").filter(pk=pk).first()
        if payment is None:
            self.message_user(request, gettext("There is no payment with the id %(id)s.") % {"id": pk}, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:payments_payment_changelist"))
        change_url = reverse("admin:payments_payment_change", args=[payment.pk])
        form = RefundForm(request.POST or None, currency=payment.currency)
        if request.method == "POST" and form.is_valid():
            try:
                refund = services.refund(
                    payment=payment,
                    amount_minor=form.amount_minor(),
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                )
            except DomainError as refusal:
                self.message_user(request, refusal.message, messages.ERROR)
            else:
                if refund is None:
                    self.message_user(request, gettext("Nothing is left to refund on this payment."), messages.ERROR)
                else:
                    self.message_user(
                        request,
                        gettext("A refund of %(amount)s was asked of the payment provider.")
                        % {"amount": display(refund.amount_minor, payment.currency)},
                        messages.SUCCESS,
                    )
                return HttpResponseRedirect(change_url)
        left = payment.amount_minor - services.refunded_minor(payment)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Refund a payment"),
            "payment": payment,
            "change_url": change_url,
            "amount": display(payment.amount_minor, payment.currency),
            "left": display(max(left, 0), payment.currency),
            "form": form,
        }
        return TemplateResponse(request, "payments/manage/admin_refund.html", context)


@admin.register(Refund)
class RefundAdmin(RecordAdmin):
    list_display = ["created", "payment_link", "amount_minor", "status", "requested_by"]
    list_filter = ["status"]
    search_fields = ["payment__client__email", "payment__booking__reference", "gateway_refund_id", "reason"]
    list_select_related = ["payment", "requested_by"]
    fields = ["payment_link", "amount_minor", "reason", "status", "gateway_refund_id", "requested_by", "created"]
    readonly_fields = fields

    @admin.display(description=_("payment"))
    def payment_link(self, obj: Refund) -> str:
        return _link(obj.payment)

    @admin.display(description=_("requested"), ordering="created_at")
    def created(self, obj: Refund) -> str:
        return local(obj.created_at)


@admin.register(GatewayEvent)
class GatewayEventAdmin(RecordAdmin):
    list_display = ["received", "backend", "type", "event_id", "processed"]
    list_filter = ["backend", "type"]
    search_fields = ["event_id", "type"]
    fields = ["backend", "event_id", "type", "payload", "received", "processed"]
    readonly_fields = fields

    @admin.display(description=_("received"), ordering="received_at")
    def received(self, obj: GatewayEvent) -> str:
        return local(obj.received_at)

    @admin.display(description=_("processed"), ordering="processed_at")
    def processed(self, obj: GatewayEvent) -> str:
        return local(obj.processed_at)


# ---------------------------------------------------------------------------------------
# Packages
# ---------------------------------------------------------------------------------------

PACKAGE_FIELDS = ("title", "credits", "price_minor", "currency", "validity_days", "is_active")


class PackageForm(forms.ModelForm):
    """The package's fields, checked by ``payments.packages`` (who may, and every field) so a
    refusal shows on the form by its field; the admin saves through the same service."""

    request: HttpRequest

    class Meta:
        model = Package
        fields = ["coach", *PACKAGE_FIELDS, "session_types"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "coach" in self.fields:
            self.fields["coach"].queryset = User.objects.filter(role=Role.COACH).order_by("name", "email")
            self.fields["coach"].help_text = _("Leave empty for a package of the whole practice.")
        if "session_types" in self.fields:
            self.fields["session_types"].help_text = _(
                "None chosen: any session type (of the coach, for a coach's package)."
            )

    def service_fields(self) -> dict[str, Any]:
        data = {name: self.cleaned_data.get(name) for name in PACKAGE_FIELDS if name in self.cleaned_data}
        data["session_types"] = [item.pk for item in self.cleaned_data.get("session_types") or []]
        return data

    def owner(self) -> User | None:
        return self.instance.coach if self.instance.pk else self.cleaned_data.get("coach")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            packages.check(actor=self.request.user, coach=self.owner(), **self.service_fields())
        except DomainError as refusal:
            field = refusal.field if refusal.field in self.fields else None
            self.add_error(field, refusal.message)
        return cleaned


@admin.register(Package)
class PackageAdmin(admin.ModelAdmin):
    form = PackageForm
    list_display = ["title", "coach", "credits", "price", "validity_days", "is_active"]
    list_filter = ["is_active", "currency"]
    search_fields = ["title", "coach__email", "coach__name"]
    list_select_related = ["coach"]
    filter_horizontal = ["session_types"]

    @admin.display(description=_("price"), ordering="price_minor")
    def price(self, obj: Package) -> str:
        return display(obj.price_minor, obj.currency)

    def get_readonly_fields(self, request: HttpRequest, obj: Package | None = None) -> list[str]:
        return ["coach"] if obj is not None else []  # a package's owner never changes

    def get_form(self, request: HttpRequest, obj: Package | None = None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request = request
        return form

    def formfield_for_manytomany(self, db_field, request: HttpRequest, **kwargs: Any):
        if db_field.name == "session_types":
            kwargs["queryset"] = db_field.related_model.objects.select_related("coach").order_by("coach__name", "title")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Package, form: PackageForm, change: bool) -> None:
        fields = form.service_fields()
        if change:
            saved = packages.update_package(actor=request.user, package=obj, **fields)
        else:
            saved = packages.create_package(actor=request.user, coach=form.cleaned_data.get("coach"), **fields)
        obj.pk = saved.pk
        obj.refresh_from_db()

    def save_related(self, request: HttpRequest, form: PackageForm, formsets: Any, change: bool) -> None:
        """The service wrote the session types already."""


# ---------------------------------------------------------------------------------------
# The credit ledger
# ---------------------------------------------------------------------------------------


class GrantForm(forms.Form):
    client = forms.ModelChoiceField(
        label=_("Client"), queryset=User.objects.filter(role=Role.CLIENT).order_by("name", "email")
    )
    credits = forms.IntegerField(label=_("Credits"), min_value=1, max_value=credits.MAX_GRANT)
    package = forms.ModelChoiceField(
        label=_("Package"),
        queryset=Package.objects.select_related("coach"),
        required=False,
        help_text=_("Optional: the credits then pay only for its session types, and expire after its validity."),
    )
    expires_at = forms.DateTimeField(
        label=_("Expires at"),
        required=False,
        help_text=_("In your time zone. Empty: the package's validity, or never without a package."),
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


@admin.register(CreditEntry)
class CreditEntryAdmin(RecordAdmin):
    list_display = ["created", "client", "kind", "amount", "grant_link", "package", "booking_ref", "expires", "by"]
    list_filter = ["kind"]
    search_fields = ["client__email", "client__name", "booking__reference", "note"]
    list_select_related = ["client", "package", "booking", "created_by", "grant"]
    fields = ["client", "kind", "amount", "grant_link", "package", "booking_ref", "expires", "note", "by", "created"]
    readonly_fields = fields

    @admin.display(description=_("from grant"))
    def grant_link(self, obj: CreditEntry) -> str:
        return _link(obj.grant, f"#{obj.grant_id}" if obj.grant_id else None)

    @admin.display(description=_("booking"))
    def booking_ref(self, obj: CreditEntry) -> str:
        return _link(obj.booking, obj.booking.reference if obj.booking_id else None)

    @admin.display(description=_("expires"), ordering="expires_at")
    def expires(self, obj: CreditEntry) -> str:
        return local(obj.expires_at) if obj.kind == CreditKind.GRANT else "—"

    @admin.display(description=_("by"))
    def by(self, obj: CreditEntry) -> str:
        return str(obj.created_by) if obj.created_by_id else "—"

    @admin.display(description=_("created"), ordering="created_at")
    def created(self, obj: CreditEntry) -> str:
        return local(obj.created_at)

    def has_grant_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff_member)

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        extra_context = {**(extra_context or {}), "can_grant": self.has_grant_permission(request)}
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        urls = [
            path(
                "grant/",
                self.admin_site.admin_view(self.grant_view),
                name="payments_creditentry_grant",
            )
        ]
        return urls + super().get_urls()

    def grant_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_grant_permission(request):
            raise PermissionDenied
        form = GrantForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                entry = credits.grant(
                    data["client"],
                    credits=data["credits"],
                    package=data["package"],
                    expires_at=data["expires_at"],
                    note=data["note"],
                    actor=request.user,
                )
            except DomainError as refusal:
                form.add_error(refusal.field if refusal.field in form.fields else None, refusal.message)
            else:
                self.message_user(
                    request,
                    gettext("%(credits)s credits given to %(client)s.")
                    % {"credits": entry.amount, "client": entry.client},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:payments_creditentry_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Grant credits"),
            "form": form,
        }
        return TemplateResponse(request, "admin/payments/creditentry/grant.html", context)
