from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts import services
from accounts.models import ApiToken, CoachProfile, Connection, ConnectionStatus, GuardianLink, User
from config.errors import DomainError


class CoachProfileInline(admin.StackedInline):
    model = CoachProfile
    can_delete = False
    extra = 0
    fieldsets = [
        (None, {"fields": ["headline", "bio"]}),
        (
            "Booking rules",
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
    ]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "role", "timezone", "is_active", "is_superuser", "date_joined", "last_login"]
    list_filter = ["role", "is_active", "is_superuser", "groups"]
    search_fields = ["email", "name", "phone"]
    readonly_fields = ["date_joined", "last_login"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["name", "role", "timezone", "phone"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "name", "role", "timezone", "password1", "password2"]}),
    ]
    actions = ["make_client", "make_coach", "make_staff"]

    def get_inlines(self, request: HttpRequest, obj: User | None) -> list:
        return [CoachProfileInline] if obj is not None and obj.is_coach else []

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Back-office staff manage people, not who is an admin or what a group may do.
            fields += ["is_staff", "is_superuser", "groups", "user_permissions"]
        return fields

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        # Only an admin may change an admin (their email, password or anything else).
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        # After the form's many-to-many save, which would otherwise reset the groups that
        # set_role gives or takes away.
        super().save_related(request, form, formsets, change)
        if "role" in form.changed_data or not change:
            services.set_role(user=form.instance, role=form.instance.role)

    def _set_role(self, request: HttpRequest, queryset: QuerySet[User], role: str) -> None:
        for user in queryset:
            services.set_role(user=user, role=role)
        self.message_user(request, f"{queryset.count()} account(s) are now {role}.", messages.SUCCESS)

    @admin.action(description="Make the selected accounts clients", permissions=["change"])
    def make_client(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._set_role(request, queryset, "client")

    @admin.action(description="Make the selected accounts coaches", permissions=["change"])
    def make_coach(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._set_role(request, queryset, "coach")

    @admin.action(description="Make the selected accounts staff", permissions=["change"])
    def make_staff(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._set_role(request, queryset, "staff")


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
        self.message_user(request, f"{done} request(s) answered.", messages.SUCCESS)

    @admin.action(description="Accept the selected pending requests", permissions=["change"])
    def accept(self, request: HttpRequest, queryset: QuerySet[Connection]) -> None:
        self._respond(request, queryset, True)

    @admin.action(description="Decline the selected pending requests", permissions=["change"])
    def decline(self, request: HttpRequest, queryset: QuerySet[Connection]) -> None:
        self._respond(request, queryset, False)


@admin.register(GuardianLink)
class GuardianLinkAdmin(admin.ModelAdmin):
    list_display = ["guardian", "dependent", "relationship", "created_at"]
    search_fields = ["guardian__email", "guardian__name", "dependent__email", "dependent__name"]
    list_filter = ["relationship"]
    list_select_related = ["guardian", "dependent"]
    autocomplete_fields = ["guardian", "dependent"]


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

    @admin.action(description="Revoke the selected tokens", permissions=["delete"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            services.revoke_api_token(token=token, actor=token.user)
        self.message_user(request, f"{queryset.count()} token(s) revoked.", messages.SUCCESS)
