from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from availability.models import (
    Allocation,
    AvailabilityWindow,
    DateOverride,
    OverrideWindow,
    Resource,
    ResourceClosure,
    ResourceHours,
    TimeOff,
)
from availability.rooms import check_hours
from config.errors import DomainError


class AvailabilityWindowForm(forms.ModelForm):
    """The checks the editor and the API make that the model can't: a weekday or a rule,
    not both, and a rule of one RRULE line (what the slot engine reads)."""

    class Meta:
        model = AvailabilityWindow
        fields = [
            "coach",
            "weekday",
            "recurrence",
            "start",
            "end",
            "valid_from",
            "valid_until",
            "session_types",
            "allow_firm_booking",
        ]

    def clean(self):
        data = super().clean()
        rule = data.get("recurrence")
        has_rule = bool(rule and (rule.rrules or rule.exrules or rule.rdates or rule.exdates))
        if data.get("weekday") is not None and has_rule:
            raise ValidationError(_("Give the window a weekday or a rule, not both."))
        if data.get("weekday") is None and not has_rule:
            raise ValidationError(_("Give the window a weekday or a rule."))
        if has_rule and (len(rule.rrules) != 1 or rule.exrules or rule.rdates or rule.exdates):
            raise ValidationError(_("A window's rule is one RRULE, without exceptions or extra dates."))
        return data


@admin.register(AvailabilityWindow)
class AvailabilityWindowAdmin(admin.ModelAdmin):
    form = AvailabilityWindowForm
    list_display = ["coach", "weekday", "start", "end", "valid_from", "valid_until", "allow_firm_booking"]
    list_filter = ["weekday", "coach"]
    search_fields = ["coach__email", "coach__name"]
    list_select_related = ["coach"]
    autocomplete_fields = ["coach"]


class OverrideWindowInline(admin.TabularInline):
    model = OverrideWindow
    extra = 0


@admin.register(DateOverride)
class DateOverrideAdmin(admin.ModelAdmin):
    list_display = ["coach", "date", "reason"]
    list_filter = ["date", "coach"]
    search_fields = ["coach__email", "coach__name", "reason"]
    list_select_related = ["coach"]
    autocomplete_fields = ["coach"]
    date_hierarchy = "date"
    inlines = [OverrideWindowInline]


@admin.register(TimeOff)
class TimeOffAdmin(admin.ModelAdmin):
    list_display = ["coach", "start_date", "end_date", "reason"]
    list_filter = ["start_date", "coach"]
    search_fields = ["coach__email", "coach__name", "reason"]
    list_select_related = ["coach"]
    autocomplete_fields = ["coach"]
    date_hierarchy = "start_date"


class ResourceHoursFormSet(BaseInlineFormSet):
    """The same rule as the room pages: on one day, no two ranges overlap."""

    def clean(self) -> None:
        super().clean()
        hours = [
            (form.cleaned_data["weekday"], form.cleaned_data["start"], form.cleaned_data["end"])
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and all(form.cleaned_data.get(name) is not None for name in ("weekday", "start", "end"))
        ]
        try:
            check_hours(hours)
        except DomainError as refusal:
            raise ValidationError(refusal.message, code=refusal.code) from refusal


class ResourceHoursInline(admin.TabularInline):
    model = ResourceHours
    formset = ResourceHoursFormSet
    extra = 0
    ordering = ["weekday", "start"]


class ResourceClosureInline(admin.TabularInline):
    model = ResourceClosure
    extra = 0
    ordering = ["-start_date"]


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "capacity", "location", "timezone", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "location"]
    inlines = [ResourceHoursInline, ResourceClosureInline]


@admin.register(Allocation)
class AllocationAdmin(admin.ModelAdmin):
    list_display = ["start", "end", "staff", "resource", "kind", "is_active", "counts_toward_limits"]
    list_filter = ["kind", "is_active", "start"]
    search_fields = ["staff__email", "staff__name", "resource__name"]
    list_select_related = ["staff", "resource"]
    date_hierarchy = "start"
    readonly_fields = [f.name for f in Allocation._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False  # written only by the booking services, which check for conflicts

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# The tag rules' page lives beside the tags' pages; importing it registers it.
from availability import tag_admin  # noqa: E402, F401
