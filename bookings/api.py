"""Session types, group sessions and bookings over JSON.

Reads go through ``bookings.selectors`` and every change through ``bookings.services``, so
the API and the pages follow the same rules. Times go in as ISO 8601 with a UTC offset
(a time without one is refused) and come back in the caller's zone, with the zone named.
A booking the caller may not see answers 404; one they may see but not change, 403; a
refusal by the rules, 409 with a stable code.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext
from ninja import Field, Query, Router, Schema
from ninja.responses import Status
from pydantic import ConfigDict

from accounts.access import can_book_for
from accounts.models import Role, User
from accounts.selectors import coaches_visible_to
from availability.api import viewer
from bookings import gates, payment_methods, selectors, services, suggestions
from bookings.models import Booking, BookingStatus, Session, SessionKind, SessionType
from bookings.services.payment import payments_enabled
from bookings.video import meeting_link_for
from config import money
from config.errors import DomainError, NotAllowed
from config.inputs import LONG_TEXT, MAX_OFFSET, Input, Instant, NotBlank, optional, schema_requires

router = Router(tags=["bookings"])

Kind = Literal["one_on_one", "group", "workshop"]
GroupKind = Literal["group", "workshop"]
ModalityValue = Literal["online", "in_person", "hybrid"]
ApprovalValue = Literal["coach", "always", "never"]
ResourceKind = Literal["", "room", "equipment", "online"]
HostModeValue = Literal["single", "all", "any"]
VideoValue = Literal["none", "rooms", "fixed"]
VIDEO_HELP = (
    "rooms: a private room on the site's video server for each session (only when the site has one); "
    "fixed: meeting_link, for every session; none: no link."
)


def zone_of(user: User | None) -> ZoneInfo:
    return ZoneInfo(user.timezone if user is not None else "UTC")


def local(value: dt.datetime | None, zone: ZoneInfo) -> str | None:
    return None if value is None else value.astimezone(zone).isoformat()


def coaches_seen_by(user: User | None) -> QuerySet[User]:
    """Coaches whose calendar ``user`` may see, and a coach always sees their own."""
    visible = coaches_visible_to(user)
    if user is None or user.role != Role.COACH:
        return visible
    return User.objects.filter(Q(pk__in=visible.values("pk")) | Q(pk=user.pk)).select_related("coach_profile")


def require_coach_or_staff(user: User) -> User:
    if user.role != Role.COACH and not user.is_staff_member:
        raise NotAllowed(gettext("Only coaches and back-office staff can do that."), code="not_a_coach")
    return user


# ---------------------------------------------------------------------------------------
# Session types
# ---------------------------------------------------------------------------------------


class SessionTypeOut(Schema):
    id: int
    coach: int
    title: str
    description: str
    kind: str
    duration_minutes: int
    capacity: int
    price: Decimal
    currency: str
    modality: str
    location: str
    video: str = Field(description=VIDEO_HELP)
    meeting_link: str = Field(description="The fixed link (video: fixed); shown only to the type's hosts and staff.")
    resource_kind: str
    approval: str
    buffer_before_minutes: int | None
    buffer_after_minutes: int | None
    minimum_notice_hours: int | None
    booking_window_days: int | None
    cancellation_notice_hours: int | None
    allow_late_cancellation: bool
    late_cancellation_refund_percent: int
    early_bird_price: Decimal | None
    early_bird_days: int | None
    deposit: Decimal | None
    balance_due_days: int
    series_discount_percent: int
    max_waitlist_size: int | None
    min_participants: int | None
    confirm_hours_before: int
    show_participants: bool
    certificate: bool
    requires_enrollment: bool
    reminder_minutes: list[int] | None
    is_active: bool
    host_mode: str = Field(description="single: the coach; all: the coach and every co-host; any: one of the team.")
    co_hosts: list[int] = Field(description="The other coaches (ids): co-hosts, or the rest of the team.")
    required_subject: int | None = Field(description="The subject every host must declare (id), or null.")
    resources: list[int] = Field(description="The rooms allowed (ids); empty: any active one of resource_kind.")


LIST_FIELDS = ("co_hosts", "resources")
TYPE_FIELDS = tuple(
    name for name in SessionTypeOut.model_fields if name not in ("id", "coach", "required_subject", *LIST_FIELDS)
)


def with_type_lists(types: QuerySet[SessionType]) -> QuerySet[SessionType]:
    """Types read with their co-hosts and rooms: two queries for any number of types."""
    return types.prefetch_related("co_hosts", "resources")


def session_type_out(st: SessionType, viewer: User | None = None) -> SessionTypeOut:
    """The type as ``viewer`` sees it: its fixed link only for its coach, co-hosts and staff
    (the link is the sessions' door; clients get it with their booking)."""
    co_hosts = sorted(user.pk for user in st.co_hosts.all())
    fields = {name: getattr(st, name) for name in TYPE_FIELDS}
    hosting = viewer is not None and (viewer.is_staff_member or viewer.pk == st.coach_id or viewer.pk in co_hosts)
    if not hosting:
        fields["meeting_link"] = ""
    return SessionTypeOut(
        id=st.pk,
        coach=st.coach_id,
        required_subject=st.required_subject_id,
        co_hosts=co_hosts,
        resources=sorted(resource.pk for resource in st.resources.all()),
        **fields,
    )


class SessionTypeIn(Input):
    title: NotBlank = Field(max_length=120)
    description: str = Field("", max_length=LONG_TEXT)
    kind: Kind = "one_on_one"
    duration_minutes: int = Field(60, ge=5, le=24 * 60)
    capacity: int | None = Field(None, ge=1, description="Seats per session: 1 for one-on-one (the default).")
    price: Decimal = Field(Decimal("0"), ge=0, max_digits=9, decimal_places=2)
    currency: str = Field("EUR", pattern=r"^[A-Za-z]{3}$", description="ISO 4217 code, e.g. EUR.")
    modality: ModalityValue = "online"
    location: str = Field("", max_length=200)
    video: VideoValue | None = Field(
        None, description=VIDEO_HELP + " Default: fixed when meeting_link is given, else rooms for online and hybrid."
    )
    meeting_link: str = Field("", max_length=200)
    resource_kind: ResourceKind = ""
    approval: ApprovalValue = "coach"
    buffer_before_minutes: int | None = Field(None, ge=0, le=24 * 60)
    buffer_after_minutes: int | None = Field(None, ge=0, le=24 * 60)
    minimum_notice_hours: int | None = Field(None, ge=0, le=24 * 365)
    booking_window_days: int | None = Field(None, ge=1, le=365)
    cancellation_notice_hours: int | None = Field(None, ge=0, le=24 * 365)
    allow_late_cancellation: bool = False
    late_cancellation_refund_percent: int = Field(
        0, ge=0, le=100, description="The share of the price refunded when a client cancels late (payments on)."
    )
    early_bird_price: Decimal | None = Field(
        None,
        ge=0,
        max_digits=9,
        decimal_places=2,
        description="Group sessions and workshops: a lower price for bookings made at least early_bird_days before.",
    )
    early_bird_days: int | None = Field(None, ge=1, le=365)
    deposit: Decimal | None = Field(
        None,
        ge=0,
        max_digits=9,
        decimal_places=2,
        description="Group sessions and workshops: paid at booking, the rest balance_due_days before; null: in full.",
    )
    balance_due_days: int = Field(7, ge=0, le=365)
    series_discount_percent: int = Field(
        0, ge=0, le=100, description="One-on-one: off the remaining sessions of a series paid up front (payments on)."
    )
    max_waitlist_size: int | None = Field(
        None, ge=0, le=1000, description="Group and workshop: how many may wait when full (0: none); null: the site's."
    )
    min_participants: int | None = Field(
        None, ge=1, le=1000, description="Workshop: called off below this many at the deadline; null: no minimum."
    )
    confirm_hours_before: int = Field(48, ge=0, le=24 * 60, description="Workshop: the deadline, hours before.")
    show_participants: bool = Field(False, description="Participants see who else is coming.")
    certificate: bool = Field(False, description="Workshop: a certificate of attendance for who attended.")
    requires_enrollment: bool = Field(False, description="Only clients enrolled in a programme with this type.")
    reminder_minutes: list[int] | None = Field(
        None, description="Reminders, in minutes before the session, e.g. [1440, 120]; null: the usual ones."
    )
    is_active: bool = True
    host_mode: HostModeValue = Field(
        "single", description="single: you host; all: you and every co-host together; any: one of the team."
    )
    co_hosts: list[int] = Field(
        default_factory=list, max_length=50, description="Other active coaches (ids); needed for all and any."
    )
    required_subject: int | None = Field(None, description="A subject (id) every host must declare; null: none.")
    resources: list[int] = Field(
        default_factory=list, max_length=100, description="Rooms allowed (ids), of resource_kind; empty: any."
    )


class SessionTypePatch(Input):
    title: NotBlank = optional(max_length=120)
    description: str = optional(max_length=LONG_TEXT)
    kind: Kind = optional()
    duration_minutes: int = optional(ge=5, le=24 * 60)
    capacity: int | None = Field(None, ge=1, description="null: 1 for a one-on-one type.")
    price: Decimal = optional(ge=0, max_digits=9, decimal_places=2)
    currency: str = optional(pattern=r"^[A-Za-z]{3}$")
    modality: ModalityValue = optional()
    location: str = optional(max_length=200)
    video: VideoValue = optional(description=VIDEO_HELP)
    meeting_link: str = optional(max_length=200)
    resource_kind: ResourceKind = optional()
    approval: ApprovalValue = optional()
    buffer_before_minutes: int | None = Field(None, ge=0, le=24 * 60)
    buffer_after_minutes: int | None = Field(None, ge=0, le=24 * 60)
    minimum_notice_hours: int | None = Field(None, ge=0, le=24 * 365)
    booking_window_days: int | None = Field(None, ge=1, le=365)
    cancellation_notice_hours: int | None = Field(None, ge=0, le=24 * 365)
    allow_late_cancellation: bool = optional()
    late_cancellation_refund_percent: int = optional(ge=0, le=100)
    early_bird_price: Decimal | None = Field(None, ge=0, max_digits=9, decimal_places=2)
    early_bird_days: int | None = Field(None, ge=1, le=365)
    deposit: Decimal | None = Field(None, ge=0, max_digits=9, decimal_places=2)
    balance_due_days: int = optional(ge=0, le=365)
    series_discount_percent: int = optional(ge=0, le=100)
    max_waitlist_size: int | None = Field(None, ge=0, le=1000)
    min_participants: int | None = Field(None, ge=1, le=1000)
    confirm_hours_before: int = optional(ge=0, le=24 * 60)
    show_participants: bool = optional()
    certificate: bool = optional()
    requires_enrollment: bool = optional()
    reminder_minutes: list[int] | None = None
    is_active: bool = optional()
    host_mode: HostModeValue = optional()
    co_hosts: list[int] = optional(max_length=50)
    required_subject: int | None = Field(None, description="null: no subject required.")
    resources: list[int] = optional(max_length=100)


@router.get("/session-types", response=list[SessionTypeOut], auth=None, summary="A coach's session types")
def list_session_types(request: HttpRequest, coach: int | None = None) -> list[SessionTypeOut]:
    """``?coach=ID``: the active types of a coach you may see. Without ``coach``, a coach
    gets all of their own types, the inactive ones too."""
    user = viewer(request)
    if coach is None:
        if user is None or user.role != Role.COACH:
            raise DomainError(gettext("Give coach=ID."), code="coach_required")
        return [
            session_type_out(st, user) for st in with_type_lists(selectors.session_types_of(user, active_only=False))
        ]
    found = get_object_or_404(coaches_seen_by(user), pk=coach)
    return [session_type_out(st, user) for st in with_type_lists(selectors.session_types_of(found))]


@router.post("/session-types", response={201: SessionTypeOut}, summary="Create one of your session types")
def create_session_type(request: HttpRequest, payload: SessionTypeIn) -> Status:
    coach = request.auth
    st = services.create_session_type(actor=coach, coach=coach, **payload.dict())
    return Status(201, session_type_out(st, coach))


@router.patch("/session-types/{type_id}", response=SessionTypeOut, summary="Change one of your session types")
def patch_session_type(request: HttpRequest, type_id: int, payload: SessionTypePatch) -> SessionTypeOut:
    """Only the fields sent change; ``null`` clears a rule override (and is refused for the
    rest). Staff may change any coach's type."""
    user = require_coach_or_staff(request.auth)
    types = SessionType.objects.select_related("coach")
    st = get_object_or_404(types if user.is_staff_member else types.filter(coach=user), pk=type_id)
    st = services.update_session_type(session_type=st, actor=user, **payload.dict(exclude_unset=True))
    return session_type_out(st, user)


# ---------------------------------------------------------------------------------------
# Group sessions and workshops
# ---------------------------------------------------------------------------------------


class SessionOut(Schema):
    id: int
    session_type: int
    title: str
    kind: str
    coach: int
    coach_name: str
    start: str
    end: str
    timezone: str
    capacity: int
    seats_taken: int
    seats_left: int
    full: bool
    status: str
    price: Decimal
    currency: str
    location: str


def session_out(session: Session, zone: ZoneInfo) -> SessionOut:
    st = session.session_type
    return SessionOut(
        id=session.pk,
        session_type=st.pk,
        title=st.title,
        kind=st.kind,
        coach=session.coach_id,
        coach_name=session.coach.display_name,
        start=local(session.start, zone),
        end=local(session.end, zone),
        timezone=zone.key,
        capacity=session.capacity,
        seats_taken=session.seats_taken,
        seats_left=session.seats_left,
        full=session.is_full,
        status=session.status,
        price=st.price,
        currency=st.currency,
        location=session.location,
    )


class PublishIn(Input):
    session_type: int
    start: Instant = Field(description="ISO 8601 with a UTC offset, e.g. 2026-12-02T18:00:00+01:00.")
    capacity: int | None = Field(None, ge=1, description="Seats; default: the type's capacity.")


@router.post("/sessions", response={201: SessionOut}, summary="Publish a group session or workshop")
def publish_session(request: HttpRequest, payload: PublishIn) -> Status:
    actor = require_coach_or_staff(request.auth)
    types = SessionType.objects.select_related("coach__coach_profile")
    if not actor.is_staff_member:
        types = types.filter(coach=actor)
    st = get_object_or_404(types, pk=payload.session_type)
    session = services.publish_session(actor=actor, session_type=st, start=payload.start, capacity=payload.capacity)
    return Status(201, session_out(session, zone_of(actor)))


class SessionsQuery(Input):
    coach: int | None = Field(None, description="Only this coach's sessions.")
    kind: GroupKind | None = Field(None, description="group or workshop.")
    session_type: int | None = None


@router.get("/sessions", response=list[SessionOut], auth=None, summary="Upcoming group sessions and workshops")
def list_sessions(request: HttpRequest, query: Query[SessionsQuery]) -> list[SessionOut]:
    user = viewer(request)
    if not settings.ENABLE_GROUP_SESSIONS:
        return []
    visible = coaches_seen_by(user)
    sessions = selectors.upcoming_group_sessions(kind=query.kind)
    if query.coach is not None:
        sessions = sessions.filter(coach=get_object_or_404(visible, pk=query.coach))
    else:
        sessions = sessions.filter(coach__in=visible.values("pk"))
    if query.session_type is not None:
        # Through the type's own id, which the database compares safely with any integer
        # (an id beyond its range matches nothing instead of overflowing).
        sessions = sessions.filter(session_type__in=SessionType.objects.filter(pk=query.session_type).values("pk"))
    zone = zone_of(user)
    return [session_out(session, zone) for session in sessions[:200]]


@router.post("/sessions/{session_id}/start", response=SessionOut, summary="Mark a session as started (coach)")
def start_session(request: HttpRequest, session_id: int) -> SessionOut:
    """From 30 minutes before its start until its end, the coach (or staff) marks a scheduled
    session as in progress; it is completed with its bookings when it ends. A session you
    may not see is 404; one you may see but don't run, 403."""
    user = request.auth
    session = get_object_or_404(selectors.sessions_visible_to(user), pk=session_id)
    services.mark_started(session=session, actor=user)
    return session_out(selectors.sessions_visible_to(user).get(pk=session.pk), zone_of(user))


# ---------------------------------------------------------------------------------------
# Bookings
# ---------------------------------------------------------------------------------------


class HostOut(Schema):
    id: int
    name: str


class RoomOut(Schema):
    id: int
    name: str
    location: str


class PaymentDueOut(Schema):
    checkout_url: str = Field(description="Where the client pays (the site's page that opens the gateway's checkout).")
    amount: int = Field(description="What is due now, in the currency's minor units (cents).")
    currency: str
    expires_at: str | None = Field(description="When the hold ends unpaid and the place is freed.")


class BookingOut(Schema):
    id: int
    reference: str
    status: str
    start: str
    end: str
    timezone: str
    coach: int
    coach_name: str
    session_type: int
    session_type_title: str
    session: int
    client: int
    client_name: str
    booked_by: int
    notes: str
    price: Decimal
    currency: str
    reminders: bool
    expires_at: str | None
    suggested_alternatives: list[str]
    info_request: str
    info_response: str
    decline_reason: str
    cancellation_reason: str
    late_cancellation: bool
    rescheduled_from: str | None = Field(description="The previous start, when the booking was moved.")
    hosts: list[HostOut] = Field(description="Who hosts the session: its coach first, then any co-hosts.")
    room: RoomOut | None = Field(description="The room reserved for the session, or null.")
    meeting_link: str = Field(
        description="Where the session meets online: its own video room or the coach's link. Given to its hosts and "
        "staff, and to the client's side once the booking is firm or confirmed; empty otherwise."
    )
    price_note: str = Field(description="How the price was reached (early bird, discounts, a code).")
    deposit: Decimal = Field(description="Paid at booking when more than 0; the rest is due by balance_due_at.")
    balance_due_at: str | None
    payment: PaymentDueOut | None = Field(
        description="The payment the booking waits for (status awaiting_payment), else null."
    )


class EventOut(Schema):
    action: str
    from_status: str = Field(alias="from")
    to_status: str = Field(alias="to")
    actor: str | None = Field(description="Who acted; null when the system did (an expiry).")
    at: str
    note: str


class BookingDetailOut(BookingOut):
    history: list[EventOut]


def payment_due(booking: Booking, zone: ZoneInfo, base_url: str | None = None) -> dict | None:
    """What a booking held for payment waits for, and where to pay it (else None)."""
    if booking.status != BookingStatus.AWAITING_PAYMENT:
        return None
    base = (base_url if base_url is not None else settings.SITE_URL).rstrip("/")
    return {
        "checkout_url": base + reverse("payments:pay", args=[booking.reference]),
        "amount": money.to_minor(booking.deposit or booking.price, booking.currency),
        "currency": booking.currency,
        "expires_at": local(booking.expires_at, zone),
    }


def booking_out(booking: Booking, zone: ZoneInfo, base_url: str | None = None, *, viewer: User | None = None) -> dict:
    """The booking as ``viewer`` (who may see it) sees it: the video link only when they may
    join (``bookings.video``)."""
    session = booking.session
    return {
        "id": booking.pk,
        "reference": booking.reference,
        "status": booking.status,
        "start": local(session.start, zone),
        "end": local(session.end, zone),
        "timezone": zone.key,
        "coach": session.coach_id,
        "coach_name": session.coach.display_name,
        "session_type": session.session_type_id,
        "session_type_title": session.session_type.title,
        "session": session.pk,
        "client": booking.client_id,
        "client_name": booking.client.display_name,
        "booked_by": booking.booked_by_id,
        "notes": booking.client_notes,
        "price": booking.price,
        "currency": booking.currency,
        "reminders": booking.reminders_enabled,
        "expires_at": local(booking.expires_at, zone),
        "suggested_alternatives": [
            local(dt.datetime.fromisoformat(value), zone) for value in booking.suggested_alternatives
        ],
        "info_request": booking.info_request,
        "info_response": booking.info_response,
        "decline_reason": booking.decline_reason,
        "cancellation_reason": booking.cancellation_reason,
        "late_cancellation": booking.is_late_cancellation,
        "rescheduled_from": local(booking.rescheduled_from.start, zone) if booking.rescheduled_from else None,
        "hosts": [{"id": host.pk, "name": host.display_name} for host in selectors.hosts_of(session)],
        "room": {"id": session.resource.pk, "name": session.resource.name, "location": session.resource.location}
        if session.resource_id
        else None,
        "meeting_link": meeting_link_for(booking, viewer),
        "price_note": booking.price_note,
        "deposit": booking.deposit,
        "balance_due_at": local(booking.balance_due_at, zone),
        "payment": payment_due(booking, zone, base_url),
    }


def booking_detail(
    booking: Booking, zone: ZoneInfo, base_url: str | None = None, *, viewer: User | None = None
) -> dict:
    return {
        **booking_out(booking, zone, base_url, viewer=viewer),
        "history": [
            {
                "action": event.action,
                "from": event.from_status,
                "to": event.to_status,
                "actor": event.actor.display_name if event.actor else None,
                "at": local(event.created_at, zone),
                "note": event.note,
            }
            for event in selectors.history(booking)
        ],
    }


def fresh(user: User, booking: Booking, base_url: str | None = None) -> dict:
    """The booking as the caller may see it after a change, with its history."""
    return booking_detail(selectors.get_booking_for(user, booking.pk), zone_of(user), base_url, viewer=user)


def site_of(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


PayWith = Literal["credits"]
PROMO_FIELD = Field("", max_length=40, description="A promotion code (payments on, a priced type).")
PAY_WITH_FIELD = Field(
    None, description="Pay with something else than the gateway: credits (one per booking). Payments on only."
)


def book_paying(service, pay_with: str | None, **kwargs) -> Booking:
    """Book through ``service``; paid with ``pay_with`` when given (payments on)."""
    if pay_with and payments_enabled():
        return payment_methods.book_with(pay_with, service, **kwargs)
    return service(**kwargs)


ACCEPT_CONSENTS_FIELD = Field(
    default_factory=list,
    max_length=50,
    description="The ids of the consent documents' versions you accept with this booking, as listed by a "
    "409 consent_required refusal.",
)


def consents_due(actor: User, client: User, coach: User, accepted: list[int]) -> list[gates.Item]:
    """What ``client`` has to accept before booking with ``coach`` (``bookings.gates``): the
    items, all listed in ``accept_consents``, to record once booked. Any missing: 409
    ``consent_required`` listing every one (its ``id``, title, version and text)."""
    if not gates.asks(actor):
        return []
    items = gates.pending(client, coach)
    if any(item.ident not in accepted for item in items):
        raise DomainError(
            gettext("Read and accept these documents before booking: send their ids in accept_consents."),
            code="consent_required",
            status=409,
            extra={
                "consents": [
                    {"id": item.ident, "title": item.title, "version": item.version, "text": item.body}
                    for item in items
                ]
            },
        )
    return items


INTAKE_ANSWERS_FIELD = Field(
    default_factory=dict,
    description="Answers to the intake forms the session type asks ({question id: value}), as listed by a 409 "
    "intake_required refusal: text, a choice's text, a list of choices, a date (YYYY-MM-DD), true/false, a number "
    "from 1 to 10, or the id POST /intake/files gave for a file.",
)


def intake_due(actor: User, client: User, session_type: SessionType, answers: dict) -> list[gates.Asked]:
    """The intake forms ``client`` answers before booking ``session_type`` (``bookings.gates``),
    checked against ``answers``. Any missing or refused: 409 ``intake_required`` listing every
    form's questions, and ``errors`` ({question id: message}) for the answers refused."""
    items = gates.asked(client, session_type, booker=actor, answers=answers)
    if any(not item.ready for item in items):
        raise DomainError(
            gettext("Answer the intake questions before booking: send them in intake_answers."),
            code="intake_required",
            status=409,
            extra={
                "forms": [{"id": item.ident, "title": item.title, "questions": list(item.questions)} for item in items],
                "errors": {str(key): message for item in items for key, message in item.errors},
            },
        )
    return items


def record_gates(
    request: HttpRequest, client: User, consents: list[gates.Item], intake: list[gates.Asked], booking: Booking
) -> None:
    """The consents accepted and the checked answers submitted with ``booking``, right after it is made."""
    gates.record(request, client, consents=consents, intake=intake, booking=booking, by=request.auth)


def client_for(actor: User, client_id: int | None, *, coach: User | None = None) -> User:
    """Who the booking is for: the caller, or someone they may book for with ``coach`` (else 404)."""
    if client_id is None or client_id == actor.pk:
        return actor
    client = User.objects.filter(pk=client_id, is_active=True).first()
    if client is None or not can_book_for(actor, client, coach=coach):
        raise Http404("No such client.")
    return client


class BookIn(Input):
    coach: int
    session_type: int
    start: Instant = Field(description="ISO 8601 with a UTC offset, e.g. 2026-12-02T10:00:00+01:00.")
    notes: str = Field("", max_length=2000, description="Notes to the coach.")
    client: int | None = Field(None, description="Book for someone else (a guardian or staff); default: you.")
    reminders: bool = True
    promo_code: str = PROMO_FIELD
    pay_with: PayWith | None = PAY_WITH_FIELD
    accept_consents: list[int] = ACCEPT_CONSENTS_FIELD
    intake_answers: dict[str, Any] = INTAKE_ANSWERS_FIELD


@router.post("/bookings", response={201: BookingOut}, summary="Book a one-on-one session")
def create_booking(request: HttpRequest, payload: BookIn) -> Status:
    actor = request.auth
    coach = get_object_or_404(User.objects.select_related("coach_profile"), pk=payload.coach, role=Role.COACH)
    st = SessionType.objects.filter(pk=payload.session_type, coach=coach).first()
    if st is None:
        raise DomainError(gettext("This coach has no session type with that id."), code="unknown_session_type")
    client = client_for(actor, payload.client, coach=coach)
    consents = consents_due(actor, client, coach, payload.accept_consents)
    intake = intake_due(actor, client, st, payload.intake_answers)
    try:
        booking = book_paying(
            services.book_slot,
            payload.pay_with,
            client=client,
            session_type=st,
            start=payload.start,
            booked_by=actor,
            notes=payload.notes,
            reminders=payload.reminders,
            promo_code=payload.promo_code,
        )
    except DomainError as exc:
        if exc.code in SUGGEST_ON and not st.is_group:
            exc.extra["suggestions"] = suggestions_out(actor, coach, st, client, payload.start)
        raise
    record_gates(request, client, consents, intake, booking)
    return Status(201, fresh(actor, booking, site_of(request)))


# Refusals of a time that another time may cure: the 409 (or 400) lists free ones instead.
SUGGEST_ON = frozenset({"slot_taken", "outside_availability", "limit_reached", "too_soon", "beyond_window"})


def suggestions_out(
    actor: User, coach: User, session_type: SessionType, client: User, start: dt.datetime
) -> list[dict[str, str]]:
    """Free times to offer instead of ``start`` (``bookings.suggestions``), in the actor's
    zone: ``{"start", "end", "kind": "nearest"|"pattern", "reason"}``."""
    zone = zone_of(actor)
    found = suggestions.suggested_times(
        coach=coach,
        session_type=session_type,
        client=client,
        anchor=start,
        zone=zone,
        nearest_text=gettext("Closest to the time you chose"),
        viewer=actor,
    )
    return [
        {"start": local(item.start, zone), "end": local(item.end, zone), "kind": item.kind, "reason": item.reason}
        for item in found
    ]


class SeatIn(Input):
    notes: str = Field("", max_length=2000)
    client: int | None = Field(None, description="Take the seat for someone else (a guardian or staff).")
    reminders: bool = True
    promo_code: str = PROMO_FIELD
    pay_with: PayWith | None = PAY_WITH_FIELD
    accept_consents: list[int] = ACCEPT_CONSENTS_FIELD
    intake_answers: dict[str, Any] = INTAKE_ANSWERS_FIELD


@router.post("/sessions/{session_id}/bookings", response={201: BookingOut}, summary="Take a seat in a session")
def take_seat(request: HttpRequest, session_id: int, payload: SeatIn | None = None) -> Status:
    actor = request.auth
    payload = payload or SeatIn()
    session = get_object_or_404(
        Session.objects.select_related("session_type", "coach__coach_profile"),
        pk=session_id,
        session_type__kind__in=[SessionKind.GROUP, SessionKind.WORKSHOP],
    )
    client = client_for(actor, payload.client, coach=session.coach)
    consents = consents_due(actor, client, session.coach, payload.accept_consents)
    intake = intake_due(actor, client, session.session_type, payload.intake_answers)
    booking = book_paying(
        services.take_seat,
        payload.pay_with,
        client=client,
        session=session,
        booked_by=actor,
        notes=payload.notes,
        reminders=payload.reminders,
        promo_code=payload.promo_code,
    )
    record_gates(request, client, consents, intake, booking)
    return Status(201, fresh(actor, booking, site_of(request)))


class BookingsQuery(Input):
    status: BookingStatus | None = None
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


@router.get("/bookings", response=list[BookingOut], summary="Your bookings, as client or as coach")
def list_bookings(request: HttpRequest, query: Query[BookingsQuery]) -> list[dict]:
    """Bookings you made, are the client of (or the guardian of the client), or coach;
    staff see every booking. Soonest session first."""
    user = request.auth
    bookings = selectors.bookings_visible_to(user)
    if query.status is not None:
        bookings = bookings.filter(status=query.status)
    bookings = bookings.select_related("rescheduled_from").prefetch_related("session__co_hosts")
    bookings = bookings.order_by("session__start", "pk")
    zone, site = zone_of(user), site_of(request)
    return [booking_out(b, zone, site, viewer=user) for b in bookings[query.offset : query.offset + query.limit]]


@router.get("/bookings/{booking_id}", response=BookingDetailOut, by_alias=True, summary="A booking and its history")
def get_booking(request: HttpRequest, booking_id: str) -> dict:
    """By id, or by reference (``BK-2026-000123``)."""
    user = request.auth
    return booking_detail(selectors.get_booking_for(user, booking_id), zone_of(user), site_of(request), viewer=user)


class ReasonIn(Input):
    reason: str = Field("", max_length=2000)


class DeclineIn(Input):
    # Required (the schema says so); a missing one is refused by the service, as ``reason_required``.
    model_config = ConfigDict(json_schema_extra=schema_requires("reason"))

    reason: NotBlank = Field("", max_length=2000, description="Why, for the client.")


class StartIn(Input):
    start: Instant = Field(description="ISO 8601 with a UTC offset.")


class NoteIn(Input):
    note: str = Field("", max_length=2000)


class SuggestIn(Input):
    alternatives: list[Instant] = Field(description="Up to 5 start times, ISO 8601 with a UTC offset.")
    note: str = Field("", max_length=2000)


class QuestionIn(Input):
    question: NotBlank = Field(max_length=2000)


class AnswerIn(Input):
    answer: NotBlank = Field(max_length=2000)


@router.post("/bookings/{booking_id}/cancel", response=BookingDetailOut, by_alias=True, summary="Cancel a booking")
def cancel_booking(request: HttpRequest, booking_id: str, payload: ReasonIn | None = None) -> dict:
    user = request.auth
    booking = selectors.get_booking_for(user, booking_id)
    booking = services.cancel(booking=booking, actor=user, reason=(payload or ReasonIn()).reason)
    return fresh(user, booking)


@router.post("/bookings/{booking_id}/reschedule", response=BookingDetailOut, by_alias=True, summary="Move a booking")
def reschedule_booking(request: HttpRequest, booking_id: str, payload: StartIn) -> dict:
    user = request.auth
    booking = selectors.get_booking_for(user, booking_id)
    booking = services.reschedule(booking=booking, actor=user, start=payload.start)
    return fresh(user, booking)


@router.post(
    "/bookings/{booking_id}/approve", response=BookingDetailOut, by_alias=True, summary="Approve a request (coach)"
)
def approve_booking(request: HttpRequest, booking_id: str, payload: NoteIn | None = None) -> dict:
    user = request.auth
    booking = selectors.get_booking_for(user, booking_id)
    booking = services.approve(booking=booking, actor=user, note=(payload or NoteIn()).note)
    return fresh(user, booking)


@router.post(
    "/bookings/{booking_id}/decline", response=BookingDetailOut, by_alias=True, summary="Decline a request (coach)"
)
def decline_booking(request: HttpRequest, booking_id: str, payload: DeclineIn) -> dict:
    user = request.auth
    booking = selectors.get_booking_for(user, booking_id)
    booking = services.decline(booking=booking, actor=user, reason=payload.reason)
    return fresh(user, booking)


@router.post(
    "/bookings/{booking_id}/suggest", response=BookingDetailOut, by_alias=True, summary="Suggest other times (coach)"
)
def suggest_times(request: HttpRequest, booking_id: str, payload: SuggestIn) -> dict:
    user = request.auth
    booking = selectors.get_booking_for(user, booking_id)
    booking = services.suggest_alternatives(
        booking=booking, actor=user, alternatives=payload.alternatives, note=payload.note
    )
    return fresh(user, booking)


@router.post(
    "/bookings/{booking_id}/accept-alternative",
    response=BookingDetailOut,
    by_alias=True,
    summary="Accept a suggested time",
)
def accept_alternative(request: HttpRequest, booking_id: str, payload: StartIn) -> dict:
    user = request.auth
    booking = selectors.get_booking_for(user, booking_id)
    booking = services.accept_alternative(booking=booking, actor=user, start=payload.start)
    return fresh(user, booking)


@router.post(
    "/bookings/{booking_id}/decline-alternatives",
    response=BookingDetailOut,
    by_alias=True,
    summary="Turn the suggested times down (withdraws the request)",
)
def decline_alternatives(request: HttpRequest, booking_id: str, payload: NoteIn | None = None) -> dict:
    user = request.auth
    booking = selectors.get_booking_for(user, booking_id)
    booking = services.decline_alternatives(booking=booking, actor=user, note=(payload or NoteIn()).note)
    return fresh(user, booking)


@router.post(
    "/bookings/{booking_id}/request-info", response=BookingDetailOut, by_alias=True, summary="Ask the client (coach)"
)
def request_info(request: HttpRequest, booking_id: str, payload: QuestionIn) -> dict:
    user = request.auth
    booking = selectors.get_booking_for(user, booking_id)
    booking = services.request_information(booking=booking, actor=user, question=payload.question)
    return fresh(user, booking)


@router.post(
    "/bookings/{booking_id}/answer-info",
    response=BookingDetailOut,
    by_alias=True,
    summary="Answer the coach's question",
)
def answer_info(request: HttpRequest, booking_id: str, payload: AnswerIn) -> dict:
    user = request.auth
    booking = selectors.get_booking_for(user, booking_id)
    booking = services.answer_information(booking=booking, actor=user, answer=payload.answer)
    return fresh(user, booking)
