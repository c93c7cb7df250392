"""The back office for promotion codes, programmes and enrollments.

Each is written through its service, the same checks as the pages: ``bookings.promos`` for
codes (``times_used`` is counted by bookings, read-only here), ``bookings.services.programmes``
for programmes, ``bookings.services.enrollment`` for enrolling (staff, from now for the
programme's validity) and ending an enrollment (an action). The write happens when the form
is checked, inside the admin's transaction, so a refusal shows on the form by its field.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from bookings import promos
from bookings.models import Enrollment, EnrollmentSource, Programme, PromoCode
from bookings.services import programmes
from bookings.services.enrollment import end_enrollment, enroll, sessions_left
from config import money
from config.errors import DomainError


class ServiceForm(forms.ModelForm):
    """A model form whose ``write()`` calls the service when the form is checked; the admin's
    ``save_model`` then only picks up what was written."""

    request: HttpRequest
    written: Any = None

    def write(self, actor: User) -> Any:
        raise NotImplementedError

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            self.written = self.write(self.request.user)
        except DomainError as refusal:
            self.add_error(refusal.field if refusal.field in self.fields else None, refusal.message)
        # The service checked uniqueness and the constraints; the row it wrote must not
        # count against itself.
        self._validate_unique = False
        return cleaned


class ServiceAdmin(admin.ModelAdmin):
    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request = request
        return form

    def save_model(self, request: HttpRequest, obj: Any, form: ServiceForm, change: bool) -> None:
        obj.pk = form.written.pk
        obj.refresh_from_db()

    def save_related(self, request: HttpRequest, form: ServiceForm, formsets: Any, change: bool) -> None:
        """The service wrote the many-to-many fields already."""


def _coach_field(form: forms.ModelForm) -> None:
    if "coach" in form.fields:
        form.fields["coach"].queryset = User.objects.filter(role=Role.COACH).order_by("name", "email")
        form.fields["coach"].help_text = _("Leave empty for the whole practice.")


# ---------------------------------------------------------------------------------------
# Promotion codes
# ---------------------------------------------------------------------------------------


class PromoCodeForm(ServiceForm):
    class Meta:
        model = PromoCode
        fields = ["coach", *promos.PROMO_FIELDS]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _coach_field(self)

    def write(self, actor: User) -> PromoCode:
        data = {name: self.cleaned_data.get(name) for name in promos.PROMO_FIELDS if name in self.cleaned_data}
        data["session_types"] = list(self.cleaned_data.get("session_types") or [])
        if self.instance.pk:
            return promos.update_promo(promo=self.instance, actor=actor, **data)
        return promos.create_promo(actor=actor, coach=self.cleaned_data.get("coach"), **data)


@admin.register(PromoCode)
class PromoCodeAdmin(ServiceAdmin):
    form = PromoCodeForm
    list_display = ["code", "coach", "discount", "valid_from", "valid_until", "times_used", "max_uses", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "description", "coach__email", "coach__name"]
    list_select_related = ["coach"]
    filter_horizontal = ["session_types"]

    @admin.display(description=_("discount"))
    def discount(self, obj: PromoCode) -> str:
        if obj.percent_off is not None:
            return f"{obj.percent_off} %"
        return money.display_major(obj.amount_off, obj.currency).strip()

    def get_readonly_fields(self, request: HttpRequest, obj: PromoCode | None = None) -> list[str]:
        return ["coach", "times_used"] if obj is not None else ["times_used"]

    def formfield_for_manytomany(self, db_field, request: HttpRequest, **kwargs: Any):
        if db_field.name == "session_types":
            kwargs["queryset"] = promos.types_for(None)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


# ---------------------------------------------------------------------------------------
# Programmes
# ---------------------------------------------------------------------------------------


class ProgrammeAdminForm(ServiceForm):
    class Meta:
        model = Programme
        fields = ["coach", *programmes.FIELDS]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _coach_field(self)

    def write(self, actor: User) -> Programme:
        data = {name: self.cleaned_data.get(name) for name in programmes.FIELDS if name in self.cleaned_data}
        data["session_types"] = [item.pk for item in self.cleaned_data.get("session_types") or []]
        if self.instance.pk:
            return programmes.update_programme(actor=actor, programme=self.instance, **data)
        return programmes.create_programme(actor=actor, coach=self.cleaned_data.get("coach"), **data)


@admin.register(Programme)
class ProgrammeAdmin(ServiceAdmin):
    form = ProgrammeAdminForm
    list_display = ["title", "coach", "allowance", "price_display", "validity_days", "is_active"]
    list_filter = ["is_active", "currency"]
    search_fields = ["title", "coach__email", "coach__name"]
    list_select_related = ["coach"]
    filter_horizontal = ["session_types"]

    @admin.display(description=_("price"), ordering="price")
    def price_display(self, obj: Programme) -> str:
        return money.display_major(obj.price, obj.currency) if obj.price else _("Free")

    def get_readonly_fields(self, request: HttpRequest, obj: Programme | None = None) -> list[str]:
        return ["coach"] if obj is not None else []  # a programme's owner never changes

    def formfield_for_manytomany(self, db_field, request: HttpRequest, **kwargs: Any):
        if db_field.name == "session_types":
            kwargs["queryset"] = db_field.related_model.objects.select_related("coach").order_by("coach__name", "title")
        return super().formfield_for_manytomany(db_field, request, **kwargs)


# ---------------------------------------------------------------------------------------
# Enrollments
# ---------------------------------------------------------------------------------------


class EnrollmentForm(ServiceForm):
    class Meta:
        model = Enrollment
        fields = ["client", "programme"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "client" in self.fields:
            self.fields["client"].queryset = User.objects.filter(role=Role.CLIENT).order_by("name", "email")
            self.fields["programme"].help_text = _("From now, for the programme's validity.")

    def write(self, actor: User) -> Enrollment:
        return enroll(
            client=self.cleaned_data["client"],
            programme=self.cleaned_data["programme"],
            actor=actor,
            source=EnrollmentSource.STAFF,
        )


@admin.register(Enrollment)
class EnrollmentAdmin(ServiceAdmin):
    form = EnrollmentForm
    list_display = ["client", "programme", "source", "starts_at", "ends_at", "ended_at", "left"]
    list_filter = ["source", "programme"]
    search_fields = ["client__email", "client__name", "programme__title"]
    list_select_related = ["client", "programme"]
    actions = ["end_selected"]
    readonly = ["client", "programme", "source", "enrolled_by", "starts_at", "ends_at", "ended_at", "left"]

    @admin.display(description=_("sessions left"))
    def left(self, obj: Enrollment) -> int:
        return sessions_left(obj)

    def get_fields(self, request: HttpRequest, obj: Enrollment | None = None) -> list[str]:
        return self.readonly if obj is not None else ["client", "programme"]

    def get_readonly_fields(self, request: HttpRequest, obj: Enrollment | None = None) -> list[str]:
        return self.readonly if obj is not None else []

    def has_change_permission(self, request: HttpRequest, obj: Enrollment | None = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    @admin.action(description=_("End the selected enrollments"), permissions=["view"])
    def end_selected(self, request: HttpRequest, queryset: QuerySet[Enrollment]) -> None:
        ended = 0
        for enrollment in queryset.select_related("programme").filter(ended_at__isnull=True):
            try:
                end_enrollment(enrollment=enrollment, actor=request.user)
            except DomainError as refusal:
                self.message_user(request, refusal.message, messages.ERROR)
                return
            ended += 1
        self.message_user(
            request,
            ngettext("%(count)d enrollment ended.", "%(count)d enrollments ended.", ended) % {"count": ended},
            messages.SUCCESS if ended else messages.INFO,
        )
        if not ended:
            self.message_user(request, gettext("The selected enrollments had ended already."), messages.INFO)
