"""Session types: what a coach offers, written the same way from the API and the back office.

``check_session_type`` is the one statement of the rules a session type keeps, whoever
writes it; ``create_session_type``, ``update_session_type`` and ``duplicate_session_type``
run it before they write. Besides its own fields a type has two lists, given as
``co_hosts`` (the other coaches: with ``host_mode`` "all" they all host with the coach,
with "any" one of the team hosts each session) and ``resources`` (the rooms allowed: empty
means any active one of ``resource_kind``), each a list of ids or of the objects.
``reorder_session_types`` sets the order a coach's types are
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
from django.utils.translation import ngettext

from accounts.models import CoachProfile, Role, Subject, User
from availability.models import Resource, ResourceKind
from bookings.models import HostMode, SessionKind, SessionType, VideoProvider, validate_reminder_minutes
from bookings.selectors import names_text
from bookings.services.common import _lock_users, is_manager
from bookings.video import default_video, rooms_enabled
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
    "video",
    "meeting_link",
    "resource_kind",
    "approval",
    "buffer_before_minutes",
    "buffer_after_minutes",
    "minimum_notice_hours",
    "booking_window_days",
    "cancellation_notice_hours",
    "allow_late_cancellation",
    "late_cancellation_refund_percent",
    "reminder_minutes",
    "is_active",
    "host_mode",
    "required_subject",
    "early_bird_price",
    "early_bird_days",
    "deposit",
    "balance_due_days",
    "series_discount_percent",
    "max_waitlist_size",
    "min_participants",
    "confirm_hours_before",
    "show_participants",
    "certificate",
    "requires_enrollment",
)
# The type's lists (many-to-many): written after the row, in the same transaction.
RELATED_FIELDS = ("co_hosts", "resources")
MAX_CO_HOSTS = 10
MAX_RESOURCES = 50
# Resources that hold people, so a group's seats must fit in them (not equipment).
HOLDS_PEOPLE = frozenset({ResourceKind.ROOM, ResourceKind.ONLINE})
LARGEST_ID = 2**63 - 1  # a BigAutoField; a larger number is no row's id

# Fields that may be empty on a valid type (a subject isn't required of every type).
OPTIONAL_FIELDS = frozenset({"capacity", "required_subject"})

# Blank means "follow the coach's settings" (or, for reminders, the usual reminders).
NULLABLE_FIELDS = frozenset(
    {
        "buffer_before_minutes",
        "buffer_after_minutes",
        "minimum_notice_hours",
        "booking_window_days",
        "cancellation_notice_hours",
        "reminder_minutes",
        # Empty: no early-bird price, no deposit (paid in full at booking).
        "early_bird_price",
        "early_bird_days",
        "deposit",
        # Empty: the site's MAX_WAITLIST_SIZE.
        "max_waitlist_size",
        # Empty: a workshop that always takes place.
        "min_participants",
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
    "late_cancellation_refund_percent": (0, 100),
    "early_bird_days": (1, 365),
    "balance_due_days": (0, 365),
    "series_discount_percent": (0, 100),
    "max_waitlist_size": (0, 1000),
    "min_participants": (1, 1000),
    "confirm_hours_before": (0, 24 * 60),
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


def _amount(name: str, value: Any) -> Decimal:
    """An amount in major units: a finite, non-negative number with at most 2 decimals."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise _refuse(name, _("Give %(field)s as an amount, e.g. 45.00.") % {"field": _label(name)}) from None
    if not amount.is_finite() or amount < 0:
        raise _refuse(name, _("%(field)s can't be negative.") % {"field": _label(name).capitalize()})
    if amount > MAX_PRICE or amount.as_tuple().exponent < -2:
        raise _refuse(
            name,
            _("Give %(field)s with at most 2 decimals, up to %(max)s.") % {"field": _label(name), "max": MAX_PRICE},
        )
    return no_negative_zero(amount)


def _price_and_currency(session_type: SessionType) -> None:
    try:
        price = Decimal(str(session_type.price))
    except (InvalidOperation, ValueError):
        raise _refuse("price", _("Give the price as an amount, e.g. 45.00.")) from None
    if not price.is_finite() or price < 0:
        raise _refuse("price", _("The price can't be negative."))
    if price > MAX_PRICE or price.as_tuple().exponent < -2:
        raise _refuse("price", _("Give the price with at most 2 decimals, up to %(max)s.") % {"max": MAX_PRICE})
    session_type.price = price = no_negative_zero(price)
    currency = str(session_type.currency or "").strip().upper()
    if not CURRENCY.fullmatch(currency):
        raise _refuse("currency", _("Give the currency as a 3-letter ISO 4217 code, e.g. EUR."))
    session_type.currency = currency
    _early_bird_and_deposit(session_type, price)


def _early_bird_and_deposit(session_type: SessionType, price: Decimal) -> None:
    """The early-bird price (lower than the price, with the days before the session it
    lasts until) and the deposit (at most the price; the balance is due some days before):
    both for group sessions and workshops only, where seats are sold ahead."""
    one_on_one = session_type.kind == SessionKind.ONE_ON_ONE
    early = session_type.early_bird_price
    if early is not None:
        if one_on_one:
            raise _refuse(
                "early_bird_price",
                _("An early-bird price is for group sessions and workshops: leave it empty for a one-on-one."),
            )
        session_type.early_bird_price = early = _amount("early_bird_price", early)
        if early >= price:
            raise _refuse("early_bird_price", _("The early-bird price must be lower than the price."))
        if session_type.early_bird_days is None:
            raise _refuse(
                "early_bird_days", _("Say until how many days before the session the early-bird price applies.")
            )
    elif session_type.early_bird_days is not None:
        if one_on_one:
            raise _refuse(
                "early_bird_days",
                _("An early-bird price is for group sessions and workshops: leave it empty for a one-on-one."),
            )
        raise _refuse("early_bird_price", _("Give the early-bird price, or leave both early-bird fields empty."))
    deposit = session_type.deposit
    if deposit is None:
        return
    deposit = _amount("deposit", deposit)
    if deposit == 0:
        session_type.deposit = None  # no deposit: paid in full at booking
        return
    if one_on_one:
        raise _refuse(
            "deposit", _("A deposit is for group sessions and workshops: a one-on-one is paid in full at booking.")
        )
    if deposit > price:
        raise _refuse("deposit", _("The deposit can't be more than the price."))
    session_type.deposit = deposit


def _workshop(session_type: SessionType) -> None:
    """A minimum number of participants and certificates are for workshops; a minimum fits
    in the seats."""
    workshop = session_type.kind == SessionKind.WORKSHOP
    minimum = session_type.min_participants
    if minimum is not None:
        if not workshop:
            raise _refuse("min_participants", _("A minimum number of participants is for workshops."))
        if session_type.capacity is not None and minimum > session_type.capacity:
            raise _refuse("min_participants", _("The minimum can't be more than the seats."))
    if session_type.certificate and not workshop:
        raise _refuse("certificate", _("Certificates of attendance are for workshops."))


def _reminders(session_type: SessionType) -> None:
    minutes = session_type.reminder_minutes
    try:
        validate_reminder_minutes(minutes)
    except ValidationError as error:
        raise _refuse("reminder_minutes", " ".join(error.messages)) from None
    if minutes is not None:
        session_type.reminder_minutes = sorted(set(minutes), reverse=True)


def _video(session_type: SessionType, *, before: SessionType | None) -> None:
    """The video choice: a room per session only on a site with a meeting server (a type
    that has it already keeps it when the server goes, its sessions then without a link);
    a fixed link needs the link. The link is kept only with a fixed link, so no other
    choice leaves one behind that a session could fall back to."""
    if session_type.video not in VideoProvider.values:
        raise _refuse("video", _("Choose a video room for each session, your own fixed link, or none."))
    if isinstance(session_type.meeting_link, str):
        session_type.meeting_link = session_type.meeting_link.strip()
    keeps_rooms = before is not None and before.video == VideoProvider.ROOMS
    if session_type.video == VideoProvider.ROOMS and not rooms_enabled() and not keeps_rooms:
        raise _refuse(
            "video", _("This site has no video server for private rooms: give your own fixed link, or choose none.")
        )
    if session_type.video == VideoProvider.FIXED and not session_type.meeting_link:
        raise _refuse("meeting_link", _("Give the link of your video room, or choose another video option."))
    if session_type.video != VideoProvider.FIXED:
        session_type.meeting_link = ""


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


def check_session_type(
    session_type: SessionType,
    *,
    actor: User,
    before: SessionType | None = None,
    co_hosts: list[User] | None = None,
    resources: list[Resource] | None = None,
) -> None:
    """Every rule a session type keeps, for a new one (``before`` None) or a change of
    ``before`` (the row as stored). ``co_hosts`` and ``resources`` are the lists the type
    will have (None: as stored, or none for a new type). Normalises what it accepts (a
    one-on-one's missing capacity is 1, currency in capitals, reminders sorted); reads the
    database only to ask whether the type has sessions, and about its hosts and rooms.
    Raises ``DomainError`` (with ``field``) on the first rule broken."""
    _require_may_write(actor, session_type.coach)
    if before is not None and before.coach_id != session_type.coach_id:
        _require_may_write(actor, before.coach)
    for name in SESSION_TYPE_FIELDS:
        if getattr(session_type, name) is None and name not in NULLABLE_FIELDS and name not in OPTIONAL_FIELDS:
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
    _workshop(session_type)
    _price_and_currency(session_type)
    _reminders(session_type)
    _video(session_type, before=before)
    _model_rules(session_type)
    stored_hosts, stored_resources = _stored(before if before is not None else session_type)
    _hosts(
        session_type,
        before=before,
        co_hosts=stored_hosts if co_hosts is None else co_hosts,
        stored=stored_hosts,
        given=co_hosts is not None,
    )
    _rooms(
        session_type,
        before=before,
        resources=stored_resources if resources is None else resources,
        stored=stored_resources,
        given=resources is not None,
    )


def _stored(session_type: SessionType) -> tuple[list[User], list[Resource]]:
    """The type's co-hosts and rooms as stored (none for a type not saved yet)."""
    if session_type.pk is None:
        return [], []
    return list(session_type.co_hosts.order_by("pk")), list(session_type.resources.order_by("pk"))


def _hosts(
    session_type: SessionType, *, before: SessionType | None, co_hosts: list[User], stored: list[User], given: bool
) -> None:
    """Who hosts: the coach alone, with every co-host, or any one of the team; and the
    subject each host must declare. Checked when any of them changes (a co-host who stops
    coaching later doesn't block an edit of the title)."""
    mode = session_type.host_mode
    if mode not in HostMode.values:
        raise _refuse("host_mode", _("Choose who hosts: just you, you and co-hosts together, or any one of a team."))
    changed = (
        before is None
        or given
        or before.host_mode != mode
        or before.required_subject_id != session_type.required_subject_id
    )
    if not changed:
        return
    stored_ids = {person.pk for person in stored}
    for person in co_hosts:
        if person.pk == session_type.coach_id:
            raise _refuse("co_hosts", _("You host your own sessions already: list the other coaches only."))
        if person.pk not in stored_ids and not person.is_active:
            raise _refuse("co_hosts", _("%(name)s is not an active coach.") % {"name": person.display_name})
    if mode == HostMode.SINGLE:
        if given and co_hosts:
            raise _refuse(
                "co_hosts",
                _("Co-hosts are for sessions you host together or as a team: choose that under Hosts, or untick them."),
            )
    elif not co_hosts:
        raise _refuse(
            "co_hosts",
            _("Choose at least one co-host.") if mode == HostMode.ALL else _("Choose the coaches of the team."),
        )
    if len(co_hosts) > MAX_CO_HOSTS:
        raise _refuse("co_hosts", _("At most %(max)s co-hosts.") % {"max": MAX_CO_HOSTS})
    subject = session_type.required_subject
    if subject is None:
        return
    hosts = [session_type.coach, *(co_hosts if mode != HostMode.SINGLE else [])]
    qualified = set(
        CoachProfile.objects.filter(user__in=[host.pk for host in hosts], subjects=subject).values_list(
            "user_id", flat=True
        )
    )
    if mode == HostMode.ANY:
        # Team members without the subject are simply not offered; someone must be.
        if not qualified:
            raise _refuse(
                "required_subject",
                _("No one in the team declares %(subject)s: a host must declare it in their subjects.")
                % {"subject": subject.name},
            )
        return
    missing = [host for host in hosts if host.pk not in qualified]
    if missing and missing[0].pk == session_type.coach_id:
        raise _refuse(
            "required_subject",
            _("%(name)s doesn't declare %(subject)s: add it to the coach's subjects first, or choose another.")
            % {"name": session_type.coach.display_name, "subject": subject.name},
        )
    if missing:
        raise _refuse(
            "required_subject",
            ngettext(
                "Every host must declare %(subject)s; %(names)s doesn't.",
                "Every host must declare %(subject)s; %(names)s don't.",
                len(missing),
            )
            % {"subject": subject.name, "names": names_text([host.display_name for host in missing])},
        )


def _rooms(
    session_type: SessionType,
    *,
    before: SessionType | None,
    resources: list[Resource],
    stored: list[Resource],
    given: bool,
) -> None:
    """The rooms allowed: of the kind the type reserves, active when chosen, and for a group
    session or workshop each holding at least its seats."""
    changed = (
        before is None
        or given
        or before.resource_kind != session_type.resource_kind
        or before.capacity != session_type.capacity
        or before.kind != session_type.kind
    )
    if not changed or not resources:
        return
    # A refusal names what changed: the list when it was given, else the kind or the seats.
    kind_field = "resources" if given else "resource_kind"
    seats_field = "resources" if given else "capacity"
    if len(resources) > MAX_RESOURCES:
        raise _refuse("resources", _("At most %(max)s rooms.") % {"max": MAX_RESOURCES})
    kind = session_type.resource_kind
    if not kind:
        raise _refuse(
            kind_field, _("Choose what to reserve (a room, equipment or an online room) before choosing which ones.")
        )
    stored_ids = {resource.pk for resource in stored}
    for resource in resources:
        if resource.pk not in stored_ids and not resource.is_active:
            raise _refuse("resources", _("%(room)s is not in use any more.") % {"room": str(resource)})
        if resource.kind != kind:
            raise _refuse(
                kind_field,
                _("%(room)s is %(its_kind)s, not %(kind)s: choose ones of the kind this type reserves.")
                % {"room": str(resource), "its_kind": _kind_words(resource.kind), "kind": _kind_words(kind)},
            )
    if session_type.kind == SessionKind.ONE_ON_ONE or kind not in HOLDS_PEOPLE:
        return
    for resource in resources:
        if resource.capacity < session_type.capacity:
            raise _refuse(
                seats_field,
                _(
                    "%(room)s holds %(room_capacity)s people, fewer than the %(seats)s seats of this type: a "
                    "session's seats never exceed its room's capacity. Choose a bigger room or fewer seats."
                )
                % {"room": str(resource), "room_capacity": resource.capacity, "seats": session_type.capacity},
            )


def _kind_words(kind: str) -> str:
    words = {
        ResourceKind.ROOM: _("a room"),
        ResourceKind.EQUIPMENT: _("equipment"),
        ResourceKind.ONLINE: _("an online room"),
    }
    return words.get(kind, kind)


def _ids(name: str, values: Any) -> list[int | object]:
    if not isinstance(values, list | tuple | set | frozenset):
        raise _refuse(name, _("Give %(field)s as a list of ids.") % {"field": _related_label(name)})
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | User | Resource):
            raise _refuse(name, _("Give %(field)s as a list of ids.") % {"field": _related_label(name)})
    return list(values)


def _related_label(name: str) -> str:
    return str(SessionType._meta.get_field(name).verbose_name)


def _resolve(name: str, values: Any) -> list:
    """The co-hosts (users) or rooms (resources) from ids or objects, in the order given,
    each once; an id that names nothing is refused."""
    model = User if name == "co_hosts" else Resource
    items = _ids(name, values)
    ids = list(dict.fromkeys(item.pk if isinstance(item, model) else item for item in items))
    if any(not isinstance(pk, int) for pk in ids):
        raise _refuse(name, _("Give %(field)s as a list of ids.") % {"field": _related_label(name)})
    # Only coaches can co-host: any other id is "no coach", so no one's name leaks by id.
    rows = User.objects.filter(role=Role.COACH) if model is User else Resource.objects.all()
    known = {obj.pk: obj for obj in rows.filter(pk__in=[pk for pk in ids if 0 < pk <= LARGEST_ID])}
    for pk in ids:
        if pk not in known:
            message = (
                _("There is no coach with the id %(id)s.")
                if name == "co_hosts"
                else _("There is no room with the id %(id)s.")
            )
            raise _refuse(name, message % {"id": pk})
    return [known[pk] for pk in ids]


def _subject(value: Any) -> Subject | None:
    if value is None or value == "" or isinstance(value, Subject):
        return value or None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _refuse("required_subject", _("Give the subject as its id."))
    found = Subject.objects.filter(pk=value).first() if 0 < value <= LARGEST_ID else None
    if found is None:
        raise _refuse("required_subject", _("There is no subject with the id %(id)s.") % {"id": value})
    return found


def _apply(session_type: SessionType, fields: dict[str, Any]) -> dict[str, list]:
    """Set the type's own fields; return its lists (``co_hosts``, ``resources``) resolved,
    for those given."""
    unknown = sorted(set(fields) - set(SESSION_TYPE_FIELDS) - set(RELATED_FIELDS))
    if unknown:
        raise _refuse(unknown[0], _("Unknown field: %(names)s.") % {"names": ", ".join(unknown)})
    related = {}
    for name, value in fields.items():
        if name in RELATED_FIELDS:
            related[name] = _resolve(name, [] if value is None else value)
        elif name == "required_subject":
            session_type.required_subject = _subject(value)
        else:
            setattr(session_type, name, value)
    return related


def _write_related(session_type: SessionType, related: dict[str, list]) -> None:
    if "co_hosts" in related or session_type.host_mode == HostMode.SINGLE:
        # A type hosted by its coach alone keeps no co-hosts.
        session_type.co_hosts.set([] if session_type.host_mode == HostMode.SINGLE else related["co_hosts"])
    if "resources" in related:
        session_type.resources.set(related["resources"])


def create_session_type(*, actor: User, coach: User, **fields: Any) -> SessionType:
    """A new session type for ``coach``, written by the coach themself or by staff, with its
    ``co_hosts`` and ``resources`` when given (lists of ids or objects).

    Locks nothing: a new type depends on no other row's state (the settings it is checked
    against are read as they are now), and writes one row. Without ``capacity``, a
    one-on-one gets its one seat and a group type is refused."""
    session_type = SessionType(coach=coach, capacity=None)  # not the model's default of 1
    video = fields.pop("video", None)
    related = _apply(session_type, fields)
    session_type.video = video or default_video(
        modality=session_type.modality, meeting_link=session_type.meeting_link or ""
    )
    check_session_type(session_type, actor=actor, **related)
    with transaction.atomic():
        _lock_users(coach)  # a reorder or another new type of this coach waits: positions stay distinct
        session_type.position = _last_position(coach) + 1
        session_type.save()
        _write_related(session_type, related)
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
    fields["co_hosts"] = list(session_type.co_hosts.all())
    fields["resources"] = list(session_type.resources.all())
    if isinstance(fields["reminder_minutes"], list):
        fields["reminder_minutes"] = list(fields["reminder_minutes"])
    if fields["video"] == VideoProvider.ROOMS and not rooms_enabled():
        fields["video"] = VideoProvider.NONE  # the site's video server is gone: the copy has none
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
        before = SessionType.objects.select_for_update(no_key=True).filter(pk=session_type.pk).first()
        if before is None:
            raise DomainError(_("This session type no longer exists."), code="not_found", status=404)
        coach_ids = {before.coach_id} | ({new_coach.pk} if new_coach is not None else set())
        _lock_users(*User.objects.filter(pk__in=coach_ids))
        changed = SessionType.objects.select_related("coach").get(pk=before.pk)
        if new_coach is not None:
            changed.coach = new_coach
        if fields.get("video", "") is None:  # not chosen: as it is
            del fields["video"]
        if fields.get("meeting_link") and "video" not in fields:
            fields["video"] = VideoProvider.FIXED  # a link given is the link to use
        related = _apply(changed, fields)
        check_session_type(changed, actor=actor, before=before, **related)
        changed.save()
        _write_related(changed, related)
    return changed
