from collections import defaultdict
from typing import Any

from allauth.account.admin import EmailAddressAdmin as AllauthEmailAddressAdmin
from allauth.account.models import EmailAddress
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Count, Field, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import services
from accounts.models import (
    ApiToken,
    ClientTag,
    ClientTagging,
    CoachProfile,
    Connection,
    ConnectionStatus,
    GuardianLink,
    Role,
    Subject,
    User,
)
from accounts.permissions import (
    access_change_refusal,
    accounts_changeable_by,
    may_change_account,
    roles_given_by,
)
from config.errors import DomainError


def refusals_by_reason(actor: User, people: QuerySet[User], *, role: str | None = None) -> dict[str, list[User]]:
    """The people of ``people`` that ``actor`` may not change the role or access of (to
    ``role``), grouped by the reason; an empty dict when every one may be changed."""
    refused: dict[str, list[User]] = defaultdict(list)
    for person in people:
        reason = access_change_refusal(actor, person, role=role)
        if reason is not None:
            refused[reason].append(person)
    return dict(refused)


def report_skipped(model_admin: admin.ModelAdmin, request: HttpRequest, refused: dict[str, list[Any]]) -> None:
    for reason, skipped in refused.items():
        model_admin.message_user(
            request,
            _("Skipped %(people)s: %(reason)s") % {"people": ", ".join(str(p) for p in skipped), "reason": reason},
            messages.ERROR,
        )


class AccessRuleFormMixin:
    """Refuses, on the admin's user forms, a role or active-flag change that the rule in
    ``accounts.permissions`` does not allow ``actor`` (set by ``UserAdmin.get_form``)."""

    actor: User

    def clean(self) -> dict[str, Any]:
        data = super().clean()  # type: ignore[misc]
        changed = set(self.changed_data) & {"role", "is_active"}  # type: ignore[attr-defined]
        if changed or self.instance.pk is None:  # type: ignore[attr-defined]
            role = data.get("role") if "role" in changed or self.instance.pk is None else None  # type: ignore[attr-defined]
            reason = access_change_refusal(self.actor, self.instance, role=role)  # type: ignore[attr-defined]
            if reason is not None:
                raise forms.ValidationError(reason, code="access_change_refused")
        return data


class CoachProfileInline(admin.StackedInline):
    model = CoachProfile
    can_delete = False
    extra = 0
    fieldsets = [
        (None, {"fields": ["headline", "bio"]}),
        (
            gettext_lazy("Booking rules"),
            {
                "fields": [
                    ("allow_firm_booking", "firm_booking_threshold_hours"),
                    ("require_approval_unconnected", "calendar_visibility"),
                    ("minimum_notice_hours", "booking_window_days", "slot_step_minutes"),
                    ("buffer_before_minutes", "buffer_after_minutes"),
                    ("max_sessions_per_day", "max_sessions_per_week"),
                    "cancellation_notice_hours",
                ]
            },
        ),
        (gettext_lazy("Subjects and qualifications"), {"fields": ["subjects"]}),
    ]
    autocomplete_fields = ["subjects"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "role", "timezone", "is_active", "is_superuser", "date_joined", "last_login"]
    list_filter = ["role", "is_active", "is_superuser", "groups"]
    search_fields = ["email", "name", "phone"]
    readonly_fields = ["date_joined", "last_login"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (gettext_lazy("Profile"), {"fields": ["name", "role", "timezone", "phone", "language"]}),
        (gettext_lazy("Access"), {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        (gettext_lazy("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "name", "role", "timezone", "password1", "password2"]}),
    ]
    actions = ["make_client", "make_coach", "make_staff", "delete_selected"]

    def get_inlines(self, request: HttpRequest, obj: User | None) -> list:
        return [CoachProfileInline] if obj is not None and obj.is_coach else []

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Back-office staff manage people, not who is an admin or what a group may do.
            fields += ["is_staff", "is_superuser", "groups", "user_permissions"]
        if obj is not None and access_change_refusal(request.user, obj) is not None:
            fields += [name for name in ("role", "is_active", "is_staff", "is_superuser") if name not in fields]
        return fields

    def get_form(self, request: HttpRequest, obj: User | None = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        form = type(form.__name__, (AccessRuleFormMixin, form), {"actor": request.user})
        role_field = form.base_fields.get("role")
        if role_field is not None:
            allowed = roles_given_by(request.user)
            role_field.choices = [(value, label) for value, label in Role.choices if value in allowed]
        return form

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        # Only an admin may change an admin or a staff member (their email, password or
        # anything else): staff see their accounts read-only.
        if obj is not None and not may_change_account(request.user, obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        if obj is not None and access_change_refusal(request.user, obj) is not None:
            return False
        return super().has_delete_permission(request, obj)

    def has_grant_staff_permission(self, request: HttpRequest) -> bool:
        return Role.STAFF in roles_given_by(request.user)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        # After the form's many-to-many save, which would otherwise reset the groups that
        # set_role gives or takes away.
        super().save_related(request, form, formsets, change)
        if "role" in form.changed_data or not change:
            services.set_role(user=form.instance, role=form.instance.role)

    def _set_role(self, request: HttpRequest, queryset: QuerySet[User], role: str) -> None:
        refused = refusals_by_reason(request.user, queryset, role=role)
        report_skipped(self, request, refused)
        skipped = {person.pk for people in refused.values() for person in people}
        changed = 0
        for user in queryset:
            if user.pk not in skipped:
                services.set_role(user=user, role=role)
                changed += 1
        if changed:
            self.message_user(
                request,
                _("%(count)d account(s) are now %(role)s.") % {"count": changed, "role": role},
                messages.SUCCESS,
            )

    @admin.action(description=gettext_lazy("Make the selected accounts clients"), permissions=["change"])
    def make_client(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._set_role(request, queryset, Role.CLIENT)

    @admin.action(description=gettext_lazy("Make the selected accounts coaches"), permissions=["change"])
    def make_coach(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._set_role(request, queryset, Role.COACH)

    @admin.action(description=gettext_lazy("Make the selected accounts staff"), permissions=["grant_staff"])
    def make_staff(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._set_role(request, queryset, Role.STAFF)

    @admin.action(description=gettext_lazy("Delete selected %(verbose_name_plural)s"), permissions=["delete"])
    def delete_selected(self, request: HttpRequest, queryset: QuerySet[User]) -> HttpResponse | None:
        """Django's delete action, on the selected people the rule lets ``request.user``
        delete; the others are named and skipped."""
        refused = refusals_by_reason(request.user, queryset)
        report_skipped(self, request, refused)
        skipped = [person.pk for people in refused.values() for person in people]
        allowed = queryset.exclude(pk__in=skipped)
        if not allowed.exists():
            return None
        return django_delete_selected(self, request, allowed)


@admin.register(CoachProfile)
class CoachProfileAdmin(admin.ModelAdmin):
    list_display = [
        "user",
        "calendar_visibility",
        "allow_firm_booking",
        "firm_booking_threshold_hours",
        "minimum_notice_hours",
        "booking_window_days",
        "max_sessions_per_day",
        "max_sessions_per_week",
    ]
    list_filter = ["calendar_visibility", "allow_firm_booking", "require_approval_unconnected"]
    search_fields = ["user__email", "user__name", "headline"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]

    def formfield_for_foreignkey(self, db_field: Field, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "user":
            # A coach profile belongs to a coach (set_role makes it); never to staff or an admin.
            kwargs["queryset"] = accounts_changeable_by(request.user).filter(role=Role.COACH)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: CoachProfile | None = None) -> bool:
        if obj is not None and not may_change_account(request.user, obj.user):
            return False
        return super().has_change_permission(request, obj)


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    list_display = ["client", "coach", "status", "requested_at", "responded_at"]
    list_filter = ["status", "requested_at"]
    search_fields = ["client__email", "client__name", "coach__email", "coach__name"]
    list_select_related = ["client", "coach"]
    autocomplete_fields = ["client", "coach"]
    readonly_fields = ["status", "requested_at", "responded_at"]
    actions = ["accept", "decline"]

    def _respond(self, request: HttpRequest, queryset: QuerySet[Connection], accept: bool) -> None:
        done = 0
        for connection in queryset.filter(status=ConnectionStatus.PENDING):
            try:
                services.respond_to_connection(connection=connection, actor=request.user, accept=accept)
                done += 1
            except DomainError as error:
                self.message_user(request, f"{connection}: {error.message}", messages.ERROR)
        self.message_user(request, _("%(count)d request(s) answered.") % {"count": done}, messages.SUCCESS)

    @admin.action(description=gettext_lazy("Accept the selected pending requests"), permissions=["change"])
    def accept(self, request: HttpRequest, queryset: QuerySet[Connection]) -> None:
        self._respond(request, queryset, True)

    @admin.action(description=gettext_lazy("Decline the selected pending requests"), permissions=["change"])
    def decline(self, request: HttpRequest, queryset: QuerySet[Connection]) -> None:
        self._respond(request, queryset, False)


@admin.register(GuardianLink)
class GuardianLinkAdmin(admin.ModelAdmin):
    list_display = ["guardian", "dependent", "relationship", "created_at"]
    search_fields = ["guardian__email", "guardian__name", "dependent__email", "dependent__name"]
    list_filter = ["relationship"]
    list_select_related = ["guardian", "dependent"]
    autocomplete_fields = ["guardian", "dependent"]

    def formfield_for_foreignkey(self, db_field: Field, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "dependent":
            # A guardian may book for their dependent: only a client the editor may manage
            # can be one (as services.link_dependent requires), never staff or an admin.
            kwargs["queryset"] = accounts_changeable_by(request.user).filter(role=Role.CLIENT)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "hint", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at", "created_at"]
    search_fields = ["name", "user__email", "user__name", "hint"]
    list_select_related = ["user"]
    readonly_fields = ["user", "name", "hint", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tokens are created by their owner, who alone sees the secret

    @admin.action(description=gettext_lazy("Revoke the selected tokens"), permissions=["delete"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            services.revoke_api_token(token=token, actor=token.user)
        self.message_user(request, _("%(count)d token(s) revoked.") % {"count": queryset.count()}, messages.SUCCESS)


@admin.register(Subject)
class SubjectAdmin(admin.ModelAdmin):
    """The subjects coaches declare; a name is unique whatever its case (as on the coach's
    booking settings page, ``accounts.subjects``)."""

    list_display = ["name", "description", "coach_count"]
    search_fields = ["name", "description"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Subject]:
        return super().get_queryset(request).annotate(coach_total=Count("coaches", distinct=True))

    @admin.display(description=gettext_lazy("coaches"), ordering="coach_total")
    def coach_count(self, obj: Subject) -> int:
        return obj.coach_total

    def get_form(self, request: HttpRequest, obj: Subject | None = None, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, **kwargs)

        class SubjectForm(form):  # type: ignore[misc, valid-type]
            def clean_name(self) -> str:
                name = " ".join(self.cleaned_data["name"].split())
                same = Subject.objects.filter(name__iexact=name).exclude(pk=self.instance.pk)
                if same.exists():
                    raise forms.ValidationError(_("There is already a subject named “%(name)s”.") % {"name": name})
                return name

        return SubjectForm


class ClientTaggingInline(admin.TabularInline):
    model = ClientTagging
    fk_name = "tag"
    extra = 0
    autocomplete_fields = ["client"]
    readonly_fields = ["added_by", "added_at"]
    verbose_name = gettext_lazy("client wearing it")
    verbose_name_plural = gettext_lazy("clients wearing it")

    def formfield_for_foreignkey(self, db_field: Field, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "client":
            kwargs["queryset"] = User.objects.filter(role=Role.CLIENT, is_superuser=False)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(ClientTag)
class ClientTagAdmin(admin.ModelAdmin):
    """Client tags: a coach's (coach set) or the whole practice's (no coach). Their booking
    rules are edited on the tag's page in the product (``client_tag_edit``)."""

    list_display = ["name", "coach", "priority", "client_count", "created_at"]
    list_filter = [("coach", admin.EmptyFieldListFilter), "priority"]
    search_fields = ["name", "description", "coach__email", "coach__name"]
    list_select_related = ["coach"]
    autocomplete_fields = ["coach"]
    inlines = [ClientTaggingInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ClientTag]:
        return super().get_queryset(request).annotate(client_total=Count("taggings", distinct=True))

    @admin.display(description=gettext_lazy("clients"), ordering="client_total")
    def client_count(self, obj: ClientTag) -> int:
        return obj.client_total

    def formfield_for_foreignkey(self, db_field: Field, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "coach":
            kwargs["queryset"] = User.objects.filter(role=Role.COACH)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request: HttpRequest, obj: ClientTag | None = None, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, **kwargs)

        class ClientTagForm(form):  # type: ignore[misc, valid-type]
            def clean(self) -> dict[str, Any]:
                data = super().clean()
                name = " ".join((data.get("name") or "").split())
                if name:
                    data["name"] = name
                    coach = data.get("coach")
                    same = ClientTag.objects.filter(name__iexact=name).exclude(pk=self.instance.pk)
                    same = same.filter(coach=coach) if coach is not None else same.filter(coach__isnull=True)
                    if same.exists():
                        self.add_error("name", _("There is already a tag named “%(name)s”.") % {"name": name})
                return data

        return ClientTagForm

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        for tagging in formset.save(commit=False):
            if tagging.pk is None:
                tagging.added_by = request.user
            tagging.save()
        for gone in formset.deleted_objects:
            gone.delete()
        formset.save_m2m()


# allauth's admin of email addresses, with the same rule as the people's: an address is
# the way into its account (a password reset goes to it), so staff may not add, change,
# verify or delete one of another staff member's or an admin's.
admin.site.unregister(EmailAddress)


@admin.register(EmailAddress)
class EmailAddressAdmin(AllauthEmailAddressAdmin):
    def formfield_for_foreignkey(self, db_field: Field, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "user":
            kwargs["queryset"] = accounts_changeable_by(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: EmailAddress | None = None) -> bool:
        if obj is not None and not may_change_account(request.user, obj.user):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: EmailAddress | None = None) -> bool:
        if obj is not None and not may_change_account(request.user, obj.user):
            return False
        return super().has_delete_permission(request, obj)

    def make_verified(self, request: HttpRequest, queryset: QuerySet[EmailAddress]) -> None:
        refused = [
            address for address in queryset.select_related("user") if not may_change_account(request.user, address.user)
        ]
        if refused:
            report_skipped(self, request, {_("Only an admin can change the addresses of staff and admins."): refused})
        super().make_verified(request, queryset.exclude(pk__in=[address.pk for address in refused]))

    make_verified.short_description = AllauthEmailAddressAdmin.make_verified.short_description  # type: ignore[attr-defined]
