"""Session types: what a coach offers, written the same way from the API and the back office.

``check_session_type`` is the one statement of the rules a session type keeps, whoever
writes it; ``create_session_type``, ``update_session_type`` and ``duplicate_session_type``
run it before they write. ``reorder_session_types`` sets the order a coach's types are
listed in (to clients in the wizard, in the API's list and on the coach's page).
Each refusal is a ``DomainError`` naming the input it is about (``field``), so the API lists
it under ``fields`` and a form shows it beside that field.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from bookings.models import SessionKind, SessionType, validate_reminder_minutes
from bookings.services.common import _lock_users, is_manager
from config.errors import DomainError, NotAllowed
from config.inputs import LONG_TEXT, SHORT_TEXT, check_text, no_negative_zero

# What a session type's writer may set (the coach is chosen when it is created, or by staff).
SESSION_TYPE_FIELDS = (
    "title",
    "description",
    "kind",
    "duration_minutes",
    "capacity",
    "price",
    "currency",
    "modality",
    "location",
    "meeting_link",
    "resource_kind",
    "approval",
    "buffer_before_minutes",
    "buffer_after_minutes",
    "minimum_notice_hours",
    "booking_window_days",
    "cancellation_notice_hours",
    "allow_late_cancellation",
    "reminder_minutes",
    "is_active",
)

# Blank means "follow the coach's settings" (or, for reminders, the usual reminders).
NULLABLE_FIELDS = frozenset(
    {
        "buffer_before_minutes",
        "buffer_after_minutes",
        "minimum_notice_hours",
        "booking_window_days",
        "cancellation_notice_hours",
        "reminder_minutes",
    }
)

# Whole-number fields and their bounds (inclusive).
BOUNDS: dict[str, tuple[int, int]] = {
    "duration_minutes": (5, 24 * 60),
    "buffer_before_minutes": (0, 24 * 60),
    "buffer_after_minutes": (0, 24 * 60),
    "minimum_notice_hours": (0, 24 * 365),
    "booking_window_days": (1, 365),
    "cancellation_notice_hours": (0, 24 * 365),
}

MAX_PRICE = Decimal("9999999.99")  # the column holds 9 digits, 2 after the point
CURRENCY = re.compile(r"[A-Z]{3}")


def _refuse(field: str, message: str, *, code: str = "invalid", status: int = 400) -> DomainError:
    return DomainError(message, code=code, status=status, field=field)


def _require_may_write(actor: User, coach: User) -> None:
    if not coach.is_coach:
        raise NotAllowed(_("Only coaches have session types."), code="not_a_coach")
    if not is_manager(actor, coach):
        raise NotAllowed(_("Only the coach or back-office staff can change this coach's session types."))


def _whole_numbers(session_type: SessionType) -> None:
    for name, (low, high) in BOUNDS.items():
        value = getattr(session_type, name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise _refuse(name, _("Give %(field)s as a whole number.") % {"field": _label(name)})
        if not low <= value <= high:
            raise _refuse(
                name,
                _("%(field)s must be between %(low)s and %(high)s.")
                % {"field": _label(name).capitalize(), "low": low, "high": high},
            )


def _seats(session_type: SessionType, *, becomes_group: bool, seats_changed: bool) -> None:
    capacity = session_type.capacity
    if session_type.kind == SessionKind.ONE_ON_ONE:
        if capacity is None:
            session_type.capacity = capacity = 1
        if capacity != 1:
            raise _refuse("capacity", _("A one-on-one session type has exactly 1 seat."))
        return
    if capacity is None:
        raise _refuse("capacity", _("Give the number of seats (capacity) of a group session."))
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
        raise _refuse("capacity", _("A session has at least 1 seat."))
    # The switch stops new group types and the maximum new seat counts; a type written
    # before a setting changed can still be renamed or retired.
    if becomes_group and not settings.ENABLE_GROUP_SESSIONS:
        raise _refuse("kind", _("Group sessions and workshops are turned off."), code="policy_violation", status=409)
    if (becomes_group or seats_changed) and capacity > settings.MAX_GROUP_CAPACITY:
        raise _refuse(
            "capacity",
            _("A group session has at most %(max)s seats.") % {"max": settings.MAX_GROUP_CAPACITY},
        )


def _price_and_currency(session_type: SessionType) -> None:
    try:
        price = Decimal(str(session_type.price))
    except (InvalidOperation, ValueError):
        raise _refuse("price", _("Give the price as an amount, e.g. 45.00.")) from None
    if not price.is_finite() or price < 0:
        raise _refuse("price", _("The price can't be negative."))
    if price > MAX_PRICE or price.as_tuple().exponent < -2:
        raise _refuse("price", _("Give the price with at most 2 decimals, up to %(max)s.") % {"max": MAX_PRICE})
    session_type.price = no_negative_zero(price)
    currency = str(session_type.currency or "").strip().upper()
    if not CURRENCY.fullmatch(currency):
        raise _refuse("currency", _("Give the currency as a 3-letter ISO 4217 code, e.g. EUR."))
    session_type.currency = currency


def _reminders(session_type: SessionType) -> None:
    minutes = session_type.reminder_minutes
    try:
        validate_reminder_minutes(minutes)
    except ValidationError as error:
        raise _refuse("reminder_minutes", " ".join(error.messages)) from None
    if minutes is not None:
        session_type.reminder_minutes = sorted(set(minutes), reverse=True)


def _label(name: str) -> str:
    return str(SessionType._meta.get_field(name).verbose_name)


def _model_rules(session_type: SessionType) -> None:
    """The model's own validation (choices, lengths, links), as a refusal naming its field."""
    try:
        session_type.full_clean(exclude=["coach"])
    except ValidationError as error:
        name, messages = next(iter(error.message_dict.items()))
        field = "" if name == "__all__" else name
        raise _refuse(field, " ".join(messages)) from None


def check_session_type(session_type: SessionType, *, actor: User, before: SessionType | None = None) -> None:
    """Every rule a session type keeps, for a new one (``before`` None) or a change of
    ``before`` (the row as stored). Normalises what it accepts (a one-on-one's missing
    capacity is 1, currency in capitals, reminders sorted); reads the database only to ask
    whether the type has sessions. Raises ``DomainError`` (with ``field``) on the first rule
    broken."""
    _require_may_write(actor, session_type.coach)
    if before is not None and before.coach_id != session_type.coach_id:
        _require_may_write(actor, before.coach)
    for name in SESSION_TYPE_FIELDS:
        if getattr(session_type, name) is None and name not in NULLABLE_FIELDS and name != "capacity":
            raise _refuse(name, _("%(field)s can't be empty.") % {"field": _label(name).capitalize()})
    if isinstance(session_type.title, str):
        session_type.title = session_type.title.strip()
        if not session_type.title:
            raise _refuse("title", _("Give the session type a title."))
    for name, limit in (("title", SHORT_TEXT), ("description", LONG_TEXT), ("location", SHORT_TEXT)):
        if isinstance(getattr(session_type, name), str):
            check_text(getattr(session_type, name), limit, field=name)
    if session_type.kind not in SessionKind.values:
        raise _refuse("kind", _("Choose one-on-one, group session or workshop."))
    if before is not None and session_type.pk is not None:
        moved = before.kind != session_type.kind or before.coach_id != session_type.coach_id
        if moved and session_type.sessions.exists():
            what = "kind" if before.kind != session_type.kind else "coach"
            raise _refuse(
                what,
                _("This type already has sessions, so its %(what)s can't change. Create a new type instead.")
                % {"what": _label(what)},
            )
    _seats(
        session_type,
        becomes_group=before is None or before.kind == SessionKind.ONE_ON_ONE,
        seats_changed=before is None or before.capacity != session_type.capacity,
    )
    _whole_numbers(session_type)
    _price_and_currency(session_type)
    _reminders(session_type)
    _model_rules(session_type)


def _apply(session_type: SessionType, fields: dict[str, Any]) -> None:
    unknown = sorted(set(fields) - set(SESSION_TYPE_FIELDS))
    if unknown:
        raise _refuse(unknown[0], _("Unknown field: %(names)s.") % {"names": ", ".join(unknown)})
    for name, value in fields.items():
        setattr(session_type, name, value)


def create_session_type(*, actor: User, coach: User, **fields: Any) -> SessionType:
    """A new session type for ``coach``, written by the coach themself or by staff.

    Locks nothing: a new type depends on no other row's state (the settings it is checked
    against are read as they are now), and writes one row. Without ``capacity``, a
    one-on-one gets its one seat and a group type is refused."""
    session_type = SessionType(coach=coach, capacity=None)  # not the model's default of 1
    _apply(session_type, fields)
    check_session_type(session_type, actor=actor)
    with transaction.atomic():
        _lock_users(coach)  # a reorder or another new type of this coach waits: positions stay distinct
        session_type.position = _last_position(coach) + 1
        session_type.save()
    return session_type


def _last_position(coach: User) -> int:
    last = SessionType.objects.filter(coach=coach).order_by("-position").values_list("position", flat=True).first()
    return last or 0


def reorder_session_types(*, actor: User, coach: User, order: list[int]) -> list[SessionType]:
    """List ``coach``'s types in ``order`` (their ids): those given come first, in that order,
    the others keep their order after them. An id that isn't one of the coach's types is
    refused (``field`` "order"). Locks the coach's row, so two reorders don't interleave.
    Returns every type of the coach in the new order."""
    _require_may_write(actor, coach)
    if len(set(order)) != len(order):
        raise _refuse("order", _("Each session type can appear only once in the order."))
    with transaction.atomic():
        _lock_users(coach)
        types = list(SessionType.objects.filter(coach=coach).order_by("position", "pk"))
        by_id = {st.pk: st for st in types}
        unknown = [pk for pk in order if pk not in by_id]
        if unknown:
            raise _refuse("order", _("This coach has no session type with the id %(id)s.") % {"id": unknown[0]})
        listed = [by_id[pk] for pk in order] + [st for st in types if st.pk not in set(order)]
        for position, st in enumerate(listed, start=1):
            if st.position != position:
                st.position = position
                st.save(update_fields=["position", "updated_at"])
    return listed


def move_session_type(*, actor: User, session_type: SessionType, offset: int) -> list[SessionType]:
    """Move a type ``offset`` places (-1 up, +1 down) among its coach's types of the same
    state (offered or archived), stopping at either end."""
    coach = session_type.coach
    types = list(SessionType.objects.filter(coach=coach).order_by("position", "pk"))
    group = [st.pk for st in types if st.is_active == session_type.is_active]
    if session_type.pk not in group:
        raise DomainError(_("This session type no longer exists."), code="not_found", status=404)
    index = group.index(session_type.pk)
    target = max(0, min(len(group) - 1, index + offset))
    group.insert(target, group.pop(index))
    others = [st.pk for st in types if st.is_active != session_type.is_active]
    return reorder_session_types(actor=actor, coach=coach, order=group + others)


def duplicate_session_type(*, actor: User, session_type: SessionType) -> SessionType:
    """A copy of ``session_type`` right after it in the coach's list, titled "Copy of …" and
    archived (not offered), so the coach can change it before clients see it."""
    fields = {name: getattr(session_type, name) for name in SESSION_TYPE_FIELDS}
    fields["title"] = (_("Copy of %(title)s") % {"title": session_type.title})[:120]
    fields["is_active"] = False
    if isinstance(fields["reminder_minutes"], list):
        fields["reminder_minutes"] = list(fields["reminder_minutes"])
    copy = create_session_type(actor=actor, coach=session_type.coach, **fields)
    order = list(
        SessionType.objects.filter(coach=session_type.coach).order_by("position", "pk").values_list("pk", flat=True)
    )
    order.remove(copy.pk)
    order.insert(order.index(session_type.pk) + 1 if session_type.pk in order else len(order), copy.pk)
    reorder_session_types(actor=actor, coach=session_type.coach, order=order)
    copy.refresh_from_db()
    return copy


def update_session_type(*, session_type: SessionType, actor: User, **fields: Any) -> SessionType:
    """Change a session type (its coach themself or staff; staff may also give it to another
    coach, with ``coach``, while it has no sessions). Only the fields given change; nothing
    is written on a refusal.

    Locks the type's row, then the user rows of its coach (and of the new coach), the rows
    booking and publishing lock before they create a session: so "this type has no
    sessions", needed to change its kind or its coach, still holds when the change is
    written."""
    new_coach = fields.pop("coach", None)
    with transaction.atomic():
        before = SessionType.objects.select_for_update().filter(pk=session_type.pk).first()
        if before is None:
            raise DomainError(_("This session type no longer exists."), code="not_found", status=404)
        coach_ids = {before.coach_id} | ({new_coach.pk} if new_coach is not None else set())
        _lock_users(*User.objects.filter(pk__in=coach_ids))
        changed = SessionType.objects.select_related("coach").get(pk=before.pk)
        if new_coach is not None:
            changed.coach = new_coach
        _apply(changed, fields)
        check_session_type(changed, actor=actor, before=before)
        changed.save()
    return changed
