"""The back office for bookings.

Staff see everything and change nothing behind the services' back: a session's seats, a
booking's status and the ledger are read-only here, and every change of status is an
admin action that calls the same service as the pages (so it is checked, locked and
recorded in the booking's history with the staff member as its actor). A refusal is shown
as a message on the list, never as an error page.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import recurrence
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db import models
from django.db.models import QuerySet
from django.forms.models import construct_instance
from django.http import HttpRequest, HttpResponseRedirect, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from accounts.validators import is_valid_timezone
from bookings import export, services
from bookings.models import (
    Booking,
    BookingEvent,
    HostMode,
    PlannedSession,
    RelayRetry,
    Series,
    Session,
    SessionKind,
    SessionMaterial,
    SessionType,
    VideoProvider,
)
from bookings.video import default_video, rooms_enabled
from config import money
from config.errors import DomainError


def local(value: dt.datetime | None) -> str:
    """A time in the viewer's zone (the one the middleware activated), zone named."""
    if value is None:
        return "—"
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M} ({timezone.get_current_timezone_name()})"


# Meeting links are https unless someone types otherwise.
URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}


def change_link(obj, label: str | None = None) -> str:
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label or str(obj))


# ---------------------------------------------------------------------------------------
# Session types
# ---------------------------------------------------------------------------------------


class SessionTypeForm(forms.ModelForm):
    meeting_link = forms.URLField(
        required=False, assume_scheme="https", help_text=SessionType._meta.get_field("meeting_link").help_text
    )
    capacity = forms.IntegerField(
        required=False, min_value=1, help_text=_("Seats per session; blank is 1 for a one-on-one.")
    )

    class Meta:
        model = SessionType
        fields = [
            "coach",
            "title",
            "description",
            "kind",
            "is_active",
            "duration_minutes",
            "capacity",
            "price",
            "currency",
            "modality",
            "location",
            "video",
            "meeting_link",
            "resource_kind",
            "resources",
            "host_mode",
            "co_hosts",
            "required_subject",
            "approval",
            "minimum_notice_hours",
            "booking_window_days",
            "buffer_before_minutes",
            "buffer_after_minutes",
            "cancellation_notice_hours",
            "allow_late_cancellation",
            "late_cancellation_refund_percent",
            "reminder_minutes",
        ]

    # The staff member saving the form (set by SessionTypeAdmin.get_form).
    actor: User | None = None

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "host_mode" in self.fields:  # a post without it keeps the coach alone
            self.fields["host_mode"].required = False
        if "late_cancellation_refund_percent" in self.fields:  # without it: no late refund
            self.fields["late_cancellation_refund_percent"].required = False
        if "series_discount_percent" in self.fields:  # without it: no discount
            self.fields["series_discount_percent"].required = False
        if "balance_due_days" in self.fields:  # without it: the type's (7 days for a new one)
            self.fields["balance_due_days"].required = False
        if "confirm_hours_before" in self.fields:  # without it: the type's (48 hours for a new one)
            self.fields["confirm_hours_before"].required = False
        if "video" in self.fields:  # without it: a new type's default, a stored one's as it is
            self.fields["video"].required = False
            # A private room per session only on a site with a video server (a type that has one keeps it shown).
            self.fields["video"].choices = [
                (value, label)
                for value, label in VideoProvider.choices
                if value != VideoProvider.ROOMS or rooms_enabled() or self.instance.video == VideoProvider.ROOMS
            ]
            if self.instance.pk is None and not self.is_bound:
                self.initial["video"] = default_video(modality=self.instance.modality or "online")

    def clean_host_mode(self) -> str:
        return self.cleaned_data.get("host_mode") or HostMode.SINGLE

    def clean_late_cancellation_refund_percent(self) -> int:
        return self.cleaned_data.get("late_cancellation_refund_percent") or 0

    def clean_series_discount_percent(self) -> int:
        return self.cleaned_data.get("series_discount_percent") or 0

    def clean_balance_due_days(self) -> int:
        value = self.cleaned_data.get("balance_due_days")
        return self.instance.balance_due_days if value is None else value

    def clean_confirm_hours_before(self) -> int:
        value = self.cleaned_data.get("confirm_hours_before")
        return self.instance.confirm_hours_before if value is None else value

    def clean(self) -> dict:
        """On an otherwise valid form, the session-type service's rules (the API's too) on
        the type as it would be saved, each refusal shown beside its field; the model's own
        checks follow."""
        data = super().clean()
        if "video" in self.fields and not data.get("video"):
            data["video"] = (
                self.instance.video
                if self.instance.pk
                else default_video(
                    modality=data.get("modality") or "online", meeting_link=data.get("meeting_link") or ""
                )
            )
        if self.errors or self.actor is None:
            return data
        before = SessionType.objects.filter(pk=self.instance.pk).first() if self.instance.pk else None
        candidate = construct_instance(self, SessionType.objects.get(pk=before.pk) if before else SessionType())
        try:
            services.check_session_type(
                candidate,
                actor=self.actor,
                before=before,
                co_hosts=list(data.get("co_hosts") or []),
                resources=list(data.get("resources") or []),
            )
        except DomainError as refusal:
            self.add_error(refusal.field if refusal.field in self.fields else None, refusal.message)
        return data


@admin.register(SessionType)
class SessionTypeAdmin(admin.ModelAdmin):
    form = SessionTypeForm
    formfield_overrides = URL_FIELDS
    list_display = ["title", "coach", "kind", "duration_minutes", "capacity", "price_display", "modality", "is_active"]
    list_filter = ["kind", "is_active", "modality", "currency", ("coach", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["title", "coach__email", "coach__name"]
    list_select_related = ["coach"]
    readonly_fields = ["created_at", "updated_at"]
    filter_horizontal = ["co_hosts", "resources"]
    fieldsets = [
        (None, {"fields": ["coach", "title", "description", "kind", "is_active"]}),
        (_("Length, seats and price"), {"fields": [("duration_minutes", "capacity"), ("price", "currency")]}),
        (
            _("Early bird, deposit and enrollment (group sessions and workshops)"),
            {
                "fields": [
                    ("early_bird_price", "early_bird_days"),
                    ("deposit", "balance_due_days"),
                    "requires_enrollment",
                ]
            },
        ),
        (_("Where"), {"fields": ["modality", "location", "video", "meeting_link", "resource_kind", "resources"]}),
        (_("Hosts"), {"fields": ["host_mode", "co_hosts", "required_subject"]}),
        (
            _("Rules (blank follows the coach's settings)"),
            {
                "fields": [
                    "approval",
                    ("minimum_notice_hours", "booking_window_days"),
                    ("buffer_before_minutes", "buffer_after_minutes"),
                    ("cancellation_notice_hours", "allow_late_cancellation"),
                    "late_cancellation_refund_percent",
                    "reminder_minutes",
                ]
            },
        ),
        (_("Recurring series (one-on-one)"), {"fields": ["series_discount_percent"]}),
        (_("Waitlist (group sessions and workshops)"), {"fields": ["max_waitlist_size", "show_participants"]}),
        (_("Workshops"), {"fields": ["min_participants", "confirm_hours_before", "certificate"]}),
        (_("Dates"), {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(description=_("price"), ordering="price")
    def price_display(self, obj: SessionType) -> str:
        return _("Free") if obj.is_free else money.display_major(obj.price, obj.currency)

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user  # a class made for this request by modelform_factory
        return form

    def save_model(self, request: HttpRequest, obj: SessionType, form, change: bool) -> None:
        """Written by the session-type service, which checks the form's values again under
        its locks (the form has shown its refusals already)."""
        fields = {name: value for name, value in form.cleaned_data.items() if name != "coach"}
        for name in ("co_hosts", "resources"):  # the service takes lists of ids
            if name in fields:
                fields[name] = [item.pk for item in fields[name]]
        coach = form.cleaned_data["coach"]
        if change:
            saved = services.update_session_type(session_type=obj, actor=request.user, coach=coach, **fields)
        else:
            saved = services.create_session_type(actor=request.user, coach=coach, **fields)
        obj.pk = saved.pk
        obj.refresh_from_db()
        obj._state.adding = False

    def changeform_view(self, request: HttpRequest, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as refusal:
            # Refused at save time after the form's check passed (the type got sessions in
            # between): the admin's transaction rolled back, nothing was written.
            self.message_user(request, refusal.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "coach":
            kwargs["queryset"] = User.objects.filter(role=Role.COACH).order_by("name")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


# ---------------------------------------------------------------------------------------
# Sessions
# ---------------------------------------------------------------------------------------


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class SessionBookingInline(ReadOnlyInline):
    model = Booking
    fk_name = "session"
    verbose_name_plural = _("bookings")
    fields = ["booking", "client", "booked_by", "status", "made"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Booking]:
        return super().get_queryset(request).select_related("client", "booked_by").order_by("created_at")

    @admin.display(description=_("reference"))
    def booking(self, obj: Booking) -> str:
        return change_link(obj, obj.reference)

    @admin.display(description=_("made"))
    def made(self, obj: Booking) -> str:
        return local(obj.created_at)


class KindFilter(admin.SimpleListFilter):
    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return SessionKind.choices

    def queryset(self, request, queryset):
        return queryset.filter(session_type__kind=self.value()) if self.value() else queryset


class ReasonActionForm(ActionForm):
    reason = forms.CharField(
        required=False,
        label=_("Reason"),
        widget=forms.TextInput(attrs={"placeholder": _("Reason (to cancel or decline)"), "size": 40}),
    )


class ServiceActions:
    """Admin actions that call a booking service for each selected row, with the staff
    member as the actor; a refusal is reported for its row, never a 500."""

    action_form = ReasonActionForm
    done_noun = "row(s)"

    def row_label(self, obj) -> str:
        return str(obj)

    def action_rows(self, queryset: QuerySet) -> QuerySet:
        return queryset

    def _apply(self, request: HttpRequest, queryset: QuerySet, done_message: str, change) -> None:
        """``done_message``: the success line, with ``%(count)d`` for the rows changed."""
        done = 0
        for obj in self.action_rows(queryset):
            try:
                change(obj)
            except DomainError as error:
                self.message_user(
                    request,
                    _("%(row)s: %(error)s") % {"row": self.row_label(obj), "error": error.message},
                    messages.ERROR,
                )
            else:
                done += 1
        if done:
            self.message_user(request, done_message % {"count": done}, messages.SUCCESS)

    def _apply_with_reason(
        self, request: HttpRequest, queryset: QuerySet, done_message: str, *, missing: str, change
    ) -> None:
        """Like ``_apply`` for services that need a reason: ``change(obj, reason)``."""
        reason = self._reason(request, missing=missing)
        if reason is not None:
            self._apply(request, queryset, done_message, lambda obj: change(obj, reason))

    def _reason(self, request: HttpRequest, *, missing: str = "") -> str | None:
        """The reason typed beside the action; None (and the ``missing`` message) when one
        is needed and none was written."""
        reason = request.POST.get("reason", "").strip()
        if missing and not reason:
            self.message_user(request, missing, messages.ERROR)
            return None
        return reason


class SessionMaterialInline(admin.TabularInline):
    """What the coach shared with the participants; staff may remove one (not add)."""

    model = SessionMaterial
    extra = 0
    fields = ["title", "url", "file", "size", "after_session", "added_by", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Session)
class SessionAdmin(ServiceActions, admin.ModelAdmin):
    done_noun = "session(s)"
    actions = ["cancel_sessions"]
    list_display = ["start_local", "session_type", "coach", "kind", "status", "seats"]
    list_filter = ["status", KindFilter, ("coach", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["session_type__title", "coach__email", "coach__name"]
    list_select_related = ["session_type", "coach"]
    date_hierarchy = "start"
    ordering = ["-start"]
    inlines = [SessionBookingInline, SessionMaterialInline]
    formfield_overrides = URL_FIELDS
    fields = [
        "session_type",
        "coach",
        ("start", "end"),
        ("capacity", "seats_taken", "seats_held"),
        "status",
        ("confirm_by", "confirmed_at"),
        "resource",
        "meeting_link",
        "location",
        ("created_at", "updated_at"),
    ]
    # Times, seats and status change only through the services (book, cancel, complete).
    readonly_fields = [
        "session_type",
        "coach",
        "start",
        "end",
        "capacity",
        "seats_taken",
        "seats_held",
        "status",
        "confirm_by",
        "confirmed_at",
        "resource",
        "created_at",
        "updated_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # one-on-ones are made by booking them; group sessions by publishing them

    @admin.display(description=_("start"), ordering="start")
    def start_local(self, obj: Session) -> str:
        return local(obj.start)

    @admin.display(description=_("kind"), ordering="session_type__kind")
    def kind(self, obj: Session) -> str:
        return obj.session_type.get_kind_display()

    @admin.display(description=_("seats"))
    def seats(self, obj: Session) -> str:
        return f"{obj.seats_taken}/{obj.capacity}"

    def row_label(self, obj: Session) -> str:
        return f"{obj.session_type.title}, {local(obj.start)}"

    def action_rows(self, queryset: QuerySet[Session]) -> QuerySet[Session]:
        return queryset.select_related("session_type", "coach")

    @admin.action(description=_("Cancel sessions and every booking in them — give a reason"), permissions=["change"])
    def cancel_sessions(self, request: HttpRequest, queryset: QuerySet[Session]) -> None:
        self._apply_with_reason(
            request,
            queryset,
            _("%(count)d session(s) cancelled."),
            missing=_("Write a reason for calling the session off; the attendees will read it."),
            change=lambda session, reason: services.cancel_session(session=session, actor=request.user, reason=reason),
        )


# ---------------------------------------------------------------------------------------
# Bookings and their history
# ---------------------------------------------------------------------------------------


class BookingEventInline(ReadOnlyInline):
    model = BookingEvent
    verbose_name_plural = _("history")
    fields = ["when", "action", "from_status", "to_status", "actor", "note"]
    readonly_fields = fields
    ordering = ["created_at", "pk"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[BookingEvent]:
        return super().get_queryset(request).select_related("actor")

    @admin.display(description=_("when"))
    def when(self, obj: BookingEvent) -> str:
        return local(obj.created_at)


LEDGER_FIELDS = [
    "reference",
    "session",
    "client",
    "booked_by",
    "status",
    "client_notes",
    "coach_notes",
    "decline_reason",
    "suggested_alternatives",
    "info_request",
    "info_response",
    "expires_at",
    "confirmed_at",
    "cancelled_at",
    "cancelled_by",
    "cancellation_reason",
    "is_late_cancellation",
    "rescheduled_from",
    "price",
    "currency",
    "reminders_enabled",
    "rating",
    "feedback",
    "created_at",
    "updated_at",
]


@admin.register(Booking)
class BookingAdmin(ServiceActions, admin.ModelAdmin):
    done_noun = "booking(s)"
    list_display = ["reference", "client", "coach", "session_type", "start", "status", "created"]
    list_filter = ["status", "is_late_cancellation", "session__session_type__kind", "created_at"]
    search_fields = ["reference", "client__email", "client__name"]
    list_select_related = ["client", "session", "session__coach", "session__session_type"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    inlines = [BookingEventInline]
    actions = ["cancel_by_staff", "approve_requests", "decline_requests", "mark_no_show", "export_csv"]
    fieldsets = [
        (None, {"fields": ["reference", "status", "session", "client", "booked_by", "created_at", "updated_at"]}),
        (_("Notes"), {"fields": ["client_notes", "coach_notes", "info_request", "info_response"]}),
        (_("Request"), {"fields": ["expires_at", "confirmed_at", "suggested_alternatives", "decline_reason"]}),
        (
            _("Cancellation and changes"),
            {
                "fields": [
                    "cancelled_at",
                    "cancelled_by",
                    "cancellation_reason",
                    "is_late_cancellation",
                    "rescheduled_from",
                ]
            },
        ),
        (
            _("Price, reminders and rating"),
            {"fields": ["price", "currency", "reminders_enabled", "rating", "feedback"]},
        ),
    ]
    # Every status and ledger field changes only through an action below (a service).
    readonly_fields = LEDGER_FIELDS

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # bookings are made through the booking services (the wizard, the API)

    @admin.display(description=_("coach"), ordering="session__coach__name")
    def coach(self, obj: Booking) -> User:
        return obj.session.coach

    @admin.display(description=_("session type"), ordering="session__session_type__title")
    def session_type(self, obj: Booking) -> str:
        return obj.session.session_type.title

    @admin.display(description=_("start"), ordering="session__start")
    def start(self, obj: Booking) -> str:
        return local(obj.session.start)

    @admin.display(description=_("created"), ordering="created_at")
    def created(self, obj: Booking) -> str:
        return local(obj.created_at)

    # --- actions: each calls a service with the staff member as actor --------------------

    def row_label(self, obj: Booking) -> str:
        return obj.reference

    def action_rows(self, queryset: QuerySet[Booking]) -> QuerySet[Booking]:
        return queryset.select_related("session", "session__coach", "session__session_type", "client")

    @admin.action(description=_("Cancel (by staff) — give a reason"), permissions=["change"])
    def cancel_by_staff(self, request: HttpRequest, queryset: QuerySet[Booking]) -> None:
        self._apply_with_reason(
            request,
            queryset,
            _("%(count)d booking(s) cancelled."),
            missing=_("Write a reason for the cancellation; the client will read it."),
            change=lambda booking, reason: services.cancel(booking=booking, actor=request.user, reason=reason),
        )

    @admin.action(description=_("Approve requests"), permissions=["change"])
    def approve_requests(self, request: HttpRequest, queryset: QuerySet[Booking]) -> None:
        self._apply(
            request,
            queryset,
            _("%(count)d booking(s) approved."),
            lambda booking: services.approve(booking=booking, actor=request.user, note=self._reason(request)),
        )

    @admin.action(description=_("Decline requests — give a reason"), permissions=["change"])
    def decline_requests(self, request: HttpRequest, queryset: QuerySet[Booking]) -> None:
        self._apply_with_reason(
            request,
            queryset,
            _("%(count)d booking(s) declined."),
            missing=_("Write a reason for declining; the client will read it."),
            change=lambda booking, reason: services.decline(booking=booking, actor=request.user, reason=reason),
        )

    @admin.action(description=_("Mark no-show"), permissions=["change"])
    def mark_no_show(self, request: HttpRequest, queryset: QuerySet[Booking]) -> None:
        self._apply(
            request,
            queryset,
            _("%(count)d booking(s) marked as no-shows."),
            lambda booking: services.mark_no_show(booking=booking, actor=request.user),
        )

    @admin.action(description=_("Export the selected bookings as CSV"), permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Booking]) -> StreamingHttpResponse:
        """The selected bookings, earliest session first, with times in the staff member's
        own zone beside UTC; written while it downloads, however many were selected."""
        name = request.user.timezone if is_valid_timezone(request.user.timezone) else "UTC"
        zone = zoneinfo.ZoneInfo(name)
        filename = f"bookings-{timezone.now().astimezone(zone):%Y-%m-%d-%H%M}.csv"
        return export.csv_response(
            filename, export.COLUMNS, export.rows(queryset.order_by("session__start", "pk"), zone)
        )


@admin.register(BookingEvent)
class BookingEventAdmin(admin.ModelAdmin):
    """The history is append-only: it can be read, never written here."""

    list_display = ["when", "booking", "action", "from_status", "to_status", "actor"]
    list_filter = ["action", "to_status", "created_at"]
    search_fields = ["booking__reference", "actor__email", "actor__name", "note"]
    list_select_related = ["booking", "actor"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-pk"]
    readonly_fields = [
        "booking",
        "actor",
        "action",
        "from_status",
        "to_status",
        "note",
        "data",
        "created_at",
        "relayed_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description=_("when"), ordering="created_at")
    def when(self, obj: BookingEvent) -> str:
        return local(obj.created_at)


@admin.register(RelayRetry)
class RelayRetryAdmin(admin.ModelAdmin):
    """Booking events a consumer (notifications, …) failed on: read-only, with the error;
    "Try again now" hands them to it at the relay's next run."""

    list_display = ["event", "consumer", "attempts", "next_try", "updated_at"]
    list_filter = ["consumer"]
    search_fields = ["event__booking__reference", "error"]
    list_select_related = ["event", "event__booking"]
    readonly_fields = ["consumer", "event", "attempts", "next_attempt_at", "error", "created_at", "updated_at"]
    actions = ["try_again_now"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description=_("next try"), ordering="next_attempt_at")
    def next_try(self, obj: RelayRetry) -> str:
        return local(obj.next_attempt_at) if obj.next_attempt_at else _("given up")

    @admin.action(description=_("Try again now"), permissions=["change"])
    def try_again_now(self, request: HttpRequest, queryset: QuerySet[RelayRetry]) -> None:
        count = queryset.update(next_attempt_at=timezone.now())
        self.message_user(request, _("%(count)d event(s) will be tried again within a minute.") % {"count": count})


class OpenPlanFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", _("To be scheduled")), ("closed", _("Booked or dropped"))]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(closed_at__isnull=True)
        if self.value() == "closed":
            return queryset.filter(closed_at__isnull=False)
        return queryset


@admin.register(PlannedSession)
class PlannedSessionAdmin(admin.ModelAdmin):
    list_display = ["client", "session_type", "coach", "booked_by", "created_at", "closed_at", "booking"]
    list_filter = [OpenPlanFilter, "session_type__kind"]
    search_fields = ["client__email", "client__name", "session_type__title"]
    list_select_related = ["client", "booked_by", "session_type", "session_type__coach", "booking"]
    readonly_fields = ["client", "booked_by", "session_type", "booking", "created_at", "closed_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # clients (or their guardians) record a plan with “Schedule later”

    @admin.display(description=_("coach"), ordering="session_type__coach__name")
    def coach(self, obj: PlannedSession) -> User:
        return obj.session_type.coach


# ---------------------------------------------------------------------------------------
# Recurring series
# ---------------------------------------------------------------------------------------


class SeriesBookingInline(ReadOnlyInline):
    """The series' occurrences, each a booking of its own (its actions are on its page)."""

    model = Booking
    fk_name = "series"
    verbose_name_plural = _("occurrences")
    fields = ["booking", "start", "status", "booked_by", "made"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Booking]:
        return super().get_queryset(request).select_related("session", "booked_by").order_by("session__start", "pk")

    @admin.display(description=_("reference"))
    def booking(self, obj: Booking) -> str:
        return change_link(obj, obj.reference)

    @admin.display(description=_("start"))
    def start(self, obj: Booking) -> str:
        return local(obj.session.start)

    @admin.display(description=_("made"))
    def made(self, obj: Booking) -> str:
        return local(obj.created_at)


@admin.register(Series)
class SeriesAdmin(admin.ModelAdmin):
    """Read only: a series changes through its occurrences' services (the client's and the
    coach's pages, the API, the booking actions here)."""

    list_display = ["__str__", "client", "coach", "session_type", "frequency", "first", "created"]
    list_filter = ["frequency", "created_at"]
    search_fields = ["client__email", "client__name", "coach__email", "coach__name", "session_type__title"]
    list_select_related = ["client", "coach", "session_type"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    inlines = [SeriesBookingInline]
    fields = [
        "client",
        "booked_by",
        "coach",
        "session_type",
        "frequency",
        "rule",
        "first",
        "local_time",
        "timezone",
        "exception_list",
        "created",
    ]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a series is booked through its preview, every occurrence checked

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description=_("first session"), ordering="first_start")
    def first(self, obj: Series) -> str:
        return local(obj.first_start)

    @admin.display(description=_("created"), ordering="created_at")
    def created(self, obj: Series) -> str:
        return local(obj.created_at)

    @admin.display(description=_("rule"))
    def rule(self, obj: Series) -> str:
        # The exact rule (RFC 5545), as the series was booked.
        return recurrence.serialize(obj.recurrence) if obj.recurrence else "—"

    @admin.display(description=_("exceptions"))
    def exception_list(self, obj: Series) -> str:
        entries = [entry for entry in obj.exceptions or [] if isinstance(entry, dict)]
        if not entries:
            return "—"
        return format_html_join(
            "\n",
            "<div>{}: {}{}</div>",
            (
                (
                    str(entry.get("kind", "")).replace("_", " "),
                    _entry_time(entry.get("date")),
                    f" → {_entry_time(entry.get('to'))}" if entry.get("to") else "",
                )
                for entry in entries
            ),
        )


def _entry_time(value: object) -> str:
    try:
        return local(dt.datetime.fromisoformat(str(value)))
    except ValueError:
        return str(value)


from bookings import money_admin  # noqa: E402,F401
